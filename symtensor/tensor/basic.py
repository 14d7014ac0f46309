"""Building blocks: converting values to tensors, constants, casts, Alloc and friends."""

import numbers

import numpy as np

import symtensor.tensor.elemwise as _elemwise
import symtensor.tensor.extra_ops as _extra_ops
import symtensor.tensor.join as _join
import symtensor.tensor.math as _math
import symtensor.tensor.shape as _shape
import symtensor.tensor.subtensor as _subtensor
import symtensor.tensor.variable as _variable
from symtensor import scalar as ts
from symtensor.config import config
from symtensor.graph.basic import Apply, Constant, Variable
from symtensor.graph.op import DataFirstOp, Op
from symtensor.tensor.type import TensorType


# ------------------------------------------------------------ constants

def _constant_dtype(value):
    """The dtype of a constant made from a Python/NumPy value (autocasting Python numbers)."""
    if isinstance(value, np.ndarray) or isinstance(value, np.generic):
        return value.dtype.name
    if isinstance(value, (bool, numbers.Number)):
        return ts.basic.autocast_dtype(value)
    arr = np.asarray(value)
    if arr.size == 0:
        return config.floatX
    if arr.dtype.kind == "f" and arr.dtype.name == "float64":
        flat = arr.ravel()
        return "float32" if config.floatX == "float32" or (flat.size and np.all(flat.astype("float32") == flat)) else "float64"
    # integer lists keep NumPy's int64 (as in Theano): a narrow type would overflow silently
    return arr.dtype.name


def constant(x, name=None, ndim=None, dtype=None):
    """A TensorConstant holding ``x`` (Python numbers take the smallest exact dtype)."""
    if isinstance(x, Constant) and isinstance(x.type, TensorType):
        x = x.data
    if dtype == "floatX":
        dtype = config.floatX
    dtype = np.dtype(dtype).name if dtype is not None else _constant_dtype(x)
    arr = np.asarray(x, dtype=dtype)
    if ndim is not None:
        if arr.ndim > ndim:
            raise ValueError(f"constant: value of shape {arr.shape} has more than {ndim} dimensions")
        arr = arr.reshape((1,) * (ndim - arr.ndim) + arr.shape)
    ttype = TensorType(arr.dtype.name, shape=arr.shape)  # a constant's shape is known
    return _variable.TensorConstant(ttype, arr, name)


def as_tensor_variable(x, name=None, ndim=None, dtype=None):
    """Turn ``x`` (a TensorVariable, scalar variable, list, number or ndarray) into a tensor."""
    if isinstance(x, Apply):
        x = x.out
    if isinstance(x, Variable):
        if isinstance(x.type, ts.ScalarType):
            x = tensor_from_scalar(x)
        if not isinstance(x.type, TensorType):
            raise TypeError(f"cannot use {x} of type {x.type} as a tensor")
        if ndim is not None and x.ndim != ndim:
            if x.ndim > ndim:
                raise ValueError(f"{x} has {x.ndim} dimensions, expected {ndim}")
            x = shape_padleft(x, ndim - x.ndim)
        if dtype is not None and x.dtype != dtype:
            x = cast(x, dtype)
        return x
    if isinstance(x, (list, tuple)) and any(isinstance(e, Variable) for e in _flatten(x)):
        return stack_scalars_or_tensors(x)
    try:
        return constant(x, name=name, ndim=ndim, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"cannot convert {x!r} to a tensor: {exc}") from None


def _flatten(seq):
    for e in seq:
        if isinstance(e, (list, tuple)):
            yield from _flatten(e)
        else:
            yield e


def stack_scalars_or_tensors(items):
    items = [stack_scalars_or_tensors(i) if isinstance(i, (list, tuple)) else as_tensor_variable(i) for i in items]
    return make_vector_or_stack(items)


