"""TensorVariable and TensorConstant: Python operators over symbolic tensors.

The operators build graphs through the op modules, which are imported as
modules (not names) so that this file and they may refer to each other.
"""

import numpy as np

import symtensor.tensor.basic as _basic
import symtensor.tensor.elemwise as _elemwise
import symtensor.tensor.extra_ops as _extra_ops
import symtensor.tensor.math as _math
import symtensor.tensor.shape as _shape
import symtensor.tensor.sort as _sort
import symtensor.tensor.subtensor as _subtensor
from symtensor.graph.basic import Constant, Variable
from symtensor.tensor.type import TensorType


class _tensor_py_operators:
    #: as in Theano: ``ndarray * var`` defers to ``var.__rmul__`` instead of building an object array
    __array_priority__ = 1000

    # -- arithmetic
    def __add__(self, other):
        return _math.add(self, other)

    def __radd__(self, other):
        return _math.add(other, self)

    def __sub__(self, other):
        return _math.sub(self, other)

    def __rsub__(self, other):
        return _math.sub(other, self)

    def __mul__(self, other):
        return _math.mul(self, other)

    def __rmul__(self, other):
        return _math.mul(other, self)

    def __truediv__(self, other):
        return _math.true_div(self, other)

    def __rtruediv__(self, other):
        return _math.true_div(other, self)

    def __floordiv__(self, other):
        return _math.int_div(self, other)

    def __rfloordiv__(self, other):
        return _math.int_div(other, self)

    def __mod__(self, other):
        return _math.mod(self, other)

    def __rmod__(self, other):
        return _math.mod(other, self)

    def __pow__(self, other):
        return _math.pow(self, other)

    def __rpow__(self, other):
        return _math.pow(other, self)

    def __neg__(self):
        return _math.neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _math.abs_(self)

    def __matmul__(self, other):
        return _math.dot(self, other)

    def __rmatmul__(self, other):
        return _math.dot(other, self)

    # -- comparisons and logic (== is left as identity, as in Theano: use T.eq)
    def __lt__(self, other):
        return _math.lt(self, other)

    def __le__(self, other):
        return _math.le(self, other)

    def __gt__(self, other):
        return _math.gt(self, other)

    def __ge__(self, other):
        return _math.ge(self, other)

    def __and__(self, other):
        return _math.and_(self, other)

    def __rand__(self, other):
        return _math.and_(other, self)

    def __or__(self, other):
        return _math.or_(self, other)

    def __ror__(self, other):
        return _math.or_(other, self)

    def __xor__(self, other):
        return _math.xor(self, other)

    def __rxor__(self, other):
        return _math.xor(other, self)

    def __invert__(self):
        return _math.invert(self)

    def __bool__(self):
        raise TypeError("a symbolic tensor has no truth value; use T.switch / ifelse, or compare with T.eq")

    def __iter__(self):
        raise TypeError("a symbolic tensor cannot be iterated; index it or use scan")

    def __len__(self):
        raise TypeError("a symbolic tensor has no len(); use x.shape[0]")

    # -- attributes
    @property
    def ndim(self):
        return self.type.ndim

    @property
    def dtype(self):
        return self.type.dtype

    @property
    def broadcastable(self):
        return self.type.broadcastable

    @property
    def shape(self):
        return _shape.shape(self)

    @property
    def size(self):
        return _math.prod(self.shape) if self.ndim else _basic.constant(1, dtype="int64")

    @property
    def T(self):
        return self.transpose()

    def transpose(self, *axes):
        if len(axes) == 1 and isinstance(axes[0], (list, tuple)):
            axes = tuple(axes[0])
        if not axes:
            axes = tuple(reversed(range(self.ndim)))
        return self.dimshuffle(*axes)

    def dimshuffle(self, *pattern):
        if len(pattern) == 1 and isinstance(pattern[0], (list, tuple)):
            pattern = tuple(pattern[0])
        return _elemwise.DimShuffle(self.broadcastable, pattern)(self)

    def reshape(self, shape, *more, ndim=None):
        if more:
            shape = (shape,) + more
        return _shape.reshape(self, shape, ndim=ndim)

    def flatten(self, ndim=1, outdim=None):
        return _shape.flatten(self, outdim if outdim is not None else ndim)

    def astype(self, dtype):
        return _basic.cast(self, dtype)

    def squeeze(self):
        return _shape.squeeze(self)

    def ravel(self):
        return _shape.flatten(self, 1)

    def repeat(self, repeats, axis=None):
        return _extra_ops.repeat(self, repeats, axis)

    def fill(self, value):
        return _basic.fill(self, value)

    def zeros_like(self, dtype=None):
        return _basic.zeros_like(self, dtype)

    def ones_like(self, dtype=None):
        return _basic.ones_like(self, dtype)

    def copy(self, name=None):
        out = _math.tensor_copy(self)
        out.name = name
        return out

    # -- reductions
    def sum(self, axis=None, dtype=None, keepdims=False, acc_dtype=None):
        return _math.sum(self, axis=axis, dtype=dtype, keepdims=keepdims, acc_dtype=acc_dtype)

    def prod(self, axis=None, dtype=None, keepdims=False, acc_dtype=None):
        return _math.prod(self, axis=axis, dtype=dtype, keepdims=keepdims, acc_dtype=acc_dtype)

    def mean(self, axis=None, dtype=None, keepdims=False, acc_dtype=None):
        return _math.mean(self, axis=axis, dtype=dtype, keepdims=keepdims, acc_dtype=acc_dtype)

    def var(self, axis=None, ddof=0, keepdims=False, corrected=False):
        return _math.var(self, axis=axis, ddof=ddof, keepdims=keepdims, corrected=corrected)

    def std(self, axis=None, ddof=0, keepdims=False, corrected=False):
        return _math.std(self, axis=axis, ddof=ddof, keepdims=keepdims, corrected=corrected)

    def max(self, axis=None, keepdims=False):
        return _math.max(self, axis=axis, keepdims=keepdims)

    def min(self, axis=None, keepdims=False):
        return _math.min(self, axis=axis, keepdims=keepdims)

    def argmax(self, axis=None, keepdims=False):
        return _math.argmax(self, axis=axis, keepdims=keepdims)

    def argmin(self, axis=None, keepdims=False):
        return _math.argmin(self, axis=axis, keepdims=keepdims)

    def all(self, axis=None, keepdims=False):
        return _math.all(self, axis=axis, keepdims=keepdims)

    def any(self, axis=None, keepdims=False):
        return _math.any(self, axis=axis, keepdims=keepdims)

    def norm(self, L, axis=None, keepdims=False):
        if L == 1:
            return _math.sum(_math.abs_(self), axis=axis, keepdims=keepdims)
        if L == 2:
            return _math.sqrt(_math.sum(_math.sqr(self), axis=axis, keepdims=keepdims))
        return _math.pow(_math.sum(_math.pow(_math.abs_(self), L), axis=axis, keepdims=keepdims), 1.0 / L)

    def dot(self, other):
        return _math.dot(self, other)

    def nonzero(self, return_matrix=False):
        return _extra_ops.nonzero(self, return_matrix)

    def sort(self, axis=-1, kind="quicksort", order=None):
        return _sort.sort(self, axis, kind, order)

    def argsort(self, axis=-1, kind="quicksort", order=None):
        return _sort.argsort(self, axis, kind, order)

    def clip(self, a_min, a_max):
        return _math.clip(self, a_min, a_max)

    def cumsum(self, axis=None):
        return _extra_ops.cumsum(self, axis)

    def cumprod(self, axis=None):
        return _extra_ops.cumprod(self, axis)

    def round(self, mode="half_away_from_zero"):
        return _math.round(self, mode)

    def exp(self):
        return _math.exp(self)

    def log(self):
        return _math.log(self)

    def sqrt(self):
        return _math.sqrt(self)

    # -- indexing
    def __getitem__(self, index):
        return _subtensor.getitem(self, index)

    def __setitem__(self, index, value):
        raise TypeError("symbolic tensors are immutable: use T.set_subtensor(x[idx], value) "
                        "or T.inc_subtensor(x[idx], value)")


class TensorVariable(_tensor_py_operators, Variable):
    pass


class TensorConstant(_tensor_py_operators, Constant):
    def signature(self):
        return (self.type, self.type.value_signature(self.data))

    def __str__(self):
        if self.name is not None:
            return self.name
        arr = np.asarray(self.data)
        text = str(arr) if arr.size <= 8 else f"{{{arr.shape} array}}"
        return text.replace("\n", "")


TensorType.variable_type = TensorVariable
TensorType.constant_type = TensorConstant
