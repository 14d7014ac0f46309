"""scan against explicit NumPy loops: argument handling, taps, directions, updates, errors, shapes."""

from collections import OrderedDict

import numpy as np
import pytest

import symtensor as st
import symtensor.tensor as T
from helpers import check_infer_shape
from symtensor.scan.op import Scan


def scan_nodes(f):
    return [n for n in f.maker.fgraph.toposort() if isinstance(n.op, Scan)]


def test_cumulative_sum(rng):
    x = T.dvector("x")
    out, updates = st.scan(lambda xt, acc: acc + xt, sequences=x, outputs_info=T.constant(0.0, dtype="float64"))
    assert isinstance(updates, OrderedDict) and not updates
    f = st.function([x], out)
    xv = rng.standard_normal(7)
    np.testing.assert_allclose(f(xv), np.cumsum(xv))
    assert f(np.zeros(0)).shape == (0,)


def test_power_by_repeated_product():
    A, k = T.dmatrix("A"), T.iscalar("k")
    result, _ = st.scan(lambda prior, A: prior * A, outputs_info=T.ones_like(A), non_sequences=A, n_steps=k)
    f = st.function([A, k], result[-1])
    av = np.array([[1.0, 2.0], [3.0, 0.5]])
    np.testing.assert_allclose(f(av, 5), av ** 5)
    every = st.function([A, k], result)(av, 3)
    np.testing.assert_allclose(every, np.stack([av, av ** 2, av ** 3]))


def test_fibonacci_with_two_taps():
    n = T.iscalar("n")
    init = T.dvector("init")
    seen = []

    def step(a, b):
        seen.append((a, b))
        return a + b

    fib, _ = st.scan(step, outputs_info=dict(initial=init, taps=[-2, -1]), n_steps=n)
    f = st.function([init, n], fib)
    want, a, b = [], 0.0, 1.0
    for _ in range(10):
        a, b = b, a + b
        want.append(b)
    np.testing.assert_allclose(f(np.array([0.0, 1.0]), 10), want)
    assert len(seen) == 1 and seen[0][0].name == "init[t-2]" and seen[0][1].name == "init[t-1]"


def test_sequence_taps_order_and_alignment(rng):
    x = T.dvector("x")
    out, _ = st.scan(lambda a, b, c: a * 100 + b * 10 + c, sequences=dict(input=x, taps=[-1, 0, 2]))
    xv = np.arange(8.0)
    got = st.function([x], out)(xv)
    # step t reads x[t-1], x[t], x[t+2], t running from 1 while t+2 is in range
    want = [xv[t - 1] * 100 + xv[t] * 10 + xv[t + 2] for t in range(1, 6)]
    np.testing.assert_allclose(got, want)


def test_single_positive_and_negative_taps():
    x = T.dvector("x")
    plus, _ = st.scan(lambda a: a, sequences=dict(input=x, taps=[2]))
    minus, _ = st.scan(lambda a: a, sequences=dict(input=x, taps=-2))
    xv = np.arange(6.0)
    f = st.function([x], [plus, minus])
    got_plus, got_minus = f(xv)
    np.testing.assert_allclose(got_plus, xv[2:])
    np.testing.assert_allclose(got_minus, xv[:-2])


def test_go_backwards(rng):
    x = T.dvector("x")
    out, _ = st.scan(lambda xt, acc: acc + xt, sequences=x, outputs_info=T.constant(0.0, dtype="float64"), go_backwards=True)
    xv = rng.standard_normal(5)
    np.testing.assert_allclose(st.function([x], out)(xv), np.cumsum(xv[::-1]))


def test_go_backwards_with_n_steps_starts_at_the_end():
    x = T.dvector("x")
    out, _ = st.scan(lambda xt: xt * 1, sequences=x, n_steps=3, go_backwards=True)
    np.testing.assert_allclose(st.function([x], out)(np.arange(6.0)), [5.0, 4.0, 3.0])


