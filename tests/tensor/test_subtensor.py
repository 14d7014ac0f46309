"""Basic indexing (Subtensor) and set/inc_subtensor on basic indexes (IncSubtensor).

``GETITEM`` and ``SETITEM`` are tables of indexes written with placeholders:
``S(k)`` is the k-th symbolic int scalar. The same index, with the
placeholders resolved to Python ints, is applied to a NumPy array as the
reference, so every row is checked for values, dtypes, strides, shapes and
gradients by the same tests.
"""

import numpy as np
import pytest

import symtensor as st
import symtensor.tensor as T
from helpers import check_infer_shape, check_numpy, noncontiguous, rand
from symtensor.tensor.elemwise import DimShuffle
from symtensor.tensor.subtensor import IncSubtensor, Subtensor
from symtensor.tensor.type import TensorType


class S:
    """Placeholder for the k-th symbolic integer scalar of an index."""

    def __init__(self, k):
        self.k = k

    def __repr__(self):
        return f"S{self.k}"


def resolve(index, subs):
    """Replace placeholders (also inside slices) with ``subs[k]``."""
    def one(item):
        if isinstance(item, S):
            return subs[item.k]
        if isinstance(item, slice):
            return slice(one(item.start), one(item.stop), one(item.step))
        return item
    return tuple(one(i) for i in index) if isinstance(index, tuple) else one(index)


def scalars(ints):
    return [T.lscalar(f"i{k}") for k in range(len(ints))]


# (id, x shape, index, values of the symbolic scalars)
GETITEM = [
    ("int", (3, 4), 1, ()),
    ("neg_int", (3, 4), -1, ()),
    ("int_int", (3, 4), (2, -3), ()),
    ("slice", (5, 4), slice(1, 3), ()),
    ("step", (5, 4), (slice(None, None, 2), slice(1, None)), ()),
    ("reverse", (5, 4), slice(None, None, -1), ()),
    ("neg_slice", (5, 4), (slice(-3, -1), slice(None, None, -2)), ()),
    ("empty_slice", (5, 4), slice(3, 1), ()),
    ("past_end", (5, 4), (slice(1, 100), slice(-100, 2)), ()),
    ("all", (3, 4), slice(None), ()),
    ("ellipsis_only", (3, 4), Ellipsis, ()),
    ("ellipsis_last", (2, 3, 4), (Ellipsis, 1), ()),
    ("ellipsis_mid", (2, 3, 4), (0, Ellipsis, slice(1, None)), ()),
    ("newaxis", (3, 4), (None, 1, slice(None), None), ()),
    ("np_newaxis", (3, 4), (slice(None), np.newaxis), ()),
    ("newaxis_ellipsis", (2, 3, 4), (Ellipsis, None), ()),
    ("np_int", (3, 4), (np.int64(2), np.array(1)), ()),
    ("sym_int", (3, 4), S(0), (2,)),
    ("sym_neg_int", (3, 4), S(0), (-3,)),
    ("sym_slice", (5, 4), slice(S(0), S(1)), (1, 4)),
    ("sym_neg_step", (5, 4), slice(None, None, S(0)), (-2,)),
    ("sym_neg_bounds", (5, 4), (slice(S(0), None), S(1)), (-2, -1)),
    ("sym_mixed_3d", (4, 3, 5), (slice(1, None), S(0), slice(S(1), None, -1)), (1, 3)),
    ("scalar_result", (3, 4, 2), (1, S(0), -1), (2,)),
]
GETITEM_IDS = [c[0] for c in GETITEM]


def _build(case, dtype="float64"):
    _, shape, index, ints = case
    x = TensorType(dtype, (False,) * len(shape))("x")
    syms = scalars(ints)
    return x, syms, x[resolve(index, syms)]


@pytest.mark.parametrize("case", GETITEM, ids=GETITEM_IDS)
@pytest.mark.parametrize("dtype", ["float32", "float64", "int32"])
@pytest.mark.parametrize("layout", ["contiguous", "strided"])
def test_getitem_matches_numpy(case, dtype, layout, rng):
    _, shape, index, ints = case
    x, syms, out = _build(case, dtype)
    assert out.dtype == dtype
    xv = rand(rng, shape, dtype, low=-5, high=5)
    if layout == "strided":
        xv = noncontiguous(xv)
    got = check_numpy([x] + syms, out, lambda v, *i: v[resolve(index, i)], [xv] + list(ints))
    assert np.asarray(got).dtype == dtype


