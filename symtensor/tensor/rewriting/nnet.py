"""Neural-net stabilization: log(softmax) becomes log_softmax, softmax cross-entropies become one fused op.

Users write ``-log(softmax(x))[arange(n), y]`` or ``categorical_crossentropy(softmax(x), y)``: for logits
around 1e4 the softmax underflows to 0, its log is -inf and its gradient (through 1 / softmax) is nan.

Forward (stabilize): ``log(softmax(z))`` -> ``log_softmax(z)``, also when the log is applied after an
indexing of the softmax (the log is pushed to the softmax first); then a per-row pick of a log_softmax
(PickClass, or ``[arange(n), y]``) becomes the nll output of CrossentropySoftmaxArgmax1HotWithBias and
``sum(t * log_softmax(z), last axis)`` the nll of CrossentropySoftmaxDense. An existing ``softmax(z)``
is replaced by the fused op's softmax output, so the softmax is computed once.

Gradients: ``grad`` runs on the user's unfused graph, so the gradient graph holds
``softmax_grad(G / softmax, softmax)`` (or the division inside a one-hot scatter). We rewrite that
pattern, not only the forward op: ``softmax_grad(G / sm, sm) = G - sm * sum(G)`` exactly, which is
CrossentropySoftmax1HotWithBiasDx when G is a one-hot scatter and CrossentropySoftmaxDenseDx when G is a
per-row scale of a target. Graphs built with the fused ops directly get the same Dx ops from their L_op.
Assumed like Theano: in ``x[arange(n), y]`` n is the number of rows (a program where it is not is
reported by the fused op at run time instead of silently using fewer rows).
"""

import numpy as np

import symtensor.tensor.basic as tb
import symtensor.tensor.math as tm
import symtensor.tensor.nnet.basic as nn
from symtensor import scalar as ts
from symtensor.graph.basic import Constant, ancestors
from symtensor.graph.rewriting.basic import node_rewriter
from symtensor.tensor.advanced_subtensor import AdvancedIncSubtensor, AdvancedSubtensor, AdvancedSubtensor1
from symtensor.tensor.elemwise import CAReduce, DimShuffle, Elemwise
from symtensor.tensor.extra_ops import ARange
from symtensor.tensor.subtensor import SYMBOLIC, Subtensor
from symtensor.tensor.rewriting.basic import same_type_or_none
from symtensor.tensor.rewriting.pipeline import register
from symtensor.tensor.shape import Shape, Shape_i

TAGS = ("fast_run", "fast_compile")

log_op, neg_op = Elemwise(ts.log), Elemwise(ts.neg)

#: ops that index a tensor without computing on it: log(x[idx]) == log(x)[idx]
_INDEXERS = (Subtensor, AdvancedSubtensor, AdvancedSubtensor1, nn.PickClass)


# ------------------------------------------------------------------ recognising pieces

def _ew(var, scalar_cls):
    node = var.owner
    if (node is not None and isinstance(node.op, Elemwise) and isinstance(node.op.scalar_op, scalar_cls)
            and not node.op.destroy_map):
        return node
    return None


def _const_value(var):
    """The single value of a constant (any shape, all elements equal), else None."""
    if not isinstance(var, Constant):
        return None
    data = np.asarray(var.data)
    if data.size == 0 or data.dtype.kind not in "biuf" or not np.all(data == data.flat[0]):
        return None
    return data.flat[0]


def _split_bias(z):
    """(x, b) with z = x + b and b a vector broadcast over the rows; (z, None) otherwise."""
    node = _ew(z, ts.Add)
    if node is not None and len(node.inputs) == 2 and z.ndim >= 1:
        for x, d in (node.inputs, node.inputs[::-1]):
            ds = d.owner
            if (ds is not None and isinstance(ds.op, DimShuffle) and ds.inputs[0].ndim == 1
                    and ds.op.new_order == ("x",) * (z.ndim - 1) + (0,) and x.broadcastable == z.broadcastable
                    and x.dtype in ts.float_dtypes and ds.inputs[0].dtype in ts.float_dtypes):
                return x, ds.inputs[0]
    return z, None


