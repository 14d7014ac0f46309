"""Shared tensors: arrays (and Python numbers) held by shared variables."""

import numbers

import numpy as np

from symtensor.compile.sharedvalue import SharedVariable, shared_constructor
from symtensor.tensor.type import TensorType
from symtensor.tensor.variable import _tensor_py_operators


class TensorSharedVariable(_tensor_py_operators, SharedVariable):
    pass


@shared_constructor
def tensor_constructor(value, name=None, strict=False, allow_downcast=None, borrow=False,
                       broadcastable=None, shape=None, target="cpu"):
    """ndarray -> TensorSharedVariable; no axis is broadcastable unless ``broadcastable`` says so."""
    if isinstance(value, (numbers.Number, np.number, bool, np.bool_)):
        value = np.asarray(value)
    if not isinstance(value, np.ndarray):
        raise TypeError("not an array")
    if value.dtype == object:
        raise TypeError("object arrays cannot be shared")
    if broadcastable is None and shape is None:
        broadcastable = (False,) * value.ndim
    ttype = TensorType(value.dtype.name, broadcastable=broadcastable, shape=shape)
    return TensorSharedVariable(name=name, type=ttype, value=value, strict=strict, allow_downcast=allow_downcast)
