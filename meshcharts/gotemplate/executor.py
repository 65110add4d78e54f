"""Execute parsed templates: a port of ``text/template``'s ``exec.go``.

Semantics follow Go (with Helm's ``missingkey=zero``): a missing map key gives a nil
``interface{}`` that prints as ``<no value>``, a field of it fails with ``nil pointer
evaluating interface {}.x``, ``range`` visits map keys in sorted order, variables are
scoped to their control structure, ``template`` calls see only ``$``, and every function
argument is checked against the function's Go signature.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, Final

from meshcharts.gotemplate import nodes
from meshcharts.gotemplate.funcs import GO_TYPES, NILABLE, FuncMap, GoFunc
from meshcharts.gotemplate.gofmt import sprint_value
from meshcharts.gotemplate.gotypes import (
    NIL_IFACE,
    FuncError,
    GoStruct,
    Int64,
    IntSlice,
    StringMap,
    StringSlice,
    is_empty,
    type_name,
)
from meshcharts.gotemplate.lexer import ParseError
from meshcharts.gotemplate.parser import is_blank, parse_template

__all__ = ["ExecError", "TemplateSet", "truth"]

MAX_DEPTH: Final = 1000
MAX_OUTPUT: Final = 64 * 1024 * 1024
"""Characters one execution may write (a chart's manifests are a few hundred kilobytes)."""
MAX_STEPS: Final = 20_000_000
"""Nodes one execution may walk, loop iterations included: Go would take seconds for what
Python takes minutes, so the work is bounded and reported at the template's line."""
"""Nested template calls allowed (Helm allows 1000 nested ``include`` of one name)."""

_MISSING: Final = object()
_CONCRETE_ELEMS: Final = (StringSlice, IntSlice, StringMap)
_TAKES_STRINGS: Final = frozenset({None, "any", "value", "string"})

MethodLookup = Callable[[Any, str], GoFunc | None]


class ExecError(Exception):
    """A template failed while executing.

    ``str()`` reads as Go's: ``template: FILE:LINE:COL: executing "NAME" at <NODE>: MSG``.

    Attributes:
        name: the template executing (a file path or a ``define`` name).
        location: ``FILE:LINE:COL`` of the node, or "" when there is no node.
        context: the node's source text.
        message: what went wrong.
        fail_message: for Helm's ``fail``/``required``, their message (also when the
            failure happened in a nested ``include``).
        wrapped: for ``error calling F: ...``, the error ``F`` returned (an
            :class:`ExecError` when ``F`` ran a template, as ``include`` does).
    """

    def __init__(
        self,
        name: str,
        location: str,
        context: str,
        message: str,
        fail_message: str | None = None,
        wrapped: Exception | None = None,
    ) -> None:
        if location:
            text = f'template: {location}: executing "{name}" at <{context}>: {message}'
        else:
            text = f"template: {name}: {message}"
        super().__init__(text)
        self.name = name
        self.location = location
        self.context = context
        self.message = message
        self.fail_message = fail_message
        self.wrapped = wrapped


class FailError(FuncError):
    """Helm's ``fail`` or ``required``: an error whose message Helm shows on its own."""


class _Break(Exception):
    """``{{break}}``."""


class _Continue(Exception):
    """``{{continue}}``."""


def truth(value: Any) -> bool:
    """Go's ``isTrue``: false for nil, false, zero and empty strings, slices and maps."""
    if value is None or value is NIL_IFACE:
        return False
    if value is True or value is False:
        return value
    if isinstance(value, GoStruct):
        return True
    return not is_empty(value)


def _ideal_constant(node: nodes.NumberNode) -> Any:
    """An untyped number constant as ``interface{}``: ``int``, or ``float64`` if written so."""
    text = node.text.lstrip("+-")
    hex_int = text[:2] in ("0x", "0X") and "p" not in text.lower()
    if (
        node.is_float
        and not hex_int
        and not text.startswith("'")
        and any(c in text for c in ".eEpP")
    ):
        return node.float_value
    if node.is_int and -(2**63) <= node.int_value < 2**63:
        return node.int_value
    raise FuncError(f"{node.text} overflows int")


class TemplateSet:
    """Named templates parsed from files, and the functions they may call.

    Args:
        funcs: the function map (name -> :class:`GoFunc`).
        methods: finds a method of a value by name (``.Values.AsMap``...), or None.
        name: the name of the set, quoted by :meth:`execute` for an unknown template.
        delims: the action delimiters of the files added (Go's ``Template.Delims``).
    """

    def __init__(
        self,
        funcs: FuncMap,
        methods: MethodLookup,
        name: str = "gotpl",
        delims: tuple[str, str] = ("{{", "}}"),
    ) -> None:
        self.funcs = funcs
        self.methods = methods
        self.name = name
        self.delims = delims
        self.trees: dict[str, nodes.Tree] = {}
        self.budget: _Budget | None = None  # shared by the includes of one execution
        # Called with (map, key) when a field lookup finds no key in a map (a check may
        # want to know which values templates read that are not there).
        self.on_missing_key: Callable[[Mapping[str, Any], str], None] | None = None

    def add_file(self, name: str, text: str) -> None:
        """Parse one file; its defined templates replace earlier ones of the same name.

        Raises:
            ParseError: the file does not parse.
        """
        for tree_name, tree in parse_template(name, text, self.funcs, self.delims).items():
            old = self.trees.get(tree_name)
            if old is None or not is_blank(tree):
                self.trees[tree_name] = tree

    def add_trees(self, trees: Mapping[str, nodes.Tree]) -> None:
        """Add already parsed trees, as :meth:`add_file` does."""
        for tree_name, tree in trees.items():
            if tree_name not in self.trees or not is_blank(tree):
                self.trees[tree_name] = tree

    def execute(self, name: str, data: Any) -> str:
        """Run template ``name`` with ``data`` as the cursor and ``$``; return its output.

        Raises:
            ExecError: execution failed.
            FuncError: no template has that name.
        """
        tree = self.trees.get(name)
        if tree is None:
            raise FuncError(
                f'template: no template "{name}" associated with template "{self.name}"'
            )
        out: list[str] = []
        outer = self.budget is None
        if outer:
            self.budget = _Budget()
        try:
            _State(self, tree, [["$", data]], out, 0).walk(data, tree.root)
        finally:
            if outer:
                self.budget = None
        return "".join(out)


class _Budget:
    """The work and output one execution (with every template it includes) has used."""

    __slots__ = ("output", "steps")

    def __init__(self) -> None:
        self.output = 0
        self.steps = 0


class _State:
    """One template execution: the variables, the output and the node being run."""

    __slots__ = ("depth", "node", "out", "tree", "tset", "vars")

    def __init__(
        self,
        tset: TemplateSet,
        tree: nodes.Tree,
        variables: list[list[Any]],
        out: list[str],
        depth: int,
    ) -> None:
        self.tset = tset
        self.tree = tree
        self.vars = variables
        self.out = out
        self.depth = depth
        self.node: nodes.Node | None = None

    # --- errors -------------------------------------------------------------------------

    def error(
        self, message: str, fail_message: str | None = None, wrapped: Exception | None = None
    ) -> ExecError:
        node = self.node
        if node is None:
            return ExecError(self.tree.name, "", "", message, fail_message, wrapped)
        line, column = self.tree.location(node.pos)
        location = f"{self.tree.parse_name}:{line}:{column}"
        return ExecError(self.tree.name, location, str(node), message, fail_message, wrapped)

    # --- walking ------------------------------------------------------------------------

    def spend(self, steps: int = 1, output: int = 0) -> None:
        """Count work and output against the execution's budget."""
        budget = self.tset.budget
        if budget is None:
            return
        budget.steps += steps
        budget.output += output
        if budget.steps > MAX_STEPS:
            raise self.error(f"the template does more than {MAX_STEPS} steps of work")
        if budget.output > MAX_OUTPUT:
            raise self.error(f"the template writes more than {MAX_OUTPUT} characters")

    def emit(self, text: str) -> None:
        self.spend(0, len(text))
        self.out.append(text)

    def walk(self, dot: Any, node: nodes.Node) -> None:
        self.spend()
        walker = _WALKERS.get(type(node))
        if walker is None:
            raise self.error(f"unknown node: {node}")
        walker(self, dot, node)

    def walk_text(self, _dot: Any, node: nodes.TextNode) -> None:
        self.emit(node.text)

    def walk_action(self, dot: Any, node: nodes.ActionNode) -> None:
        value = self.eval_pipeline(dot, node.pipe)
        if not node.pipe.decl:
            self.print_value(node, value)

    def walk_list(self, dot: Any, node: nodes.ListNode) -> None:
        for child in node.nodes:
            self.walk(dot, child)

    def walk_if(self, dot: Any, node: nodes.IfNode) -> None:
        self.walk_if_or_with(False, dot, node)

    def walk_with(self, dot: Any, node: nodes.WithNode) -> None:
        self.walk_if_or_with(True, dot, node)

    def walk_break(self, _dot: Any, _node: nodes.BreakNode) -> None:
        raise _Break

    def walk_continue(self, _dot: Any, _node: nodes.ContinueNode) -> None:
        raise _Continue

    def print_value(self, node: nodes.Node, value: Any) -> None:
        self.node = node
        self.emit("<no value>" if value is None else sprint_value(value))

    def walk_if_or_with(self, is_with: bool, dot: Any, node: nodes.IfNode | nodes.WithNode) -> None:
        mark = len(self.vars)
        try:
            value = self.eval_pipeline(dot, node.pipe)
            if truth(value):
                self.walk(value if is_with else dot, node.list)
            elif node.else_list is not None:
                self.walk(dot, node.else_list)
        finally:
            del self.vars[mark:]

    def walk_range(self, dot: Any, node: nodes.RangeNode) -> None:
        self.node = node
        mark = len(self.vars)
        try:
            value = self.eval_pipeline(dot, node.pipe)
            if not self.range_items(node, value) and node.else_list is not None:
                self.walk(dot, node.else_list)
        except _Break:
            pass
        finally:
            del self.vars[mark:]

    def range_items(self, node: nodes.RangeNode, value: Any) -> bool:
        """Run the body for each item of ``value``; return whether there was any."""
        if value is None:
            return False
        iface = not isinstance(value, _CONCRETE_ELEMS)
        if isinstance(value, list):
            items: list[tuple[Any, Any]] = list(enumerate(value))
        elif isinstance(value, dict):
            items = [(key, value[key]) for key in sorted(value)]
        elif isinstance(value, int) and not isinstance(value, bool):
            if len(node.pipe.decl) > 1:
                raise self.error(f"can't use {value} to iterate over more than one variable")
            self.spend(max(value, 0))  # counted before the items are made
            items = [(None, i) for i in range(value)]
            iface = False
        else:
            raise self.error(f"range can't iterate over {sprint_value(value)}")
        inner = len(self.vars)
        for index, elem in items:
            if iface and elem is None:
                elem = NIL_IFACE
            self.range_iteration(node, inner, index, elem)
        return bool(items)

    def range_iteration(self, node: nodes.RangeNode, inner: int, index: Any, elem: Any) -> None:
        decl = node.pipe.decl
        if decl:
            if node.pipe.is_assign:
                self.set_var(decl[0].idents[0], index if len(decl) > 1 else elem)
                if len(decl) > 1:
                    self.set_var(decl[1].idents[0], elem)
            else:
                self.vars[inner - 1][1] = elem
                if len(decl) > 1:
                    self.vars[inner - 2][1] = index
        try:
            self.walk(elem, node.list)
        except _Continue:
            pass
        finally:
            del self.vars[inner:]

    def walk_template(self, dot: Any, node: nodes.TemplateNode) -> None:
        self.node = node
        tree = self.tset.trees.get(node.name)
        if tree is None:
            raise self.error(f'template "{node.name}" not defined')
        if self.depth >= MAX_DEPTH:
            raise self.error(f"exceeded maximum template depth ({MAX_DEPTH})")
        value = self.eval_pipeline(dot, node.pipe) if node.pipe is not None else None
        _State(self.tset, tree, [["$", value]], self.out, self.depth + 1).walk(value, tree.root)

    # --- variables ----------------------------------------------------------------------

    def var_value(self, name: str) -> Any:
        for entry in reversed(self.vars):
            if entry[0] == name:
                return entry[1]
        raise self.error(f"undefined variable: {name}")

    def set_var(self, name: str, value: Any) -> None:
        for entry in reversed(self.vars):
            if entry[0] == name:
                entry[1] = value
                return
        raise self.error(f"undefined variable: {name}")

    # --- pipelines and commands -----------------------------------------------------------

    def eval_pipeline(self, dot: Any, pipe: nodes.PipeNode) -> Any:
        self.node = pipe
        value: Any = _MISSING
        for cmd in pipe.cmds:
            value = self.eval_command(dot, cmd, value)
            if value is NIL_IFACE:
                value = None
        for var in pipe.decl:
            if pipe.is_assign:
                self.set_var(var.idents[0], value)
            else:
                self.vars.append([var.idents[0], value])
        return value

    def eval_command(self, dot: Any, cmd: nodes.CommandNode, final: Any) -> Any:
        first = cmd.args[0]
        if isinstance(first, nodes.FieldNode):
            return self.eval_field_node(dot, first, cmd.args, final)
        if isinstance(first, nodes.IdentifierNode):
            return self.eval_function(dot, first, cmd, cmd.args, final)
        if isinstance(first, nodes.VariableNode):
            return self.eval_variable_node(dot, first, cmd.args, final)
        if isinstance(first, nodes.ChainNode):
            return self.eval_chain_node(dot, first, cmd.args, final)
        if isinstance(first, nodes.PipeNode):
            self.not_a_function(cmd.args, final)
            return self.eval_pipeline(dot, first)
        self.node = first
        self.not_a_function(cmd.args, final)
        return self.literal(dot, first)

    def literal(self, dot: Any, node: nodes.Node) -> Any:
        if isinstance(node, nodes.BoolNode):
            return node.value
        if isinstance(node, nodes.DotNode):
            return dot
        if isinstance(node, nodes.NilNode):
            raise self.error("nil is not a command")
        if isinstance(node, nodes.NumberNode):
            try:
                return _ideal_constant(node)
            except FuncError as exc:
                raise self.error(str(exc)) from None
        if isinstance(node, nodes.StringNode):
            return node.text
        raise self.error(f"can't evaluate command {node}")

    def not_a_function(self, args: list[nodes.Node], final: Any) -> None:
        if len(args) > 1 or final is not _MISSING:
            raise self.error(f"can't give argument to non-function {args[0]}")

    def eval_field_node(
        self, dot: Any, field: nodes.FieldNode, args: list[nodes.Node], final: Any
    ) -> Any:
        self.node = field
        return self.eval_field_chain(dot, dot, field, field.idents, args, final)

    def eval_chain_node(
        self, dot: Any, chain: nodes.ChainNode, args: list[nodes.Node] | None, final: Any
    ) -> Any:
        self.node = chain
        if isinstance(chain.node, nodes.NilNode):
            raise self.error(f"indirection through explicit nil in {chain}")
        receiver = self.eval_arg(dot, None, chain.node)
        return self.eval_field_chain(dot, receiver, chain, chain.fields, args, final)

    def eval_variable_node(
        self, dot: Any, var: nodes.VariableNode, args: list[nodes.Node] | None, final: Any
    ) -> Any:
        self.node = var
        value = self.var_value(var.idents[0])
        if len(var.idents) == 1:
            self.not_a_function(args or [var], final)
            return value
        return self.eval_field_chain(dot, value, var, var.idents[1:], args, final)

    def eval_field_chain(
        self,
        dot: Any,
        receiver: Any,
        node: nodes.Node,
        idents: tuple[str, ...],
        args: list[nodes.Node] | None,
        final: Any,
    ) -> Any:
        static = None
        for ident in idents[:-1]:
            next_static = "interface {}" if _iface_elems(receiver) else None
            receiver = self.eval_field(dot, ident, node, None, _MISSING, receiver, static)
            static = next_static
        return self.eval_field(dot, idents[-1], node, args, final, receiver, static)

    def map_field(self, receiver: Mapping[str, Any], name: str) -> Any:
        """A map's value for a field name (Helm's ``missingkey=zero``: nil when absent).

        An absent key is reported to the set's ``on_missing_key`` hook, if any.
        """
        value = receiver.get(name)
        if value is not None:
            return value
        hook = self.tset.on_missing_key
        if hook is not None and name not in receiver:
            hook(receiver, name)
        return NIL_IFACE

    def eval_field(
        self,
        dot: Any,
        name: str,
        node: nodes.Node,
        args: list[nodes.Node] | None,
        final: Any,
        receiver: Any,
        static: str | None,
    ) -> Any:
        if receiver is None:
            return None
        if receiver is NIL_IFACE:
            raise self.error(f"nil pointer evaluating interface {{}}.{name}")
        if type(receiver) is dict and final is _MISSING and (args is None or len(args) < 2):
            return self.map_field(receiver, name)
        method = self.tset.methods(receiver, name)
        if method is not None:
            bound = GoFunc(functools.partial(method.impl, receiver), method.params, method.variadic)
            return self.eval_call(dot, bound, node, name, args, final)
        has_args = (args is not None and len(args) > 1) or final is not _MISSING
        if isinstance(receiver, dict):
            if has_args:
                raise self.error(f"{name} is not a method but has arguments")
            if isinstance(receiver, StringMap):
                return receiver.get(name, "")
            return self.map_field(receiver, name)
        if isinstance(receiver, GoStruct) and name in receiver.fields:
            if has_args:
                raise self.error(f"{name} has arguments but cannot be invoked as function")
            return receiver.fields[name]
        raise self.error(f"can't evaluate field {name} in type {static or type_name(receiver)}")

    # --- function calls -------------------------------------------------------------------

    def eval_function(
        self,
        dot: Any,
        ident: nodes.IdentifierNode,
        cmd: nodes.Node,
        args: list[nodes.Node] | None,
        final: Any,
    ) -> Any:
        self.node = ident
        func = self.tset.funcs.get(ident.name)
        if func is None:
            raise self.error(f'"{ident.name}" is not a defined function')
        return self.eval_call(dot, func, cmd, ident.name, args, final)

    def eval_call(
        self,
        dot: Any,
        func: GoFunc,
        node: nodes.Node,
        name: str,
        args: list[nodes.Node] | None,
        final: Any,
    ) -> Any:
        arg_nodes = args[1:] if args else []
        num_in = len(arg_nodes) + (final is not _MISSING)
        fixed = func.params
        if func.variadic is not None:
            if num_in < len(fixed):
                want = f"want at least {len(fixed)} got {len(arg_nodes)}"
                raise self.error(f"wrong number of args for {name}: {want}")
        elif num_in != len(fixed):
            raise self.error(f"wrong number of args for {name}: want {len(fixed)} got {num_in}")
        if func.lazy:
            return self.eval_lazy(dot, name, arg_nodes, final)
        argv = [
            self.eval_arg(dot, fixed[i] if i < len(fixed) else func.variadic, arg)
            for i, arg in enumerate(arg_nodes)
        ]
        if final is not _MISSING:
            index = num_in - 1
            argv.append(self.validate(final, fixed[index] if index < len(fixed) else func.variadic))
        return self.call(func, node, name, argv)

    def call(self, func: GoFunc, node: nodes.Node, name: str, argv: list[Any]) -> Any:
        """Call ``func``; its error (or Go panic) fails the template at ``node``."""
        try:
            return func.impl(*argv)
        except FailError as exc:
            self.node = node
            raise self.error(f"error calling {name}: {exc}", str(exc), exc) from None
        except ExecError as exc:
            self.node = node
            raise self.error(f"error calling {name}: {exc}", exc.fail_message, exc) from None
        except (FuncError, ParseError) as exc:
            self.node = node
            raise self.error(f"error calling {name}: {exc}", None, exc) from None
        except ZeroDivisionError:
            self.node = node
            problem = FuncError("runtime error: integer divide by zero")
            raise self.error(f"error calling {name}: {problem}", None, problem) from None

    def eval_lazy(self, dot: Any, name: str, arg_nodes: list[nodes.Node], final: Any) -> Any:
        """``and``/``or``: stop at the first false/true argument and return it."""
        value: Any = None
        want = name == "or"
        for arg in arg_nodes:
            value = self.eval_arg(dot, "value", arg)
            if truth(value) == want:
                return value
        if final is not _MISSING:
            value = final
        return value

    def eval_arg(self, dot: Any, typ: str | None, node: nodes.Node) -> Any:
        self.node = node
        if type(node) is nodes.StringNode and typ in _TAKES_STRINGS:
            return node.text
        if isinstance(node, nodes.DotNode):
            return self.validate(dot, typ)
        if isinstance(node, nodes.NilNode):
            if typ is None or typ in NILABLE:
                return None
            raise self.error(f"cannot assign nil to {GO_TYPES[typ]}")
        if isinstance(node, nodes.FieldNode):
            return self.validate(self.eval_field_node(dot, node, [node], _MISSING), typ)
        if isinstance(node, nodes.VariableNode):
            return self.validate(self.eval_variable_node(dot, node, None, _MISSING), typ)
        if isinstance(node, nodes.PipeNode):
            return self.validate(self.eval_pipeline(dot, node), typ)
        if isinstance(node, nodes.IdentifierNode):
            return self.validate(self.eval_function(dot, node, node, None, _MISSING), typ)
        if isinstance(node, nodes.ChainNode):
            return self.validate(self.eval_chain_node(dot, node, None, _MISSING), typ)
        return self.literal_arg(typ, node)

    def literal_arg(self, typ: str | None, node: nodes.Node) -> Any:
        """A constant argument, converted by the parameter type as Go does."""
        if typ in (None, "any", "value"):
            return self.literal(None, node)
        if typ == "string" and isinstance(node, nodes.StringNode):
            return node.text
        if typ == "bool" and isinstance(node, nodes.BoolNode):
            return node.value
        if isinstance(node, nodes.NumberNode):
            if typ == "int" and node.is_int:
                return node.int_value
            if typ == "int64" and node.is_int:
                return Int64(node.int_value)
            if typ == "float64" and node.is_float:
                return node.float_value
        expected = {"string": "string", "bool": "bool", "int": "integer", "int64": "integer",
                    "float64": "float"}.get(typ or "")  # fmt: skip
        if expected is None:
            raise self.error(f"can't handle {node} for arg of type {GO_TYPES[typ or 'any']}")
        raise self.error(f"expected {expected}; found {node}")

    def validate(self, value: Any, typ: str | None) -> Any:
        """Go's ``validateType``: check (and unwrap) an argument for a parameter type."""
        if typ == "any" and value is not None:
            return None if value is NIL_IFACE else value
        if typ is None or typ == "value":
            return value
        if value is None:
            if typ in NILABLE:
                return None
            raise self.error(f"invalid value; expected {GO_TYPES[typ]}")
        if value is NIL_IFACE:
            if typ == "any":
                return None
            raise self.error(f"wrong type for value; expected {GO_TYPES[typ]}; got interface {{}}")
        if typ == "any" or _CHECKS[typ](value):
            return value
        raise self.error(f"wrong type for value; expected {GO_TYPES[typ]}; got {type_name(value)}")


def _iface_elems(receiver: Any) -> bool:
    """Whether looking up a field of ``receiver`` gives an ``interface{}``-typed value."""
    return isinstance(receiver, dict) and not isinstance(receiver, StringMap)


_CHECKS: Final[dict[str, Callable[[Any], bool]]] = {
    "string": lambda v: type(v) is str,
    "int": lambda v: type(v) is int,
    "int64": lambda v: type(v) is Int64,
    "float64": lambda v: type(v) is float,
    "bool": lambda v: type(v) is bool,
    "map": lambda v: isinstance(v, dict) and not isinstance(v, StringMap),
    "values": lambda v: isinstance(v, dict) and not isinstance(v, StringMap),
}


_WALKERS: Final[dict[type[nodes.Node], Callable[[_State, Any, Any], None]]] = {
    nodes.TextNode: _State.walk_text,
    nodes.ActionNode: _State.walk_action,
    nodes.ListNode: _State.walk_list,
    nodes.IfNode: _State.walk_if,
    nodes.WithNode: _State.walk_with,
    nodes.RangeNode: _State.walk_range,
    nodes.TemplateNode: _State.walk_template,
    nodes.BreakNode: _State.walk_break,
    nodes.ContinueNode: _State.walk_continue,
}
"""How each node type runs."""
