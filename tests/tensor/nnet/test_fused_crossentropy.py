"""The fused softmax ops: SoftmaxWithBias, the softmax cross-entropies and their gradient ops.

Each is compared with a NumPy reference (float32/float64, non-contiguous inputs), its gradient is
checked by finite differences and its infer_shape against the real shapes; bad inputs raise errors
naming the op and the argument.
"""

import numpy as np
import pytest

import symtensor as st
import symtensor.tensor as T
from symtensor.tensor.nnet import basic as nb
from helpers import FLOAT_DTYPES, check_infer_shape, check_numpy, noncontiguous, rand


def np_softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def np_logsoftmax(z):
    s = z - z.max(axis=-1, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=-1, keepdims=True))


def np_pick(a, y):
    return np.take_along_axis(a, y[..., None].astype("int64"), axis=-1)[..., 0]


def np_onehot(y, k):
    return np.eye(k)[y]


def _ref_1hot(x, b, y):
    z = x.astype("float64") + b
    return -np_pick(np_logsoftmax(z), y), np_softmax(z), z.argmax(-1)


def _ref_dx(dy, sm, y):
    return (sm - np_onehot(y, sm.shape[-1])) * np.broadcast_to(dy, sm.shape[:-1])[..., None]


def _ref_dense(x, t):
    return -(t * np_logsoftmax(x.astype("float64"))).sum(-1), np_softmax(x.astype("float64"))


def _ref_dense_dx(dy, sm, t):
    return (sm * t.sum(-1, keepdims=True) - t) * dy[..., None]


def _labels(rng, rows, k):
    return rng.integers(0, k, size=rows).astype("int32")


# ---------------------------------------------------------------- values against NumPy

@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("contiguous", [True, False])
def test_softmax_with_bias_matches_numpy(rng, dtype, contiguous):
    x, b = T.matrix("x", dtype=dtype), T.vector("b", dtype=dtype)
    xv, bv = rand(rng, (4, 5), dtype), rand(rng, (5,), dtype)
    if not contiguous:
        xv, bv = noncontiguous(xv), noncontiguous(bv)
    out = nb.softmax_with_bias(x, b)
    assert isinstance(out.owner.op, nb.SoftmaxWithBias) and out.dtype == dtype
    check_numpy([x, b], out, lambda a, c: np_softmax(a.astype("float64") + c), [xv, bv])


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("contiguous", [True, False])
@pytest.mark.parametrize("bias", ["vector", "scalar"])
def test_crossentropy_softmax_argmax_1hot_with_bias_matches_numpy(rng, dtype, contiguous, bias):
    x, y = T.matrix("x", dtype=dtype), T.ivector("y")
    b = T.vector("b", dtype=dtype) if bias == "vector" else T.scalar("b", dtype=dtype)
    xv, yv = rand(rng, (4, 6), dtype), _labels(rng, 4, 6)
    bv = rand(rng, (6,) if bias == "vector" else (), dtype)
    if not contiguous:
        xv, yv = noncontiguous(xv), noncontiguous(yv)
    outs = nb.crossentropy_softmax_argmax_1hot_with_bias(x, b, y)
    assert [o.dtype for o in outs] == [dtype, dtype, "int64"]
    for k in range(3):
        check_numpy([x, b, y], outs[k], lambda a, c, d, k=k: _ref_1hot(a, c, d)[k], [xv, bv, yv])


