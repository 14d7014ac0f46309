"""2-d pooling over the last two axes (Theano's ``T.signal.pool``): max, sum and two averages.

Windows of ``ws`` pixels move by ``stride``; with ``pad`` the image is padded
by zeros on both sides of each axis (only with ``ignore_border=True``, and
pad < ws, so that every window holds at least one real pixel). Max, sum and
'average_exc_pad' only look at the real pixels of a window;
'average_inc_pad' divides by the window's size including the padding. With
``ignore_border=False`` a partial window at the end of an axis is kept (and
clipped), as in Theano.

Window size, stride and padding are op parameters (Python ints), not graph
inputs: a symbolic ``ws`` must be a constant. The max-pool gradient sends
each window's gradient to every pixel equal to its max, as Theano does.
"""

import numbers
import warnings

import numpy as np

import symtensor.tensor.basic as _basic
import symtensor.tensor.math as _math
from symtensor import scalar as ts
from symtensor.graph.basic import Apply, Variable
from symtensor.graph.op import Op
from symtensor.tensor.type import TensorType

MODES = ("max", "sum", "average_inc_pad", "average_exc_pad")


def _pair(value, what, minimum):
    if isinstance(value, Variable):
        try:
            value = [int(_basic.get_scalar_constant_value(value[k])) for k in range(2)]
        except _basic.NotScalarConstantError:
            raise TypeError(f"pool: {what} must be known when the graph is built (a constant or Python ints), "
                            f"got the symbolic {value}") from None
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if not isinstance(value, (tuple, list)) or len(value) != 2 or not all(
            isinstance(v, (numbers.Integral, np.integer)) and not isinstance(v, bool) for v in value):
        raise ValueError(f"pool: {what} must be a pair of ints, got {value!r}")
    if any(v < minimum for v in value):
        raise ValueError(f"pool: {what} entries must be >= {minimum}, got {tuple(value)}")
    return tuple(int(v) for v in value)


def pool_output_length(length, ws, stride, pad, ignore_border):
    """Pooled length of one axis (Python ints or symbolic integer scalars), Theano's formula."""
    if ignore_border:
        out = (length + 2 * pad - ws) // stride + 1
        return max(out, 0) if isinstance(out, numbers.Integral) else _math.maximum(out, 0)
    if stride >= ws:
        return (length - 1) // stride + 1
    out = (length - 1 - ws + stride) // stride
    return (max(out, 0) if isinstance(out, numbers.Integral) else _math.maximum(out, 0)) + 1


def _regions(length, n, ws, stride, pad, inc_pad):
    """Per output position of one axis: the slice of real pixels and the divisor's factor."""
    out = []
    padded = length + 2 * pad
    for i in range(n):
        start = i * stride
        end = min(start + ws, padded)
        lo, hi = max(start - pad, 0), min(end - pad, length)
        out.append((slice(lo, hi), end - start if inc_pad else hi - lo))
    return out


