"""Rewrites every graph needs: constant folding, shapes without computation, no-op removal."""

import numpy as np

import symtensor.tensor.basic as tb
from symtensor import scalar as ts
from symtensor.graph.basic import Constant
from symtensor.graph.rewriting.basic import node_rewriter
from symtensor.tensor.elemwise import DimShuffle, Elemwise
from symtensor.tensor.rewriting.pipeline import register
from symtensor.tensor.shape import Reshape, Shape, Shape_i, SpecifyShape
from symtensor.tensor.subtensor import Subtensor
from symtensor.tensor.type import TensorType

#: constants larger than this are not created by folding (they would bloat the graph)
MAX_FOLDED_SIZE = 1 << 20


def same_type_or_none(new, old):
    """``new`` usable in place of ``old`` (same dtype and rank), adjusted to old's broadcast flags."""
    if new.type == old.type:
        return new
    if not isinstance(new.type, TensorType) or new.dtype != old.dtype or new.ndim != old.ndim:
        return None
    if old.type.is_super(new.type):
        return new
    fixed = tb.patternbroadcast(new, old.broadcastable)
    if fixed.type == old.type or old.type.is_super(fixed.type):
        return fixed
    return None


@register("canonicalize", "fast_run", "fast_compile")
@node_rewriter(None)
def constant_folding(fgraph, node):
    """An op whose inputs are all constants is computed now."""
    if not node.inputs or not all(isinstance(i, Constant) for i in node.inputs):
        return None
    if not node.op.do_constant_folding(fgraph, node):
        return None
    if not all(isinstance(o.type, (TensorType, ts.ScalarType)) for o in node.outputs):
        return None
    storage = [[None] for _ in node.outputs]
    try:
        node.op.perform(node, [i.data for i in node.inputs], storage)
    except Exception:  # noqa: BLE001 - a failing constant expression is left for run time to report
        return None
    out = []
    for var, (value,) in zip(node.outputs, storage):
        value = np.array(value, dtype=var.type.dtype, copy=True)
        if value.size > MAX_FOLDED_SIZE:
            return None
        const = var.type.make_constant(value)
        out.append(const)
    return out


@register("canonicalize", "fast_run", "fast_compile")
@node_rewriter([Shape])
def shape_to_lengths(fgraph, node):
    """shape(x) -> make_vector(shape_i(x, 0), ...) so each length can be answered separately."""
    x = node.inputs[0]
    if x.ndim == 0:
        return [tb.constant(np.zeros(0, dtype="int64"))]
    return [tb.make_vector(*[Shape_i(k)(x) for k in range(x.ndim)])]


@register("canonicalize", "fast_run", "fast_compile")
@node_rewriter([Shape_i])
def shape_from_infer_shape(fgraph, node):
    """shape_i(f(a, b), k) -> a length computed from a's and b's shapes, without computing f."""
    x = node.inputs[0]
    k = node.op.i
    if x.type.shape[k] is not None:
        return [tb.constant(x.type.shape[k], dtype="int64")]
    if isinstance(x, Constant):
        return [tb.constant(np.shape(x.data)[k], dtype="int64")]
    owner = x.owner
    if owner is None:
        return None
    in_shapes = [tuple(Shape_i(j)(i) for j in range(i.ndim)) if isinstance(i.type, TensorType) else None
                 for i in owner.inputs]
    try:
        out_shapes = owner.op.infer_shape(fgraph, owner, in_shapes)
    except NotImplementedError:
        return None
    length = out_shapes[x.index][k]
    length = tb.cast(tb.as_tensor_variable(length), "int64")
    if length.ndim != 0:
        return None
    return [length]


def _is_constant_value(var, value):
    if not isinstance(var, Constant):
        return False
    data = np.asarray(var.data)
    return data.size > 0 and bool(np.all(data == value))


@register("canonicalize", "fast_run", "fast_compile")
@node_rewriter([Elemwise])
def remove_useless_elemwise(fgraph, node):
    """x + 0, x * 1, x - 0, x / 1, x ** 1, --x, identity casts and copies -> x."""
    op = node.op.scalar_op
    out = node.outputs[0]
    ins = node.inputs
    candidate = None
    if isinstance(op, ts.Add) or isinstance(op, ts.Mul):
        neutral = 0 if isinstance(op, ts.Add) else 1
        rest = [i for i in ins if not _is_constant_value(i, neutral)]
        if len(rest) == len(ins):
            return None
        if len(rest) == 1:
            candidate = rest[0]
        elif not rest:
            candidate = tb.fill(ins[0], tb.constant(neutral, dtype=out.dtype))
            for other in ins[1:]:
                candidate = tb.fill(other, candidate)
        else:
            candidate = Elemwise(op)(*rest)
    elif isinstance(op, (ts.Sub, ts.TrueDiv, ts.Pow)) and _is_constant_value(ins[1], 0 if isinstance(op, ts.Sub) else 1):
        candidate = ins[0]
    elif isinstance(op, ts.Neg) and ins[0].owner is not None and isinstance(ins[0].owner.op, Elemwise) \
            and isinstance(ins[0].owner.op.scalar_op, ts.Neg):
        candidate = ins[0].owner.inputs[0]
    elif isinstance(op, ts.Cast) and ins[0].dtype == op.dtype:
        candidate = ins[0]
    elif isinstance(op, ts.Identity):
        candidate = ins[0]
    if candidate is None:
        return None
    if candidate.dtype != out.dtype:
        candidate = tb.cast(candidate, out.dtype)
    if candidate.ndim != out.ndim or candidate.broadcastable != out.broadcastable:
        # the removed operand also broadcast the result: keep that with a cheap fill
        if candidate.ndim < out.ndim or any(c and not o for c, o in zip(candidate.broadcastable, out.broadcastable)):
            for other in ins:
                if other is not candidate:
                    candidate = tb.fill(other, candidate)
            if candidate.ndim != out.ndim:
                return None
    fixed = same_type_or_none(candidate, out)
    return None if fixed is None else [fixed]


