"""Tensor math: elementwise functions, reductions, and dot products."""

import builtins

import numpy as np

import symtensor.tensor.basic as _basic
import symtensor.tensor.elemwise as _elemwise
import symtensor.tensor.join as _join
import symtensor.tensor.shape as _shape
from symtensor import scalar as ts
from symtensor.config import config
from symtensor.graph.basic import Apply
from symtensor.graph.op import Op
from symtensor.tensor.type import TensorType

_elemwise_cache = {}


def _elemwise_op(scalar_op):
    op = _elemwise_cache.get(scalar_op)
    if op is None:
        op = _elemwise_cache[scalar_op] = _elemwise.Elemwise(scalar_op)
    return op


def _lift(scalar_op, name, doc):
    def fn(*inputs):
        return _elemwise_op(scalar_op)(*inputs)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    fn.scalar_op = scalar_op
    return fn


# name -> (scalar op, docstring)
_ELEMWISE = {
    "add": (ts.add, "x + y + ..."), "sub": (ts.sub, "x - y"), "mul": (ts.mul, "x * y * ..."),
    "true_div": (ts.true_div, "x / y (integers give floats)"), "int_div": (ts.int_div, "x // y"),
    "mod": (ts.mod, "x % y"), "pow": (ts.pow, "x ** y"), "neg": (ts.neg, "-x"), "abs_": (ts.abs_, "|x|"),
    "sgn": (ts.sgn, "sign of x"), "sqr": (ts.sqr, "x * x"), "sqrt": (ts.sqrt, "square root"),
    "exp": (ts.exp, "e ** x"), "exp2": (ts.exp2, "2 ** x"), "expm1": (ts.expm1, "exp(x) - 1, exact near 0"),
    "log": (ts.log, "natural logarithm"), "log2": (ts.log2, "base-2 logarithm"),
    "log10": (ts.log10, "base-10 logarithm"), "log1p": (ts.log1p, "log(1 + x), exact near 0"),
    "sin": (ts.sin, "sine"), "cos": (ts.cos, "cosine"), "tan": (ts.tan, "tangent"),
    "arcsin": (ts.arcsin, "inverse sine"), "arccos": (ts.arccos, "inverse cosine"),
    "arctan": (ts.arctan, "inverse tangent"), "arctan2": (ts.arctan2, "angle of (x, y) = arctan2(y, x)"),
    "sinh": (ts.sinh, "hyperbolic sine"), "cosh": (ts.cosh, "hyperbolic cosine"),
    "tanh": (ts.tanh, "hyperbolic tangent"), "arcsinh": (ts.arcsinh, "inverse hyperbolic sine"),
    "arccosh": (ts.arccosh, "inverse hyperbolic cosine"), "arctanh": (ts.arctanh, "inverse hyperbolic tangent"),
    "hypot": (ts.hypot, "sqrt(x**2 + y**2)"),
    "erf": (ts.erf, "error function"), "erfc": (ts.erfc, "1 - erf(x)"), "erfinv": (ts.erfinv, "inverse of erf"),
    "erfcinv": (ts.erfcinv, "inverse of erfc"), "gammaln": (ts.gammaln, "log |Gamma(x)|"),
    "psi": (ts.psi, "digamma function"), "tri_gamma": (ts.tri_gamma, "trigamma function"),
    "gamma": (ts.gamma, "Gamma function"),
    "sigmoid": (ts.sigmoid, "1 / (1 + exp(-x))"), "softplus": (ts.softplus, "log(1 + exp(x)), stable"),
    "floor": (ts.floor, "round down"), "ceil": (ts.ceil, "round up"), "trunc": (ts.trunc, "round toward 0"),
    "round_half_to_even": (ts.round_half_to_even, "round, ties to even"),
    "round_half_away_from_zero": (ts.round_half_away_from_zero, "round, ties away from 0"),
    "maximum": (ts.maximum, "elementwise max"), "minimum": (ts.minimum, "elementwise min"),
    "lt": (ts.lt, "x < y"), "gt": (ts.gt, "x > y"), "le": (ts.le, "x <= y"), "ge": (ts.ge, "x >= y"),
    "eq": (ts.eq, "x == y"), "neq": (ts.neq, "x != y"), "isnan": (ts.isnan, "x is NaN"),
    "isinf": (ts.isinf, "x is infinite"),
    "and_": (ts.and_, "bitwise/logical and"), "or_": (ts.or_, "bitwise/logical or"),
    "xor": (ts.xor, "bitwise/logical xor"), "invert": (ts.invert, "bitwise/logical not"),
    "switch": (ts.switch, "elementwise cond ? a : b"), "identity": (ts.identity, "x"),
    "second": (ts.second, "b broadcast to the shape of a"),
    "real": (ts.real, "real part"), "imag": (ts.imag, "imaginary part"), "conj": (ts.conj, "complex conjugate"),
}