class _PoolParams(Op):
    """Window size, stride, padding, border rule and mode shared by the pooling ops and their gradients."""

    __props__ = ("ignore_border", "mode", "ws", "stride", "pad")

    def __init__(self, ignore_border=False, mode="max", ndim=2, ws=None, stride=None, pad=(0, 0)):
        if ndim != 2:
            raise NotImplementedError(f"{type(self).__name__}: only 2-d pooling (ndim=2) is supported, got {ndim}")
        if mode == "max_deterministic":
            mode = "max"
        if mode not in MODES:
            raise ValueError(f"{type(self).__name__}: mode must be one of {MODES}, got {mode!r}")
        self.ignore_border = bool(ignore_border)
        self.mode = mode
        self.ws = None if ws is None else _pair(ws, "ws", 1)
        self.stride = self.ws if stride is None else _pair(stride, "stride", 1)
        self.pad = (0, 0) if pad is None else _pair(pad, "pad", 0)
        if self.pad != (0, 0) and not self.ignore_border:
            raise NotImplementedError("pool: padding works only with ignore_border=True")
        if self.ws is not None and any(p >= w for p, w in zip(self.pad, self.ws)):
            raise NotImplementedError(f"pool: padding {self.pad} must be smaller than the window {self.ws}")

    def _with_window(self, ws, stride, pad):
        """The same op with window parameters given at call time (Theano passes them to make_node)."""
        params = {p: getattr(self, p) for p in self.__props__}
        params.update(ws=ws, stride=stride, pad=pad if pad is not None else params["pad"])
        return type(self)(**params)

    def _need_window(self):
        if self.ws is None:
            raise TypeError(f"{type(self).__name__}: the window size ws is missing")

    def out_spatial(self, rows, cols):
        return tuple(pool_output_length(n, self.ws[a], self.stride[a], self.pad[a], self.ignore_border)
                     for a, n in enumerate((rows, cols)))

    def _input(self, x, argname="x", float_only=False):
        x = _basic.as_tensor_variable(x)
        if x.ndim < 2:
            raise TypeError(f"{type(self).__name__}: {argname} must have at least 2 dimensions (pooling acts on the "
                            f"last two), got a {x.ndim}-d {x}")
        if float_only and x.dtype not in ts.float_dtypes:
            raise TypeError(f"{type(self).__name__}: {argname} must be a float tensor, got dtype {x.dtype}")
        return x

    def _pooled_type(self, x):
        rows, cols = x.type.shape[-2:]
        sp = tuple(None if n is None else v for n, v in zip((rows, cols), self.out_spatial(rows or 0, cols or 0)))
        return TensorType(x.dtype, shape=x.type.shape[:-2] + sp)

    # the NumPy reference: windows as slices of the real pixels
    def _windows(self, shape):
        rows, cols = shape[-2:]
        out = self.out_spatial(rows, cols)
        if (rows == 0 or cols == 0) and min(out) > 0:
            raise ValueError(f"{type(self).__name__}: pooling windows of an empty image (shape {tuple(shape)}) "
                             "would be empty")
        inc = self.mode == "average_inc_pad"
        return out, [_regions(n, k, self.ws[a], self.stride[a], self.pad[a], inc)
                     for a, (n, k) in enumerate(zip((rows, cols), out))]

    def _count(self, nr, nc):
        return 1 if self.mode in ("max", "sum") else nr * nc


class Pool(_PoolParams):
    """out[..., i, j] = max / sum / mean of the window (i, j) of the last two axes."""

    def make_node(self, x, ws=None, stride=None, pad=None):
        if ws is not None:
            return self._with_window(ws, stride, pad).make_node(x)
        self._need_window()
        x = self._input(x)
        return Apply(self, [x], [self._pooled_type(x)()])

    def perform(self, node, inputs, output_storage):
        (x,) = inputs
        out, (rreg, creg) = self._windows(x.shape)
        y = np.empty(x.shape[:-2] + out, dtype=node.outputs[0].dtype)
        reduce = np.max if self.mode == "max" else np.sum
        for i, (rs, nr) in enumerate(rreg):
            for j, (cs, nc) in enumerate(creg):
                y[..., i, j] = reduce(x[..., rs, cs], axis=(-2, -1)) / self._count(nr, nc)
        output_storage[0][0] = y

    def infer_shape(self, fgraph, node, input_shapes):
        (shp,) = input_shapes
        return [tuple(shp[:-2]) + self.out_spatial(*shp[-2:])]

    def L_op(self, inputs, outputs, output_grads):
        (x,) = inputs
        (gz,) = output_grads
        params = {p: getattr(self, p) for p in self.__props__}
        if self.mode == "max":
            return [MaxPoolGrad(**params)(x, outputs[0], gz)]
        return [AveragePoolGrad(**params)(x, gz)]

    def R_op(self, inputs, eval_points):
        if eval_points[0] is None:
            return [None]
        params = {p: getattr(self, p) for p in self.__props__}
        if self.mode == "max":
            return [DownsampleFactorMaxGradGrad(**params)(inputs[0], self(inputs[0]), eval_points[0])]
        return [self(eval_points[0])]

    @staticmethod
    def out_shape(imgshape, ws=None, ignore_border=False, stride=None, pad=None, ndim=2):
        """The output shape of pooling an input of shape ``imgshape`` (Theano's ``Pool.out_shape``)."""
        if ndim != 2:
            raise NotImplementedError("Pool.out_shape: only ndim=2 is supported")
        ws = _pair(ws, "ws", 1)
        stride = ws if stride is None else _pair(stride, "stride", 1)
        pad = (0, 0) if pad is None else _pair(pad, "pad", 0)
        lead = list(imgshape[:-2])
        return lead + [pool_output_length(imgshape[-2 + a], ws[a], stride[a], pad[a], ignore_border)
                       for a in range(2)]


