"""T.nnet: softmax family, activations and cross-entropies against NumPy references."""

import math

import numpy as np
import pytest

import symtensor as st
import symtensor.tensor as T
from symtensor.tensor.nnet import basic as nb
from helpers import FLOAT_DTYPES, check_infer_shape, check_numpy, noncontiguous, rand


# ---------------------------------------------------------------- NumPy references

def np_softmax(x):
    z = x.astype("float64") - x.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def np_logsoftmax(x):
    z = x.astype("float64") - x.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def np_sigmoid(x):
    return 1 / (1 + np.exp(-x.astype("float64")))


def np_ultra_fast(x):
    def one(v):
        a = abs(v) / 2
        if a < 1.7:
            z = 1.5 * a / (1 + a)
        elif a < 3:
            z = 0.935409070603099 + 0.0458812946797165 * (a - 1.7)
        else:
            z = 0.99505475368673
        return 0.5 + (0.5 * z if v >= 0 else -0.5 * z)
    return np.vectorize(one, otypes=["float64"])(x)


def np_elu(x, alpha=1.0):
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))


# name -> (symbolic function, NumPy reference, keeps away from these kinks when checking gradients)
UNARY = {
    "softmax": (T.nnet.softmax, np_softmax, ()),
    "logsoftmax": (T.nnet.logsoftmax, np_logsoftmax, ()),
    "softmax_graph": (T.nnet.softmax_graph, np_softmax, ()),
    "sigmoid": (T.nnet.sigmoid, np_sigmoid, ()),
    "softplus": (T.nnet.softplus, lambda x: np.log1p(np.exp(x.astype("float64"))), ()),
    "relu": (T.nnet.relu, lambda x: np.maximum(x, 0), (0.0,)),
    "leaky_relu": (lambda x: T.nnet.relu(x, 0.1), lambda x: np.where(x > 0, x, 0.1 * x), (0.0,)),
    "softsign": (T.nnet.softsign, lambda x: x / (1 + np.abs(x)), ()),
    "elu": (T.nnet.elu, np_elu, (0.0,)),
    "elu_alpha": (lambda x: T.nnet.elu(x, 0.5), lambda x: np_elu(x, 0.5), (0.0,)),
    "selu": (T.nnet.selu, lambda x: nb.SELU_SCALE * np_elu(x, nb.SELU_ALPHA), (0.0,)),
    "hard_sigmoid": (T.nnet.hard_sigmoid, lambda x: np.clip(0.2 * x + 0.5, 0, 1), (-2.5, 2.5)),
    "ultra_fast_sigmoid": (T.nnet.ultra_fast_sigmoid, np_ultra_fast, (-6.0, -3.4, 0.0, 3.4, 6.0)),
}
LAST_AXIS = ("softmax", "logsoftmax", "softmax_graph")


def away_from(values, kinks, gap=0.05):
    for k in kinks:
        close = np.abs(values - k) < gap
        values = np.where(close, k + np.where(values >= k, gap, -gap), values)
    return values


# ---------------------------------------------------------------- values

@pytest.mark.parametrize("name", sorted(UNARY))
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("shape", [(7,), (3, 5), (2, 3, 4)])
def test_unary_values(name, dtype, shape, rng):
    fn, ref, _ = UNARY[name]
    x = T.TensorType(dtype, (False,) * len(shape))("x")
    out = fn(x)
    assert out.dtype == dtype
    value = rand(rng, shape, dtype, -8, 8)
    check_numpy([x], out, ref, [value])
    check_numpy([x], out, ref, [noncontiguous(value)])


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_broadcastable_input(name, rng):
    fn, ref, _ = UNARY[name]
    x = T.TensorType("float64", (True, False))("x")
    check_numpy([x], fn(x), ref, [rand(rng, (1, 4))])


@pytest.mark.parametrize("name", LAST_AXIS)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_softmax_large_values_stay_finite(name, dtype):
    fn, ref, _ = UNARY[name]
    x = T.matrix("x", dtype=dtype)
    value = np.array([[1e4, 0, -1e4], [-1e4, -1e4 + 1, -1e4 + 2], [5e3, 5e3, 5e3]], dtype=dtype)
    got = check_numpy([x], fn(x), ref, [value])
    assert np.all(np.isfinite(got))
    if name == "logsoftmax":
        assert got[0, 2] == pytest.approx(-2e4, rel=1e-6)


