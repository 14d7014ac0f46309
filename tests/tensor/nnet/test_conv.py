"""T.nnet.conv2d (AbstractConv2d and its gradient ops) against a SciPy reference, verify_grad and infer_shape."""

import numpy as np
import pytest
from scipy.signal import correlate2d

import symtensor as st
import symtensor.tensor as T
from helpers import check_infer_shape
from symtensor.tensor.nnet import abstract_conv
from symtensor.tensor.nnet.abstract_conv import (
    AbstractConv2d, AbstractConv2d_gradInputs, AbstractConv2d_gradWeights, get_conv_output_shape,
    normalize_border_mode)


# ---------------------------------------------------------------- SciPy reference

def ref_pads(border_mode, kshape, dilation):
    spans = [(k - 1) * d + 1 for k, d in zip(kshape, dilation)]
    if border_mode == "valid":
        return [(0, 0), (0, 0)]
    if border_mode == "full":
        return [(s - 1, s - 1) for s in spans]
    if border_mode == "half":
        return [(s // 2, s // 2) for s in spans]
    if isinstance(border_mode, int):
        return [(border_mode, border_mode)] * 2
    return [p if isinstance(p, tuple) else (p, p) for p in border_mode]


def ref_conv2d(img, kern, border_mode="valid", subsample=(1, 1), filter_flip=True, filter_dilation=(1, 1),
               num_groups=1):
    """Direct definition: pad, dilate the (flipped) kernel, correlate each channel pair with SciPy, subsample."""
    batch, channels, _, _ = img.shape
    n_out, per_group, kh, kw = kern.shape
    if filter_flip:
        kern = kern[:, :, ::-1, ::-1]
    dh, dw = filter_dilation
    dilated = np.zeros((n_out, per_group, (kh - 1) * dh + 1, (kw - 1) * dw + 1))
    dilated[:, :, ::dh, ::dw] = kern
    padded = np.pad(img.astype("float64"), [(0, 0), (0, 0)] + ref_pads(border_mode, (kh, kw), filter_dilation))
    out_per_group = n_out // num_groups
    rows = []
    for b in range(batch):
        maps = []
        for o in range(n_out):
            first = (o // out_per_group) * per_group
            acc = sum(correlate2d(padded[b, first + c], dilated[o, c], mode="valid") for c in range(per_group))
            maps.append(acc[::subsample[0], ::subsample[1]])
        rows.append(maps)
    return np.array(rows)


def ftensor4(dtype="float64", name=None):
    return T.TensorType(dtype, (False,) * 4)(name)


CASES = [  # (border_mode, subsample, filter_dilation)
    ("valid", (1, 1), (1, 1)), ("full", (1, 1), (1, 1)), ("half", (1, 1), (1, 1)), (1, (1, 1), (1, 1)),
    ((2, 1), (1, 1), (1, 1)), (((0, 2), (1, 0)), (1, 1), (1, 1)),
    ("valid", (2, 3), (1, 1)), ("full", (2, 2), (1, 1)), ("half", (3, 1), (1, 1)), ((1, 2), (2, 1), (1, 1)),
    ("valid", (1, 1), (2, 1)), ("full", (1, 1), (1, 2)), ("half", (2, 1), (2, 2)), ((2, 0), (1, 2), (2, 1)),
]


@pytest.mark.parametrize("border_mode,subsample,dilation", CASES)
@pytest.mark.parametrize("filter_flip", [True, False])
def test_conv2d_matches_scipy(rng, border_mode, subsample, dilation, filter_flip):
    x, w = ftensor4(name="x"), ftensor4(name="w")
    out = T.nnet.conv2d(x, w, border_mode=border_mode, subsample=subsample, filter_flip=filter_flip,
                        filter_dilation=dilation)
    f = st.function([x, w], out)
    xv, wv = rng.standard_normal((2, 3, 9, 8)), rng.standard_normal((4, 3, 3, 2))
    want = ref_conv2d(xv, wv, border_mode, subsample, filter_flip, dilation)
    got = f(xv, wv)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("num_groups", [2, 3])
def test_grouped_convolution(rng, num_groups):
    x, w = ftensor4(name="x"), ftensor4(name="w")
    out = T.nnet.conv2d(x, w, border_mode="half", num_groups=num_groups, subsample=(2, 1))
    xv = rng.standard_normal((2, 2 * num_groups, 6, 7))
    wv = rng.standard_normal((3 * num_groups, 2, 3, 3))
    got = st.function([x, w], out)(xv, wv)
    np.testing.assert_allclose(got, ref_conv2d(xv, wv, "half", (2, 1), True, (1, 1), num_groups), atol=1e-10)
    # a group only sees its own channels: zeroing group 0's input leaves the other groups' outputs unchanged
    xz = xv.copy()
    xz[:, :2] = 0
    got_z = st.function([x, w], out)(xz, wv)
    np.testing.assert_allclose(got_z[:, 3:], got[:, 3:], atol=1e-12)
    assert not np.allclose(got_z[:, :3], got[:, :3])


def test_float32_stays_float32_and_mixed_upcasts(rng):
    x, w = T.ftensor4("x"), T.ftensor4("w")
    out = T.nnet.conv2d(x, w)
    assert out.dtype == "float32"
    xv = rng.standard_normal((1, 2, 5, 5)).astype("float32")
    wv = rng.standard_normal((3, 2, 2, 2)).astype("float32")
    got = st.function([x, w], out)(xv, wv)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, ref_conv2d(xv, wv), rtol=1e-5, atol=1e-5)
    assert T.nnet.conv2d(x, T.dtensor4("w64")).dtype == "float64"


def test_static_shapes_and_hints():
    x = T.TensorType("float64", shape=(4, 3, 10, 9))("x")
    w = T.TensorType("float64", shape=(5, 3, 3, 2))("w")
    assert T.nnet.conv2d(x, w).type.shape == (4, 5, 8, 8)
    assert T.nnet.conv2d(x, w, border_mode="full", subsample=(2, 2)).type.shape == (4, 5, 6, 5)
    hinted = T.nnet.conv2d(ftensor4(), ftensor4(), input_shape=(None, 3, 10, 9), filter_shape=(5, 3, 3, 2))
    assert hinted.type.shape == (None, 5, 8, 8)
    assert get_conv_output_shape((2, 3, 10, None), (5, 3, 3, 3), "half", (2, 2)) == (2, 5, 5, None)
    assert get_conv_output_shape((1, 1, 7, 7), (1, 1, 3, 3), "valid", (1, 1), (3, 3)) == (1, 1, 1, 1)


def test_shape_hints_are_checked_at_run_time(rng):
    x, w = ftensor4(name="x"), ftensor4(name="w")
    f = st.function([x, w], T.nnet.conv2d(x, w, input_shape=(2, 3, 6, 6), filter_shape=(4, 3, 3, 3)))
    assert f(rng.standard_normal((2, 3, 6, 6)), rng.standard_normal((4, 3, 3, 3))).shape == (2, 4, 4, 4)
    with pytest.raises(ValueError, match="AbstractConv2d: the input has shape"):
        f(rng.standard_normal((2, 3, 7, 6)), rng.standard_normal((4, 3, 3, 3)))


def test_errors(rng):
    x, w = ftensor4(name="x"), ftensor4(name="w")
    with pytest.raises(TypeError, match="AbstractConv2d: img must be a 4-d tensor"):
        T.nnet.conv2d(T.dmatrix(), w)
    with pytest.raises(TypeError, match="AbstractConv2d: kern must be a float tensor"):
        T.nnet.conv2d(x, T.TensorType("int32", (False,) * 4)())
    with pytest.raises(ValueError, match="border_mode"):
        T.nnet.conv2d(x, w, border_mode="same")
    with pytest.raises(ValueError, match="subsample entries must be >= 1"):
        T.nnet.conv2d(x, w, subsample=(0, 1))
    with pytest.raises(NotImplementedError, match="unshared"):
        T.nnet.conv2d(x, w, unshared=True)
    f = st.function([x, w], T.nnet.conv2d(x, w))
    with pytest.raises(ValueError, match=r"has 3 channels, but the filters \(shape \(2, 4, 3, 3\)\) expect 4"):
        f(rng.standard_normal((1, 3, 5, 5)), rng.standard_normal((2, 4, 3, 3)))
    with pytest.raises(ValueError, match="does not fit"):
        f(rng.standard_normal((1, 3, 2, 5)), rng.standard_normal((2, 3, 3, 3)))
    g = st.function([x, w], T.nnet.conv2d(x, w, num_groups=2))
    with pytest.raises(ValueError, match="do not split into num_groups=2"):
        g(rng.standard_normal((1, 4, 5, 5)), rng.standard_normal((3, 2, 3, 3)))


def test_border_mode_normalization():
    assert normalize_border_mode(2) == (2, 2)
    assert normalize_border_mode((1, (2, 2))) == (1, 2)
    assert normalize_border_mode(((1, 0), 2)) == ((1, 0), (2, 2))
    assert AbstractConv2d(border_mode=1) == AbstractConv2d(border_mode=(1, 1))
    assert AbstractConv2d(border_mode=1) != AbstractConv2d(border_mode="half")


def test_image_shape_is_a_deprecated_alias(rng):
    x, w = ftensor4(name="x"), ftensor4(name="w")
    with pytest.warns(DeprecationWarning, match="image_shape"):
        out = T.nnet.conv2d(x, w, image_shape=(1, 1, 4, 4))
    assert out.owner.op.imshp == (1, 1, 4, 4)


def test_legacy_conv_module_always_flips(rng):
    x, w = ftensor4(name="x"), ftensor4(name="w")
    xv, wv = rng.standard_normal((2, 2, 6, 5)), rng.standard_normal((3, 2, 3, 2))
    got = st.function([x, w], T.nnet.conv.conv2d(x, w, border_mode="full"))(xv, wv)
    np.testing.assert_allclose(got, ref_conv2d(xv, wv, "full"), atol=1e-10)
    with pytest.raises(ValueError, match="'valid' or 'full'"):
        T.nnet.conv.conv2d(x, w, border_mode="half")


# ---------------------------------------------------------------- gradient ops and helpers

@pytest.mark.parametrize("border_mode,subsample,dilation", CASES[::2])
def test_gradient_ops_are_adjoints_of_the_forward_op(rng, border_mode, subsample, dilation):
    """<top, conv(x, w)> = <gradWeights(x, top), w> = <gradInputs(w, top), x>."""
    params = dict(border_mode=border_mode, subsample=subsample, filter_dilation=dilation)
    xv, wv = rng.standard_normal((2, 2, 8, 7)), rng.standard_normal((3, 2, 3, 2))
    out = ref_conv2d(xv, wv, border_mode, subsample, True, dilation)
    top = rng.standard_normal(out.shape)
    x, w, t = ftensor4(name="x"), ftensor4(name="w"), ftensor4(name="t")
    gw = st.function([x, t], AbstractConv2d_gradWeights(**params)(x, t, (3, 2)))(xv, top)
    gi = st.function([w, t], AbstractConv2d_gradInputs(**params)(w, t, (8, 7)))(wv, top)
    assert gw.shape == wv.shape and gi.shape == xv.shape
    np.testing.assert_allclose(np.sum(gw * wv), np.sum(top * out), rtol=1e-10)
    np.testing.assert_allclose(np.sum(gi * xv), np.sum(top * out), rtol=1e-10)


def test_grad_wrt_helpers_and_transpose(rng):
    xv, wv = rng.standard_normal((2, 3, 7, 7)), rng.standard_normal((4, 3, 3, 3))
    x, w, t = ftensor4(name="x"), ftensor4(name="w"), ftensor4(name="t")
    out = T.nnet.conv2d(x, w, subsample=(2, 2), border_mode=1)
    gx, gw = st.grad((out * t).sum(), [x, w])
    top = rng.standard_normal((2, 4, 4, 4))
    want_x, want_w = st.function([x, w, t], [gx, gw])(xv, wv, top)
    got_x = T.nnet.conv2d_grad_wrt_inputs(t, w, (2, 3, 7, 7), subsample=(2, 2), border_mode=1)
    got_w = T.nnet.conv2d_grad_wrt_weights(x, t, (4, 3, 3, 3), subsample=(2, 2), border_mode=1)
    got_t = T.nnet.conv2d_transpose(t, w, (2, 3, 7, 7), input_dilation=(2, 2), border_mode=1)
    assert got_x.type.shape == (2, 3, 7, 7) and got_w.type.shape == (4, 3, 3, 3)
    values = st.function([x, w, t], [got_x, got_w, got_t])(xv, wv, top)
    np.testing.assert_allclose(values[0], want_x, atol=1e-10)
    np.testing.assert_allclose(values[1], want_w, atol=1e-10)
    np.testing.assert_allclose(values[2], want_x, atol=1e-10)


def test_gradient_ops_check_the_topgrad_shape(rng):
    w, t = ftensor4(name="w"), ftensor4(name="t")
    f = st.function([w, t], AbstractConv2d_gradInputs(subsample=(2, 2))(w, t, (7, 7)))
    assert f(rng.standard_normal((2, 3, 3, 3)), rng.standard_normal((1, 2, 3, 3))).shape == (1, 3, 7, 7)
    with pytest.raises(ValueError, match="topgrad has spatial shape"):
        f(rng.standard_normal((2, 3, 3, 3)), rng.standard_normal((1, 2, 4, 3)))


# ---------------------------------------------------------------- verify_grad (small shapes: fast)

GRAD_CASES = [("valid", (1, 1), (1, 1), 1), ("full", (2, 1), (1, 1), 1), ("half", (1, 2), (2, 1), 1),
              ((1, 2), (2, 2), (1, 1), 2), (((0, 1), (2, 0)), (1, 1), (1, 2), 1), (1, (2, 1), (2, 2), 1),
              ("full", (1, 2), (2, 1), 1), ("valid", (2, 2), (1, 2), 2)]


@pytest.mark.parametrize("border_mode,subsample,dilation,groups", GRAD_CASES)
@pytest.mark.parametrize("filter_flip", [True, False])
def test_verify_grad(rng, border_mode, subsample, dilation, groups, filter_flip):
    def fn(a, b):
        return T.nnet.conv2d(a, b, border_mode=border_mode, subsample=subsample, filter_dilation=dilation,
                             filter_flip=filter_flip, num_groups=groups)
    st.verify_grad(fn, [rng.standard_normal((2, 2, 6, 5)), rng.standard_normal((2, 2 // groups, 3, 2))], rng=rng)


@pytest.mark.parametrize("border_mode,subsample", [("valid", (1, 1)), ("half", (2, 1)), ((1, 0), (1, 2))])
def test_second_order_gradients(rng, border_mode, subsample):
    """The gradient ops are differentiable too (through each other and the forward op)."""
    def grad_x(a, b):
        out = T.nnet.conv2d(a, b, border_mode=border_mode, subsample=subsample)
        return st.grad((out ** 2).sum(), a)

    def grad_w(a, b):
        out = T.nnet.conv2d(a, b, border_mode=border_mode, subsample=subsample)
        return st.grad((out ** 2).sum(), b)

    pt = [rng.standard_normal((1, 2, 5, 5)), rng.standard_normal((2, 2, 2, 3))]
    st.verify_grad(grad_x, pt, rng=rng)
    st.verify_grad(grad_w, pt, rng=rng)


def test_r_op_is_bilinear(rng):
    x, w, ex, ew = (ftensor4(name=n) for n in ("x", "w", "ex", "ew"))
    out = T.nnet.conv2d(x, w, border_mode="half")
    jvp = st.gradient.Rop(out, [x, w], [ex, ew])
    vals = [rng.standard_normal((1, 2, 4, 4)), rng.standard_normal((3, 2, 3, 3)),
            rng.standard_normal((1, 2, 4, 4)), rng.standard_normal((3, 2, 3, 3))]
    got = st.function([x, w, ex, ew], jvp)(*vals)
    want = ref_conv2d(vals[2], vals[1], "half") + ref_conv2d(vals[0], vals[3], "half")
    np.testing.assert_allclose(got, want, atol=1e-10)


# ---------------------------------------------------------------- infer_shape

@pytest.mark.parametrize("border_mode,subsample,dilation", CASES[::3])
def test_infer_shape(rng, border_mode, subsample, dilation):
    params = dict(border_mode=border_mode, subsample=subsample, filter_dilation=dilation)
    x, w, t = ftensor4(name="x"), ftensor4(name="w"), ftensor4(name="t")
    xv, wv = rng.standard_normal((2, 3, 9, 8)), rng.standard_normal((4, 3, 3, 2))
    out_shape = ref_conv2d(xv, wv, border_mode, subsample, True, dilation).shape
    tv = rng.standard_normal(out_shape)
    check_infer_shape([x, w], T.nnet.conv2d(x, w, **params), [xv, wv])
    shape = T.lvector("shape")  # a symbolic spatial shape, and a constant one
    check_infer_shape([x, t, shape], AbstractConv2d_gradWeights(**params)(x, t, shape), [xv, tv, np.array([3, 2])])
    check_infer_shape([w, t, shape], AbstractConv2d_gradInputs(**params)(w, t, shape), [wv, tv, np.array([9, 8])])
    check_infer_shape([w, t], AbstractConv2d_gradInputs(**params)(w, t, (9, 8)), [wv, tv])


def test_ops_are_merged_by_props():
    a = AbstractConv2d(border_mode="half", subsample=(2, 2))
    b = AbstractConv2d(border_mode="half", subsample=[2, 2])
    assert a == b and hash(a) == hash(b)
    assert a != AbstractConv2d(border_mode="half", subsample=(2, 2), filter_flip=False)
    assert AbstractConv2d_gradInputs(num_groups=2) != AbstractConv2d_gradInputs()
    assert "num_groups=2" in str(AbstractConv2d_gradInputs(num_groups=2))


def test_reachable_as_in_theano():
    assert T.nnet.conv2d is T.nnet.abstract_conv.conv2d is abstract_conv.conv2d
    assert T.nnet.abstract_conv.AbstractConv2d is AbstractConv2d
    assert T.nnet.conv2d_transpose is abstract_conv.conv2d_transpose