def _logits(var):
    """(x, b) when ``var`` is a softmax of x + b (b None without a bias), else None."""
    node = var.owner
    if node is None:
        return None
    op = node.op
    if isinstance(op, nn.Softmax):
        return _split_bias(node.inputs[0])
    if isinstance(op, nn.SoftmaxWithBias):
        return node.inputs[0], node.inputs[1]
    if isinstance(op, nn.CrossentropySoftmaxArgmax1HotWithBias) and var is node.outputs[1]:
        return node.inputs[0], node.inputs[1]
    if isinstance(op, nn.CrossentropySoftmaxDense) and var is node.outputs[1]:
        return node.inputs[0], None
    return None


def _join(x, b):
    return x if b is None else tm.add(x, b)


def _length_source(n):
    """The tensor whose first length ``n`` is (shape_i(v, 0) or shape(v)[0], maybe cast), else None."""
    while _ew(n, ts.Cast) is not None:
        n = n.owner.inputs[0]
    node = n.owner
    if node is None:
        return None
    if isinstance(node.op, Shape_i) and node.op.i == 0:
        return node.inputs[0]
    if isinstance(node.op, Subtensor) and node.op.idx_list == (0,):
        inner = node.inputs[0].owner
        if inner is not None and isinstance(inner.op, Shape):
            return inner.inputs[0]
    return None


def _is_row_range(r, y, tables):
    """r = arange(n) with n the number of rows: the length of y or of one of ``tables``."""
    node = r.owner
    if node is None or not isinstance(node.op, ARange):
        return False
    start, stop, step = node.inputs
    if _const_value(start) != 0 or _const_value(step) != 1:
        return False
    src = _length_source(stop)
    if src is not None:
        return src is y or any(src is t for t in tables)
    n = _const_value(stop)
    return n is not None and (y.type.shape[0] == n or any(t.type.shape[0] == n for t in tables))


def _same_rows(var, depth=4):
    """``var`` and the tensors it is computed from that have, by construction, its number of rows
    (through softmaxes, elementwise ops on unbroadcast rows, fills and matrix products)."""
    found = [var]
    node = var.owner
    if node is None or depth == 0:
        return found
    op = node.op
    if isinstance(op, (nn.Softmax, nn.LogSoftmax, nn.SoftmaxWithBias, tm.Dot)) or (
            isinstance(op, nn.CrossentropySoftmaxArgmax1HotWithBias) and var is node.outputs[1]):
        parents = node.inputs[:1]
    elif isinstance(op, Elemwise):
        parents = [i for i in node.inputs if i.ndim == var.ndim and not i.broadcastable[0]]
    else:
        parents = []
    for p in parents:
        found += _same_rows(p, depth - 1)
    return found


def _picked_rows(node):
    """(table, y) when ``node`` computes table[i, y[i]] for every row i, else None."""
    op = node.op
    if isinstance(op, nn.PickClass):
        return node.inputs[0], node.inputs[1]
    if isinstance(op, AdvancedSubtensor) and op.idx_list == (SYMBOLIC, SYMBOLIC):
        table, r, y = node.inputs
        if table.ndim == 2 and y.ndim == 1 and y.dtype in ts.int_dtypes + ts.uint_dtypes:
            if _is_row_range(r, y, _same_rows(table)):
                return table, y
    return None


def _is_pick_of(var, sm, y):
    node = var.owner
    if node is None:
        return False
    picked = _picked_rows(node)
    return picked is not None and picked[0] is sm and picked[1] is y


