"""Numerical stability: replace expressions that overflow or lose digits by exact equivalents.

``log(1 + x)`` loses x when |x| < eps and ``log(1 + exp(x))`` overflows at
x = 1000; their stable forms (log1p, softplus, the max-shifted logsumexp)
give the right answer everywhere. Patterns match both the canonical form
(``1 + (-x)``) and the raw one (``1 - x``), so they work with or without the
canonicalize phase.
"""

import numpy as np

import symtensor.tensor.basic as tb
import symtensor.tensor.math as tm
from symtensor import scalar as ts
from symtensor.graph.rewriting.basic import node_rewriter
from symtensor.tensor.elemwise import CAReduce, DimShuffle, Elemwise
from symtensor.tensor.rewriting.math import (
    add, elemwise_node, exp, is_float, keep_type, log, mul, neg, negate, pattern, scalar_constant, sub)
from symtensor.tensor.rewriting.pipeline import register

log1p, expm1, sigmoid, softplus = (Elemwise(op) for op in (ts.log1p, ts.expm1, ts.sigmoid, ts.softplus))

TAGS = ("fast_run", "fast_compile")


def _float(name):
    return {"pattern": name, "constraint": is_float}


def _register_patterns(table):
    for name, in_pattern, out_pattern in table:
        register("stabilize", *TAGS, name=name)(pattern(in_pattern, out_pattern, name))


def _drop_one(node, value):
    """(constant input equal to ``value``, the other inputs) of an add node, or None."""
    for k, i in enumerate(node.inputs):
        if scalar_constant(i) is not None and scalar_constant(i) == value:
            return i, node.inputs[:k] + node.inputs[k + 1:]
    return None


def _sum(terms):
    return terms[0] if len(terms) == 1 else add(*terms)


@register("stabilize", *TAGS)
@node_rewriter([log])
def log1p_from_log(fgraph, node):
    """log(1 + x) -> log1p(x) (either order, any n-ary add, a 1 of any broadcast pattern)."""
    out = node.outputs[0]
    inner = elemwise_node(node.inputs[0], ts.Add)
    if inner is None or not is_float(out):
        return None
    found = _drop_one(inner, 1)
    if found is None or not found[1]:
        return None
    one, rest = found
    x = _sum([tb.cast(r, out.dtype) for r in rest])
    new = keep_type(log1p(x), out, sources=[one], cast=False)
    return None if new is None else [new]


@register("stabilize", *TAGS)
@node_rewriter([add])
def expm1_from_exp(fgraph, node):
    """exp(x) - 1 -> expm1(x), also inside a longer sum: exp(x) + y - 1 -> expm1(x) + y."""
    out = node.outputs[0]
    if not is_float(out):
        return None
    found = _drop_one(node, -1)
    if found is None:
        return None
    minus_one, rest = found
    for k, term in enumerate(rest):
        e = elemwise_node(term, ts.Exp)
        if e is not None and term.dtype == out.dtype:
            terms = [expm1(e.inputs[0])] + [tb.cast(r, out.dtype) for r in rest[:k] + rest[k + 1:]]
            new = keep_type(_sum(terms), out, sources=[minus_one], cast=False)
            return None if new is None else [new]
    return None


@register("stabilize", *TAGS)
@node_rewriter([Elemwise])
def sigmoid_from_exp_ratio(fgraph, node):
    """exp(x) / (1 + exp(x)) -> sigmoid(x) and a / (1 + exp(x)) -> a * sigmoid(-x): the forms gradients of
    softplus and of log(1 + exp(x)) take, which overflow to inf / inf = nan for large x."""
    if not isinstance(node.op.scalar_op, ts.TrueDiv) or node.op.destroy_map:
        return None
    out = node.outputs[0]
    num, den = node.inputs
    add_node = elemwise_node(den, ts.Add)
    if not is_float(out) or den.dtype != out.dtype or add_node is None or len(add_node.inputs) != 2:
        return None
    found = _drop_one(add_node, 1)
    if found is None:
        return None
    one, (e,) = found
    exp_node = elemwise_node(e, ts.Exp)
    if exp_node is None or e.dtype != out.dtype:
        return None
    x = exp_node.inputs[0]
    factors = list(num.owner.inputs) if elemwise_node(num, ts.Mul) is not None else [num]
    factors = [f for f in factors if scalar_constant(f) is None or scalar_constant(f) != 1]
    if any(f is e for f in factors):
        factors.remove(e)
        sig = sigmoid(x)
    else:
        sig = sigmoid(negate(x))
    factors = [tb.cast(f, out.dtype) for f in factors] + [sig]
    new = keep_type(factors[0] if len(factors) == 1 else mul(*factors), out, sources=[num, one], cast=False)
    return None if new is None else [new]


