"""Random numbers: the Philox generator (``philox``), its transforms, and the draw ops (``op``).

Users normally go through ``symtensor.tensor.shared_randomstreams.RandomStreams``.
"""

from symtensor.tensor.random import philox  # noqa: F401
from symtensor.tensor.random.op import (  # noqa: F401
    BinomialRV, ChoiceRV, IntegersRV, MultinomialRV, NormalRV, PermutationRV, RandomOp, UniformRV)