def _scattered_rows(g, sm):
    """(v, y) when g (shaped like sm) is zero except g[i, y[i]] = v[i], else None."""
    node = g.owner
    if node is None:
        return None
    op = node.op
    if isinstance(op, nn.PickClassGrad):
        return node.inputs[0], node.inputs[1]
    if isinstance(op, AdvancedIncSubtensor) and op.idx_list == (SYMBOLIC, SYMBOLIC):
        base, v, r, y = node.inputs
        if not nn._is_zero(base) or y.ndim != 1 or y.dtype not in ts.int_dtypes + ts.uint_dtypes:
            return None
        if _is_row_range(r, y, _same_rows(base) + _same_rows(sm)):
            return v, y
    return None


def _divided_by(dy, is_divisor):
    """G with dy == G / s elementwise for an ``s`` that ``is_divisor(s)``, else None.

    Recognises G / s, G * (1 / s), G * s ** -1 and -(...) of these, inside n-ary products.
    """
    node = _ew(dy, ts.Neg)
    if node is not None:
        inner = _divided_by(node.inputs[0], is_divisor)
        return None if inner is None else tm.neg(inner)
    node = _ew(dy, ts.TrueDiv)
    if node is not None and is_divisor(node.inputs[1]):
        g = node.inputs[0]
        return g if g.broadcastable == dy.broadcastable else tb.fill(dy, g)
    node = _ew(dy, ts.Mul)
    if node is None:
        return None
    factors = list(node.inputs)
    for k, f in enumerate(factors):
        rest = factors[:k] + factors[k + 1:]
        d = _ew(f, ts.TrueDiv)
        if d is not None and is_divisor(d.inputs[1]):
            num = d.inputs[0]
            if _const_value(num) != 1:
                rest.append(num)
        else:
            p = _ew(f, ts.Pow)
            if p is None or not is_divisor(p.inputs[0]) or _const_value(p.inputs[1]) != -1:
                continue
        if not rest:
            return tb.ones_like(dy)
        g = rest[0] if len(rest) == 1 else tm.mul(*rest)
        if g.broadcastable != dy.broadcastable:
            g = tb.fill(dy, g)  # the removed 1/s gave the product its shape
        return g
    return None


def _row_scaled(g):
    """(v, t) with g == v[..., None] * t (v per row, or a scalar; t broadcast to g), else None."""
    per_row, rest = [], []
    scale = _collect_factors(g, g.ndim, per_row, rest)
    if not per_row or not rest:
        return None
    t = rest[0] if len(rest) == 1 else tm.mul(*rest)
    if t.ndim != g.ndim or t.dtype not in ts.float_dtypes:
        return None
    v = per_row[0] if len(per_row) == 1 else tm.mul(*per_row)
    if scale != 1:
        v = tm.mul(tb.constant(np.asarray(scale, dtype=v.dtype)), v)
    return v, t


def _collect_factors(f, ndim, per_row, rest):
    """Split the product ``f`` into per-row factors v ([..., None]-broadcast), other factors, and a returned
    constant scale; looks through neg, nested mul and allocs to g's full shape."""
    if _ew(f, ts.Neg) is not None:
        return -_collect_factors(f.owner.inputs[0], ndim, per_row, rest)
    if _ew(f, ts.Mul) is not None:
        scale = 1
        for i in f.owner.inputs:
            scale = scale * _collect_factors(i, ndim, per_row, rest)
        return scale
    c = _const_value(f)
    if c is not None and all(f.broadcastable):
        return c
    node = f.owner
    if node is not None and isinstance(node.op, tb.Alloc) and f.ndim == ndim and node.inputs[0].ndim == ndim:
        return _collect_factors(node.inputs[0], ndim, per_row, rest)
    if (node is not None and isinstance(node.op, DimShuffle) and f.ndim == ndim
            and node.op.new_order == tuple(range(ndim - 1)) + ("x",)):
        per_row.append(node.inputs[0])
    else:
        rest.append(f)
    return 1


