"""Rewrites that take per-step products out of a Scan's loop and do them as one product over all steps.

A loop step multiplies small matrices (a batch of rows by a weight matrix);
the same products over all steps at once are one large gemm, which BLAS runs
far closer to peak, and the loop keeps only the recurrence.

* ``scan_pushout_seq_ops`` (canonicalize): products, transposes and elementwise
  operations of sequence slices with non-sequences (``x_t W + b``) run before
  the loop, over the whole sequence; the loop reads the result as a sequence.
* ``scan_pushout_dot_accumulators`` (canonicalize, and specialize after
  ``scan_save_mem`` marked which states keep only their last row): a state
  that only sums ``a_t^T b_t`` over the steps (how the backward loop
  accumulates a weight gradient) becomes ``A^T B`` after the loop, from the
  stored ``a_t, b_t`` (usually sequences the backward loop reads anyway).
* ``scan_pushout_nitsot_dots`` (canonicalize): a per-step output ``v_t W`` that
  nothing in the loop reads (the gradient of an input sequence) is computed
  after the loop as ``V W`` from the stored ``v_t``.

Loops with an ``until`` condition are left alone: the number of steps they
run is known only at the end.
"""

from collections import defaultdict

from symtensor import scalar as ts
from symtensor.graph.basic import Constant, clone_replace, io_toposort
from symtensor.graph.rewriting.basic import node_rewriter
from symtensor.scan.grad import is_zeros
from symtensor.scan.op import Scan
from symtensor.scan.parts import NitSot, ScanParts, Seq
from symtensor.scan.rewriting import invariant_variables
from symtensor.tensor import basic as tb
from symtensor.tensor import math as tm
from symtensor.tensor.elemwise import DimShuffle, Elemwise
from symtensor.tensor.math import Dot
from symtensor.tensor.rewriting.pipeline import register
from symtensor.tensor.type import TensorType


# ---------------------------------------------------------------------- the inner graph

def _inner_clients(parts):
    """inner variable -> the inner nodes reading it (None once per use as an inner output)."""
    clients = defaultdict(list)
    for node in io_toposort(parts.inner_inputs(), parts.inner_outputs()):
        for i in node.inputs:
            clients[i].append(node)
    for o in parts.inner_outputs():
        clients[o].append(None)
    return clients


def _varying(parts):
    """Inner variables that may change from step to step (they depend on a sequence, state or shared value)."""
    varying = {q.inner for q in parts.seqs} | {v for st in parts.states for v in st.inner_taps}
    varying |= {sh.inner_in for sh in parts.shared}
    for node in io_toposort(parts.inner_inputs(), parts.inner_outputs()):
        if any(i in varying for i in node.inputs):
            varying.update(node.outputs)
    return varying


def _is_dimshuffle(var, order):
    node = var.owner
    return node is not None and isinstance(node.op, DimShuffle) and tuple(node.op.new_order) == order


def _store_per_step(parts, var):
    """A function of the new node's outputs giving the (n_steps, ...) rows of ``var``'s value at each step:
    its sequence, the rows of a state that keeps its whole history, the nit-sot output that already holds
    it, or a new hidden nit-sot output."""
    n = parts.n_steps
    for q in parts.seqs:
        if q.inner is var:
            return lambda outputs, outer=q.outer: outer[:n]
    for st in parts.states:
        if st.store:
            continue
        first = [st.lag] if st.inner_out is var else []
        first += [st.lag + k for k, v in zip(st.taps, st.inner_taps) if v is var]
        if first:
            return lambda outputs, st=st, r=first[0]: outputs[_index(parts.states, st)][r:r + n]
    for nt in parts.nitsots:
        if nt.inner_out is var:
            break
    else:
        nt = NitSot(var)
        parts.nitsots.append(nt)
    return lambda outputs: outputs[len(parts.states) + _index(parts.nitsots, nt)]


def _index(items, item):
    return next(k for k, x in enumerate(items) if x is item)


def _remove(items, item):
    del items[_index(items, item)]


def _rows(x, width):
    """(n_steps, ..., width) -> (n_steps * ..., width); also right when there are no steps."""
    return x if x.ndim == 2 else x.reshape((-1, width), ndim=2)


# ---------------------------------------------------------------------- sum over steps of a_t^T b_t

def _add_leaves(var, clients):
    """The terms of the sum ``var`` (nested adds that nothing else reads are opened)."""
    node = var.owner
    if node is None or not (isinstance(node.op, Elemwise) and isinstance(node.op.scalar_op, ts.Add)):
        return [var]
    leaves = []
    for i in node.inputs:
        inner = i.owner
        nested = inner is not None and isinstance(inner.op, Elemwise) and isinstance(inner.op.scalar_op, ts.Add)
        leaves += _add_leaves(i, clients) if nested and len(clients[i]) == 1 else [i]
    return leaves


