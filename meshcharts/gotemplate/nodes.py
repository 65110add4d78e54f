"""The parse tree of a Go template (``text/template/parse``'s node types).

``str(node)`` gives back template source as Go's ``Node.String`` does; execution errors
quote it (``executing "x" at <.Values.a.b>``).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

__all__ = [
    "ActionNode",
    "BoolNode",
    "BreakNode",
    "ChainNode",
    "CommandNode",
    "ContinueNode",
    "DotNode",
    "FieldNode",
    "IdentifierNode",
    "IfNode",
    "ListNode",
    "NilNode",
    "Node",
    "NumberNode",
    "PipeNode",
    "RangeNode",
    "StringNode",
    "TemplateNode",
    "TextNode",
    "Tree",
    "VariableNode",
    "WithNode",
]


@dataclass(eq=False, slots=True)
class Node:
    """Base of every node: ``pos`` is the character offset in the template text."""

    pos: int


@dataclass(eq=False, slots=True)
class TextNode(Node):
    """Plain text between actions."""

    text: str

    def __str__(self) -> str:
        return repr(self.text)


@dataclass(eq=False, slots=True)
class ListNode(Node):
    """A sequence of nodes."""

    nodes: list[Node] = field(default_factory=list)

    def __str__(self) -> str:
        return "".join(str(n) for n in self.nodes)


@dataclass(eq=False, slots=True)
class DotNode(Node):
    """The cursor, ``.``."""

    def __str__(self) -> str:
        return "."


@dataclass(eq=False, slots=True)
class NilNode(Node):
    """The untyped ``nil`` constant."""

    def __str__(self) -> str:
        return "nil"


@dataclass(eq=False, slots=True)
class BoolNode(Node):
    """``true`` or ``false``."""

    value: bool

    def __str__(self) -> str:
        return "true" if self.value else "false"


@dataclass(eq=False, slots=True)
class NumberNode(Node):
    """A numeric constant with Go's ideal-constant views of it."""

    text: str
    is_int: bool
    is_float: bool
    int_value: int
    float_value: float

    def __str__(self) -> str:
        return self.text


@dataclass(eq=False, slots=True)
class StringNode(Node):
    """A string constant: ``quoted`` as written, ``text`` unquoted."""

    quoted: str
    text: str

    def __str__(self) -> str:
        return self.quoted


@dataclass(eq=False, slots=True)
class IdentifierNode(Node):
    """A function name."""

    name: str

    def __str__(self) -> str:
        return self.name


@dataclass(eq=False, slots=True)
class FieldNode(Node):
    """A field chain on the cursor, ``.a.b``."""

    idents: tuple[str, ...]

    def __str__(self) -> str:
        return "".join("." + i for i in self.idents)


@dataclass(eq=False, slots=True)
class VariableNode(Node):
    """A variable with optional fields, ``$x.a.b`` (``idents[0]`` is ``$x``)."""

    idents: tuple[str, ...]

    def __str__(self) -> str:
        return ".".join(self.idents)


@dataclass(eq=False, slots=True)
class CommandNode(Node):
    """One stage of a pipeline: an operand and its arguments."""

    args: list[Node] = field(default_factory=list)

    def __str__(self) -> str:
        return " ".join(f"({a})" if isinstance(a, PipeNode) else str(a) for a in self.args)


@dataclass(eq=False, slots=True)
class PipeNode(Node):
    """A pipeline with optional variable declarations (``$x :=``) or assignment (``=``)."""

    decl: list[VariableNode] = field(default_factory=list)
    is_assign: bool = False
    cmds: list[CommandNode] = field(default_factory=list)

    def __str__(self) -> str:
        text = ""
        if self.decl:
            text = ", ".join(str(v) for v in self.decl) + (" = " if self.is_assign else " := ")
        return text + " | ".join(str(c) for c in self.cmds)


@dataclass(eq=False, slots=True)
class ChainNode(Node):
    """Fields on a non-cursor term, ``(pipeline).a.b``."""

    node: Node
    fields: tuple[str, ...]

    def __str__(self) -> str:
        head = f"({self.node})" if isinstance(self.node, PipeNode) else str(self.node)
        return head + "".join("." + f for f in self.fields)


@dataclass(eq=False, slots=True)
class ActionNode(Node):
    """A non-control action, ``{{pipeline}}``."""

    pipe: PipeNode

    def __str__(self) -> str:
        return "{{" + str(self.pipe) + "}}"


@dataclass(eq=False, slots=True)
class _BranchNode(Node):
    """Common shape of ``if``, ``with`` and ``range``."""

    pipe: PipeNode
    list: ListNode
    else_list: ListNode | None

    keyword = ""

    def __str__(self) -> str:
        text = f"{{{{{self.keyword} {self.pipe}}}}}{self.list}"
        if self.else_list is not None:
            text += "{{else}}" + str(self.else_list)
        return text + "{{end}}"


@dataclass(eq=False, slots=True)
class IfNode(_BranchNode):
    """``{{if}}``."""

    keyword = "if"


@dataclass(eq=False, slots=True)
class WithNode(_BranchNode):
    """``{{with}}``."""

    keyword = "with"


@dataclass(eq=False, slots=True)
class RangeNode(_BranchNode):
    """``{{range}}``."""

    keyword = "range"


@dataclass(eq=False, slots=True)
class BreakNode(Node):
    """``{{break}}``."""

    def __str__(self) -> str:
        return "{{break}}"


@dataclass(eq=False, slots=True)
class ContinueNode(Node):
    """``{{continue}}``."""

    def __str__(self) -> str:
        return "{{continue}}"


@dataclass(eq=False, slots=True)
class TemplateNode(Node):
    """``{{template "name" pipeline}}``."""

    name: str
    pipe: PipeNode | None

    def __str__(self) -> str:
        arg = f" {self.pipe}" if self.pipe is not None else ""
        return f'{{{{template "{self.name}"{arg}}}}}'


@dataclass(eq=False)
class Tree:
    """One named template: a file's top level or a ``define``/``block`` body.

    Attributes:
        name: the template name (file path or defined name).
        parse_name: the file it was parsed from (for error locations).
        text: that file's full text (positions index into it).
        root: the body.
    """

    name: str
    parse_name: str
    text: str
    root: ListNode
    _lines: list[int] | None = field(default=None, repr=False)

    def location(self, pos: int) -> tuple[int, int]:
        """Line (1-based) and byte column (0-based) of character offset ``pos``."""
        if self._lines is None:
            starts = [0]
            index = self.text.find("\n")
            while index >= 0:
                starts.append(index + 1)
                index = self.text.find("\n", index + 1)
            self._lines = starts
        line = bisect.bisect_right(self._lines, pos)
        start = self._lines[line - 1]
        return line, len(self.text[start:pos].encode("utf-8"))
