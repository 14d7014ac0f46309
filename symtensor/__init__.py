"""symtensor: a symbolic tensor compiler with Theano 1.0's API."""

__version__ = "0.1.0"

from symtensor.config import config  # noqa: F401
from symtensor import tensor  # noqa: F401  (loads the ops and registers shared tensors)
from symtensor.tensor import rewriting as _rewriting  # noqa: F401  (registers the rewrite pipeline)
from symtensor.link.c import linker as _c_linker  # noqa: F401  (registers the C linker)
from symtensor.compile import In, Mode, Out, SharedVariable, function, shared  # noqa: F401
from symtensor.gradient import Lop, Rop, grad, jacobian, hessian, subgraph_grad, verify_grad  # noqa: F401
from symtensor.graph.basic import Apply, Constant, Variable, clone_replace  # noqa: F401
from symtensor.graph import FunctionGraph, Op, Type  # noqa: F401
from symtensor.compile import as_op  # noqa: F401
from symtensor.compile.builders import OpFromGraph  # noqa: F401  (after the rewrites: it registers its own)
from symtensor import printing  # noqa: F401
from symtensor import ifelse  # noqa: F401  (the module, as in Theano: symtensor.ifelse.ifelse)
from symtensor.printing import debugprint, pp  # noqa: F401
from symtensor.scan import scan  # noqa: F401  (the function; symtensor.scan.until etc. are its attributes)
from symtensor import scan_module  # noqa: F401  (Theano's theano.scan_module: scan, until)
from symtensor.scan import foldl, foldr, map, reduce  # noqa: F401,A004  (Theano exports them at the top level)
from symtensor import gof  # noqa: F401  (Theano's theano.gof names)

dprint = debugprint
change_flags = config.change_flags
clone = clone_replace