def _is_zeros(var):
    while var.owner is not None and isinstance(var.owner.op, DimShuffle):
        var = var.owner.inputs[0]
    return is_zeros(var)


def _product_operands(term):
    """(a, b) when ``term`` is ``dot(a.T, b)`` (matrices) or ``outer(a, b)`` (vectors), else None."""
    node = term.owner
    if node is None or not isinstance(node.op, Dot):
        return None
    x, y = node.inputs
    if _is_dimshuffle(x, (1, 0)) and y.ndim == 2:
        return x.owner.inputs[0], y
    if _is_dimshuffle(x, (0, "x")) and _is_dimshuffle(y, ("x", 0)):
        return x.owner.inputs[0], y.owner.inputs[0]
    return None


@register("specialize", "fast_run", "scan", name="scan_pushout_dot_accumulators")  # after scan_save_mem
@register("canonicalize", "fast_run", "scan", name="scan_pushout_dot_accumulators")
@node_rewriter([Scan])
def scan_pushout_dot_accumulators(fgraph, node):
    """``acc_t = acc_{t-1} + a_t^T b_t`` (only the final value kept) becomes ``acc_0 + A^T B`` after the loop."""
    parts = ScanParts.from_node(node)
    if parts.cond is not None:
        return None
    clients, varying = _inner_clients(parts), _varying(parts)
    plans = []
    for s, st in enumerate(parts.states):
        acc, out = st.inner_taps[0], st.inner_out
        if st.taps != (-1,) or st.store != 1 or clients[out] != [None] or len(clients[acc]) != 1:
            continue
        leaves = _add_leaves(out, clients)
        if leaves.count(acc) != 1:
            continue
        pushed, kept = [], []
        for leaf in leaves:
            operands = _product_operands(leaf) if leaf is not acc else None
            if (operands is not None and all(v in varying for v in operands) and leaf.ndim == out.ndim
                    and all(not lb or ob for lb, ob in zip(leaf.broadcastable, out.broadcastable))):
                pushed.append(operands)
            else:
                kept.append(leaf)
        if pushed:
            plans.append((st, pushed, kept))
    if not plans:
        return None
    finals = []
    for st, pushed, kept in plans:
        stored = [(_store_per_step(parts, a), _store_per_step(parts, b)) for a, b in pushed]
        if len(kept) == 1:
            _remove(parts.states, st)
        else:
            st.inner_out = tb.cast(tm.add(*kept), st.inner_out.dtype)
        finals.append((st, len(kept) == 1, stored))
    new_outputs = parts.build(Scan)
    replacements = parts.replacements(new_outputs)
    for st, dropped, stored in finals:
        width = st.init.shape
        total = None
        for get_a, get_b in stored:
            a, b = get_a(new_outputs), get_b(new_outputs)
            term = tm.dot(_rows(a, width[1]).T, _rows(b, width[-1]))
            total = term if total is None else total + term
        total = tb.cast(total, st.origin.dtype)
        if dropped and _is_zeros(st.init):   # a gradient accumulator starts at zero: nothing to add
            replacements[st.origin] = tb.shape_padleft(total)
        elif dropped:
            replacements[st.origin] = tb.shape_padleft(st.init[st.lag - 1] + total)
        else:
            new = new_outputs[_index(parts.states, st)]
            replacements[st.origin] = new + tb.shape_padleft(total)
    return replacements


# ---------------------------------------------------------------------- sequence-only work before the loop

class _Fixed:
    """The inner variables that are the same at every step, and their values outside the loop."""

    def __init__(self, parts):
        self.invariant = invariant_variables(parts)
        self.outer_of = {ns.inner: ns.outer for ns in parts.nonseqs}

    def __contains__(self, var):
        return var in self.invariant or isinstance(var, Constant)

    def outer(self, var):
        if var not in self.outer_of:
            self.outer_of[var] = clone_replace([var], self.outer_of, strict=False)[0]
        return self.outer_of[var]


def _batched_dot(x, w, step_ndim):
    """The step product ``x_t . w`` for every step at once: x is (n_steps,) + x_t's shape."""
    if step_ndim == 1:
        return tm.dot(x, w)
    flat = tm.dot(_rows(x, x.shape[-1]), w)
    shape = tuple(x.shape[d] for d in range(x.ndim - 1)) + tuple(w.shape[d] for d in range(1, w.ndim))
    return flat.reshape(shape, ndim=len(shape))