def make_vector_or_stack(items):
    if all(i.ndim == 0 for i in items):
        return MakeVector(ts.upcast(*[i.dtype for i in items]))(*items)
    return _math.stack_tensors(items)


def get_scalar_constant_value(v):
    """The value of ``v`` if it is a constant scalar (through casts/shape_i of static shapes), else raise."""
    if isinstance(v, (numbers.Number, np.number, np.ndarray)):
        arr = np.asarray(v)
        if arr.size == 1:
            return arr.reshape(())
    if isinstance(v, Constant):
        arr = np.asarray(v.data)
        if arr.size == 1 or (arr.ndim and np.all(arr == arr.flat[0])):
            return arr.reshape(-1)[0] if arr.size else arr
    if isinstance(v, Variable) and v.owner is not None:
        op = v.owner.op
        if isinstance(op, _elemwise.Elemwise) and isinstance(op.scalar_op, (ts.Cast, ts.Identity)):
            return np.asarray(get_scalar_constant_value(v.owner.inputs[0]), dtype=v.dtype)
        if isinstance(op, (TensorFromScalar, ScalarFromTensor, Rebroadcast)):
            return get_scalar_constant_value(v.owner.inputs[0])
        if isinstance(op, _subtensor.Subtensor) and v.ndim == 0 and len(op.idx_list) == 1 \
                and isinstance(op.idx_list[0], int):
            return _constant_vector_entry(v.owner.inputs[0], op.idx_list[0])
        if isinstance(op, _elemwise.Elemwise) and v.ndim == 0 and all(i.ndim == 0 for i in v.owner.inputs):
            # fold scalar arithmetic on constants (e.g. x.shape[0] * 2 with a static shape)
            values = [np.asarray(get_scalar_constant_value(i), dtype=i.dtype) for i in v.owner.inputs]
            storage = [[None] for _ in v.owner.outputs]
            try:
                op.perform(v.owner, values, storage)
            except Exception:  # noqa: BLE001  (not foldable: leave it symbolic)
                raise NotScalarConstantError(f"{v} is not a constant scalar") from None
            return np.asarray(storage[v.owner.outputs.index(v)][0])
        static = getattr(op, "static_value", None)
        if static is not None:
            val = static(v.owner)
            if val is not None:
                return np.asarray(val)
    raise NotScalarConstantError(f"{v} is not a constant scalar")


class NotScalarConstantError(ValueError):
    pass


def _constant_vector_entry(vec, k):
    """Entry ``k`` of a vector whose entries are known: a constant, a MakeVector or a static shape."""
    n = vec.type.shape[0] if vec.ndim == 1 else None
    if n is not None and -n <= k < n:
        k %= n
        if isinstance(vec, Constant):
            return np.asarray(vec.data)[k]
        owner = vec.owner
        if owner is not None and isinstance(owner.op, MakeVector):
            return np.asarray(get_scalar_constant_value(owner.inputs[k]), dtype=vec.dtype)
        if owner is not None and isinstance(owner.op, _shape.Shape):
            length = owner.inputs[0].type.shape[k]
            if length is not None:
                return np.asarray(length, dtype="int64")
    raise NotScalarConstantError(f"entry {k} of {vec} is not a constant")


# ------------------------------------------------------------ scalar <-> tensor

