"""The reference linker: runs each node's ``Op.perform`` in topological order.

A linker turns a FunctionGraph into a callable ``run(input_values) ->
output_values``. The C and CUDA linkers implement the same interface.
Storage of intermediate values is dropped as soon as no later node needs it.
"""

import numpy as np

from symtensor.graph.basic import Constant, format_trace


class Linker:
    """Interface: ``make_function(fgraph)`` returns ``run(list_of_input_values) -> list_of_outputs``."""

    def make_function(self, fgraph):
        raise NotImplementedError


class NodeError(Exception):
    """Mixin marking an exception raised while running a node (``exc.node`` is the Apply)."""


def runtime_error(exc, node, input_values):
    """Re-raise ``exc`` with the failing node, its input shapes/dtypes and the user line that built it."""
    lines = [f"{exc}", "", f"Apply node that caused the error: {node}"]
    for i, (var, val) in enumerate(zip(node.inputs, input_values)):
        shape = getattr(val, "shape", "()")
        dtype = getattr(val, "dtype", type(val).__name__)
        lines.append(f"  input {i}: {var} of type {var.type}, value shape {shape}, dtype {dtype}")
    trace = getattr(node.outputs[0].tag, "trace", None)
    if trace:
        lines.append("The variable that failed was created at (most recent call last):")
        lines.append(format_trace(trace).rstrip())
    else:
        lines.append("(no user-code trace recorded for this variable)")
    message = "\n".join(lines)
    cls = type(exc)
    try:
        new = type(cls.__name__, (cls, NodeError), {})(message)
    except Exception:  # noqa: BLE001 - exotic exception constructors
        new = RuntimeError(message)
    new.node = node
    new.__cause__ = exc
    return new


class PythonLinker(Linker):
    """Evaluate with NumPy through Op.perform; the reference every backend is tested against."""

    def __init__(self, check_outputs=True):
        self.check_outputs = check_outputs

    def make_function(self, fgraph):
        order = fgraph.toposort()
        index = {}
        constants = {}
        for var in fgraph.inputs:
            index[var] = len(index)
        for node in order:
            for v in node.inputs:
                if v not in index:
                    index[v] = len(index)
                    if isinstance(v, Constant):
                        constants[index[v]] = v.data
            for v in node.outputs:
                index[v] = len(index)
        for v in fgraph.outputs:
            if v not in index:
                index[v] = len(index)
                if isinstance(v, Constant):
                    constants[index[v]] = v.data
        keep = {index[v] for v in fgraph.outputs} | set(constants) | {index[v] for v in fgraph.inputs}
        last_use = {}
        for step, node in enumerate(order):
            for v in node.inputs:
                last_use[index[v]] = step
        steps = []
        for step, node in enumerate(order):
            ins = [index[v] for v in node.inputs]
            outs = [index[v] for v in node.outputs]
            free = [i for i in set(ins) if last_use.get(i) == step and i not in keep]
            steps.append((node, node.op.perform, ins, outs, free))
        n_inputs = len(fgraph.inputs)
        out_idx = [index[v] for v in fgraph.outputs]
        size = len(index)
        check = self.check_outputs

        def run(input_values):
            storage = [None] * size
            storage[:n_inputs] = input_values
            for i, value in constants.items():
                storage[i] = value
            for node, perform, ins, outs, free in steps:
                args = [storage[i] for i in ins]
                out_cells = [[None] for _ in outs]
                try:
                    perform(node, args, out_cells)
                    if check:
                        _check_outputs(node, out_cells)
                except Exception as exc:  # noqa: BLE001 - re-raised with context
                    raise runtime_error(exc, node, args) from exc
                for i, cell in zip(outs, out_cells):
                    storage[i] = cell[0]
                for i in free:
                    storage[i] = None
            return [storage[i] for i in out_idx]

        run.order = order
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
