"""Input checks shared by the linear-algebra ops (``nlinalg``, ``nlinalg_extra``, ``slinalg``).

They live apart from the ops so that every linear-algebra module can import
them without importing another one's ops.
"""

import symtensor.tensor.basic as _basic
from symtensor import scalar as ts
from symtensor.config import config
from symtensor.graph.basic import Apply
from symtensor.tensor.type import TensorType

__all__ = ["as_float_tensor", "as_float_matrix", "square_shape", "check_square"]


def as_float_tensor(x, opname, argname):
    """``x`` as a real float tensor: integers and booleans cast to floatX, float16 to float32."""
    x = _basic.as_tensor_variable(x)
    if x.dtype in ts.complex_dtypes:
        raise TypeError(f"{opname}: {argname} must be a real float tensor; complex ({x.dtype}) is not supported")
    if x.dtype == "float16":
        return _basic.cast(x, "float32")
    if x.dtype not in ts.float_dtypes:
        return _basic.cast(x, config.floatX)
    return x


def as_float_matrix(x, opname, argname="x", square=False):
    """``x`` as a real float matrix; with ``square``, a static non-square shape is refused."""
    x = as_float_tensor(x, opname, argname)
    if x.ndim != 2:
        raise TypeError(f"{opname}: {argname} must be a matrix (2-d), got a {x.ndim}-d {x}")
    if square:
        n, m = x.type.shape
        if n is not None and m is not None and n != m:
            raise ValueError(f"{opname}: {argname} must be a square matrix, got static shape {x.type.shape}")
    return x


def square_shape(x):
    """The static shape (n, n) of a square matrix variable, with n known if either side is."""
    n = next((s for s in x.type.shape if s is not None), None)
    return (n, n)


def check_square(opname, argname, value):
    """Refuse a non-square matrix at run time, naming the op (LAPACK's message would not)."""
    if value.ndim != 2 or value.shape[0] != value.shape[1]:
        raise ValueError(f"{opname}: {argname} must be a square matrix, got shape {value.shape}")


def eigen_node(op, x, opname):
    """``op`` applied to a square float matrix x: eigenvalues (n,) and eigenvectors (n, n), in x's dtype."""
    x = as_float_matrix(x, opname, square=True)
    n = square_shape(x)[0]
    return Apply(op, [x], [TensorType(x.dtype, shape=(n,))(), TensorType(x.dtype, shape=(n, n))()])
