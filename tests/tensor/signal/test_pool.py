"""T.signal.pool.pool_2d (Pool and its gradient ops) against an explicit NumPy loop, verify_grad and infer_shape."""

import numpy as np
import pytest

import symtensor as st
import symtensor.tensor as T
from helpers import check_infer_shape
from symtensor.tensor.signal import pool
from symtensor.tensor.signal.pool import (
    AveragePoolGrad, DownsampleFactorMaxGradGrad, MaxPoolGrad, Pool, max_pool_2d_same_size, pool_2d)

MODES = ("max", "sum", "average_inc_pad", "average_exc_pad")


# ---------------------------------------------------------------- loop reference

def ref_starts(length, ws, stride, pad, ignore_border):
    """Window starts along one axis, in padded coordinates.

    ignore_border=True: only windows that fit the padded axis. ignore_border=False: windows step on while the
    previous one has not reached the end and the start still lies on the axis (the last one may be partial).
    """
    padded = length + 2 * pad
    if ignore_border:
        return list(range(0, padded - ws + 1, stride))
    starts = [0]
    while starts[-1] + ws < padded and starts[-1] + stride < padded:
        starts.append(starts[-1] + stride)
    return starts


def ref_pool(x, ws, ignore_border, stride, pad, mode):
    """pool_2d by loops over every output pixel of every leading index (Theano 1.0's definition)."""
    stride = stride or ws
    rows, cols = x.shape[-2:]
    rstarts = ref_starts(rows, ws[0], stride[0], pad[0], ignore_border)
    cstarts = ref_starts(cols, ws[1], stride[1], pad[1], ignore_border)
    padded = np.zeros(x.shape[:-2] + (rows + 2 * pad[0], cols + 2 * pad[1]))
    padded[..., pad[0]:pad[0] + rows, pad[1]:pad[1] + cols] = x
    real = np.zeros(padded.shape[-2:], bool)
    real[pad[0]:pad[0] + rows, pad[1]:pad[1] + cols] = True
    out = np.zeros(x.shape[:-2] + (len(rstarts), len(cstarts)))
    for lead in np.ndindex(*x.shape[:-2]):
        for i, r0 in enumerate(rstarts):
            for j, c0 in enumerate(cstarts):
                r1, c1 = min(r0 + ws[0], padded.shape[-2]), min(c0 + ws[1], padded.shape[-1])
                window = padded[lead][r0:r1, c0:c1]
                inside = real[r0:r1, c0:c1]
                if mode == "max":
                    value = window[inside].max()
                elif mode == "sum":
                    value = window[inside].sum()
                elif mode == "average_inc_pad":
                    value = window.sum() / window.size
                else:
                    value = window[inside].sum() / inside.sum()
                out[lead + (i, j)] = value
    return out


def distinct(rng, shape):
    """Values without ties (so that max pooling is differentiable at them), spaced by at least 0.1."""
    return (rng.permutation(int(np.prod(shape))).reshape(shape) * 0.1 - 1.0).astype("float64")


# (ws, stride, pad, ignore_border): overlapping and gapped windows, partial windows, padding
CASES = [
    ((2, 2), None, (0, 0), True), ((2, 2), None, (0, 0), False),
    ((3, 2), (1, 1), (0, 0), True), ((3, 2), (1, 1), (0, 0), False),
    ((2, 3), (3, 2), (0, 0), True), ((2, 3), (3, 2), (0, 0), False),
    ((3, 3), (2, 2), (1, 1), True), ((3, 2), (2, 1), (2, 1), True), ((4, 4), (1, 3), (0, 0), False),
]


@pytest.mark.parametrize("ws,stride,pad,ignore_border", CASES)
@pytest.mark.parametrize("mode", MODES)
def test_pool_2d_matches_loop_reference(rng, ws, stride, pad, ignore_border, mode):
    x = T.dtensor4("x")
    f = st.function([x], pool_2d(x, ws=ws, ignore_border=ignore_border, stride=stride, pad=pad, mode=mode))
    xv = rng.standard_normal((2, 3, 7, 8))
    want = ref_pool(xv, ws, ignore_border, stride, pad, mode)
    got = f(xv)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_reference_counts_partial_windows_like_theano():
    """The loop reference's window counts agree with Theano's published output-shape formula."""
    for length in range(1, 12):
        for ws in range(1, 5):
            for stride in range(1, 6):
                want = (length - 1) // stride + 1 if stride >= ws else max(0, (length - 1 - ws + stride) // stride) + 1
                assert len(ref_starts(length, ws, stride, 0, False)) == want
                assert Pool.out_shape((length, length), (ws, ws), False, (stride, stride)) == [want, want]


