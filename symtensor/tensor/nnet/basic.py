"""Neural-network ops: softmax and log-softmax, activations and cross-entropies (Theano's ``T.nnet``).

Softmax and LogSoftmax are ops of their own so that they are computed stably
(shifted by the row max) and differentiate without forming ``exp`` of large
values. Cross-entropies against class indices gather one entry per row with
PickClass, whose gradient scatters back into that entry only: no division of
the other (possibly zero) probabilities ever happens.
"""

import numbers

import numpy as np

import symtensor.tensor.basic as _basic
import symtensor.tensor.elemwise as _elemwise
import symtensor.tensor.math as _math
from symtensor import scalar as ts
from symtensor.config import config
from symtensor.graph.basic import Apply, Constant
from symtensor.graph.op import Op
from symtensor.tensor.type import TensorType

sigmoid = _math.sigmoid
softplus = _math.softplus


def _float_input(opname, x, argname="x"):
    """``x`` as a tensor of at least one dimension and a float dtype, or a TypeError."""
    x = _basic.as_tensor_variable(x)
    if x.dtype not in ts.float_dtypes:
        raise TypeError(f"{opname}: {argname} must be a float tensor, got {x} of dtype {x.dtype}")
    if x.ndim < 1:
        raise TypeError(f"{opname}: {argname} must have at least 1 dimension (the classes are on the last "
                        f"axis), got a 0-d {x}")
    return x


def _sum_last(x):
    return _math.sum(x, axis=-1, keepdims=True)


def _shifted(x):
    """``x`` minus its max along the last axis (rows that are all -inf are left unshifted)."""
    m = np.max(x, axis=-1, keepdims=True, initial=-np.inf)
    m = np.where(np.isfinite(m), m, 0)
    return x - m


def _np_softmax(x):
    with np.errstate(invalid="ignore", divide="ignore"):
        e = np.exp(_shifted(x))
        return e / e.sum(axis=-1, keepdims=True)


def _np_logsoftmax(x):
    with np.errstate(invalid="ignore", divide="ignore"):
        z = _shifted(x)
        return z - np.log(np.sum(np.exp(z), axis=-1, keepdims=True))


# ------------------------------------------------------------------ softmax

