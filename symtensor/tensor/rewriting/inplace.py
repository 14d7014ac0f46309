"""The in-place phase: let ops overwrite an input buffer instead of allocating their output.

Every candidate is installed through ``apply_replacements``, so the graph's
DestroyHandler vetoes the unsafe ones (another reader still needs the
buffer afterwards, a protected input or a view of one, a graph output, two
destroyers of one buffer). Nodes are visited inputs-first, so an earlier node
gets first claim on a buffer.

* Elemwise: output k overwrites input i when both have the same dtype and
  broadcastable pattern (nothing is broadcast into the buffer). An output that
  is the update of a shared variable prefers that variable's buffer: the
  update then costs no allocation and no copy.
* IncSubtensor, AdvancedIncSubtensor1, AdvancedIncSubtensor: ``inplace=True``;
  Gemm / Gemv / Ger too when their accumulator is an updated shared value
  (``blas_inplace`` handles intermediates), e.g. the Gemm of an SGD step.
"""

import symtensor.tensor.blas as _blas
from symtensor.graph.basic import Constant
from symtensor.graph.destroyhandler import DestroyHandler
from symtensor.graph.fgraph import Output
from symtensor.graph.rewriting.basic import GraphRewriter, apply_replacements
from symtensor.tensor.advanced_subtensor import AdvancedIncSubtensor, AdvancedIncSubtensor1
from symtensor.tensor.elemwise import Elemwise
from symtensor.tensor.rewriting.pipeline import register
from symtensor.tensor.subtensor import IncSubtensor


def destroy_handler(fgraph):
    """The graph's DestroyHandler; one protecting every graph input is attached when there is none."""
    dh = getattr(fgraph, "destroy_handler", None)
    if dh is None:
        dh = DestroyHandler()
        fgraph.attach_feature(dh)
    return dh


def _updated_input(fgraph, var):
    """The graph input (a shared variable) whose new value is ``var``, or None."""
    mapping = getattr(fgraph, "update_mapping", None)
    if not mapping:
        return None
    for client, k in fgraph.clients.get(var, ()):
        if isinstance(client, Output) and k in mapping:
            return fgraph.inputs[mapping[k]]
    return None


def _elemwise_candidates(fgraph, node, k, used, dh):
    """Inputs that output ``k`` may overwrite, best first."""
    out = node.outputs[k]
    found = []
    for i, inp in enumerate(node.inputs):
        if i in used or isinstance(inp, Constant):
            continue
        if inp.type.dtype != out.type.dtype or inp.type.broadcastable != out.type.broadcastable:
            continue
        if sum(other is inp for other in node.inputs) > 1:  # read again through another input
            continue
        if not dh.can_destroy(inp):
            continue
        found.append(i)
    preferred = _updated_input(fgraph, out)
    found.sort(key=lambda i: node.inputs[i] is not preferred)
    return found


class _InplacePass(GraphRewriter):
    """Visit nodes in order and let ``rewrite_node`` make one in-place; the DestroyHandler vetoes."""

    def add_requirements(self, fgraph):
        destroy_handler(fgraph)

    def apply(self, fgraph):
        dh = destroy_handler(fgraph)
        changed = False
        for node in fgraph.toposort():
            if node in fgraph.apply_nodes and self.rewrite_node(fgraph, node, dh):
                changed = True
        return changed

    def _install(self, fgraph, node, new_node):
        """Replace ``node`` by ``new_node`` when the output types agree and no feature objects."""
        if any(a.type != b.type for a, b in zip(new_node.outputs, node.outputs)):
            return False
        return apply_replacements(fgraph, self, node, new_node.outputs)


class InplaceElemwise(_InplacePass):
    """Give each Elemwise output an input buffer to overwrite (``inplace_pattern``) when safe."""

    name = "inplace_elemwise"

    def rewrite_node(self, fgraph, node, dh):
        if not isinstance(node.op, Elemwise) or node.op.inplace_pattern:
            return False
        pattern = {}
        for k in range(len(node.outputs)):
            for i in _elemwise_candidates(fgraph, node, k, set(pattern.values()), dh):
                trial = {**pattern, k: i}
                new_node = Elemwise(node.op.scalar_op, trial).make_node(*node.inputs)
                if self._install(fgraph, node, new_node):
                    node, pattern = new_node, trial
                    break
        return bool(pattern)


#: ops with an ``inplace`` flag that makes them overwrite input 0. Intermediates of the BLAS ones are
#: ``blas_inplace``'s call; this pass lets them overwrite updated shared values (and mutable inputs)
_BLAS = (_blas.Gemm, _blas.Gemv, _blas.Ger)
_FLAGGED = (IncSubtensor, AdvancedIncSubtensor1, AdvancedIncSubtensor) + _BLAS


class InplaceFlaggedOps(_InplacePass):
    """set_subtensor / inc_subtensor (and Gemm / Gemv / Ger) write into their first input when safe."""

    name = "inplace_incsubtensor"

    def rewrite_node(self, fgraph, node, dh):
        op = node.op
        if not isinstance(op, _FLAGGED) or op.inplace:
            return False
        if isinstance(node.inputs[0], Constant) or not dh.can_destroy(node.inputs[0]):
            return False
        if isinstance(op, _BLAS) and all(r.owner is not None for r in dh.roots(node.inputs[0])):
            return False  # intermediates are blas_inplace's call; here only updated shared values
        props = {p: getattr(op, p) for p in op.__props__}
        props["inplace"] = True
        try:
            new_node = type(op)(**props).make_node(*node.inputs)
        except ValueError:  # e.g. a BLAS accumulator that is also read as another operand
            return False
        return self._install(fgraph, node, new_node)


register("inplace", "fast_run", "inplace", name="inplace_incsubtensor")(InplaceFlaggedOps())
register("inplace", "fast_run", "inplace", name="inplace_elemwise")(InplaceElemwise())