class MaxPoolGrad(_PoolParams):
    """d cost / d x of max pooling: each window's gradient goes to the pixels equal to its max."""

    def __init__(self, ignore_border=False, mode="max", ndim=2, ws=None, stride=None, pad=(0, 0)):
        super().__init__(ignore_border, mode, ndim, ws, stride, pad)
        if self.mode != "max":
            raise ValueError(f"MaxPoolGrad: mode must be 'max', got {mode!r}")

    def make_node(self, x, maxout, gz, ws=None, stride=None, pad=None):
        if ws is not None:
            return self._with_window(ws, stride, pad).make_node(x, maxout, gz)
        self._need_window()
        x, maxout, gz = self._input(x), self._input(maxout, "maxout"), self._input(gz, "gz")
        if not (x.ndim == maxout.ndim == gz.ndim):
            raise TypeError(f"MaxPoolGrad: x, maxout and gz must have the same rank, got {x.ndim}, {maxout.ndim}, "
                            f"{gz.ndim}")
        return Apply(self, [x, maxout, gz], [TensorType(gz.dtype, shape=x.type.shape)()])

    def perform(self, node, inputs, output_storage):
        x, maxout, gz = inputs
        out, (rreg, creg) = self._windows(x.shape)
        _check_pooled("MaxPoolGrad", x, out, maxout=maxout, gz=gz)
        gx = np.zeros(x.shape, dtype=node.outputs[0].dtype)
        for i, (rs, _) in enumerate(rreg):
            for j, (cs, _) in enumerate(creg):
                hit = x[..., rs, cs] == maxout[..., i, j, None, None]
                gx[..., rs, cs] += hit * gz[..., i, j, None, None]
        output_storage[0][0] = gx

    def infer_shape(self, fgraph, node, input_shapes):
        return [input_shapes[0]]

    def L_op(self, inputs, outputs, output_grads):
        x, maxout, gz = inputs
        (ggx,) = output_grads
        params = {p: getattr(self, p) for p in self.__props__}
        return [_basic.zeros_like(x), _basic.zeros_like(maxout),
                DownsampleFactorMaxGradGrad(**params)(x, maxout, ggx)]


class AveragePoolGrad(_PoolParams):
    """d cost / d x of sum or average pooling: each window's gradient spread over its real pixels."""

    def __init__(self, ignore_border=False, mode="average_inc_pad", ndim=2, ws=None, stride=None, pad=(0, 0)):
        super().__init__(ignore_border, mode, ndim, ws, stride, pad)
        if self.mode == "max":
            raise ValueError("AveragePoolGrad: mode must be 'sum', 'average_inc_pad' or 'average_exc_pad'")

    def make_node(self, x, gz, ws=None, stride=None, pad=None):
        if ws is not None:
            return self._with_window(ws, stride, pad).make_node(x, gz)
        self._need_window()
        x, gz = self._input(x), self._input(gz, "gz")
        if x.ndim != gz.ndim:
            raise TypeError(f"AveragePoolGrad: x and gz must have the same rank, got {x.ndim} and {gz.ndim}")
        return Apply(self, [x, gz], [TensorType(gz.dtype, shape=x.type.shape)()])

    def perform(self, node, inputs, output_storage):
        x, gz = inputs
        out, (rreg, creg) = self._windows(x.shape)
        _check_pooled("AveragePoolGrad", x, out, gz=gz)
        gx = np.zeros(x.shape, dtype=node.outputs[0].dtype)
        for i, (rs, nr) in enumerate(rreg):
            for j, (cs, nc) in enumerate(creg):
                gx[..., rs, cs] += gz[..., i, j, None, None] / self._count(nr, nc)
        output_storage[0][0] = gx

    def infer_shape(self, fgraph, node, input_shapes):
        return [input_shapes[0]]

    def L_op(self, inputs, outputs, output_grads):
        x, gz = inputs
        (ggx,) = output_grads
        params = {p: getattr(self, p) for p in self.__props__}
        return [_basic.zeros_like(x), Pool(**params)(ggx)]


