"""Elementwise fusion: a tree of Elemwise nodes becomes one Elemwise over a Composite.

An Elemwise input is absorbed when this node is its only client (so nothing
is computed twice) and the fused node stays under ``MAX_INPUTS`` inputs.
Size-1 constants are inlined as scalar constants. Running the rewrite to a
fixed point fuses whole chains and trees.
"""

import numpy as np

from symtensor import scalar as ts
from symtensor.graph.basic import Constant
from symtensor.graph.rewriting.basic import EquilibriumGraphRewriter, node_rewriter
from symtensor.scalar.composite import Composite
from symtensor.tensor.elemwise import Elemwise
from symtensor.tensor.rewriting.basic import same_type_or_none
from symtensor.tensor.rewriting.pipeline import register

#: most inputs one fused node may take (C compilers and kernel argument lists have limits)
MAX_INPUTS = 32


def _absorbable(fgraph, var, out_ndim):
    node = var.owner
    return (node is not None and isinstance(node.op, Elemwise) and len(node.outputs) == 1
            and not node.op.destroy_map and var.ndim == out_ndim
            and len(fgraph.clients.get(var, ())) == 1 and var not in fgraph.outputs)


@node_rewriter([Elemwise])
def fuse_elemwise(fgraph, node):
    """Fuse this Elemwise with the Elemwise nodes that feed only it."""
    if len(node.outputs) != 1 or node.op.destroy_map:
        return None
    out = node.outputs[0]
    outer_inputs = []
    scalar_of = {}
    absorbed = [0]

    def scalar_input(var):
        if var in scalar_of:
            return scalar_of[var]
        if isinstance(var, Constant) and np.size(var.data) == 1:
            s = ts.constant(np.asarray(var.data).reshape(()), dtype=var.dtype)
        else:
            s = ts.ScalarType(var.dtype)()
            outer_inputs.append(var)
        scalar_of[var] = s
        return s

    def scalarize(var, top):
        if not top and _absorbable(fgraph, var, out.ndim) and len(outer_inputs) + len(var.owner.inputs) <= MAX_INPUTS:
            inner = var.owner
            args = [scalarize(i, False) for i in inner.inputs]
            absorbed[0] += 1
            return _apply_scalar(inner.op.scalar_op, args)
        return scalar_input(var)

    args = [scalarize(i, False) for i in node.inputs]
    if not absorbed[0]:
        return None
    result = _apply_scalar(node.op.scalar_op, args)
    inputs = [scalar_of[v] for v in outer_inputs]
    fused = Elemwise(Composite(inputs, [result]))(*outer_inputs) if outer_inputs else None
    if fused is None:
        return None
    fixed = same_type_or_none(fused, out)
    return None if fixed is None else [fixed]


def _apply_scalar(scalar_op, args):
    """Apply a scalar op to scalar variables, inlining Composites so fusion stays flat."""
    if isinstance(scalar_op, Composite):
        equiv = dict(zip(scalar_op.inputs, args))
        for node in scalar_op.nodes:
            new = node.op.make_node(*[equiv.get(i, i) for i in node.inputs])
            equiv.update(zip(node.outputs, new.outputs))
        return equiv.get(scalar_op.outputs[0], scalar_op.outputs[0])
    return scalar_op(*args)


register("fusion", "fast_run", name="elemwise_fusion")(
    EquilibriumGraphRewriter([fuse_elemwise], name="elemwise_fusion"))
