"""Neural-net stabilization rewrites: log(softmax) -> log_softmax, softmax cross-entropies -> fused ops.

Every rewritten graph is compared with the unrewritten one (Mode(optimizer=None)) at moderate logits,
and the structure of the compiled graph shows the rewrite fired. At logits around 1e4 the unrewritten
graphs give inf/nan; the rewritten ones match a stable NumPy reference.
"""

import numpy as np
import pytest

import symtensor as st
import symtensor.tensor as T
import symtensor.tensor.rewriting  # noqa: F401  (registers the rewrites)
from symtensor.compile.mode import Mode
from symtensor.tensor.elemwise import Elemwise
from symtensor.tensor.nnet import basic as nb

FAST_RUN = Mode(optimizer="fast_run")
FAST_COMPILE = Mode(optimizer="fast_compile")
NO_REWRITES = Mode(optimizer=None)
UNSTABLE = (nb.Softmax, nb.SoftmaxGrad)


def op_types(f):
    return [type(n.op) for n in f.maker.fgraph.toposort()]


def has_log_of_softmax(f):
    for n in f.maker.fgraph.toposort():
        if isinstance(n.op, Elemwise) and "log" == n.op.scalar_op.name:
            inner = n.inputs[0].owner
            if inner is not None and isinstance(inner.op, (nb.Softmax, nb.SoftmaxWithBias)):
                return True
    return False


def divides_by_softmax(f):
    """Some node computes ``a / softmax`` (inf where the softmax underflows), also inside a fused Composite."""
    for n in f.maker.fgraph.toposort():
        if isinstance(n.op, Elemwise) and "true_div" in str(n.op):
            if any(i.owner is not None and isinstance(i.owner.op, (nb.Softmax, nb.SoftmaxWithBias))
                   for i in n.inputs):
                return True
    return False


def np_logsoftmax(z):
    s = z - z.max(axis=-1, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=-1, keepdims=True))


def np_softmax(z):
    return np.exp(np_logsoftmax(z))


def assert_same(f, ref, args):
    for got, want in zip(f(*args), ref(*args)):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


# ---------------------------------------------------------------- log(softmax) -> log_softmax

LOG_CASES = [  # (id, symbolic expression of p = softmax(x), the same indexing of NumPy's log-softmax L)
    ("log_softmax", lambda p, i, j: T.log(p), lambda L, i, j: L),
    ("index_after_log", lambda p, i, j: T.log(p)[i, j], lambda L, i, j: L[i, j]),
    ("log_after_adv_index", lambda p, i, j: T.log(p[i, j]), lambda L, i, j: L[i, j]),
    ("log_after_slice", lambda p, i, j: T.log(p[1:, ::2]), lambda L, i, j: L[1:, ::2]),
    ("log_after_rows", lambda p, i, j: T.log(p[i]), lambda L, i, j: L[i]),
]


@pytest.mark.parametrize("build, np_build", [c[1:] for c in LOG_CASES], ids=[c[0] for c in LOG_CASES])
def test_log_softmax_rewrite(build, np_build, rng):
    x, i, j = T.dmatrix("x"), T.lvector("i"), T.lvector("j")
    out = build(T.nnet.softmax(x), i, j)
    f = st.function([x, i, j], [out], mode=FAST_RUN, on_unused_input="ignore")
    ref = st.function([x, i, j], [out], mode=NO_REWRITES, on_unused_input="ignore")
    assert nb.LogSoftmax in op_types(f) and not has_log_of_softmax(f) and nb.Softmax not in op_types(f)
    iv, jv = np.array([0, 2, 1]), np.array([4, 0, 4])
    assert_same(f, ref, [rng.normal(size=(3, 5)), iv, jv])
    big = 1e4 * rng.normal(size=(3, 5))
    (got,) = f(big, iv, jv)
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got, np_build(np_logsoftmax(big), iv, jv))


def test_log_softmax_with_bias_and_fast_compile(rng):
    x, b = T.dmatrix("x"), T.dvector("b")
    out = T.log(T.nnet.softmax(x + b))
    for mode in (FAST_RUN, FAST_COMPILE):
        f = st.function([x, b], [out], mode=mode)
        assert nb.LogSoftmax in op_types(f) and not has_log_of_softmax(f)
        a, c = 1e4 * rng.normal(size=(2, 4)), rng.normal(size=4)
        np.testing.assert_allclose(f(a, c)[0], np_logsoftmax(a + c))


# ---------------------------------------------------------------- cross-entropy -> fused op

