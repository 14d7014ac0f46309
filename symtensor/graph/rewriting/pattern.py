"""Declarative rewrites: ``PatternNodeRewriter((log, (add, 1, "x")), (log1p, "x"))``.

A pattern is a nested tuple ``(op, *sub_patterns)``: ``op`` is an Op instance
(matched by equality) or a callable ``op_matcher(op) -> bool``; a string binds a
variable by name (the same name twice must bind the same variable); a number
matches a constant whose every element equals it; ``{"pattern": p,
"constraint": fn}`` adds a test on the bound variable. The output pattern is
built from the same pieces, with bound names substituted.
"""

import numpy as np

from symtensor.graph.basic import Constant, Variable
from symtensor.graph.op import Op
from symtensor.graph.rewriting.basic import NodeRewriter


class OpMatcher:
    """Matches ops by a predicate, e.g. every Elemwise over a given scalar op."""

    def __init__(self, predicate, build=None, name=None):
        self.predicate = predicate
        self.build = build
        self.name = name or getattr(predicate, "__name__", "op")

    def __call__(self, *args):
        if self.build is None:
            raise TypeError(f"pattern op {self.name} can only match, not build")
        return self.build(*args)

    def __repr__(self):
        return self.name


def _op_matches(pattern_op, op):
    if isinstance(pattern_op, OpMatcher):
        return pattern_op.predicate(op)
    if isinstance(pattern_op, Op):
        return op == pattern_op
    if isinstance(pattern_op, type):
        return isinstance(op, pattern_op)
    raise TypeError(f"bad op in pattern: {pattern_op!r}")


def _constant_equals(var, value):
    if not isinstance(var, Constant):
        return False
    data = np.asarray(var.data)
    try:
        return data.size > 0 and bool(np.all(data == value))
    except (TypeError, ValueError):
        return False


def match(pattern, var, bindings, fgraph=None, allow_multiple_clients=True, root=True):
    """Try to match ``var`` against ``pattern``, filling ``bindings``; returns True on success."""
    if isinstance(pattern, dict):
        if not match(pattern["pattern"], var, bindings, fgraph, allow_multiple_clients, root):
            return False
        constraint = pattern.get("constraint")
        return constraint is None or bool(constraint(var))
    if isinstance(pattern, str):
        if pattern in bindings:
            return bindings[pattern] is var or (
                isinstance(var, Constant) and isinstance(bindings[pattern], Constant)
                and var.equals(bindings[pattern]))
        bindings[pattern] = var
        return True
    if isinstance(pattern, (int, float, np.number)):
        return _constant_equals(var, pattern)
    if isinstance(pattern, tuple):
        node = var.owner
        if node is None or not _op_matches(pattern[0], node.op):
            return False
        if not root and not allow_multiple_clients and fgraph is not None and len(fgraph.clients.get(var, ())) > 1:
            return False
        args = pattern[1:]
        if len(args) != len(node.inputs):
            return False
        return all(match(p, i, bindings, fgraph, allow_multiple_clients, False) for p, i in zip(args, node.inputs))
    raise TypeError(f"bad pattern element {pattern!r}")


def build(pattern, bindings, like):
    """Instantiate an output pattern with the bound variables."""
    if isinstance(pattern, str):
        return bindings[pattern]
    if isinstance(pattern, Variable):
        return pattern
    if isinstance(pattern, tuple):
        op = pattern[0]
        args = [build(p, bindings, like) for p in pattern[1:]]
        return op(*args)
    if callable(pattern):
        return pattern(bindings)
    raise TypeError(f"bad output pattern element {pattern!r}")


class PatternNodeRewriter(NodeRewriter):
    """Replace a subgraph matching ``in_pattern`` by ``out_pattern``.

    ``out_pattern`` may also be a function ``bindings -> Variable`` for what a
    pattern cannot say. The result is cast to the replaced variable's type
    by ``convert`` (given by the tensor layer) when provided.
    """

    def __init__(self, in_pattern, out_pattern, allow_multiple_clients=False, name=None, convert=None,
                 tracks=None):
        if not isinstance(in_pattern, (tuple, dict)):
            raise TypeError("the input pattern must be an (op, ...) tuple")
        self.in_pattern = in_pattern
        self.out_pattern = out_pattern
        self.allow_multiple_clients = allow_multiple_clients
        self.convert = convert
        self.name = name or f"{_fmt(in_pattern)} -> {_fmt(out_pattern)}"
        root = in_pattern["pattern"] if isinstance(in_pattern, dict) else in_pattern
        head = root[0]
        self._tracks = tracks or ([head] if isinstance(head, Op) or isinstance(head, type) else None)

    def tracks(self):
        return self._tracks

    def transform(self, fgraph, node):
        if len(node.outputs) != 1:
            return None
        out = node.outputs[0]
        bindings = {}
        if not match(self.in_pattern, out, bindings, fgraph, self.allow_multiple_clients):
            return None
        new = build(self.out_pattern, bindings, out)
        if new is out:
            return None
        if self.convert is not None:
            new = self.convert(new, out)
            if new is None:
                return None
        return [new]


def _fmt(p):
    if isinstance(p, dict):
        return _fmt(p["pattern"])
    if isinstance(p, tuple):
        return "(" + " ".join(_fmt(x) for x in p) + ")"
    if callable(p) and not isinstance(p, (Op, OpMatcher)):
        return getattr(p, "__name__", "fn")
    return str(p)