def test_crossentropy_on_3d_logits(rng):
    x, y = T.dtensor3("x"), T.imatrix("y")
    xv, yv = rand(rng, (2, 3, 4)), rng.integers(0, 4, (2, 3)).astype("int32")
    nll, sm = nb.crossentropy_softmax_1hot(x, y)
    check_numpy([x, y], nll, lambda a, c: _ref_1hot(a, 0.0, c)[0], [xv, yv])
    check_numpy([x, y], sm, lambda a, c: _ref_1hot(a, 0.0, c)[1], [xv, yv])


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("dy_shape", [(4,), (1,), ()], ids=["per_row", "broadcast_row", "scalar"])
def test_crossentropy_1hot_dx_matches_numpy(rng, dtype, dy_shape):
    dy = T.TensorType(dtype, shape=(None,) * len(dy_shape) if dy_shape != (1,) else (1,))("dy")
    sm, y = T.matrix("sm", dtype=dtype), T.lvector("y")
    dyv, smv, yv = rand(rng, dy_shape, dtype), np_softmax(rand(rng, (4, 5))).astype(dtype), _labels(rng, 4, 5)
    check_numpy([dy, sm, y], nb.crossentropy_softmax_1hot_with_bias_dx(dy, sm, y), _ref_dx,
                [dyv, noncontiguous(smv), yv])


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("target", ["onehot", "soft", "row_broadcast"])
def test_crossentropy_softmax_dense_matches_numpy(rng, dtype, target):
    x = T.matrix("x", dtype=dtype)
    t = T.TensorType(dtype, shape=(1, None) if target == "row_broadcast" else (None, None))("t")
    xv = rand(rng, (4, 5), dtype)
    tv = {"onehot": np_onehot(_labels(rng, 4, 5), 5), "soft": np_softmax(rand(rng, (4, 5))),
          "row_broadcast": np_softmax(rand(rng, (1, 5)))}[target].astype(dtype)
    nll, sm = nb.crossentropy_softmax_dense(x, t)
    check_numpy([x, t], nll, lambda a, c: _ref_dense(a, c)[0], [noncontiguous(xv), tv])
    check_numpy([x, t], sm, lambda a, c: _ref_dense(a, c)[1], [xv, tv])


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_crossentropy_softmax_dense_dx_matches_numpy(rng, dtype):
    dy, sm, t = T.vector("dy", dtype=dtype), T.matrix("sm", dtype=dtype), T.matrix("t", dtype=dtype)
    vals = [rand(rng, (3,), dtype), np_softmax(rand(rng, (3, 4))).astype(dtype),
            np_softmax(rand(rng, (3, 4))).astype(dtype)]
    check_numpy([dy, sm, t], nb.crossentropy_softmax_dense_dx(dy, sm, t), _ref_dense_dx,
                [vals[0], noncontiguous(vals[1]), vals[2]])


def test_dense_zero_target_ignores_infinite_log_probability():
    x, t = T.dmatrix("x"), T.dmatrix("t")
    nll = nb.crossentropy_softmax_dense(x, t)[0]
    out = st.function([x, t], nll)(np.array([[0.0, -np.inf]]), np.array([[1.0, 0.0]]))
    np.testing.assert_allclose(out, [0.0])


# ---------------------------------------------------------------- gradients

def test_softmax_with_bias_grad(rng):
    st.verify_grad(lambda a, c: nb.softmax_with_bias(a, c) * np.arange(1.0, 6.0), [rand(rng, (3, 5)),
                                                                                    rand(rng, (5,))], rng=rng)


@pytest.mark.parametrize("bias_shape", [(5,), ()])
def test_crossentropy_1hot_grads(rng, bias_shape):
    yv = _labels(rng, 3, 5)
    pt = [rand(rng, (3, 5)), rand(rng, bias_shape)]
    st.verify_grad(lambda a, c: nb.crossentropy_softmax_1hot_with_bias(a, c, yv)[0], pt, rng=rng)
    # both outputs used: the softmax output's gradient is added to the nll's
    st.verify_grad(lambda a, c: sum(o.sum() * w for o, w in zip(
        nb.crossentropy_softmax_1hot_with_bias(a, c, yv), (1.0, 3.0))), pt, rng=rng)


def test_crossentropy_1hot_grad_is_the_dx_op():
    x, y = T.dmatrix("x"), T.lvector("y")
    g = st.grad(nb.crossentropy_softmax_1hot(x, y)[0].sum(), x)
    ops = {type(n.op) for n in st.function([x, y], g).maker.fgraph.toposort()}
    assert nb.CrossentropySoftmax1HotWithBiasDx in ops and nb.SoftmaxGrad not in ops


def test_dx_grads(rng):
    yv = _labels(rng, 3, 4)
    st.verify_grad(lambda dy, sm: nb.crossentropy_softmax_1hot_with_bias_dx(dy, sm, yv),
                   [rand(rng, (3,)), np_softmax(rand(rng, (3, 4)))], rng=rng)
    st.verify_grad(nb.crossentropy_softmax_dense_dx,
                   [rand(rng, (3,)), np_softmax(rand(rng, (3, 4))), rand(rng, (3, 4), low=0, high=1)], rng=rng)


