"""TensorType: filter (value checking and safe conversion), identity, and dtype upcasting rules."""

import numpy as np
import pytest

import symtensor as st
import symtensor.tensor as T
from symtensor.scalar.basic import autocast_dtype, upcast, upgrade_to_float_dtype
from symtensor.tensor.type import TensorType

# ------------------------------------------------------------------ filter


def test_filter_exact_dtype_passes_through():
    t = TensorType("float64", (False, False))
    v = np.ones((2, 3))
    assert t.filter(v) is v
    assert t.filter(v, strict=True) is v


def test_filter_strict_rejects_anything_else():
    t = TensorType("float32", (False,))
    with pytest.raises(TypeError, match="dtype float32"):
        t.filter(np.ones(3), strict=True)
    with pytest.raises(TypeError, match="float32"):
        t.filter([1.0, 2.0], strict=True)


@pytest.mark.parametrize("src,dst", [("int8", "int32"), ("int32", "int64"), ("int16", "float32"),
                                     ("float32", "float64"), ("uint8", "int16"), ("bool", "int8")])
def test_filter_safe_upcast_of_arrays(src, dst):
    v = np.arange(4).astype(src)
    got = TensorType(dst, (False,)).filter(v)
    assert got.dtype == dst
    np.testing.assert_array_equal(got, v)


@pytest.mark.parametrize("src,dst", [("float64", "float32"), ("int64", "int32"), ("float32", "int32"),
                                     ("int32", "float32"), ("int16", "int8"), ("uint8", "int8")])
def test_filter_rejects_lossy_array_downcast(src, dst):
    v = np.arange(4).astype(src)
    with pytest.raises(TypeError, match="without loss|cannot convert"):
        TensorType(dst, (False,)).filter(v)


def test_filter_allow_downcast():
    v = np.array([1.1, 2.6])
    got = TensorType("float32", (False,)).filter(v, allow_downcast=True)
    assert got.dtype == "float32"
    np.testing.assert_allclose(got, v, rtol=1e-6)
    got = TensorType("int32", (False,)).filter(v, allow_downcast=True)
    np.testing.assert_array_equal(got, [1, 2])


def test_filter_python_values():
    assert TensorType("int32", (False,)).filter([1, 2, 3]).dtype == "int32"
    assert TensorType("int8", ()).filter(5).dtype == "int8"
    with pytest.raises(TypeError):
        TensorType("int8", ()).filter(300)
    # a Python float may become floatX ...
    with st.config.change_flags(floatX="float32"):
        assert TensorType("float32", ()).filter(1.1).dtype == "float32"
    with st.config.change_flags(floatX="float64"):
        assert TensorType("float32", ()).filter(1.5) == np.float32(1.5)
        # a Python float never silently becomes an integer
        with pytest.raises(TypeError):
            TensorType("int32", ()).filter(1.5)
    with pytest.raises(TypeError):
        TensorType("int32", (False,)).filter([1.5, 2.0])


def test_filter_numpy_scalar():
    got = TensorType("float32", ()).filter(np.float32(2.5))
    assert isinstance(got, np.ndarray) and got.dtype == "float32" and got.shape == ()


def test_filter_checks_ndim_and_broadcastable_dims():
    t = TensorType("float64", (True, False))
    assert t.filter(np.ones((1, 5))).shape == (1, 5)
    with pytest.raises(TypeError, match="2-d"):
        t.filter(np.ones(5))
    with pytest.raises(TypeError, match="broadcastable"):
        t.filter(np.ones((2, 5)))
    s = TensorType("float64", shape=(None, 3))
    with pytest.raises(TypeError, match="length 3"):
        s.filter(np.ones((2, 4)))


def test_filter_rejects_objects():
    with pytest.raises(TypeError):
        TensorType("float64", (False,)).filter([object(), object()])


def test_function_inputs_use_filter():
    x = T.fvector()
    f = st.function([x], x * 2)
    with pytest.raises(TypeError):
        f(np.ones(3))  # float64 -> float32 loses precision
    np.testing.assert_array_equal(f([1.0, 2.0]), [2.0, 4.0])
    g = st.function([x], x * 2, allow_input_downcast=True)
    assert g(np.ones(3)).dtype == "float32"


# ------------------------------------------------------------------ identity and helpers

def test_type_equality_hash_and_str():
    a = TensorType("float64", (False, True))
    b = TensorType("float64", shape=(None, 1))
    assert a == b and hash(a) == hash(b)
    assert a != TensorType("float32", (False, True))
    assert a != TensorType("float64", (False, False))
    assert TensorType("float64", shape=(2, None)) != TensorType("float64", (False, False))
    assert "float64" in str(T.dmatrix().type) and "matrix" in str(T.dmatrix().type)
    assert TensorType("floatX", (False,)).dtype == st.config.floatX