def test_negative_n_steps_goes_backwards():
    x = T.dvector("x")
    out, _ = st.scan(lambda xt: xt * 2, sequences=x, n_steps=-4)
    np.testing.assert_allclose(st.function([x], out)(np.arange(4.0)), [6.0, 4.0, 2.0, 0.0])


def test_map_nit_sot_outputs(rng):
    x, y = T.dmatrix("x"), T.dmatrix("y")
    (s, p), _ = st.scan(lambda a, b: [a + b, (a * b).sum()], sequences=[x, y])
    xv, yv = rng.standard_normal((4, 3)), rng.standard_normal((5, 3))
    got_s, got_p = st.function([x, y], [s, p])(xv, yv)
    np.testing.assert_allclose(got_s, xv + yv[:4])   # the shortest sequence sets the number of steps
    np.testing.assert_allclose(got_p, (xv * yv[:4]).sum(axis=1))


def test_n_steps_without_sequences():
    n = T.iscalar("n")
    out, _ = st.scan(lambda prev: prev * 3 + 1, outputs_info=T.constant(np.int64(1)), n_steps=n)
    want, v = [], 1
    for _ in range(6):
        v = v * 3 + 1
        want.append(v)
    got = st.function([n], out)(6)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, want)


def test_n_steps_longer_than_sequence_is_an_error():
    x = T.dvector("x")
    out, _ = st.scan(lambda xt: xt + 1, sequences=x, n_steps=10)
    f = st.function([x], out)
    with pytest.raises(Exception, match="steps"):
        f(np.arange(3.0))


def test_until_stops_after_the_step_where_the_condition_holds():
    limit = T.dscalar("limit")
    out, _ = st.scan(lambda p: (p * 2, st.scan.until(p * 2 > limit)), outputs_info=T.constant(1.0, dtype="float64"), n_steps=50)
    f = st.function([limit], out)
    np.testing.assert_allclose(f(40.0), [2, 4, 8, 16, 32, 64])
    np.testing.assert_allclose(f(1e6), 2.0 ** np.arange(1, 21))  # 2**20 > 1e6 at step 19
    assert st.scan_module.until is st.scan.until


def test_until_with_nit_sot_outputs_and_updates_order():
    x = T.dvector("x")
    out, _ = st.scan(lambda xt: (xt * 10, st.scan_module.until(xt > 2)), sequences=x)
    np.testing.assert_allclose(st.function([x], out)(np.array([1.0, 2.0, 3.0, 4.0])), [10, 20, 30])


def test_shared_variable_updates_from_fn():
    count = st.shared(np.float64(0.0), name="count")
    x = T.dvector("x")
    out, updates = st.scan(lambda xt: (xt * count, {count: count + 1}), sequences=x)
    assert list(updates) == [count]
    f = st.function([x], out, updates=updates)
    np.testing.assert_allclose(f(np.ones(4)), [0, 1, 2, 3])
    assert count.get_value() == 4.0
    np.testing.assert_allclose(f(np.ones(2)), [4, 5])
    assert count.get_value() == 6.0


def test_implicit_shared_capture_and_strict_error(rng):
    w = st.shared(rng.standard_normal(3), name="w")
    x = T.dmatrix("x")
    out, _ = st.scan(lambda xt: T.dot(xt, w), sequences=x)
    xv = rng.standard_normal((4, 3))
    np.testing.assert_allclose(st.function([x], out)(xv), xv @ w.get_value())
    with pytest.raises(ValueError, match="strict=True.*shared variable w"):
        st.scan(lambda xt: T.dot(xt, w), sequences=x, strict=True)
    out, _ = st.scan(lambda xt, w_: T.dot(xt, w_), sequences=x, non_sequences=w, strict=True)
    np.testing.assert_allclose(st.function([x], out)(xv), xv @ w.get_value())


