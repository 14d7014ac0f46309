"""Join / concatenate / stack / Split / horizontal_stack / vertical_stack against NumPy."""

import numpy as np
import pytest

import symtensor as st
import symtensor.tensor as T
from helpers import check_infer_shape, check_numpy, noncontiguous, rand
from symtensor.tensor.type import TensorType


def var(dtype, ndim, name=None):
    return TensorType(dtype, (False,) * ndim)(name)


# (shapes, axis)
JOIN_CASES = [
    ([(2, 3), (4, 3)], 0),
    ([(2, 3), (2, 1), (2, 5)], 1),
    ([(2, 3), (2, 4)], -1),
    ([(2, 3), (1, 3)], -2),
    ([(2, 3, 4), (2, 1, 4)], 1),
    ([(3,), (0,), (2,)], 0),
]


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32"])
@pytest.mark.parametrize("shapes,axis", JOIN_CASES)
@pytest.mark.parametrize("contiguous", [True, False])
def test_concatenate_matches_numpy(rng, dtype, shapes, axis, contiguous):
    xs = [var(dtype, len(s), f"x{i}") for i, s in enumerate(shapes)]
    values = [rand(rng, s, dtype) for s in shapes]
    if not contiguous:
        values = [noncontiguous(v) for v in values]
    out = T.concatenate(xs, axis=axis)
    assert out.dtype == dtype
    check_numpy(xs, out, lambda *v: np.concatenate(v, axis=axis), values)
    check_numpy(xs, T.join(axis, *xs), lambda *v: np.concatenate(v, axis=axis), values)


@pytest.mark.parametrize("dtypes,expected", [
    (("int8", "float32"), "float32"), (("int32", "float32"), "float64"), (("int8", "int16"), "int16"),
    (("float32", "float64"), "float64"), (("bool", "int8"), "int8"), (("uint8", "int8"), "int16"),
])
def test_join_upcasts_dtypes(rng, dtypes, expected):
    xs = [var(d, 1) for d in dtypes]
    out = T.join(0, *xs)
    assert out.dtype == expected
    values = [rand(rng, (3,), d, low=0, high=5) for d in dtypes]
    got = check_numpy(xs, out, lambda *v: np.concatenate(v).astype(expected), values)
    assert got.dtype == expected


@pytest.mark.parametrize("axis_value", [0, 1, -1, -2])
def test_join_symbolic_axis(rng, axis_value):
    x, y = T.matrices("x", "y")
    axis = T.iscalar("axis")
    out = T.join(axis, x, y)
    assert out.type.shape == (None, None)
    xv, yv = rand(rng, (2, 2)), rand(rng, (2, 2))
    got = st.function([x, y, axis], out)(xv, yv, axis_value)
    np.testing.assert_array_equal(got, np.concatenate([xv, yv], axis=axis_value))
    check_infer_shape([x, y, axis], out, [rand(rng, (2, 3)), rand(rng, (2, 3)), axis_value])


def test_join_static_shape():
    x = T.tensor("float64", shape=(2, 3))
    y = T.tensor("float64", shape=(None, 3))
    z = T.tensor("float64", shape=(4, None))
    assert T.join(0, x, x).type.shape == (4, 3)
    assert T.join(0, x, y).type.shape == (None, 3)
    assert T.join(0, x, z).type.shape == (6, 3)
    assert T.join(1, x, x).type.shape == (2, 6)
    one = T.tensor("float64", shape=(1, 3))
    assert T.join(1, one, one).broadcastable == (True, False)


def test_join_single_tensor_is_identity():
    x = T.matrix()
    assert T.join(0, x) is x
    assert T.concatenate([x], axis=1) is x
    with pytest.raises(IndexError, match="out of range"):
        T.join(2, x)


def test_join_errors(rng):
    x, y, v = T.matrix("x"), T.matrix("y"), T.vector("v")
    with pytest.raises(TypeError, match="same number of dimensions"):
        T.join(0, x, v)
    with pytest.raises(IndexError, match="axis 2 is out of range"):
        T.join(2, x, y)
    with pytest.raises(IndexError, match="axis -3 is out of range"):
        T.concatenate([x, y], axis=-3)
    with pytest.raises(TypeError, match="0-d"):
        T.join(0, T.scalar(), T.scalar())
    with pytest.raises(TypeError, match="list or tuple"):
        T.concatenate(x, y)
    with pytest.raises(TypeError, match="axis must be an integer"):
        T.join(0.5, x, y)
    with pytest.raises(TypeError, match="axis must be an integer scalar"):
        T.join(T.scalar(), x, y)
    a, b = T.tensor("float64", shape=(2, 3)), T.tensor("float64", shape=(2, 4))
    with pytest.raises(ValueError, match="same length on every axis but the join axis 0"):
        T.join(0, a, b)
    f = st.function([x, y], T.join(0, x, y))
    with pytest.raises(ValueError, match=r"join axis 0; got shapes \[\(2, 3\), \(2, 4\)\]"):
        f(rand(rng, (2, 3)), rand(rng, (2, 4)))


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_join_grad(rng, axis):
    st.verify_grad(lambda a, b, c: T.join(axis, a, b, c),
                   [rand(rng, (2, 3)), rand(rng, (2, 3)), rand(rng, (2, 3))], rng=rng)


