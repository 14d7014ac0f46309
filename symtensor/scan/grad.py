"""Reverse mode through a Scan: the backward pass is another Scan over the reversed steps.

At forward step t the loop computes ``y_t = f(taps of the states, x_t, w)``.
Going backwards, step t knows the total gradient ``d_t`` of its new state
values: the cost's own gradient of that row plus what the later steps sent
back through their taps. The backward loop therefore carries, per state, an
accumulator of ``lag`` rows: the contributions already sent to the ``lag``
rows before the current one (a shift register). Its sequences are the stored
forward history (every tap value, every new value, every sequence slice and
nit-sot value, reversed), the cost's gradients of the outputs (reversed), and
its non-sequences are the forward non-sequences. Per step it rebuilds the
forward step symbolically, differentiates it with ``symtensor.grad``, and
then substitutes the stored forward outputs for their recomputation, so
only the intermediate values the derivative needs are recomputed.
Gradients of non-sequences are summed in accumulator states; gradients of
sequences are nit-sot outputs; the initial states get the final shift
registers. Shared values updated in the loop (random states) are not
differentiable; a hidden nit-sot output stores their value at every step so
the backward step recomputes exactly the same draws.

``truncate_gradient = k`` (Theano's truncated BPTT) runs the backward loop
over the last k steps only: earlier steps get no gradient, and the initial
states get theirs only when the loop ran at most k steps.
"""

import numpy as np

from symtensor import gradient
from symtensor import scalar as ts
from symtensor.graph.basic import Constant, ancestors, clone_replace
from symtensor.graph.null_type import NullType, disconnected, grad_not_implemented, is_null
from symtensor.scalar.math import Second
from symtensor.scan.parts import NitSot, NonSeq, ScanParts, Seq, State
from symtensor.tensor import basic as tb
from symtensor.tensor import math as tm
from symtensor.tensor.elemwise import DimShuffle, Elemwise
from symtensor.tensor.join import concatenate
from symtensor.tensor.subtensor import inc_subtensor, set_subtensor
from symtensor.tensor.type import TensorType


def _is_float(var):
    return getattr(var.type, "dtype", None) in ts.continuous_dtypes


def is_zeros(g):
    """Is ``g`` a zeros_like / zeros / constant-zero gradient (a disconnected output)?"""
    if isinstance(g, Constant):
        return not np.any(g.data)
    node = g.owner
    if node is None:
        return False
    if isinstance(node.op, Elemwise) and isinstance(node.op.scalar_op, Second):
        value = node.inputs[1]
    elif isinstance(node.op, tb.Alloc):
        value = node.inputs[0]
    else:
        return False
    while value.owner is not None and isinstance(value.owner.op, DimShuffle):
        value = value.owner.inputs[0]  # second(x, DimShuffle{x,x}(0.0)): how zeros_like(x) comes out
    return isinstance(value, Constant) and not np.any(value.data)


def _general(var, extra=0):
    """A fresh variable of var's dtype and rank (+extra leading axes) with no static lengths."""
    return TensorType(var.dtype, shape=(None,) * (var.ndim + extra))()


def _not_implemented(op, inputs, why):
    return [disconnected()] + [grad_not_implemented(op, i, x, why) if _is_float(x) else disconnected()
                               for i, x in enumerate(inputs[1:], 1)]


def _relevant_states(parts, nz_state, nz_nit):
    """The float states a nonzero gradient reaches (directly or through later steps' taps)."""
    S = len(parts.states)
    deps = [set(ancestors([st.inner_out])) for st in parts.states] + [set(ancestors([nt.inner_out]))
                                                                       for nt in parts.nitsots]
    relevant = {s for s in range(S) if nz_state[s]}
    changed = True
    while changed:
        changed = False
        live = [deps[s] for s in relevant] + [deps[S + j] for j, nz in enumerate(nz_nit) if nz]
        for s, st in enumerate(parts.states):
            if s in relevant or not _is_float(st.inner_taps[0]):
                continue
            if any(v in d for d in live for v in st.inner_taps):
                relevant.add(s)
                changed = True
    return relevant


def _saved_shared(parts):
    """{shared index: nit-sot index} for the shared values whose per-step value the loop stores."""
    saved = {}
    for j, sh in enumerate(parts.shared):
        for jj, nt in enumerate(parts.nitsots):
            if nt.inner_out is sh.inner_in:
                saved[j] = jj
    return saved


