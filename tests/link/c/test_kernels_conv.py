"""C kernels for conv2d (forward and both gradients) and pooling (every mode, forward and gradients) equal the
python linker over dtypes, strided inputs and empty batches; a convnet training step runs entirely in C.

Compiling a module dominates these tests, so each test puts many cases in one function (one module), and the
gradient ops are built directly (fewer helper nodes than st.grad would add)."""

import numpy as np
import pytest

import symtensor as st
import symtensor.tensor as T
from helpers import assert_same_results, c_op_names, compile_c_and_py, noncontiguous
from symtensor.link.c import compiler
from symtensor.tensor.nnet.abstract_conv import (
    AbstractConv2d, AbstractConv2d_gradInputs, AbstractConv2d_gradWeights, get_conv_output_shape)
from symtensor.tensor.signal.pool import AveragePoolGrad, DownsampleFactorMaxGradGrad, MaxPoolGrad, Pool, pool_2d

pytestmark = pytest.mark.skipif(not compiler.compiler_available(), reason="no C compiler on this machine")

CONV_OPS = {"AbstractConv2d", "AbstractConv2d_gradWeights", "AbstractConv2d_gradInputs"}
POOL_MODES = ("max", "sum", "average_inc_pad", "average_exc_pad")


def t4(dtype, name):
    return T.TensorType(dtype, (False,) * 4)(name)


def distinct(rng, shape, dtype):
    """Values without ties, so max pooling picks one pixel per window on every backend."""
    return (rng.permutation(int(np.prod(shape))).reshape(shape) * 0.25 - 3.0).astype(dtype)


def layouts(arr):
    """The same values as a C-contiguous, a strided and a Fortran-ordered array."""
    return [arr, noncontiguous(arr), np.asfortranarray(arr)]


def conv_and_grads(x, w, g, image_hw, kernel_hw, **params):
    """conv2d(x, w) and its two gradient ops (d img and d kern from the output gradient g)."""
    return [AbstractConv2d(**params)(x, w), AbstractConv2d_gradInputs(**params)(w, g, image_hw),
            AbstractConv2d_gradWeights(**params)(x, g, kernel_hw)]


def assert_close_on_scale(fc, fp, values, rtol32=1e-5):
    """Like assert_same_results, with an absolute tolerance on each output's scale (long float32 sums)."""
    for got, want in zip(fc(*values), fp(*values)):
        assert got.dtype == want.dtype and got.shape == want.shape
        tol = rtol32 if got.dtype == np.float32 else 1e-12
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol * max(np.abs(want).max(initial=0), 1))


# ---------------------------------------------------------------- convolution