def test_softmax_rows_sum_to_one_and_keep_shape(rng):
    x = T.dtensor3("x")
    f = st.function([x], T.nnet.softmax(x))
    got = f(rand(rng, (2, 3, 5), low=-50, high=50))
    assert got.shape == (2, 3, 5)
    np.testing.assert_allclose(got.sum(axis=-1), 1, rtol=1e-12)


def test_softmax_static_shape_and_ops():
    x = T.TensorType("float32", shape=(4, 3))("x")
    sm = T.nnet.softmax(x)
    assert isinstance(sm.owner.op, nb.Softmax) and sm.type.shape == (4, 3) and sm.dtype == "float32"
    assert isinstance(T.nnet.logsoftmax(x).owner.op, nb.LogSoftmax)
    assert T.nnet.log_softmax is T.nnet.logsoftmax
    assert nb.Softmax() == nb.softmax_op and hash(nb.Softmax()) == hash(nb.softmax_op)


def test_int_activations_keep_or_upgrade_dtype(rng):
    i = T.ivector("i")
    assert T.nnet.relu(i).dtype == "int32"
    check_numpy([i], T.nnet.relu(i), lambda v: np.maximum(v, 0), [np.array([-3, 0, 4], dtype="int32")])
    assert T.nnet.elu(i).dtype == "float64"
    assert T.nnet.hard_sigmoid(T.bvector()).dtype == "float32"
    assert T.nnet.relu(T.fvector(), 0.1).dtype == "float32"
    assert T.nnet.softsign(i).dtype == "float64"


def test_leaky_relu_symbolic_alpha(rng):
    x, a = T.dvector("x"), T.dscalar("a")
    value = rand(rng, (6,))
    check_numpy([x, a], T.nnet.relu(x, a), lambda v, al: np.where(v > 0, v, al * v), [value, np.float64(0.3)])


def test_ultra_fast_sigmoid_is_close_to_sigmoid():
    x = T.dvector("x")
    v = np.linspace(-12, 12, 241)
    got = st.function([x], T.nnet.ultra_fast_sigmoid(x))(v)
    assert np.max(np.abs(got - np_sigmoid(v))) < 0.03
    assert np.all(np.diff(got) >= 0)


def test_elu_no_overflow_in_gradient():
    x = T.dvector("x")
    g = st.function([x], st.grad(T.sum(T.nnet.elu(x)), x))(np.array([1000.0, -1000.0, 2.0]))
    np.testing.assert_array_equal(g, [1.0, 0.0, 1.0])


# ---------------------------------------------------------------- gradients

@pytest.mark.parametrize("name", sorted(set(UNARY) - {"ultra_fast_sigmoid"}))
@pytest.mark.parametrize("shape", [(5,), (3, 4)])
def test_unary_verify_grad(name, shape, rng):
    fn, _, kinks = UNARY[name]
    st.verify_grad(fn, [away_from(rand(rng, shape, low=-4, high=4), kinks)], rng=rng)


def test_ultra_fast_sigmoid_grad_is_y_times_one_minus_y(rng):
    # Theano's choice: the sigmoid's derivative at the approximate value, not the approximation's own slope
    x = T.dvector("x")
    y = T.nnet.ultra_fast_sigmoid(x)
    v = rand(rng, (9,), low=-10, high=10)
    yv = np_ultra_fast(v)
    np.testing.assert_allclose(st.function([x], st.grad(T.sum(y), x))(v), yv * (1 - yv), rtol=1e-12)


def test_softmax_grad_op_verify_grad(rng):
    sm = np_softmax(rand(rng, (3, 4)))
    st.verify_grad(nb.softmax_grad, [rand(rng, (3, 4)), sm], rng=rng)


@pytest.mark.parametrize("fn", [T.nnet.softmax, T.nnet.logsoftmax], ids=["softmax", "logsoftmax"])
def test_second_derivative(fn, rng):
    c = rand(rng, (2, 4))

    def grad_of(x):
        return st.grad(T.sum(fn(x) * c), x)

    st.verify_grad(grad_of, [rand(rng, (2, 4))], rng=rng)


@pytest.mark.parametrize("fn, ref", [(T.nnet.softmax, np_softmax), (T.nnet.logsoftmax, np_logsoftmax)],
                         ids=["softmax", "logsoftmax"])