@pytest.mark.parametrize("ndim", [2, 3, 5])
def test_pool_acts_on_the_last_two_axes(rng, ndim):
    x = T.TensorType("float64", (False,) * ndim)("x")
    shape = (2, 3, 1, 5, 6)[-ndim:]
    xv = rng.standard_normal(shape)
    for mode in ("max", "average_exc_pad"):
        got = st.function([x], pool_2d(x, (2, 3), ignore_border=False, mode=mode))(xv)
        np.testing.assert_allclose(got, ref_pool(xv, (2, 3), False, None, (0, 0), mode), atol=1e-12)


def test_dtypes_and_static_shapes(rng):
    xf = T.TensorType("float32", shape=(2, None, 9, 7))("xf")
    out = pool_2d(xf, (2, 3), ignore_border=True, stride=(2, 1))
    assert out.dtype == "float32" and out.type.shape == (2, None, 4, 5)
    assert pool_2d(xf, (2, 3), ignore_border=False).type.shape == (2, None, 5, 3)
    xv = rng.standard_normal((2, 1, 9, 7)).astype("float32")
    got = st.function([xf], out)(xv)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, ref_pool(xv, (2, 3), True, (2, 1), (0, 0), "max"), rtol=1e-6)
    # integer images pool too (max and sum keep their dtype)
    xi = T.imatrix("xi")
    vi = rng.integers(-50, 50, (5, 6)).astype("int32")
    for mode in ("max", "sum"):
        got = st.function([xi], pool_2d(xi, (2, 2), ignore_border=True, mode=mode))(vi)
        assert got.dtype == np.int32
        np.testing.assert_array_equal(got, ref_pool(vi, (2, 2), True, None, (0, 0), mode))


def test_max_pool_keeps_nan_and_infinity():
    x = T.dmatrix("x")
    xv = np.array([[1.0, np.nan, -np.inf, -np.inf], [0.0, 2.0, -np.inf, -np.inf]])
    got = st.function([x], pool_2d(x, (2, 2), ignore_border=True))(xv)
    assert np.isnan(got[0, 0]) and got[0, 1] == -np.inf


# ---------------------------------------------------------------- gradients

GRAD_CASES = [((2, 2), None, (0, 0), True), ((3, 2), (1, 2), (0, 0), False), ((3, 3), (2, 2), (1, 1), True),
              ((2, 3), (3, 1), (0, 0), False), ((3, 2), (2, 1), (2, 1), True)]


@pytest.mark.parametrize("ws,stride,pad,ignore_border", GRAD_CASES)
@pytest.mark.parametrize("mode", MODES)
def test_verify_grad(rng, ws, stride, pad, ignore_border, mode):
    def fn(a):
        return pool_2d(a, ws=ws, ignore_border=ignore_border, stride=stride, pad=pad, mode=mode)
    st.verify_grad(fn, [distinct(rng, (2, 2, 6, 7))], rng=rng)


@pytest.mark.parametrize("mode", MODES)
def test_gradient_matches_the_loop_adjoint(rng, mode):
    """d/dx <g, pool(x)> spreads each window's g over its pixels, read off the reference by linearity."""
    ws, stride, pad = (3, 2), (2, 1), (1, 1)
    xv = distinct(rng, (1, 2, 5, 6))
    out = ref_pool(xv, ws, True, stride, pad, mode)
    gv = rng.standard_normal(out.shape)
    x, g = T.dtensor4("x"), T.dtensor4("g")
    got = st.function([x, g], st.grad((pool_2d(x, ws, True, stride, pad, mode) * g).sum(), x))(xv, gv)
    want = np.zeros_like(xv)
    for idx in np.ndindex(*xv.shape):
        bump = np.zeros_like(xv)
        bump[idx] = 1.0
        if mode == "max":  # the derivative is the indicator of being the window's max
            want[idx] = np.sum(gv * (ref_pool(xv + 1e-3 * bump, ws, True, stride, pad, mode) != out))
        else:  # linear in x: pool(bump) is the column of the Jacobian
            want[idx] = np.sum(gv * ref_pool(bump, ws, True, stride, pad, mode))
    np.testing.assert_allclose(got, want, atol=1e-12)


def test_max_pool_gradient_goes_to_every_tied_maximum():
    x = T.dmatrix("x")
    xv = np.array([[1.0, 3.0, 0.0, 0.0], [3.0, 2.0, 0.0, 0.0]])
    gx = st.function([x], st.grad(pool_2d(x, (2, 2), ignore_border=True).sum(), x))(xv)
    np.testing.assert_array_equal(gx, [[0, 1, 1, 1], [1, 0, 1, 1]])


