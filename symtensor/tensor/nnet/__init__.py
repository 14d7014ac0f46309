"""``T.nnet``: neural-network ops."""

from symtensor.tensor.math import sigmoid, softplus  # noqa: F401