def test_type_constructor_errors():
    with pytest.raises(TypeError, match="unsupported dtype"):
        TensorType("str", (False,))
    with pytest.raises(TypeError, match="broadcastable"):
        TensorType("float64")


def test_is_super_and_convert_variable():
    loose = TensorType("float64", (False, False))
    tight = TensorType("float64", shape=(2, 3))
    assert loose.is_super(tight) and not tight.is_super(loose)
    v = tight()
    assert loose.convert_variable(v) is v
    assert tight.convert_variable(loose()) is None
    assert not loose.is_super(TensorType("float32", (False, False)))


def test_values_eq_approx():
    t = TensorType("float64", (False,))
    assert t.values_eq_approx(np.array([1.0, np.nan]), np.array([1.0 + 1e-12, np.nan]))
    assert not t.values_eq_approx(np.array([1.0]), np.array([1.1]))
    assert not t.values_eq_approx(np.ones(2), np.ones(3))
    assert t.values_eq(np.ones(2), np.ones(2))


def test_constructors_dtypes_and_patterns():
    assert T.fmatrix().dtype == "float32"
    assert T.bvector().dtype == "int8"
    assert T.lscalar().dtype == "int64"
    assert T.row().broadcastable == (True, False)
    assert T.col().broadcastable == (False, True)
    assert T.tensor3().ndim == 3
    with st.config.change_flags(floatX="float32"):
        assert T.matrix().dtype == "float32"


# ------------------------------------------------------------------ upcasting

@pytest.mark.parametrize("dtypes,want", [
    (("int8", "float32"), "float32"),
    (("int16", "float32"), "float32"),
    (("int32", "float32"), "float64"),
    (("int64", "float32"), "float64"),
    (("uint8", "int8"), "int16"),
    (("bool", "int8"), "int8"),
    (("float32", "float64"), "float64"),
    (("float32", "complex64"), "complex64"),
    (("float64", "complex64"), "complex128"),
    (("int8", "int8", "int32"), "int32"),
])
def test_upcast(dtypes, want):
    assert upcast(*dtypes) == want
    ins = [T.TensorType(d, (False,))() for d in dtypes]
    assert T.add(*ins).dtype == want


@pytest.mark.parametrize("dtype,want", [
    ("bool", "float32"), ("int8", "float32"), ("uint8", "float32"), ("int16", "float32"),
    ("int32", "float64"), ("int64", "float64"), ("uint32", "float64"), ("float32", "float32"),
    ("float64", "float64"), ("complex64", "complex64"),
])
def test_upgrade_to_float(dtype, want):
    assert upgrade_to_float_dtype(dtype) == want
    assert T.sqrt(T.TensorType(dtype, (False,))()).dtype == want


@pytest.mark.parametrize("value,floatX,want", [
    (1, "float64", "int8"), (-129, "float64", "int16"), (2 ** 31, "float64", "int64"),
    (True, "float64", "bool"), (1.5, "float64", "float32"), (1.1, "float64", "float64"),
    (1.1, "float32", "float32"), (float("inf"), "float64", "float32"), (1e300, "float64", "float64"),
    (1 + 2j, "float64", "complex128"), (np.float64(1.5), "float64", "float64"),
    (np.int32(1), "float64", "int32"),
])
def test_autocast_dtype(value, floatX, want):
    with st.config.change_flags(floatX=floatX):
        assert autocast_dtype(value) == want
        assert T.constant(value).dtype == want


def test_numpy_scalars_keep_their_dtype_in_expressions():
    x = T.fvector()
    assert (x * np.float64(2.0)).dtype == "float64"
    assert (x * np.float32(1.1)).dtype == "float32"
    assert (T.bvector() + np.int64(1)).dtype == "int64"


def test_plural_constructors_follow_theano():
    """Theano's scalars/vectors/...: a count, several names, or one string naming one variable per character."""
    x, y, z = T.dscalars("xyz")
    assert [v.name for v in (x, y, z)] == ["x", "y", "z"] and x.type == T.dscalar
    single = T.dvectors("w")
    assert single.name == "w" and single.type == T.dvector
    assert [v.name for v in T.matrices("a", "b")] == ["a", "b"]
    unnamed = T.fvectors(3)
    assert len(unnamed) == 3 and all(v.name is None and v.dtype == "float32" for v in unnamed)
    assert [v.name for v in T.iscalars("w1, w2")] == ["w1", "w2"]