def _softmaxes_of(fgraph, x, b, z, label):
    """Softmax outputs of the logits x + b (=z) in the graph that the fused op's softmax may replace.

    A softmax that ``label`` depends on is left alone (replacing it would make a cycle).
    """
    logits = [z]
    found = []
    if b is not None:
        for client, _ in fgraph.clients.get(x, ()):
            if not hasattr(client, "op"):
                continue
            if isinstance(client.op, nn.SoftmaxWithBias) and client.inputs[1] is b:
                found.append(client.outputs[0])
            elif client.outputs[0] is not z and _split_bias(client.outputs[0]) == (x, b):
                logits.append(client.outputs[0])  # another x + b node (not merged yet)
    for v in logits:
        for client, _ in fgraph.clients.get(v, ()):
            if hasattr(client, "op") and isinstance(client.op, nn.Softmax):
                found.append(client.outputs[0])
    if found:
        above = set(ancestors([label]))
        found = [s for s in found if s not in above]
    return found


def _with_softmaxes(out, new, sm, softmaxes):
    """The replacement dict {out: new, each softmax: sm} keeping every replaced type, or None."""
    new = _retype(new, out)
    if new is None:
        return None
    repl = {out: new}
    for s in softmaxes:
        fixed = _retype(sm, s)
        if fixed is not None:
            repl[s] = fixed
    return repl


def _retype(new, old):
    if new.dtype != old.dtype:
        new = tb.cast(new, old.dtype)
    return same_type_or_none(new, old)


def _full(v, like):
    """``v`` with ``like``'s shape where it is broadcast (sums over the class axis need every entry)."""
    return v if v.broadcastable == like.broadcastable else tb.fill(like, v)


def _sum_terms(terms):
    return terms[0] if len(terms) == 1 else tm.add(*terms)


# ------------------------------------------------------------------ forward rewrites

@register("stabilize", *TAGS)
@node_rewriter([log_op])
def local_log_softmax(fgraph, node):
    """log(softmax(z)) -> log_softmax(z); log(softmax(z)[idx]) -> log_softmax(z)[idx]."""
    p = node.inputs[0]
    indexer = None
    if p.owner is not None and isinstance(p.owner.op, _INDEXERS):
        indexer, p = p.owner, p.owner.inputs[0]
    parts = _logits(p)
    if parts is None:
        return None
    z = p.owner.inputs[0] if isinstance(p.owner.op, nn.Softmax) else _join(*parts)
    new = nn.logsoftmax(z)
    if indexer is not None:
        new = indexer.op(new, *indexer.inputs[1:])
    new = _retype(new, node.outputs[0])
    return None if new is None else [new]


@register("stabilize", *TAGS)
@node_rewriter([nn.PickClass, AdvancedSubtensor])
def local_crossentropy_softmax_1hot(fgraph, node):
    """log_softmax(x + b)[i, y[i]] per row -> -nll of CrossentropySoftmaxArgmax1HotWithBias(x, b, y)."""
    picked = _picked_rows(node)
    if picked is None:
        return None
    logsm, y = picked
    if logsm.owner is None or not isinstance(logsm.owner.op, nn.LogSoftmax):
        return None
    z = logsm.owner.inputs[0]
    x, b = _split_bias(z)
    nll, sm, _ = nn.crossentropy_softmax_argmax_1hot_with_bias(
        x, tb.constant(0, dtype=x.dtype) if b is None else b, y)
    return _with_softmaxes(node.outputs[0], tm.neg(nll), sm, _softmaxes_of(fgraph, x, b, z, y))


