"""Whole models built with scan: random streams inside the loop, and a 2-layer LSTM that trains."""

import numpy as np
import pytest

import symtensor as st
import symtensor.tensor as T
from symtensor.scan.op import Scan
from symtensor.tensor.shared_randomstreams import RandomStreams


# ---------------------------------------------------------------------- random streams inside the loop

@pytest.mark.parametrize("linker", ["py", "c"])
def test_random_draws_inside_the_loop_match_a_python_loop_of_draws(linker):
    mode = st.Mode(linker=linker)
    srng = RandomStreams(seed=3)
    x = T.dmatrix("x")
    out, updates = st.scan(lambda xt: xt + srng.normal((3,), dtype="float64"), sequences=x)
    assert len(updates) == 1
    f = st.function([x], out, updates=updates, mode=mode)
    first, second = f(np.zeros((4, 3))), f(np.zeros((2, 3)))
    # every step draws new numbers, and the next call goes on from where the loop left the state
    assert len({tuple(row) for row in first}) == 4
    assert not np.any(np.isin(second, first))
    # the same stream drawn by an explicit Python loop of calls gives the same numbers, in order
    ref = RandomStreams(seed=3)
    draw = st.function([], ref.normal((3,), dtype="float64"), mode=mode)
    want = np.stack([draw() for _ in range(6)])
    np.testing.assert_array_equal(np.concatenate([first, second]), want)


def test_random_state_of_the_loop_is_restored_by_seed():
    srng = RandomStreams(seed=11)
    n = T.iscalar("n")
    out, updates = st.scan(lambda: srng.uniform((2,), dtype="float64"), n_steps=n)
    f = st.function([n], out, updates=updates, mode=st.Mode(linker="c"))
    a = f(3)
    srng.seed(11)
    np.testing.assert_array_equal(f(3), a)
    np.testing.assert_array_equal(f(3)[0] == a[0], [False, False])
    assert np.all((a >= 0) & (a < 1))


def test_dropout_masks_differ_per_step_and_the_gradient_sees_the_same_masks():
    """The backward loop reuses each step's mask (the stored random state), not new draws."""
    srng = RandomStreams(seed=5)
    x, w = T.dmatrix("x"), T.dvector("w")

    def step(xt, w):
        mask = srng.binomial((4,), p=0.5, dtype="float64")
        return (xt * w * mask).sum(), mask

    (y, masks), updates = st.scan(step, sequences=x, non_sequences=w)
    gw = st.grad(y.sum(), w)
    f = st.function([x, w], [y, masks, gw], updates=updates, mode=st.Mode(linker="c"))
    xv, wv = np.arange(24.0).reshape(6, 4), np.ones(4)
    yv, mv, gv = f(xv, wv)
    assert set(np.unique(mv)) <= {0.0, 1.0} and len({tuple(m) for m in mv}) > 1
    np.testing.assert_allclose(yv, (xv * mv).sum(axis=1))
    np.testing.assert_allclose(gv, (xv * mv).sum(axis=0))


# ---------------------------------------------------------------------- a 2-layer LSTM language model

def lstm_layer(inputs, W, U, b, hidden):
    """Gates in torch's order (i, f, g, o); the input projection written inside the step."""
    def step(x, h, c):
        z = T.dot(x, W) + b + T.dot(h, U)
        i = T.nnet.sigmoid(z[:, :hidden])
        f = T.nnet.sigmoid(z[:, hidden:2 * hidden])
        g = T.tanh(z[:, 2 * hidden:3 * hidden])
        o = T.nnet.sigmoid(z[:, 3 * hidden:])
        c = f * c + i * g
        return o * T.tanh(c), c

    zero = T.zeros((inputs.shape[1], hidden), dtype=inputs.dtype)
    (hs, _), _ = st.scan(step, sequences=inputs, outputs_info=[zero, zero])
    return hs


