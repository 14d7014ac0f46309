"""``MRG_RandomStreams`` where Theano code imports it from; the streams themselves use Philox
(see ``symtensor.tensor.shared_randomstreams``)."""

from symtensor.tensor.shared_randomstreams import MRG_RandomStreams  # noqa: F401

__all__ = ["MRG_RandomStreams"]