def _cce_int(x, b, y, t):
    return T.mean(T.nnet.categorical_crossentropy(T.nnet.softmax(x), y))


def _cce_int_bias(x, b, y, t):
    return T.sum(T.nnet.categorical_crossentropy(T.nnet.softmax(x + b), y))


def _readme(x, b, y, t):
    return -T.mean(T.log(T.nnet.softmax(x))[T.arange(y.shape[0]), y])


def _readme_sum_rows_of_x(x, b, y, t):
    return -T.sum(T.log(T.nnet.softmax(x + b))[T.arange(x.shape[0]), y])


def _log_after_pick(x, b, y, t):
    return -T.mean(T.log(T.nnet.softmax(x)[T.arange(y.shape[0]), y]))


def _dense(x, b, y, t):
    return T.mean(T.nnet.categorical_crossentropy(T.nnet.softmax(x), t))


def _dense_bias(x, b, y, t):
    return T.sum(T.nnet.categorical_crossentropy(T.nnet.softmax(x + b), t))


def _np_nll(xv, bv, yv, tv, with_bias, dense):
    z = xv + bv if with_bias else xv
    if dense:
        return -(tv * np_logsoftmax(z)).sum(-1), np_softmax(z) * tv.sum(-1, keepdims=True) - tv
    return -np_logsoftmax(z)[np.arange(len(yv)), yv], np_softmax(z) - np.eye(z.shape[1])[yv]


# (name, build, fused forward op, fused gradient op, bias, dense, mean)
CASES = [
    ("categorical_int", _cce_int, nb.CrossentropySoftmaxArgmax1HotWithBias, nb.CrossentropySoftmax1HotWithBiasDx,
     False, False, True),
    ("categorical_int_bias", _cce_int_bias, nb.CrossentropySoftmaxArgmax1HotWithBias,
     nb.CrossentropySoftmax1HotWithBiasDx, True, False, False),
    ("readme_idiom", _readme, nb.CrossentropySoftmaxArgmax1HotWithBias, nb.CrossentropySoftmax1HotWithBiasDx,
     False, False, True),
    ("idiom_rows_of_x_bias_sum", _readme_sum_rows_of_x, nb.CrossentropySoftmaxArgmax1HotWithBias,
     nb.CrossentropySoftmax1HotWithBiasDx, True, False, False),
    ("log_after_pick", _log_after_pick, nb.CrossentropySoftmaxArgmax1HotWithBias,
     nb.CrossentropySoftmax1HotWithBiasDx, False, False, True),
    ("categorical_onehot", _dense, nb.CrossentropySoftmaxDense, nb.CrossentropySoftmaxDenseDx, False, True, True),
    ("categorical_onehot_bias", _dense_bias, nb.CrossentropySoftmaxDense, nb.CrossentropySoftmaxDenseDx,
     True, True, False),
]


@pytest.fixture
def data(rng):
    yv = rng.integers(0, 10, 5)
    return rng, yv, np.eye(10)[yv]


