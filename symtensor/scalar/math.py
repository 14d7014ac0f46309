"""The scalar op alphabet: arithmetic, comparisons, logic and special functions.

Each op gives a vectorized NumPy ``impl`` and a ``grad`` built from other
scalar ops. Ops that are piecewise constant (floor, comparisons, ...) have a
zero gradient; integer inputs get a zero gradient too.
"""

import math as _pymath

import numpy as np
import scipy.special as sps

from symtensor.graph.basic import Apply
from symtensor.graph.null_type import grad_undefined
from symtensor.scalar.basic import (
    BinaryScalarOp, ScalarOp, ScalarType, UnaryScalarOp, as_scalar, bool_out, complex_dtypes,
    constant, continuous_dtypes, discrete_dtypes, discrete_out, float_dtypes, same_out, same_out_float_only,
    true_div_out, upcast, upcast_out, upcast_out_no_complex, upgrade_to_float, upgrade_to_float_no_complex, zero_grad_of)


def _is_discrete(var):
    return var.type.dtype in discrete_dtypes


def _grads(inputs, grads):
    """Replace the gradient of integer inputs by a zero."""
    return [zero_grad_of(x) if _is_discrete(x) else g for x, g in zip(inputs, grads)]


# ------------------------------------------------------------- arithmetic

class Add(ScalarOp):
    commutative = associative = True
    identity = 0

    def impl(self, *xs):
        out = xs[0]
        for x in xs[1:]:
            out = out + x
        return out

    def grad(self, inputs, gouts):
        return _grads(inputs, [gouts[0]] * len(inputs))


class Mul(ScalarOp):
    commutative = associative = True
    identity = 1

    def impl(self, *xs):
        out = xs[0]
        for x in xs[1:]:
            out = out * x
        return out

    def grad(self, inputs, gouts):
        (gz,) = gouts
        res = []
        for i in range(len(inputs)):
            others = inputs[:i] + inputs[i + 1:]
            res.append(mul(gz, *others) if others else gz)
        return _grads(inputs, res)


class Sub(BinaryScalarOp):
    def impl(self, x, y):
        return x - y

    def grad(self, inputs, gouts):
        (gz,) = gouts
        return _grads(inputs, [gz, neg(gz)])


class TrueDiv(BinaryScalarOp):
    default_output_types = staticmethod(true_div_out)

    def impl(self, x, y):
        return np.true_divide(x, y)

    def grad(self, inputs, gouts):
        x, y = inputs
        (gz,) = gouts
        return _grads(inputs, [gz / y, neg(gz * x / (y * y))])


class IntDiv(BinaryScalarOp):
    default_output_types = staticmethod(upcast_out_no_complex)

    def impl(self, x, y):
        return np.floor_divide(x, y)

    def grad(self, inputs, gouts):
        return [zero_grad_of(x) for x in inputs]


class Mod(BinaryScalarOp):
    default_output_types = staticmethod(upcast_out_no_complex)

    def impl(self, x, y):
        return np.mod(x, y)

    def grad(self, inputs, gouts):
        x, y = inputs
        (gz,) = gouts
        return _grads(inputs, [gz, neg(gz * floor(x / y))])


class Pow(BinaryScalarOp):
    def impl(self, x, y):
        x, y = np.asarray(x), np.asarray(y)
        if x.dtype.kind in "biu" and y.dtype.kind in "biu" and np.any(y < 0):
            return np.power(x.astype("float64"), y)  # NumPy refuses negative integer powers
        return np.power(x, y)

    def grad(self, inputs, gouts):
        x, y = inputs
        (gz,) = gouts
        gx = gz * y * pow(x, y - constant(1))
        gy = gz * log(x) * pow(x, y)
        return _grads(inputs, [gx, gy])


class Maximum(BinaryScalarOp):
    commutative = associative = True

    def impl(self, x, y):
        return np.maximum(x, y)

    def grad(self, inputs, gouts):
        x, y = inputs
        (gz,) = gouts
        out = maximum(x, y)
        return _grads(inputs, [gz * cast(eq(out, x), gz.type.dtype), gz * cast(eq(out, y), gz.type.dtype)])


