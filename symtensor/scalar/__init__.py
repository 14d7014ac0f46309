"""Scalar types and ops: the alphabet Elemwise lifts to tensors."""

from symtensor.scalar.basic import *  # noqa: F401,F403
from symtensor.scalar.basic import ScalarType, ScalarOp, ScalarVariable, ScalarConstant, as_scalar, constant, upcast  # noqa: F401
from symtensor.scalar.math import *  # noqa: F401,F403