def test_rop_matches_finite_differences(fn, ref, rng):
    x, v = T.dmatrix("x"), T.dmatrix("v")
    xv, vv = rand(rng, (2, 5)), rand(rng, (2, 5))
    got = st.function([x, v], T.Rop(fn(x), x, v))(xv, vv)
    eps = 1e-6
    want = (ref(xv + eps * vv) - ref(xv - eps * vv)) / (2 * eps)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-8)


def test_softmax_grad_of_float32_stays_float32():
    x = T.fmatrix("x")
    g = st.grad(T.sum(T.nnet.softmax(x) ** 2), x)
    assert g.dtype == "float32"


# ---------------------------------------------------------------- cross-entropies

@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_categorical_crossentropy_with_indices(dtype, rng):
    p, y = T.matrix("p", dtype=dtype), T.ivector("y")
    pv = np_softmax(rand(rng, (4, 3))).astype(dtype)
    yv = np.array([0, 2, 1, 2], dtype="int32")
    out = T.nnet.categorical_crossentropy(p, y)
    assert out.dtype == dtype and out.ndim == 1
    check_numpy([p, y], out, lambda a, b: -np.log(a[np.arange(4), b]), [pv, yv])
    check_numpy([p, y], out, lambda a, b: -np.log(a[np.arange(4), b]), [noncontiguous(pv), yv])


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_categorical_crossentropy_with_distributions(dtype, rng):
    p, t = T.matrix("p", dtype=dtype), T.matrix("t", dtype=dtype)
    pv = np_softmax(rand(rng, (4, 3))).astype(dtype)
    tv = np_softmax(rand(rng, (4, 3))).astype(dtype)
    check_numpy([p, t], T.nnet.categorical_crossentropy(p, t), lambda a, b: -(b * np.log(a)).sum(-1), [pv, tv])


def test_categorical_crossentropy_onehot_equals_indices(rng):
    p, y, t = T.dmatrix("p"), T.ivector("y"), T.dmatrix("t")
    pv = np_softmax(rand(rng, (5, 4)))
    yv = rng.integers(0, 4, 5).astype("int32")
    f = st.function([p, y, t], [T.nnet.categorical_crossentropy(p, y), T.nnet.categorical_crossentropy(p, t)])
    a, b = f(pv, yv, np.eye(4)[yv])
    np.testing.assert_allclose(a, b, rtol=1e-12)


def test_categorical_crossentropy_verify_grad(rng):
    yv = np.array([1, 0, 2], dtype="int32")
    pv = rng.uniform(0.1, 1.0, (3, 3))
    st.verify_grad(lambda p: T.nnet.categorical_crossentropy(p, yv), [pv], rng=rng)
    tv = np_softmax(rand(rng, (3, 3)))
    st.verify_grad(lambda p, t: T.nnet.categorical_crossentropy(p, t), [pv, tv], rng=rng)


def test_crossentropy_grad_ignores_zero_probabilities_of_other_classes():
    p, y = T.dmatrix("p"), T.ivector("y")
    g = st.function([p, y], st.grad(T.sum(T.nnet.categorical_crossentropy(p, y)), p))
    got = g(np.array([[0.0, 1.0, 0.0], [0.5, 0.0, 0.5]]), np.array([1, 2], dtype="int32"))
    np.testing.assert_array_equal(got, [[0, -1, 0], [0, 0, -2]])


def test_binary_crossentropy(rng):
    o, t = T.dvector("o"), T.dvector("t")
    ov, tv = rng.uniform(0.05, 0.95, 6), rng.uniform(0, 1, 6)
    check_numpy([o, t], T.nnet.binary_crossentropy(o, t),
                lambda a, b: -(b * np.log(a) + (1 - b) * np.log(1 - a)), [ov, tv])
    st.verify_grad(T.nnet.binary_crossentropy, [ov, tv], rng=rng)
    f32 = T.nnet.binary_crossentropy(T.fvector(), T.fvector())
    assert f32.dtype == "float32"