def test_join_grad_symbolic_axis_and_int_input(rng):
    x = T.matrix("x")
    i = T.imatrix("i")
    axis = T.iscalar("axis")
    cost = (T.join(axis, x, i, x) * np.arange(1, 4)).sum()
    gx, gi = st.grad(cost, [x, i])
    f = st.function([x, i, axis], [gx, gi])
    gxv, giv = f(rand(rng, (3, 1)), np.ones((3, 1), dtype="int32"), 1)
    np.testing.assert_allclose(gxv, np.full((3, 1), 1.0 + 3.0))  # x is columns 0 and 2
    assert not giv.any()
    st.verify_grad(lambda a, b: T.join(T.constant(-1, dtype="int8"), a, b), [rand(rng, (2, 2)), rand(rng, (2, 1))])


def test_join_float32_grad_dtype(rng):
    x, y = T.fvector(), T.dvector()
    gx, gy = st.grad(T.join(0, x, y).sum(), [x, y])
    assert gx.dtype == "float32" and gy.dtype == "float64"


def test_join_infer_shape(rng):
    x, y = T.matrices("x", "y")
    check_infer_shape([x, y], [T.join(0, x, y), T.join(-1, x, y, x)], [rand(rng, (2, 3)), rand(rng, (2, 3))])


# ------------------------------------------------------------ stack

@pytest.mark.parametrize("axis", [0, 1, 2, -1, -3])
@pytest.mark.parametrize("dtype", ["float32", "int64"])
def test_stack_matches_numpy(rng, axis, dtype):
    xs = [var(dtype, 2, f"x{i}") for i in range(3)]
    values = [noncontiguous(rand(rng, (2, 3), dtype)) for _ in range(3)]
    out = T.stack(xs, axis=axis)
    assert out.ndim == 3 and out.dtype == dtype
    check_numpy(xs, out, lambda *v: np.stack(v, axis=axis), values)
    check_infer_shape(xs, out, values)


def test_stack_scalars_makes_vector():
    a, b = T.iscalar("a"), T.dscalar("b")
    out = T.stack([a, b, 2])
    assert isinstance(out.owner.op, T.MakeVector)
    assert out.dtype == "float64" and out.type.shape == (3,)
    np.testing.assert_array_equal(st.function([a, b], out)(1, 2.5), [1.0, 2.5, 2.0])
    # positional axis and axis=-1 both accepted
    assert T.stack([a, a], 0).type.shape == (2,)
    np.testing.assert_array_equal(st.function([a], T.stack([a, a], axis=-1))(4), [4, 4])


def test_stack_old_interface_warns():
    a, b = T.dscalars("a", "b")
    with pytest.warns(DeprecationWarning, match="stack"):
        out = T.stack(a, b)
    np.testing.assert_array_equal(st.function([a, b], out)(1.0, 2.0), [1.0, 2.0])


def test_stack_errors():
    x, v = T.matrix(), T.vector()
    with pytest.raises(TypeError, match="same number of dimensions"):
        T.stack([x, v])
    with pytest.raises(IndexError, match="axis 3 is out of range"):
        T.stack([x, x], axis=3)
    with pytest.raises(ValueError, match="at least one"):
        T.stack([])
    with pytest.raises(TypeError, match="unexpected keyword"):
        T.stack([x, x], axes=1)


def test_stack_grad(rng):
    st.verify_grad(lambda a, b: T.stack([a, b], axis=1), [rand(rng, (2, 3)), rand(rng, (2, 3))], rng=rng)
    st.verify_grad(lambda a, b: T.stack([a.sum(), b[0], a[1]]), [rand(rng, (2,)), rand(rng, (2,))], rng=rng)


