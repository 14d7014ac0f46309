"""Sparse updates: ``x - c * inc_rows(zeros_like(x), v, idx) -> inc_rows(x, -c * v, idx)``.

The gradient of an embedding lookup ``E[idx]`` is a zero array of E's shape with
the looked-up rows incremented; an SGD update then reads and writes all of E
(and allocates the zeros) to change a few rows. Incrementing E's rows directly
touches only those rows, and the in-place pass then makes it write into E.
"""


import symtensor.tensor.basic as tb
from symtensor import scalar as ts
from symtensor.graph.rewriting.basic import node_rewriter
from symtensor.tensor.advanced_subtensor import AdvancedIncSubtensor1, advanced_inc_subtensor1
from symtensor.tensor.elemwise import Elemwise
from symtensor.tensor.rewriting.basic import same_type_or_none
from symtensor.tensor.rewriting.math import elemwise_node, scalar_constant
from symtensor.tensor.rewriting.pipeline import register


def _zeros_like(var, like):
    """Whether ``var`` is zeros of ``like``'s shape: fill(like, 0)."""
    node = elemwise_node(var, ts.Second)
    return node is not None and node.inputs[0] is like and scalar_constant(node.inputs[1]) == 0


def _row_increment(var):
    """(zeros base, values, indices, scale) when var is [c *] inc_rows(base, v, idx), else None."""
    scale = None
    mul = elemwise_node(var, ts.Mul)
    if mul is not None and len(mul.inputs) == 2:
        for k in (0, 1):
            if all(mul.inputs[k].broadcastable):
                scale, var = mul.inputs[k], mul.inputs[1 - k]
                break
        else:
            return None
    node = var.owner
    if node is None or type(node.op) is not AdvancedIncSubtensor1 or node.op.set_instead_of_inc:
        return None
    base, values, idx = node.inputs
    return base, values, idx, scale


@register("specialize", "fast_run")
@node_rewriter([Elemwise])
def increment_rows_directly(fgraph, node):
    op = node.op.scalar_op
    if not isinstance(op, (ts.Add, ts.Sub)) or len(node.inputs) != 2:
        return None
    out = node.outputs[0]
    orders = [(0, 1), (1, 0)] if isinstance(op, ts.Add) else [(0, 1)]
    for xi, ti in orders:
        x, found = node.inputs[xi], _row_increment(node.inputs[ti])
        if found is None or x.type != out.type:
            continue
        base, values, idx, scale = found
        if not _zeros_like(base, x):
            continue
        step = values if scale is None else (scale.dimshuffle([]) if scale.ndim else scale) * values
        if isinstance(op, ts.Sub):
            step = -step
        step = tb.cast(step, x.dtype) if step.dtype != x.dtype else step
        new = same_type_or_none(advanced_inc_subtensor1(x, step, idx), out)
        if new is not None:
            return [new]
    return None


__all__ = ["increment_rows_directly"]
