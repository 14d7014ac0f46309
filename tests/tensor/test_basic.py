"""as_tensor_variable, constant, cast, alloc, fill, zeros/ones(_like), patternbroadcast, MakeVector."""

import numpy as np
import pytest

import symtensor as st
import symtensor.tensor as T
import symtensor.tensor.basic as tb
from helpers import check_infer_shape, check_numpy, noncontiguous, rand
from symtensor.tensor.type import TensorType


# ------------------------------------------------------------ as_tensor_variable / constant

@pytest.mark.parametrize("value,dtype,shape", [
    (1, "int8", ()), (300, "int16", ()), (2 ** 40, "int64", ()), (True, "bool", ()), (1.5, "float32", ()),
    (0.1, "float64", ()), ([1, 2], "int64", (2,)), ([], "float64", (0,)), ([[1.5], [2.0]], "float32", (2, 1)),
    (np.arange(3, dtype="uint16"), "uint16", (3,)), (np.float64(2.0), "float64", ()), (1 + 2j, "complex128", ()),
])
def test_as_tensor_variable_values(value, dtype, shape):
    t = T.as_tensor_variable(value)
    assert isinstance(t, T.TensorConstant)
    assert t.dtype == dtype and t.type.shape == shape
    np.testing.assert_array_equal(st.function([], t)(), np.asarray(value, dtype=dtype))


def test_as_tensor_variable_variables():
    x = T.matrix("x")
    assert T.as_tensor_variable(x) is x
    assert T.as_tensor_variable(x.owner) is x if x.owner else True
    y = T.as_tensor_variable(x, ndim=3)
    assert y.ndim == 3 and y.broadcastable == (True, False, False)
    assert T.as_tensor_variable(x, dtype="float32").dtype == "float32"
    with pytest.raises(ValueError, match="has 2 dimensions, expected 1"):
        T.as_tensor_variable(x, ndim=1)
    s = st.scalar.basic.ScalarType("int32")("s")
    t = T.as_tensor_variable(s)
    assert t.ndim == 0 and t.dtype == "int32"
    with pytest.raises(TypeError, match="cannot convert"):
        T.as_tensor_variable(object())
    with pytest.raises(TypeError, match="cannot convert"):
        T.as_tensor_variable([[1, 2], [3]])


def test_as_tensor_variable_list_of_variables(rng):
    a, b = T.iscalar("a"), T.dscalar("b")
    v = T.as_tensor_variable([a, b, 3])
    assert isinstance(v.owner.op, T.MakeVector) and v.dtype == "float64" and v.type.shape == (3,)
    np.testing.assert_array_equal(st.function([a, b], v)(1, 2.5), [1.0, 2.5, 3.0])
    x = T.vector("x")
    m = T.as_tensor_variable([x, x * 2])
    xv = rand(rng, (3,))
    np.testing.assert_allclose(st.function([x], m)(xv), [xv, 2 * xv])


def test_constant():
    c = T.constant([1, 2, 3], dtype="float32", name="c")
    assert c.dtype == "float32" and c.name == "c" and c.type.shape == (3,)
    c = T.constant(5, ndim=2)
    assert c.type.shape == (1, 1) and c.broadcastable == (True, True)
    assert T.constant(1.0, dtype="floatX").dtype == st.config.floatX
    assert T.constant(T.constant(4)).data == 4
    with pytest.raises(ValueError, match="more than 1 dimensions"):
        T.constant([[1, 2]], ndim=1)
    # equal constants merge by value
    assert T.constant([1, 2]).signature() == T.constant([1, 2]).signature()


def test_get_scalar_constant_value():
    x = T.tensor("float64", shape=(3, None))
    assert tb.get_scalar_constant_value(x.shape[0]) == 3
    assert tb.get_scalar_constant_value(x.shape[0] * 2 + 1) == 7
    assert tb.get_scalar_constant_value(T.cast(T.constant(4), "int64")) == 4
    with pytest.raises(tb.NotScalarConstantError):
        tb.get_scalar_constant_value(x.shape[1])
    with pytest.raises(tb.NotScalarConstantError):
        tb.get_scalar_constant_value(T.iscalar())


# ------------------------------------------------------------ cast

@pytest.mark.parametrize("src", ["int8", "int64", "float32", "float64", "bool"])
@pytest.mark.parametrize("dst", ["int32", "float32", "float64", "uint8", "floatX"])
def test_cast(rng, src, dst):
    x = TensorType(src, (False, False))("x")
    out = T.cast(x, dst)
    want_dtype = st.config.floatX if dst == "floatX" else dst
    assert out.dtype == want_dtype
    value = noncontiguous(rand(rng, (2, 3), src, low=0, high=5))
    got = check_numpy([x], out, lambda v: v.astype(want_dtype), [value])
    assert got.dtype == want_dtype
    assert T.cast(x, src) is x