@pytest.mark.parametrize("name, build, fwd_op, dx_op, bias, dense, mean", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("mode", [FAST_RUN, FAST_COMPILE], ids=["fast_run", "fast_compile"])
def test_crossentropy_of_softmax_is_fused(name, build, fwd_op, dx_op, bias, dense, mean, mode, data):
    rng, yv, tv = data
    x, b, y, t = T.dmatrix("x"), T.dvector("b"), T.lvector("y"), T.dmatrix("t")
    cost = build(x, b, y, t)
    gx, gb = st.grad(cost, [x, b], disconnected_inputs="ignore")
    outs = [cost, gx] + ([gb] if bias else [])
    f = st.function([x, b, y, t], outs, mode=mode, on_unused_input="ignore")
    ref = st.function([x, b, y, t], outs, mode=NO_REWRITES, on_unused_input="ignore")
    ops = op_types(f)
    assert ops.count(fwd_op) == 1 and ops.count(dx_op) == 1, ops
    assert not any(o in ops for o in UNSTABLE), ops
    assert not has_log_of_softmax(f) and not divides_by_softmax(f)
    bv = rng.normal(size=10)
    assert_same(f, ref, [rng.normal(size=(5, 10)), bv, yv, tv])

    # logits around 1e4: the unrewritten graph breaks, the fused one matches a stable reference
    xv = 1e4 * rng.standard_normal((5, 10))
    got = f(xv, bv, yv, tv)
    assert all(np.all(np.isfinite(v)) for v in got)
    with np.errstate(all="ignore"):
        assert not all(np.all(np.isfinite(v)) for v in ref(xv, bv, yv, tv))
    nll, dz = _np_nll(xv, bv, yv, tv, bias, dense)
    scale = 1 / 5 if mean else 1
    np.testing.assert_allclose(got[0], nll.sum() * scale, rtol=1e-12)
    np.testing.assert_allclose(got[1], dz * scale, atol=1e-12)
    if bias:
        np.testing.assert_allclose(got[2], dz.sum(0) * scale, atol=1e-12)


def test_float32_fused_cost_and_gradient(rng):
    x, y = T.fmatrix("x"), T.lvector("y")
    cost = T.mean(T.nnet.categorical_crossentropy(T.nnet.softmax(x), y))
    f = st.function([x, y], [cost, st.grad(cost, x)], mode=FAST_RUN)
    assert nb.CrossentropySoftmaxArgmax1HotWithBias in op_types(f)
    xv, yv = (1e4 * rng.standard_normal((5, 10))).astype("float32"), rng.integers(0, 10, 5)
    c, g = f(xv, yv)
    assert c.dtype == g.dtype == np.float32
    want = -np_logsoftmax(xv.astype("float64"))[np.arange(5), yv].mean()
    np.testing.assert_allclose(c, want, rtol=1e-5)
    np.testing.assert_allclose(g, (np_softmax(xv.astype("float64")) - np.eye(10)[yv]) / 5, atol=1e-6)


def test_softmax_used_elsewhere_is_computed_once(rng):
    x, y = T.dmatrix("x"), T.lvector("y")
    p = T.nnet.softmax(x)
    cost = -T.mean(T.log(p)[T.arange(y.shape[0]), y])
    outs = [cost, T.argmax(p, axis=1), p]
    f, ref = (st.function([x, y], outs, mode=m) for m in (FAST_RUN, NO_REWRITES))
    ops = op_types(f)
    assert nb.Softmax not in ops and nb.LogSoftmax not in ops
    assert ops.count(nb.CrossentropySoftmaxArgmax1HotWithBias) == 1
    assert_same(f, ref, [rng.normal(size=(4, 3)), np.array([0, 2, 1, 1])])


def test_labels_computed_from_the_softmax_do_not_make_a_cycle(rng):
    x = T.dmatrix("x")
    p = T.nnet.softmax(x)
    pseudo = T.argmax(p, axis=1)
    cost = T.mean(T.nnet.categorical_crossentropy(p, pseudo)) + p.sum()
    f, ref = (st.function([x], [cost, st.grad(cost, x)], mode=m) for m in (FAST_RUN, NO_REWRITES))
    assert nb.CrossentropySoftmaxArgmax1HotWithBias in op_types(f)
    assert_same(f, ref, [rng.normal(size=(3, 4))])


def test_arange_over_other_rows_is_not_fused(rng):
    x, y, other = T.dmatrix("x"), T.lvector("y"), T.dvector("other")
    cost = -T.sum(T.log(T.nnet.softmax(x))[T.arange(other.shape[0]), y])
    f, ref = (st.function([x, y, other], [cost, st.grad(cost, x)], mode=m) for m in (FAST_RUN, NO_REWRITES))
    ops = op_types(f)
    assert nb.CrossentropySoftmaxArgmax1HotWithBias not in ops and nb.LogSoftmax in ops
    assert_same(f, ref, [rng.normal(size=(3, 4)), np.array([1, 0, 3]), np.zeros(3)])


def test_softmax_grad_of_a_generic_log_is_stable(rng):
    x, w = T.dmatrix("x"), T.dmatrix("w")
    cost = T.sum(w * T.log(T.nnet.softmax(x)))  # not one distribution per row: the generic form
    f, ref = (st.function([x, w], [cost, st.grad(cost, x)], mode=m) for m in (FAST_RUN, NO_REWRITES))
    assert nb.SoftmaxGrad not in op_types(f)
    assert_same(f, ref, [rng.normal(size=(3, 4)), rng.normal(size=(3, 4))])
    xv, wv = 1e4 * rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    c, g = f(xv, wv)
    np.testing.assert_allclose(c, (wv * np_logsoftmax(xv)).sum())
    np.testing.assert_allclose(g, wv - np_softmax(xv) * wv.sum(-1, keepdims=True), atol=1e-9)


def test_grad_of_graph_built_with_the_fused_op(rng):
    x, y = T.dmatrix("x"), T.lvector("y")
    nll, sm = T.nnet.crossentropy_softmax_1hot(x, y)
    cost = nll.mean()
    f, ref = (st.function([x, y], [cost, st.grad(cost, x)], mode=m) for m in (FAST_RUN, NO_REWRITES))
    assert nb.CrossentropySoftmax1HotWithBiasDx in op_types(f) and nb.SoftmaxGrad not in op_types(f)
    assert_same(f, ref, [rng.normal(size=(3, 4)), np.array([1, 0, 3])])


# ---------------------------------------------------------------- bias folding

def test_softmax_plus_bias_becomes_softmax_with_bias(rng):
    x, b = T.dmatrix("x"), T.dvector("b")
    out = T.nnet.softmax(x + b)
    outs = [out, st.grad((out * T.arange(4)).sum(), [x, b])[1]]
    f, ref = (st.function([x, b], outs, mode=m) for m in (FAST_RUN, NO_REWRITES))
    assert nb.SoftmaxWithBias in op_types(f) and nb.Softmax not in op_types(f)
    assert_same(f, ref, [rng.normal(size=(3, 4)), rng.normal(size=4)])


def test_bias_that_broadcasts_x_is_not_folded(rng):
    x, b = T.TensorType("float64", shape=(None, 1))("x"), T.dvector("b")
    out = T.nnet.softmax(x + b)
    f, ref = (st.function([x, b], [out], mode=m) for m in (FAST_RUN, NO_REWRITES))
    assert nb.SoftmaxWithBias not in op_types(f)
    assert_same(f, ref, [rng.normal(size=(3, 1)), rng.normal(size=4)])


# ---------------------------------------------------------------- the README classifier

def test_readme_classifier_uses_the_fused_op_and_trains(rng):
    centers = rng.normal(scale=4, size=(3, 5))
    labels = rng.integers(0, 3, 90)
    data = centers[labels] + rng.normal(size=(90, 5))
    x, y = T.dmatrix("x"), T.lvector("y")
    w = st.shared(np.zeros((5, 3)), name="w")
    p = T.nnet.softmax(T.dot(x, w))
    cost = -T.mean(T.log(p)[T.arange(y.shape[0]), y])
    train = st.function([x, y], cost, updates=[(w, w - 0.5 * st.grad(cost, w))], mode=FAST_RUN)
    ops = op_types(train)
    assert nb.CrossentropySoftmaxArgmax1HotWithBias in ops and nb.CrossentropySoftmax1HotWithBiasDx in ops
    assert not any(o in ops for o in UNSTABLE)
    losses = [float(train(data, labels)) for _ in range(30)]
    assert losses[0] == pytest.approx(np.log(3))
    assert losses[-1] < 0.2 * losses[0]
    predict = st.function([x], T.argmax(p, axis=1), mode=FAST_RUN)
    assert np.mean(predict(data) == labels) > 0.9
    # a huge learning rate drives the logits far out; the loss and weights stay finite
    w.set_value(1e4 * rng.normal(size=(5, 3)))
    assert np.isfinite(train(data, labels)) and np.all(np.isfinite(w.get_value()))


@pytest.mark.parametrize("mode", [FAST_RUN, FAST_COMPILE], ids=["fast_run", "fast_compile"])
def test_entropy_of_softmax_stays_finite(mode, rng):
    x = T.dmatrix("x")
    p = T.nnet.softmax(x)
    entropy = T.sum(T.nnet.categorical_crossentropy(p, p))  # -sum(p * log p): t is the softmax itself
    outs = [entropy, st.grad(entropy, x)]
    f, ref = (st.function([x], outs, mode=m) for m in (mode, NO_REWRITES))
    assert nb.CrossentropySoftmaxDense in op_types(f) and not divides_by_softmax(f)
    # without canonicalize, only the softmax-grad rewrite removes the 1 / softmax (split off a sum)
    assert divides_by_softmax(st.function([x], outs, mode=FAST_COMPILE.excluding("local_softmax_grad_of_log")))
    assert_same(f, ref, [rng.normal(size=(3, 4))])
    h, g = f(1e4 * rng.normal(size=(3, 4)))
    assert np.isfinite(h) and np.all(np.isfinite(g))


def test_scalar_numerator_over_softmax_keeps_its_shape(rng):
    x = T.dmatrix("x")
    cost = T.sum(T.log(T.nnet.softmax(x))) * 2  # d/dsm = 2 / sm, a broadcast numerator
    f, ref = (st.function([x], [st.grad(cost, x)], mode=m) for m in (FAST_RUN, NO_REWRITES))
    assert nb.SoftmaxGrad not in op_types(f)
    assert_same(f, ref, [rng.normal(size=(3, 4))])