@register("stabilize", *TAGS)
@node_rewriter([CAReduce])
def local_crossentropy_softmax_dense(fgraph, node):
    """sum(t * log_softmax(z), last axis) -> -nll of CrossentropySoftmaxDense(z, t)."""
    prod = node.inputs[0]
    if not isinstance(node.op.scalar_op, ts.Add) or node.op.axis != (prod.ndim - 1,):
        return None
    mul = _ew(prod, ts.Mul)
    if mul is None:
        return None
    logs = [k for k, f in enumerate(mul.inputs) if f.owner is not None and isinstance(f.owner.op, nn.LogSoftmax)]
    if len(logs) != 1:
        return None
    logsm = mul.inputs[logs[0]]
    rest = [f for k, f in enumerate(mul.inputs) if k != logs[0]]
    t = rest[0] if len(rest) == 1 else tm.mul(*rest)
    if t.ndim != prod.ndim or t.dtype not in ts.float_dtypes:
        return None
    if any(lb and not tb_ for lb, tb_ in zip(logsm.broadcastable, t.broadcastable)):
        return None  # t would broadcast the log-softmax rows: not one distribution per row
    z = logsm.owner.inputs[0]
    nll, sm = nn.crossentropy_softmax_dense(z, t)
    x, b = _split_bias(z)
    return _with_softmaxes(node.outputs[0], tm.neg(nll), sm, _softmaxes_of(fgraph, x, b, z, t))


@register("stabilize", *TAGS)
@node_rewriter([neg_op])
def local_neg_neg_crossentropy(fgraph, node):
    """-(-nll) -> nll for the fused ops' losses (the forward rewrites return -nll for a picked log-prob)."""
    inner = _ew(node.inputs[0], ts.Neg)
    if inner is None:
        return None
    v = inner.inputs[0]
    if v.owner is None or not isinstance(v.owner.op, (nn.CrossentropySoftmaxArgmax1HotWithBias,
                                                       nn.CrossentropySoftmaxDense)):
        return None
    new = same_type_or_none(v, node.outputs[0])
    return None if new is None else [new]


# ------------------------------------------------------------------ gradient rewrites

@register("stabilize", *TAGS)
@node_rewriter([nn.SoftmaxGrad])
def local_softmax_grad_of_log(fgraph, node):
    """softmax_grad(G / sm, sm) -> G - sm * sum(G), as the fused Dx op when G is one-hot or row-scaled.

    Also softmax_grad(scatter(u / sm[i, y[i]]), sm) -> the 1-hot Dx op (the log applied after picking).
    """
    dy, sm = node.inputs
    g = _divided_by(dy, lambda s: s is sm)
    if g is None and _ew(dy, ts.Add) is not None:
        # softmax_grad is linear in dy: split off the terms divided by sm
        parts = [(t, _divided_by(t, lambda s: s is sm)) for t in dy.owner.inputs]
        divided = [_full(q, dy) for _, q in parts if q is not None]
        others = [_full(t, dy) for t, q in parts if q is None]
        if not divided or not others:
            return None
        g = _sum_terms(divided)
        new = g - sm * tm.sum(g, axis=-1, keepdims=True) + nn.softmax_grad(_sum_terms(others), sm)
    elif g is None:
        scattered = _scattered_rows(dy, sm)
        if scattered is None:
            return None
        w, y = scattered
        u = _divided_by(w, lambda s: _is_pick_of(s, sm, y))
        if u is None:
            return None
        new = nn.crossentropy_softmax_1hot_with_bias_dx(tm.neg(u), sm, y)
    else:
        scattered = _scattered_rows(g, sm)
        dense = None if scattered is not None else _row_scaled(g)
        if scattered is not None:
            new = nn.crossentropy_softmax_1hot_with_bias_dx(tm.neg(scattered[0]), sm, scattered[1])
        elif dense is not None:
            new = nn.crossentropy_softmax_dense_dx(tm.neg(dense[0]), sm, dense[1])
        else:
            new = g - sm * tm.sum(g, axis=-1, keepdims=True)
    new = _retype(new, node.outputs[0])
    return None if new is None else [new]


# ------------------------------------------------------------------ cheaper forms

@register("specialize", "fast_run")
@node_rewriter([nn.Softmax])
def local_softmax_with_bias(fgraph, node):
    """softmax(x + b) with b a vector over the classes -> softmax_with_bias(x, b) (no x + b temporary)."""
    x, b = _split_bias(node.inputs[0])
    if b is None:
        return None
    new = _retype(nn.softmax_with_bias(x, b), node.outputs[0])
    return None if new is None else [new]