def test_dense_grads(rng):
    pt = [rand(rng, (3, 4)), np_softmax(rand(rng, (3, 4)))]
    st.verify_grad(lambda a, c: nb.crossentropy_softmax_dense(a, c)[0], pt, rng=rng)
    st.verify_grad(lambda a, c: sum(o.sum() * w for o, w in zip(nb.crossentropy_softmax_dense(a, c), (1.0, 2.0))),
                   pt, rng=rng)


def test_fused_gradient_is_finite_for_huge_logits(rng):
    x, y = T.dmatrix("x"), T.lvector("y")
    xv, yv = 1e4 * rng.standard_normal((5, 10)), rng.integers(0, 10, 5)
    g = st.function([x, y], st.grad(nb.crossentropy_softmax_1hot(x, y)[0].sum(), x))(xv, yv)
    np.testing.assert_allclose(g, np_softmax(xv) - np_onehot(yv, 10), atol=1e-12)


# ---------------------------------------------------------------- shapes

def test_infer_shapes(rng):
    x, b, y = T.dmatrix("x"), T.dvector("b"), T.lvector("y")
    dy, t = T.dvector("dy"), T.dmatrix("t")
    xv, bv, yv, tv = rand(rng, (3, 4)), rand(rng, (4,)), _labels(rng, 3, 4), rand(rng, (3, 4))
    vals = [xv, bv, yv, rand(rng, (3,)), tv]
    ins = [x, b, y, dy, t]
    check_infer_shape(ins, [nb.softmax_with_bias(x, b)], vals)
    check_infer_shape(ins, list(nb.crossentropy_softmax_argmax_1hot_with_bias(x, b, y)), vals)
    check_infer_shape(ins, [nb.crossentropy_softmax_1hot_with_bias_dx(dy, x, y)], vals)
    check_infer_shape(ins, list(nb.crossentropy_softmax_dense(x, t)), vals)
    check_infer_shape(ins, [nb.crossentropy_softmax_dense_dx(dy, x, t)], vals)


# ---------------------------------------------------------------- errors

@pytest.mark.parametrize("build, exc, match", [
    (lambda: nb.softmax_with_bias(T.dmatrix(), T.dmatrix()), TypeError, "SoftmaxWithBias: b must be a vector"),
    (lambda: nb.softmax_with_bias(T.imatrix(), T.dvector()), TypeError, "x must be a float"),
    (lambda: nb.softmax_with_bias(T.TensorType("float64", shape=(2, 3))(), T.TensorType("float64", shape=(4,))()),
     ValueError, "b has 4 entries but x has 3 classes"),
    (lambda: nb.crossentropy_softmax_1hot(T.dmatrix(), T.dvector()), TypeError, "y_idx must be an integer"),
    (lambda: nb.crossentropy_softmax_1hot(T.dmatrix(), T.lmatrix()), TypeError, "y_idx must have 1 dimensions"),
    (lambda: nb.crossentropy_softmax_1hot_with_bias_dx(T.dmatrix(), T.dmatrix(), T.lvector()), TypeError,
     "dy .* at most 1 dimensions"),
    (lambda: nb.crossentropy_softmax_dense(T.dmatrix(), T.dvector()), TypeError, "t must have x's rank 2"),
    (lambda: nb.crossentropy_softmax_dense_dx(T.dvector(), T.dmatrix(), T.dtensor3()), TypeError,
     "t must have sm's rank"),
])
def test_bad_inputs_raise(build, exc, match):
    with pytest.raises(exc, match=match):
        build()


@pytest.mark.parametrize("values, match", [
    ((np.zeros((2, 3)), np.zeros(3), np.array([0, 3])), "class index 3 out of range"),
    ((np.zeros((2, 3)), np.zeros(3), np.array([0, 1, 2])), r"y_idx of shape \(3,\) must have one entry per row"),
    ((np.zeros((2, 3)), np.zeros(4), np.array([0, 1])), r"b of shape \(4,\) must have one entry per class"),
])
def test_bad_runtime_values_raise(values, match):
    x, b, y = T.dmatrix("x"), T.dvector("b"), T.lvector("y")
    f = st.function([x, b, y], nb.crossentropy_softmax_1hot_with_bias(x, b, y)[0])
    with pytest.raises(ValueError, match=match):
        f(*values)