def test_cast_grad(rng):
    st.verify_grad(lambda x: T.cast(x, "float64") * 2, [rand(rng, (3,), "float32")], rng=rng)
    x = T.vector("x")
    g = st.grad(T.cast(x, "int32").sum() * 1.0 + x.sum(), x)
    np.testing.assert_array_equal(st.function([x], g)(np.array([1.5, 2.5])), [1.0, 1.0])


# ------------------------------------------------------------ alloc / fill / zeros / ones

@pytest.mark.parametrize("value_shape,shape", [((), (2, 3)), ((3,), (2, 3)), ((1, 3), (4, 1, 3)), ((2, 1), (2, 4))])
@pytest.mark.parametrize("dtype", ["float32", "int16"])
def test_alloc_matches_numpy(rng, value_shape, shape, dtype):
    v = TensorType(dtype, [s == 1 for s in value_shape])("v")
    n = T.iscalar("n")
    out = T.alloc(v, *shape[:-1], n)
    assert out.dtype == dtype
    value = rand(rng, value_shape, dtype)
    check_numpy([v, n], out, lambda a, k: np.broadcast_to(a, shape[:-1] + (k,)).copy(), [value, shape[-1]])
    check_infer_shape([v, n], out, [value, shape[-1]])
    got = st.function([v, n], out)(value, shape[-1])
    assert not np.shares_memory(got, value)


def test_alloc_static_shape_and_vector_shape(rng):
    x = T.tensor("float64", shape=(2, None))
    assert T.alloc(0.0, 3, 1).type.shape == (3, 1)
    assert T.alloc(0.0, 3, 1).broadcastable == (False, True)
    out = T.alloc(1.5, x.shape)
    assert out.type.shape == (2, None)
    np.testing.assert_array_equal(st.function([x], out)(np.zeros((2, 4))), np.full((2, 4), 1.5))


@pytest.mark.parametrize("value_shape,shape", [((3,), (2, 3)), ((1, 3), (4, 2, 3)), ((), (2,))])
def test_alloc_grad(rng, value_shape, shape):
    bcast = [s == 1 for s in value_shape]

    def fn(v):
        return T.alloc(T.patternbroadcast(v, bcast), *shape)

    st.verify_grad(fn, [rand(rng, value_shape)], rng=rng)


def test_alloc_errors(rng):
    v = T.vector("v")
    with pytest.raises(ValueError, match="has 1 dims but only 0 lengths"):
        T.alloc(v)
    with pytest.raises(TypeError, match="Alloc: shape entry 0 must be an integer"):
        T.alloc(0.0, 2.5)
    with pytest.raises(TypeError, match="Alloc: shape entry 1 .* must be an integer scalar"):
        T.alloc(0.0, 2, T.dscalar())
    with pytest.raises(ValueError, match="negative"):
        T.alloc(0.0, -1)
    with pytest.raises(ValueError, match="cannot broadcast"):
        T.alloc(T.tensor("float64", shape=(3,)), 2, 4)
    n = T.iscalar()
    f = st.function([v, n], T.alloc(v, 2, n))
    with pytest.raises(ValueError, match=r"cannot broadcast a value of shape \(3,\) to shape \(2, 4\)"):
        f(rand(rng, (3,)), 4)
    with pytest.raises(ValueError, match="negative length"):
        f(rand(rng, (3,)), -3)


@pytest.mark.parametrize("fn,fill_value", [(T.zeros, 0), (T.ones, 1)])
@pytest.mark.parametrize("shape", [3, (2, 3), [2, 1, 2], (), np.int64(4)])
@pytest.mark.parametrize("dtype", [None, "int32", "float32"])
def test_zeros_ones_with_static_shapes(fn, fill_value, shape, dtype):
    out = fn(shape, dtype=dtype)
    want = np.full(shape, fill_value, dtype=dtype or st.config.floatX)
    assert out.dtype == want.dtype.name and out.type.shape == want.shape
    got = st.function([], out)()
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("fn,fill_value", [(T.zeros, 0), (T.ones, 1)])
def test_zeros_ones_with_symbolic_shapes(rng, fn, fill_value):
    x = T.tensor3("x")
    n = T.lscalar("n")
    xv = rand(rng, (2, 3, 1))
    for shape, want in [(x.shape, (2, 3, 1)), ((x.shape[0], n), (2, 5)), ([n, 2], (5, 2)), (n, (5,)),
                        (T.stack([n, x.shape[1]]), (5, 3))]:
        out = fn(shape, dtype="int8")
        got = st.function([x, n], out, on_unused_input="ignore")(xv, 5)
        assert got.dtype == "int8"
        np.testing.assert_array_equal(got, np.full(want, fill_value, dtype="int8"))
        check_infer_shape([x, n], out, [xv, 5])


