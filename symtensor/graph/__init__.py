"""The graph IR: Variables, Apply nodes, Ops, Types, FunctionGraph. Knows nothing about tensors."""

from symtensor.graph.basic import Apply, Constant, Variable, ancestors, clone, clone_replace, graph_inputs, io_toposort  # noqa: F401
from symtensor.graph.fgraph import Feature, FunctionGraph  # noqa: F401
from symtensor.graph.op import Op  # noqa: F401
from symtensor.graph.type import Type  # noqa: F401
