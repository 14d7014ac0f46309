"""Tensor rewrites. Importing this package registers every rewrite into the pipeline."""

from symtensor.tensor.rewriting import pipeline  # noqa: F401
from symtensor.tensor.rewriting import basic  # noqa: F401
from symtensor.tensor.rewriting import fusion  # noqa: F401
from symtensor.tensor.rewriting import math  # noqa: F401
from symtensor.tensor.rewriting import increments  # noqa: F401
from symtensor.tensor.rewriting import stabilize  # noqa: F401
from symtensor.tensor.rewriting import blas  # noqa: F401
from symtensor.tensor.rewriting import nnet  # noqa: F401
from symtensor.tensor.rewriting import inplace  # noqa: F401
from symtensor.tensor.rewriting.pipeline import register, rewrite_db, run_pipeline  # noqa: F401
