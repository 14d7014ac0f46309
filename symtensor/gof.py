"""Theano's ``theano.gof`` names (``gof.Op``, ``gof.Apply``, ``gof.graph.inputs``...), for ported code.

symtensor keeps its graph layer in ``symtensor.graph``; this module only re-exports it.
"""

from symtensor.graph import basic as graph  # noqa: F401
from symtensor.graph import fgraph, op, type  # noqa: F401,A004
from symtensor.graph.basic import Apply, Constant, Variable, clone, graph_inputs as inputs  # noqa: F401
from symtensor.graph.fgraph import Feature, FunctionGraph, InconsistencyError  # noqa: F401
from symtensor.graph.op import Op  # noqa: F401
from symtensor.graph.type import Type  # noqa: F401