for _name, (_op, _doc) in _ELEMWISE.items():
    globals()[_name] = _lift(_op, _name, _doc)

# aliases Theano users know
floor_div = int_div  # noqa: F821
where = switch  # noqa: F821
bitwise_and, bitwise_or, bitwise_xor, bitwise_not = and_, or_, xor, invert  # noqa: F821
tensor_copy = identity  # noqa: F821
abs = abs_  # noqa: F821,A001
div_proxy = true_div  # noqa: F821


def inv(x):
    """1 / x"""
    return true_div(1, x)  # noqa: F821


reciprocal = inv


def clip(x, min, max):  # noqa: A002
    """x limited to [min, max]"""
    return _elemwise_op(ts.clip)(x, min, max)


def round(x, mode=None):  # noqa: A001
    """Round to the nearest integer; ``mode`` is 'half_away_from_zero' (default) or 'half_to_even'."""
    mode = mode or "half_away_from_zero"
    if mode == "half_away_from_zero":
        return round_half_away_from_zero(x)  # noqa: F821
    if mode == "half_to_even":
        return round_half_to_even(x)  # noqa: F821
    raise ValueError(f"round: unknown mode {mode!r}")


def iround(x, mode=None):
    return _basic.cast(round(x, mode), "int64")


def ifloor(x):
    return _basic.cast(floor(x), "int64")  # noqa: F821


def iceil(x):
    return _basic.cast(ceil(x), "int64")  # noqa: F821


def deg2rad(x):
    """Degrees to radians."""
    x = _basic.as_tensor_variable(x)
    return mul(x, _basic.constant(np.pi / 180.0, dtype=ts.basic.upgrade_to_float_dtype(x.dtype)))  # noqa: F821


def rad2deg(x):
    """Radians to degrees."""
    x = _basic.as_tensor_variable(x)
    return mul(x, _basic.constant(180.0 / np.pi, dtype=ts.basic.upgrade_to_float_dtype(x.dtype)))  # noqa: F821


def ceil_intdiv(a, b):
    """Integer division rounded up: ``ceil(a / b)`` without going through floats."""
    div = int_div(a, b)  # noqa: F821
    rest = neq(mod(a, b), 0)  # noqa: F821
    return add(div, _basic.cast(rest, div.dtype))  # noqa: F821


def largest(*args):
    """Elementwise maximum of any number of tensors."""
    if not args:
        raise TypeError("largest: needs at least one input")
    out = args[0]
    for a in args[1:]:
        out = maximum(out, a)  # noqa: F821
    return _basic.as_tensor_variable(out)


def smallest(*args):
    """Elementwise minimum of any number of tensors."""
    if not args:
        raise TypeError("smallest: needs at least one input")
    out = args[0]
    for a in args[1:]:
        out = minimum(out, a)  # noqa: F821
    return _basic.as_tensor_variable(out)


def isclose(a, b, rtol=1e-5, atol=1e-8, equal_nan=False):
    a, b = _basic.as_tensor_variable(a), _basic.as_tensor_variable(b)
    close = le(abs_(sub(a, b)), add(atol, mul(rtol, abs_(b))))  # noqa: F821
    if equal_nan:
        close = or_(close, and_(isnan(a), isnan(b)))  # noqa: F821
    return close


def allclose(a, b, rtol=1e-5, atol=1e-8, equal_nan=False):
    return all(isclose(a, b, rtol, atol, equal_nan))


# ---------------------------------------------------------------- reductions

def _normalize_axis(x, axis):
    if axis is None:
        return None
    if isinstance(axis, (int, np.integer)):
        axis = [axis]
    out = []
    for a in axis:
        a = int(_basic.get_scalar_constant_value(a)) if not isinstance(a, (int, np.integer)) else int(a)
        if not -x.ndim <= a < builtins.max(x.ndim, 1):
            raise ValueError(f"axis {a} is out of range for {x} with {x.ndim} dimensions")
        out.append(a % x.ndim if x.ndim else 0)
    return tuple(sorted(set(out)))


