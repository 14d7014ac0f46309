"""Rewrites of Scan nodes in the outer graph (the inner graph is rewritten when it is compiled).

* ``scan_pushout_invariants`` (canonicalize): inner computations that depend only on non-sequences
  (and constants) are the same at every step; they move out of the loop and come in as new
  non-sequences, computed once.
* ``scan_prune`` (canonicalize): outputs nobody uses (hidden per-step values kept for a gradient
  that was not taken, states nothing reads), inputs the inner graph no longer reads, and constant
  non-sequences (inlined) leave the node.
* ``scan_save_mem`` (specialize): a recurrent output of which only the last rows are used outside
  (``out[-1]``, ``out[-k:]``) keeps only those rows (at least its taps' worth) in a circular buffer
  instead of the whole history. The gradient is built before rewriting, so a history it reads is
  a use that keeps the full output.

``symtensor.scan.pushout`` holds the rewrites that turn per-step products into one product over
all steps (input projections before the loop, weight-gradient sums after it).
"""

from symtensor.graph.basic import Constant, ancestors, clone_replace, io_toposort
from symtensor.graph.fgraph import Output
from symtensor.graph.rewriting.basic import node_rewriter
from symtensor.scan.op import Scan
from symtensor.scan.parts import NonSeq, ScanParts
from symtensor.tensor.rewriting.pipeline import register
from symtensor.tensor.subtensor import Subtensor


# ---------------------------------------------------------------------- loop-invariant code motion

def invariant_variables(parts):
    """Inner variables that are the same at every step: non-sequences, constants, and what is computed
    from them only."""
    ins, outs = parts.inner_inputs(), parts.inner_outputs()
    invariant = {ns.inner for ns in parts.nonseqs}
    for node in io_toposort(ins, outs):
        if node.inputs and all(i in invariant or isinstance(i, Constant) for i in node.inputs):
            invariant.update(node.outputs)
    return invariant


def _invariants(parts):
    """Inner variables computed from non-sequences (and constants) only: the outputs of such nodes that
    read at least one non-sequence or such output (constants alone are constant folding's job)."""
    ins, outs = parts.inner_inputs(), parts.inner_outputs()
    invariant = invariant_variables(parts)
    computed = set()
    for node in io_toposort(ins, outs):
        if node.outputs[0] in invariant and any(i in invariant and not isinstance(i, Constant)
                                                and (i.owner is None or i in computed) for i in node.inputs):
            computed.update(node.outputs)
    return computed


@register("canonicalize", "fast_run", "scan", name="scan_pushout_invariants")
@node_rewriter([Scan])
def scan_pushout_invariants(fgraph, node):
    """Inner nodes that read only non-sequences run once, outside the loop."""
    parts = ScanParts.from_node(node)
    computed = _invariants(parts)
    if not computed:
        return None
    ins, outs = parts.inner_inputs(), parts.inner_outputs()
    frontier = []
    for inner in io_toposort(ins, outs):
        if inner.outputs[0] in computed:
            continue
        frontier += [i for i in inner.inputs if i in computed and i not in frontier]
    frontier += [o for o in outs if o in computed and o not in frontier]
    if not frontier:
        return None
    outer_of = {ns.inner: ns.outer for ns in parts.nonseqs}
    hoisted = clone_replace(frontier, outer_of, strict=True)
    new_inner = {v: v.type(f"{v.name}_hoisted" if v.name else None) for v in frontier}
    parts.replace_inner(new_inner)
    parts.nonseqs += [NonSeq(outer, new_inner[v]) for v, outer in zip(frontier, hoisted)]
    return parts.replacements(parts.build(type(node.op)))


# ---------------------------------------------------------------------- dead outputs and inputs

