"""symtensor's benchmark runner: the shipped models trained a few SGD steps in symtensor, PyTorch and
PyTensor from identical data and weights (``python -m symtensor.bench`` or ``symtensor-bench``).

torch and PyTensor are optional (``pip install symtensor[bench]``); this package imports without them.
"""

from symtensor.bench.models import DEFAULT_MODELS, REGISTRY  # noqa: F401