CONV_CASES = [  # (border_mode, subsample, filter_dilation, filter_flip, num_groups)
    ("valid", (1, 1), (1, 1), True, 1), ("full", (2, 1), (1, 1), False, 1), ("half", (1, 2), (2, 1), True, 1),
    ((1, 2), (2, 2), (1, 1), True, 2), (((0, 2), (1, 0)), (1, 1), (1, 2), False, 1),
    # unit strides: the input gradient runs as a forward convolution of the output gradient
    ("full", (1, 1), (2, 1), False, 2), ((1, 1), (1, 1), (1, 1), True, 4),
    # padding wider than the kernel: the input gradient keeps the col2im path
    ((3, 1), (1, 1), (1, 1), True, 1),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_conv2d_and_its_gradients(rng, dtype):
    """Every border mode, stride, dilation, flip and grouping; a wide image (whole rows of output pixels fill the
    kernels' vector panels); the other float dtype as filters (upcast); strided inputs; an empty batch."""
    other = "float64" if dtype == "float32" else "float32"
    x = t4(dtype, "x")
    xv = rng.standard_normal((3, 4, 9, 8)).astype(dtype)
    ins, outs, vals, batched = [x], [], [xv], [True]
    for k, (border_mode, subsample, dilation, flip, groups) in enumerate(CONV_CASES):
        params = dict(border_mode=border_mode, subsample=subsample, filter_dilation=dilation, filter_flip=flip,
                      num_groups=groups)
        w, g = t4(dtype, f"w{k}"), t4(dtype, f"g{k}")
        wv = rng.standard_normal((4, 4 // groups, 3, 2)).astype(dtype)
        gv = rng.standard_normal(get_conv_output_shape(xv.shape, wv.shape, border_mode, subsample, dilation))
        ins += [w, g]
        outs += conv_and_grads(x, w, g, (9, 8), (3, 2), **params)
        vals += [wv, gv.astype(dtype)]
        batched += [False, True]
    xw, ww, gw = t4(dtype, "xw"), t4(other, "ww"), t4(dtype, "gw")
    ins += [xw, ww, gw]
    outs += [AbstractConv2d(filter_flip=False)(xw, ww), AbstractConv2d_gradWeights(filter_flip=False)(xw, gw, (2, 3)),
             AbstractConv2d_gradInputs(filter_flip=False)(ww, gw, (5, 37))]
    vals += [rng.standard_normal((3, 3, 5, 37)).astype(dtype), rng.standard_normal((5, 3, 2, 3)).astype(other),
             rng.standard_normal((3, 5, 4, 35)).astype(dtype)]
    batched += [True, False, True]
    fc, fp = compile_c_and_py(ins, outs)
    assert CONV_OPS <= c_op_names(fc)
    for layout in zip(*(layouts(v) for v in vals)):
        assert_close_on_scale(fc, fp, layout)
    assert_close_on_scale(fc, fp, [v[:0] if b else v for v, b in zip(vals, batched)])



# (image shape, filter shape, params): products that gather the windows from the (padded) image, with pixels or
# taps as rows and filters as panels, next to ones that go through im2col because the filters would fill the
# panels badly (7, 5, 2 filters); groups, dilation, several images per item, pixels sliced over threads
GATHER_CASES = [
    ((2, 4, 7, 16), (6, 4, 3, 3), dict(border_mode="half")),
    ((4, 3, 12, 12), (16, 3, 5, 5), dict(border_mode=(2, 2), subsample=(2, 2), filter_flip=False)),
    ((2, 3, 5, 15), (7, 3, 5, 5), dict(border_mode=(2, 2), filter_flip=False)),
    ((3, 4, 9, 8), (5, 4, 3, 3), dict(border_mode=(1, 1), subsample=(2, 1))),
    ((2, 4, 6, 16), (4, 2, 3, 2), dict(border_mode="full", filter_dilation=(1, 2), num_groups=2)),
    ((40, 4, 4, 8), (8, 4, 3, 3), dict(border_mode="half")),                        # several images per item
    ((1, 16, 21, 16), (24, 16, 3, 3), dict(border_mode="half")),                    # pixels sliced over threads
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_conv2d_windows_gathered_or_copied(rng, dtype):
    ins, outs, vals = [], [], []
    for k, (xshape, wshape, params) in enumerate(GATHER_CASES):
        x, w, g = t4(dtype, f"x{k}"), t4(dtype, f"w{k}"), t4(dtype, f"g{k}")
        ins += [x, w, g]
        outs += conv_and_grads(x, w, g, xshape[2:], wshape[2:], **params)
        gshape = get_conv_output_shape(xshape, wshape, params["border_mode"], params.get("subsample", (1, 1)),
                                       params.get("filter_dilation", (1, 1)))
        vals += [rng.standard_normal(shape).astype(dtype) for shape in (xshape, wshape, gshape)]
    fc, fp = compile_c_and_py(ins, outs)
    assert CONV_OPS <= c_op_names(fc)
    assert_close_on_scale(fc, fp, vals)
    assert_close_on_scale(fc, fp, [noncontiguous(v) for v in vals])

def test_conv2d_large_enough_to_run_on_threads(rng):
    """Calls with enough work split over OpenMP threads: by image, and by slices of output pixels when the batch
    is smaller than the thread count (the partial sums and slices must add up to perform's result)."""
    ins, outs = [], []
    for dtype in ("float32", "float64"):
        x, w, g_valid, g_half = (t4(dtype, n + dtype) for n in ("x", "w", "gv", "gh"))
        ins += [x, w, g_valid, g_half]
        outs += conv_and_grads(x, w, g_valid, (21, 19), (3, 3), border_mode="valid")
        outs += conv_and_grads(x, w, g_half, (21, 19), (3, 3), border_mode="half")
    fc, fp = compile_c_and_py(ins, outs)
    assert CONV_OPS <= c_op_names(fc)
    for batch in (1, 3):
        vals = []
        for dtype in ("float32", "float64"):
            vals += [rng.standard_normal(s).astype(dtype)
                     for s in ((batch, 16, 21, 19), (24, 16, 3, 3), (batch, 24, 19, 17), (batch, 24, 21, 19))]
        assert_close_on_scale(fc, fp, vals)
        # the weight gradient sums its partials in a fixed order, however the threads were scheduled
        first, again = fc(*vals), fc(*vals)
        assert all(np.array_equal(a, b) for a, b in zip(first, again))


def test_conv2d_small_images_several_per_product(rng):
    """Small images are multiplied a few at a time (one product over several images' pixels), in the forward
    pass and in the input gradient that runs as one; batches that do not split evenly leave a partial item."""
    ins, outs = [], []
    for dtype in ("float32", "float64"):
        x, w, wg, g_valid, g_half, g_groups = (t4(dtype, n + dtype) for n in ("x", "w", "wg", "gv", "gh", "gg"))
        ins += [x, w, wg, g_valid, g_half, g_groups]
        outs += conv_and_grads(x, w, g_valid, (5, 6), (3, 3), border_mode="valid")
        outs += conv_and_grads(x, w, g_half, (5, 6), (3, 3), border_mode="half", filter_flip=False)
        outs += conv_and_grads(x, wg, g_groups, (5, 6), (3, 3), border_mode=(1, 2), num_groups=2)
    fc, fp = compile_c_and_py(ins, outs)
    assert CONV_OPS <= c_op_names(fc)
    for batch in (17, 40, 2):
        vals = []
        for dtype in ("float32", "float64"):
            vals += [rng.standard_normal(s).astype(dtype)
                     for s in ((batch, 8, 5, 6), (12, 8, 3, 3), (12, 4, 3, 3), (batch, 12, 3, 4), (batch, 12, 5, 6),
                               (batch, 12, 5, 8))]
        assert_close_on_scale(fc, fp, vals)


def test_conv2d_symbolic_shapes_and_errors(rng):
    """The gradient ops read their output's spatial shape from a run-time vector (any integer dtype); bad shapes
    raise the errors perform raises."""
    x, w, t, xh, wh = (t4("float64", n) for n in ("x", "w", "t", "xh", "wh"))
    kshape, ishape = T.ivector("kshape"), T.bvector("ishape")
    params = dict(border_mode="half", subsample=(2, 2))
    outs = [AbstractConv2d_gradWeights(**params)(x, t, kshape), AbstractConv2d_gradInputs(**params)(w, t, ishape),
            T.nnet.conv2d(xh, wh, input_shape=(None, 3, None, None))]
    fc, fp = compile_c_and_py([x, w, t, kshape, ishape, xh, wh], outs)
    assert CONV_OPS <= c_op_names(fc)
    xv, wv, tv = rng.standard_normal((2, 3, 7, 7)), rng.standard_normal((4, 3, 3, 3)), rng.standard_normal((2, 4, 4, 4))
    ok = [np.array([3, 3], "int32"), np.array([7, 7], "int8"), np.ones((1, 3, 5, 5)), np.ones((2, 3, 3, 3))]
    for rows in (7, 8):  # two image sizes give the same output size with stride 2
        assert_same_results(fc, fp, xv, wv, tv, ok[0], np.array([rows, 7], "int8"), *ok[2:])
    bad_top = ok[:1] + [np.array([9, 7], "int8")] + ok[2:]
    small_image = ok[:2] + [np.zeros((1, 3, 2, 5)), ok[3]]
    wrong_hint = ok[:2] + [np.zeros((1, 2, 5, 5)), np.zeros((2, 2, 3, 3))]
    for f in (fc, fp):
        with pytest.raises(ValueError, match=r"AbstractConv2d_gradInputs: topgrad has (spatial )?shape"):
            f(xv, wv, tv, *bad_top)
        with pytest.raises(ValueError, match="does not fit"):
            f(xv, wv, tv, *small_image)
        with pytest.raises(ValueError, match="AbstractConv2d: the input has shape"):
            f(xv, wv, tv, *wrong_hint)
    with pytest.raises(ValueError, match="AbstractConv2d: input of shape .* do not match"):
        fc(xv, wv, tv, *ok[:3], np.zeros((2, 4, 3, 3)))


# ---------------------------------------------------------------- pooling

POOL_CASES = [  # (ws, stride, pad, ignore_border)
    ((2, 2), None, (0, 0), True), ((2, 2), None, (0, 0), False), ((3, 2), (1, 1), (0, 0), False),
    ((2, 3), (3, 2), (0, 0), False), ((3, 3), (2, 2), (1, 1), True), ((3, 2), (2, 1), (2, 1), True),
    ((3, 3), (2, 2), (0, 0), True),  # overlapping whole windows (AlexNet's pooling)
    ((2, 2), (3, 3), (0, 0), True),  # whole windows with gaps between them
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_pool_and_its_gradients(rng, dtype):
    """Every mode and window case (the 2x2 / stride 2 fast path, partial windows, gaps, padding) with its
    gradient; the max-pool grad-grad op on many ties; other ranks; strided inputs; empty leading axes."""
    x = t4(dtype, "x")
    xv = distinct(rng, (2, 3, 7, 8), dtype)
    ins, outs, vals = [x], [], [xv]
    for mode in POOL_MODES:
        for k, (ws, stride, pad, ignore_border) in enumerate(POOL_CASES):
            params = dict(ws=ws, stride=stride, pad=pad, ignore_border=ignore_border, mode=mode)
            g = t4(dtype, f"g_{mode}_{k}")
            out = Pool(**params)(x)
            ins.append(g)
            outs += [out, MaxPoolGrad(**params)(x, out, g) if mode == "max" else AveragePoolGrad(**params)(x, g)]
            vals.append(rng.standard_normal(Pool.out_shape(xv.shape, ws, ignore_border, stride, pad)).astype(dtype))
    # ties: every max pixel gets the gradient; the grad-grad op
    params = dict(ignore_border=True, ws=(3, 2), stride=(2, 1), pad=(1, 0))
    xt, gz, ggx = t4(dtype, "xt"), t4(dtype, "gz"), t4(dtype, "ggx")
    z = Pool(**params)(xt)
    ins += [xt, gz, ggx]
    outs += [MaxPoolGrad(**params)(xt, z, gz), DownsampleFactorMaxGradGrad(**params)(xt, z, ggx)]
    ties = np.round(rng.standard_normal((2, 2, 6, 5))).astype(dtype)
    vals += [ties, rng.standard_normal((2, 2, 3, 4)).astype(dtype), rng.standard_normal(ties.shape).astype(dtype)]
    # 2-d and 5-d inputs
    for ndim in (2, 5):
        xr = T.TensorType(dtype, (False,) * ndim)(f"x{ndim}")
        pooled = [pool_2d(xr, (2, 3), ignore_border=False, mode=m) for m in ("max", "average_exc_pad")]
        ins.append(xr)
        outs += pooled + [MaxPoolGrad(ws=(2, 3))(xr, pooled[0], pooled[0]),
                          AveragePoolGrad(ws=(2, 3), mode="average_exc_pad")(xr, pooled[1])]
        vals.append(distinct(rng, (2, 3, 1, 5, 7)[-ndim:], dtype))
    fc, fp = compile_c_and_py(ins, outs)
    assert {"Pool", "MaxPoolGrad", "AveragePoolGrad", "DownsampleFactorMaxGradGrad"} <= c_op_names(fc)
    for layout in zip(*(layouts(v) for v in vals)):
        assert_same_results(fc, fp, *layout)
    assert_same_results(fc, fp, *[v[:0] if v.ndim > 2 else v for v in vals])


def test_pool_special_values_and_errors():
    x, g = T.dmatrix("x"), T.dmatrix("g")
    z = Pool(ws=(2, 2), ignore_border=True)(x)
    z1 = Pool(ws=(2, 2), ignore_border=True, stride=(1, 1))(x)  # overlapping whole windows
    outs = [z, MaxPoolGrad(ws=(2, 2), ignore_border=True)(x, z, g),
            pool_2d(x, (3, 3), ignore_border=False, stride=(1, 1)), z1,
            MaxPoolGrad(ws=(2, 2), ignore_border=True, stride=(1, 1))(x, z1, T.ones_like(z1))]
    fc, fp = compile_c_and_py([x, g], outs)
    assert {"Pool", "MaxPoolGrad"} <= c_op_names(fc)
    special = np.array([[1.0, np.nan, -np.inf, -np.inf], [0.0, 2.0, -np.inf, np.inf]])
    assert_same_results(fc, fp, special, np.ones((1, 2)))
    for f in (fc, fp):
        with pytest.raises(ValueError, match=r"MaxPoolGrad: gz has shape \(3, 3\)"):
            f(np.zeros((4, 4)), np.zeros((3, 3)))
        with pytest.raises(ValueError, match="pooling windows of an empty image"):
            f(np.zeros((0, 4)), np.zeros((0, 2)))
    with pytest.raises(ValueError, match=r"MaxPoolGrad: gz has shape \(3, 3\), which does not match x of shape "
                                         r"\(4, 4\) \(pooled to \(2, 2\)\)"):
        fc(np.zeros((4, 4)), np.zeros((3, 3)))


# ---------------------------------------------------------------- a whole step

def test_convnet_training_step_runs_entirely_in_c(rng):
    """conv -> pool -> tanh -> conv -> avg pool -> dense -> softmax cross-entropy, with SGD updates: no node
    falls back to Python, and the losses and parameters agree with the python linker for a few steps."""
    def build(linker):
        rs = np.random.default_rng(0)
        params = [st.shared(rs.standard_normal(s).astype("float32") * 0.3, name=f"p{k}")
                  for k, s in enumerate([(4, 1, 3, 3), (4,), (6, 4, 3, 3), (6 * 2 * 2, 5), (5,)])]
        x, y = T.ftensor4("x"), T.ivector("y")
        h = T.nnet.conv2d(x, params[0], border_mode="half")
        h = T.tanh(pool_2d(h, (2, 2), ignore_border=True) + params[1].dimshuffle("x", 0, "x", "x"))
        h = T.nnet.relu(T.nnet.conv2d(h, params[2], subsample=(1, 1)))
        h = pool_2d(h, (2, 2), ignore_border=True, mode="average_exc_pad")
        p = T.nnet.softmax(T.dot(h.flatten(2), params[3]) + params[4])
        loss = T.nnet.categorical_crossentropy(p, y).mean()
        grads = st.grad(loss, params)
        f = st.function([x, y], loss, updates=[(q, q - np.float32(0.1) * gq) for q, gq in zip(params, grads)],
                        mode=st.Mode(linker=linker, optimizer="fast_run"))
        return f, params

    fc, pc = build("c")
    fp, pp = build("py")
    assert CONV_OPS | {"Pool", "MaxPoolGrad", "AveragePoolGrad"} <= c_op_names(fc)
    xv = rng.standard_normal((5, 1, 12, 12)).astype("float32")
    yv = rng.integers(0, 5, 5).astype("int32")
    for _ in range(3):
        np.testing.assert_allclose(fc(xv, yv), fp(xv, yv), rtol=1e-5)
    for a, b in zip(pc, pp):
        np.testing.assert_allclose(a.get_value(), b.get_value(), rtol=1e-4, atol=1e-6)
