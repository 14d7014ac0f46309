"""Scalar types, dtype promotion rules and the ScalarOp base class.

Scalar ops are the alphabet that ``Elemwise`` lifts to tensors (and that
fusion will combine into Composites). Each op's ``impl`` is written with
NumPy functions so that it works on whole arrays, and its gradient is a graph
of scalar ops, which Elemwise lifts to tensors the same way.
"""

import numpy as np

from symtensor.config import config
from symtensor.graph.basic import Apply, Constant, Variable
from symtensor.graph.op import Op
from symtensor.graph.type import Type

int_dtypes = ("int8", "int16", "int32", "int64")
uint_dtypes = ("uint8", "uint16", "uint32", "uint64")
discrete_dtypes = ("bool",) + int_dtypes + uint_dtypes
float_dtypes = ("float16", "float32", "float64")
complex_dtypes = ("complex64", "complex128")
continuous_dtypes = float_dtypes + complex_dtypes
all_dtypes = discrete_dtypes + continuous_dtypes


def upcast(*dtypes):
    """NumPy's promotion of array dtypes (not value based)."""
    return np.result_type(*[np.dtype(d) for d in dtypes]).name


_TO_FLOAT = {"bool": "float32", "int8": "float32", "uint8": "float32", "int16": "float32",
             "uint16": "float32", "int32": "float64", "uint32": "float64", "int64": "float64",
             "uint64": "float64"}


def upgrade_to_float_dtype(dtype):
    return _TO_FLOAT.get(dtype, dtype)


# -- output type preferences: functions of the input types
def upcast_out(*types):
    return (ScalarType(upcast(*[t.dtype for t in types])),)


def upgrade_to_float(*types):
    return (ScalarType(upgrade_to_float_dtype(upcast(*[t.dtype for t in types]))),)


def same_out(type, *rest):
    return (type,)


def bool_out(*types):
    return (ScalarType("bool"),)


def float_out(*types):
    return (ScalarType(config.floatX),)


def upcast_out_no_complex(*types):
    if any(t.dtype in complex_dtypes for t in types):
        raise TypeError("this op does not accept complex inputs")
    return upcast_out(*types)


def upgrade_to_float_no_complex(*types):
    if any(t.dtype in complex_dtypes for t in types):
        raise TypeError("this op does not accept complex inputs")
    return upgrade_to_float(*types)


def same_out_float_only(type, *rest):
    if type.dtype not in float_dtypes:
        raise TypeError(f"this op only accepts float inputs, got {type.dtype}")
    return (type,)


def true_div_out(*types):
    """Theano: integer / integer gives floatX; anything else upcasts."""
    if all(t.dtype in discrete_dtypes for t in types):
        return (ScalarType(config.floatX),)
    return upcast_out(*types)


def discrete_out(*types):
    dtype = upcast(*[t.dtype for t in types])
    if dtype not in discrete_dtypes:
        raise TypeError(f"this op needs integer or boolean inputs, got {[t.dtype for t in types]}")
    return (ScalarType(dtype),)


def float_in_float_out(*types):
    dtype = upcast(*[t.dtype for t in types])
    return (ScalarType(dtype if dtype in continuous_dtypes else config.floatX),)


# ------------------------------------------------------------------ the type

class ScalarType(Type):
    __props__ = ("dtype",)

    def __init__(self, dtype):
        dtype = np.dtype(dtype).name
        if dtype not in all_dtypes:
            raise TypeError(f"unsupported scalar dtype {dtype!r}")
        self.dtype = dtype

    def filter(self, data, strict=False, allow_downcast=None):
        arr = np.asarray(data)
        if arr.ndim != 0:
            raise TypeError(f"{self}: expected a scalar, got an array of shape {arr.shape}")
        if arr.dtype.name == self.dtype:
            return arr.copy() if arr is data else arr
        if strict:
            raise TypeError(f"{self}: expected dtype {self.dtype}, got {arr.dtype}")
        cast = arr.astype(self.dtype)
        if not allow_downcast and not np.can_cast(arr.dtype, self.dtype) and cast != arr:
            raise TypeError(f"{self}: {data!r} cannot be converted to {self.dtype} without loss")
        return cast

    def value_signature(self, data):
        return (self.dtype, np.asarray(data).tobytes())

    def values_eq(self, a, b):
        return bool(np.all(a == b))

    def values_eq_approx(self, a, b):
        return bool(np.allclose(a, b, equal_nan=True))

    def __eq__(self, other):
        return type(self) is type(other) and self.dtype == other.dtype

    def __hash__(self):
        return hash((ScalarType, self.dtype))

    def __str__(self):
        return f"Scalar({self.dtype})"

    __repr__ = __str__


