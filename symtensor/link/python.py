"""The reference linker: runs each node's ``Op.perform`` in topological order.

A linker turns a FunctionGraph into a callable ``run(input_values) ->
output_values``. The C and CUDA linkers implement the same interface.
Storage of an intermediate value is dropped right after the last node that
reads it (``config.allow_gc``), so peak memory follows the live set, not the
whole graph; ``run.storage_plan`` shows which variables each step frees.
"""

import time

import numpy as np

import symtensor.printing as _printing
from symtensor.config import config
from symtensor.graph.basic import Constant, format_trace
from symtensor.link import lazy


class Linker:
    """Interface: ``make_function(fgraph, profile=None)`` returns ``run(list_of_input_values) -> list``.

    ``profile``, when given, has ``record_node(node, seconds)``.
    """

    def make_function(self, fgraph, profile=None):
        raise NotImplementedError


class NodeError(Exception):
    """Mixin marking an exception raised while running a node (``exc.node`` is the Apply)."""


_ERROR_CLASSES = {}


def _describe_value(val):
    shape = getattr(val, "shape", "()")
    dtype = getattr(val, "dtype", type(val).__name__)
    strides = getattr(val, "strides", None)
    text = f"shape {shape}, dtype {dtype}"
    if strides is not None:
        text += f", strides {strides}"
    if isinstance(val, np.ndarray) and val.size <= 8:
        text += f", value {np.array2string(val, separator=', ').replace(chr(10), '')}"
    return text


def runtime_error(exc, node, input_values):
    """``exc`` re-typed (a subclass of its class and of NodeError) with the failing node, its
    input shapes/dtypes and the user-code lines that created the node."""
    lines = [f"{exc}", "", f"Apply node that caused the error: {node}"]
    for i, (var, val) in enumerate(zip(node.inputs, input_values)):
        lines.append(f"  input {i}: {var} of type {var.type}: {_describe_value(val)}")
    trace = getattr(node.outputs[0].tag, "trace", None)
    if trace:
        lines.append("The variable that failed was created at (most recent call last):")
        lines.append(format_trace(trace).rstrip())
    else:
        lines.append("(no user-code trace recorded for this variable; raise config.traceback__limit)")
    if config.exception_verbosity == "high":
        lines.append("The failing node's graph:")
        lines.append(_debugprint_text(node.outputs).rstrip())
    else:
        lines.append("HINT: set config.exception_verbosity='high' to print the failing node's graph.")
    message = "\n".join(lines)
    cls = type(exc)
    try:
        new_cls = _ERROR_CLASSES.get(cls)
        if new_cls is None:
            new_cls = type(cls.__name__, (cls, NodeError), {"__module__": cls.__module__})
            _ERROR_CLASSES[cls] = new_cls
        new = new_cls(message)
    except Exception:  # noqa: BLE001 - exception classes with unusual constructors
        new = RuntimeError(message)
    new.node = node
    return new


def _debugprint_text(variables):
    return _printing.debugprint(variables, file="str")


class PythonLinker(Linker):
    """Evaluate with NumPy through Op.perform; the reference every backend is tested against."""

    def __init__(self, check_outputs=True, allow_gc=None):
        self.check_outputs = check_outputs
        self.allow_gc = allow_gc

    def make_function(self, fgraph, profile=None):
        order, gates = lazy.schedule(fgraph)
        index = {}
        constants = {}
        for var in fgraph.inputs:
            index[var] = len(index)

        def add(v):
            if v not in index:
                index[v] = len(index)
                if isinstance(v, Constant):
                    constants[index[v]] = v.data

        for node in order:
            for v in node.inputs:
                add(v)
            for v in node.outputs:
                add(v)
        for v in fgraph.outputs:
            add(v)
        allow_gc = config.allow_gc if self.allow_gc is None else self.allow_gc
        keep = {index[v] for v in fgraph.outputs} | set(constants) | {index[v] for v in fgraph.inputs}
        last_use = {}
        for step, node in enumerate(order):
            for v in node.inputs:
                last_use[index[v]] = step
            for v in node.outputs:  # an output nobody reads dies right after its node
                last_use.setdefault(index[v], step)
        variables = {i: v for v, i in index.items()}
        steps, plan = [], []
        for step, node in enumerate(order):
            ins = [index[v] for v in node.inputs]
            outs = [index[v] for v in node.outputs]
            touched = set(ins) | set(outs)
            free = sorted(i for i in touched if last_use.get(i) == step and i not in keep) if allow_gc else []
            # inputs the node overwrites: a read-only array there (a broadcast view, a frozen input) is
            # replaced by a writeable copy, which is safe because every other reader already ran
            destroyed = sorted({i for idxs in (node.op.destroy_map or {}).values() for i in idxs})
            steps.append((node, node.op.perform, ins, outs, free, destroyed))
            plan.append((node, [variables[i] for i in free]))
        n_inputs = len(fgraph.inputs)
        out_idx = [index[v] for v in fgraph.outputs]
        size = len(index)
        check = self.check_outputs
        gates_before = {}
        for gate in gates:
            gates_before.setdefault(gate.before, []).append((gate, index[gate.node.inputs[gate.cond_position]]))

        def run(input_values):
            if len(input_values) != n_inputs:
                raise TypeError(f"the compiled graph takes {n_inputs} input values, got {len(input_values)}")
            storage = [None] * size
            storage[:n_inputs] = input_values
            for i, value in constants.items():
                storage[i] = value
            skipped = set()
            for step, (node, perform, ins, outs, free, destroyed) in enumerate(steps):
                if gates_before:
                    for gate, cond_index in gates_before.get(step, ()):
                        if gate.node_pos not in skipped:
                            skipped.update(gate.skipped_steps(storage[cond_index]))
                    if step in skipped:
                        continue
                args = [storage[i] for i in ins]
                for k in destroyed:
                    if isinstance(args[k], np.ndarray) and not args[k].flags.writeable:
                        args[k] = args[k].copy()
                out_cells = [[None] for _ in outs]
                start = time.perf_counter() if profile is not None else 0.0
                try:
                    perform(node, args, out_cells)
                    if check:
                        _check_outputs(node, out_cells)
                except Exception as exc:  # noqa: BLE001 - re-raised with context
                    raise runtime_error(exc, node, args) from exc
                if profile is not None:
                    profile.record_node(node, time.perf_counter() - start)
                for i, cell in zip(outs, out_cells):
                    storage[i] = cell[0]
                del args, out_cells
                for i in free:
                    storage[i] = None
            return [storage[i] for i in out_idx]

        run.order = order
        #: [(Apply, [variables whose storage is dropped after it])], in execution order
        run.storage_plan = plan
        return run


def _check_outputs(node, out_cells):
    for var, (value,) in zip(node.outputs, out_cells):
        vtype = var.type
        ndim = getattr(vtype, "ndim", None)
        if ndim is None:
            continue
        if not isinstance(value, np.ndarray):
            raise TypeError(f"{node.op}.perform produced {type(value).__name__}, not an ndarray")
        if value.dtype.name != vtype.dtype or value.ndim != ndim:
            raise TypeError(f"{node.op}.perform produced a {value.ndim}-d {value.dtype} array for an output of "
                            f"type {vtype}")
        for axis, (want, got) in enumerate(zip(vtype.shape, value.shape)):
            if want is not None and want != got:
                raise ValueError(f"{node.op}: output axis {axis} has length {got}, but the graph says {want}")