class DownsampleFactorMaxGradGrad(_PoolParams):
    """The adjoint of MaxPoolGrad in its gz: out[..., i, j] = sum of ggx over the max pixels of window (i, j)."""

    def make_node(self, x, maxout, ggx, ws=None, stride=None, pad=None):
        if ws is not None:
            return self._with_window(ws, stride, pad).make_node(x, maxout, ggx)
        self._need_window()
        if self.mode != "max":
            raise ValueError("DownsampleFactorMaxGradGrad: mode must be 'max'")
        x, maxout, ggx = self._input(x), self._input(maxout, "maxout"), self._input(ggx, "ggx")
        if not (x.ndim == maxout.ndim == ggx.ndim):
            raise TypeError("DownsampleFactorMaxGradGrad: x, maxout and ggx must have the same rank")
        return Apply(self, [x, maxout, ggx], [TensorType(ggx.dtype, shape=maxout.type.shape)()])

    def perform(self, node, inputs, output_storage):
        x, maxout, ggx = inputs
        out, (rreg, creg) = self._windows(x.shape)
        _check_pooled("DownsampleFactorMaxGradGrad", x, out, maxout=maxout)
        if ggx.shape != x.shape:
            raise ValueError(f"DownsampleFactorMaxGradGrad: ggx of shape {ggx.shape} must match x's {x.shape}")
        ggz = np.zeros(maxout.shape, dtype=node.outputs[0].dtype)
        for i, (rs, _) in enumerate(rreg):
            for j, (cs, _) in enumerate(creg):
                hit = x[..., rs, cs] == maxout[..., i, j, None, None]
                ggz[..., i, j] = np.sum(hit * ggx[..., rs, cs], axis=(-2, -1))
        output_storage[0][0] = ggz

    def infer_shape(self, fgraph, node, input_shapes):
        return [input_shapes[1]]

    def L_op(self, inputs, outputs, output_grads):
        x, maxout, ggx = inputs
        (g,) = output_grads
        params = {p: getattr(self, p) for p in self.__props__}
        return [_basic.zeros_like(x), _basic.zeros_like(maxout), MaxPoolGrad(**params)(x, maxout, g)]


def _check_pooled(opname, x, out, **pooled):
    want = x.shape[:-2] + tuple(out)
    for name, value in pooled.items():
        if value.shape != want:
            raise ValueError(f"{opname}: {name} has shape {value.shape}, but pooling x of shape {x.shape} gives "
                             f"{want}")


# ------------------------------------------------------------------ user functions

def pool_2d(input, ws=None, ignore_border=None, stride=None, pad=(0, 0), mode="max",  # noqa: A002
            ds=None, st=None, padding=None):
    """Pool the last two axes of ``input`` with windows ``ws`` (Theano 1.0's ``pool_2d``).

    ``ignore_border=None`` warns and means False (Theano 1.0's default);
    ``ds``, ``st`` and ``padding`` are the deprecated names of ``ws``,
    ``stride`` and ``pad``.
    """
    for old, new, value in (("ds", "ws", ds), ("st", "stride", st), ("padding", "pad", padding)):
        if value is None:
            continue
        warnings.warn(f"pool_2d: the {old} parameter is deprecated; use {new}", DeprecationWarning, stacklevel=2)
        if new == "ws":
            if ws is not None:
                raise ValueError("pool_2d: give ws or ds, not both")
            ws = value
        elif new == "stride":
            if stride is not None:
                raise ValueError("pool_2d: give stride or st, not both")
            stride = value
        else:
            if tuple(pad) != (0, 0):
                raise ValueError("pool_2d: give pad or padding, not both")
            pad = value
    if ws is None:
        raise ValueError("pool_2d: you must provide the window size ws")
    x = _basic.as_tensor_variable(input)
    if x.ndim < 2:
        raise NotImplementedError(f"pool_2d requires an input of 2 or more dimensions, got {x.ndim}")
    if ignore_border is None:
        warnings.warn("pool_2d: ignore_border was not given; it defaults to False, as in Theano 1.0 (pass "
                      "ignore_border=True for the faster behaviour that drops partial windows)", stacklevel=2)
        ignore_border = False
    return Pool(ignore_border=ignore_border, mode=mode, ws=ws, stride=stride, pad=pad)(x)


def max_pool_2d_same_size(input, patch_size):  # noqa: A002
    """Keep each non-overlapping patch's maximum in place and set every other value to 0."""
    x = _basic.as_tensor_variable(input)
    pooled = Pool(ignore_border=True, ws=patch_size)(x)
    return MaxPoolGrad(ignore_border=True, ws=patch_size)(x, pooled, pooled)