def scan_l_op(op, inputs, outputs, output_grads):
    info = op.info
    parts = ScanParts.from_node(outputs[0].owner)
    S, N = info.n_states, info.n_nitsot
    if info.until:
        return _not_implemented(op, inputs, "the gradient of a scan that stops early (until) is not implemented")
    g_states, g_nits = output_grads[:S], output_grads[S:S + N]
    nz_state = [_is_float(st.inner_taps[0]) and not is_zeros(g) for st, g in zip(parts.states, g_states)]
    nz_nit = [_is_float(nt.inner_out) and not is_zeros(g) for nt, g in zip(parts.nitsots, g_nits)]
    relevant = sorted(_relevant_states(parts, nz_state, nz_nit))
    for s in relevant:
        if parts.states[s].store:
            raise NotImplementedError(f"{op}: the gradient needs every row of {info.describe_output(s)}, but this "
                                      "loop keeps only the last ones (take the gradient before compiling)")
    n = parts.n_steps
    truncated = info.truncate_gradient >= 0
    nb = tm.minimum(n, info.truncate_gradient) if truncated else n

    def backward_seq(v):
        rev = v[::-1]
        return rev[:nb] if truncated else rev

    # -- the forward step rebuilt on fresh inputs
    x_in = [q.inner.type() for q in parts.seqs]
    tap_in = [[v.type() for v in st.inner_taps] for st in parts.states]
    o_in = [nt.inner_out.type() for nt in parts.nitsots]
    w_in = [ns.inner.type() for ns in parts.nonseqs]
    mapping = {}
    for q, x in zip(parts.seqs, x_in):
        mapping[q.inner] = x
    for st, taps in zip(parts.states, tap_in):
        mapping.update(zip(st.inner_taps, taps))
    saved = _saved_shared(parts)
    dummies = {}
    for j, sh in enumerate(parts.shared):
        if j in saved:
            mapping[sh.inner_in] = o_in[saved[j]]
        else:
            dummies[j] = mapping[sh.inner_in] = sh.inner_in.type()
    mapping.update(zip((ns.inner for ns in parts.nonseqs), w_in))
    fwd = clone_replace([st.inner_out for st in parts.states] + [nt.inner_out for nt in parts.nitsots], mapping)
    y_in = [f.type() if f.owner is not None else st.inner_taps[0].type() for f, st in zip(fwd, parts.states)]

    # -- the cost's gradient of each new value at step t: d_t = g_t + what later steps sent back
    gy_in = {s: parts.states[s].inner_taps[0].type() for s in relevant if nz_state[s]}
    go_in = {j: nt.inner_out.type() for j, nt in enumerate(parts.nitsots) if nz_nit[j]}
    acc_in = {s: _general(parts.states[s].inner_taps[0], 1) for s in relevant}
    known = {}

    def seed(var, g):
        if not isinstance(var, Constant):
            known[var] = known[var] + g if var in known else g

    for s in relevant:
        d = acc_in[s][parts.states[s].lag - 1]
        seed(fwd[s], gy_in[s] + d if s in gy_in else d)
    for j, g in go_in.items():
        seed(fwd[S + j], g)
    wrt = ([x for q, x in zip(parts.seqs, x_in) if _is_float(q.inner)]
           + [v for s in relevant for v in tap_in[s]]
           + [w for ns, w in zip(parts.nonseqs, w_in) if _is_float(ns.inner)])
    if known and wrt:
        grads = gradient.grad(None, wrt, known_grads=known, disconnected_inputs="ignore",
                              return_disconnected="None", null_gradients="return")
    else:
        grads = [None] * len(wrt)
    # stored forward values replace their recomputation
    subst = {f: y for f, y in zip(fwd[:S], y_in) if f.owner is not None}
    subst.update({f: o for f, o in zip(fwd[S:], o_in) if f.owner is not None})
    real = [k for k, g in enumerate(grads) if g is not None and not is_null(g)]
    for k, g in zip(real, clone_replace([grads[k] for k in real], subst, strict=False)):
        grads[k] = g
    grad_of = dict(zip(wrt, grads))
    used = set(ancestors([g for g in grads if g is not None]))
    for j, dummy in dummies.items():
        if dummy in used:
            raise NotImplementedError(f"{op}: the gradient needs the value of the shared variable "
                                      f"{parts.shared[j].outer} at every step, and it is not a tensor the loop "
                                      "can store")

    # -- the backward loop
    bw = ScanParts(nb, name=f"grad_of_{info.name or 'scan'}", mode=info.mode)
    for q, x in zip(parts.seqs, x_in):
        bw.seqs.append(Seq(backward_seq(q.outer[:n]), x))
    for s, st in enumerate(parts.states):
        rows, lag = outputs[s], st.lag
        for k, v in zip(st.taps, tap_in[s]):
            bw.seqs.append(Seq(backward_seq(rows[lag + k:lag + k + n]), v))
        bw.seqs.append(Seq(backward_seq(rows[lag:lag + n]), y_in[s]))
        if s in gy_in:
            bw.seqs.append(Seq(backward_seq(g_states[s][lag:lag + n]), gy_in[s]))
    for j, o in enumerate(o_in):
        bw.seqs.append(Seq(backward_seq(outputs[S + j][:n]), o))
        if j in go_in:
            bw.seqs.append(Seq(backward_seq(g_nits[j][:n]), go_in[j]))
    for s in relevant:
        st, rows = parts.states[s], outputs[s]
        contributions = [grad_of.get(v) for v in tap_in[s]]
        init = tb.shape_padleft(tb.alloc(tb.constant(0, dtype=rows.dtype), st.lag,
                                         *[rows.shape[d] for d in range(1, rows.ndim)]))
        bw.states.append(State(init, (-1,), [acc_in[s]], _shift(acc_in[s], st, contributions), store=1))
    w_acc = {}
    for j, (ns, w) in enumerate(zip(parts.nonseqs, w_in)):
        g = grad_of.get(w)
        if g is not None and not is_null(g):
            acc = _general(w)
            w_acc[j] = len(bw.states)
            bw.states.append(State(tb.shape_padleft(tb.zeros_like(ns.outer)), (-1,), [acc], acc + g, store=1))
    dx = {}
    for k, x in enumerate(x_in):
        g = grad_of.get(x)
        if g is not None and not is_null(g):
            dx[k] = len(bw.nitsots)
            bw.nitsots.append(NitSot(g))
    bw.nonseqs = [NonSeq(ns.outer, w) for ns, w in zip(parts.nonseqs, w_in)]
    outs = bw.build(type(op)) if (bw.states or bw.nitsots) else []
    n_bw_states = len(bw.states)

    # -- the gradient of each outer input
    result = [disconnected()]
    for k, q in enumerate(parts.seqs):
        if k in dx:
            rows = outs[n_bw_states + dx[k]]
            # after no step, the output's unknown lengths are 0: give it the sequence's row shape
            rows = rows.reshape((rows.shape[0],) + tuple(q.outer.shape[d] for d in range(1, q.outer.ndim)),
                                ndim=q.outer.ndim)[::-1]
            result.append(set_subtensor(tb.zeros_like(q.outer)[n - nb:n], rows))
        else:
            result.append(_missing(op, 1 + k, q.outer, grad_of.get(x_in[k])))
    for s, st in enumerate(parts.states):
        init = inputs[info.init_outer_start + s]
        total = g_states[s][:st.lag] if nz_state[s] else None
        if s in relevant:
            final = outs[relevant.index(s)][0]
            if truncated:
                final = tm.switch(tm.eq(nb, n), final, tb.zeros_like(final))
            total = final if total is None else total + final
        if total is None:
            result.append(tb.zeros_like(init) if _is_float(init) else disconnected())
        elif init.type.shape[0] == st.lag:
            result.append(total)
        else:
            result.append(set_subtensor(tb.zeros_like(init)[:st.lag], total))
    for j, sh in enumerate(parts.shared):
        g = output_grads[S + N + j]
        if _is_float(sh.outer) and not is_zeros(g):
            result.append(grad_not_implemented(op, info.shared_outer_start + j, sh.outer,
                                               "a shared variable updated inside the loop is not differentiable"))
        else:
            result.append(disconnected())
    for j, ns in enumerate(parts.nonseqs):
        if j in w_acc:
            result.append(outs[w_acc[j]][0])
        else:
            result.append(_missing(op, info.nonseq_outer_start + j, ns.outer, grad_of.get(w_in[j])))
    return result


def _shift(acc, state, contributions):
    """The accumulator for the step before: shifted by one row, plus this step's tap contributions."""
    lag = state.lag
    if lag == 1:
        c = contributions[0]
        return tb.shape_padleft(c) if c is not None else tb.zeros_like(acc)
    new = concatenate([tb.zeros_like(acc[:1]), acc[:lag - 1]], axis=0)
    for k, c in zip(state.taps, contributions):
        if c is not None:
            new = inc_subtensor(new[k + lag], c)
    return new


def _missing(op, index, outer, g):
    """The gradient of an input the backward loop did not produce: undefined, or zero."""
    if g is not None and is_null(g):
        return NullType(g.type.why)()
    return tb.zeros_like(outer) if _is_float(outer) else disconnected()