class Minimum(BinaryScalarOp):
    commutative = associative = True

    def impl(self, x, y):
        return np.minimum(x, y)

    def grad(self, inputs, gouts):
        x, y = inputs
        (gz,) = gouts
        out = minimum(x, y)
        return _grads(inputs, [gz * cast(eq(out, x), gz.type.dtype), gz * cast(eq(out, y), gz.type.dtype)])


class ArcTan2(BinaryScalarOp):
    default_output_types = staticmethod(upgrade_to_float_no_complex)

    def impl(self, y, x):
        return np.arctan2(y, x)

    def grad(self, inputs, gouts):
        y, x = inputs
        (gz,) = gouts
        denom = x * x + y * y
        return _grads(inputs, [gz * x / denom, neg(gz * y / denom)])


class Hypot(BinaryScalarOp):
    default_output_types = staticmethod(upgrade_to_float_no_complex)

    def impl(self, x, y):
        return np.hypot(x, y)

    def grad(self, inputs, gouts):
        x, y = inputs
        (gz,) = gouts
        h = hypot(x, y)
        return _grads(inputs, [gz * x / h, gz * y / h])


# ------------------------------------------------------------- comparisons

class _Compare(BinaryScalarOp):
    default_output_types = staticmethod(bool_out)
    cast_inputs = False
    ufunc = None

    def impl(self, x, y):
        return type(self).ufunc(x, y)

    def grad(self, inputs, gouts):
        return [zero_grad_of(x) for x in inputs]


class LT(_Compare):
    ufunc = np.less


class GT(_Compare):
    ufunc = np.greater


class LE(_Compare):
    ufunc = np.less_equal


class GE(_Compare):
    ufunc = np.greater_equal


class EQ(_Compare):
    ufunc = np.equal
    commutative = True


class NEQ(_Compare):
    ufunc = np.not_equal
    commutative = True


class IsNan(UnaryScalarOp):
    default_output_types = staticmethod(bool_out)
    cast_inputs = False

    def impl(self, x):
        return np.isnan(x)

    def grad(self, inputs, gouts):
        return [zero_grad_of(inputs[0])]


class IsInf(IsNan):
    def impl(self, x):
        return np.isinf(x)


# ------------------------------------------------------------------- logic

class _Bitwise(ScalarOp):
    default_output_types = staticmethod(discrete_out)
    cast_inputs = False
    ufunc = None

    def impl(self, *xs):
        out = xs[0]
        for x in xs[1:]:
            out = type(self).ufunc(out, x)
        return out

    def grad(self, inputs, gouts):
        return [zero_grad_of(x) for x in inputs]


class AND(_Bitwise):
    ufunc = np.bitwise_and
    commutative = associative = True


class OR(_Bitwise):
    ufunc = np.bitwise_or
    commutative = associative = True


class XOR(_Bitwise):
    ufunc = np.bitwise_xor
    commutative = associative = True


class Invert(_Bitwise):
    nin = 1

    def impl(self, x):
        return np.invert(x)


class Switch(ScalarOp):
    nin = 3
    cast_inputs = False

    def output_types(self, types):
        return upcast_out(*types[1:])

    def impl(self, cond, a, b):
        return np.where(cond, a, b)

    def grad(self, inputs, gouts):
        cond, a, b = inputs
        (gz,) = gouts
        zero = cast(constant(0), gz.type.dtype)
        return [zero_grad_of(cond)] + _grads([a, b], [switch(cond, gz, zero), switch(cond, zero, gz)])


