"""C kernels for the nnet ops and Argmax equal the python linker; training steps run entirely in C."""

import numpy as np
import pytest

import symtensor as st
import symtensor.tensor as T
from helpers import assert_same_results, c_op_names, compile_c_and_py
from symtensor.compile.mode import Mode
from symtensor.link.c import compiler
from symtensor.tensor.nnet.basic import pick_class

pytestmark = pytest.mark.skipif(not compiler.compiler_available(), reason="no C compiler on this machine")

C = Mode(linker="c", optimizer="fast_run")
PY = Mode(linker="py", optimizer="fast_run")
NNET = T.nnet


def layouts(rng, shape, dtype, scale=3.0):
    base = (rng.normal(size=shape) * scale).astype(dtype)
    big = np.zeros(tuple(2 * s for s in shape), dtype)
    strided = big[tuple(slice(None, None, 2) for _ in shape)]
    strided[...] = base
    return [base, strided, np.ascontiguousarray(base[::-1])[::-1], np.asfortranarray(base)]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_softmax_family(rng, dtype):
    x = T.matrix("x", dtype=dtype)
    x3 = T.tensor3("x3", dtype=dtype)
    b = T.vector("b", dtype=dtype)
    g = T.matrix("g", dtype=dtype)
    sm = NNET.softmax(x)
    outs = [sm, NNET.logsoftmax(x), NNET.softmax_with_bias(x, b), st.grad((sm * g).sum(), x), NNET.softmax(x3),
            NNET.logsoftmax(x3)]
    fc, fp = compile_c_and_py([x, x3, b, g], outs)
    assert {"Softmax", "LogSoftmax", "SoftmaxWithBias", "SoftmaxGrad"} <= c_op_names(fc)
    for a, a3 in zip(layouts(rng, (4, 5), dtype), layouts(rng, (2, 3, 4), dtype)):
        assert_same_results(fc, fp, a, a3, rng.normal(size=5).astype(dtype), rng.normal(size=(4, 5)).astype(dtype))
    # stability and special rows: huge logits, -inf entries, a row of -inf, a NaN, an empty batch
    special = np.array([[1e4, 0, -1e4, 3, 1e4], [-np.inf, 0, 1, -np.inf, 2], [-np.inf] * 5, [0, np.inf, 1, 2, 3]],
                       dtype)
    assert_same_results(fc, fp, special, a3, np.zeros(5, dtype), np.ones((4, 5), dtype))
    special[3, 1] = np.nan
    assert_same_results(fc, fp, special, a3, np.zeros(5, dtype), np.ones((4, 5), dtype))
    assert_same_results(fc, fp, np.zeros((0, 5), dtype), np.zeros((2, 0, 4), dtype), np.zeros(5, dtype),
                np.zeros((0, 5), dtype))
    with pytest.raises(ValueError, match=r"SoftmaxWithBias: b of shape \(4,\) must have one entry per class of x "
                                         r"\(shape \(4, 5\)\)"):
        fc(a, a3, np.zeros(4, dtype), np.ones((4, 5), dtype))


def test_mixed_dtypes_are_upcast(rng):
    x = T.fmatrix("x")
    b = T.dvector("b")
    y = T.lvector("y")
    g = T.dmatrix("g")
    outs = [NNET.softmax_with_bias(x, b), NNET.softmax_grad(g, NNET.softmax(x)),
            *NNET.crossentropy_softmax_argmax_1hot_with_bias(x, b, y)]
    fc, fp = compile_c_and_py([x, b, y, g], outs)
    assert {"SoftmaxWithBias", "SoftmaxGrad", "CrossentropySoftmaxArgmax1HotWithBias"} <= c_op_names(fc)
    a = rng.normal(size=(3, 4)).astype("float32")
    assert_same_results(fc, fp, a, rng.normal(size=4), np.array([3, 0, 1]), rng.normal(size=(3, 4)), rtol=2e-5)