def _keep(x, out, axis, keepdims):
    if not keepdims:
        return out
    axes = range(x.ndim) if axis is None else axis
    pattern, k = [], 0
    for i in range(x.ndim):
        if i in axes:
            pattern.append("x")
        else:
            pattern.append(k)
            k += 1
    return out.dimshuffle(pattern)


def _careduce(scalar_op, x, axis, keepdims, dtype=None, acc_dtype=None):
    x = _basic.as_tensor_variable(x)
    axis = _normalize_axis(x, axis)
    if x.ndim == 0:
        axis = ()
    out = _elemwise.CAReduce(scalar_op, axis, dtype, acc_dtype)(x)
    return _keep(x, out, axis if axis is not None else tuple(range(x.ndim)), keepdims)


def sum(input, axis=None, dtype=None, keepdims=False, acc_dtype=None):  # noqa: A001,A002
    """Sum along ``axis`` (None: all axes). Integers sum to int64, float32 accumulates in float64."""
    return _careduce(ts.add, input, axis, keepdims, dtype, acc_dtype)


def prod(input, axis=None, dtype=None, keepdims=False, acc_dtype=None, no_zeros_in_input=False):  # noqa: A002
    """Product along ``axis``; the gradient is exact when inputs contain zeros."""
    return _careduce(ts.mul, input, axis, keepdims, dtype, acc_dtype)


def max(x, axis=None, keepdims=False):  # noqa: A001
    return _careduce(ts.maximum, x, axis, keepdims)


def min(x, axis=None, keepdims=False):  # noqa: A001
    return _careduce(ts.minimum, x, axis, keepdims)


def all(x, axis=None, keepdims=False):  # noqa: A001
    x = _basic.as_tensor_variable(x)
    return _careduce(ts.and_, neq(x, 0) if x.dtype != "bool" else x, axis, keepdims)  # noqa: F821


def any(x, axis=None, keepdims=False):  # noqa: A001
    x = _basic.as_tensor_variable(x)
    return _careduce(ts.or_, neq(x, 0) if x.dtype != "bool" else x, axis, keepdims)  # noqa: F821


def _count(x, axis):
    if axis is None:
        axis = range(x.ndim)
    n = _basic.constant(1, dtype="int64")
    for a in axis:
        n = mul(n, x.shape[a])  # noqa: F821
    return n


def mean(input, axis=None, dtype=None, keepdims=False, acc_dtype=None):  # noqa: A002
    """Arithmetic mean; integer inputs give float64 (as in Theano)."""
    x = _basic.as_tensor_variable(input)
    axis_n = _normalize_axis(x, axis)
    out_dtype = dtype or (x.dtype if x.dtype in ts.continuous_dtypes else "float64")
    total = sum(x, axis=axis_n, dtype=out_dtype if out_dtype in ts.continuous_dtypes else None, acc_dtype=acc_dtype)
    res = true_div(total, _basic.cast(_count(x, axis_n), out_dtype))  # noqa: F821
    res = _basic.cast(res, out_dtype)
    return _keep(x, res, axis_n if axis_n is not None else tuple(range(x.ndim)), keepdims)


def var(input, axis=None, ddof=0, keepdims=False, corrected=False):  # noqa: A002
    """Variance (divides by n - ddof)."""
    x = _basic.as_tensor_variable(input)
    axis_n = _normalize_axis(x, axis)
    centered = sub(x, mean(x, axis=axis_n, keepdims=True))  # noqa: F821
    ssq = sum(sqr(centered), axis=axis_n, keepdims=keepdims)  # noqa: F821
    n = _count(x, axis_n)
    if ddof:
        n = sub(n, ddof)  # noqa: F821
    res = true_div(ssq, _basic.cast(n, ssq.dtype))  # noqa: F821
    if corrected:
        err = sum(centered, axis=axis_n, keepdims=keepdims)
        res = sub(res, true_div(sqr(err), _basic.cast(mul(n, n), ssq.dtype)))  # noqa: F821
    return res


def std(input, axis=None, ddof=0, keepdims=False, corrected=False):  # noqa: A002
    return sqrt(var(input, axis=axis, ddof=ddof, keepdims=keepdims, corrected=corrected))  # noqa: F821


