"""The C linker runs the loop in C and agrees with the python linker (the reference)."""

import numpy as np
import pytest

import symtensor as st
import symtensor.tensor as T
from helpers import assert_same_results, compile_c_and_py, noncontiguous
from symtensor.scan.op import Scan


def _cumsum():
    x = T.dvector("x")
    out, _ = st.scan(lambda v, acc: acc + v, sequences=x, outputs_info=T.constant(0.0, dtype="float64"))
    return [x], [out], [np.arange(6.0)]


def _fib_last_rows():
    n, init = T.iscalar("n"), T.fvector("init")
    fib, _ = st.scan(lambda a, b: a + b, outputs_info=dict(initial=init, taps=[-2, -1]), n_steps=n)
    return [init, n], [fib, fib[-1], fib[-3:]], [np.array([0, 1], "float32"), 9]


def _rnn_float32():
    xs, h0, W = T.ftensor3("xs"), T.fmatrix("h0"), T.fmatrix("W")
    h, _ = st.scan(lambda x, h, W: T.tanh(T.dot(h, W) + x), sequences=xs, outputs_info=h0, non_sequences=W)
    rng = np.random.default_rng(0)
    vals = [rng.standard_normal((5, 2, 3)).astype("float32"), rng.standard_normal((2, 3)).astype("float32"),
            rng.standard_normal((3, 3)).astype("float32") * 0.5]
    return [xs, h0, W], [h, h[-1]], vals


def _until_and_map():
    x = T.dvector("x")
    (a, b), _ = st.scan(lambda v, acc: ([acc + v, v * 2], st.scan.until(acc + v > 4)), sequences=x,
                        outputs_info=[T.constant(0.0, dtype="float64"), None])
    return [x], [a, b], [np.arange(10.0)]


def _noncontiguous_sequence():
    x = T.dmatrix("x")
    out, _ = st.scan(lambda row, acc: acc * 0.5 + row, sequences=x, outputs_info=T.zeros_like(x[0]))
    return [x], [out], [noncontiguous(np.arange(12.0).reshape(4, 3))]


def _zero_steps():
    x, h0 = T.dmatrix("x"), T.dvector("h0")
    (h, y), _ = st.scan(lambda v, h: [h + v, (v * 2)[:2]], sequences=x, outputs_info=[h0, None])
    return [x, h0], [h, y], [np.zeros((0, 3)), np.ones(3)]


def _nested_scan():
    m = T.dmatrix("m")

    def row_sum(row):
        s, _ = st.scan(lambda v, acc: acc + v, sequences=row, outputs_info=T.constant(0.0, dtype="float64"))
        return s[-1]

    out, _ = st.scan(row_sum, sequences=m)
    return [m], [out], [np.arange(12.0).reshape(3, 4)]


def _rnn_gradient():
    xs, h0, W = T.dmatrix("xs"), T.dvector("h0"), T.dmatrix("W")
    h, _ = st.scan(lambda x, h, W: T.tanh(T.dot(h, W) + x), sequences=xs, outputs_info=h0, non_sequences=W,
                   truncate_gradient=3)
    grads = st.grad((h ** 2).sum(), [xs, h0, W])
    rng = np.random.default_rng(1)
    vals = [rng.standard_normal((6, 3)), rng.standard_normal(3), rng.standard_normal((3, 3)) * 0.5]
    return [xs, h0, W], grads, vals


CASES = {"cumsum": _cumsum, "fib_last_rows": _fib_last_rows, "rnn_float32": _rnn_float32,
         "until_and_map": _until_and_map, "noncontiguous_sequence": _noncontiguous_sequence,
         "zero_steps": _zero_steps, "nested_scan": _nested_scan, "rnn_gradient": _rnn_gradient}


@pytest.mark.parametrize("case", list(CASES))
def test_c_linker_agrees_with_python_linker(case):
    inputs, outputs, values = CASES[case]()
    fc, fp = compile_c_and_py(inputs, outputs)
    assert not [n for n in fc.maker.run.plan.python_nodes.values() if isinstance(n.op, Scan)]
    assert_same_results(fc, fp, *values)
    assert_same_results(fc, fp, *values)  # second call: reused buffers


def test_the_loop_runs_in_c(monkeypatch):
    """No Python perform per step: with Scan.perform disabled the C function still runs."""
    x, h0 = T.dmatrix("x"), T.dvector("h0")
    h, _ = st.scan(lambda v, h: T.tanh(h + v), sequences=x, outputs_info=h0)
    count = st.shared(np.int64(0), name="count")
    _, updates = st.scan(lambda v: {count: count + 1}, sequences=x)

    def no_perform(self, node, inputs, output_storage):
        raise AssertionError("Scan.perform ran")

    monkeypatch.setattr(Scan, "perform", no_perform)
    f = st.function([x, h0], h, updates=updates, mode=st.Mode(linker="c"))
    plan = f.maker.run.plan
    scan_positions = [pos for pos, n in enumerate(plan.order) if isinstance(n.op, Scan)]
    assert len(scan_positions) == 2 and all(pos in plan.node_data for pos in scan_positions)
    assert not any(isinstance(n.op, Scan) for n in plan.python_nodes.values())
    xv = np.random.default_rng(0).standard_normal((200, 4))
    got = f(xv, np.zeros(4))
    want, hh = [], np.zeros(4)
    for row in xv:
        hh = np.tanh(hh + row)
        want.append(hh)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    assert count.get_value() == 200
    # and the python linker does use perform (so the patch is effective)
    fp = st.function([x, h0], h, mode=st.Mode(linker="py"))
    with pytest.raises(AssertionError, match="Scan.perform ran"):
        fp(xv, np.zeros(4))


def test_inner_failure_in_c_names_the_step_and_the_inner_node():
    x = T.dmatrix("x")
    i = T.lscalar("i")
    out, _ = st.scan(lambda row, acc: acc + row[i], sequences=x, outputs_info=T.constant(0.0, dtype="float64"))
    f = st.function([x, i], out, mode=st.Mode(linker="c"))
    assert f(np.ones((3, 2)), 1).tolist() == [1.0, 2.0, 3.0]
    with pytest.raises(IndexError, match="failed at step 0") as info:
        f(np.ones((3, 2)), 7)
    assert "Subtensor" in str(info.value)


def test_runtime_shape_mismatch_in_c():
    h0 = T.dvector("h0")
    out, _ = st.scan(lambda a: T.concatenate([a, a[:1]]), outputs_info=h0, n_steps=2)
    f = st.function([h0], out, mode=st.Mode(linker="c"))
    with pytest.raises(ValueError, match=r"recurrent output 0 has shape \(4,\) at step 0, but its initial state has "
                                         r"shape \(3,\)"):
        f(np.zeros(3))


def test_default_update_threading_in_c():
    state = st.shared(np.float64(1.0), name="state")
    state.default_update = state * 2
    x = T.dvector("x")
    out, updates = st.scan(lambda xt: xt * state, sequences=x)
    g = st.grad(out.sum(), x)
    f = st.function([x], [out, g], updates=updates, mode=st.Mode(linker="c"))
    o, gv = f(np.ones(4))
    np.testing.assert_allclose(o, [1, 2, 4, 8])
    np.testing.assert_allclose(gv, [1, 2, 4, 8])
    assert state.get_value() == 16.0