def numpy_lstm_loss(p, xv, yv, layers, hidden):
    sig = lambda a: 1 / (1 + np.exp(-a))  # noqa: E731
    h_in = p["E"][xv]
    for k in range(layers):
        h, c, outs = np.zeros((xv.shape[1], hidden)), np.zeros((xv.shape[1], hidden)), []
        for x in h_in:
            z = x @ p[f"W{k}"] + p[f"b{k}"] + h @ p[f"U{k}"]
            i, f, g, o = (z[:, j * hidden:(j + 1) * hidden] for j in range(4))
            c = sig(f) * c + sig(i) * np.tanh(g)
            h = sig(o) * np.tanh(c)
            outs.append(h)
        h_in = np.stack(outs)
    logits = h_in.reshape(-1, hidden) @ p["V"] + p["d"]
    logits -= logits.max(axis=1, keepdims=True)
    logp = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    return -logp[np.arange(len(logits)), yv.reshape(-1)].mean()


def test_two_layer_lstm_over_35_steps_compiles_and_trains():
    vocab, hidden, layers, steps, batch = 20, 8, 2, 35, 3
    rng = np.random.default_rng(0)
    init = {"E": rng.uniform(-0.5, 0.5, (vocab, hidden)), "V": rng.uniform(-0.5, 0.5, (hidden, vocab)),
            "d": np.zeros(vocab)}
    for k in range(layers):
        init[f"W{k}"] = rng.uniform(-0.5, 0.5, (hidden, 4 * hidden))
        init[f"U{k}"] = rng.uniform(-0.5, 0.5, (hidden, 4 * hidden))
        init[f"b{k}"] = np.zeros(4 * hidden)
    params = {k: st.shared(v.copy(), name=k) for k, v in init.items()}
    x, y = T.lmatrix("x"), T.lmatrix("y")
    h = params["E"][x]
    for k in range(layers):
        h = lstm_layer(h, params[f"W{k}"], params[f"U{k}"], params[f"b{k}"], hidden)
    logits = T.dot(h.reshape((-1, hidden)), params["V"]) + params["d"]
    loss = T.nnet.categorical_crossentropy(T.nnet.softmax(logits), y.flatten()).mean()
    trained = list(params.values())
    grads = st.grad(loss, trained)
    # the gradient against central differences of the NumPy loop (a few entries of every weight)
    grad_f = st.function([x, y], grads, mode=st.Mode(linker="c"))
    train = st.function([x, y], loss, updates=[(p, p - 2.0 * g) for p, g in zip(trained, grads)],
                        mode=st.Mode(linker="c"))
    loops = [n for n in train.maker.fgraph.toposort() if isinstance(n.op, Scan)]
    assert len(loops) == 4   # two forward loops, two backward loops, all run in C
    assert not any(isinstance(n.op, Scan) for n in train.maker.run.plan.python_nodes.values())
    # a learnable sequence: the next word is the current one plus one
    words = (np.arange(steps + 1)[:, None] + np.arange(batch)[None, :] * 7) % vocab
    xv, yv = words[:-1], words[1:]
    for name, g in zip(params, grad_f(xv, yv)):
        for idx in list(zip(*np.nonzero(g)))[:3]:
            plus, minus = dict(init), dict(init)
            plus[name], minus[name] = init[name].copy(), init[name].copy()
            plus[name][idx] += 1e-6
            minus[name][idx] -= 1e-6
            numeric = (numpy_lstm_loss(plus, xv, yv, layers, hidden) - numpy_lstm_loss(minus, xv, yv, layers,
                                                                                        hidden)) / 2e-6
            assert g[idx] == pytest.approx(numeric, rel=1e-5, abs=1e-9), (name, idx)
    losses = [float(train(xv, yv)) for _ in range(30)]
    assert losses[0] == pytest.approx(numpy_lstm_loss(init, xv, yv, layers, hidden), rel=1e-10)
    assert all(b < a for a, b in zip(losses, losses[1:])) and losses[-1] < 0.8 * losses[0]