def test_implicit_capture_of_free_outer_variable(rng):
    W = T.dmatrix("W")
    W2 = W ** 2
    x = T.dmatrix("x")
    out, _ = st.scan(lambda xt: T.dot(xt, W2), sequences=x)
    xv, wv = rng.standard_normal((3, 2)), rng.standard_normal((2, 2))
    np.testing.assert_allclose(st.function([x, W], out)(xv, wv), xv @ wv ** 2)
    with pytest.raises(ValueError, match="strict=True.*variable W"):
        st.scan(lambda xt: T.dot(xt, W2), sequences=x, strict=True)


def test_default_update_is_threaded_through_the_steps():
    """A shared variable with a default_update (what random streams use) advances once per step."""
    state = st.shared(np.float64(1.0), name="state")
    state.default_update = state * 2
    x = T.dvector("x")
    out, updates = st.scan(lambda xt: xt * state, sequences=x)
    assert updates[state] is not None
    f = st.function([x], out, updates=updates)
    np.testing.assert_allclose(f(np.ones(4)), [1, 2, 4, 8])
    assert state.get_value() == 16.0
    np.testing.assert_allclose(f(np.ones(1)), [16])
    assert state.get_value() == 32.0


def test_multiple_outputs_mixed_kinds(rng):
    x = T.dvector("x")

    def step(xt, s, p):
        return s + xt, p * xt, xt ** 2

    (s, p, sq), _ = st.scan(step, sequences=x, outputs_info=[T.constant(0.0, dtype="float64"), T.constant(1.0, dtype="float64"), None])
    xv = rng.uniform(0.5, 1.5, 5)
    got = st.function([x], [s, p, sq])(xv)
    for g, w in zip(got, [np.cumsum(xv), np.cumprod(xv), xv ** 2]):
        np.testing.assert_allclose(g, w)


def test_polynomial_from_the_theano_tutorial():
    coefficients = T.dvector("coefficients")
    x = T.dscalar("x")
    full_range = T.arange(10000)
    components, _ = st.scan(lambda c, power, free: c * (free ** power), outputs_info=None,
                            sequences=[coefficients, full_range], non_sequences=x)
    polynomial = st.function([coefficients, x], components.sum())
    assert polynomial(np.asarray([1, 0, 2], dtype="float64"), 3.0) == pytest.approx(19.0)


def test_return_list_and_no_outputs():
    x = T.dvector("x")
    outs, _ = st.scan(lambda xt: xt + 1, sequences=x, return_list=True)
    assert isinstance(outs, list) and len(outs) == 1
    c = st.shared(np.float64(0.0), name="c")
    outs, updates = st.scan(lambda xt: {c: c + xt}, sequences=x)
    assert outs is None
    st.function([x], [], updates=updates)(np.array([1.0, 2.0, 3.0]))
    assert c.get_value() == 6.0


def test_map_reduce_foldl_foldr(rng):
    x = T.dvector("x")
    xv = rng.standard_normal(5)
    mapped, _ = st.scan.map(lambda v: v * 2, x)
    total, _ = st.scan.reduce(lambda v, acc: acc + v, x, T.constant(0.0, dtype="float64"))
    left, _ = st.scan_module.foldl(lambda v, acc: acc * 2 + v, x, T.constant(0.0, dtype="float64"))
    right, _ = st.scan_module.foldr(lambda v, acc: acc * 2 + v, x, T.constant(0.0, dtype="float64"))
    got = st.function([x], [mapped, total, left, right])(xv)
    lv = rv = 0.0
    for v in xv:
        lv = lv * 2 + v
    for v in xv[::-1]:
        rv = rv * 2 + v
    np.testing.assert_allclose(got[0], xv * 2)
    assert got[1] == pytest.approx(xv.sum())
    assert got[2] == pytest.approx(lv) and got[3] == pytest.approx(rv)


# ---------------------------------------------------------------------- errors

def test_wrong_number_of_outputs():
    x = T.dvector("x")
    with pytest.raises(ValueError, match="fn returned 2 outputs but outputs_info has 1"):
        st.scan(lambda xt, a: [a + xt, a * xt], sequences=x, outputs_info=[T.constant(0.0, dtype="float64")])


