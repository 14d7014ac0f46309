"""sort / argsort (and sort's gradient) against NumPy."""

import numpy as np
import pytest

import symtensor as st
import symtensor.tensor as T
from helpers import check_infer_shape, check_numpy, noncontiguous, rand
from symtensor.tensor.type import TensorType


def var(dtype, ndim, name=None):
    return TensorType(dtype, (False,) * ndim)(name)


def distinct(rng, shape, dtype="float64"):
    """Values without ties, so that argsort (and sort's gradient) is unambiguous."""
    size = int(np.prod(shape))
    return (rng.permutation(size).reshape(shape) - size // 2).astype(dtype)


CASES = [((5,), -1), ((5,), 0), ((3, 4), -1), ((3, 4), 0), ((3, 4), 1), ((3, 4), -2), ((3, 4), None),
         ((2, 3, 4), 1), ((2, 3, 4), None)]


@pytest.mark.parametrize("shape,axis", CASES)
@pytest.mark.parametrize("dtype", ["float32", "float64", "int8", "int64"])
def test_sort_and_argsort_match_numpy(rng, shape, axis, dtype):
    x = var(dtype, len(shape), "x")
    value = noncontiguous(distinct(rng, shape, dtype))
    s, a = T.sort(x, axis=axis), T.argsort(x, axis=axis)
    assert s.dtype == dtype and a.dtype == "int64"
    got = check_numpy([x], s, lambda v: np.sort(v, axis=axis), [value])
    assert got.dtype == dtype
    check_numpy([x], a, lambda v: np.argsort(v, axis=axis), [value])
    check_infer_shape([x], [s, a], [value])


@pytest.mark.parametrize("kind", ["quicksort", "mergesort", "heapsort", "stable"])
def test_kinds_and_methods(rng, kind):
    x = T.matrix("x")
    value = rand(rng, (4, 3))
    value[1, 0] = value[2, 0]  # a tie: every kind must still sort correctly
    check_numpy([x], x.sort(axis=0, kind=kind), lambda v: np.sort(v, axis=0, kind=kind), [value])
    check_numpy([x], x.argsort(axis=1, kind="stable"), lambda v: np.argsort(v, axis=1, kind="stable"), [value])
    assert x.sort(kind=kind).owner.op == T.SortOp(kind)


def test_sort_with_nan(rng):
    x = T.vector("x")
    value = np.array([3.0, np.nan, -1.0, 2.0])
    check_numpy([x], T.sort(x), np.sort, [value])
    check_numpy([x], T.argsort(x), np.argsort, [value])


@pytest.mark.parametrize("axis_value", [0, 1, -1])
def test_symbolic_axis(rng, axis_value):
    x = T.matrix("x")
    axis = T.iscalar("axis")
    value = distinct(rng, (3, 4))
    check_numpy([x, axis], T.sort(x, axis=axis), lambda v, a: np.sort(v, axis=a), [value, axis_value])
    check_numpy([x, axis], T.argsort(x, axis=axis), lambda v, a: np.argsort(v, axis=a), [value, axis_value])
    check_infer_shape([x, axis], T.sort(x, axis), [value, axis_value])
    st.verify_grad(lambda v: T.sort(v, axis=T.constant(axis_value, dtype="int32")), [value / 7.0], rng=rng)
    with pytest.raises(IndexError, match="axis 2 is out of range"):
        st.function([x, axis], T.sort(x, axis=axis))(value, 2)


@pytest.mark.parametrize("shape,axis", CASES)
def test_sort_grad(rng, shape, axis):
    st.verify_grad(lambda v: T.sort(v, axis=axis), [distinct(rng, shape) / 3.0], rng=rng)


def test_sort_grad_values(rng):
    x = T.vector("x")
    w = np.array([1.0, 10.0, 100.0])
    g = st.grad((T.sort(x) * w).sum(), x)
    # x = [5, -1, 2]: sorted = [-1, 2, 5], so x[1] gets weight 1, x[2] 10, x[0] 100
    np.testing.assert_array_equal(st.function([x], g)(np.array([5.0, -1.0, 2.0])), [100.0, 1.0, 10.0])
    st.verify_grad(lambda v: T.sort(v, axis=0) ** 2 + T.sort(v, axis=1), [distinct(rng, (3, 3)) / 5.0], rng=rng)


def test_int_sort_grad_is_zero():
    i = T.ivector("i")
    s = T.dscalar("s")
    g = st.grad((T.sort(i) * s).sum(), i, disconnected_inputs="ignore")
    assert g.dtype == st.config.floatX


def test_argsort_is_not_differentiable():
    x = T.vector("x")
    with pytest.raises(Exception, match="does not depend on x"):
        st.grad(T.argsort(x).sum() * 1.0, x)


def test_errors():
    x = T.matrix()
    with pytest.raises(ValueError, match="kind must be one of"):
        T.sort(x, kind="bubble")
    with pytest.raises(ValueError, match="structured"):
        T.argsort(x, order=["a"])
    with pytest.raises(IndexError, match="axis 2 is out of range"):
        T.sort(x, axis=2)
    with pytest.raises(IndexError, match="axis -3 is out of range"):
        T.argsort(x, axis=-3)
    with pytest.raises(ValueError, match="0-d"):
        T.sort(T.scalar())
    with pytest.raises(TypeError, match="complex"):
        T.sort(T.zvector())
    with pytest.raises(TypeError, match="axis must be an integer"):
        T.sort(x, axis=1.0)
    # a 0-d tensor may be sorted with axis=None (it is flattened first)
    s = T.dscalar()
    np.testing.assert_array_equal(st.function([s], T.sort(s, axis=None))(2.0), [2.0])
