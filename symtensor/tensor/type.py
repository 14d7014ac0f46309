"""TensorType: dtype plus a static broadcastable pattern (and optional static shape)."""

import numpy as np

from symtensor.config import config
from symtensor.graph.basic import Variable
from symtensor.graph.type import Type
from symtensor.scalar.basic import all_dtypes


class TensorType(Type):
    """``TensorType(dtype, broadcastable)`` as in Theano, or ``TensorType(dtype, shape=(None, 3))``.

    A dimension marked broadcastable always has length 1. ``shape`` entries
    that are not None are static lengths checked on every value.
    """

    def __init__(self, dtype, broadcastable=None, name=None, shape=None):
        if dtype == "floatX":
            dtype = config.floatX
        dtype = np.dtype(dtype).name
        if dtype not in all_dtypes:
            raise TypeError(f"TensorType: unsupported dtype {dtype!r}")
        if broadcastable is None and shape is None:
            raise TypeError("TensorType needs `broadcastable` or `shape`")
        if shape is not None:
            shape = tuple(None if s is None else int(s) for s in shape)
            bcast = tuple(s == 1 for s in shape)
            if broadcastable is not None and len(broadcastable) != len(shape):
                raise TypeError("TensorType: broadcastable and shape have different lengths")
            if broadcastable is not None:
                bcast = tuple(bool(b) or s == 1 for b, s in zip(broadcastable, shape))
                shape = tuple(1 if b else s for b, s in zip(bcast, shape))
        else:
            bcast = tuple(bool(b) for b in broadcastable)
            shape = tuple(1 if b else None for b in bcast)
        self.dtype = dtype
        self.broadcastable = bcast
        self.shape = shape
        self.name = name

    @property
    def ndim(self):
        return len(self.broadcastable)

    @property
    def numpy_dtype(self):
        return np.dtype(self.dtype)

    def clone(self, dtype=None, broadcastable=None, shape=None):
        dtype = self.dtype if dtype is None else dtype
        if broadcastable is not None:
            return TensorType(dtype, broadcastable)
        return TensorType(dtype, shape=self.shape if shape is None else shape)

    def filter(self, data, strict=False, allow_downcast=None):
        """Check (and, unless strict, convert) ``data`` into a valid ndarray."""
        if isinstance(data, np.ndarray) and data.dtype.name == self.dtype:
            arr = data
        elif strict:
            raise TypeError(f"expected an ndarray of dtype {self.dtype}, got "
                            f"{type(data).__name__}{' of dtype ' + str(data.dtype) if hasattr(data, 'dtype') else ''}")
        else:
            arr = self._convert(data, allow_downcast)
        if arr.ndim != self.ndim:
            raise TypeError(f"expected a {self.ndim}-d array of {self.dtype}, got {arr.ndim}-d with shape {arr.shape}")
        for axis, (want, got) in enumerate(zip(self.shape, arr.shape)):
            if want is not None and want != got:
                what = "broadcastable (length 1)" if self.broadcastable[axis] else f"of length {want}"
                raise TypeError(f"dimension {axis} must be {what}, got shape {arr.shape}")
        return arr

    def _convert(self, data, allow_downcast):
        src = np.asarray(data)
        if src.dtype == object:
            raise TypeError(f"cannot convert {type(data).__name__} to a {self.dtype} array")
        if src.dtype.name == self.dtype:
            return src
        converted = src.astype(self.dtype)
        if allow_downcast:
            return converted
        python_float = (type(data) is float or isinstance(data, (list, tuple))) and src.dtype.name == "float64"
        if np.can_cast(src.dtype, self.dtype, casting="safe"):
            return converted
        if allow_downcast is None and python_float and self.dtype in (config.floatX, "float32"):
            return converted  # Python floats may become floatX (Theano's rule) or float32
        if isinstance(data, (int, float, bool, list, tuple)) and src.dtype.kind in "biuf":
            same = np.array_equal(converted.astype(src.dtype), src, equal_nan=src.dtype.kind == "f")
            if same and (src.dtype.kind != "f" or self.numpy_dtype.kind == "f"):
                return converted
        raise TypeError(f"cannot convert a {src.dtype} value to {self.dtype} without loss of precision; "
                        "cast it first or pass allow_input_downcast=True")

    def is_valid_value(self, data):
        return (isinstance(data, np.ndarray) and data.dtype.name == self.dtype and data.ndim == self.ndim
                and all(w is None or w == g for w, g in zip(self.shape, data.shape)))

    def value_signature(self, data):
        arr = np.asarray(data)
        return (arr.dtype.name, arr.shape, arr.tobytes())

    def values_eq(self, a, b):
        a, b = np.asarray(a), np.asarray(b)
        return a.shape == b.shape and a.dtype == b.dtype and bool(np.all(a == b))

    def values_eq_approx(self, a, b, rtol=None, atol=None):
        a, b = np.asarray(a), np.asarray(b)
        if a.shape != b.shape:
            return False
        tol = 1e-4 if "float32" in (a.dtype.name, b.dtype.name) else 1e-8
        return bool(np.allclose(a, b, rtol=rtol or tol, atol=atol or tol, equal_nan=True))

    def __eq__(self, other):
        return (type(self) is type(other) and self.dtype == other.dtype
                and self.broadcastable == other.broadcastable and self.shape == other.shape)

    def __hash__(self):
        return hash((TensorType, self.dtype, self.broadcastable, self.shape))

    def is_super(self, other):
        """Every value of ``other`` fits this type (same dtype/ndim, looser shape)."""
        if not isinstance(other, TensorType) or other.dtype != self.dtype or other.ndim != self.ndim:
            return False
        return all(s is None or s == o for s, o in zip(self.shape, other.shape))

    def filter_variable(self, other, allow_convert=True):
        """``other`` (a variable or a value) as a variable of this type, or TypeError (Theano's API)."""
        if not isinstance(other, Variable):
            other = self.make_constant(self.filter(other))
        converted = self.convert_variable(other)
        if converted is None:
            raise TypeError(f"cannot convert {other} of type {other.type} to {self}")
        return converted

    def convert_variable(self, var):
        if var.type == self:
            return var
        if self.is_super(var.type):
            return var
        return None

    def __str__(self):
        if self.name:
            return self.name
        if all(s is None or b for s, b in zip(self.shape, self.broadcastable)):
            if not any(self.broadcastable):
                kind = {0: "scalar", 1: "vector", 2: "matrix"}.get(self.ndim, f"{self.ndim}D")
                return f"TensorType({self.dtype}, {kind})"
            return f"TensorType({self.dtype}, {self.broadcastable})"
        return f"TensorType({self.dtype}, shape={self.shape})"

    __repr__ = __str__


def tensor_type(dtype, ndim):
    return TensorType(dtype, (False,) * ndim)
