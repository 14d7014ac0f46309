"""shape, shape_i, reshape (with -1), flatten, specify_shape, squeeze and symbolic_shape."""

import numpy as np
import pytest

import symtensor as st
import symtensor.tensor as T
from helpers import check_infer_shape, check_numpy, noncontiguous, rand
from symtensor.tensor.shape import symbolic_shape
from symtensor.tensor.type import TensorType


def var(dtype, ndim, name=None):
    return TensorType(dtype, (False,) * ndim)(name)


def test_shape_and_shape_i(rng):
    x = T.tensor3("x")
    value = rand(rng, (2, 3, 4))
    got = st.function([x], x.shape)(value)
    assert got.dtype == "int64"
    np.testing.assert_array_equal(got, [2, 3, 4])
    assert x.shape.type.shape == (3,)
    for i in range(3):
        assert st.function([x], T.shape_i(x, i))(value) == value.shape[i]
    s = T.dscalar("s")
    empty = st.function([s], T.shape(s))(2.0)
    assert empty.shape == (0,) and empty.dtype == "int64"
    check_infer_shape([x], [x.shape, T.shape_i(x, 1)], [value])
    with pytest.raises(ValueError, match="axis 3 out of range"):
        T.shape_i(x, 3)
    known = T.shape_i(T.tensor("float64", shape=(5, None)), 0)
    assert known.owner.op.static_value(known.owner) == 5


# (input shape, new shape)
RESHAPE_CASES = [
    ((2, 3), (3, 2)), ((2, 3), (-1,)), ((2, 3), (6, 1)), ((2, 3, 4), (4, -1)), ((2, 3, 4), (-1, 2, 3)),
    ((6,), (1, 2, 1, 3)), ((1,), ()), ((0, 3), (-1, 6)), ((2, 3), [3, -1]),
]


@pytest.mark.parametrize("shape,newshape", RESHAPE_CASES)
@pytest.mark.parametrize("dtype", ["float32", "int8"])
def test_reshape_matches_numpy(rng, shape, newshape, dtype):
    x = var(dtype, len(shape), "x")
    out = x.reshape(newshape)
    assert out.ndim == len(newshape) and out.dtype == dtype
    value = noncontiguous(rand(rng, shape, dtype))
    check_numpy([x], out, lambda v: v.reshape(newshape), [value])
    check_infer_shape([x], out, [value])


@pytest.mark.parametrize("shape,newshape", RESHAPE_CASES[:6])
def test_reshape_grad(rng, shape, newshape):
    st.verify_grad(lambda v: T.reshape(v, newshape), [rand(rng, shape)], rng=rng)


def test_reshape_symbolic_shapes(rng):
    x = T.matrix("x")
    n = T.lscalar("n")
    shp = T.lvector("shp")
    xv = rand(rng, (4, 3))
    check_numpy([x, n], x.reshape((n, -1)), lambda v, k: v.reshape(k, -1), [xv, 2])
    check_numpy([x, n], x.reshape(n, 6), lambda v, k: v.reshape(k, 6), [xv, 2])
    out = T.reshape(x, shp, ndim=3)
    check_numpy([x, shp], out, lambda v, s: v.reshape(s), [xv, np.array([2, -1, 3])])
    check_infer_shape([x, shp], out, [xv, np.array([3, 2, -1])])
    other = T.tensor3("other")
    check_numpy([x, other], x.reshape(other.shape), lambda v, o: v.reshape(o.shape), [xv, np.zeros((2, 2, 3))])


def test_reshape_static_shapes():
    x = T.tensor("float64", shape=(2, 6))
    assert x.reshape((3, -1)).type.shape == (3, 4)
    assert x.reshape((-1,)).type.shape == (12,)
    assert x.reshape((12, 1)).broadcastable == (False, True)
    assert T.matrix().reshape((2, -1)).type.shape == (2, None)
    n = T.lscalar()
    assert x.reshape((n, -1)).type.shape == (None, None)


def test_reshape_errors(rng):
    x = T.matrix("x")
    with pytest.raises(ValueError, match="at most one length may be -1"):
        x.reshape((-1, -1))
    with pytest.raises(ValueError, match="negative length"):
        x.reshape((-2, 3))
    with pytest.raises(ValueError, match="cannot reshape .* static shape"):
        T.tensor("float64", shape=(2, 3)).reshape((4, 2))
    with pytest.raises(ValueError, match="cannot reshape .* static shape"):
        T.tensor("float64", shape=(2, 3)).reshape((4, -1))
    with pytest.raises(ValueError, match="pass ndim"):
        x.reshape(T.lvector())
    with pytest.raises(TypeError, match="must be integers"):
        x.reshape(T.dvector(), ndim=2)
    with pytest.raises(ValueError, match="has 2 entries, expected 3"):
        T.reshape(x, T.lvector().reshape((2,)), ndim=3)
    f = st.function([x], x.reshape((4, -1)))
    with pytest.raises(ValueError, match=r"cannot reshape an array of shape \(3, 3\)"):
        f(rand(rng, (3, 3)))