def prod_grad(x, axis, gz_b, out_b):
    """Gradient of prod that stays exact when x holds zeros (one zero or several)."""
    zero = eq(x, 0)  # noqa: F821
    nzeros = sum(_basic.cast(zero, "int64"), axis=axis, keepdims=True)
    prod_nonzero = prod(switch(zero, _basic.constant(1, dtype=x.dtype), x), axis=axis, keepdims=True)  # noqa: F821
    no_zero = true_div(out_b, switch(zero, _basic.constant(1, dtype=x.dtype), x))  # noqa: F821
    one_zero = switch(and_(eq(nzeros, 1), zero), prod_nonzero, _basic.constant(0, dtype=x.dtype))  # noqa: F821
    return mul(gz_b, switch(eq(nzeros, 0), no_zero, one_zero))  # noqa: F821


class Argmax(Op):
    """Index of the max (or min, with ``kind='min'``) along ``axis`` (None: flattened)."""

    __props__ = ("axis", "kind")

    def __init__(self, axis, kind="max"):
        self.axis = axis
        self.kind = kind

    def __str__(self):
        return f"Arg{self.kind}{{axis={self.axis}}}"

    def make_node(self, x):
        x = _basic.as_tensor_variable(x)
        shape = () if self.axis is None else tuple(s for i, s in enumerate(x.type.shape) if i != self.axis)
        return Apply(self, [x], [TensorType("int64", shape=shape)()])

    def perform(self, node, inputs, output_storage):
        (x,) = inputs
        if x.size == 0:
            raise ValueError(f"{self}: attempt to take the arg{self.kind} of an empty array of shape {x.shape}")
        fn = np.argmax if self.kind == "max" else np.argmin
        output_storage[0][0] = np.asarray(fn(x, axis=self.axis), dtype="int64")

    def infer_shape(self, fgraph, node, input_shapes):
        if self.axis is None:
            return [()]
        return [tuple(s for i, s in enumerate(input_shapes[0]) if i != self.axis)]

    def L_op(self, inputs, outputs, output_grads):
        return [_basic.zeros_like(inputs[0], dtype=config.floatX)]

    def connection_pattern(self, node):
        return [[False]]


def _arg(x, axis, keepdims, kind):
    x = _basic.as_tensor_variable(x)
    axes = _normalize_axis(x, axis)
    if axes is not None and len(axes) > 1:
        raise ValueError(f"arg{kind}: only one axis (or None) is supported, got {axis}")
    if axes is None and x.ndim == 1:
        axes = (0,)
    if x.ndim == 0:
        out = Argmax(None, kind)(x)
        return out
    out = Argmax(axes[0] if axes is not None else None, kind)(x)
    return _keep(x, out, axes if axes is not None else tuple(range(x.ndim)), keepdims)


def argmax(x, axis=None, keepdims=False):
    return _arg(x, axis, keepdims, "max")


def argmin(x, axis=None, keepdims=False):
    return _arg(x, axis, keepdims, "min")


def max_and_argmax(x, axis=None, keepdims=False):
    return max(x, axis, keepdims), argmax(x, axis, keepdims)


# ---------------------------------------------------------------------- dot