class Clip(ScalarOp):
    nin = 3

    def output_types(self, types):
        return upcast_out(*types)

    def impl(self, x, lo, hi):
        return np.minimum(np.maximum(x, lo), hi)

    def grad(self, inputs, gouts):
        x, lo, hi = inputs
        (gz,) = gouts
        d = gz.type.dtype
        gx = gz * cast(AND()(ge(x, lo), le(x, hi)), d)
        glo = gz * cast(lt(x, lo), d)
        ghi = gz * cast(gt(x, hi), d)
        return _grads(inputs, [gx, glo, ghi])


class Identity(UnaryScalarOp):
    default_output_types = staticmethod(same_out)

    def impl(self, x):
        return x

    def grad(self, inputs, gouts):
        return _grads(inputs, [gouts[0]])


class Second(BinaryScalarOp):
    """``second(a, b) = b``: used by ``fill`` to give b the shape of a."""

    def output_types(self, types):
        return (types[1],)

    cast_inputs = False

    def impl(self, a, b):
        return np.broadcast_to(b, np.broadcast(a, b).shape)

    def grad(self, inputs, gouts):
        return [zero_grad_of(inputs[0]), gouts[0] if not _is_discrete(inputs[1]) else zero_grad_of(inputs[1])]


class Cast(UnaryScalarOp):
    __props__ = ("dtype",)
    cast_inputs = False

    def __init__(self, dtype):
        self.dtype = np.dtype(dtype).name
        super().__init__(None, f"convert_to_{self.dtype}")

    def __hash__(self):
        return hash((Cast, self.dtype))

    def output_types(self, types):
        return (ScalarType(self.dtype),)

    def impl(self, x):
        return np.asarray(x).astype(self.dtype)

    def grad(self, inputs, gouts):
        (x,) = inputs
        if _is_discrete(x) or self.dtype in discrete_dtypes:
            return [zero_grad_of(x)]
        return [cast(gouts[0], x.type.dtype)]


_casts = {}


def cast(x, dtype):
    x = as_scalar(x)
    dtype = np.dtype(dtype).name
    if x.type.dtype == dtype:
        return x
    if dtype not in _casts:
        _casts[dtype] = Cast(dtype)
    return _casts[dtype](x)


# ------------------------------------------------------------- unary math

class _Unary(UnaryScalarOp):
    """A unary float function: ``f`` is its NumPy/SciPy implementation and
    ``d`` builds the derivative of the output with respect to x."""

    default_output_types = staticmethod(upgrade_to_float)
    f = None

    def impl(self, x):
        return type(self).f(x)

    def derivative(self, x):
        raise NotImplementedError

    def grad(self, inputs, gouts):
        (x,) = inputs
        if _is_discrete(x):
            return [zero_grad_of(x)]
        return [gouts[0] * self.derivative(x)]


def _unary(name, f, derivative=None, output_types=upgrade_to_float, piecewise_constant=False):
    """Define a unary op class from its function and derivative."""
    attrs = {"f": staticmethod(f), "default_output_types": staticmethod(output_types)}
    if piecewise_constant:
        attrs["grad"] = lambda self, inputs, gouts: [zero_grad_of(inputs[0])]
    elif derivative is not None:
        attrs["derivative"] = lambda self, x: derivative(x)
    return type(name, (_Unary,), attrs)


def _c(value, like):
    return cast(constant(value), like.type.dtype if like.type.dtype in continuous_dtypes else "float64")


def _sgn_impl(x):
    return np.sign(x)


def _round_half_away(x):
    return np.where(x >= 0, np.floor(x + 0.5), np.ceil(x - 0.5)).astype(np.asarray(x).dtype)


def _real_out(t):
    return (ScalarType({"complex64": "float32", "complex128": "float64"}.get(t.dtype, t.dtype)),)


def _softplus(x):
    x = np.asarray(x)
    return np.where(x > 30, x, np.log1p(np.exp(np.minimum(x, 30))))