def test_zeros_errors():
    with pytest.raises(TypeError, match="zeros: shape entry 1 must be an integer"):
        T.zeros((2, 1.5))
    with pytest.raises(TypeError, match="ones: shape entry 0"):
        T.ones((T.dscalar(),))
    with pytest.raises(ValueError, match="must be known statically"):
        T.zeros(T.lvector())
    with pytest.raises(TypeError, match="must be integers"):
        T.zeros(T.dvector())
    with pytest.raises(TypeError, match="zeros: shape must be an int"):
        T.zeros("3")


@pytest.mark.parametrize("fn,fill_value", [(T.zeros_like, 0), (T.ones_like, 1)])
@pytest.mark.parametrize("dtype", [None, "int8", "float32", "bool"])
def test_zeros_ones_like(rng, fn, fill_value, dtype):
    x = T.dmatrix("x")
    out = fn(x, dtype=dtype)
    want_dtype = dtype or "float64"
    assert out.dtype == want_dtype
    got = st.function([x], out)(rand(rng, (2, 3)))
    assert got.dtype == want_dtype
    np.testing.assert_array_equal(got, np.full((2, 3), fill_value, dtype=want_dtype))
    method = getattr(x, fn.__name__)(dtype)
    assert method.dtype == want_dtype


def test_fill(rng):
    x = T.matrix("x")
    v = T.iscalar("v")
    out = T.fill(x, v)
    assert out.dtype == "int32"
    check_numpy([x, v], out, lambda a, b: np.full(a.shape, b, dtype="int32"), [rand(rng, (2, 3)), 7])
    st.verify_grad(lambda a, b: T.fill(a, b), [rand(rng, (2, 3)), rand(rng, ())], rng=rng)


# ------------------------------------------------------------ broadcast flags

def test_patternbroadcast(rng):
    x = T.matrix("x")
    y = T.patternbroadcast(x, (True, False))
    assert y.broadcastable == (True, False)
    assert T.patternbroadcast(x, (False, False)) is x
    np.testing.assert_array_equal(st.function([x], y)(np.ones((1, 3))), np.ones((1, 3)))
    with pytest.raises(ValueError, match="axis 0 was declared broadcastable but has length 2"):
        st.function([x], y)(np.ones((2, 3)))
    assert T.addbroadcast(x, 1).broadcastable == (False, True)
    assert T.unbroadcast(T.addbroadcast(x, 1), 1).broadcastable == (False, False)
    st.verify_grad(lambda a: T.patternbroadcast(a, (True, False)) * 2, [rand(rng, (1, 3))], rng=rng)
    check_infer_shape([x], y, [np.ones((1, 4))])


def test_shape_padding():
    x = T.matrix()
    assert T.shape_padleft(x, 2).broadcastable == (True, True, False, False)
    assert T.shape_padright(x).broadcastable == (False, False, True)
    assert T.shape_padaxis(x, 1).broadcastable == (False, True, False)
    assert T.shape_padaxis(x, -1).broadcastable == (False, False, True)


# ------------------------------------------------------------ MakeVector

def test_make_vector(rng):
    a, b = T.iscalar("a"), T.bscalar("b")
    v = T.MakeVector("int32")(a, b)
    assert v.dtype == "int32" and v.type.shape == (2,)
    got = st.function([a, b], v)(3, 4)
    assert got.dtype == "int32"
    np.testing.assert_array_equal(got, [3, 4])
    check_infer_shape([a, b], v, [1, 2])
    assert T.make_vector(a, b).dtype == "int64"
    with pytest.raises(TypeError, match="input 0 .* is 1-d, expected a scalar"):
        T.MakeVector("int64")(T.ivector(), a)
    with pytest.raises(TypeError, match="does not fit int8"):
        T.MakeVector("int8")(a)
    st.verify_grad(lambda x, y: T.MakeVector("float64")(x, y, x * y), [rand(rng, ()), rand(rng, ())], rng=rng)
    empty = T.MakeVector("float64")()
    assert st.function([], empty)().shape == (0,)


# ------------------------------------------------------------ user shapes

def test_shape_scalars_is_the_one_shape_reader():
    x = T.tensor("float64", shape=(2, None))
    n = T.iscalar("n")
    for shape, want in [(3, (3,)), ((2, 3), (2, 3)), ([n, 4], (None, 4)), (x.shape, (2, None)),
                        (np.array([1, 2]), (1, 2)), ((), ())]:
        items = tb.shape_scalars(shape)
        assert all(i.ndim == 0 and i.dtype == "int64" for i in items)
        assert tb.static_lengths(items) == want
        vec = tb.shape_vector(shape)
        assert vec.dtype == "int64" and vec.type.shape == (len(want),)
        assert tb.static_lengths(vec) == want
    unknown = T.lvector()
    assert tb.shape_vector(unknown) is unknown
    with pytest.raises(ValueError, match="known statically"):
        tb.shape_scalars(unknown)
    with pytest.raises(TypeError, match="entry 0 must be an integer"):
        tb.shape_scalars([True])