def test_sigmoid_binary_crossentropy(rng):
    o, t = T.dvector("o"), T.dvector("t")
    ov, tv = rand(rng, (6,), low=-5, high=5), rng.uniform(0, 1, 6)
    ref = lambda a, b: -(b * np.log(np_sigmoid(a)) + (1 - b) * np.log(1 - np_sigmoid(a)))  # noqa: E731
    check_numpy([o, t], T.nnet.sigmoid_binary_crossentropy(o, t), ref, [ov, tv])
    st.verify_grad(T.nnet.sigmoid_binary_crossentropy, [ov, tv], rng=rng)
    # logits far out stay finite, and the gradient at 0 is sigmoid(0) - target
    big = st.function([o, t], T.nnet.sigmoid_binary_crossentropy(o, t))(np.array([800.0, -800.0]),
                                                                         np.array([0.0, 0.0]))
    np.testing.assert_allclose(big, [800.0, 0.0])
    g = st.function([o, t], st.grad(T.sum(T.nnet.sigmoid_binary_crossentropy(o, t)), o))
    np.testing.assert_allclose(g(np.zeros(2), np.array([1.0, 0.0])), [-0.5, 0.5])


def test_crossentropy_softmax_1hot(rng):
    x, y = T.dmatrix("x"), T.ivector("y")
    xv, yv = rand(rng, (4, 3), low=-3, high=3), np.array([2, 0, 1, 1], dtype="int32")
    nll, sm = T.nnet.crossentropy_softmax_1hot(x, y)
    got_nll, got_sm = st.function([x, y], [nll, sm])(xv, yv)
    np.testing.assert_allclose(got_sm, np_softmax(xv), rtol=1e-12)
    np.testing.assert_allclose(got_nll, -np_logsoftmax(xv)[np.arange(4), yv], rtol=1e-12)
    st.verify_grad(lambda a: T.nnet.crossentropy_softmax_1hot(a, yv)[0], [xv], rng=rng)
    huge = st.function([x, y], nll)(np.array([[1e4, 0.0, -1e4]]), np.array([2], dtype="int32"))
    np.testing.assert_allclose(huge, [2e4])


def test_crossentropy_softmax_argmax_1hot_with_bias(rng):
    x, b, y = T.dmatrix("x"), T.dvector("b"), T.ivector("y")
    xv, bv, yv = rand(rng, (3, 4)), rand(rng, (4,)), np.array([3, 0, 1], dtype="int32")
    nll, sm, am = st.function([x, b, y], list(T.nnet.crossentropy_softmax_argmax_1hot_with_bias(x, b, y)))(
        xv, bv, yv)
    z = xv + bv
    np.testing.assert_allclose(nll, -np_logsoftmax(z)[np.arange(3), yv], rtol=1e-12)
    np.testing.assert_allclose(sm, np_softmax(z), rtol=1e-12)
    np.testing.assert_array_equal(am, z.argmax(-1))
    assert len(T.nnet.crossentropy_softmax_1hot_with_bias(x, b, y)) == 2
    np.testing.assert_allclose(st.function([x, b], T.nnet.softmax_with_bias(x, b))(xv, bv), np_softmax(z))


def test_pick_class_ops(rng):
    x, y = T.dtensor3("x"), T.imatrix("y")
    xv, yv = rand(rng, (2, 3, 4)), rng.integers(0, 4, (2, 3)).astype("int32")
    want = np.take_along_axis(xv, yv[..., None], -1)[..., 0]
    check_numpy([x, y], nb.pick_class(x, y), lambda a, b: want, [xv, yv])
    st.verify_grad(lambda a: nb.pick_class(a, yv), [xv], rng=rng)
    st.verify_grad(lambda v: nb.pick_class_grad(v, yv, 4), [rand(rng, (2, 3))], rng=rng)
    scattered = st.function([x, y], nb.pick_class_grad(nb.pick_class(x, y), y, x.shape[-1]))(xv, yv)
    np.testing.assert_array_equal(scattered, np.where(np.arange(4) == yv[..., None], xv, 0))


# ---------------------------------------------------------------- infer_shape

def test_infer_shape(rng):
    x, dy, y, k = T.dmatrix("x"), T.dmatrix("dy"), T.ivector("y"), T.lscalar("k")
    xv, yv = rand(rng, (3, 5)), np.array([4, 0, 2], dtype="int32")
    check_infer_shape([x], [nb.softmax_op(x), nb.logsoftmax_op(x), T.nnet.ultra_fast_sigmoid(x)], [xv])
    check_infer_shape([dy, x], nb.softmax_grad(dy, x), [rand(rng, (3, 5)), xv])
    check_infer_shape([x, y], nb.pick_class(x, y), [xv, yv])
    check_infer_shape([x, y, k], nb.pick_class_grad(x[:, 0], y, k), [xv, yv, np.int64(6)])
    check_infer_shape([x], [nb.softmax_op(x.dimshuffle("x", 0, 1)), nb.logsoftmax_op(x[0])], [xv])
    assert nb.pick_class_grad(T.dvector(), T.ivector(), 6).type.shape == (None, 6)