Neg = _unary("Neg", np.negative, lambda x: _c(-1, x), same_out)
Abs = _unary("Abs", np.abs, lambda x: sgn(x), _real_out)
Sgn = _unary("Sgn", _sgn_impl, output_types=same_out, piecewise_constant=True)
Sqr = _unary("Sqr", np.square, lambda x: _c(2, x) * x, same_out)
Sqrt = _unary("Sqrt", np.sqrt, lambda x: _c(0.5, x) / sqrt(x))
Exp = _unary("Exp", np.exp, lambda x: exp(x))
Exp2 = _unary("Exp2", np.exp2, lambda x: exp2(x) * _c(_pymath.log(2.0), x))
Expm1 = _unary("Expm1", np.expm1, lambda x: exp(x))
Log = _unary("Log", np.log, lambda x: _c(1, x) / x)
Log2 = _unary("Log2", np.log2, lambda x: _c(1, x) / (x * _c(_pymath.log(2.0), x)))
Log10 = _unary("Log10", np.log10, lambda x: _c(1, x) / (x * _c(_pymath.log(10.0), x)))
Log1p = _unary("Log1p", np.log1p, lambda x: _c(1, x) / (_c(1, x) + x))
Sin = _unary("Sin", np.sin, lambda x: cos(x))
Cos = _unary("Cos", np.cos, lambda x: neg(sin(x)))
Tan = _unary("Tan", np.tan, lambda x: _c(1, x) + sqr(tan(x)))
ArcSin = _unary("ArcSin", np.arcsin, lambda x: _c(1, x) / sqrt(_c(1, x) - sqr(x)))
ArcCos = _unary("ArcCos", np.arccos, lambda x: _c(-1, x) / sqrt(_c(1, x) - sqr(x)))
ArcTan = _unary("ArcTan", np.arctan, lambda x: _c(1, x) / (_c(1, x) + sqr(x)))
Sinh = _unary("Sinh", np.sinh, lambda x: cosh(x))
Cosh = _unary("Cosh", np.cosh, lambda x: sinh(x))
Tanh = _unary("Tanh", np.tanh, lambda x: _c(1, x) - sqr(tanh(x)))
ArcSinh = _unary("ArcSinh", np.arcsinh, lambda x: _c(1, x) / sqrt(sqr(x) + _c(1, x)))
ArcCosh = _unary("ArcCosh", np.arccosh, lambda x: _c(1, x) / sqrt(sqr(x) - _c(1, x)))
ArcTanh = _unary("ArcTanh", np.arctanh, lambda x: _c(1, x) / (_c(1, x) - sqr(x)))
Erf = _unary("Erf", sps.erf, lambda x: _c(2 / _pymath.sqrt(_pymath.pi), x) * exp(neg(sqr(x))),
             upgrade_to_float_no_complex)
Erfc = _unary("Erfc", sps.erfc, lambda x: _c(-2 / _pymath.sqrt(_pymath.pi), x) * exp(neg(sqr(x))),
              upgrade_to_float_no_complex)
Erfinv = _unary("Erfinv", sps.erfinv, lambda x: _c(_pymath.sqrt(_pymath.pi) / 2, x) * exp(sqr(erfinv(x))),
                upgrade_to_float_no_complex)
Erfcinv = _unary("Erfcinv", sps.erfcinv,
                 lambda x: _c(-_pymath.sqrt(_pymath.pi) / 2, x) * exp(sqr(erfcinv(x))),
                 upgrade_to_float_no_complex)
GammaLn = _unary("GammaLn", sps.gammaln, lambda x: psi(x), upgrade_to_float_no_complex)
Psi = _unary("Psi", sps.digamma, lambda x: tri_gamma(x), upgrade_to_float_no_complex)
Gamma = _unary("Gamma", sps.gamma, lambda x: gamma(x) * psi(x), upgrade_to_float_no_complex)
Sigmoid = _unary("Sigmoid", sps.expit, lambda x: sigmoid(x) * (_c(1, x) - sigmoid(x)),
                 upgrade_to_float_no_complex)
