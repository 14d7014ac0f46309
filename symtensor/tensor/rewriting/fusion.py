"""Elementwise fusion: a tree of Elemwise nodes becomes one Elemwise over a Composite.

An Elemwise input is absorbed when this node is its only client (so nothing
is computed twice) and the fused node stays under ``MAX_INPUTS`` inputs. A
cheap one (a comparison, add, switch...) read by several nodes is recomputed
inside each of them instead: writing and re-reading its array costs more than
the arithmetic (relu's mask feeds both the forward switch and the gradient).
Size-1 constants are inlined as scalar constants. Running the rewrite to a
fixed point fuses whole chains and trees.
"""

import numpy as np

from symtensor import scalar as ts
from symtensor.graph.basic import Constant
from symtensor.graph.rewriting.basic import GraphRewriter, apply_replacements
from symtensor.scalar.composite import Composite
from symtensor.tensor.elemwise import CAReduce, Elemwise
from symtensor.tensor.fused_reduce import FusedReduce, fusable
from symtensor.tensor.rewriting.basic import same_type_or_none
from symtensor.tensor.rewriting.pipeline import register

#: most inputs one fused node may take (C compilers and kernel argument lists have limits)
MAX_INPUTS = 32


#: scalar ops cheap enough to recompute in every fused consumer of a shared node
_CHEAP = (ts.Add, ts.Sub, ts.Mul, ts.Neg, ts.Abs, ts.Maximum, ts.Minimum, ts.LT, ts.GT, ts.LE, ts.GE, ts.EQ,
          ts.NEQ, ts.Switch, ts.Second, ts.Identity, ts.Cast)


def _absorbable(fgraph, var, out_ndim):
    """'own' when only this consumer reads ``var``, 'recompute' when it is cheap and shared, else None."""
    node = var.owner
    if not (node is not None and isinstance(node.op, Elemwise) and len(node.outputs) == 1
            and not node.op.destroy_map and var.ndim == out_ndim and var not in fgraph.outputs):
        return None
    if len(fgraph.clients.get(var, ())) == 1:
        return "own"
    if not isinstance(node.op.scalar_op, _CHEAP):
        return None
    # reading a view from several places gives the in-place pass orderings it cannot always honour
    if any(i.owner is not None and getattr(i.owner.op, "view_map", None) for i in node.inputs):
        return None
    return "recompute"


def fuse_node(fgraph, node):
    """Fuse ``node`` with the tree of Elemwise nodes that feed only it (and cheap shared ones, recomputed);
    returns the new output or None."""
    if len(node.outputs) != 1 or node.op.destroy_map:
        return None
    out = node.outputs[0]
    outer_inputs = []
    scalar_of = {}
    absorbed = 0
    # iterative post-order walk (graphs can be thousands of nodes deep); inside a recomputed node,
    # the inputs stay outer inputs (only the cheap node itself is computed twice)
    stack = [(node.outputs[0], "top", False)]
    while stack:
        var, how, expanded = stack.pop()
        if var in scalar_of:
            continue
        inner = var.owner
        if how is None and len(outer_inputs) + len(inner.inputs if inner else ()) <= MAX_INPUTS:
            how = _absorbable(fgraph, var, out.ndim)
        if how is None or how == "outer":
            scalar_of[var] = _scalar_input(var, outer_inputs)
            continue
        if not expanded:
            stack.append((var, how, True))
            below = "outer" if how == "recompute" else None
            stack.extend((i, below, False) for i in reversed(inner.inputs) if i not in scalar_of)
            continue
        if how != "top":
            absorbed += 1
        scalar_of[var] = _apply_scalar(inner.op.scalar_op, [scalar_of[i] for i in inner.inputs])
    if not absorbed or not outer_inputs:
        return None
    inputs = [scalar_of[v] for v in outer_inputs]
    fused = Elemwise(Composite(inputs, [scalar_of[out]]))(*outer_inputs)
    return same_type_or_none(fused, out)


def _scalar_input(var, outer_inputs):
    if isinstance(var, Constant) and np.size(var.data) == 1:
        return ts.constant(np.asarray(var.data).reshape(()), dtype=var.dtype)
    outer_inputs.append(var)
    return ts.ScalarType(var.dtype)()


class FuseElemwise(GraphRewriter):
    """Visit nodes from the outputs back, fusing each Elemwise with the maximal tree feeding it."""

    name = "elemwise_fusion"

    def apply(self, fgraph):
        changed = False
        for node in reversed(fgraph.toposort()):
            if node not in fgraph.apply_nodes or not isinstance(node.op, Elemwise):
                continue
            new = fuse_node(fgraph, node)
            if new is not None and apply_replacements(fgraph, self, node, [new]):
                changed = True
        return changed


def _apply_scalar(scalar_op, args):
    """Apply a scalar op to scalar variables, inlining Composites so fusion stays flat."""
    if isinstance(scalar_op, Composite):
        equiv = dict(zip(scalar_op.inputs, args))
        for node in scalar_op.nodes:
            new = node.op.make_node(*[equiv.get(i, i) for i in node.inputs])
            equiv.update(zip(node.outputs, new.outputs))
        return equiv.get(scalar_op.outputs[0], scalar_op.outputs[0])
    return scalar_op(*args)


class FuseReduction(GraphRewriter):
    """sum/prod/max/min of an elementwise node read by nothing else -> one FusedReduce.

    The backends evaluate the expression inside the reduction loop (no temporary)."""

    name = "reduction_fusion"

    def apply(self, fgraph):
        changed = False
        for node in fgraph.toposort():
            if node not in fgraph.apply_nodes or not isinstance(node.op, CAReduce):
                continue
            var = node.inputs[0]
            composite = fusable(node, var, len(fgraph.clients.get(var, ())) + (var in fgraph.outputs))
            if composite is None:
                continue
            op = node.op
            new = FusedReduce(op.scalar_op, op.axis, composite, op.dtype, op.acc_dtype)(*var.owner.inputs)
            new = same_type_or_none(new, node.outputs[0])
            if new is not None and apply_replacements(fgraph, self, node, [new]):
                changed = True
        return changed


register("fusion", "fast_run", name="elemwise_fusion")(FuseElemwise())
register("fusion", "fast_run", name="reduction_fusion")(FuseReduction())