@pytest.mark.parametrize("mode", MODES)
def test_second_order(rng, mode):
    """The gradient ops are differentiable (max: through DownsampleFactorMaxGradGrad; averages: through Pool)."""
    def fn(a, g):
        return st.grad((pool_2d(a, (2, 3), ignore_border=False, stride=(1, 2), mode=mode) * g).sum(), a)
    xv = distinct(rng, (1, 2, 5, 6))
    gv = rng.standard_normal((1, 2, 4, 3))
    st.verify_grad(fn, [xv, gv], rng=rng)


def test_grad_grad_op_is_the_adjoint_of_max_pool_grad(rng):
    """<ggx, MaxPoolGrad(x, z, gz)> = <DownsampleFactorMaxGradGrad(x, z, ggx), gz>."""
    params = dict(ignore_border=True, ws=(3, 2), stride=(2, 1), pad=(1, 0))
    x, gz, ggx = T.dtensor4("x"), T.dtensor4("gz"), T.dtensor4("ggx")
    z = Pool(**params)(x)
    f = st.function([x, gz, ggx], [MaxPoolGrad(**params)(x, z, gz), DownsampleFactorMaxGradGrad(**params)(x, z, ggx),
                                   z])
    xv = distinct(rng, (2, 1, 6, 5))
    zshape = ref_pool(xv, (3, 2), True, (2, 1), (1, 0), "max").shape
    gzv, ggxv = rng.standard_normal(zshape), rng.standard_normal(xv.shape)
    gx, ggz, zv = f(xv, gzv, ggxv)
    assert ggz.shape == zv.shape == zshape and gx.shape == xv.shape
    np.testing.assert_allclose(np.sum(ggxv * gx), np.sum(ggz * gzv), rtol=1e-12)


@pytest.mark.parametrize("mode", ["max", "average_inc_pad"])
def test_r_op(rng, mode):
    x, ex = T.dtensor4("x"), T.dtensor4("ex")
    out = pool_2d(x, (2, 2), ignore_border=True, stride=(1, 1), mode=mode)
    f = st.function([x, ex], st.gradient.Rop(out, x, ex), on_unused_input="ignore")  # linear modes ignore x
    xv, ev = distinct(rng, (1, 2, 4, 5)), rng.standard_normal((1, 2, 4, 5))
    eps = 1e-6
    want = (ref_pool(xv + eps * ev, (2, 2), True, (1, 1), (0, 0), mode)
            - ref_pool(xv - eps * ev, (2, 2), True, (1, 1), (0, 0), mode)) / (2 * eps)
    np.testing.assert_allclose(f(xv, ev), want, atol=1e-6)


# ---------------------------------------------------------------- infer_shape

@pytest.mark.parametrize("ws,stride,pad,ignore_border", CASES[::2] + CASES[1::4])
def test_infer_shape(rng, ws, stride, pad, ignore_border):
    x, gz, ggx = T.dtensor4("x"), T.dtensor4("gz"), T.dtensor4("ggx")
    xv = distinct(rng, (2, 3, 7, 8))
    zshape = ref_pool(xv, ws, ignore_border, stride, pad, "max").shape
    gzv = rng.standard_normal(zshape)
    params = dict(ignore_border=ignore_border, ws=ws, stride=stride, pad=pad)
    z = Pool(**params)(x)
    check_infer_shape([x], [z, Pool(mode="average_exc_pad", **params)(x)], [xv])
    check_infer_shape([x, gz], MaxPoolGrad(**params)(x, z, gz), [xv, gzv])
    check_infer_shape([x, gz], AveragePoolGrad(mode="sum", **params)(x, gz), [xv, gzv])
    check_infer_shape([x, ggx], DownsampleFactorMaxGradGrad(**params)(x, z, ggx), [xv, xv])


# ---------------------------------------------------------------- API and errors

def test_reachable_as_in_theano():
    assert T.signal.pool.pool_2d is pool_2d is pool.pool_2d
    assert T.signal.pool.Pool is Pool


def test_window_given_to_make_node_and_merged_by_props():
    x = T.dtensor4("x")
    a = Pool(ignore_border=True)(x, ws=(2, 2))
    b = pool_2d(x, [2, 2], ignore_border=True, stride=(2, 2))
    assert a.owner.op == b.owner.op and hash(a.owner.op) == hash(b.owner.op)
    assert Pool(ws=(2, 2), ignore_border=True) != Pool(ws=(2, 2), ignore_border=True, mode="sum")
    assert Pool(ws=(2, 2), mode="max_deterministic") == Pool(ws=(2, 2))
    const_ws = pool_2d(x, T.constant(np.array([3, 2])), ignore_border=True)
    assert const_ws.owner.op.ws == (3, 2)


