"""``symtensor.tensor`` (imported as ``T``): tensor types, constructors and ops."""

from symtensor.tensor.type import TensorType  # noqa: F401
from symtensor.tensor import variable as _variable  # noqa: F401  (binds TensorVariable to TensorType)
from symtensor.tensor.variable import TensorConstant, TensorVariable, _tensor_py_operators  # noqa: F401
from symtensor.tensor.constructors import *  # noqa: F401,F403
from symtensor.tensor.basic import (  # noqa: F401
    Alloc, MakeVector, NotScalarConstantError, Rebroadcast, ScalarFromTensor, TensorFromScalar, addbroadcast,
    alloc, as_tensor_variable, cast, constant, fill, get_scalar_constant_value, make_vector, ones, ones_like,
    patternbroadcast, scalar_from_tensor, shape_padaxis, shape_padleft, shape_padright, tensor_from_scalar,
    unbroadcast, zeros, zeros_like)
from symtensor.tensor.basic import diag, diagonal, ptp, roll, stacklists, swapaxes, transpose  # noqa: F401
from symtensor.tensor.elemwise import CAReduce, DimShuffle, Elemwise  # noqa: F401
from symtensor.tensor.math import *  # noqa: F401,F403
from symtensor.tensor.math import (  # noqa: F401
    Argmax, BatchedDot, Dot, abs_, all, any, argmax, argmin, batched_dot, batched_tensordot, clip, dot, inv, max,
    max_and_argmax, mean, min, outer, prod, round, std, sum, tensordot, var)
from symtensor.tensor.shape import (  # noqa: F401
    Reshape, Shape, Shape_i, SpecifyShape, flatten, reshape, shape, shape_i, specify_shape, squeeze)
from symtensor.tensor.subtensor import (  # noqa: F401
    IncSubtensor, Subtensor, inc_subtensor, set_subtensor)
from symtensor.tensor.sharedvar import TensorSharedVariable  # noqa: F401
from symtensor.tensor.join import *  # noqa: F401,F403
from symtensor.tensor.extra_ops import *  # noqa: F401,F403
from symtensor.tensor.sort import *  # noqa: F401,F403
from symtensor.tensor.advanced_subtensor import *  # noqa: F401,F403
from symtensor.tensor import nnet  # noqa: F401
from symtensor.tensor import random, shared_randomstreams  # noqa: F401
from symtensor.tensor import signal  # noqa: F401
from symtensor.tensor import nlinalg, slinalg  # noqa: F401
from symtensor.gradient import Lop, Rop, grad, hessian, jacobian, verify_grad  # noqa: F401

as_tensor = as_tensor_variable