@register("canonicalize", "fast_run", "fast_compile", "scan", name="scan_prune")
@node_rewriter([Scan])
def scan_prune(fgraph, node):
    """Drop unused outputs (and what only they needed), unread inputs, and inline constant non-sequences."""
    parts = ScanParts.from_node(node)
    used = [bool(fgraph.clients.get(o)) for o in node.outputs]
    S, N = len(parts.states), len(parts.nitsots)
    keep_state = {s for s in range(S) if used[s]}
    keep_nit = {j for j in range(N) if used[S + j]}
    keep_shared = {j for j in range(len(parts.shared)) if used[S + N + j]}
    while True:
        roots = ([parts.states[s].inner_out for s in keep_state] + [parts.nitsots[j].inner_out for j in keep_nit]
                 + [parts.shared[j].inner_out for j in keep_shared] + ([parts.cond] if parts.cond is not None else []))
        read = set(ancestors(roots))
        more_states = {s for s, st in enumerate(parts.states) if any(v in read for v in st.inner_taps)} - keep_state
        more_shared = {j for j, sh in enumerate(parts.shared) if sh.inner_in in read} - keep_shared
        if not more_states and not more_shared:
            break
        keep_state |= more_states
        keep_shared |= more_shared
    constant_nonseqs = [ns for ns in parts.nonseqs if isinstance(ns.outer, Constant) and ns.inner in read]
    changed = (len(keep_state) < S or len(keep_nit) < N or len(keep_shared) < len(parts.shared)
               or any(q.inner not in read for q in parts.seqs) or any(ns.inner not in read for ns in parts.nonseqs)
               or constant_nonseqs)
    if not changed or not (keep_state or keep_nit or keep_shared):
        return None
    parts.states = [st for s, st in enumerate(parts.states) if s in keep_state]
    parts.nitsots = [nt for j, nt in enumerate(parts.nitsots) if j in keep_nit]
    parts.shared = [sh for j, sh in enumerate(parts.shared) if j in keep_shared]
    parts.replace_inner({ns.inner: ns.outer for ns in constant_nonseqs})
    parts.seqs = [q for q in parts.seqs if q.inner in read]
    parts.nonseqs = [ns for ns in parts.nonseqs if ns.inner in read and ns not in constant_nonseqs]
    return parts.replacements(parts.build(type(node.op)))


# ---------------------------------------------------------------------- keep only the last rows

def _last_rows_uses(fgraph, out, lag):
    """How the outside uses state rows ``out``: [(variable, kind, k)], or None when it needs every row.

    kind 'index': the variable is row -k of the outputs; 'tail': it is the last k steps (out[lag:][-k:]);
    'rows': it is out[-k:] (rows, initial ones included).
    """
    uses = []
    for client, i in fgraph.clients.get(out, ()):
        if isinstance(client, Output) or not isinstance(client.op, Subtensor) or i != 0:
            return None
        idx = client.op.idx_list
        res = client.outputs[0]
        if len(idx) == 1 and isinstance(idx[0], int) and idx[0] < 0:
            uses.append((res, "index", -idx[0]))
        elif len(idx) == 1 and idx[0] == ("slice", lag, None, None):
            for c2, i2 in fgraph.clients.get(res, ()):
                if isinstance(c2, Output) or not isinstance(c2.op, Subtensor) or i2 != 0:
                    return None
                idx2 = c2.op.idx_list
                if len(idx2) == 1 and isinstance(idx2[0], int) and idx2[0] < 0:
                    uses.append((c2.outputs[0], "index", -idx2[0]))
                elif (len(idx2) == 1 and isinstance(idx2[0], tuple) and isinstance(idx2[0][1], int)
                      and idx2[0][1] < 0 and idx2[0][2:] == (None, None)):
                    uses.append((c2.outputs[0], "tail", -idx2[0][1]))
                else:
                    return None
        elif (len(idx) == 1 and isinstance(idx[0], tuple) and isinstance(idx[0][1], int) and idx[0][1] < 0
              and idx[0][2:] == (None, None)):
            uses.append((res, "rows", -idx[0][1]))
        else:
            return None
    return uses


def _rebuild_use(new_rows, kind, k, lag):
    if kind == "index":
        return new_rows[-k]
    if kind == "rows":
        return new_rows[-k:]
    return new_rows[lag:][-k:]


@register("specialize", "fast_run", "scan", name="scan_save_mem")
@node_rewriter([Scan])
def scan_save_mem(fgraph, node):
    """A recurrent output whose outside uses read only its last rows keeps only those rows."""
    parts = ScanParts.from_node(node)
    plans = {}
    for s, st in enumerate(parts.states):
        if st.store:
            continue
        uses = _last_rows_uses(fgraph, node.outputs[s], st.lag)
        if uses is None:
            continue
        need = st.lag
        for _, kind, k in uses:
            need = max(need, st.lag + k if kind == "tail" else k)
        st.store = need
        plans[s] = uses
    if not plans:
        return None
    new_outputs = parts.build(type(node.op))
    replacements = {old: new for old, new in parts.replacements(new_outputs).items() if old not in
                    {node.outputs[s] for s in plans}}
    for s, uses in plans.items():
        for var, kind, k in uses:
            replacements[var] = _rebuild_use(new_outputs[s], kind, k, parts.states[s].lag)
    return replacements


def scan_nodes(fgraph):
    """The Scan nodes of a compiled function's graph (for tests and profiling)."""
    return [n for n in fgraph.toposort() if isinstance(n.op, Scan)]