@register("canonicalize", "fast_run", "fast_compile")
@node_rewriter([DimShuffle])
def merge_dimshuffles(fgraph, node):
    """Identity dimshuffles vanish; a dimshuffle of a dimshuffle becomes one."""
    op = node.op
    x = node.inputs[0]
    if op.new_order == tuple(range(x.ndim)):
        return [x]
    inner = x.owner
    if inner is not None and isinstance(inner.op, DimShuffle):
        order = tuple("x" if o == "x" else inner.op.new_order[o] for o in op.new_order)
        base = inner.inputs[0]
        if order == tuple(range(base.ndim)):
            return [same_type_or_none(base, node.outputs[0])]
        return [DimShuffle(base.broadcastable, order)(base)]
    return None


@register("canonicalize", "fast_run", "fast_compile")
@node_rewriter([Reshape])
def remove_useless_reshape(fgraph, node):
    """reshape(x, shape(x)) and reshape(reshape(x, a), b) -> x / reshape(x, b)."""
    x, shp = node.inputs
    if x.owner is not None and isinstance(x.owner.op, Reshape):
        return [Reshape(node.op.ndim)(x.owner.inputs[0], shp)]
    if node.op.ndim != x.ndim:
        return None
    if shp.owner is not None and shp.owner.op.__class__.__name__ == "MakeVector":
        same = True
        for k, length in enumerate(shp.owner.inputs):
            if length.owner is not None and isinstance(length.owner.op, Shape_i) and length.owner.op.i == k \
                    and length.owner.inputs[0] is x:
                continue
            if x.type.shape[k] is not None and _is_constant_value(length, x.type.shape[k]):
                continue
            same = False
            break
        if same:
            fixed = same_type_or_none(x, node.outputs[0])
            return None if fixed is None else [fixed]
    return None


@register("canonicalize", "fast_run", "fast_compile")
@node_rewriter([tb.Rebroadcast, SpecifyShape])
def remove_useless_rebroadcast(fgraph, node):
    """A rebroadcast or specify_shape that changes nothing."""
    x = node.inputs[0]
    if x.type == node.outputs[0].type and isinstance(node.op, tb.Rebroadcast):
        return [x]
    if isinstance(node.op, tb.Rebroadcast) and x.owner is not None and isinstance(x.owner.op, tb.Rebroadcast):
        return [node.op(x.owner.inputs[0])] if node.op(x.owner.inputs[0]).type == node.outputs[0].type else None
    return None


@register("canonicalize", "fast_run", "fast_compile")
@node_rewriter([Subtensor])
def subtensor_of_make_vector(fgraph, node):
    """make_vector(a, b, c)[1] -> b (so shape arithmetic folds)."""
    x = node.inputs[0]
    if x.owner is None or not isinstance(x.owner.op, tb.MakeVector) or len(node.op.idx_list) != 1:
        return None
    entry = node.op.idx_list[0]
    items = x.owner.inputs
    if isinstance(entry, int):
        item = items[entry]
        return [tb.cast(item, node.outputs[0].dtype)]
    if isinstance(entry, tuple) and "?" not in entry[1:]:
        chosen = items[slice(*entry[1:])]
        if not chosen:
            return None
        new = tb.MakeVector(x.owner.op.dtype)(*chosen)
        return [same_type_or_none(new, node.outputs[0])]
    return None


def _shape_of(dims, var):
    """Whether ``dims`` are exactly Shape_i(var, 0), Shape_i(var, 1), ..."""
    return len(dims) == var.ndim and all(
        d.owner is not None and isinstance(d.owner.op, Shape_i) and d.owner.op.i == axis and d.owner.inputs[0] is var
        for axis, d in enumerate(dims))


@register("specialize", "fast_run")
@node_rewriter([tb.Alloc])
def alloc_of_shape_to_fill(fgraph, node):
    """alloc(c, *shape of w) -> fill(w, c) for a broadcastable fill value c: an elementwise op that fusion
    folds into its consumer, so the array is never written (the gradient of a sum allocates its ones so)."""
    value, dims = node.inputs[0], node.inputs[1:]
    if not dims or not all(value.broadcastable) or dims[0].owner is None or not isinstance(dims[0].owner.op, Shape_i):
        return None
    like = dims[0].owner.inputs[0]
    if not _shape_of(dims, like):
        return None
    out = node.outputs[0]
    if value.ndim < out.ndim:
        value = value.dimshuffle(["x"] * (out.ndim - value.ndim) + list(range(value.ndim)))
    filled = tb.fill(like, value)
    if filled.dtype != out.dtype:
        filled = tb.cast(filled, out.dtype)
    new = same_type_or_none(filled, out)
    return None if new is None else [new]