@pytest.mark.parametrize("dtype,label_dtype", [("float32", "int32"), ("float64", "int64"), ("float64", "uint8")])
def test_fused_crossentropy_and_gradient(rng, dtype, label_dtype):
    x = T.matrix("x", dtype=dtype)
    b = T.vector("b", dtype=dtype)
    y = T.vector("y", dtype=label_dtype)
    w = T.vector("w", dtype=dtype)
    nll, sm, am = NNET.crossentropy_softmax_argmax_1hot_with_bias(x, b, y)
    nll0, _, _ = NNET.crossentropy_softmax_argmax_1hot_with_bias(x, 0.0, y)
    dx = st.grad((nll * w).sum() + nll0.mean(), x)
    fc, fp = compile_c_and_py([x, b, y, w], [nll, sm, am, nll0, dx])
    assert {"CrossentropySoftmaxArgmax1HotWithBias", "CrossentropySoftmax1HotWithBiasDx"} <= c_op_names(fc)
    labels = np.array([4, 0, 2, 4], label_dtype)
    for a in layouts(rng, (4, 5), dtype, scale=30):
        assert_same_results(fc, fp, a, rng.normal(size=5).astype(dtype), labels, rng.normal(size=4).astype(dtype))
    ties = np.array([[1, 3, 3, 0, 3], [-1e4, 1e4, 0, 0, 0], [0, 0, 0, 0, 0], [2, np.nan, 5, np.nan, 1]], dtype)
    assert_same_results(fc, fp, ties, np.zeros(5, dtype), labels, np.ones(4, dtype))
    with pytest.raises(ValueError, match=r"class index 5 out of range \[0, 5\) for 5 classes.*x shape \(4, 5\)"):
        fc(a, np.zeros(5, dtype), np.array([0, 5, 1, 1], label_dtype), np.ones(4, dtype))
    with pytest.raises(ValueError, match=r"y_idx of shape \(3,\) must have one entry per row of x \(shape \(4, 5\)\)"):
        fc(a, np.zeros(5, dtype), np.array([0, 1, 1], label_dtype), np.ones(4, dtype))


def test_crossentropy_of_higher_rank_and_negative_labels(rng):
    x = T.dtensor3("x")
    y = T.lmatrix("y")
    nll, sm, am = NNET.crossentropy_softmax_argmax_1hot_with_bias(x, 0.0, y)
    dy = T.dvector("dy")  # broadcast against the (2, 3) rows
    dx = NNET.crossentropy_softmax_1hot_with_bias_dx(dy, sm, y) if hasattr(
        NNET, "crossentropy_softmax_1hot_with_bias_dx") else st.grad((nll * dy).sum(), x)
    fc, fp = compile_c_and_py([x, y, dy], [nll, sm, am, dx])
    assert {"CrossentropySoftmaxArgmax1HotWithBias", "CrossentropySoftmax1HotWithBiasDx"} <= c_op_names(fc)
    for a in layouts(rng, (2, 3, 4), "float64"):
        assert_same_results(fc, fp, a, np.array([[0, 3, 1], [2, 2, 0]]), rng.normal(size=3))
    with pytest.raises(ValueError, match=r"class index -1 out of range \[0, 4\)"):
        fc(a, np.array([[0, 3, 1], [2, -1, 0]]), np.ones(3))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_dense_crossentropy_and_gradient(rng, dtype):
    """categorical_crossentropy(softmax(x), t) with a target distribution t: the fused dense op and its dx."""
    x = T.matrix("x", dtype=dtype)
    t = T.matrix("t", dtype=dtype)
    t_row = T.row("t_row", dtype=dtype)  # one distribution for every row (broadcast)
    w = T.vector("w", dtype=dtype)
    nll = NNET.categorical_crossentropy(NNET.softmax(x), t)
    nll_row = NNET.categorical_crossentropy(NNET.softmax(x), t_row)
    cost = (nll * w).sum() + nll_row.mean()
    dx, dt = st.grad(cost, [x, t])
    fc, fp = compile_c_and_py([x, t, t_row, w], [nll, nll_row, dx, dt])
    assert {"CrossentropySoftmaxDense", "CrossentropySoftmaxDenseDx"} <= c_op_names(fc)
    targets = rng.dirichlet(np.ones(5), size=4).astype(dtype)
    for a in layouts(rng, (4, 5), dtype, scale=30):
        assert_same_results(fc, fp, a, targets, targets[:1], rng.normal(size=4).astype(dtype), rtol=1e-4)
    one_hot = np.eye(5, dtype=dtype)[[4, 0, 2, 4]]
    assert_same_results(fc, fp, a, one_hot, one_hot[:1], np.ones(4, dtype), rtol=1e-4)
    with pytest.raises(ValueError, match="CrossentropySoftmaxDense"):
        fc(a, targets[:, :3], targets[:1], np.ones(4, dtype))


def test_dense_crossentropy_ignores_zero_targets_at_minus_infinity():
    x, t = T.dmatrix("x"), T.dmatrix("t")
    nll, _ = NNET.crossentropy_softmax_dense(x, t)
    fc, fp = compile_c_and_py([x, t], nll)
    assert "CrossentropySoftmaxDense" in c_op_names(fc)
    xv = np.array([[-np.inf, 0.0, 1.0]])
    tv = np.array([[0.0, 0.5, 0.5]])
    assert np.isfinite(fc(xv, tv)).all()
    assert_same_results(fc, fp, xv, tv)


