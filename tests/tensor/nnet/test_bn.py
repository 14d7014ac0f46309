"""T.nnet.bn: batch_normalization, batch_normalization_train and batch_normalization_test against NumPy formulas
(Theano 1.0's documented definitions), verify_grad and argument checks."""

import numpy as np
import pytest

import symtensor as st
import symtensor.tensor as T
from symtensor.tensor.nnet import bn


def tensor(ndim, dtype="float64", name=None):
    return T.TensorType(dtype, (False,) * ndim)(name)


def np_axes(axes, ndim):
    if axes == "per-activation":
        return (0,)
    if axes == "spatial":
        return (0,) + tuple(range(2, ndim))
    return tuple(axes)


def param_shape(shape, axes, keep_rank):
    """The shape of gamma, beta and the statistics: 1 on the normalized axes, or those axes left out."""
    if keep_rank:
        return tuple(1 if d in axes else n for d, n in enumerate(shape))
    return tuple(n for d, n in enumerate(shape) if d not in axes)


def expand(p, shape, axes):
    """A parameter given without the normalized axes, reshaped to broadcast against the input."""
    return p.reshape(param_shape(shape, axes, True))


# ---------------------------------------------------------------- batch_normalization

@pytest.mark.parametrize("mode", ["low_mem", "high_mem"])
def test_batch_normalization_elementwise_formula(rng, mode):
    x, g, b, m, s = tensor(2, name="x"), tensor(1, name="g"), tensor(1, name="b"), tensor(1, name="m"), \
        tensor(1, name="s")
    f = st.function([x, g, b, m, s], T.nnet.bn.batch_normalization(x, g, b, m, s, mode=mode))
    xv = rng.standard_normal((5, 4))
    gv, bv, mv = rng.standard_normal(4), rng.standard_normal(4), rng.standard_normal(4)
    sv = rng.uniform(0.5, 2.0, 4)
    np.testing.assert_allclose(f(xv, gv, bv, mv, sv), (xv - mv) * gv / sv + bv, rtol=1e-12)


def test_batch_normalization_broadcasts_any_pattern(rng):
    """Parameters broadcast like any elementwise operands (here: per channel of a 4-d input, float32)."""
    x = tensor(4, "float32", "x")
    p = [T.TensorType("float32", shape=(1, None, 1, 1))(n) for n in "gbms"]
    out = T.nnet.bn.batch_normalization(x, *p)
    assert out.dtype == "float32"
    xv = rng.standard_normal((2, 3, 4, 5)).astype("float32")
    gv, bv, mv = (rng.standard_normal((1, 3, 1, 1)).astype("float32") for _ in range(3))
    sv = rng.uniform(0.5, 2.0, (1, 3, 1, 1)).astype("float32")
    got = st.function([x] + p, out)(xv, gv, bv, mv, sv)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, (xv - mv) * gv / sv + bv, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("mode", ["low_mem", "high_mem"])
def test_batch_normalization_verify_grad(rng, mode):
    pt = [rng.standard_normal((4, 3)), rng.standard_normal(3), rng.standard_normal(3), rng.standard_normal(3),
          rng.uniform(0.5, 2.0, 3)]
    st.verify_grad(lambda *a: T.nnet.bn.batch_normalization(*a, mode=mode), pt, rng=rng)


def test_batch_normalization_mode_is_checked():
    x = tensor(2)
    with pytest.raises(ValueError, match='mode must be either "low_mem" or "high_mem"'):
        T.nnet.bn.batch_normalization(x, 1.0, 0.0, 0.0, 1.0, mode="fast")


# ---------------------------------------------------------------- batch_normalization_train

def np_train(x, gamma, beta, axes, eps, factor=None, rmean=None, rvar=None):
    """Theano 1.0's documented batch_normalization_train, with every parameter of the input's rank."""
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    invstd = 1.0 / np.sqrt(var + eps)
    out = (x - mean) * gamma * invstd + beta
    if rmean is None:
        return out, mean, invstd
    m = np.prod([x.shape[a] for a in axes])
    return (out, mean, invstd, rmean * (1 - factor) + mean * factor,
            rvar * (1 - factor) + (m / (m - 1)) * var * factor)


