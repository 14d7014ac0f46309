"""Array builders and rearrangements: arange, mgrid/ogrid, eye, repeat, tile, cumsum/cumprod, diff, nonzero,
choose."""

import functools
import numbers

import numpy as np

import symtensor.tensor.basic as _basic
import symtensor.tensor.join as _join
import symtensor.tensor.math as _math
import symtensor.tensor.shape as _shape
from symtensor import scalar as ts
from symtensor.config import config
from symtensor.graph.basic import Apply
from symtensor.graph.null_type import DisconnectedType
from symtensor.graph.op import Op
from symtensor.tensor.type import TensorType

__all__ = ["ARange", "Eye", "RepeatOp", "CumOp", "Nonzero", "Choose", "arange", "mgrid", "ogrid", "eye",
           "identity_like", "repeat", "tile", "cumsum", "cumprod", "diff", "nonzero", "flatnonzero", "nonzero_values",
           "choose"]

_INTS = ts.int_dtypes + ts.uint_dtypes


def _int_scalar(v, opname, what):
    """An integer argument (int or 0-d integer tensor) as an int64 0-d tensor."""
    if isinstance(v, (bool, np.bool_)):
        raise TypeError(f"{opname}: {what} must be an integer, got {v!r}")
    v = _basic.as_tensor_variable(v)
    if v.ndim != 0 or v.dtype not in _INTS:
        raise TypeError(f"{opname}: {what} must be an integer scalar, got {v} ({v.ndim}-d {v.dtype})")
    return _basic.cast(v, "int64")


def _static(v):
    try:
        return _basic.get_scalar_constant_value(v)
    except _basic.NotScalarConstantError:
        return None


def _check_axis(axis, ndim, opname):
    if isinstance(axis, (bool, np.bool_)) or not isinstance(axis, (numbers.Integral, np.integer)):
        raise TypeError(f"{opname}: axis must be an int or None, got {axis!r}")
    if not -ndim <= axis < ndim:
        raise ValueError(f"{opname}: axis {axis} is out of range for a {ndim}-d input")
    return int(axis) % ndim


def _reverse(x, axis):
    return x[(slice(None),) * axis + (slice(None, None, -1),)]


def _disconnected(n):
    return [DisconnectedType()() for _ in range(n)]


# ------------------------------------------------------------ arange

