"""Shape ops: Shape, Shape_i, Reshape, SpecifyShape, and reshape/flatten/squeeze helpers."""

import numpy as np

import symtensor.tensor.basic as _basic
import symtensor.tensor.math as _math
from symtensor.config import config
from symtensor.graph.basic import Apply, Variable
from symtensor.graph.op import Op
from symtensor.tensor.type import TensorType


class Shape(Op):
    """The shape of a tensor as an int64 vector."""

    def make_node(self, x):
        x = _basic.as_tensor_variable(x)
        return Apply(self, [x], [TensorType("int64", shape=(x.ndim,))()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = np.asarray(inputs[0].shape, dtype="int64")

    def infer_shape(self, fgraph, node, input_shapes):
        return [(node.inputs[0].ndim,)]

    def static_value(self, node):
        shape = node.inputs[0].type.shape
        return None if None in shape else np.asarray(shape, dtype="int64")

    def L_op(self, inputs, outputs, output_grads):
        return [_basic.zeros_like(inputs[0], dtype=config.floatX)]

    def connection_pattern(self, node):
        return [[False]]


class Shape_i(Op):
    """The length of axis ``i`` as an int64 scalar."""

    __props__ = ("i",)

    def __init__(self, i):
        self.i = int(i)

    def make_node(self, x):
        x = _basic.as_tensor_variable(x)
        if not 0 <= self.i < x.ndim:
            raise ValueError(f"Shape_i: axis {self.i} out of range for {x.ndim}-d {x}")
        return Apply(self, [x], [TensorType("int64", ())()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = np.asarray(inputs[0].shape[self.i], dtype="int64")

    def infer_shape(self, fgraph, node, input_shapes):
        return [()]

    def static_value(self, node):
        return node.inputs[0].type.shape[self.i]

    def L_op(self, inputs, outputs, output_grads):
        return [_basic.zeros_like(inputs[0], dtype=config.floatX)]

    def connection_pattern(self, node):
        return [[False]]


_shape = Shape()


def shape(x):
    return _shape(x)


def shape_i(x, i):
    return Shape_i(i)(x)


class SpecifyShape(Op):
    """Assert at run time that ``x`` has the given (static) shape; lets later ops know it."""

    __props__ = ("shape",)
    view_map = {0: [0]}

    def __init__(self, shape):
        self.shape = tuple(None if s is None else int(s) for s in shape)

    def make_node(self, x):
        x = _basic.as_tensor_variable(x)
        if len(self.shape) != x.ndim:
            raise ValueError(f"specify_shape: {x} has {x.ndim} dims, got a shape of length {len(self.shape)}")
        shp = tuple(s if s is not None else xs for s, xs in zip(self.shape, x.type.shape))
        return Apply(self, [x], [TensorType(x.dtype, shape=shp)()])

    def perform(self, node, inputs, output_storage):
        (x,) = inputs
        if any(s is not None and s != xs for s, xs in zip(self.shape, x.shape)):
            raise ValueError(f"specify_shape: expected shape {self.shape}, got {x.shape}")
        output_storage[0][0] = x

    def infer_shape(self, fgraph, node, input_shapes):
        return [tuple(s if s is not None else i for s, i in zip(self.shape, input_shapes[0]))]

    def L_op(self, inputs, outputs, output_grads):
        return [output_grads[0]]

    def R_op(self, inputs, eval_points):
        return [None if eval_points[0] is None else self(eval_points[0])]


def specify_shape(x, shape):
    return SpecifyShape(shape)(x)


class Reshape(Op):
    """Reshape to a shape vector of static length ``ndim`` (-1 infers one length)."""

    __props__ = ("ndim",)
    view_map = {0: [0]}

    def __init__(self, ndim):
        self.ndim = int(ndim)

    def make_node(self, x, shp):
        x = _basic.as_tensor_variable(x)
        shp = _basic.shape_vector(shp, "Reshape: shape")
        if shp.type.shape[0] is not None and shp.type.shape[0] != self.ndim:
            raise ValueError(f"Reshape: shape {shp} has {shp.type.shape[0]} entries, expected {self.ndim}")
        requested = _basic.static_lengths(shp, self.ndim)
        if sum(1 for s in requested if s is not None and s < 0) > 1:
            raise ValueError(f"Reshape: at most one length may be -1, got shape {requested}")
        if any(s is not None and s < -1 for s in requested):
            raise ValueError(f"Reshape: negative length in shape {requested}")
        static = [None if s is None or s < 0 else s for s in requested]
        if None not in x.type.shape and None not in requested:
            size = int(np.prod(x.type.shape))
            known = int(np.prod([s for s in static if s is not None]))
            if -1 in requested and known:
                static[requested.index(-1)] = size // known
            if (-1 in requested and (known == 0 or size % known)) or (-1 not in requested and known != size):
                raise ValueError(f"Reshape: cannot reshape {x} of static shape {x.type.shape} to {requested}")
        return Apply(self, [x, shp], [TensorType(x.dtype, shape=tuple(static))()])

    def perform(self, node, inputs, output_storage):
        x, shp = inputs
        if len(shp) != self.ndim:
            raise ValueError(f"Reshape: shape {tuple(shp)} has {len(shp)} entries, expected {self.ndim}")
        try:
            out = np.reshape(x, tuple(int(s) for s in shp))
        except ValueError:
            raise ValueError(f"Reshape: cannot reshape an array of shape {x.shape} (size {x.size}) "
                             f"to {tuple(int(s) for s in shp)}") from None
        for axis, want in enumerate(node.outputs[0].type.shape):
            if want is not None and out.shape[axis] != want:
                raise ValueError(f"Reshape: axis {axis} was declared of length {want}, got {out.shape[axis]}")
        output_storage[0][0] = out

    def infer_shape(self, fgraph, node, input_shapes):
        x, shp = node.inputs
        size = _prod_scalars(input_shapes[0])
        out = []
        requested = [shp[i] for i in range(self.ndim)]
        known = _prod_scalars([_math.switch(_math.lt(r, 0), 1, r) for r in requested])
        for r in requested:
            out.append(_math.switch(_math.lt(r, 0), _math.int_div(size, known), r))
        return [tuple(out)]

    def L_op(self, inputs, outputs, output_grads):
        x, shp = inputs
        g = reshape(output_grads[0], shape(x), ndim=x.ndim)
        return [_basic.patternbroadcast(g, x.broadcastable), _basic.zeros_like(shp, dtype=config.floatX)]

    def connection_pattern(self, node):
        return [[True], [False]]

    def R_op(self, inputs, eval_points):
        if eval_points[0] is None:
            return [None]
        return [self(eval_points[0], inputs[1])]


def _prod_scalars(items):
    out = _basic.constant(1, dtype="int64")
    for s in items:
        out = out * s
    return out


def reshape(x, newshape, ndim=None):
    """``x`` reshaped; ``newshape`` is a tuple (ints/scalars, one -1 allowed) or a vector of length ``ndim``."""
    x = _basic.as_tensor_variable(x)
    if isinstance(newshape, (int, np.integer)):
        newshape = (newshape,)
    if ndim is None:
        if isinstance(newshape, Variable):
            shp = _basic.shape_vector(newshape, "reshape: newshape")
            ndim = shp.type.shape[0]
            if ndim is None:
                raise ValueError("reshape: the length of the new shape must be known; pass ndim=")
        else:
            ndim = len(newshape)
    return Reshape(ndim)(x, newshape)


def flatten(x, ndim=1, outdim=None):
    """Keep the first ``ndim - 1`` axes, fold the rest into one."""
    ndim = outdim if outdim is not None else ndim
    x = _basic.as_tensor_variable(x)
    if ndim < 1 or (ndim > x.ndim and x.ndim > 0):
        raise ValueError(f"flatten: ndim must be between 1 and {x.ndim}, got {ndim}")
    if x.ndim == 0:
        return reshape(x, (1,))
    shp = [x.shape[i] for i in range(ndim - 1)] + [-1]
    return reshape(x, shp, ndim=ndim)


def squeeze(x, axis=None):
    x = _basic.as_tensor_variable(x)
    if axis is None:
        keep = [i for i, b in enumerate(x.broadcastable) if not b]
    else:
        axes = [axis] if isinstance(axis, (int, np.integer)) else list(axis)
        for a in axes:
            if not -x.ndim <= a < x.ndim:
                raise ValueError(f"squeeze: axis {a} is out of range for {x.ndim}-d {x}")
        axes = [a % x.ndim for a in axes]
        for a in axes:
            if not x.broadcastable[a]:
                x = _basic.addbroadcast(x, a)
        keep = [i for i in range(x.ndim) if i not in axes]
    return x.dimshuffle(keep)



def symbolic_shape(var, _cache=None):
    """The shape of ``var`` as a tuple of int64 scalars built from the ops' ``infer_shape``.

    Graph inputs contribute ``Shape_i``; nothing in between is computed. This
    is what the shape rewrites (and tests of infer_shape) rely on.
    """
    cache = {} if _cache is None else _cache
    if var in cache:
        return cache[var]
    if not isinstance(var.type, TensorType):
        return None
    if var.owner is None:
        if hasattr(var, "data"):
            shp = tuple(_basic.constant(s, dtype="int64") for s in np.shape(var.data))
        else:
            shp = tuple(_basic.constant(s, dtype="int64") if s is not None else shape_i(var, k)
                        for k, s in enumerate(var.type.shape))
        cache[var] = shp
        return shp
    node = var.owner
    in_shapes = [symbolic_shape(i, cache) for i in node.inputs]
    out_shapes = node.op.infer_shape(None, node, in_shapes)
    for out, shp in zip(node.outputs, out_shapes):
        if shp is not None:
            cache[out] = tuple(_basic.cast(_basic.as_tensor_variable(s), "int64") for s in shp)
    return cache[var]
