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
        except c_cache.CompileError as exc:
            # a bug in generated code must not stop the user's program: say so, run in Python
            warnings.warn(f"symtensor: the C code of this function did not compile; running it with the Python "
                          f"linker. Please report this. {exc}", stacklevel=3)
            return self.fallback.make_function(fgraph, profile=profile)
        thunks = [python_thunk(plan.python_nodes[pos]) if pos in plan.python_nodes else plan.node_data.get(pos)
                  for pos in range(len(plan.order))]
        state = module.new_state({k: np.asarray(v) for k, v in plan.constants.items()}, thunks)
        return CRunner(module, state, plan, profile)


class CRunner:
    """The callable a compiled C module becomes: ``runner(input_values) -> outputs``.

    ``make_fast_call`` gives Function a checked entry point that does the whole
    call (argument checks, shared values, aliasing rules, updates) in C.
    """

    def __init__(self, module, state, plan, profile=None):
        self.module = module
        self.state = state
        self.plan = plan
        self.order = plan.order
        self.profile = profile
        self._run = module.run
        if profile is not None:
            module.profile(state)  # the driver times every node

    def __call__(self, input_values):
        try:
            return list(self._run(self.state, *input_values))
        except Exception as exc:  # noqa: BLE001 - re-raised with the failing node
            self.explain(exc)
            raise
        finally:
            if self.profile is not None:
                for node, seconds in zip(self.order, self.module.take_node_times(self.state)):
                    self.profile.record_node(node, seconds)

    def explain(self, exc):
        """Re-raise ``exc`` with the report of the node that failed (if a node failed)."""
        pos = self.module.failed_node(self.state)
        if pos < 0:
            return
        node = self.order[pos]
        args = [self.module.get_slot(self.state, self.plan.slot_of[v]) for v in node.inputs]
        self.module.clear(self.state)
        raise runtime_error(exc, node, args) from exc

    def make_fast_call(self, input_types, containers, inplace_shared, borrow, updates, single, trust):
        """``(call, state)``: ``call(state, *args)`` returns the result, or NotImplemented to ask for the
        Python path; on a node failure, pass the exception to ``explain``.

        input_types: TensorType per user input; containers: shared-value containers;
        updates: (container, graph-output index) pairs; the other arguments as in Function.
        """
        specs = []
        for t in input_types:
            if getattr(t, "ndim", None) is None:
                return None
            specs.append((np.dtype(t.dtype).num, t.ndim, tuple(-1 if s is None else s for s in t.shape)))
        self.module.set_call_spec(self.state, (tuple(specs), tuple(containers), tuple(inplace_shared),
                                               tuple(int(b) for b in borrow), tuple(updates), single, trust))
        return self.module.call, self.state

    def make_entry(self, owner_ref):
        """A callable doing the whole call in C, for use as a Function's ``__call__`` (after
        ``make_fast_call``). It calls ``owner_ref()._call_python(*args, **kwargs)`` for what needs
        Python, and ``owner_ref()._node_failed(exc)`` when a node fails."""
        return self.module.entry(self.state, owner_ref)


for _name in ("c", "cvm", "vm", "c|py"):
    register_linker(_name, CLinker)
