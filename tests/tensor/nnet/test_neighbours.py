"""T.nnet.neighbours: images2neibs in every mode against an explicit NumPy reference, neibs2images, gradients."""

import numpy as np
import pytest

import symtensor as st
import symtensor.tensor as T
from helpers import FLOAT_DTYPES, check_infer_shape, noncontiguous, rand
from symtensor.tensor.nnet import neighbours
from symtensor.tensor.nnet.neighbours import Images2Neibs, Neibs2Images, images2neibs, neibs2images
from symtensor.tensor.type import TensorType


def reference(x, neib_shape, neib_step, mode):
    """Patches cut with explicit loops from the image padded as the mode says (zeros, or wrapped around)."""
    (c, d), (sr, sc) = neib_shape, neib_step
    rows, cols = x.shape[2:]
    if mode == "wrap_centered":
        padded = np.pad(x, [(0, 0), (0, 0), (c // 2, c // 2), (d // 2, d // 2)], mode="wrap")
        grid = (-(-rows // sr), -(-cols // sc))
    else:
        pr, pc = {"half": (c // 2, d // 2), "full": (c - 1, d - 1)}.get(mode, (0, 0))
        padded = np.pad(x, [(0, 0), (0, 0), (pr, pr), (pc, pc)])
        grid = ((padded.shape[2] - c) // sr + 1, (padded.shape[3] - d) // sc + 1)
    out = []
    for n in range(x.shape[0]):
        for s in range(x.shape[1]):
            for a in range(grid[0]):
                for b in range(grid[1]):
                    out.append(padded[n, s, a * sr:a * sr + c, b * sc:b * sc + d].ravel())
    return np.array(out, dtype=x.dtype).reshape(-1, c * d)


# name -> (image shape, neib_shape, neib_step, mode)
CASES = {
    "valid_disjoint": ((2, 3, 4, 6), (2, 3), None, "valid"),
    "valid_overlapping": ((1, 2, 5, 5), (3, 2), (1, 1), "valid"),
    "valid_strided": ((2, 1, 7, 5), (3, 3), (2, 2), "valid"),
    "ignore_borders_disjoint": ((2, 2, 5, 7), (2, 3), None, "ignore_borders"),
    "ignore_borders_overlapping": ((1, 2, 6, 5), (3, 2), (2, 1), "ignore_borders"),
    "wrap_centered": ((2, 1, 5, 4), (3, 3), (1, 1), "wrap_centered"),
    "wrap_centered_strided": ((1, 2, 7, 5), (3, 5), (3, 2), "wrap_centered"),
    "half_odd": ((2, 1, 5, 4), (3, 3), (1, 1), "half"),
    "half_even": ((1, 2, 4, 6), (2, 4), (2, 2), "half"),
    "full": ((1, 2, 4, 5), (3, 2), (1, 1), "full"),
    "full_strided": ((2, 1, 4, 5), (2, 3), (2, 2), "full"),
}


def case_inputs(name, rng, dtype="float64"):
    shape, neib_shape, neib_step, mode = CASES[name]
    return rand(rng, shape, dtype), neib_shape, neib_step, mode


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_images2neibs_matches_reference(name, dtype, rng):
    value, neib_shape, neib_step, mode = case_inputs(name, rng, dtype)
    x = T.tensor4("x", dtype=dtype)
    out = images2neibs(x, neib_shape, neib_step, mode)
    assert out.dtype == dtype and out.type.shape[1] == neib_shape[0] * neib_shape[1]
    f = st.function([x], out)
    want = reference(value, neib_shape, neib_step or neib_shape, mode)
    np.testing.assert_array_equal(f(value), want)
    np.testing.assert_array_equal(f(noncontiguous(value)), want)
    check_infer_shape([x], out, [value])


@pytest.mark.parametrize("name", sorted(CASES))
def test_images2neibs_verify_grad(name, rng):
    value, neib_shape, neib_step, mode = case_inputs(name, rng)
    T.verify_grad(lambda x: images2neibs(x, neib_shape, neib_step, mode), [value], rng=np.random.default_rng(3))


@pytest.mark.parametrize("name", sorted(CASES))
def test_neibs2images_op_is_the_transpose(name, rng):
    """<images2neibs(x), y> == <x, Neibs2Images(y)>: overlapping patches add up, padding is dropped."""
    value, neib_shape, neib_step, mode = case_inputs(name, rng)
    step = neib_step or neib_shape
    patches = reference(value, neib_shape, step, mode)
    y = rand(rng, patches.shape)
    n = T.dmatrix("n")
    back = st.function([n], Neibs2Images(mode)(n, neib_shape, step, value.shape))(y)
    assert back.shape == value.shape
    np.testing.assert_allclose(np.sum(patches * y), np.sum(value * back), rtol=1e-12)
    check_infer_shape([n], Neibs2Images(mode)(n, neib_shape, step, value.shape), [y])
    T.verify_grad(lambda m: Neibs2Images(mode)(m, neib_shape, step, value.shape), [y],
                  rng=np.random.default_rng(3))


def test_theano_doc_example():
    x = T.dtensor4("images")
    neibs = images2neibs(x, neib_shape=(2, 2))
    image = np.arange(16.0).reshape((1, 1, 4, 4))
    got = st.function([x], neibs)(image)
    np.testing.assert_array_equal(got, [[0, 1, 4, 5], [2, 3, 6, 7], [8, 9, 12, 13], [10, 11, 14, 15]])
    # and back: disjoint patches come back as the image
    n = T.dmatrix("neibs")
    back = st.function([n], neibs2images(n, (2, 2), image.shape))(got)
    np.testing.assert_array_equal(back, image)


def test_theano_doc_round_trip_through_a_window_function():
    images = T.dtensor4("images")
    neibs = images2neibs(images, neib_shape=(5, 5))
    im_val = np.arange(100.0).reshape((1, 1, 10, 10))
    neibs_val = st.function([images], neibs)(im_val)
    assert neibs_val.shape == (4, 25)
    n = T.dmatrix("neibs")
    im_new_val = st.function([n], neibs2images(n, (5, 5), im_val.shape))(neibs_val)
    np.testing.assert_array_equal(im_new_val, im_val)


def test_neibs2images_ignore_borders_zeroes_dropped_pixels(rng):
    x = T.dtensor4("x")
    value = rand(rng, (2, 3, 5, 7))
    out = neibs2images(images2neibs(x, (2, 3), mode="ignore_borders"), (2, 3), x.shape, mode="ignore_borders")
    got = st.function([x], out)(value)
    want = value.copy()
    want[:, :, 4:, :] = 0
    want[:, :, :, 6:] = 0
    np.testing.assert_array_equal(got, want)
    T.verify_grad(lambda n: neibs2images(n, (2, 3), (2, 3, 5, 7), mode="ignore_borders"), [rand(rng, (24, 6))],
                  rng=np.random.default_rng(3))


def test_neibs2images_only_undoes_disjoint_valid_and_ignore_borders():
    with pytest.raises(NotImplementedError, match="neibs2images: mode must be 'valid' or 'ignore_borders'"):
        neibs2images(T.dmatrix(), (2, 2), (1, 1, 4, 4), mode="half")


def test_gradient_is_exact_inverse_for_disjoint_patches(rng):
    """For step == shape in 'valid' mode each pixel is in one patch: the gradient is neibs2images of the seed."""
    x, seed = T.dtensor4("x"), T.dmatrix("seed")
    value = rand(rng, (2, 2, 4, 6))
    out = images2neibs(x, (2, 3))
    g = st.function([x, seed], T.grad((out * seed).sum(), x))
    seed_value = rand(rng, (16, 6))
    np.testing.assert_array_equal(g(value, seed_value),
                                  st.function([seed], neibs2images(seed, (2, 3), value.shape))(seed_value))


def test_overlapping_patches_accumulate_in_the_gradient(rng):
    x = T.dtensor4("x")
    g = st.function([x], T.grad(images2neibs(x, (2, 2), (1, 1)).sum(), x))(rand(rng, (1, 1, 3, 3)))
    # each pixel's count of 2x2 windows of a 3x3 image containing it
    np.testing.assert_array_equal(g[0, 0], [[1, 2, 1], [2, 4, 2], [1, 2, 1]])
    g_full = st.function([x], T.grad(images2neibs(x, (2, 2), (1, 1), mode="full").sum(), x))(rand(rng, (1, 1, 3, 3)))
    np.testing.assert_array_equal(g_full, np.full((1, 1, 3, 3), 4.0))


def test_r_op_is_the_op_applied_to_the_tangent(rng):
    x, ev = T.dtensor4("x"), T.dtensor4("ev")
    out = images2neibs(x, (3, 3), (1, 2), mode="half")
    value, direction = rand(rng, (1, 2, 5, 5)), rand(rng, (1, 2, 5, 5))
    jvp = st.function([x, ev], T.Rop(out, x, ev), on_unused_input="ignore")(value, direction)
    np.testing.assert_array_equal(jvp, reference(direction, (3, 3), (1, 2), "half"))


def test_symbolic_neib_shape_and_step(rng):
    x, shp, step = T.dtensor4("x"), T.lvector("shp"), T.lvector("step")
    out = images2neibs(x, shp, step, mode="ignore_borders")
    assert out.type.shape == (None, None)
    value = rand(rng, (1, 2, 6, 5))
    f = st.function([x, shp, step], out)
    np.testing.assert_array_equal(f(value, [3, 2], [2, 2]), reference(value, (3, 2), (2, 2), "ignore_borders"))
    check_infer_shape([x, shp, step], out, [value, np.array([3, 2]), np.array([2, 2])])


def test_static_shapes_and_other_dtypes(rng):
    x = TensorType("float32", shape=(2, 3, 6, 4))("x")
    assert images2neibs(x, (2, 2)).type.shape == (2 * 3 * 3 * 2, 4)
    assert images2neibs(x, (3, 3), (1, 1), mode="half").type.shape == (2 * 3 * 6 * 4, 9)  # one patch per pixel
    assert images2neibs(x, (3, 3), (2, 2), mode="wrap_centered").type.shape == (2 * 3 * 3 * 2, 9)
    ints = T.itensor4("i")
    value = rng.integers(-5, 5, size=(1, 2, 4, 4)).astype("int32")
    got = st.function([ints], images2neibs(ints, (2, 2), (2, 1), mode="ignore_borders"))(value)
    assert got.dtype == "int32"
    np.testing.assert_array_equal(got, reference(value, (2, 2), (2, 1), "ignore_borders"))


def test_zero_size_batch(rng):
    x = T.dtensor4("x")
    got = st.function([x], images2neibs(x, (2, 2)))(np.zeros((0, 3, 4, 4)))
    assert got.shape == (0, 4)
    assert st.function([x], images2neibs(x, (5, 5), mode="ignore_borders"))(rand(rng, (1, 1, 4, 4))).shape == (0, 25)


def test_refuses_bad_inputs(rng):
    with pytest.raises(TypeError, match="Images2Neibs: ten4 must be a 4-d tensor"):
        images2neibs(T.dtensor3(), (2, 2))
    with pytest.raises(TypeError, match="Images2Neibs: neib_shape must hold 2 integers"):
        images2neibs(T.dtensor4(), (2, 2, 2))
    with pytest.raises(TypeError, match="neib_step"):
        images2neibs(T.dtensor4(), (2, 2), (1.5, 1))
    with pytest.raises(ValueError, match="Images2Neibs: mode must be one of"):
        images2neibs(T.dtensor4(), (2, 2), mode="same")
    with pytest.raises(ValueError, match="does not tile an image side of 5 on axis 0"):
        images2neibs(TensorType("float64", shape=(1, 1, 5, 4))(), (2, 2))
    x = T.dtensor4("x")
    cases = [((2, 2), None, "valid", (1, 1, 5, 4), "in mode 'valid', patch side 2 with step 2 does not tile an image "
                                                   "side of 5 on axis 0"),
             ((3, 2), (1, 1), "valid", (1, 1, 2, 4), "does not tile an image side of 2 on axis 0"),
             ((3, 3), (2, 2), "half", (1, 1, 4, 5), "in mode 'half'"),
             ((3, 3), (1, 1), "full", (1, 1, 5, 2), "does not tile an image side of 2 on axis 1"),
             ((3, 2), (1, 1), "wrap_centered", (1, 1, 5, 5), "needs odd patch sides, got 2 on axis 1"),
             ((5, 3), (1, 1), "wrap_centered", (1, 1, 4, 5), "needs an image side \\(4\\) at least as long"),
             ((2, 0), (1, 1), "ignore_borders", (1, 1, 4, 5), "must be positive"),
             ((2, 2), (0, 1), "ignore_borders", (1, 1, 4, 5), "must be positive")]
    for neib_shape, neib_step, mode, shape, message in cases:
        with pytest.raises(ValueError, match=message):
            st.function([x], images2neibs(x, neib_shape, neib_step, mode))(rand(rng, shape))
    n = T.dmatrix("n")
    with pytest.raises(ValueError, match="Neibs2Images: neibs of shape \\(3, 4\\) do not match images"):
        st.function([n], neibs2images(n, (2, 2), (1, 1, 4, 4)))(rand(rng, (3, 4)))
    with pytest.raises(TypeError, match="Neibs2Images: neibs must be a matrix"):
        neibs2images(T.dtensor3(), (2, 2), (1, 1, 4, 4))
    with pytest.raises(TypeError, match="Neibs2Images: image_shape must hold 4 lengths"):
        neibs2images(n, (2, 2), (4, 4))


def test_exports():
    assert T.nnet.images2neibs is images2neibs and T.nnet.neibs2images is neibs2images
    assert T.nnet.neighbours.images2neibs is images2neibs and neighbours.Images2Neibs is Images2Neibs
    assert Images2Neibs("half") == Images2Neibs("half") != Images2Neibs("full")
