"""The graph IR: Variables, Apply nodes, Ops, Types, FunctionGraph. Knows nothing about tensors."""

from symtensor.graph.basic import (Apply, Constant, Variable, ancestors, clone, clone_get_equiv,  # noqa: F401
                                   clone_replace, graph_inputs, io_toposort)
from symtensor.graph.fgraph import (AlreadyThere, Feature, FunctionGraph, InconsistencyError,  # noqa: F401
                                    MissingInputError)
from symtensor.graph.op import Op  # noqa: F401
from symtensor.graph.type import Type  # noqa: F401
