"""The scan rewrites fire (structural assertions) and keep values (against the graph without them)."""

import numpy as np
import pytest

import symtensor as st
import symtensor.tensor as T
from symtensor.compile.mode import Mode
from symtensor.graph.basic import io_toposort
from symtensor.scan.op import Scan
from symtensor.scan.parts import ScanParts
from symtensor.scan.rewriting import _invariants

PY = Mode(linker="py")
C = Mode(linker="c")


def scan_ops(f):
    return [n.op for n in f.maker.fgraph.toposort() if isinstance(n.op, Scan)]


def fired(f, name):
    return f.maker.rewrite_log.counts().get(name, 0)


def test_invariant_computation_moves_out_of_the_loop(rng):
    W = T.dmatrix("W")
    xs = T.dmatrix("xs")
    h0 = T.dvector("h0")
    out, _ = st.scan(lambda x, h, W: T.tanh(T.dot(h, T.exp(W.T) * 2) + x), sequences=xs, outputs_info=h0,
                     non_sequences=W)
    f = st.function([xs, h0, W], out, mode=PY)
    ref = st.function([xs, h0, W], out, mode=PY.excluding("scan_pushout_invariants"))
    assert fired(f, "scan_pushout_invariants") >= 1 and fired(ref, "scan_pushout_invariants") == 0
    (op,) = scan_ops(f)
    inner_ops = " ".join(str(n.op) for n in io_toposort(op.inner_inputs, op.inner_outputs))
    (op_ref,) = scan_ops(ref)
    ref_ops = " ".join(str(n.op) for n in io_toposort(op_ref.inner_inputs, op_ref.inner_outputs))
    # exp, the transpose and the product by 2 ran in the loop before; now only the per-step work is left
    assert "exp" in ref_ops and "exp" not in inner_ops
    (node,) = [n for n in f.maker.fgraph.toposort() if isinstance(n.op, Scan)]
    assert not _invariants(ScanParts.from_node(node))
    assert len(io_toposort(op.inner_inputs, op.inner_outputs)) < len(io_toposort(op_ref.inner_inputs,
                                                                                    op_ref.inner_outputs))
    xv, hv, wv = rng.standard_normal((4, 3)), rng.standard_normal(3), rng.standard_normal((3, 3))
    np.testing.assert_allclose(f(xv, hv, wv), ref(xv, hv, wv))
    want, h = [], hv
    for x in xv:
        h = np.tanh(h @ (np.exp(wv.T) * 2) + x)
        want.append(h)
    np.testing.assert_allclose(f(xv, hv, wv), want)


def test_only_the_last_value_keeps_one_row(rng):
    A, k = T.dmatrix("A"), T.iscalar("k")
    result, _ = st.scan(lambda prior, A: prior * A, outputs_info=T.ones_like(A), non_sequences=A, n_steps=k)
    f = st.function([A, k], result[-1], mode=PY)
    full = st.function([A, k], result, mode=PY)
    (op,) = scan_ops(f)
    assert op.info.state_store == (1,)
    assert scan_ops(full)[0].info.state_store == (0,)
    av = rng.standard_normal((2, 2))
    np.testing.assert_allclose(f(av, 6), av ** 6)


@pytest.mark.parametrize("mode", [PY, C], ids=["py", "c"])
def test_taps_keep_a_circular_buffer(mode):
    n = T.iscalar("n")
    init = T.dvector("init")
    fib, _ = st.scan(lambda a, b: a + b, outputs_info=dict(initial=init, taps=[-2, -1]), n_steps=n)
    f = st.function([init, n], [fib[-1], fib[-3:]], mode=mode)
    (op,) = scan_ops(f)
    assert op.info.state_store == (5,)   # the two taps + the last three steps
    seq = [0.0, 1.0]
    for _ in range(12):
        seq.append(seq[-1] + seq[-2])
    for steps in (1, 2, 3, 4, 7, 12):
        last, tail = f(np.array([0.0, 1.0]), steps)
        assert last == seq[steps + 1]
        np.testing.assert_allclose(tail, seq[2:steps + 2][-3:])
    g = st.function([init, n], fib[-1], mode=mode)
    assert scan_ops(g)[0].info.state_store == (2,)
    for steps in (1, 2, 3, 8, 9):
        assert g(np.array([0.0, 1.0]), steps) == seq[steps + 1]


def test_a_gradient_keeps_the_history_it_needs(rng):
    W, h0, xs = T.dmatrix("W"), T.dvector("h0"), T.dmatrix("xs")
    h, _ = st.scan(lambda x, h, W: T.tanh(T.dot(h, W) + x), sequences=xs, outputs_info=h0, non_sequences=W)
    cost = h[-1].sum()
    gW = st.grad(cost, W)
    f = st.function([W, h0, xs], [cost, gW], mode=PY)
    forward = [op for op in scan_ops(f) if not op.info.name]
    assert forward and all(op.info.state_store == (0,) for op in forward)
    backward = [op for op in scan_ops(f) if op.info.name == "grad_of_scan"]
    assert backward and all(all(k == 1 for k in op.info.state_store) for op in backward)
    vals = [rng.standard_normal((3, 3)) * 0.5, rng.standard_normal(3), rng.standard_normal((4, 3))]
    ref = st.function([W, h0, xs], [cost, gW], mode=PY.excluding("scan"))
    for a, b in zip(f(*vals), ref(*vals)):
        np.testing.assert_allclose(a, b)


def test_unused_outputs_and_inputs_are_pruned():
    state = st.shared(np.float64(1.0), name="state")
    state.default_update = state * 2
    x, y = T.dvector("x"), T.dvector("y")
    (a, b), updates = st.scan(lambda xt, yt: [xt * state, yt * 3], sequences=[x, y])
    raw = a.owner
    assert isinstance(raw.op, Scan) and raw.op.info.n_nitsot == 3   # a, b and the hidden per-step state
    f = st.function([x, y], a, updates=updates, mode=PY)
    (op,) = scan_ops(f)
    assert op.info.n_nitsot == 1 and op.info.n_seqs == 1 and fired(f, "scan_prune") >= 1
    np.testing.assert_allclose(f(np.ones(3), np.ones(3)), [1, 2, 4])
    assert state.get_value() == 8.0


def test_constant_non_sequences_are_inlined():
    xs = T.dvector("xs")
    out, _ = st.scan(lambda x, c: x * c, sequences=xs, non_sequences=T.constant(np.array(3.0)))
    f = st.function([xs], out, mode=PY)
    (op,) = scan_ops(f)
    assert op.info.n_nonseqs == 0
    np.testing.assert_allclose(f(np.arange(3.0)), [0, 3, 6])