def _neg_softplus_neg(b):
    return neg(softplus(negate(b["x"])))


def _sigmoid_neg(b):
    return sigmoid(negate(b["x"]))


_register_patterns([
    ("expm1_from_sub", (sub, (exp, _float("x")), 1), (expm1, "x")),
    ("log1p_from_sub", (log, (sub, 1, _float("x"))), (log1p, (neg, "x"))),
    # log(1 + exp(x)) overflows for large x; softplus does not
    ("softplus_from_log1p", (log1p, (exp, "x")), (softplus, "x")),
    ("softplus_from_log", (log, (add, 1, (exp, "x"))), (softplus, "x")),
    ("softplus_from_log_r", (log, (add, (exp, "x"), 1)), (softplus, "x")),
    # log(sigmoid(x)) = -softplus(-x): sigmoid underflows to 0 for x << 0
    ("log_sigmoid", (log, (sigmoid, "x")), _neg_softplus_neg),
    # 1 - sigmoid(x) = sigmoid(-x): the subtraction cancels for x >> 0
    ("one_minus_sigmoid", (add, 1, (neg, (sigmoid, "x"))), _sigmoid_neg),
    ("one_minus_sigmoid_r", (add, (neg, (sigmoid, "x")), 1), _sigmoid_neg),
    ("one_minus_sigmoid_sub", (sub, 1, (sigmoid, "x")), _sigmoid_neg),
    # log(1 - sigmoid(x)) = -softplus(x), whichever of the rewrites above fired first
    ("log1p_neg_sigmoid", (log1p, (neg, (sigmoid, "x"))), (neg, (softplus, "x"))),
])


def _is_max_of(m, y):
    """m is (a dimshuffle / guard of) max(y, ...)."""
    while m.owner is not None:
        op = m.owner.op
        if isinstance(op, CAReduce):
            return isinstance(op.scalar_op, ts.Maximum) and m.owner.inputs[0] is y
        if isinstance(op, DimShuffle):
            m = m.owner.inputs[0]
        elif isinstance(op, Elemwise) and isinstance(op.scalar_op, ts.Switch):
            m = m.owner.inputs[2]
        else:
            return False
    return False


def _already_shifted(x):
    """x is y - max(y) (raw or canonical form): the sum of its exp cannot overflow."""
    node = elemwise_node(x, ts.Sub)
    if node is not None:
        return _is_max_of(node.inputs[1], node.inputs[0])
    node = elemwise_node(x, ts.Add)
    if node is not None and len(node.inputs) == 2:
        for a, b in (node.inputs, node.inputs[::-1]):
            n = elemwise_node(b, ts.Neg)
            if n is not None and _is_max_of(n.inputs[0], a):
                return True
    return False


@register("stabilize", *TAGS)
@node_rewriter([log])
def logsumexp(fgraph, node):
    """log(sum(exp(x), axis)) -> m + log(sum(exp(x - m), axis)) with m = max(x, axis) (0 where infinite),
    so that no exp overflows; a keepdims dimshuffle between log and sum is kept."""
    out = node.outputs[0]
    s = node.inputs[0]
    keepdims = None
    if s.owner is not None and isinstance(s.owner.op, DimShuffle):
        keepdims = s.owner.op
        s = s.owner.inputs[0]
    red = s.owner
    if red is None or not isinstance(red.op, CAReduce) or not isinstance(red.op.scalar_op, ts.Add):
        return None
    e = elemwise_node(red.inputs[0], ts.Exp)
    if e is None:
        return None
    x = e.inputs[0]
    if not is_float(x) or x.dtype != e.outputs[0].dtype or _already_shifted(x):
        return None
    axis = red.op.axis
    m = CAReduce(ts.maximum, axis)(x)
    m = tm.switch(tm.isinf(m), tb.constant(np.zeros((1,) * m.ndim, dtype=m.dtype)), m)
    back, k = [], 0
    for a in range(x.ndim):
        if a in axis:
            back.append("x")
        else:
            back.append(k)
            k += 1
    m_b = DimShuffle(m.broadcastable, back)(m)
    new = add(m, log(red.op(exp(sub(x, m_b)))))
    if keepdims is not None:
        try:
            new = DimShuffle(new.broadcastable, keepdims.new_order)(new)
        except (TypeError, ValueError):
            return None
    new = keep_type(new, out, cast=False)
    return None if new is None else [new]
