"""Shared variables: construction, get_value/set_value borrow semantics, type checks, use in functions."""

import numpy as np
import pytest

import symtensor as st
import symtensor.tensor as T


@pytest.mark.parametrize("value, dtype, ndim", [
    (np.zeros((2, 3), dtype="float32"), "float32", 2),
    (np.arange(4), "int64", 1),
    (3, "int64", 0),
    (1.5, "float64", 0),
    (np.float32(2.0), "float32", 0),
    (np.array([True, False]), "bool", 1),
])
def test_shared_type_follows_value(value, dtype, ndim):
    s = st.shared(value, name="s")
    assert s.type.dtype == dtype and s.type.ndim == ndim
    assert s.name == "s" and str(s) == "s"
    assert not any(s.type.broadcastable)
    np.testing.assert_array_equal(s.get_value(), value)


def test_broadcastable_and_unsupported_values():
    b = st.shared(np.zeros((1, 3)), broadcastable=(True, False))
    assert b.type.broadcastable == (True, False)
    with pytest.raises(TypeError, match="no shared variable type for a value of type list"):
        st.shared([1, 2])
    with pytest.raises(TypeError, match="concrete value, not the symbolic variable"):
        st.shared(T.dvector("x"))
    with pytest.raises(AttributeError, match="get_value"):
        b.value  # noqa: B018 - the attribute access is the test


def test_construction_copies_unless_borrowed():
    value = np.zeros(3)
    copied = st.shared(value)
    borrowed = st.shared(value, borrow=True)
    value[0] = 7.0
    assert copied.get_value()[0] == 0.0
    assert borrowed.get_value()[0] == 7.0


def test_get_value_copies_unless_borrowed():
    s = st.shared(np.zeros(3))
    got = s.get_value()
    got[0] = 5.0
    assert s.get_value()[0] == 0.0
    internal = s.get_value(borrow=True)
    assert internal is s.get_value(borrow=True)
    internal[1] = 6.0
    assert s.get_value()[1] == 6.0


def test_set_value_copies_unless_borrowed():
    s = st.shared(np.zeros(3))
    new = np.ones(3)
    s.set_value(new)
    new[0] = 9.0
    assert s.get_value()[0] == 1.0
    s.set_value(new, borrow=True)
    new[1] = 8.0
    assert s.get_value()[1] == 8.0


@pytest.mark.parametrize("shared_dtype, value, pattern", [
    ("float64", np.zeros((2, 2)), r"type TensorType\(float64, vector\): expected a 1-d array"),
    ("float32", np.zeros(3), r"cannot convert a float64 value to float32.*allow_downcast=True"),
    ("int32", np.zeros(3, dtype="int64"), "int64 value to int32"),
    ("int32", np.zeros(3), "float64 value to int32"),
])
def test_set_value_of_wrong_ndim_or_dtype_raises(shared_dtype, value, pattern):
    s = st.shared(np.zeros(3, dtype=shared_dtype), name="svar")
    before = s.get_value()
    with pytest.raises(TypeError, match="shared variable svar.*" + pattern):
        s.set_value(value)
    np.testing.assert_array_equal(s.get_value(), before)
    assert s.get_value().dtype == shared_dtype


def test_set_value_upcasts_and_allow_downcast_and_strict():
    s = st.shared(np.zeros(3))
    s.set_value(np.ones(3, dtype="float32"))  # float32 -> float64 loses nothing
    assert s.get_value().dtype == np.float64
    lossy = st.shared(np.zeros(3, dtype="float32"), allow_downcast=True)
    lossy.set_value(np.full(3, 0.1))
    assert lossy.get_value().dtype == np.float32
    strict = st.shared(np.zeros(3), strict=True)
    with pytest.raises(TypeError, match="expected an ndarray of dtype float64"):
        strict.set_value(np.zeros(3, dtype="float32"))


def test_static_shape_is_checked_on_set_value():
    s = st.shared(np.zeros((1, 3)), broadcastable=(True, False), name="row")
    with pytest.raises(TypeError, match="dimension 0 must be broadcastable"):
        s.set_value(np.zeros((2, 3)))


def test_functions_see_set_value_and_updates_reach_get_value():
    s = st.shared(np.zeros(2), name="s")
    x = T.dvector("x")
    f = st.function([x], s + x)
    s.set_value(np.array([1.0, 2.0]))
    np.testing.assert_array_equal(f(np.ones(2)), [2.0, 3.0])
    inc = st.function([x], [], updates=[(s, s + x)])
    inc(np.ones(2))
    np.testing.assert_array_equal(s.get_value(), [2.0, 3.0])


def test_clone_shares_the_container_and_zero():
    s = st.shared(np.ones(3), name="s")
    c = s.clone()
    assert c is not s and c.container is s.container
    s.zero()
    np.testing.assert_array_equal(c.get_value(), np.zeros(3))


def test_shared_variables_are_implicit_inputs_and_record_their_creation_site():
    s = st.shared(np.ones(2), name="s")
    assert any(frame[0].endswith("test_shared.py") for frame in s.tag.trace)
    f = st.function([], s * 3)
    assert f.get_shared() == [s]
    np.testing.assert_array_equal(f(), [3.0, 3.0])
