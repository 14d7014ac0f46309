"""``T.nnet``: neural-network ops (softmax, activations, cross-entropies)."""

from symtensor.tensor.nnet import basic  # noqa: F401
from symtensor.tensor.nnet.basic import *  # noqa: F401,F403
from symtensor.tensor.nnet.basic import SELU_ALPHA, SELU_SCALE  # noqa: F401