class Dot(Op):
    """Matrix/vector product of operands with at most 2 dimensions."""

    def make_node(self, x, y):
        x, y = _basic.as_tensor_variable(x), _basic.as_tensor_variable(y)
        if x.ndim not in (1, 2) or y.ndim not in (1, 2):
            raise TypeError(f"Dot: operands must be vectors or matrices, got {x.ndim}-d {x} and {y.ndim}-d {y}")
        kx, ky = x.type.shape[-1], y.type.shape[0]
        if kx is not None and ky is not None and kx != ky:
            raise ValueError(f"Dot: shapes {x.type.shape} and {y.type.shape} are not aligned")
        shape = x.type.shape[:-1] + y.type.shape[1:]
        dtype = ts.upcast(x.dtype, y.dtype)
        return Apply(self, [x, y], [TensorType(dtype, shape=shape)()])

    def perform(self, node, inputs, output_storage):
        x, y = inputs
        if x.shape[-1] != y.shape[0]:
            raise ValueError(f"Dot: shapes {x.shape} and {y.shape} are not aligned "
                             f"({x.shape[-1]} != {y.shape[0]})")
        output_storage[0][0] = np.asarray(np.dot(x, y), dtype=node.outputs[0].type.dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        xs, ys = input_shapes
        return [tuple(xs[:-1]) + tuple(ys[1:])]

    def L_op(self, inputs, outputs, output_grads):
        x, y = inputs
        (gz,) = output_grads
        if x.ndim == 1 and y.ndim == 1:
            gx, gy = mul(gz, y), mul(gz, x)  # noqa: F821
        elif x.ndim == 2 and y.ndim == 1:
            gx, gy = outer(gz, y), dot(x.T, gz)
        elif x.ndim == 1 and y.ndim == 2:
            gx, gy = dot(y, gz), outer(x, gz)
        else:
            gx, gy = dot(gz, y.T), dot(x.T, gz)
        return [_grad_like(gx, x), _grad_like(gy, y)]

    def R_op(self, inputs, eval_points):
        x, y = inputs
        ex, ey = eval_points
        terms = []
        if ex is not None:
            terms.append(dot(ex, y))
        if ey is not None:
            terms.append(dot(x, ey))
        if not terms:
            return [None]
        return [terms[0] if len(terms) == 1 else add(*terms)]  # noqa: F821


def _grad_like(g, x):
    if x.dtype in ts.discrete_dtypes:
        return _basic.zeros_like(x, dtype=config.floatX)
    return _basic.patternbroadcast(_basic.cast(g, x.dtype), x.broadcastable)


_dot = Dot()


def dot(a, b):
    """Theano's ``T.dot``: matrix/vector product; N-d operands contract a's last axis with b's second-to-last."""
    a, b = _basic.as_tensor_variable(a), _basic.as_tensor_variable(b)
    if a.ndim == 0 or b.ndim == 0:
        return mul(a, b)  # noqa: F821
    if a.ndim <= 2 and b.ndim <= 2:
        return _dot(a, b)
    return tensordot(a, b, [[a.ndim - 1], [builtins.max(0, b.ndim - 2)]])


def outer(x, y):
    x, y = _basic.as_tensor_variable(x), _basic.as_tensor_variable(y)
    if x.ndim != 1:
        x = _shape.flatten(x)
    if y.ndim != 1:
        y = _shape.flatten(y)
    return dot(x.dimshuffle(0, "x"), y.dimshuffle("x", 0))


def tensordot(a, b, axes=2):
    """Sum products over the given axes, like ``numpy.tensordot``; built from reshape + dot."""
    a, b = _basic.as_tensor_variable(a), _basic.as_tensor_variable(b)
    if isinstance(axes, (int, np.integer)):
        axes = [list(range(a.ndim - axes, a.ndim)), list(range(axes))]
    a_axes, b_axes = [list(np.atleast_1d(ax)) for ax in axes]
    if len(a_axes) != len(b_axes):
        raise ValueError(f"tensordot: axes {axes} must name as many axes of a as of b")
    a_axes = [int(i) % a.ndim for i in a_axes]
    b_axes = [int(i) % b.ndim for i in b_axes]
    a_free = [i for i in range(a.ndim) if i not in a_axes]
    b_free = [i for i in range(b.ndim) if i not in b_axes]
    at = a.dimshuffle(a_free + a_axes)
    bt = b.dimshuffle(b_axes + b_free)
    k = _prod_lengths(a, a_axes)
    a2 = _shape.reshape(at, [_prod_lengths(a, a_free), k], ndim=2)
    b2 = _shape.reshape(bt, [k, _prod_lengths(b, b_free)], ndim=2)
    out = _dot(a2, b2)
    out_shape = [a.shape[i] for i in a_free] + [b.shape[i] for i in b_free]
    return _shape.reshape(out, out_shape, ndim=len(out_shape)) if out_shape else _shape.reshape(out, [], ndim=0)


def _prod_lengths(x, axes):
    n = _basic.constant(1, dtype="int64")
    for a in axes:
        n = mul(n, x.shape[a])  # noqa: F821
    return n


class BatchedDot(Op):
    """``out[i] = dot(x[i], y[i])`` for 2-d or 3-d operands (a batch of vectors or matrices)."""

    def make_node(self, x, y):
        x, y = _basic.as_tensor_variable(x), _basic.as_tensor_variable(y)
        if x.ndim not in (2, 3) or y.ndim not in (2, 3):
            raise TypeError(f"BatchedDot: operands must be 2-d or 3-d, got {x.ndim}-d and {y.ndim}-d")
        shape = (x.type.shape[0] if x.type.shape[0] is not None else y.type.shape[0],) + \
            x.type.shape[1:-1] + y.type.shape[2:]
        return Apply(self, [x, y], [TensorType(ts.upcast(x.dtype, y.dtype), shape=shape)()])

    def perform(self, node, inputs, output_storage):
        x, y = inputs
        if x.shape[0] != y.shape[0] or x.shape[-1] != y.shape[1]:
            raise ValueError(f"BatchedDot: shapes {x.shape} and {y.shape} are not aligned")
        xe = x if x.ndim == 3 else x[:, None, :]
        ye = y if y.ndim == 3 else y[:, :, None]
        out = np.matmul(xe, ye)
        if x.ndim == 2:
            out = out[:, 0]
        if y.ndim == 2:
            out = out[..., 0]
        output_storage[0][0] = np.asarray(out, dtype=node.outputs[0].type.dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        xs, ys = input_shapes
        return [(xs[0],) + tuple(xs[1:-1]) + tuple(ys[2:])]

    def L_op(self, inputs, outputs, output_grads):
        x, y = inputs
        (gz,) = output_grads
        if x.ndim == 3 and y.ndim == 3:
            gx = batched_dot(gz, y.dimshuffle(0, 2, 1))
            gy = batched_dot(x.dimshuffle(0, 2, 1), gz)
        elif x.ndim == 2 and y.ndim == 2:
            gx, gy = mul(gz.dimshuffle(0, "x"), y), mul(gz.dimshuffle(0, "x"), x)  # noqa: F821
        elif x.ndim == 3 and y.ndim == 2:  # out[b, i] = sum_k x[b, i, k] y[b, k]
            gx = mul(gz.dimshuffle(0, 1, "x"), y.dimshuffle(0, "x", 1))  # noqa: F821
            gy = batched_dot(x.dimshuffle(0, 2, 1), gz)
        else:  # x 2-d, y 3-d: out[b, j] = sum_k x[b, k] y[b, k, j]
            gx = batched_dot(y, gz)
            gy = mul(x.dimshuffle(0, 1, "x"), gz.dimshuffle(0, "x", 1))  # noqa: F821
        return [_grad_like(gx, x), _grad_like(gy, y)]


_batched_dot = BatchedDot()


def batched_dot(a, b):
    """Batched matrix/vector products over the first axis (Theano's ``T.batched_dot``)."""
    a, b = _basic.as_tensor_variable(a), _basic.as_tensor_variable(b)
    if a.ndim == 1 or b.ndim == 1:
        return mul(a.dimshuffle(0, *(["x"] * (b.ndim - 1))) if a.ndim == 1 else a,  # noqa: F821
                   b.dimshuffle(0, *(["x"] * (a.ndim - 1))) if b.ndim == 1 else b)
    if a.ndim > 3 or b.ndim > 3:
        return batched_tensordot(a, b, [[a.ndim - 1], [b.ndim - 2]])
    return _batched_dot(a, b)


def batched_tensordot(x, y, axes=2):
    """tensordot for each pair x[i], y[i]."""
    x, y = _basic.as_tensor_variable(x), _basic.as_tensor_variable(y)
    if isinstance(axes, (int, np.integer)):
        axes = [list(range(x.ndim - axes, x.ndim)), list(range(1, axes + 1))]
    x_axes = [int(i) % x.ndim for i in np.atleast_1d(axes[0])]
    y_axes = [int(i) % y.ndim for i in np.atleast_1d(axes[1])]
    x_free = [i for i in range(1, x.ndim) if i not in x_axes]
    y_free = [i for i in range(1, y.ndim) if i not in y_axes]
    batch = x.shape[0]
    k = _prod_lengths(x, x_axes)
    x3 = _shape.reshape(x.dimshuffle([0] + x_free + x_axes), [batch, _prod_lengths(x, x_free), k], ndim=3)
    y3 = _shape.reshape(y.dimshuffle([0] + y_axes + y_free), [batch, k, _prod_lengths(y, y_free)], ndim=3)
    out = _batched_dot(x3, y3)
    shape = [batch] + [x.shape[i] for i in x_free] + [y.shape[i] for i in y_free]
    return _shape.reshape(out, shape, ndim=len(shape))


def stack_tensors(items, axis=0):
    return _join.stack(items, axis=axis)