@pytest.mark.parametrize("case", GETITEM, ids=GETITEM_IDS)
def test_getitem_infer_shape(case, rng):
    _, shape, _, ints = case
    x, syms, out = _build(case)
    check_infer_shape([x] + syms, out, [rand(rng, shape)] + list(ints))


@pytest.mark.parametrize("case", GETITEM, ids=GETITEM_IDS)
def test_getitem_grad(case, rng):
    _, shape, index, ints = case
    st.verify_grad(lambda v: v[resolve(index, ints)], [rand(rng, shape)])


def test_basic_index_is_a_merged_view():
    x = T.matrix("x")
    a, b = x[1:3], x[1:3, :]
    assert isinstance(a.owner.op, Subtensor) and a.owner.op == b.owner.op
    assert Subtensor.view_map == {0: [0]}
    assert x[1].owner.op != x[2].owner.op
    # x[:] stays an indexing result, so that set_subtensor(x[:], v) means "all of x"
    assert isinstance(x[:].owner.op, Subtensor) and isinstance(x[...].owner.op, Subtensor)


def test_static_shapes_and_broadcastable_flags():
    x = TensorType("float64", shape=(5, 1, None))("x")
    assert x[1:3].type.shape == (2, 1, None)
    assert x[::-2, 0].type.shape == (3, None)
    assert x[:, :, 2:].type.shape == (5, 1, None)
    assert x[None, 1].type.shape == (1, 1, None)
    assert x[None, 1].broadcastable == (True, True, False)
    i = T.lscalar("i")
    assert x[i:].type.shape == (None, 1, None)


def test_rop_of_subtensor(rng):
    x, v = T.dmatrix("x"), T.dmatrix("v")
    r = st.Rop(x[1:, ::-1], x, v)
    vv = rng.normal(size=(3, 4))
    f = st.function([x, v], r, on_unused_input="ignore")
    np.testing.assert_allclose(f(rng.normal(size=(3, 4)), vv), vv[1:, ::-1])


# ------------------------------------------------------------------ errors

def test_too_many_indices():
    x = T.matrix("x")
    with pytest.raises(IndexError, match="too many indices"):
        x[1, 2, 3]
    with pytest.raises(IndexError, match="too many indices"):
        x[1, ..., 2, 3]
    with pytest.raises(IndexError, match="single ellipsis"):
        x[..., 1, ...]


@pytest.mark.parametrize("index", [1.0, (slice(None), 2.5), slice(1.0, 2), np.float64(1)],
                         ids=["float", "float_2nd", "float_slice", "np_float"])
def test_float_index_is_a_type_error(index):
    with pytest.raises(TypeError, match="must be an integer scalar"):
        T.matrix("x")[index]


def test_symbolic_float_index_is_a_type_error():
    x = T.matrix("x")
    with pytest.raises(TypeError, match="must be an integer scalar"):
        x[T.dscalar("f")]
    with pytest.raises(TypeError, match="must be an integer scalar"):
        x[:T.fscalar("f")]


def test_zero_step_is_rejected():
    with pytest.raises(ValueError, match="step cannot be zero"):
        T.matrix("x")[::0]


def test_constant_index_out_of_bounds_at_build_time():
    x = TensorType("float64", shape=(3, None))("x")
    with pytest.raises(IndexError, match="index 3 is out of bounds for axis 0 .* length 3"):
        x[3]
    with pytest.raises(IndexError, match="out of bounds"):
        x[-4]
    x[-3], x[2], x[:, 100:]  # in bounds, or slices (which clip)


def test_symbolic_index_out_of_bounds_at_run_time(rng):
    x, i = T.dmatrix("x"), T.lscalar("i")
    f = st.function([x, i], x[1, i])
    assert f(rng.normal(size=(3, 4)), -4).shape == ()
    with pytest.raises(IndexError, match=r"input shape \(3, 4\)"):
        f(rng.normal(size=(3, 4)), 4)


def test_setitem_on_a_symbolic_tensor_explains_the_alternative():
    x = T.matrix("x")
    with pytest.raises(TypeError, match="set_subtensor"):
        x[0] = 1