def test_dtype_mismatch_names_both_dtypes():
    x = T.dvector("x")
    with pytest.raises(TypeError, match="output 0 of fn has dtype float64 but its initial state .* float32"):
        st.scan(lambda xt, a: a + xt, sequences=x, outputs_info=T.constant(np.float32(0)))


def test_static_shape_mismatch():
    with pytest.raises(ValueError, match=r"output 0 of fn has shape \(4,\) but its initial state has shape \(3,\)"):
        st.scan(lambda a: T.concatenate([a, a[:1]]), outputs_info=T.constant(np.zeros(3)), n_steps=2)


def test_runtime_shape_mismatch_names_output_and_shapes():
    h0 = T.dvector("h0")
    out, _ = st.scan(lambda a: T.concatenate([a, a[:1]]), outputs_info=h0, n_steps=2)
    f = st.function([h0], out)
    with pytest.raises(ValueError, match=r"recurrent output 0 has shape \(4,\) at step 0, but its initial state "
                                         r"has shape \(3,\)"):
        f(np.zeros(3))


def test_taps_errors():
    x = T.dvector("x")
    with pytest.raises(ValueError, match="must be negative"):
        st.scan(lambda a: a, outputs_info=dict(initial=x, taps=[1]), n_steps=2)
    with pytest.raises(ValueError, match="no sequences and no n_steps"):
        st.scan(lambda a: a * 2, outputs_info=x)
    with pytest.raises(TypeError, match="n_steps must be an integer"):
        st.scan(lambda a: a * 2, outputs_info=x, n_steps=T.dscalar())


def test_inner_error_names_the_step():
    x = T.dmatrix("x")
    idx = T.lscalar("i")
    out, _ = st.scan(lambda row: row[idx], sequences=x)
    f = st.function([x, idx], out)
    with pytest.raises(IndexError, match="failed at step 0"):
        f(np.zeros((2, 3)), 5)


# ---------------------------------------------------------------------- shapes and structure

def test_infer_shape(rng):
    x, h0 = T.dmatrix("x"), T.dvector("h0")
    n = T.iscalar("n")
    (h, y), _ = st.scan(lambda xt, h: [h + xt, T.outer(xt, xt)], sequences=x, outputs_info=[h0, None])
    i = T.dmatrix("i")
    fib, _ = st.scan(lambda a, b: a + b, outputs_info=dict(initial=i, taps=[-2, -1]), n_steps=n)
    check_infer_shape([x, h0], [h.owner.inputs[0], h, y], [rng.standard_normal((4, 3)), rng.standard_normal(3)])
    assert isinstance(h.owner.inputs[0].owner.op, Scan)
    check_infer_shape([i, n], [fib.owner.inputs[0], fib], [np.ones((2, 3)), 5])


def test_equal_scans_merge():
    x = T.dvector("x")
    a, _ = st.scan(lambda v: v * 2 + 1, sequences=x)
    b, _ = st.scan(lambda v: v * 2 + 1, sequences=x)
    assert a.owner.op == b.owner.op and hash(a.owner.op) == hash(b.owner.op)
    f = st.function([x], a + b)
    assert len(scan_nodes(f)) == 1
    np.testing.assert_allclose(f(np.arange(3.0)), 2 * (np.arange(3.0) * 2 + 1))


def test_float32_stays_float32(rng):
    x = T.fmatrix("x")
    h0 = T.fvector("h0")
    h, _ = st.scan(lambda xt, h: T.tanh(h + xt), sequences=x, outputs_info=h0)
    f = st.function([x, h0], h)
    xv, hv = rng.standard_normal((3, 2)).astype("float32"), np.zeros(2, "float32")
    got = f(xv, hv)
    assert got.dtype == np.float32
    want, hh = [], hv
    for row in xv:
        hh = np.tanh(hh + row)
        want.append(hh)
    np.testing.assert_allclose(got, want, rtol=1e-6)
