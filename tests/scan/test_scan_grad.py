"""Gradients through scan: verify_grad against finite differences, truncated BPTT by hand."""

import numpy as np
import pytest

import symtensor as st
import symtensor.tensor as T
from symtensor.gradient import NullTypeGradError


def rnn(W, x0, xs):
    h, _ = st.scan(lambda x, h, W: T.tanh(T.dot(h, W) + x), sequences=xs, outputs_info=x0, non_sequences=W)
    return h


def test_verify_grad_rnn_wrt_weights_initial_state_and_sequence(rng):
    pt = [rng.standard_normal((3, 3)) * 0.5, rng.standard_normal(3), rng.standard_normal((5, 3))]
    st.verify_grad(rnn, pt, rng=rng)


def test_verify_grad_last_state_only(rng):
    pt = [rng.standard_normal((3, 3)) * 0.5, rng.standard_normal(3), rng.standard_normal((4, 3))]
    st.verify_grad(lambda W, x0, xs: rnn(W, x0, xs)[-1], pt, rng=rng)


def test_verify_grad_two_taps(rng):
    def fn(init, xs, ab):
        out, _ = st.scan(lambda x, y2, y1, ab: ab[0] * T.tanh(y2) + ab[1] * y1 * x,
                         sequences=xs, outputs_info=dict(initial=init, taps=[-2, -1]), non_sequences=ab)
        return out

    st.verify_grad(fn, [rng.standard_normal((2, 3)), rng.standard_normal((6, 3)), np.array([0.7, 0.4])], rng=rng)


def test_verify_grad_sequence_taps_and_go_backwards(rng):
    def fn(xs, h0):
        out, _ = st.scan(lambda a, b, h: T.sin(h) * a + b, sequences=dict(input=xs, taps=[-1, 1]),
                         outputs_info=h0, go_backwards=True)
        return out

    st.verify_grad(fn, [rng.standard_normal(7), rng.standard_normal(())], rng=rng)


def test_verify_grad_map_and_mixed_outputs(rng):
    def fn(xs, w):
        (s, y), _ = st.scan(lambda x, s, w: [s * 0.5 + x * w, T.exp(x * w).sum()], sequences=xs,
                            outputs_info=[T.zeros_like(w), None], non_sequences=w)
        return s.sum() + y.sum()

    st.verify_grad(fn, [rng.standard_normal((4, 2)), rng.standard_normal(2)], rng=rng)


def test_gradient_wrt_implicitly_captured_shared_weights(rng):
    W = st.shared(rng.standard_normal((3, 3)) * 0.5, name="W")
    xs, h0 = T.dmatrix("xs"), T.dvector("h0")
    h, _ = st.scan(lambda x, h: T.tanh(T.dot(h, W) + x), sequences=xs, outputs_info=h0)
    gW = st.grad(h.sum(), W)
    xv, hv = rng.standard_normal((5, 3)), rng.standard_normal(3)
    got = st.function([xs, h0], gW)(xv, hv)

    def loss(Wv):
        hh, tot = hv, 0.0
        for x in xv:
            hh = np.tanh(hh @ Wv + x)
            tot += hh.sum()
        return tot

    Wv, eps, num = W.get_value(), 1e-6, np.zeros((3, 3))
    for i in range(3):
        for j in range(3):
            d = np.zeros((3, 3))
            d[i, j] = eps
            num[i, j] = (loss(Wv + d) - loss(Wv - d)) / (2 * eps)
    np.testing.assert_allclose(got, num, rtol=1e-6, atol=1e-8)


def _truncated_rnn_grads(Wv, Uv, h0v, xv, k):
    """BPTT over the last k steps only (Theano's truncate_gradient), for cost = sum of every h_t."""
    n = len(xv)
    hs = [h0v]
    for x in xv:
        hs.append(np.tanh(x @ Wv + hs[-1] @ Uv))
    gW, gU, gx, gh0 = np.zeros_like(Wv), np.zeros_like(Uv), np.zeros_like(xv), np.zeros_like(h0v)
    carry = np.zeros_like(h0v)
    steps = min(n, k)
    for t in range(n - 1, n - 1 - steps, -1):
        d = (1.0 + carry) * (1 - hs[t + 1] ** 2)   # d cost / d (pre-activation) at step t
        gW += np.outer(xv[t], d)
        gU += np.outer(hs[t], d)
        gx[t] = d @ Wv.T
        carry = d @ Uv.T
    if steps == n:
        gh0 = carry
    return gW, gU, gx, gh0