# ------------------------------------------------------------------ set_subtensor / inc_subtensor

# (id, x shape, index, value shape, symbolic ints)
SETITEM = [
    ("row", (3, 4), 1, (4,), ()),
    ("rows", (5, 4), slice(1, 3), (2, 4), ()),
    ("bcast_row", (5, 4), slice(1, 3), (4,), ()),
    ("bcast_col", (5, 4), slice(1, 3), (2, 1), ()),
    ("scalar_value", (5, 4), (slice(None), slice(None, None, -2)), (), ()),
    ("element", (3, 4), (1, 2), (), ()),
    ("neg", (3, 4), (-1, slice(1, None)), (3,), ()),
    ("sym", (3, 4), (S(0), slice(S(1), None)), (2,), (2, -2)),
    ("all", (3, 4), slice(None), (3, 4), ()),
    ("ellipsis", (2, 3, 4), (Ellipsis, 0), (2, 3), ()),
    ("newaxis", (3, 4), (None, 1), (1, 4), ()),
    ("newaxis_mid", (3, 4), (slice(None), None, 2), (3, 1), ()),
    ("whole_newaxis", (3, 4), None, (1, 3, 4), ()),
]
SETITEM_IDS = [c[0] for c in SETITEM]


def _ref_setitem(index, set_instead_of_inc):
    def ref(xv, yv, *ints):
        out = xv.copy()
        idx = resolve(index, ints)
        if set_instead_of_inc:
            out[idx] = yv
        else:
            out[idx] += yv
        return out
    return ref


@pytest.mark.parametrize("case", SETITEM, ids=SETITEM_IDS)
@pytest.mark.parametrize("set_instead_of_inc", [True, False], ids=["set", "inc"])
@pytest.mark.parametrize("dtype", ["float32", "float64", "int32"])
def test_set_inc_subtensor_matches_numpy(case, set_instead_of_inc, dtype, rng):
    _, shape, index, yshape, ints = case
    x = TensorType(dtype, (False,) * len(shape))("x")
    y = TensorType(dtype, [n == 1 for n in yshape])("y")
    syms = scalars(ints)
    fn = T.set_subtensor if set_instead_of_inc else T.inc_subtensor
    out = fn(x[resolve(index, syms)], y)
    assert out.type == x.type
    xv, yv = noncontiguous(rand(rng, shape, dtype)), rand(rng, yshape, dtype)
    check_numpy([x, y] + syms, out, _ref_setitem(index, set_instead_of_inc), [xv, yv] + list(ints))


@pytest.mark.parametrize("case", SETITEM, ids=SETITEM_IDS)
@pytest.mark.parametrize("set_instead_of_inc", [True, False], ids=["set", "inc"])
def test_set_inc_subtensor_grads(case, set_instead_of_inc, rng):
    _, shape, index, yshape, ints = case
    fn = T.set_subtensor if set_instead_of_inc else T.inc_subtensor
    bcast = [n == 1 for n in yshape]
    st.verify_grad(lambda a, b: fn(a[resolve(index, ints)], T.patternbroadcast(b, bcast)),
                   [rand(rng, shape), rand(rng, yshape)])


@pytest.mark.parametrize("case", SETITEM, ids=SETITEM_IDS)
def test_set_inc_subtensor_infer_shape(case, rng):
    _, shape, index, yshape, ints = case
    x = TensorType("float64", (False,) * len(shape))("x")
    y = TensorType("float64", [n == 1 for n in yshape])("y")
    syms = scalars(ints)
    out = T.inc_subtensor(x[resolve(index, syms)], y)
    check_infer_shape([x, y] + syms, out, [rand(rng, shape), rand(rng, yshape)] + list(ints))


def test_set_subtensor_of_a_transposed_slice(rng):
    x, y = T.dmatrix("x"), T.dmatrix("y")
    out = T.set_subtensor(x[1:3].T, y)
    xv, yv = rng.normal(size=(4, 3)), rng.normal(size=(3, 2))
    want = xv.copy()
    want[1:3] = yv.T
    np.testing.assert_allclose(st.function([x, y], out)(xv, yv), want)


def test_gradient_of_set_ignores_the_overwritten_part(rng):
    x = T.dvector("x")
    g = st.grad(T.set_subtensor(x[1:3], 0.0).sum(), x)
    np.testing.assert_array_equal(st.function([x], g)(rng.normal(size=5)), [1, 0, 0, 1, 1])