def test_deprecated_names_and_default_border(rng):
    x = T.dmatrix("x")
    xv = rng.standard_normal((5, 5))
    with pytest.warns(DeprecationWarning) as record:
        out = pool_2d(x, ds=(2, 2), st=(1, 1), padding=(1, 1), ignore_border=True)
    assert [str(w.message).split(";")[0] for w in record] == [
        f"pool_2d: the {name} parameter is deprecated" for name in ("ds", "st", "padding")]
    assert out.owner.op.ws == (2, 2) and out.owner.op.stride == (1, 1) and out.owner.op.pad == (1, 1)
    with pytest.warns(UserWarning, match="ignore_border was not given"):
        out = pool_2d(x, (2, 2))
    assert out.owner.op.ignore_border is False
    np.testing.assert_allclose(st.function([x], out)(xv), ref_pool(xv, (2, 2), False, None, (0, 0), "max"))


def test_errors(rng):
    x = T.dtensor4("x")
    with pytest.raises(ValueError, match="you must provide the window size ws"):
        pool_2d(x, ignore_border=True)
    with pytest.raises(ValueError, match="give ws or ds, not both"):
        with pytest.warns(DeprecationWarning):
            pool_2d(x, (2, 2), ds=(2, 2), ignore_border=True)
    with pytest.raises(NotImplementedError, match="2 or more dimensions"):
        pool_2d(T.dvector("v"), (2, 2), ignore_border=True)
    with pytest.raises(ValueError, match="mode must be one of"):
        pool_2d(x, (2, 2), ignore_border=True, mode="median")
    with pytest.raises(NotImplementedError, match="padding works only with ignore_border=True"):
        pool_2d(x, (2, 2), ignore_border=False, pad=(1, 1))
    with pytest.raises(NotImplementedError, match=r"padding \(2, 0\) must be smaller than the window \(2, 2\)"):
        pool_2d(x, (2, 2), ignore_border=True, pad=(2, 0))
    with pytest.raises(ValueError, match="ws entries must be >= 1"):
        pool_2d(x, (0, 2), ignore_border=True)
    with pytest.raises(ValueError, match="stride must be a pair of ints"):
        pool_2d(x, (2, 2), ignore_border=True, stride=(1, 1, 1))
    with pytest.raises(TypeError, match="ws must be known when the graph is built"):
        pool_2d(x, T.lvector("ws"), ignore_border=True)
    with pytest.raises(NotImplementedError, match="only 2-d pooling"):
        Pool(ws=(2, 2), ndim=3)
    with pytest.raises(TypeError, match="the window size ws is missing"):
        Pool()(x)
    with pytest.raises(ValueError, match="MaxPoolGrad: mode must be 'max'"):
        MaxPoolGrad(ws=(2, 2), mode="sum")
    with pytest.raises(TypeError, match="MaxPoolGrad: x, maxout and gz must have the same rank"):
        MaxPoolGrad(ws=(2, 2))(x, T.dmatrix(), x)
    # run-time shape checks of the gradient ops
    gz = T.dtensor4("gz")
    f = st.function([x, gz], AveragePoolGrad(ws=(2, 2), ignore_border=True)(x, gz))
    with pytest.raises(ValueError, match=r"AveragePoolGrad: gz has shape \(1, 1, 3, 3\), but pooling x of shape "
                                         r"\(1, 1, 4, 4\) gives \(1, 1, 2, 2\)"):
        f(np.zeros((1, 1, 4, 4)), np.zeros((1, 1, 3, 3)))


def test_out_shape_and_empty_images():
    assert Pool.out_shape((3, 4, 7, 8), (2, 3), ignore_border=True, stride=(2, 2), pad=(1, 1)) == [3, 4, 4, 4]
    assert Pool.out_shape((5, 5), (3, 3), ignore_border=True) == [1, 1]
    x = T.dtensor4("x")
    f = st.function([x], pool_2d(x, (3, 3), ignore_border=True))
    assert f(np.zeros((2, 1, 2, 5))).shape == (2, 1, 0, 1)  # no window fits: an empty result
    assert f(np.zeros((0, 1, 6, 6))).shape == (0, 1, 2, 2)
    g = st.function([x], pool_2d(x, (3, 3), ignore_border=False, stride=(1, 1)))
    assert g(np.zeros((1, 1, 1, 4))).shape == (1, 1, 1, 2)  # a partial window is kept
    with pytest.raises(ValueError, match="pooling windows of an empty image"):
        g(np.zeros((1, 1, 0, 4)))


def test_max_pool_2d_same_size(rng):
    x = T.dtensor4("x")
    xv = distinct(rng, (1, 2, 4, 6))
    got = st.function([x], max_pool_2d_same_size(x, (2, 3)))(xv)
    pooled = ref_pool(xv, (2, 3), True, None, (0, 0), "max")
    want = np.where(xv == np.repeat(np.repeat(pooled, 2, axis=-2), 3, axis=-1), xv, 0)
    np.testing.assert_array_equal(got, want)
    assert np.count_nonzero(got) == pooled.size
