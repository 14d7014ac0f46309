"""``T.nnet``: neural-network ops (softmax, activations, cross-entropies, conv2d, batch normalization, metrics)."""

from symtensor.tensor.nnet import basic  # noqa: F401
from symtensor.tensor.nnet import basic as nnet  # noqa: F401  (Theano's module name: T.nnet.nnet.softmax)
from symtensor.tensor.nnet.basic import *  # noqa: F401,F403
from symtensor.tensor.nnet.basic import SELU_ALPHA, SELU_SCALE  # noqa: F401
from symtensor.tensor.nnet import abstract_conv, bn, conv  # noqa: F401
from symtensor.tensor.nnet.abstract_conv import (  # noqa: F401
    conv2d, conv2d_grad_wrt_inputs, conv2d_grad_wrt_weights, conv2d_transpose)
from symtensor.tensor.nnet.bn import (  # noqa: F401
    batch_normalization, batch_normalization_test, batch_normalization_train)
from symtensor.tensor.nnet.dropout import dropout  # noqa: F401
from symtensor.tensor.nnet.metrics import confusion_matrix  # noqa: F401
from symtensor.tensor.nnet import neighbours  # noqa: F401
from symtensor.tensor.nnet.neighbours import images2neibs, neibs2images  # noqa: F401