def test_value_dtype_is_cast_when_safe(rng):
    x = T.fmatrix("x")
    assert T.set_subtensor(x[0], T.bvector("b")).dtype == "float32"
    out = T.inc_subtensor(x[0], 0.1)  # a Python float literal fits any float tensor
    xv = rand(rng, (2, 3), "float32")
    np.testing.assert_allclose(st.function([x], out)(xv)[0], xv[0] + np.float32(0.1))
    assert T.set_subtensor(T.imatrix("i")[0], 3).dtype == "int32"
    assert T.set_subtensor(T.dmatrix("d")[0], T.ivector("v")).dtype == "float64"


@pytest.mark.parametrize("x, y", [
    (T.fmatrix("x"), T.dvector("y")),
    (T.imatrix("x"), T.fvector("y")),
    (T.bmatrix("x"), T.ivector("y")),
    (T.imatrix("x"), 1.5),
    (T.bmatrix("x"), 1000),
], ids=["f64_into_f32", "float_into_int", "int32_into_int8", "float_literal_into_int", "big_literal_into_int8"])
def test_value_dtype_loss_is_a_type_error(x, y):
    with pytest.raises(TypeError, match="without loss of precision"):
        T.set_subtensor(x[0], y)
    with pytest.raises(TypeError, match="without loss of precision"):
        T.inc_subtensor(x[1:], y)


@pytest.mark.parametrize("fn", [T.set_subtensor, T.inc_subtensor])
def test_first_argument_must_be_an_indexing_result(fn):
    x = T.matrix("x")
    with pytest.raises(TypeError, match="first argument must be the result of indexing"):
        fn(x, x)
    with pytest.raises(TypeError, match="first argument must be the result of indexing"):
        fn(x + 1, x)


def test_value_with_too_many_dimensions():
    x = T.matrix("x")
    with pytest.raises(TypeError, match="has 2 dimensions, more than the 1"):
        T.set_subtensor(x[0], T.matrix("y"))


def test_value_shape_checked_statically_and_at_run_time(rng):
    x = TensorType("float64", shape=(4, 3))("x")
    with pytest.raises(ValueError, match="cannot broadcast"):
        T.set_subtensor(x[1:3], TensorType("float64", shape=(3, 3))("y"))
    y = T.dmatrix("y")
    f = st.function([x, y], T.inc_subtensor(x[1:3], y))
    with pytest.raises(ValueError, match=r"x shape \(4, 3\), value shape \(3, 3\)"):
        f(rng.normal(size=(4, 3)), rng.normal(size=(3, 3)))


def test_only_broadcastable_value_axes_broadcast(rng):
    x = T.dmatrix("x")
    xv = rng.normal(size=(4, 3))
    y = T.dmatrix("y")
    f = st.function([x, y], T.inc_subtensor(x[1:3], y))
    with pytest.raises(ValueError, match="axis 1 of the value is not broadcastable"):
        f(xv, np.ones((2, 1)))
    g = st.function([x, y], T.inc_subtensor(x[1:3], T.addbroadcast(y, 1)))
    np.testing.assert_allclose(g(xv, np.ones((2, 1)))[1:3], xv[1:3] + 1)


def test_value_for_a_new_axis_must_have_length_one(rng):
    x, y = T.dmatrix("x"), T.dmatrix("y")
    f = st.function([x, y], T.set_subtensor(x[None, 1], y))
    np.testing.assert_allclose(f(np.zeros((3, 2)), np.ones((1, 2)))[1], [1, 1])
    with pytest.raises(ValueError, match="length 2"):
        f(np.zeros((3, 2)), np.ones((2, 2)))


def test_inc_subtensor_ops_and_props():
    x = T.matrix("x")
    out = T.inc_subtensor(x[1:], 1.0)
    assert isinstance(out.owner.op, IncSubtensor) and not out.owner.op.set_instead_of_inc
    assert str(out.owner.op) == "IncSubtensor{1:}"
    assert IncSubtensor((1,), inplace=True).destroy_map == {0: [0]}
    assert isinstance(x[None].owner.op, DimShuffle)
    assert isinstance(T.set_subtensor(x[None], T.tensor3("y")).owner.op, IncSubtensor)