@pytest.mark.parametrize("k", [2, 5, 10])
def test_truncate_gradient_matches_a_hand_computed_truncated_bptt(rng, k):
    W, U, h0, xs = T.dmatrix("W"), T.dmatrix("U"), T.dvector("h0"), T.dmatrix("xs")
    h, _ = st.scan(lambda x, h: T.tanh(T.dot(x, W) + T.dot(h, U)), sequences=xs, outputs_info=h0,
                   truncate_gradient=k)
    grads = st.grad(h.sum(), [W, U, xs, h0])
    f = st.function([W, U, h0, xs], grads)
    vals = [rng.standard_normal((2, 3)) * 0.5, rng.standard_normal((3, 3)) * 0.5, rng.standard_normal(3),
            rng.standard_normal((5, 2))]
    got = f(*vals)
    want = _truncated_rnn_grads(vals[0], vals[1], vals[2], vals[3], k)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12)


def lstm_layer(x, h0, c0, W, U, b):
    """A standard LSTM (gates i, f, o, g from one product), scanning over the first axis of x."""
    n = h0.shape[-1]
    xw = T.dot(x, W) + b

    def step(xw_t, h, c, U):
        z = xw_t + T.dot(h, U)
        i = T.nnet.sigmoid(z[:, :n])
        f = T.nnet.sigmoid(z[:, n:2 * n])
        o = T.nnet.sigmoid(z[:, 2 * n:3 * n])
        g = T.tanh(z[:, 3 * n:])
        c_new = f * c + i * g
        return o * T.tanh(c_new), c_new

    (h, c), _ = st.scan(step, sequences=xw, outputs_info=[h0, c0], non_sequences=U)
    return h, c


def test_lstm_gradient_against_finite_differences(rng):
    def fn(x, h0, c0, W, U, b):
        h, c = lstm_layer(x, h0, c0, W, U, b)
        return h.sum() + (c[-1] ** 2).sum()

    nb, ni, nh, steps = 2, 3, 2, 4
    pt = [rng.standard_normal((steps, nb, ni)), rng.standard_normal((nb, nh)), rng.standard_normal((nb, nh)),
          rng.standard_normal((ni, 4 * nh)) * 0.5, rng.standard_normal((nh, 4 * nh)) * 0.5,
          rng.standard_normal(4 * nh) * 0.1]
    st.verify_grad(fn, pt, rng=rng)


def test_gradient_through_a_threaded_shared_value_uses_each_steps_value():
    """A shared value advanced in the loop (as random states are) is stored per step for the backward pass:
    the gradient uses the value each step saw, and computing it does not advance the value again."""
    state = st.shared(np.float64(1.0), name="state")
    state.default_update = state * 2
    x = T.dvector("x")
    out, updates = st.scan(lambda xt: T.sqr(xt) * state, sequences=x)
    g = st.grad(out.sum(), x)
    f = st.function([x], [out, g], updates=updates)
    xv = np.array([1.0, 2.0, 3.0])
    o, gv = f(xv)
    np.testing.assert_allclose(o, xv ** 2 * [1, 2, 4])
    np.testing.assert_allclose(gv, 2 * xv * [1, 2, 4])
    assert state.get_value() == 8.0


def test_gradient_through_until_is_reported():
    x0 = T.dscalar("x0")
    out, _ = st.scan(lambda p: (p * 2, st.scan.until(p > 10)), outputs_info=x0, n_steps=20)
    with pytest.raises(NullTypeGradError, match="until"):
        st.grad(out.sum(), x0)


def test_integer_sequence_gets_no_gradient_but_float_inputs_do(rng):
    idx = T.lvector("idx")
    w = T.dvector("w")
    out, _ = st.scan(lambda i, w: w[i] * 2, sequences=idx, non_sequences=w)
    gw = st.grad(out.sum(), w)
    got = st.function([idx, w], gw)(np.array([0, 2, 2]), rng.standard_normal(3))
    np.testing.assert_allclose(got, [2.0, 0.0, 4.0])