TRAIN_CASES = [  # (input shape, axes)
    ((6, 4), "per-activation"), ((5, 3, 2, 4), "per-activation"), ((5, 3, 2, 4), "spatial"),
    ((4, 3, 5), "spatial"), ((4, 3, 5), (0, 2)), ((3, 4, 2, 5), (1, 3)), ((4, 6), (0, 1)), ((3, 5, 2), [2, 0]),
]


@pytest.mark.parametrize("shape,axes", TRAIN_CASES)
@pytest.mark.parametrize("keep_rank", [True, False])
def test_train_matches_numpy(rng, shape, axes, keep_rank):
    ax = tuple(sorted(np_axes(axes, len(shape))))
    pshape = param_shape(shape, ax, keep_rank)
    x = tensor(len(shape), name="x")
    g, b = tensor(len(pshape), name="g"), tensor(len(pshape), name="b")
    out, mean, invstd = T.nnet.bn.batch_normalization_train(x, g, b, axes=axes, epsilon=1e-3)
    assert mean.ndim == invstd.ndim == len(pshape)
    xv = rng.standard_normal(shape) * 3 + 1
    gv, bv = rng.standard_normal(pshape), rng.standard_normal(pshape)
    got = st.function([x, g, b], [out, mean, invstd])(xv, gv, bv)
    want = np_train(xv, expand(gv, shape, ax), expand(bv, shape, ax), ax, 1e-3)
    assert got[1].shape == got[2].shape == pshape
    np.testing.assert_allclose(got[0], want[0], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(got[1], want[1].reshape(pshape), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(got[2], want[2].reshape(pshape), rtol=1e-10)
    # normalized over the axes: mean beta, spread |gamma| (up to epsilon)
    z = (got[0] - expand(bv, shape, ax)) / expand(gv, shape, ax)
    np.testing.assert_allclose(z.mean(axis=ax), 0, atol=1e-10)
    np.testing.assert_allclose(z.var(axis=ax), 1, rtol=1e-2)


@pytest.mark.parametrize("shape,axes", [((6, 4), "per-activation"), ((5, 3, 2, 4), "spatial"), ((4, 3, 5), (0, 2))])
@pytest.mark.parametrize("keep_rank", [True, False])
def test_train_running_averages(rng, shape, axes, keep_rank):
    ax = tuple(sorted(np_axes(axes, len(shape))))
    pshape = param_shape(shape, ax, keep_rank)
    x = tensor(len(shape), name="x")
    g, b, rm, rv = (tensor(len(pshape), name=n) for n in ("g", "b", "rm", "rv"))
    outs = T.nnet.bn.batch_normalization_train(x, g, b, axes=axes, epsilon=1e-4, running_average_factor=0.3,
                                                running_mean=rm, running_var=rv)
    assert len(outs) == 5
    xv = rng.standard_normal(shape) * 2 - 1
    gv, bv, rmv = rng.standard_normal(pshape), rng.standard_normal(pshape), rng.standard_normal(pshape)
    rvv = rng.uniform(0.5, 2, pshape)
    got = st.function([x, g, b, rm, rv], list(outs))(xv, gv, bv, rmv, rvv)
    want = np_train(xv, expand(gv, shape, ax), expand(bv, shape, ax), ax, 1e-4, 0.3, expand(rmv, shape, ax),
                    expand(rvv, shape, ax))
    for k, (a, w) in enumerate(zip(got, want)):
        np.testing.assert_allclose(a, w.reshape(a.shape), rtol=1e-10, atol=1e-12, err_msg=f"output {k}")
    assert got[3].shape == got[4].shape == pshape
    # the running variance uses the unbiased batch variance
    m = np.prod([shape[a] for a in ax])
    np.testing.assert_allclose((got[4] - 0.7 * rvv) / 0.3, (xv.var(axis=ax) * m / (m - 1)).reshape(pshape),
                               rtol=1e-10)


def test_train_as_a_training_step_with_shared_running_statistics(rng):
    """The documented use: running averages as shared variables updated by the function."""
    x = tensor(4, "float32", "x")
    gamma = st.shared(np.ones((1, 3, 1, 1), "float32"), broadcastable=(True, False, True, True))
    beta = st.shared(np.zeros((1, 3, 1, 1), "float32"), broadcastable=(True, False, True, True))
    rmean = st.shared(np.zeros((1, 3, 1, 1), "float32"), broadcastable=(True, False, True, True))
    rvar = st.shared(np.ones((1, 3, 1, 1), "float32"), broadcastable=(True, False, True, True))
    out, _, _, new_mean, new_var = T.nnet.bn.batch_normalization_train(
        x, gamma, beta, "spatial", running_mean=rmean, running_var=rvar)
    assert out.dtype == new_mean.dtype == new_var.dtype == "float32"
    f = st.function([x], out, updates=[(rmean, new_mean), (rvar, new_var)])
    xv = (rng.standard_normal((8, 3, 4, 4)) * 2 + 5).astype("float32")
    for _ in range(3):
        f(xv)
    n = 8 * 16
    want_mean = (1 - 0.9 ** 3) * xv.mean(axis=(0, 2, 3))
    want_var = 0.9 ** 3 + (1 - 0.9 ** 3) * xv.astype("float64").var(axis=(0, 2, 3)) * n / (n - 1)
    np.testing.assert_allclose(rmean.get_value().ravel(), want_mean, rtol=1e-5)
    np.testing.assert_allclose(rvar.get_value().ravel(), want_var, rtol=1e-4)


@pytest.mark.parametrize("axes,keep_rank", [("per-activation", False), ("spatial", True), ((0, 2), False)])
def test_train_verify_grad(rng, axes, keep_rank):
    shape = (4, 2, 3)
    ax = tuple(sorted(np_axes(axes, 3)))
    pshape = param_shape(shape, ax, keep_rank)
    pt = [rng.standard_normal(shape), rng.standard_normal(pshape), rng.standard_normal(pshape)]

    def out(x, g, b):
        return T.nnet.bn.batch_normalization_train(x, g, b, axes=axes)[0]

    def stats(x, g, b):  # mean and invstd depend on x only; weight them so that both are checked
        _, mean, invstd = T.nnet.bn.batch_normalization_train(x, g, b, axes=axes)
        return mean * 2.0 + invstd + 0 * (g + b)

    st.verify_grad(out, pt, rng=rng)
    st.verify_grad(stats, pt, rng=rng)


def test_train_dtype_and_epsilon(rng):
    x = tensor(2, "float32", "x")
    g, b = tensor(1, "float32", "g"), tensor(1, "float32", "b")
    outs = T.nnet.bn.batch_normalization_train(x, g, b, epsilon=1e-5)
    assert all(o.dtype == "float32" for o in outs)
    xv = np.zeros((4, 3), "float32")  # zero variance: epsilon keeps invstd finite
    got = st.function([x, g, b], list(outs))(xv, np.ones(3, "float32"), np.full(3, 2, "float32"))
    np.testing.assert_allclose(got[2], 1 / np.sqrt(1e-5), rtol=1e-5)
    np.testing.assert_array_equal(got[0], 2)


# ---------------------------------------------------------------- batch_normalization_test

@pytest.mark.parametrize("shape,axes", [((6, 4), "per-activation"), ((5, 3, 2, 4), "spatial"), ((4, 3, 5), (0, 2)),
                                        ((3, 4, 2, 5), (1, 3))])
@pytest.mark.parametrize("keep_rank", [True, False])
def test_test_mode_matches_numpy(rng, shape, axes, keep_rank):
    ax = tuple(sorted(np_axes(axes, len(shape))))
    pshape = param_shape(shape, ax, keep_rank)
    x = tensor(len(shape), name="x")
    p = [tensor(len(pshape), name=n) for n in ("g", "b", "m", "v")]
    f = st.function([x] + p, T.nnet.bn.batch_normalization_test(x, *p, axes=axes, epsilon=2e-3))
    xv = rng.standard_normal(shape)
    gv, bv, mv = (rng.standard_normal(pshape) for _ in range(3))
    vv = rng.uniform(0.1, 3, pshape)
    want = (xv - expand(mv, shape, ax)) * expand(gv, shape, ax) / np.sqrt(expand(vv, shape, ax) + 2e-3) \
        + expand(bv, shape, ax)
    np.testing.assert_allclose(f(xv, gv, bv, mv, vv), want, rtol=1e-12, atol=1e-12)


def test_test_mode_verify_grad(rng):
    pt = [rng.standard_normal((3, 2, 4)), rng.standard_normal(2), rng.standard_normal(2), rng.standard_normal(2),
          rng.uniform(0.5, 2, 2)]
    st.verify_grad(lambda *a: T.nnet.bn.batch_normalization_test(*a, axes="spatial"), pt, rng=rng)


def test_train_then_test_agree_on_the_batch_statistics(rng):
    """batch_normalization_test with the batch's own mean and biased variance equals the training output."""
    x = tensor(4, name="x")
    g, b = tensor(1, name="g"), tensor(1, name="b")
    out, mean, invstd = T.nnet.bn.batch_normalization_train(x, g, b, "spatial", epsilon=1e-3)
    var = 1.0 / invstd ** 2 - 1e-3
    test_out = T.nnet.bn.batch_normalization_test(x, g, b, mean, var, "spatial", epsilon=1e-3)
    xv = rng.standard_normal((3, 2, 4, 4))
    a, c = st.function([x, g, b], [out, test_out])(xv, rng.standard_normal(2), rng.standard_normal(2))
    np.testing.assert_allclose(a, c, rtol=1e-9, atol=1e-10)


# ---------------------------------------------------------------- API and errors

def test_reachable_as_in_theano():
    assert T.nnet.bn.batch_normalization is bn.batch_normalization
    assert T.nnet.batch_normalization is bn.batch_normalization
    assert T.nnet.bn.batch_normalization_train is T.nnet.batch_normalization_train
    assert T.nnet.bn.batch_normalization_test is T.nnet.batch_normalization_test


def test_errors():
    x = tensor(4, name="x")
    g1 = tensor(1)
    train, test = T.nnet.bn.batch_normalization_train, T.nnet.bn.batch_normalization_test
    with pytest.raises(ValueError, match="axes must be 'per-activation', 'spatial' or a tuple of ints"):
        train(x, g1, g1, axes="channel")
    with pytest.raises(ValueError, match=r"axes must be distinct and in \[0, 4\)"):
        train(x, g1, g1, axes=(0, 4))
    with pytest.raises(ValueError, match="axes must be distinct"):
        train(x, g1, g1, axes=(1, 1))
    with pytest.raises(ValueError, match="at least one normalization axis"):
        train(x, g1, g1, axes=())
    with pytest.raises(ValueError, match="axes must be ints"):
        test(x, g1, g1, g1, g1, axes=(0, 1.5))
    with pytest.raises(ValueError, match="epsilon must be at least 1e-5"):
        train(x, tensor(3), tensor(3), epsilon=1e-6)
    with pytest.raises(ValueError, match="epsilon must be at least 1e-5"):
        test(x, tensor(3), tensor(3), tensor(3), tensor(3), epsilon=0)
    with pytest.raises(ValueError, match="running_mean and running_var must either both be given or both be None"):
        train(x, tensor(3), tensor(3), running_mean=tensor(3))
    with pytest.raises(ValueError, match=r"gamma must have 4 dimensions \(length 1 on the axes \(0,\)\) or 3"):
        train(x, tensor(2), tensor(3))
    with pytest.raises(ValueError, match="all parameters must have the same number of dimensions"):
        train(x, tensor(3), tensor(4))