class Softmax(Op):
    """exp(x) / sum(exp(x)) along the last axis, computed after subtracting the row max."""

    def make_node(self, x):
        x = _float_input("Softmax", x)
        return Apply(self, [x], [TensorType(x.dtype, shape=x.type.shape)()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = np.asarray(_np_softmax(inputs[0]), dtype=node.outputs[0].dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        return [input_shapes[0]]

    def L_op(self, inputs, outputs, output_grads):
        return [softmax_grad(output_grads[0], outputs[0])]

    def R_op(self, inputs, eval_points):
        if eval_points[0] is None:
            return [None]
        return [softmax_grad(eval_points[0], self(inputs[0]))]


class SoftmaxGrad(Op):
    """Vector-Jacobian product of softmax: ``sm * (dy - sum(dy * sm, last axis))``."""

    def make_node(self, dy, sm):
        dy = _float_input("SoftmaxGrad", dy, "dy")
        sm = _float_input("SoftmaxGrad", sm, "sm")
        if dy.ndim != sm.ndim:
            raise TypeError(f"SoftmaxGrad: dy and sm must have the same rank, got {dy.ndim} and {sm.ndim}")
        shape = tuple(a if a is not None else b for a, b in zip(dy.type.shape, sm.type.shape))
        return Apply(self, [dy, sm], [TensorType(ts.upcast(dy.dtype, sm.dtype), shape=shape)()])

    def perform(self, node, inputs, output_storage):
        dy, sm = inputs
        if dy.shape != sm.shape:
            raise ValueError(f"SoftmaxGrad: dy of shape {dy.shape} and sm of shape {sm.shape} must match")
        dx = sm * (dy - np.sum(dy * sm, axis=-1, keepdims=True))
        output_storage[0][0] = np.asarray(dx, dtype=node.outputs[0].dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        return [input_shapes[1]]

    def L_op(self, inputs, outputs, output_grads):
        dy, sm = inputs
        (g,) = output_grads
        a = _sum_last(g * sm)
        g_dy = softmax_grad(g, sm)
        g_sm = g * (dy - _sum_last(dy * sm)) - a * dy
        return [g_dy, g_sm]


class LogSoftmax(Op):
    """x - max - log(sum(exp(x - max))) along the last axis: finite wherever x is."""

    def make_node(self, x):
        x = _float_input("LogSoftmax", x)
        return Apply(self, [x], [TensorType(x.dtype, shape=x.type.shape)()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = np.asarray(_np_logsoftmax(inputs[0]), dtype=node.outputs[0].dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        return [input_shapes[0]]

    def L_op(self, inputs, outputs, output_grads):
        (g,) = output_grads
        return [g - _math.exp(outputs[0]) * _sum_last(g)]

    def R_op(self, inputs, eval_points):
        if eval_points[0] is None:
            return [None]
        ev = eval_points[0]
        return [ev - _sum_last(_math.exp(self(inputs[0])) * ev)]


class SoftmaxWithBias(Op):
    """softmax(x + b) with ``b`` a vector over the classes (the last axis), added inside the op."""

    def make_node(self, x, b):
        x = _float_input("SoftmaxWithBias", x)
        b = _bias_input("SoftmaxWithBias", b, x, allow_scalar=False)
        shape = x.type.shape[:-1] + _merge_static(x.type.shape[-1:], b.type.shape)
        return Apply(self, [x, b], [TensorType(ts.upcast(x.dtype, b.dtype), shape=shape)()])

    def perform(self, node, inputs, output_storage):
        x, b = inputs
        _check_bias("SoftmaxWithBias", x, b)
        output_storage[0][0] = np.asarray(_np_softmax(x + b), dtype=node.outputs[0].dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        return [input_shapes[0]]

    def L_op(self, inputs, outputs, output_grads):
        x, b = inputs
        dz = softmax_grad(output_grads[0], outputs[0])
        return [dz, _sum_to(dz, b)]


def _bias_input(opname, b, x, allow_scalar=True):
    """``b`` as a float vector over x's classes (or a 0-d scalar when allowed)."""
    b = _basic.as_tensor_variable(b)
    if b.dtype not in ts.float_dtypes:
        raise TypeError(f"{opname}: b must be a float tensor, got {b} of dtype {b.dtype}")
    if b.ndim > 1 or (b.ndim == 0 and not allow_scalar):
        want = "a scalar or a vector" if allow_scalar else "a vector"
        raise TypeError(f"{opname}: b must be {want} over the classes, got a {b.ndim}-d {b}")
    if b.ndim == 1 and None not in (b.type.shape[0], x.type.shape[-1]) and b.type.shape[0] != x.type.shape[-1]:
        raise ValueError(f"{opname}: b has {b.type.shape[0]} entries but x has {x.type.shape[-1]} classes")
    return b


def _check_bias(opname, x, b):
    if b.ndim == 1 and b.shape[0] != x.shape[-1]:
        raise ValueError(f"{opname}: b of shape {b.shape} must have one entry per class of x (shape {x.shape})")


def _sum_to(g, var):
    """Sum a gradient over the axes where ``var`` was broadcast, giving var's shape and dtype."""
    extra = g.ndim - var.ndim
    if extra:
        g = _math.sum(g, axis=list(range(extra)))
    axes = [i for i, b in enumerate(var.broadcastable) if b and not g.broadcastable[i]]
    if axes:
        g = _math.sum(g, axis=axes, keepdims=True)
    return _basic.patternbroadcast(_basic.cast(g, var.dtype), var.broadcastable)


softmax_op = Softmax()
softmax_grad = SoftmaxGrad()
logsoftmax_op = LogSoftmax()
softmax_with_bias_op = SoftmaxWithBias()


def softmax(c):
    """Softmax over the last axis of ``c`` (a matrix in Theano; any rank >= 1 here, shape kept)."""
    return softmax_op(c)


def logsoftmax(c):
    """log(softmax(c)) over the last axis, computed stably."""
    return logsoftmax_op(c)


log_softmax = logsoftmax


def softmax_with_bias(x, b):
    """softmax(x + b) with ``b`` a vector broadcast over the rows of ``x``."""
    return softmax_with_bias_op(x, b)


def softmax_graph(c):
    """Softmax written with elementwise ops and reductions (max-shifted)."""
    c = _float_input("softmax_graph", c)
    e = _math.exp(c - _math.max(c, axis=-1, keepdims=True))
    return e / _sum_last(e)


# ------------------------------------------------------------------ picking one class per row

def _merge_static(a, b):
    return tuple(x if x is not None else y for x, y in zip(a, b))


def _check_indices(opname, idx, k):
    if idx.size and (idx.min() < 0 or idx.max() >= k):
        bad = idx[(idx < 0) | (idx >= k)].reshape(-1)[0]
        raise ValueError(f"{opname}: class index {bad} out of range [0, {k}) for {k} classes")


class PickClass(Op):
    """``x[..., idx]`` with one index per row: out[i] = x[i, idx[i]] (idx has x's leading shape)."""

    def make_node(self, x, idx):
        x, idx = _basic.as_tensor_variable(x), _basic.as_tensor_variable(idx)
        if x.ndim < 1:
            raise TypeError(f"PickClass: x must have at least 1 dimension, got a 0-d {x}")
        if idx.dtype not in ts.int_dtypes + ts.uint_dtypes:
            raise TypeError(f"PickClass: idx must be an integer tensor of class indices, got dtype {idx.dtype}")
        if idx.ndim != x.ndim - 1:
            raise TypeError(f"PickClass: idx must have {x.ndim - 1} dimensions for a {x.ndim}-d x, "
                            f"got {idx.ndim}")
        lead = x.type.shape[:-1]
        for a, b in zip(lead, idx.type.shape):
            if a is not None and b is not None and a != b:
                raise ValueError(f"PickClass: idx of static shape {idx.type.shape} does not match the "
                                 f"leading shape {lead} of x")
        return Apply(self, [x, idx], [TensorType(x.dtype, shape=_merge_static(lead, idx.type.shape))()])

    def perform(self, node, inputs, output_storage):
        x, idx = inputs
        if idx.shape != x.shape[:-1]:
            raise ValueError(f"PickClass: idx of shape {idx.shape} must equal the leading shape "
                             f"{x.shape[:-1]} of x (shape {x.shape})")
        _check_indices("PickClass", idx, x.shape[-1])
        out = np.take_along_axis(x, idx[..., None].astype("int64"), axis=-1)[..., 0]
        output_storage[0][0] = np.array(out, dtype=node.outputs[0].dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        return [tuple(input_shapes[0][:-1])]

    def L_op(self, inputs, outputs, output_grads):
        x, idx = inputs
        gx = pick_class_grad(output_grads[0], idx, x.shape[-1])
        if x.dtype not in ts.float_dtypes:
            gx = _basic.zeros_like(x, dtype=config.floatX)
        return [gx, _basic.zeros_like(idx, dtype=config.floatX)]

    def R_op(self, inputs, eval_points):
        if eval_points[0] is None:
            return [None]
        return [self(eval_points[0], inputs[1])]

    def connection_pattern(self, node):
        return [[True], [False]]


class PickClassGrad(Op):
    """The adjoint of PickClass: zeros of shape ``v.shape + (k,)`` with out[i, idx[i]] = v[i]."""

    def make_node(self, v, idx, k):
        v, idx, k = (_basic.as_tensor_variable(a) for a in (v, idx, k))
        if idx.dtype not in ts.int_dtypes + ts.uint_dtypes or idx.ndim != v.ndim:
            raise TypeError(f"PickClassGrad: idx must be an integer tensor of v's rank {v.ndim}, got {idx.ndim}-d "
                            f"{idx.dtype}")
        if k.ndim != 0 or k.dtype not in ts.int_dtypes + ts.uint_dtypes:
            raise TypeError(f"PickClassGrad: k (the number of classes) must be an integer scalar, got {k.type}")
        try:
            k_static = int(_basic.get_scalar_constant_value(k))
        except (_basic.NotScalarConstantError, TypeError, ValueError):
            k_static = None
        shape = _merge_static(v.type.shape, idx.type.shape) + (k_static,)
        return Apply(self, [v, idx, k], [TensorType(v.dtype, shape=shape)()])

    def perform(self, node, inputs, output_storage):
        v, idx, k = inputs
        if idx.shape != v.shape:
            raise ValueError(f"PickClassGrad: idx of shape {idx.shape} must match v of shape {v.shape}")
        k = int(k)
        _check_indices("PickClassGrad", idx, k)
        out = np.zeros(v.shape + (k,), dtype=node.outputs[0].dtype)
        np.put_along_axis(out, idx[..., None].astype("int64"), v[..., None], axis=-1)
        output_storage[0][0] = out

    def infer_shape(self, fgraph, node, input_shapes):
        return [tuple(input_shapes[0]) + (node.inputs[2],)]

    def L_op(self, inputs, outputs, output_grads):
        v, idx, k = inputs
        gv = pick_class(output_grads[0], idx)
        if v.dtype not in ts.float_dtypes:
            gv = _basic.zeros_like(v, dtype=config.floatX)
        return [gv, _basic.zeros_like(idx, dtype=config.floatX), _basic.zeros_like(k, dtype=config.floatX)]

    def connection_pattern(self, node):
        return [[True], [False], [False]]


pick_class = PickClass()
pick_class_grad = PickClassGrad()


# ------------------------------------------------------------------ cross-entropies

def crossentropy_categorical_1hot(coding_dist, true_one_of_n):
    """-log(coding_dist[i, true_one_of_n[i]]) for each row i."""
    coding_dist = _float_input("crossentropy_categorical_1hot", coding_dist, "coding_dist")
    return _math.neg(_math.log(pick_class(coding_dist, true_one_of_n)))


def categorical_crossentropy(coding_dist, true_dist):
    """Cross-entropy per row: ``true_dist`` is a distribution with coding_dist's shape, or class indices."""
    coding_dist = _float_input("categorical_crossentropy", coding_dist, "coding_dist")
    true_dist = _basic.as_tensor_variable(true_dist)
    if true_dist.ndim == coding_dist.ndim:
        return _math.neg(_math.sum(true_dist * _math.log(coding_dist), axis=-1))
    if true_dist.ndim == coding_dist.ndim - 1:
        if true_dist.dtype not in ts.int_dtypes + ts.uint_dtypes:
            raise TypeError(f"categorical_crossentropy: true_dist with one dimension less than coding_dist must "
                            f"hold integer class indices, got dtype {true_dist.dtype}")
        return crossentropy_categorical_1hot(coding_dist, true_dist)
    raise TypeError(f"categorical_crossentropy: rank mismatch between coding_dist ({coding_dist.ndim}-d) and "
                    f"true_dist ({true_dist.ndim}-d); true_dist must have the same rank (a distribution) "
                    "or one less (class indices)")


def binary_crossentropy(output, target):
    """-(target * log(output) + (1 - target) * log(1 - output)), elementwise; output in (0, 1)."""
    output, target = _basic.as_tensor_variable(output), _basic.as_tensor_variable(target)
    return _math.neg(target * _math.log(output) + (1 - target) * _math.log1p(_math.neg(output)))


def sigmoid_binary_crossentropy(output, target):
    """binary_crossentropy(sigmoid(output), target) computed from the logits as softplus(output) - output*target."""
    output, target = _basic.as_tensor_variable(output), _basic.as_tensor_variable(target)
    return _math.softplus(output) - output * target


# ------------------------------------------------------------------ fused softmax + cross-entropy
#
# -log(softmax(x)[i, y[i]]) computed from a softmax overflows or underflows for large logits, and so does
# its gradient through 1 / softmax. The fused ops below take the logits: the loss comes from a max-shifted
# log-softmax and the gradient is softmax - target, never a division. The rewrites in
# symtensor/tensor/rewriting/nnet.py put them in place of the unfused user graphs.

def _is_zero(var):
    """``var`` is known to be all zeros (the gradient the grad machinery gives an unused output)."""
    if isinstance(var, Constant):
        data = np.asarray(var.data)
        return data.size > 0 and not np.any(data)
    node = var.owner
    if node is None:
        return False
    if isinstance(node.op, _elemwise.Elemwise) and isinstance(node.op.scalar_op, ts.Second):
        return _is_zero(node.inputs[1])
    if isinstance(node.op, (_basic.Alloc, _elemwise.DimShuffle, _basic.Rebroadcast)):
        return _is_zero(node.inputs[0])
    return False


def _last_axis(v):
    """``v[..., None]``: broadcast a per-row value against the classes."""
    return _basic.shape_padright(v, 1)


def _index_input(opname, y_idx, x):
    y_idx = _basic.as_tensor_variable(y_idx)
    if y_idx.dtype not in ts.int_dtypes + ts.uint_dtypes:
        raise TypeError(f"{opname}: y_idx must be an integer tensor of class indices, got dtype {y_idx.dtype}")
    if y_idx.ndim != x.ndim - 1:
        raise TypeError(f"{opname}: y_idx must have {x.ndim - 1} dimensions (one class per row of the "
                        f"{x.ndim}-d x), got {y_idx.ndim}")
    for a, c in zip(x.type.shape[:-1], y_idx.type.shape):
        if a is not None and c is not None and a != c:
            raise ValueError(f"{opname}: y_idx of static shape {y_idx.type.shape} does not match the rows "
                             f"{x.type.shape[:-1]} of x")
    return y_idx


def _check_rows(opname, x, y_idx, yname="y_idx"):
    if y_idx.shape != x.shape[:-1]:
        raise ValueError(f"{opname}: {yname} of shape {y_idx.shape} must have one entry per row of x "
                         f"(shape {x.shape})")


def _per_row_input(opname, dy, sm):
    dy = _basic.as_tensor_variable(dy)
    if dy.dtype not in ts.float_dtypes:
        raise TypeError(f"{opname}: dy must be a float tensor, got dtype {dy.dtype}")
    if dy.ndim > sm.ndim - 1:
        raise TypeError(f"{opname}: dy (the gradient of the per-row loss) must have at most {sm.ndim - 1} "
                        f"dimensions for a {sm.ndim}-d sm, got {dy.ndim}")
    return dy


def _broadcast_rows(opname, dy, sm):
    try:
        return np.broadcast_to(dy, sm.shape[:-1])
    except ValueError:
        raise ValueError(f"{opname}: dy of shape {dy.shape} does not broadcast to the rows {sm.shape[:-1]} "
                         f"of sm") from None


class CrossentropySoftmaxArgmax1HotWithBias(Op):
    """(nll, softmax(x + b), argmax(x + b)) per row with nll[i] = -log_softmax(x + b)[i, y_idx[i]].

    ``b`` is a vector over the classes or a 0-d scalar (0 for no bias). The gradient
    with respect to x is (softmax - onehot(y_idx)) * dnll: finite for any finite logits.
    """

    def make_node(self, x, b, y_idx):
        name = "CrossentropySoftmaxArgmax1HotWithBias"
        x = _float_input(name, x)
        b = _bias_input(name, b, x)
        y_idx = _index_input(name, y_idx, x)
        dtype = ts.upcast(x.dtype, b.dtype)
        rows = _merge_static(x.type.shape[:-1], y_idx.type.shape)
        shape = rows + (_merge_static(x.type.shape[-1:], b.type.shape)[0] if b.ndim else x.type.shape[-1],)
        return Apply(self, [x, b, y_idx], [TensorType(dtype, shape=rows)(), TensorType(dtype, shape=shape)(),
                                           TensorType("int64", shape=rows)()])

    def perform(self, node, inputs, output_storage):
        name = "CrossentropySoftmaxArgmax1HotWithBias"
        x, b, y_idx = inputs
        _check_bias(name, x, b)
        _check_rows(name, x, y_idx)
        _check_indices(name, y_idx, x.shape[-1])
        z = x + b
        logsm = _np_logsoftmax(z)
        nll = -np.take_along_axis(logsm, y_idx[..., None].astype("int64"), axis=-1)[..., 0]
        dtype = node.outputs[0].dtype
        output_storage[0][0] = np.array(nll, dtype=dtype)
        output_storage[1][0] = np.asarray(_np_softmax(z), dtype=dtype)
        output_storage[2][0] = np.array(np.argmax(z, axis=-1), dtype="int64")

    def infer_shape(self, fgraph, node, input_shapes):
        rows = tuple(input_shapes[0][:-1])
        return [rows, input_shapes[0], rows]

    def L_op(self, inputs, outputs, output_grads):
        x, b, y_idx = inputs
        g_nll, g_sm = output_grads[:2]
        sm = outputs[1]
        terms = []
        if not _is_zero(g_nll):
            terms.append(crossentropy_softmax_1hot_with_bias_dx(g_nll, sm, y_idx))
        if not _is_zero(g_sm):
            terms.append(softmax_grad(g_sm, sm))
        dz = _math.add(*terms) if len(terms) > 1 else terms[0] if terms else _basic.zeros_like(sm)
        return [dz, _sum_to(dz, b), _basic.zeros_like(y_idx, dtype=config.floatX)]

    def connection_pattern(self, node):
        return [[True, True, False], [True, True, False], [False, False, False]]


class CrossentropySoftmax1HotWithBiasDx(Op):
    """The gradient of the fused loss: dx = (sm - onehot(y_idx)) * dy[..., None]."""

    def make_node(self, dy, sm, y_idx):
        name = "CrossentropySoftmax1HotWithBiasDx"
        sm = _float_input(name, sm, "sm")
        dy = _per_row_input(name, dy, sm)
        y_idx = _index_input(name, y_idx, sm)
        return Apply(self, [dy, sm, y_idx], [TensorType(ts.upcast(dy.dtype, sm.dtype), shape=sm.type.shape)()])

    def perform(self, node, inputs, output_storage):
        name = "CrossentropySoftmax1HotWithBiasDx"
        dy, sm, y_idx = inputs
        _check_rows(name, sm, y_idx)
        _check_indices(name, y_idx, sm.shape[-1])
        dy = _broadcast_rows(name, dy, sm)[..., None]
        dx = np.array(sm * dy, dtype=node.outputs[0].dtype)
        idx = y_idx[..., None].astype("int64")
        np.put_along_axis(dx, idx, np.take_along_axis(dx, idx, axis=-1) - dy, axis=-1)
        output_storage[0][0] = dx

    def infer_shape(self, fgraph, node, input_shapes):
        return [input_shapes[1]]

    def L_op(self, inputs, outputs, output_grads):
        dy, sm, y_idx = inputs
        (g,) = output_grads
        g_dy = _math.sum(g * sm, axis=-1) - pick_class(g, y_idx)
        g_sm = g * _last_axis(dy)
        return [_sum_to(g_dy, dy), _sum_to(g_sm, sm), _basic.zeros_like(y_idx, dtype=config.floatX)]

    def connection_pattern(self, node):
        return [[True], [True], [False]]


class CrossentropySoftmaxDense(Op):
    """(nll, softmax(x)) per row with nll = -sum(t * log_softmax(x), last axis) for a target distribution t.

    ``t`` (e.g. one-hot rows) has x's rank and broadcasts against it. Terms with t == 0
    contribute 0 even where log_softmax is -inf. The gradient with respect to x is
    (softmax * sum(t) - t) * dnll.
    """

    def make_node(self, x, t):
        x = _float_input("CrossentropySoftmaxDense", x)
        t = _float_input("CrossentropySoftmaxDense", t, "t")
        if t.ndim != x.ndim:
            raise TypeError(f"CrossentropySoftmaxDense: t must have x's rank {x.ndim}, got {t.ndim}")
        dtype = ts.upcast(x.dtype, t.dtype)
        return Apply(self, [x, t], [TensorType(dtype, shape=x.type.shape[:-1])(),
                                    TensorType(dtype, shape=x.type.shape)()])

    def perform(self, node, inputs, output_storage):
        x, t = inputs
        try:
            t = np.broadcast_to(t, x.shape)
        except ValueError:
            raise ValueError(f"CrossentropySoftmaxDense: t of shape {t.shape} does not broadcast to x's shape "
                             f"{x.shape}") from None
        logsm = _np_logsoftmax(x)
        with np.errstate(invalid="ignore"):
            nll = -np.sum(np.where(t == 0, 0, t * logsm), axis=-1)
        dtype = node.outputs[0].dtype
        output_storage[0][0] = np.array(nll, dtype=dtype)
        output_storage[1][0] = np.asarray(_np_softmax(x), dtype=dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        return [tuple(input_shapes[0][:-1]), input_shapes[0]]

    def L_op(self, inputs, outputs, output_grads):
        x, t = inputs
        g_nll, g_sm = output_grads
        sm = outputs[1]
        terms = []
        if not _is_zero(g_nll):
            terms.append(crossentropy_softmax_dense_dx(g_nll, sm, t))
        if not _is_zero(g_sm):
            terms.append(softmax_grad(g_sm, sm))
        dx = _math.add(*terms) if len(terms) > 1 else terms[0] if terms else _basic.zeros_like(sm)
        g_t = _math.neg(_last_axis(g_nll) * logsoftmax(x))
        return [dx, _sum_to(g_t, t)]


class CrossentropySoftmaxDenseDx(Op):
    """The gradient of the dense fused loss: dx = (sm * sum(t, last axis) - t) * dy[..., None]."""

    def make_node(self, dy, sm, t):
        sm = _float_input("CrossentropySoftmaxDenseDx", sm, "sm")
        dy = _per_row_input("CrossentropySoftmaxDenseDx", dy, sm)
        t = _float_input("CrossentropySoftmaxDenseDx", t, "t")
        if t.ndim != sm.ndim:
            raise TypeError(f"CrossentropySoftmaxDenseDx: t must have sm's rank {sm.ndim}, got {t.ndim}")
        dtype = ts.upcast(dy.dtype, sm.dtype, t.dtype)
        return Apply(self, [dy, sm, t], [TensorType(dtype, shape=sm.type.shape)()])

    def perform(self, node, inputs, output_storage):
        dy, sm, t = inputs
        try:
            t = np.broadcast_to(t, sm.shape)
        except ValueError:
            raise ValueError(f"CrossentropySoftmaxDenseDx: t of shape {t.shape} does not broadcast to sm's "
                             f"shape {sm.shape}") from None
        dy = _broadcast_rows("CrossentropySoftmaxDenseDx", dy, sm)[..., None]
        dx = (sm * t.sum(axis=-1, keepdims=True) - t) * dy
        output_storage[0][0] = np.asarray(dx, dtype=node.outputs[0].dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        return [input_shapes[1]]

    def L_op(self, inputs, outputs, output_grads):
        dy, sm, t = inputs
        (g,) = output_grads
        total = _sum_last(t)
        dyb = _last_axis(dy)
        g_dy = _math.sum(g * (sm * total - t), axis=-1)
        g_sm = g * dyb * total
        g_t = dyb * (_sum_last(g * sm) - g)
        return [_sum_to(g_dy, dy), _sum_to(g_sm, sm), _sum_to(g_t, t)]


crossentropy_softmax_argmax_1hot_with_bias_op = CrossentropySoftmaxArgmax1HotWithBias()
crossentropy_softmax_1hot_with_bias_dx = CrossentropySoftmax1HotWithBiasDx()
crossentropy_softmax_dense_op = CrossentropySoftmaxDense()
crossentropy_softmax_dense_dx = CrossentropySoftmaxDenseDx()


def crossentropy_softmax_argmax_1hot_with_bias(x, b, y_idx):
    """(nll, softmax(x + b), argmax(x + b)) per row, as one stable op."""
    return tuple(crossentropy_softmax_argmax_1hot_with_bias_op(x, b, y_idx))


def crossentropy_softmax_1hot_with_bias(x, b, y_idx):
    """(nll, softmax(x + b)) per row."""
    return crossentropy_softmax_argmax_1hot_with_bias(x, b, y_idx)[:2]


def crossentropy_softmax_1hot(x, y_idx):
    """(nll, softmax(x)) per row: -log(softmax(x)[i, y_idx[i]]) without forming log(softmax)."""
    x = _float_input("crossentropy_softmax_1hot", x)
    return crossentropy_softmax_1hot_with_bias(x, _basic.constant(0, dtype=x.dtype), y_idx)


def crossentropy_softmax_dense(x, t):
    """(nll, softmax(x)) per row for a target distribution ``t`` shaped like x (e.g. one-hot rows)."""
    return tuple(crossentropy_softmax_dense_op(x, t))


# ------------------------------------------------------------------ activations

def _as_float(x):
    x = _basic.as_tensor_variable(x)
    return _basic.cast(x, ts.upgrade_to_float_dtype(x.dtype))


def _like(value, x):
    """A Python number as a constant of x's float dtype; symbolic values pass through."""
    if isinstance(value, numbers.Number) and x.dtype in ts.float_dtypes:
        return _basic.constant(value, dtype=x.dtype)
    return _basic.as_tensor_variable(value)


def relu(x, alpha=0):
    """max(x, 0), or the leaky x if x > 0 else alpha * x when ``alpha`` is nonzero."""
    x = _basic.as_tensor_variable(x)
    if isinstance(alpha, numbers.Number) and alpha == 0:
        return _math.switch(_math.gt(x, 0), x, _basic.constant(0, dtype=x.dtype))
    return _math.switch(_math.gt(x, 0), x, _like(alpha, x) * x)


def softsign(x):
    """x / (1 + |x|)."""
    x = _as_float(x)
    return x / (_basic.constant(1, dtype=x.dtype) + _math.abs_(x))


def elu(x, alpha=1):
    """x if x > 0 else alpha * (exp(x) - 1) (the exp only sees non-positive values, so no overflow)."""
    x = _as_float(x)
    neg_part = _like(alpha, x) * _math.expm1(_math.minimum(x, _basic.constant(0, dtype=x.dtype)))
    return _math.switch(_math.gt(x, 0), x, neg_part)


SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def selu(x):
    """Scaled elu with the self-normalizing constants of Klambauer et al. (2017)."""
    x = _as_float(x)
    return _like(SELU_SCALE, x) * elu(x, SELU_ALPHA)


def hard_sigmoid(x):
    """clip(0.2 * x + 0.5, 0, 1): a piecewise-linear sigmoid."""
    x = _as_float(x)
    return _math.clip(x * _like(0.2, x) + _like(0.5, x), _like(0, x), _like(1, x))


def _ultra_fast_impl(x):
    a = np.abs(x) * 0.5
    z = np.where(a < 1.7, 1.5 * a / (1 + a),
                 np.where(a < 3, 0.935409070603099 + 0.0458812946797165 * (a - 1.7), 0.99505475368673))
    return 0.5 + 0.5 * np.where(x < 0, -z, z)


class UltraFastScalarSigmoid(ts.UnaryScalarOp):
    """Piecewise rational approximation of the sigmoid (max error about 0.02).

    As in Theano its gradient is that of the sigmoid, y * (1 - y) at the
    approximate y, so the flat tails still pass a gradient.
    """

    default_output_types = staticmethod(ts.upgrade_to_float)

    def impl(self, x):
        return _ultra_fast_impl(np.asarray(x))

    def grad(self, inputs, gouts):
        (x,) = inputs
        if x.type.dtype not in ts.continuous_dtypes:
            return [ts.basic.zero_grad_of(x)]
        y = self(x)
        one = ts.cast(ts.constant(1), y.type.dtype)
        return [gouts[0] * y * (one - y)]


ultra_fast_scalar_sigmoid = UltraFastScalarSigmoid(name="ultra_fast_scalar_sigmoid")
_ultra_fast_sigmoid_op = _elemwise.Elemwise(ultra_fast_scalar_sigmoid, name="ultra_fast_sigmoid")


def ultra_fast_sigmoid(x):
    """A fast approximate sigmoid (see UltraFastScalarSigmoid)."""
    return _ultra_fast_sigmoid_op(x)


__all__ = [
    "Softmax", "SoftmaxGrad", "LogSoftmax", "PickClass", "PickClassGrad", "UltraFastScalarSigmoid",
    "softmax", "softmax_op", "softmax_grad", "logsoftmax", "logsoftmax_op", "log_softmax", "softmax_with_bias",
    "softmax_graph", "pick_class", "pick_class_grad", "sigmoid", "softplus", "ultra_fast_sigmoid",
    "ultra_fast_scalar_sigmoid", "hard_sigmoid", "softsign", "relu", "elu", "selu",
    "categorical_crossentropy", "crossentropy_categorical_1hot", "binary_crossentropy",
    "sigmoid_binary_crossentropy", "crossentropy_softmax_1hot", "crossentropy_softmax_1hot_with_bias",
    "crossentropy_softmax_argmax_1hot_with_bias", "SoftmaxWithBias", "softmax_with_bias_op",
    "CrossentropySoftmaxArgmax1HotWithBias", "CrossentropySoftmax1HotWithBiasDx", "CrossentropySoftmaxDense",
    "CrossentropySoftmaxDenseDx", "crossentropy_softmax_argmax_1hot_with_bias_op",
    "crossentropy_softmax_1hot_with_bias_dx", "crossentropy_softmax_dense", "crossentropy_softmax_dense_op",
    "crossentropy_softmax_dense_dx",
]
