"""CLinker: the whole function as one compiled C module; Python only at the edges.

Nodes with a C kernel run as C; the others are called back into Python from
the driver, so mixed graphs work. If no C compiler is found the linker warns
once and returns the Python linker's function.
"""

import warnings

import numpy as np

from symtensor.compile.mode import register_linker
from symtensor.link.c import cache as c_cache
from symtensor.link.c import codegen
from symtensor.link.python import Linker, PythonLinker, _check_outputs, runtime_error

_warned_no_compiler = [False]


def python_thunk(node, check=True):
    """A callable running ``node.op.perform``, for nodes without C."""
    perform = node.op.perform
    n_out = len(node.outputs)

    def thunk(*args):
        cells = [[None] for _ in range(n_out)]
        perform(node, list(args), cells)
        if check:
            _check_outputs(node, cells)
        return tuple(c[0] for c in cells)

    return thunk


class CLinker(Linker):
    """Compile the graph into one C extension module (cached on disk) and drive it."""

    def __init__(self, fallback=None):
        self.fallback = fallback or PythonLinker()

    def make_function(self, fgraph, profile=None):
        plan = codegen.generate(fgraph)
        try:
            module = c_cache.get_module(plan.source, codegen.header_paths(), extra_flags=codegen.EXTRA_FLAGS,
                                        kind="python-extension")
        except c_cache.CompilerUnavailable as exc:
            if not _warned_no_compiler[0]:
                warnings.warn(f"symtensor: no working C compiler ({exc}); running with the Python linker",
                              stacklevel=3)
                _warned_no_compiler[0] = True
            return self.fallback.make_function(fgraph, profile=profile)
        thunks = [python_thunk(plan.python_nodes[pos]) if pos in plan.python_nodes else None
                  for pos in range(len(plan.order))]
        state = module.new_state({k: np.asarray(v) for k, v in plan.constants.items()}, thunks)
        c_run = module.run
        order = plan.order
        slot_of = plan.slot_of

        def run(input_values):
            try:
                return list(c_run(state, *input_values))
            except Exception as exc:  # noqa: BLE001 - re-raised with the failing node
                pos = module.failed_node(state)
                if pos < 0:
                    raise
                node = order[pos]
                args = [module.get_slot(state, slot_of[v]) for v in node.inputs]
                module.clear(state)
                raise runtime_error(exc, node, args) from exc

        run.order = order
        run.plan = plan
        run.module = module
        return run


for _name in ("c", "cvm", "c|py"):
    register_linker(_name, CLinker)