class ARange(Op):
    """``ARange(dtype)(start, stop, step)``: NumPy's arange for 0-d start/stop/step."""

    __props__ = ("dtype",)

    def __init__(self, dtype):
        self.dtype = np.dtype(dtype).name

    def make_node(self, start, stop, step):
        inputs = [_basic.as_tensor_variable(v) for v in (start, stop, step)]
        for name, v in zip(("start", "stop", "step"), inputs):
            if v.ndim != 0:
                raise TypeError(f"ARange: {name} must be a scalar, got {v} ({v.ndim}-d)")
            if v.dtype in ts.complex_dtypes or v.dtype == "bool":
                raise TypeError(f"ARange: {name} must be a real number, got dtype {v.dtype}")
        values = [_static(v) for v in inputs]
        length = None
        if all(v is not None for v in values):
            if values[2] == 0:
                raise ValueError("ARange: step must not be zero")
            length = _arange_length(*[v.item() for v in values])
        return Apply(self, inputs, [TensorType(self.dtype, shape=(length,))()])

    def perform(self, node, inputs, output_storage):
        start, stop, step = (v.item() for v in inputs)  # Python numbers: NumPy then counts in double precision
        if step == 0:
            raise ValueError("ARange: step must not be zero")
        output_storage[0][0] = np.arange(start, stop, step, dtype=self.dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        start, stop, step = node.inputs
        if all(v.dtype in _INTS for v in node.inputs):
            start, stop, step = (_basic.cast(v, "int64") for v in node.inputs)
            length = _math.neg(_math.int_div(start - stop, step))  # ceil((stop - start) / step)
        else:
            start, stop = _basic.cast(start, "float64"), _basic.cast(stop, "float64")
            length = _basic.cast(_math.ceil(_math.true_div(stop - start, step)), "int64")
        return [(_math.maximum(length, 0),)]

    def connection_pattern(self, node):
        return [[True], [False], [True]]

    def L_op(self, inputs, outputs, output_grads):
        start, stop, step = inputs
        (gz,) = output_grads
        # stop only sets the length; start and step shift / scale every value
        if self.dtype in ts.discrete_dtypes:
            g_start = _basic.zeros_like(start, dtype=config.floatX)
            g_step = _basic.zeros_like(step, dtype=config.floatX)
        else:
            g_start = gz.sum()
            g_step = (gz * arange(outputs[0].shape[0], dtype=self.dtype)).sum()
        if start.dtype in ts.discrete_dtypes:
            g_start = _basic.zeros_like(start, dtype=config.floatX)
        if step.dtype in ts.discrete_dtypes:
            g_step = _basic.zeros_like(step, dtype=config.floatX)
        return [g_start, DisconnectedType()(), g_step]


def _arange_length(start, stop, step):
    if all(isinstance(v, int) for v in (start, stop, step)):
        return len(range(start, stop, step))
    return max(0, int(np.ceil((stop - start) / step)))


def arange(start, stop=None, step=1, dtype=None):
    """``arange(stop)`` / ``arange(start, stop, step)`` like NumPy.

    Without ``dtype``: integer arguments give int64 (uint64 for unsigned); float arguments give their upcast,
    at least floatX when a Python float is among them (so ``arange(0.5)`` is floatX, not float32).
    """
    if stop is None:
        start, stop = 0, start
    args = (start, stop, step)
    tensors = [_basic.as_tensor_variable(v) for v in args]
    if dtype is None:
        dtype = ts.upcast(*[t.dtype for t in tensors])
        if dtype in ts.int_dtypes or dtype == "bool":
            dtype = "int64"
        elif dtype in ts.uint_dtypes:
            dtype = "uint64"
        elif any(isinstance(v, float) for v in args):
            dtype = ts.upcast(dtype, config.floatX)
    elif dtype == "floatX":
        dtype = config.floatX
    return ARange(dtype)(*tensors)


# ------------------------------------------------------------ mgrid / ogrid

def _grid_range(sl):
    """The values one slice of ``mgrid[...]`` spans: arange, or ``n`` points from start to stop for a complex step."""
    if not isinstance(sl, slice):
        raise TypeError(f"mgrid/ogrid: index with slices (start:stop:step), got {sl!r}")
    if sl.stop is None:
        raise ValueError(f"mgrid/ogrid: the slice {sl} has no stop")
    start = 0 if sl.start is None else sl.start
    step = 1 if sl.step is None else sl.step
    if not isinstance(step, (complex, np.complexfloating)):
        return arange(start, sl.stop, step)
    # numpy's convention: an imaginary step n means n points, stop included
    n = int(abs(step))
    start, stop = _basic.as_tensor_variable(start), _basic.as_tensor_variable(sl.stop)
    dtype = ts.upcast(start.dtype, stop.dtype, config.floatX)
    points = arange(n, dtype=dtype)
    if n > 1:
        points = points * _basic.cast((stop - start) / (n - 1), dtype)
    return points + _basic.cast(start, dtype)


class _IndexGrid:
    """``mgrid[a:b, c:d]`` / ``ogrid[...]``: index grids like NumPy's, with symbolic bounds allowed.

    Indexing with k slices gives a list of k k-d tensors of one dtype: full grids
    (mgrid) or open ones with length-1 axes that broadcast (ogrid). One slice gives
    its values as a vector.
    """

    def __init__(self, sparse):
        self.sparse = sparse

    def __getitem__(self, key):
        if not isinstance(key, tuple):
            return _grid_range(key)
        ranges = [_grid_range(sl) for sl in key]
        if not ranges:
            return []
        dtype = ts.upcast(*[r.dtype for r in ranges])
        ranges = [_basic.cast(r, dtype) for r in ranges]
        ndim = len(ranges)
        lengths = [r.shape[0] for r in ranges]
        grids = []
        for i, r in enumerate(ranges):
            placed = r.dimshuffle(["x"] * i + [0] + ["x"] * (ndim - 1 - i))
            grids.append(placed if self.sparse else _basic.alloc(placed, *lengths))
        return grids

    def __repr__(self):
        return "ogrid" if self.sparse else "mgrid"


mgrid = _IndexGrid(sparse=False)
ogrid = _IndexGrid(sparse=True)


# ------------------------------------------------------------ eye

class Eye(Op):
    """``Eye(dtype)(n, m, k)``: an n x m matrix with ones on diagonal ``k``."""

    __props__ = ("dtype",)

    def __init__(self, dtype=None):
        self.dtype = np.dtype(dtype or config.floatX).name

    def make_node(self, n, m, k):
        n, m, k = (_int_scalar(v, "Eye", name) for v, name in ((n, "n"), (m, "m"), (k, "k")))
        shape = []
        for v, name in ((n, "n"), (m, "m")):
            s = _static(v)
            if s is not None and s < 0:
                raise ValueError(f"Eye: {name} must be >= 0, got {int(s)}")
            shape.append(None if s is None else int(s))
        return Apply(self, [n, m, k], [TensorType(self.dtype, shape=shape)()])

    def perform(self, node, inputs, output_storage):
        n, m, k = (int(v) for v in inputs)
        if n < 0 or m < 0:
            raise ValueError(f"Eye: the number of rows and columns must be >= 0, got n={n}, m={m}")
        output_storage[0][0] = np.eye(n, m, k, dtype=self.dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        return [(node.inputs[0], node.inputs[1])]

    def connection_pattern(self, node):
        return [[False], [False], [False]]

    def L_op(self, inputs, outputs, output_grads):
        return _disconnected(3)


def eye(n, m=None, k=0, dtype=None):
    """An ``n`` x ``m`` (default n x n) matrix of ``dtype`` (default floatX) with ones on diagonal ``k``."""
    if dtype == "floatX":
        dtype = None
    return Eye(dtype)(n, n if m is None else m, k)


def identity_like(x):
    """The identity matrix shaped and typed like matrix ``x``."""
    x = _basic.as_tensor_variable(x)
    if x.ndim != 2:
        raise TypeError(f"identity_like: expected a matrix, got {x.ndim}-d {x}")
    return eye(x.shape[0], x.shape[1], k=0, dtype=x.dtype)


# ------------------------------------------------------------ repeat

class RepeatOp(Op):
    """``RepeatOp(axis)(x, repeats)``: NumPy's repeat; ``repeats`` is a scalar or one count per element."""

    __props__ = ("axis",)

    def __init__(self, axis=None):
        self.axis = None if axis is None else int(axis)

    def make_node(self, x, repeats):
        x = _basic.as_tensor_variable(x)
        repeats = _basic.as_tensor_variable(repeats)
        if repeats.dtype not in _INTS:
            raise TypeError(f"repeat: repeats must be integers, got {repeats} of dtype {repeats.dtype}")
        if repeats.dtype == "uint64":
            raise TypeError("repeat: repeats of dtype uint64 are not supported; cast them to int64")
        if repeats.ndim > 1:
            raise ValueError(f"repeat: repeats must be a scalar or a vector, got {repeats.ndim}-d {repeats}")
        if self.axis is not None and not 0 <= self.axis < x.ndim:
            raise ValueError(f"repeat: axis {self.axis} is out of range for {x.ndim}-d {x}")
        n = _prod_static(x.type.shape) if self.axis is None else x.type.shape[self.axis]
        counts = _static_counts(repeats)
        if repeats.ndim == 1 and not repeats.broadcastable[0] and None not in (n, repeats.type.shape[0]) \
                and n != repeats.type.shape[0]:
            raise ValueError(f"repeat: {repeats.type.shape[0]} repeat counts given for an axis of length {n}")
        if counts is not None and np.any(counts < 0):
            raise ValueError(f"repeat: repeat counts must be >= 0, got {counts}")
        length = None
        if counts is not None and (counts.size == 1 and n is not None):
            length = int(n * counts.reshape(-1)[0])
        elif counts is not None and counts.size != 1:
            length = int(counts.sum())
        shape = (length,) if self.axis is None else x.type.shape[:self.axis] + (length,) + x.type.shape[self.axis + 1:]
        return Apply(self, [x, repeats], [TensorType(x.dtype, shape=shape)()])

    def perform(self, node, inputs, output_storage):
        x, repeats = inputs
        n = x.size if self.axis is None else x.shape[self.axis]
        if np.any(repeats < 0):
            raise ValueError(f"repeat: repeat counts must be >= 0, got {repeats}")
        if repeats.ndim == 1 and not node.inputs[1].broadcastable[0] and len(repeats) != n:
            raise ValueError(f"repeat: {len(repeats)} repeat counts given for an axis of length {n} "
                             f"(input shape {x.shape}, axis {self.axis})")
        output_storage[0][0] = np.repeat(x, repeats, axis=self.axis)

    def infer_shape(self, fgraph, node, input_shapes):
        x, repeats = node.inputs
        xs = input_shapes[0]
        n = _shape._prod_scalars(xs) if self.axis is None else xs[self.axis]
        if repeats.ndim == 0:
            length = n * repeats
        elif repeats.broadcastable[0]:
            length = n * repeats[0]
        else:
            length = _math.sum(_basic.cast(repeats, "int64"))
        if self.axis is None:
            return [(length,)]
        return [tuple(xs[:self.axis]) + (length,) + tuple(xs[self.axis + 1:])]

    def connection_pattern(self, node):
        return [[True], [False]]

    def L_op(self, inputs, outputs, output_grads):
        x, repeats = inputs
        (gz,) = output_grads
        if x.dtype in ts.discrete_dtypes:
            return [_basic.zeros_like(x, dtype=config.floatX), DisconnectedType()()]
        if self.axis is None:
            gx = RepeatGrad(0)(gz, repeats, x.size).reshape(x.shape, ndim=x.ndim)
        else:
            gx = RepeatGrad(self.axis)(gz, repeats, x.shape[self.axis])
        return [_basic.patternbroadcast(gx, x.broadcastable), DisconnectedType()()]


class RepeatGrad(Op):
    """The adjoint of RepeatOp: along ``axis``, sum each run of repeated slices back into one slice."""

    __props__ = ("axis",)

    def __init__(self, axis):
        self.axis = int(axis)

    def make_node(self, g, repeats, n):
        g = _basic.as_tensor_variable(g)
        repeats = _basic.as_tensor_variable(repeats)
        n = _int_scalar(n, "RepeatGrad", "n")
        s = _static(n)
        shape = g.type.shape[:self.axis] + (None if s is None else int(s),) + g.type.shape[self.axis + 1:]
        return Apply(self, [g, repeats, n], [TensorType(g.dtype, shape=shape)()])

    def perform(self, node, inputs, output_storage):
        g, repeats, n = inputs
        n = int(n)
        moved = np.moveaxis(g, self.axis, 0)
        if repeats.size == 1:
            r = int(repeats.reshape(-1)[0])
            if r:
                out = moved.reshape((n, r) + moved.shape[1:]).sum(axis=1)
            else:
                out = np.zeros((n,) + moved.shape[1:], dtype=g.dtype)
        else:
            out = np.zeros((n,) + moved.shape[1:], dtype=g.dtype)
            np.add.at(out, np.repeat(np.arange(n), repeats), moved)
        output_storage[0][0] = np.ascontiguousarray(np.moveaxis(out, 0, self.axis), dtype=g.dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        gs = input_shapes[0]
        return [tuple(gs[:self.axis]) + (node.inputs[2],) + tuple(gs[self.axis + 1:])]

    def connection_pattern(self, node):
        return [[True], [False], [False]]

    def L_op(self, inputs, outputs, output_grads):
        g, repeats, _ = inputs
        return [RepeatOp(self.axis)(output_grads[0], repeats), DisconnectedType()(), DisconnectedType()()]


def _prod_static(shape):
    return None if None in shape else int(np.prod(shape, dtype="int64"))


def _static_counts(repeats):
    if repeats.ndim == 0:
        v = _static(repeats)
        return None if v is None else np.asarray(v).reshape(1)
    lengths = _basic.static_lengths(repeats)
    return None if not lengths or None in lengths else np.asarray(lengths)


def repeat(x, repeats, axis=None):
    """Repeat each element of ``x`` ``repeats`` times along ``axis`` (None: of the flattened ``x``).

    ``repeats`` is an int, an integer scalar, or an integer vector with one count per element.
    """
    x = _basic.as_tensor_variable(x)
    if axis is not None:
        if x.ndim == 0:
            raise ValueError(f"repeat: axis {axis} is out of range for a 0-d input")
        axis = _check_axis(axis, x.ndim, "repeat")
    return RepeatOp(axis)(x, repeats)


# ------------------------------------------------------------ tile

def tile(x, reps, ndim=None):
    """``x`` repeated ``reps[i]`` times along each axis i, like numpy.tile.

    ``reps`` is an int, an integer scalar, a sequence of those, or an integer vector (then ``ndim`` must be
    given unless the vector's length is known). The result has ``ndim`` (default max(len(reps), x.ndim)) axes.
    Built from Alloc, DimShuffle and Reshape, so its gradient comes from theirs.
    """
    x = _basic.as_tensor_variable(x)
    if ndim is not None and ndim < x.ndim:
        raise ValueError(f"tile: ndim ({ndim}) must be at least x.ndim ({x.ndim})")
    if not isinstance(reps, (list, tuple)):
        r = _basic.as_tensor_variable(reps)
        if r.dtype not in _INTS:
            raise TypeError(f"tile: reps must be integers, got {r} of dtype {r.dtype}")
        if r.ndim == 0:
            reps = [r]
        elif r.ndim == 1 and r.type.shape[0] is not None:
            reps = [r[i] for i in range(r.type.shape[0])]
        elif r.ndim == 1:
            if ndim is None:
                raise ValueError("tile: reps is a vector of unknown length; give ndim")
            ones = _basic.ones((ndim - r.shape[0],), dtype="int64")
            padded = _join.join(0, ones, _basic.cast(r, "int64"))
            reps = [padded[i] for i in range(ndim)]
        else:
            raise ValueError(f"tile: reps must be a scalar or a vector, got {r.ndim}-d {r}")
    reps = [_int_scalar(r, "tile", f"reps[{k}]") for k, r in enumerate(reps)]
    if ndim is None:
        ndim = max(len(reps), x.ndim)
    if len(reps) > ndim:
        raise ValueError(f"tile: {len(reps)} repetition counts given for ndim={ndim}")
    reps = [_basic.constant(1, dtype="int64")] * (ndim - len(reps)) + reps
    x = _basic.shape_padleft(x, ndim - x.ndim) if ndim > x.ndim else x
    lengths = [_basic.constant(s, dtype="int64") if s is not None else x.shape[i] for i, s in enumerate(x.type.shape)]
    pattern = []
    for i in range(ndim):
        pattern += ["x", i]
    blocks = _basic.alloc(x.dimshuffle(pattern), *[v for pair in zip(reps, lengths) for v in pair])
    return blocks.reshape([r * s for r, s in zip(reps, lengths)], ndim=ndim)


# ------------------------------------------------------------ cumulative sums and products

class CumOp(Op):
    """``CumOp(axis, mode)``: cumulative sum ('add') or product ('mul'); axis None works on the flattened input.

    The output keeps the input's dtype (booleans count as int64).
    """

    __props__ = ("axis", "mode")

    def __init__(self, axis=None, mode="add"):
        if mode not in ("add", "mul"):
            raise ValueError(f"CumOp: mode must be 'add' or 'mul', got {mode!r}")
        self.axis = None if axis is None else int(axis)
        self.mode = mode

    def make_node(self, x):
        x = _basic.as_tensor_variable(x)
        dtype = "int64" if x.dtype == "bool" else x.dtype
        if self.axis is None:
            shape = (_prod_static(x.type.shape),)
        else:
            if not -x.ndim <= self.axis < x.ndim:
                raise ValueError(f"cum{'sum' if self.mode == 'add' else 'prod'}: axis {self.axis} is out of "
                                 f"range for {x.ndim}-d {x}")
            shape = x.type.shape
        return Apply(self, [x], [TensorType(dtype, shape=shape)()])

    def perform(self, node, inputs, output_storage):
        fn = np.cumsum if self.mode == "add" else np.cumprod
        output_storage[0][0] = fn(inputs[0], axis=self.axis, dtype=node.outputs[0].type.dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        if self.axis is None:
            return [(_shape._prod_scalars(input_shapes[0]),)]
        return [input_shapes[0]]

    def L_op(self, inputs, outputs, output_grads):
        (x,) = inputs
        (gz,) = output_grads
        if x.dtype in ts.discrete_dtypes:
            return [_basic.zeros_like(x, dtype=config.floatX)]
        axis = 0 if self.axis is None else self.axis % x.ndim
        flat_x = x.flatten() if self.axis is None else x
        if self.mode == "add":
            # d out[j] / d x[i] = 1 for j >= i: a reversed cumulative sum
            gx = _reverse(CumOp(axis, "add")(_reverse(gz, axis)), axis)
        else:
            # d out[j] / d x[i] = out[j] / x[i] for j >= i (undefined where x is 0, as in Theano)
            gx = _reverse(CumOp(axis, "add")(_reverse(outputs[0] * gz, axis)), axis) / flat_x
        if self.axis is None:
            gx = gx.reshape(x.shape, ndim=x.ndim)
        return [_basic.patternbroadcast(gx, x.broadcastable)]

    def R_op(self, inputs, eval_points):
        if self.mode != "add":
            raise NotImplementedError("CumOp: R_op is only implemented for cumsum")
        return [None if eval_points[0] is None else self(eval_points[0])]


def cumsum(x, axis=None):
    """Cumulative sum along ``axis`` (None: of the flattened ``x``)."""
    return CumOp(axis=axis, mode="add")(x)


def cumprod(x, axis=None):
    """Cumulative product along ``axis`` (None: of the flattened ``x``)."""
    return CumOp(axis=axis, mode="mul")(x)


# ------------------------------------------------------------ diff

def diff(x, n=1, axis=-1):
    """The ``n``-th discrete difference along ``axis``: ``x[1:] - x[:-1]``, ``n`` times (as numpy.diff)."""
    x = _basic.as_tensor_variable(x)
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (numbers.Integral, np.integer)) or n < 0:
        raise ValueError(f"diff: n must be an int >= 0, got {n!r}")
    if x.ndim == 0:
        raise ValueError("diff: the input must be at least 1-d")
    axis = _check_axis(axis, x.ndim, "diff")
    head = (slice(None),) * axis
    for _ in range(n):
        upper, lower = x[head + (slice(1, None),)], x[head + (slice(None, -1),)]
        x = _math.neq(upper, lower) if x.dtype == "bool" else upper - lower
    return x


# ------------------------------------------------------------ nonzero

class Nonzero(Op):
    """The indices of the non-zero elements of ``a`` as an int64 matrix of shape (a.ndim, count)."""

    def make_node(self, a):
        a = _basic.as_tensor_variable(a)
        if a.ndim == 0:
            raise ValueError("nonzero: the input must be at least 1-d (0-d arrays have no indices)")
        return Apply(self, [a], [TensorType("int64", shape=(a.ndim, None))()])

    def perform(self, node, inputs, output_storage):
        (a,) = inputs
        output_storage[0][0] = np.array(np.nonzero(a), dtype="int64").reshape(a.ndim, -1)

    def infer_shape(self, fgraph, node, input_shapes):
        (a,) = node.inputs
        count = _math.sum(_basic.cast(_math.neq(a, 0), "int64"))
        return [(a.ndim, count)]

    def connection_pattern(self, node):
        return [[False]]

    def L_op(self, inputs, outputs, output_grads):
        return _disconnected(1)


def nonzero(a, return_matrix=False):
    """Indices of the non-zero elements: a tuple of int64 vectors (one per axis), or the
    (a.ndim, count) matrix they form when ``return_matrix``."""
    matrix = Nonzero()(a)
    if return_matrix:
        return matrix
    return tuple(matrix[i] for i in range(matrix.type.shape[0]))


def flatnonzero(a):
    """Indices of the non-zero elements of the flattened ``a``."""
    a = _basic.as_tensor_variable(a)
    if a.ndim == 0:
        raise ValueError("flatnonzero: the input must be at least 1-d")
    return nonzero(a.flatten(), return_matrix=True)[0]


def nonzero_values(a):
    """The non-zero elements of the flattened ``a``, in order."""
    a = _basic.as_tensor_variable(a)
    if a.ndim == 0:
        raise ValueError("nonzero_values: the input must be at least 1-d")
    return a.flatten()[flatnonzero(a)]



# ------------------------------------------------------------ choose

_CHOOSE_MODES = ("raise", "wrap", "clip")


class Choose(Op):
    """``Choose(mode)(a, choices)``: numpy.choose, ``out[i] = choices[a[i]][i]`` with a, choices[k] broadcast.

    ``choices`` is one tensor whose leading axis enumerates the choices. ``mode``
    says what an index outside [0, n) does: 'raise' an error, 'wrap' around or
    'clip' to the ends. Differentiable with respect to the choices only.
    """

    __props__ = ("mode",)

    def __init__(self, mode="raise"):
        if mode not in _CHOOSE_MODES:
            raise ValueError(f"Choose: mode must be one of {_CHOOSE_MODES}, got {mode!r}")
        self.mode = mode

    def make_node(self, a, choices):
        a = _basic.as_tensor_variable(a)
        choices = _basic.as_tensor_variable(choices)
        if a.dtype not in _INTS:
            raise TypeError(f"Choose: input 0 (a) must be an integer tensor, got {a} of dtype {a.dtype}")
        if choices.ndim == 0:
            raise TypeError(f"Choose: input 1 (choices) must have a leading axis enumerating the choices, got "
                            f"the 0-d {choices}")
        ndim = max(a.ndim, choices.ndim - 1)
        a = _basic.shape_padleft(a, ndim - a.ndim)
        if choices.ndim - 1 < ndim:
            extra = ndim - choices.ndim + 1
            choices = choices.dimshuffle([0] + ["x"] * extra + list(range(1, choices.ndim)))
        shape = []
        for d in range(ndim):
            sa, sc = a.type.shape[d], choices.type.shape[d + 1]
            known = {s for s in (sa, sc) if s is not None} - {1}
            if len(known) > 1:
                raise ValueError(f"Choose: a {a.type.shape} and the choices {choices.type.shape[1:]} do not "
                                 f"broadcast together (axis {d})")
            shape.append(known.pop() if known else (1 if sa == 1 and sc == 1 else None))
        return Apply(self, [a, choices], [TensorType(choices.dtype, shape=shape)()])

    def _indices(self, a, n):
        if self.mode == "wrap":
            return np.mod(a, n) if n else a
        if self.mode == "clip":
            return np.clip(a, 0, max(n - 1, 0))
        return a

    def perform(self, node, inputs, output_storage):
        a, choices = inputs
        n = choices.shape[0]
        for d, (va, vc) in enumerate(zip(node.inputs[0].broadcastable, node.inputs[1].broadcastable[1:])):
            if not va and not vc and a.shape[d] != choices.shape[d + 1]:
                raise ValueError(f"Choose: a of shape {a.shape} and choices of shape {choices.shape[1:]} differ "
                                 f"on axis {d}; only axes marked broadcastable may be broadcast")
        shape = np.broadcast_shapes(a.shape, choices.shape[1:])
        idx = self._indices(a, n)
        if idx.size and (n == 0 or idx.min() < 0 or idx.max() >= n):
            bad = idx[(idx < 0) | (idx >= n)].reshape(-1)[0]
            raise ValueError(f"Choose: index {bad} is out of range for {n} choices (mode={self.mode!r}; "
                             "'wrap' and 'clip' accept any index)")
        idx = np.broadcast_to(idx.astype(np.intp), shape)[None]
        picked = np.take_along_axis(np.broadcast_to(choices, (n,) + shape), idx, axis=0)[0]
        output_storage[0][0] = np.array(picked, dtype=node.outputs[0].type.dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        a, choices = node.inputs
        sa, sc = input_shapes[0], input_shapes[1][1:]
        return [tuple(sa[d] if not a.broadcastable[d] else sc[d] for d in range(a.ndim))]

    def connection_pattern(self, node):
        return [[False], [True]]

    def L_op(self, inputs, outputs, output_grads):
        a, choices = inputs
        (gz,) = output_grads
        if choices.dtype in ts.discrete_dtypes:
            return [DisconnectedType()(), _basic.zeros_like(choices, dtype=config.floatX)]
        n = choices.shape[0]
        if self.mode == "wrap":
            a = _math.mod(a, n)
        elif self.mode == "clip":
            a = _math.clip(a, 0, n - 1)
        which = arange(n).dimshuffle([0] + ["x"] * a.ndim)
        picked = _math.eq(_basic.shape_padleft(a), which)
        g = _math.switch(picked, _basic.shape_padleft(gz), _basic.constant(0, dtype=gz.dtype))
        summed = [d for d in range(choices.ndim) if choices.broadcastable[d] and not g.broadcastable[d]]
        if summed:
            g = _math.sum(g, axis=summed, keepdims=True)
        return [DisconnectedType()(), _basic.patternbroadcast(g, choices.broadcastable)]

    def R_op(self, inputs, eval_points):
        return [None if eval_points[1] is None else self(inputs[0], eval_points[1])]


def _stack_choices(choices):
    """A list of choices (tensors or values that broadcast together) as one tensor with a leading choice axis."""
    items = [_basic.as_tensor_variable(c) for c in choices]
    if not items:
        raise ValueError("choose: give at least one choice")
    dtype = ts.upcast(*[c.dtype for c in items])
    items = [_basic.cast(c, dtype) for c in items]
    if len({c.type.broadcastable for c in items}) > 1:
        ndim = max(c.ndim for c in items)
        items = [_basic.shape_padleft(c, ndim - c.ndim) for c in items]
        model = functools.reduce(lambda m, c: _basic.fill(c, m), items)
        items = [_basic.fill(model, c) for c in items]
    return _join.stack(items)


def choose(a, choices, out=None, mode="raise"):
    """``choices[a[i]][i]`` for each position i, as numpy.choose (Theano's ``T.choose``).

    ``choices`` is a tensor whose leading axis enumerates the choices, or a list of
    tensors/values; ``a`` and the choices broadcast together. ``mode`` is 'raise',
    'wrap' or 'clip' for indices outside [0, number of choices). ``out`` exists for
    NumPy's signature only: a symbolic result is always a new variable.
    """
    if out is not None:
        raise ValueError("choose: out is not supported; the result is a new symbolic variable")
    if isinstance(choices, (list, tuple)):
        choices = _stack_choices(choices)
    return Choose(mode)(a, choices)


squeeze = _shape.squeeze  # Theano 1.0 also offers it as T.extra_ops.squeeze