def _has_seq_form(node, per_seq, fixed):
    """Can ``node`` run over whole sequences? Its inputs are sequence-derived or the same at every step, at
    least one is sequence-derived, and its op has a batched form."""
    ins = node.inputs
    if not any(i in per_seq for i in ins) or not all(i in per_seq or i in fixed for i in ins):
        return False
    op = node.op
    if isinstance(op, Elemwise):
        return not op.inplace_pattern
    if isinstance(op, DimShuffle):
        return True
    if isinstance(op, Dot):
        return ins[0] in per_seq and ins[1] not in per_seq and ins[1].ndim in (1, 2)
    return False


def _seq_form(node, outer_of, fixed):
    """``node``'s outputs for all steps at once (``outer_of``: sequence-derived inner variable -> outer rows)."""
    op = node.op

    def arg(i):
        return outer_of[i] if i in outer_of else tb.shape_padleft(fixed.outer(i))

    if isinstance(op, Elemwise):
        return op.make_node(*[arg(i) for i in node.inputs]).outputs
    if isinstance(op, DimShuffle):
        order = [0] + [k + 1 if k != "x" else "x" for k in op.new_order]
        return [outer_of[node.inputs[0]].dimshuffle(*order)]
    x, w = node.inputs
    return [_batched_dot(outer_of[x], fixed.outer(w), x.ndim)]


@register("canonicalize", "fast_run", "scan", name="scan_pushout_seq_ops")
@node_rewriter([Scan])
def scan_pushout_seq_ops(fgraph, node):
    """Products of sequence slices with non-sequences (and the transposes and elementwise operations tied to
    them, such as ``x_t W + b``) run once over the whole sequences, before the loop."""
    parts = ScanParts.from_node(node)
    if parts.cond is not None or not parts.seqs:
        return None
    clients, fixed = _inner_clients(parts), _Fixed(parts)
    per_seq = {q.inner for q in parts.seqs}
    movable = []
    for inner in io_toposort(parts.inner_inputs(), parts.inner_outputs()):
        if _has_seq_form(inner, per_seq, fixed):
            movable.append(inner)
            per_seq.update(inner.outputs)
    # only work tied to a product moves: elementwise work alone gains little outside the loop
    tied = {n for n in movable if isinstance(n.op, Dot)}
    if not tied:
        return None
    for inner in movable:
        if any(i.owner in tied for i in inner.inputs):
            tied.add(inner)
    for inner in reversed(movable):
        if any(c in tied for o in inner.outputs for c in clients[o]):
            tied.add(inner)
    outer_of = {q.inner: q.outer[:parts.n_steps] for q in parts.seqs}
    moved = []
    for inner in movable:
        if inner in tied:
            for var, value in zip(inner.outputs, _seq_form(inner, outer_of, fixed)):
                outer_of[var] = value
                moved.append(var)
    replacements, new_inner = {}, {}
    for v in moved:
        readers = [c for c in clients[v] if c not in tied]
        if not readers:
            continue
        for nt in [nt for nt in parts.nitsots if nt.inner_out is v]:
            replacements[nt.origin] = outer_of[v]   # a per-step output made only of sequence work
            _remove(parts.nitsots, nt)
            readers.remove(None)
        if readers or any(o is v for o in parts.inner_outputs()):
            new_inner[v] = TensorType(v.dtype, shape=v.type.shape)(f"{v.name}_pushed" if v.name else None)
            parts.seqs.append(Seq(outer_of[v], new_inner[v]))
    parts.replace_inner(new_inner)
    if parts.states or parts.nitsots or parts.shared:
        replacements.update(parts.replacements(parts.build(Scan)))
    return replacements


# ---------------------------------------------------------------------- per-step products after the loop

@register("canonicalize", "fast_run", "scan", name="scan_pushout_nitsot_dots")
@node_rewriter([Scan])
def scan_pushout_nitsot_dots(fgraph, node):
    """A per-step output ``v_t . w`` (w the same at every step) that nothing in the loop reads is computed
    after the loop, as one product of the stored ``v_t`` with w."""
    parts = ScanParts.from_node(node)
    if parts.cond is not None:
        return None
    clients, fixed = _inner_clients(parts), _Fixed(parts)
    plans = []
    for nt in parts.nitsots:
        o = nt.inner_out
        if o.owner is None or not isinstance(o.owner.op, Dot) or clients[o] != [None]:
            continue
        v, w = o.owner.inputs
        if v not in fixed and w in fixed and w.ndim in (1, 2):
            plans.append((nt, v, fixed.outer(w)))
    if not plans:
        return None
    stored = []
    for nt, v, w in plans:
        _remove(parts.nitsots, nt)
        stored.append((nt.origin, _store_per_step(parts, v), v.ndim, w))
    new_outputs = parts.build(Scan) if (parts.states or parts.nitsots or parts.shared) else []
    replacements = parts.replacements(new_outputs)
    for origin, get_rows, step_ndim, w in stored:
        replacements[origin] = tb.cast(_batched_dot(get_rows(new_outputs), w, step_ndim), origin.dtype)
    return replacements
