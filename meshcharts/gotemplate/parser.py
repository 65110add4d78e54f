"""Parse Go template text into :class:`~meshcharts.gotemplate.nodes.Tree` objects.

A port of ``text/template/parse``: the same grammar (pipelines, declarations, ``if``/``with``
with ``else if``/``else with``, ``range`` with ``break``/``continue``, ``define``,
``template``, ``block``), the same parse-time checks (undefined variables and functions,
literals in later pipeline stages) and the same error texts.
"""

from __future__ import annotations

import re
from collections.abc import Container
from dataclasses import dataclass
from typing import Final

from meshcharts.gotemplate import lexer
from meshcharts.gotemplate.lexer import ParseError, Token, tokenize
from meshcharts.gotemplate.nodes import (
    ActionNode,
    BoolNode,
    BreakNode,
    ChainNode,
    CommandNode,
    ContinueNode,
    DotNode,
    FieldNode,
    IdentifierNode,
    IfNode,
    ListNode,
    NilNode,
    Node,
    NumberNode,
    PipeNode,
    RangeNode,
    StringNode,
    TemplateNode,
    TextNode,
    Tree,
    VariableNode,
    WithNode,
)

__all__ = ["parse_go_int", "parse_template", "unquote"]

_OPERAND_START: Final = frozenset(
    {lexer.BOOL, lexer.CHAR_CONSTANT, lexer.DOT, lexer.FIELD, lexer.IDENT, lexer.NUMBER, "nil",
     lexer.RAW_STRING, lexer.STRING, lexer.VARIABLE, lexer.LPAREN}
)  # fmt: skip
_LITERALS: Final = (BoolNode, DotNode, NilNode, NumberNode, StringNode)
_ESCAPES: Final = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}
_ESCAPE_RE: Final = re.compile(r"\\(?:([abfnrtv\\'\"])|x([0-9a-fA-F]{2})|([0-7]{3})"
                               r"|u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8})|(.))", re.DOTALL)  # fmt: skip


@dataclass(eq=False, slots=True)
class _End(Node):
    """``{{end}}``: closes a list."""

    def __str__(self) -> str:
        return "{{end}}"


@dataclass(eq=False, slots=True)
class _Else(Node):
    """``{{else}}``: closes a list and opens the else list."""

    def __str__(self) -> str:
        return "{{else}}"


def unquote(quoted: str) -> str:
    """Go's ``strconv.Unquote`` of a ``"..."``, raw ``` `...` ``` or ``'c'`` literal.

    Raises:
        ValueError: an invalid escape sequence.
    """
    if quoted.startswith("`"):
        return quoted[1:-1].replace("\r", "")
    quote = quoted[0]
    body = quoted[1:-1]

    def replace(match: re.Match[str]) -> str:
        simple, hex2, octal, hex4, hex8, bad = match.groups()
        if simple is not None:
            if simple in "'\"" and simple != quote:
                raise ValueError("invalid syntax")
            return _ESCAPES.get(simple, simple)
        if bad is not None:
            raise ValueError("invalid syntax")
        code = int(hex2 or hex4 or hex8, 16) if octal is None else int(octal, 8)
        if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF or (octal is not None and code > 255):
            raise ValueError("invalid syntax")
        return chr(code)

    return _ESCAPE_RE.sub(replace, body)


def parse_go_int(text: str) -> int | None:
    """``strconv.ParseInt(text, 0, 64)`` without the range check; None if it is no integer."""
    sign = -1 if text.startswith("-") else 1
    body = text[1:] if text[:1] in "+-" else text
    if not body or body.startswith("_") or body.endswith("_") or "__" in body:
        return None
    try:
        if len(body) > 1 and body[0] == "0" and body[1] in "01234567_":
            return sign * int(body.replace("_", ""), 8)
        return sign * int(body, 0)
    except ValueError:
        return None


def _number(token: Token, name: str, line: int) -> NumberNode:
    """A number or character constant node, with Go's int/float views of it."""
    text = token.value
    if token.kind == lexer.CHAR_CONSTANT:
        try:
            rune = unquote(text)
        except ValueError:
            raise ParseError(name, line, "invalid syntax") from None
        if len(rune) != 1:
            raise ParseError(name, line, f"malformed character constant: {text}")
        code = ord(rune)
        return NumberNode(token.pos, text, True, True, code, float(code))
    value = parse_go_int(text)
    if value is not None and -(2**63) <= value < 2**64:
        return NumberNode(token.pos, text, value < 2**63, True, value, float(value))
    try:
        number = float(text.replace("_", "")) if "x" not in text.lower() else float.fromhex(text)
    except ValueError:
        raise ParseError(name, line, f'illegal number syntax: "{text}"') from None
    if not any(c in text for c in ".eEpP"):
        raise ParseError(name, line, f'integer overflow: "{text}"')
    is_int = number.is_integer() and -(2**63) <= number < 2**63
    return NumberNode(token.pos, text, is_int, True, int(number) if is_int else 0, number)