def test_as_tensor_variable_stacks_lists_of_variables(rng):
    x, y = T.vectors("x", "y")
    s = T.dscalar("s")
    m = T.as_tensor_variable([x, y])
    assert m.ndim == 2
    xv, yv = rand(rng, (3,)), rand(rng, (3,))
    np.testing.assert_array_equal(st.function([x, y], m)(xv, yv), np.stack([xv, yv]))
    v = T.as_tensor_variable([s, 1.5, s])
    assert v.type.shape == (3,) and v.dtype == "float64"
    nested = T.as_tensor_variable([[s, 1], [2, s]])
    np.testing.assert_array_equal(st.function([s], nested)(3.0), [[3.0, 1.0], [2.0, 3.0]])


# ------------------------------------------------------------ split

@pytest.mark.parametrize("shape,splits,axis", [
    ((6, 2), [1, 2, 3], 0), ((2, 5), [2, 3], 1), ((2, 5), [5, 0], -1), ((3, 2, 4), [1, 1, 1], 0), ((4,), [4], 0),
])
@pytest.mark.parametrize("dtype", ["float32", "float64", "int8"])
def test_split_matches_numpy(rng, shape, splits, axis, dtype):
    x = var(dtype, len(shape), "x")
    outs = T.split(x, splits, len(splits), axis=axis)
    assert isinstance(outs, list) and len(outs) == len(splits)
    value = noncontiguous(rand(rng, shape, dtype))
    got = st.function([x], outs)(value)
    want = np.split(value, np.cumsum(splits)[:-1], axis=axis)
    for g, w in zip(got, want):
        assert g.dtype == dtype
        np.testing.assert_array_equal(g, w)
    assert not any(np.shares_memory(g, value) for g in got)
    check_infer_shape([x], outs, [value])


def test_split_symbolic_sizes_and_axis(rng):
    x = T.matrix("x")
    sizes = T.ivector("sizes")
    axis = T.iscalar("axis")
    outs = T.split(x, sizes, 2, axis=axis)
    xv = rand(rng, (3, 4))
    a, b = st.function([x, sizes, axis], outs)(xv, np.array([1, 3], dtype="int32"), -1)
    np.testing.assert_array_equal(a, xv[:, :1])
    np.testing.assert_array_equal(b, xv[:, 1:])
    check_infer_shape([x, sizes, axis], outs, [xv, np.array([2, 1], dtype="int32"), 0])


def test_split_static_shape():
    x = T.tensor("float64", shape=(5, 3))
    a, b = T.split(x, [2, 3], 2, axis=0)
    assert a.type.shape == (2, 3) and b.type.shape == (3, 3)


def test_split_errors(rng):
    x = T.matrix("x")
    with pytest.raises(TypeError, match="vector of integers"):
        T.split(x, [1.5, 2.5], 2)
    with pytest.raises(ValueError, match="expected 3 split lengths, got 2"):
        T.split(x, [1, 2], 3)
    with pytest.raises(TypeError, match="cannot split 0-d"):
        T.split(T.scalar(), [1], 1)
    with pytest.raises(ValueError, match="add up to 5"):
        T.split(T.tensor("float64", shape=(4, 2)), [2, 3], 2)
    with pytest.raises(ValueError, match=">= 1"):
        T.split(x, [], 0)
    f = st.function([x], T.split(x, [1, 1], 2, axis=1))
    with pytest.raises(ValueError, match=r"add up to 2, but axis 1 of the input \(shape \(2, 3\)\)"):
        f(rand(rng, (2, 3)))
    sizes = T.ivector()
    g = st.function([x, sizes], T.split(x, sizes, 2))
    with pytest.raises(ValueError, match="expected 2 split lengths, got 3"):
        g(rand(rng, (3, 3)), np.array([1, 1, 1], dtype="int32"))
    with pytest.raises(ValueError, match=">= 0"):
        g(rand(rng, (3, 3)), np.array([4, -1], dtype="int32"))


def test_split_grad(rng):
    st.verify_grad(lambda x: T.split(x, [1, 2, 1], 3, axis=1)[1], [rand(rng, (2, 4))], rng=rng)
    st.verify_grad(lambda x: sum(p.sum() * (k + 1) for k, p in enumerate(T.split(x, [2, 1], 2, axis=0))),
                   [rand(rng, (3, 2))], rng=rng)


# ------------------------------------------------------------ horizontal / vertical stack

def test_horizontal_and_vertical_stack(rng):
    a, b = T.matrices("a", "b")
    av, bv = rand(rng, (2, 3)), rand(rng, (2, 3))
    check_numpy([a, b], T.horizontal_stack(a, b), lambda x, y: np.hstack([x, y]), [av, bv])
    check_numpy([a, b], T.vertical_stack(a, b, a), lambda x, y: np.vstack([x, y, x]), [av, bv])
    with pytest.raises(TypeError, match="only matrices"):
        T.horizontal_stack(a, T.vector())
    with pytest.raises(TypeError, match="at least two"):
        T.vertical_stack(a)