class _ScalarOperators:
    """Python operators for scalar graphs (used to write gradients)."""

    def __add__(self, other):
        return add(self, other)

    def __radd__(self, other):
        return add(other, self)

    def __sub__(self, other):
        return sub(self, other)

    def __rsub__(self, other):
        return sub(other, self)

    def __mul__(self, other):
        return mul(self, other)

    def __rmul__(self, other):
        return mul(other, self)

    def __truediv__(self, other):
        return true_div(self, other)

    def __rtruediv__(self, other):
        return true_div(other, self)

    def __pow__(self, other):
        return pow(self, other)

    def __neg__(self):
        return neg(self)

    def __lt__(self, other):
        return lt(self, other)

    def __le__(self, other):
        return le(self, other)

    def __gt__(self, other):
        return gt(self, other)

    def __ge__(self, other):
        return ge(self, other)

    def zeros_like(self, dtype=None):
        return cast(constant(0), dtype or self.type.dtype)

    def ones_like(self, dtype=None):
        return cast(constant(1), dtype or self.type.dtype)

    def astype(self, dtype):
        return cast(self, dtype)

    @property
    def dtype(self):
        return self.type.dtype


class ScalarVariable(_ScalarOperators, Variable):
    pass


class ScalarConstant(_ScalarOperators, Constant):
    pass


ScalarType.variable_type = ScalarVariable
ScalarType.constant_type = ScalarConstant


def autocast_dtype(value):
    """The dtype a Python number becomes as a constant (Theano's 'custom' cast policy).

    Integers take the smallest signed type that holds them; floats become
    floatX when floatX is float32, else the smallest float that is exact.
    """
    if isinstance(value, (bool, np.bool_)):
        return "bool"
    if isinstance(value, (int, np.integer)) and not isinstance(value, np.integer):
        for dtype in int_dtypes:
            info = np.iinfo(dtype)
            if info.min <= value <= info.max:
                return dtype
        return "uint64" if value > 0 else "int64"
    if isinstance(value, float) and not isinstance(value, np.generic):  # np.float64 keeps its dtype
        if config.floatX in ("float32", "float16"):
            return config.floatX
        # compare as Python floats: NumPy 2 would compare a float32 with a weak float in float32
        with np.errstate(over="ignore"):
            exact = float(np.float32(value)) == value
        return "float32" if exact else "float64"
    if isinstance(value, complex):
        return "complex128"
    return np.asarray(value).dtype.name


def constant(value, dtype=None, name=None):
    dtype = dtype or autocast_dtype(value)
    return ScalarConstant(ScalarType(dtype), np.asarray(value, dtype=dtype), name)


def as_scalar(x):
    if isinstance(x, Variable):
        if isinstance(x.type, ScalarType):
            return x
        raise TypeError(f"expected a scalar variable, got {x} of type {x.type}")
    return constant(x)


# ------------------------------------------------------------------- the op

class ScalarOp(Op):
    """Base scalar op. ``nin``/``nout`` fixed per class; ``impl`` is vectorized."""

    nin = -1
    nout = 1
    #: NumPy-side name for printing / the C backend later
    __props__ = ("output_types_preference", "name")
    #: cast integer inputs to the (float) output dtype before calling impl
    cast_inputs = True
    commutative = False
    associative = False
    identity = None

    def __init__(self, output_types_preference=None, name=None):
        self.output_types_preference = output_types_preference or self.default_output_types
        self.name = name or type(self).__name__.lower()

    default_output_types = staticmethod(upcast_out)

    def __str__(self):
        return self.name

    def __hash__(self):
        return hash((type(self), self.name))

    def output_types(self, types):
        return self.output_types_preference(*types)

    def make_node(self, *inputs):
        if self.nin >= 0 and len(inputs) != self.nin:
            raise TypeError(f"{self}: expected {self.nin} inputs, got {len(inputs)}")
        inputs = [as_scalar(i) for i in inputs]
        outputs = [t() for t in self.output_types([i.type for i in inputs])]
        return Apply(self, inputs, outputs)

    def impl(self, *inputs):
        raise NotImplementedError(f"{self}.impl")

    def perform(self, node, inputs, output_storage):
        results = self.compute(node, inputs)
        for store, value in zip(output_storage, results):
            store[0] = value

    def compute(self, node, inputs):
        """impl with dtype discipline: returns arrays of the node's output dtypes."""
        out_dtypes = [o.type.dtype for o in node.outputs]
        if self.cast_inputs and out_dtypes[0] in continuous_dtypes:
            inputs = [np.asarray(x, dtype=out_dtypes[0]) if np.asarray(x).dtype.kind in "biu" else x
                      for x in inputs]
        with np.errstate(all="ignore"):
            results = self.impl(*inputs)
        if self.nout == 1:
            results = (results,)
        return [np.asarray(r, dtype=d) for r, d in zip(results, out_dtypes)]

    def L_op(self, inputs, outputs, output_grads):
        return self.grad(inputs, output_grads)

    def infer_shape(self, fgraph, node, input_shapes):
        return [()] * len(node.outputs)


class UnaryScalarOp(ScalarOp):
    nin = 1


class BinaryScalarOp(ScalarOp):
    nin = 2


def zero_grad_of(x):
    """Gradient for an input along which the op is piecewise constant."""
    dtype = x.type.dtype if x.type.dtype in continuous_dtypes else config.floatX
    return cast(constant(0), dtype)


# The alphabet lives in symtensor.scalar.math; these names are bound there and
# used above for gradients and operators.
from symtensor.scalar.math import add, cast, ge, gt, le, lt, mul, neg, pow, sub, true_div  # noqa: E402,F401