Softplus = _unary("Softplus", _softplus, lambda x: sigmoid(x), upgrade_to_float_no_complex)
Floor = _unary("Floor", np.floor, output_types=upgrade_to_float_no_complex, piecewise_constant=True)
Ceil = _unary("Ceil", np.ceil, output_types=upgrade_to_float_no_complex, piecewise_constant=True)
Trunc = _unary("Trunc", np.trunc, output_types=upgrade_to_float_no_complex, piecewise_constant=True)
RoundHalfToEven = _unary("RoundHalfToEven", np.round, output_types=same_out_float_only, piecewise_constant=True)
RoundHalfAwayFromZero = _unary("RoundHalfAwayFromZero", _round_half_away, output_types=same_out_float_only,
                               piecewise_constant=True)
Real = _unary("Real", np.real, lambda x: _c(1, x), _real_out)
Imag = _unary("Imag", np.imag, output_types=_real_out, piecewise_constant=True)
Conj = _unary("Conj", np.conj, lambda x: _c(1, x), same_out)


class TriGamma(UnaryScalarOp):
    default_output_types = staticmethod(upgrade_to_float_no_complex)

    def impl(self, x):
        return sps.polygamma(1, x)

    def grad(self, inputs, gouts):
        return [grad_undefined(self, 0, inputs[0], "the derivative of trigamma is not implemented")]


# ----------------------------------------------------------- op instances

add = Add(name="add")
mul = Mul(name="mul")
sub = Sub(name="sub")
true_div = TrueDiv(name="true_div")
int_div = IntDiv(name="int_div")
mod = Mod(name="mod")
pow = Pow(name="pow")
maximum = Maximum(name="maximum")
minimum = Minimum(name="minimum")
arctan2 = ArcTan2(name="arctan2")
hypot = Hypot(name="hypot")
lt = LT(name="lt")
gt = GT(name="gt")
le = LE(name="le")
ge = GE(name="ge")
eq = EQ(name="eq")
neq = NEQ(name="neq")
isnan = IsNan(name="isnan")
isinf = IsInf(name="isinf")
and_ = AND(name="and_")
or_ = OR(name="or_")
xor = XOR(name="xor")
invert = Invert(name="invert")
switch = Switch(name="switch")
clip = Clip(name="clip")
identity = Identity(name="identity")
second = Second(name="second")
neg = Neg(name="neg")
abs_ = Abs(name="abs")
sgn = Sgn(name="sgn")
sqr = Sqr(name="sqr")
sqrt = Sqrt(name="sqrt")
exp = Exp(name="exp")
exp2 = Exp2(name="exp2")
expm1 = Expm1(name="expm1")
log = Log(name="log")
log2 = Log2(name="log2")
log10 = Log10(name="log10")
log1p = Log1p(name="log1p")
sin = Sin(name="sin")
cos = Cos(name="cos")
tan = Tan(name="tan")
arcsin = ArcSin(name="arcsin")
arccos = ArcCos(name="arccos")
arctan = ArcTan(name="arctan")
sinh = Sinh(name="sinh")
cosh = Cosh(name="cosh")
tanh = Tanh(name="tanh")
arcsinh = ArcSinh(name="arcsinh")
arccosh = ArcCosh(name="arccosh")
arctanh = ArcTanh(name="arctanh")
erf = Erf(name="erf")
erfc = Erfc(name="erfc")
erfinv = Erfinv(name="erfinv")
erfcinv = Erfcinv(name="erfcinv")
gammaln = GammaLn(name="gammaln")
psi = Psi(name="psi")
tri_gamma = TriGamma(name="tri_gamma")
gamma = Gamma(name="gamma")
sigmoid = Sigmoid(name="sigmoid")
softplus = Softplus(name="softplus")
floor = Floor(name="floor")
ceil = Ceil(name="ceil")
trunc = Trunc(name="trunc")
round_half_to_even = RoundHalfToEven(name="round_half_to_even")
round_half_away_from_zero = RoundHalfAwayFromZero(name="round_half_away_from_zero")
real = Real(name="real")
imag = Imag(name="imag")
conj = Conj(name="conj")