@pytest.mark.parametrize("shape,ndim", [((2, 3, 4), 1), ((2, 3, 4), 2), ((2, 3, 4), 3), ((5,), 1), ((2, 0, 3), 2)])
def test_flatten(rng, shape, ndim):
    x = var("float64", len(shape), "x")
    out = T.flatten(x, ndim)
    assert out.ndim == ndim
    value = noncontiguous(rand(rng, shape))
    check_numpy([x], out, lambda v: v.reshape(v.shape[:ndim - 1] + (-1,)), [value])
    check_infer_shape([x], out, [value])
    assert x.flatten(ndim).ndim == ndim and x.flatten(outdim=ndim).ndim == ndim
    if value.size:
        st.verify_grad(lambda v: T.flatten(v, ndim), [rand(rng, shape)], rng=rng)


def test_flatten_errors_and_scalars():
    x = T.matrix()
    with pytest.raises(ValueError, match="ndim must be between 1 and 2"):
        T.flatten(x, 3)
    with pytest.raises(ValueError, match="ndim must be between 1 and 2"):
        T.flatten(x, 0)
    s = T.dscalar()
    np.testing.assert_array_equal(st.function([s], s.flatten())(3.0), [3.0])
    assert T.flatten(T.tensor("float64", shape=(2, 3, 4)), 2).type.shape == (2, 12)


def test_specify_shape(rng):
    x = T.matrix("x")
    y = T.specify_shape(x, (2, None))
    assert y.type.shape == (2, None)
    value = rand(rng, (2, 5))
    np.testing.assert_array_equal(st.function([x], y)(value), value)
    with pytest.raises(ValueError, match=r"expected shape \(2, None\), got \(3, 5\)"):
        st.function([x], y)(rand(rng, (3, 5)))
    with pytest.raises(ValueError, match="has 2 dims, got a shape of length 3"):
        T.specify_shape(x, (1, 2, 3))
    check_infer_shape([x], y, [value])
    st.verify_grad(lambda v: T.specify_shape(v, (2, 3)) * 2, [rand(rng, (2, 3))], rng=rng)
    assert T.specify_shape(x, (2, 3)).reshape((-1,)).type.shape == (6,)


def test_squeeze(rng):
    x = TensorType("float64", (False, True, False, True))("x")
    value = rand(rng, (2, 1, 3, 1))
    check_numpy([x], T.squeeze(x), np.squeeze, [value])
    assert T.squeeze(x).ndim == 2 and x.squeeze().ndim == 2
    check_numpy([x], T.squeeze(x, axis=1), lambda v: np.squeeze(v, axis=1), [value])
    check_numpy([x], T.squeeze(x, axis=-1), lambda v: np.squeeze(v, axis=-1), [value])
    m = T.matrix("m")
    out = T.squeeze(m, axis=0)  # not known to be 1: checked at run time
    np.testing.assert_array_equal(st.function([m], out)(np.ones((1, 3))), np.ones(3))
    with pytest.raises(ValueError, match="axis 0 was declared broadcastable but has length 2"):
        st.function([m], out)(np.ones((2, 3)))
    with pytest.raises(ValueError, match="axis 4 is out of range"):
        T.squeeze(x, axis=4)
    st.verify_grad(lambda v: T.squeeze(T.addbroadcast(v, 1)), [rand(rng, (2, 1))], rng=rng)
    check_infer_shape([x], T.squeeze(x, axis=(1, 3)), [value])


def test_symbolic_shape(rng):
    x = T.matrix("x")
    y = T.vector("y")
    out = (T.dot(x, y) + 1).reshape((-1, 1)) * T.ones((1, 3))
    shp = symbolic_shape(out)
    assert len(shp) == 2 and all(s.dtype == "int64" and s.ndim == 0 for s in shp)
    f = st.function([x, y], list(shp), on_unused_input="ignore")
    assert [int(v) for v in f(rand(rng, (4, 2)), rand(rng, (2,)))] == [4, 3]
    c = T.constant(np.zeros((2, 5)))
    assert [int(s.data) for s in symbolic_shape(c)] == [2, 5]
    static = T.tensor("float64", shape=(7, None))
    first, second = symbolic_shape(static)
    assert first.data == 7 and second.owner is not None