class _Parser:
    """Recursive-descent parser over a token list, one file at a time."""

    def __init__(
        self, name: str, text: str, funcs: Container[str], delims: tuple[str, str]
    ) -> None:
        self.name = name
        self.text = text
        self.funcs = funcs
        self.tokens = tokenize(name, text, delims)
        self.index = 0
        self.vars: list[str] = ["$"]
        self.range_depth = 0
        self.trees: dict[str, Tree] = {}

    # --- token stream ---------------------------------------------------------------

    def next(self) -> Token:
        token = self.tokens[min(self.index, len(self.tokens) - 1)]
        self.index += 1
        return token

    def peek(self) -> Token:
        return self.tokens[min(self.index, len(self.tokens) - 1)]

    def next_non_space(self) -> Token:
        token = self.next()
        while token.kind == lexer.SPACE:
            token = self.next()
        return token

    def peek_non_space(self) -> Token:
        token = self.next_non_space()
        self.backup()
        return token

    def backup(self) -> None:
        self.index -= 1

    def error(self, problem: str) -> ParseError:
        token = self.tokens[min(max(self.index - 1, 0), len(self.tokens) - 1)]
        return ParseError(self.name, self.text.count("\n", 0, token.pos) + 1, problem)

    def unexpected(self, token: Token, context: str) -> ParseError:
        return self.error(f"unexpected {token} in {context}")

    def expect(self, kind: str, context: str) -> Token:
        token = self.next_non_space()
        if token.kind != kind:
            raise self.unexpected(token, context)
        return token

    # --- top level --------------------------------------------------------------------

    def parse(self) -> dict[str, Tree]:
        root = ListNode(self.peek().pos)
        while self.peek().kind != lexer.EOF:
            if self.peek().kind == lexer.LEFT:
                start = self.index
                self.next()
                if self.next_non_space().kind == "define":
                    self.definition()
                    continue
                self.index = start
            node = self.text_or_action()
            if isinstance(node, _End | _Else):
                raise self.error(f"unexpected {node}")
            root.nodes.append(node)
        self.add(Tree(self.name, self.name, self.text, root))
        return self.trees

    def add(self, tree: Tree) -> None:
        old = self.trees.get(tree.name)
        if old is None or _is_blank(old.root):
            self.trees[tree.name] = tree
        elif not _is_blank(tree.root):
            raise self.error(f'template: multiple definition of template "{tree.name}"')

    def body(self, name: str, context: str) -> None:
        """Parse a ``define`` or ``block`` body up to its ``{{end}}`` into tree ``name``."""
        outer_vars, outer_depth = self.vars, self.range_depth
        self.vars, self.range_depth = ["$"], 0
        root, end = self.item_list()
        self.vars, self.range_depth = outer_vars, outer_depth
        if not isinstance(end, _End):
            raise self.error(f"unexpected {end} in {context}")
        self.add(Tree(name, self.name, self.text, root))

    def definition(self) -> None:
        context = "define clause"
        token = self.next_non_space()
        if token.kind not in (lexer.STRING, lexer.RAW_STRING):
            raise self.unexpected(token, context)
        name = self.unquote(token)
        self.expect(lexer.RIGHT, context)
        self.body(name, context)

    def unquote(self, token: Token) -> str:
        try:
            return unquote(token.value)
        except ValueError:
            raise self.error("invalid syntax") from None

    def item_list(self) -> tuple[ListNode, Node]:
        nodes = ListNode(self.peek_non_space().pos)
        while self.peek_non_space().kind != lexer.EOF:
            node = self.text_or_action()
            if isinstance(node, _End | _Else):
                return nodes, node
            nodes.nodes.append(node)
        raise self.error("unexpected EOF")

    def text_or_action(self) -> Node:
        token = self.next_non_space()
        if token.kind == lexer.TEXT:
            return TextNode(token.pos, token.value)
        if token.kind == lexer.LEFT:
            return self.action()
        raise self.unexpected(token, "input")

    # --- actions ----------------------------------------------------------------------

    def action(self) -> Node:
        token = self.next_non_space()
        if token.kind in ("break", "continue"):
            return self.loop_control(token)
        handler = {
            "block": self.block_control,
            "else": self.else_control,
            "end": self.end_control,
            "if": self.if_control,
            "range": self.range_control,
            "template": self.template_control,
            "with": self.with_control,
        }.get(token.kind)
        if handler is not None:
            return handler()
        self.backup()
        return ActionNode(self.peek().pos, self.pipeline("command", lexer.RIGHT))

    def loop_control(self, token: Token) -> Node:
        """``{{break}}`` or ``{{continue}}``, only inside a ``range``."""
        context = "{{" + token.kind + "}}"
        if (after := self.next_non_space()).kind != lexer.RIGHT:
            raise self.unexpected(after, context)
        if not self.range_depth:
            raise self.error(context + " outside {{range}}")
        return BreakNode(token.pos) if token.kind == "break" else ContinueNode(token.pos)

    def else_control(self) -> Node:
        peek = self.peek_non_space()
        if peek.kind in ("if", "with"):
            return _Else(peek.pos)
        return _Else(self.expect(lexer.RIGHT, "else").pos)

    def end_control(self) -> Node:
        return _End(self.expect(lexer.RIGHT, "end").pos)

    def control(self, context: str) -> tuple[PipeNode, ListNode, ListNode | None]:
        """The pipeline, list and else list of ``if``, ``with`` or ``range``."""
        outer_vars = len(self.vars)
        pipe = self.pipeline(context, lexer.RIGHT)
        self.range_depth += context == "range"
        nodes, end = self.item_list()
        self.range_depth -= context == "range"
        else_list = None
        if isinstance(end, _Else):
            if context in ("if", "with") and self.peek().kind == context:
                self.next()
                else_list = ListNode(end.pos)
                else_list.nodes.append(
                    self.if_control() if context == "if" else self.with_control()
                )
            else:
                else_list, end = self.item_list()
                if not isinstance(end, _End):
                    raise self.error(f"expected end; found {end}")
        del self.vars[outer_vars:]
        return pipe, nodes, else_list

    def if_control(self) -> Node:
        pipe, nodes, else_list = self.control("if")
        return IfNode(pipe.pos, pipe, nodes, else_list)

    def with_control(self) -> Node:
        pipe, nodes, else_list = self.control("with")
        return WithNode(pipe.pos, pipe, nodes, else_list)

    def range_control(self) -> Node:
        pipe, nodes, else_list = self.control("range")
        return RangeNode(pipe.pos, pipe, nodes, else_list)

    def template_name(self, token: Token, context: str) -> str:
        if token.kind not in (lexer.STRING, lexer.RAW_STRING):
            raise self.unexpected(token, context)
        return self.unquote(token)

    def template_control(self) -> Node:
        context = "template clause"
        token = self.next_non_space()
        name = self.template_name(token, context)
        pipe = None
        if self.next_non_space().kind != lexer.RIGHT:
            self.backup()
            pipe = self.pipeline(context, lexer.RIGHT)
        return TemplateNode(token.pos, name, pipe)

    def block_control(self) -> Node:
        context = "block clause"
        token = self.next_non_space()
        name = self.template_name(token, context)
        pipe = self.pipeline(context, lexer.RIGHT)
        self.body(name, context)
        return TemplateNode(token.pos, name, pipe)

    # --- pipelines ----------------------------------------------------------------------

    def declarations(self, pipe: PipeNode, context: str) -> None:
        """Parse ``$x :=``, ``$x =`` or ``$i, $v :=`` at the start of a pipeline."""
        while (var := self.peek_non_space()).kind == lexer.VARIABLE:
            start = self.index
            self.next_non_space()
            after = self.peek_non_space()
            if after.kind in (lexer.ASSIGN, lexer.DECLARE):
                pipe.is_assign = after.kind == lexer.ASSIGN
                self.next_non_space()
                self.declare(pipe, var)
                return
            if after.kind == lexer.CHAR and after.value == ",":
                self.next_non_space()
                self.declare(pipe, var)
                if context == "range" and len(pipe.decl) < 2:
                    if self.peek_non_space().kind in (lexer.VARIABLE, lexer.RIGHT, lexer.RPAREN):
                        continue
                    raise self.error("range can only initialize variables")
                raise self.error(f"too many declarations in {context}")
            self.index = start
            return

    def declare(self, pipe: PipeNode, var: Token) -> None:
        pipe.decl.append(VariableNode(var.pos, (var.value,)))
        self.vars.append(var.value)

    def pipeline(self, context: str, end: str) -> PipeNode:
        pipe = PipeNode(self.peek_non_space().pos)
        self.declarations(pipe, context)
        while True:
            token = self.next_non_space()
            if token.kind == end:
                self.check_pipeline(pipe, context)
                return pipe
            if token.kind not in _OPERAND_START:
                raise self.unexpected(token, context)
            self.backup()
            pipe.cmds.append(self.command())

    def check_pipeline(self, pipe: PipeNode, context: str) -> None:
        if not pipe.cmds:
            raise self.error(f"missing value for {context}")
        for stage, cmd in enumerate(pipe.cmds[1:], start=2):
            if isinstance(cmd.args[0], _LITERALS):
                raise self.error(f"non executable command in pipeline stage {stage}")

    def command(self) -> CommandNode:
        cmd = CommandNode(self.peek_non_space().pos)
        while True:
            self.peek_non_space()
            operand = self.operand()
            if operand is not None:
                cmd.args.append(operand)
            token = self.next()
            if token.kind == lexer.SPACE:
                continue
            if token.kind in (lexer.RIGHT, lexer.RPAREN):
                self.backup()
            elif token.kind != lexer.PIPE:
                raise self.unexpected(token, "operand")
            break
        if not cmd.args:
            raise self.error("empty command")
        return cmd

    def operand(self) -> Node | None:
        node = self.term()
        if node is None or self.peek().kind != lexer.FIELD:
            return node
        pos = self.peek().pos
        fields: list[str] = []
        while self.peek().kind == lexer.FIELD:
            fields.append(self.next().value[1:])
        if isinstance(node, FieldNode):
            return FieldNode(pos, node.idents + tuple(fields))
        if isinstance(node, VariableNode):
            return VariableNode(pos, node.idents + tuple(fields))
        if isinstance(node, _LITERALS):
            raise self.error(f'unexpected . after term "{node}"')
        return ChainNode(pos, node, tuple(fields))

    def term(self) -> Node | None:
        token = self.next_non_space()
        kind = token.kind
        if kind == lexer.IDENT:
            if token.value not in self.funcs:
                raise self.error(f'function "{token.value}" not defined')
            return IdentifierNode(token.pos, token.value)
        if kind == lexer.VARIABLE:
            if token.value not in self.vars:
                raise self.error(f'undefined variable "{token.value}"')
            return VariableNode(token.pos, (token.value,))
        if kind == lexer.LPAREN:
            return self.pipeline("parenthesized pipeline", lexer.RPAREN)
        return self.simple_term(token)

    def simple_term(self, token: Token) -> Node | None:
        """A term that is a single token: ``.``, ``nil``, a field or a constant."""
        kind = token.kind
        if kind == lexer.DOT:
            return DotNode(token.pos)
        if kind == "nil":
            return NilNode(token.pos)
        if kind == lexer.FIELD:
            return FieldNode(token.pos, (token.value[1:],))
        if kind == lexer.BOOL:
            return BoolNode(token.pos, token.value == "true")
        if kind in (lexer.NUMBER, lexer.CHAR_CONSTANT):
            return _number(token, self.name, self.text.count("\n", 0, token.pos) + 1)
        if kind in (lexer.STRING, lexer.RAW_STRING):
            return StringNode(token.pos, token.value, self.unquote(token))
        self.backup()
        return None


def _is_blank(node: Node) -> bool:
    """Go's ``IsEmptyTree``: nothing but whitespace text."""
    if isinstance(node, ListNode):
        return all(_is_blank(n) for n in node.nodes)
    return isinstance(node, TextNode) and not node.text.strip()


def is_blank(tree: Tree) -> bool:
    """Whether a tree's body is only whitespace (such a tree never replaces another)."""
    return _is_blank(tree.root)


def parse_template(
    name: str, text: str, funcs: Container[str], delims: tuple[str, str] = ("{{", "}}")
) -> dict[str, Tree]:
    """Parse one file: its own tree (named ``name``) and the trees it defines.

    Args:
        name: the template name (Helm: the chart-relative path, ``chart/templates/x.yaml``).
        text: the template text.
        funcs: the names of the functions templates may call.
        delims: the action delimiters (Go's ``Template.Delims``; Istio's sidecar injector
            uses ``[[`` and ``]]``).

    Raises:
        ParseError: a syntax error, an undefined variable or function.
    """
    return _Parser(name, text, funcs, delims).parse()