def test_pick_class_and_its_gradient(rng):
    x = T.dmatrix("x")
    xi = T.imatrix("xi")
    idx = T.ivector("idx")
    picked = pick_class(x, idx)
    outs = [picked, st.grad((picked ** 2).sum(), x), pick_class(xi, idx)]
    fc, fp = compile_c_and_py([x, xi, idx], outs)
    assert {"PickClass", "PickClassGrad"} <= c_op_names(fc)
    for a in layouts(rng, (4, 3), "float64"):
        assert_same_results(fc, fp, a, (a * 10).astype("int32"), np.array([2, 0, 1, 2], "int32"))
    with pytest.raises(ValueError, match=r"PickClass: class index 3 out of range \[0, 3\)"):
        fc(a, a.astype("int32"), np.array([2, 0, 3, 2], "int32"))


@pytest.mark.parametrize("dtype", ["float32", "float64", "bool"])
def test_argmax_argmin(rng, dtype):
    x = T.tensor3("x", dtype=dtype)
    v = T.vector("v", dtype=dtype)
    outs = [T.argmax(x), T.argmax(x, axis=0), T.argmin(x, axis=1), T.argmax(x, axis=-1), T.argmin(x),
            T.argmax(v), T.argmin(v)]
    fc, fp = compile_c_and_py([x, v], outs)
    assert "Argmax" in c_op_names(fc)
    for a in layouts(rng, (3, 4, 5), "float64"):
        a = (a > 0) if dtype == "bool" else (a * 3).astype(dtype)  # ints: ties, first one wins
        assert_same_results(fc, fp, a, a[0, 0])
    if dtype.startswith("float"):
        a = rng.normal(size=(3, 4, 5)).astype(dtype)
        a[1, 2, 3] = a[0, 1, 0] = np.nan
        assert_same_results(fc, fp, a, np.array([1, np.nan, 3, np.nan], dtype))
    with pytest.raises(ValueError, match=r"attempt to take the argmax of an empty array of shape \(0, 4, 5\)"):
        fc(np.zeros((0, 4, 5), dtype), np.zeros(2, dtype))


def _readme_classifier(mode, rng):
    x = T.dmatrix("x")
    y = T.ivector("y")
    w = st.shared(np.zeros((5, 3)), name="w")
    p = NNET.softmax(T.dot(x, w))
    cost = -T.mean(T.log(p)[T.arange(y.shape[0]), y])
    return w, st.function([x, y], cost, updates=[(w, w - 0.5 * st.grad(cost, w))], mode=mode)


def _mlp(mode, rng, variant):
    fx = "float32"
    x = T.matrix("x", dtype=fx)
    y = T.ivector("y")
    params = [st.shared((rng.normal(size=(784, 500)) * 0.01).astype(fx)), st.shared(np.zeros(500, fx)),
              st.shared((rng.normal(size=(500, 10)) * 0.01).astype(fx)), st.shared(np.zeros(10, fx))]
    w1, b1, w2, b2 = params
    if variant == "tanh-softmax":
        h = T.tanh(T.dot(x, w1) + b1)
        p = NNET.softmax(T.dot(h, w2) + b2)
        cost = T.mean(NNET.categorical_crossentropy(p, y))
    else:
        h = NNET.relu(T.dot(x, w1) + b1)
        lp = NNET.logsoftmax(T.dot(h, w2) + b2)
        cost = -T.mean(lp[T.arange(y.shape[0]), y])
        p = lp
    err = T.mean(T.neq(T.argmax(p, axis=1), y))
    lr = np.asarray(0.1, fx)
    grads = st.grad(cost, params)
    step = st.function([x, y], [cost, err], updates=[(q, q - lr * g) for q, g in zip(params, grads)], mode=mode)
    return params, step


def test_readme_classifier_runs_entirely_in_c(rng):
    data, labels = rng.normal(size=(20, 5)), rng.integers(0, 3, 20).astype("int32")
    results = {}
    for name, mode in (("c", Mode(linker="c")), ("py", Mode(linker="py"))):
        w, train = _readme_classifier(mode, rng)
        if name == "c":
            c_op_names(train)
        results[name] = [float(train(data, labels)) for _ in range(4)] + [w.get_value()]
    np.testing.assert_allclose(results["c"][:4], results["py"][:4], rtol=1e-12)
    np.testing.assert_allclose(results["c"][4], results["py"][4], rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("variant", ["tanh-softmax", "relu-logsoftmax"])
def test_mlp_training_step_runs_entirely_in_c(variant):
    data = np.random.default_rng(1).normal(size=(128, 784)).astype("float32")
    labels = np.random.default_rng(2).integers(0, 10, 128).astype("int32")
    results = {}
    for name, mode in (("c", Mode(linker="c")), ("py", Mode(linker="py"))):
        params, step = _mlp(mode, np.random.default_rng(0), variant)
        if name == "c":
            c_op_names(step)
        results[name] = [step(data, labels) for _ in range(2)] + [params[2].get_value()]
    for (cc, ce), (pc, pe) in zip(results["c"][:2], results["py"][:2]):
        np.testing.assert_allclose(cc, pc, rtol=1e-4)
        assert ce == pe
    np.testing.assert_allclose(results["c"][2], results["py"][2], rtol=1e-3, atol=1e-6)