# ---------------------------------------------------------------- errors

@pytest.mark.parametrize("fn", [T.nnet.softmax, T.nnet.logsoftmax], ids=["softmax", "logsoftmax"])
def test_softmax_bad_inputs(fn):
    with pytest.raises(TypeError, match="at least 1 dimension"):
        fn(T.dscalar("s"))
    with pytest.raises(TypeError, match="must be a float tensor"):
        fn(T.imatrix("i"))


def test_crossentropy_rank_errors():
    with pytest.raises(TypeError, match="rank mismatch"):
        T.nnet.categorical_crossentropy(T.dmatrix(), T.imatrix().dimshuffle("x", 0, 1))
    with pytest.raises(TypeError, match="integer class indices"):
        T.nnet.categorical_crossentropy(T.dmatrix(), T.dvector())
    with pytest.raises(TypeError, match="must have 1 dimensions"):
        nb.pick_class(T.dmatrix(), T.imatrix())
    with pytest.raises(TypeError, match="integer tensor"):
        nb.pick_class(T.dmatrix(), T.dvector())
    with pytest.raises(TypeError, match="coding_dist must be a float tensor"):
        T.nnet.categorical_crossentropy(T.imatrix(), T.ivector())


def test_runtime_errors_name_the_shapes():
    p, y = T.dmatrix("p"), T.ivector("y")
    f = st.function([p, y], T.nnet.categorical_crossentropy(p, y))
    with pytest.raises(ValueError, match=r"class index 3 out of range \[0, 3\)"):
        f(np.full((2, 3), 1 / 3), np.array([0, 3], dtype="int32"))
    with pytest.raises(ValueError, match=r"idx of shape \(3,\) must equal the leading shape \(2,\)"):
        f(np.full((2, 3), 1 / 3), np.array([0, 1, 2], dtype="int32"))
    dy, sm = T.dmatrix("dy"), T.dmatrix("sm")
    g = st.function([dy, sm], nb.softmax_grad(dy, sm))
    with pytest.raises(ValueError, match=r"dy of shape \(2, 3\) and sm of shape \(2, 4\)"):
        g(np.zeros((2, 3)), np.zeros((2, 4)))


# ---------------------------------------------------------------- training end to end

def _blobs(rng, n_per_class=30, n_features=5, n_classes=3):
    centers = rng.normal(scale=4.0, size=(n_classes, n_features))
    data = np.concatenate([c + rng.normal(size=(n_per_class, n_features)) for c in centers])
    labels = np.repeat(np.arange(n_classes), n_per_class).astype("int32")
    return data, labels


def test_logistic_regression_trains(rng):
    data, labels = _blobs(rng)
    x, y = T.dmatrix("x"), T.ivector("y")
    w = st.shared(np.zeros((5, 3)), name="w")
    b = st.shared(np.zeros(3), name="b")
    p = T.nnet.softmax(T.dot(x, w) + b)
    cost = T.nnet.categorical_crossentropy(p, y).mean()
    gw, gb = st.grad(cost, [w, b])
    train = st.function([x, y], cost, updates=[(w, w - 0.1 * gw), (b, b - 0.1 * gb)])
    predict = st.function([x], T.argmax(p, axis=1))
    losses = [float(train(data, labels)) for _ in range(60)]
    assert losses[0] == pytest.approx(math.log(3))
    assert losses[-1] < 0.1 * losses[0]
    assert np.mean(predict(data) == labels) > 0.95


def test_readme_example_runs(rng):
    x = T.dmatrix("x")
    y = T.ivector("y")
    w = st.shared(np.zeros((5, 3)), name="w")
    p = T.nnet.softmax(T.dot(x, w))
    cost = -T.mean(T.log(p)[T.arange(y.shape[0]), y])
    train = st.function([x, y], cost, updates=[(w, w - 0.5 * st.grad(cost, w))])
    data, labels = _blobs(rng)
    losses = [float(train(data, labels)) for _ in range(10)]
    assert losses[0] == pytest.approx(math.log(3))
    assert losses[-1] < 0.3 * losses[0]