class TensorFromScalar(Op):
    def make_node(self, s):
        s = ts.as_scalar(s)
        return Apply(self, [s], [TensorType(s.type.dtype, ())()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = np.array(inputs[0], dtype=node.outputs[0].type.dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        return [()]

    def L_op(self, inputs, outputs, output_grads):
        return [scalar_from_tensor(output_grads[0])]


class ScalarFromTensor(Op):
    def make_node(self, t):
        t = as_tensor_variable(t)
        if t.ndim != 0:
            raise TypeError(f"ScalarFromTensor: {t} has {t.ndim} dimensions, expected 0")
        return Apply(self, [t], [ts.ScalarType(t.dtype)()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = np.asarray(inputs[0]).copy()

    def infer_shape(self, fgraph, node, input_shapes):
        return [()]

    def L_op(self, inputs, outputs, output_grads):
        return [tensor_from_scalar(output_grads[0])]


tensor_from_scalar = TensorFromScalar()
scalar_from_tensor = ScalarFromTensor()


class MakeVector(Op):
    """Stack 0-d tensors into a vector (used for shapes)."""

    __props__ = ("dtype",)

    def __init__(self, dtype="int64"):
        self.dtype = np.dtype(dtype).name

    def make_node(self, *inputs):
        inputs = [as_tensor_variable(i) for i in inputs]
        for k, i in enumerate(inputs):
            if i.ndim != 0:
                raise TypeError(f"MakeVector: input {k} ({i}) is {i.ndim}-d, expected a scalar")
            if not np.can_cast(i.dtype, self.dtype) and not (isinstance(i, Constant)):
                raise TypeError(f"MakeVector: input {k} of dtype {i.dtype} does not fit {self.dtype}")
        out = TensorType(self.dtype, shape=(len(inputs),))()
        return Apply(self, inputs, [out])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = np.array([np.asarray(i) for i in inputs], dtype=self.dtype).reshape(len(inputs))

    def infer_shape(self, fgraph, node, input_shapes):
        return [(len(node.inputs),)]

    def L_op(self, inputs, outputs, output_grads):
        (gz,) = output_grads
        return [gz[i] if inp.dtype in ts.continuous_dtypes else zeros_like(inp, dtype=config.floatX)
                for i, inp in enumerate(inputs)]


def make_vector(*items, dtype="int64"):
    return MakeVector(dtype)(*items)


# ------------------------------------------------------------ user shapes
# One way to read a shape given by a user: ``shape_scalars`` turns an int, a 0-d
# integer tensor, a sequence of those, or an integer vector of static length
# (such as ``x.shape``) into int64 0-d tensors. ``shape_vector`` packs them into
# one int64 vector (vectors of unknown length pass through), and
# ``static_lengths`` reads back the lengths that are known constants.

def _is_vector_var(shape):
    return isinstance(shape, Variable) and isinstance(shape.type, TensorType) and shape.ndim == 1


def _check_int(var, what):
    if var.dtype not in ts.int_dtypes + ts.uint_dtypes:
        raise TypeError(f"{what} must be integers, got {var} of dtype {var.dtype}")


def shape_scalars(shape, what="shape"):
    """A user shape (int, 0-d integer tensor, sequence of those, or int vector of static length) ->
    a list of int64 0-d tensors."""
    if _is_vector_var(shape):
        _check_int(shape, what)
        n = shape.type.shape[0]
        if n is None:
            raise ValueError(f"{what}: the length of shape vector {shape} must be known statically; "
                             "pass a tuple of scalars or a vector of known length")
        if shape.owner is not None and isinstance(shape.owner.op, MakeVector):
            return [cast(s, "int64") for s in shape.owner.inputs]
        return [cast(shape[i], "int64") for i in range(n)]
    if isinstance(shape, np.ndarray) and shape.ndim == 1:
        shape = tuple(shape)
    if isinstance(shape, (numbers.Integral, np.integer, Variable)):
        shape = (shape,)
    if not isinstance(shape, (list, tuple)):
        raise TypeError(f"{what} must be an int, a sequence of ints / integer scalars, or an integer vector; "
                        f"got {shape!r}")
    out = []
    for k, s in enumerate(shape):
        if isinstance(s, (bool, np.bool_)) or (isinstance(s, float) and not float(s).is_integer()):
            raise TypeError(f"{what} entry {k} must be an integer, got {s!r}")
        if isinstance(s, float):
            s = int(s)
        s = as_tensor_variable(s)
        if s.ndim != 0 or s.dtype not in ts.int_dtypes + ts.uint_dtypes:
            raise TypeError(f"{what} entry {k} ({s}) must be an integer scalar, got a {s.ndim}-d {s.dtype} tensor")
        out.append(cast(s, "int64"))
    return out


def shape_vector(shape, what="shape"):
    """A user shape as one int64 vector (a vector variable of unknown length is kept, cast to int64)."""
    if _is_vector_var(shape) and shape.type.shape[0] is None:
        _check_int(shape, what)
        return cast(shape, "int64")
    items = shape_scalars(shape, what)
    if not items:
        return constant(np.zeros(0, dtype="int64"))
    if all(isinstance(i, Constant) for i in items):
        return constant(np.array([i.data for i in items], dtype="int64"))
    return MakeVector("int64")(*items)


def static_lengths(shape, ndim=None):
    """The entries of a shape (list of scalars or int64 vector) that are known constants, None elsewhere."""
    if _is_vector_var(shape):
        n = shape.type.shape[0] if ndim is None else ndim
        if isinstance(shape, Constant):
            return tuple(int(s) for s in shape.data)
        if shape.owner is not None and isinstance(shape.owner.op, MakeVector):
            shape = shape.owner.inputs
        elif shape.owner is not None and isinstance(shape.owner.op, _shape.Shape):
            return tuple(shape.owner.inputs[0].type.shape)
        elif shape.owner is not None and isinstance(shape.owner.op, _elemwise.Elemwise) \
                and isinstance(shape.owner.op.scalar_op, ts.Cast):
            return static_lengths(shape.owner.inputs[0], ndim)
        else:
            return (None,) * (n or 0)
    return tuple(_static_int(s) for s in shape)


def _static_int(s):
    try:
        return int(get_scalar_constant_value(s))
    except NotScalarConstantError:
        return None


# ------------------------------------------------------------ casts and broadcast flags

def cast(x, dtype):
    """Elementwise conversion to ``dtype`` (a no-op when already of that dtype)."""
    if dtype == "floatX":
        dtype = config.floatX
    x = as_tensor_variable(x)
    dtype = np.dtype(dtype).name
    if x.dtype == dtype:
        return x
    return _elemwise.Elemwise(ts.Cast(dtype))(x)


class Rebroadcast(Op):
    """Assert the length-1 axes named in ``axis`` ({axis: True/False}) and mark them broadcastable."""

    __props__ = ("axis",)
    view_map = {0: [0]}

    def __init__(self, *axis):
        self.axis = tuple(sorted(dict(axis).items()))

    def make_node(self, x):
        x = as_tensor_variable(x)
        shape = list(x.type.shape)
        for axis, flag in self.axis:
            if axis >= x.ndim:
                raise ValueError(f"Rebroadcast: axis {axis} out of range for {x.ndim}-d {x}")
            shape[axis] = 1 if flag else None
        return Apply(self, [x], [TensorType(x.dtype, shape=shape)()])

    def perform(self, node, inputs, output_storage):
        (x,) = inputs
        for axis, flag in self.axis:
            if flag and x.shape[axis] != 1:
                raise ValueError(f"Rebroadcast: axis {axis} was declared broadcastable but has length "
                                 f"{x.shape[axis]} (input shape {x.shape})")
        output_storage[0][0] = x

    def infer_shape(self, fgraph, node, input_shapes):
        shp = list(input_shapes[0])
        for axis, flag in self.axis:
            if flag:
                shp[axis] = 1
        return [tuple(shp)]

    def L_op(self, inputs, outputs, output_grads):
        (x,) = inputs
        return [patternbroadcast(output_grads[0], x.broadcastable)]

    def R_op(self, inputs, eval_points):
        return [None if eval_points[0] is None else self(eval_points[0])]


def patternbroadcast(x, broadcastable):
    x = as_tensor_variable(x)
    changes = [(i, bool(b)) for i, b in enumerate(broadcastable) if bool(b) != x.broadcastable[i]]
    if not changes:
        return x
    return Rebroadcast(*changes)(x)


def addbroadcast(x, *axes):
    x = as_tensor_variable(x)
    return patternbroadcast(x, [True if i in axes else b for i, b in enumerate(x.broadcastable)])


def unbroadcast(x, *axes):
    x = as_tensor_variable(x)
    return patternbroadcast(x, [False if i in axes else b for i, b in enumerate(x.broadcastable)])


def shape_padleft(x, n_ones=1):
    x = as_tensor_variable(x)
    return x.dimshuffle(["x"] * n_ones + list(range(x.ndim)))


def shape_padright(x, n_ones=1):
    x = as_tensor_variable(x)
    return x.dimshuffle(list(range(x.ndim)) + ["x"] * n_ones)


def shape_padaxis(x, axis):
    x = as_tensor_variable(x)
    if axis < 0:
        axis += x.ndim + 1
    pattern = list(range(x.ndim))
    pattern.insert(axis, "x")
    return x.dimshuffle(pattern)


# ------------------------------------------------------------ Alloc

class Alloc(DataFirstOp):
    """``alloc(value, *shape)``: an array of ``shape`` filled with (broadcast) ``value``."""

    def make_node(self, value, *shape):
        value = as_tensor_variable(value)
        if len(shape) == 1 and _is_vector_var(shape[0]):
            shape = shape[0]  # alloc(value, x.shape)
        lengths = shape_scalars(shape, "Alloc: shape")
        if value.ndim > len(lengths):
            raise ValueError(f"Alloc: value {value} has {value.ndim} dims but only {len(lengths)} lengths were given")
        static = static_lengths(lengths)
        for k, n in enumerate(static):
            if n is not None and n < 0:
                raise ValueError(f"Alloc: length {k} of the shape is negative ({n})")
        for k in range(1, value.ndim + 1):
            want, got = static[-k], value.type.shape[-k]
            if want is not None and got is not None and got not in (1, want):
                raise ValueError(f"Alloc: cannot broadcast value {value} of static shape {value.type.shape} "
                                 f"to shape {static}")
        return Apply(self, [value] + lengths, [TensorType(value.dtype, shape=tuple(static))()])

    def perform(self, node, inputs, output_storage):
        value, shape = inputs[0], tuple(int(s) for s in inputs[1:])
        if any(s < 0 for s in shape):
            raise ValueError(f"Alloc: negative length in shape {shape}")
        out = np.empty(shape, dtype=node.outputs[0].type.dtype)
        try:
            out[...] = value
        except ValueError:
            raise ValueError(f"Alloc: cannot broadcast a value of shape {np.shape(value)} to shape {shape}") from None
        output_storage[0][0] = out

    def infer_shape(self, fgraph, node, input_shapes):
        return [tuple(node.inputs[1:])]

    def L_op(self, inputs, outputs, output_grads):
        value = inputs[0]
        (gz,) = output_grads
        extra = gz.ndim - value.ndim
        g = gz.sum(axis=list(range(extra))) if extra else gz
        axes = [i for i, b in enumerate(value.broadcastable) if b and not g.broadcastable[i]]
        if axes:
            g = g.sum(axis=axes, keepdims=True)
        g = patternbroadcast(g, value.broadcastable)
        if value.dtype in ts.discrete_dtypes:
            g = zeros_like(value, dtype=config.floatX)
        from_shape = [zeros_like(s, dtype=config.floatX) for s in inputs[1:]]
        return [g] + from_shape



alloc = Alloc()


def alloc_like(value, template):
    """``value`` broadcast to the shape of ``template``."""
    template = as_tensor_variable(template)
    shape = [1 if b else template.shape[i] for i, b in enumerate(template.broadcastable)]
    return alloc(value, *shape)


def fill(model, value):
    """An array shaped like ``model`` filled with ``value`` (Theano's ``fill``/``second``)."""
    return _math.second(model, value)


def zeros_like(model, dtype=None, opt=False):
    model = as_tensor_variable(model)
    return fill(model, constant(0, dtype=dtype or model.dtype))


def ones_like(model, dtype=None, opt=False):
    model = as_tensor_variable(model)
    return fill(model, constant(1, dtype=dtype or model.dtype))


def zeros(shape, dtype=None):
    """An array of zeros; ``shape`` is an int, a tuple/list of ints or scalars, or a vector such as x.shape."""
    return alloc(constant(0, dtype=dtype or config.floatX), *shape_scalars(shape, "zeros: shape"))


def ones(shape, dtype=None):
    """An array of ones; ``shape`` as for ``zeros``."""
    return alloc(constant(1, dtype=dtype or config.floatX), *shape_scalars(shape, "ones: shape"))


# ------------------------------------------------------------ Theano 1.0 helpers built from other ops

def transpose(x, axes=None):
    """``x`` with its axes reversed, or permuted by ``axes``."""
    x = as_tensor_variable(x)
    axes = tuple(reversed(range(x.ndim))) if axes is None else tuple(axes)
    return x.dimshuffle(*axes)


def swapaxes(y, axis1, axis2):
    """``y`` with two axes exchanged."""
    y = as_tensor_variable(y)
    order = list(range(y.ndim))
    order[axis1], order[axis2] = order[axis2], order[axis1]
    return y.dimshuffle(*order)


def roll(x, shift, axis=None):
    """Elements shifted by ``shift`` along ``axis`` (the flattened array when None), as numpy.roll."""
    x = as_tensor_variable(x)
    if axis is None:
        return roll(x.flatten(), shift, axis=0).reshape(x.shape, ndim=x.ndim)
    axis = axis + x.ndim if axis < 0 else axis
    shift = _math.mod(as_tensor_variable(shift), x.shape[axis])
    before = (slice(None),) * axis
    front = x[before + (slice(-shift, None),)]
    back = x[before + (slice(0, -shift),)]
    return _join.concatenate([front, back], axis=axis)


def stacklists(arg):
    """A tensor from nested lists of scalars or tensors (each level becomes one new leading axis)."""
    if isinstance(arg, (tuple, list)):
        return _join.stack([stacklists(a) for a in arg])
    return arg


def ptp(a, axis=None):
    """Range of values (maximum - minimum) along ``axis``."""
    a = as_tensor_variable(a)
    return _math.max(a, axis) - _math.min(a, axis)


def diagonal(x, offset=0, axis1=0, axis2=1):
    """The ``offset`` diagonal of a matrix, as a vector."""
    x = as_tensor_variable(x)
    if x.ndim != 2 or (axis1, axis2) not in ((0, 1), (1, 0)):
        raise NotImplementedError("diagonal: only the diagonal of a matrix (axis1=0, axis2=1) is supported")
    if (axis1, axis2) == (1, 0):
        x = x.T
    rows, cols = x.shape[0], x.shape[1]
    if offset >= 0:
        n = _math.maximum(_math.minimum(rows, cols - offset), 0)
        idx = _extra_ops.arange(n)
        return x[idx, idx + offset]
    n = _math.maximum(_math.minimum(rows + offset, cols), 0)
    idx = _extra_ops.arange(n)
    return x[idx - offset, idx]


def diag(v, k=0):
    """A vector's values placed on the ``k`` diagonal of a square matrix, or a matrix's ``k`` diagonal."""
    v = as_tensor_variable(v)
    if v.ndim == 2:
        return diagonal(v, k)
    if v.ndim != 1:
        raise ValueError(f"diag: expected a vector or a matrix, got {v.ndim} dimensions")
    n = v.shape[0]
    size = n + abs(k)
    idx = _extra_ops.arange(n)
    out = zeros((size, size), dtype=v.dtype)
    return _subtensor.set_subtensor(out[idx + max(-k, 0), idx + max(k, 0)], v)
