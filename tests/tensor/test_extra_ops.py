"""arange, eye, repeat, tile, cumsum/cumprod, diff and nonzero against NumPy."""

import numpy as np
import pytest

import symtensor as st
import symtensor.tensor as T
from helpers import check_infer_shape, check_numpy, noncontiguous, rand
from symtensor.tensor.type import TensorType


def var(dtype, ndim, name=None):
    return TensorType(dtype, (False,) * ndim)(name)


# ------------------------------------------------------------ arange

# (args, kwargs, expected dtype, numpy reference)
ARANGE_CASES = [
    ((5,), {}, "int64", np.arange(5)),
    ((2, 9, 3), {}, "int64", np.arange(2, 9, 3)),
    ((9, 2, -3), {}, "int64", np.arange(9, 2, -3)),
    ((3, 1), {}, "int64", np.arange(3, 1)),
    ((0.5,), {}, "float64", np.arange(0.5)),
    ((0, 1, 0.25), {}, "float64", np.arange(0, 1, 0.25)),
    ((1.5, -1, -0.5), {}, "float64", np.arange(1.5, -1, -0.5)),
    ((4,), {"dtype": "int32"}, "int32", np.arange(4, dtype="int32")),
    ((4,), {"dtype": "float32"}, "float32", np.arange(4, dtype="float32")),
    ((np.uint8(4),), {}, "int64", np.arange(4)),
]


@pytest.mark.parametrize("args,kwargs,dtype,want", ARANGE_CASES)
def test_arange_constant_arguments(args, kwargs, dtype, want):
    out = T.arange(*args, **kwargs)
    assert out.dtype == dtype
    assert out.type.shape == (len(want),)
    got = st.function([], out)()
    assert got.dtype == dtype
    np.testing.assert_allclose(got, want)


@pytest.mark.parametrize("dtypes,expected", [
    (("int32", "int32", "int32"), "int64"), (("int8", "int64", "int8"), "int64"),
    (("uint8", "uint8", "uint8"), "uint64"),
    (("float32", "float32", "float32"), "float32"), (("int32", "float32", "int8"), "float64"),
    (("float64", "int8", "int8"), "float64"),
])
def test_arange_dtype_rules(dtypes, expected):
    args = [TensorType(d, ())() for d in dtypes]
    assert T.arange(*args).dtype == expected


def test_arange_floatx_with_python_floats():
    with st.config.change_flags(floatX="float32"):
        assert T.arange(0.5).dtype == "float32"
        assert T.arange(T.fscalar(), 2.0).dtype == "float32"
    with st.config.change_flags(floatX="float64"):
        assert T.arange(0.5).dtype == "float64"
        assert T.arange(T.fscalar(), 3).dtype == "float32"


@pytest.mark.parametrize("values", [(0, 7, 2), (7, 0, -2), (3, 3, 1), (5, 0, 1), (-4, 4, 3)])
def test_arange_symbolic_integers(values):
    start, stop, step = T.iscalars("start", "stop", "step")
    out = T.arange(start, stop, step)
    vals = [np.int32(v) for v in values]
    check_numpy([start, stop, step], out, lambda a, b, c: np.arange(a, b, c), vals)
    check_infer_shape([start, stop, step], out, vals)


@pytest.mark.parametrize("values", [(0.0, 1.0, 0.3), (1.0, -1.0, -0.7), (0.5, 0.5, 1.0), (2.0, 0.0, 0.1)])
def test_arange_symbolic_floats(values):
    start, stop, step = T.dscalars("start", "stop", "step")
    out = T.arange(start, stop, step)
    check_numpy([start, stop, step], out, lambda a, b, c: np.arange(a, b, c), list(values))
    check_infer_shape([start, stop, step], out, list(values))
    stop_only = T.arange(stop)
    check_infer_shape([stop], stop_only, [values[1]])


def test_arange_grad():
    st.verify_grad(lambda a, b: T.arange(a, 3.0, b) ** 2, [np.array(0.25), np.array(0.4)])
    start, step = T.dscalars("start", "step")
    gstart = st.grad(T.arange(start, 3.0, step).sum(), start)
    assert st.function([start, step], gstart)(0.0, 1.0) == 3.0
    i = T.iscalar("i")
    out = T.arange(i, 10).sum() * start
    g = st.grad(out, i, disconnected_inputs="ignore")
    assert st.function([i, start], g, on_unused_input="ignore")(2, 1.0) == 0


def test_arange_errors():
    with pytest.raises(ValueError, match="step must not be zero"):
        T.arange(0, 5, 0)
    with pytest.raises(TypeError, match="stop must be a scalar"):
        T.arange(T.vector())
    with pytest.raises(TypeError, match="real number"):
        T.arange(T.zscalar())
    step = T.iscalar()
    with pytest.raises(ValueError, match="step must not be zero"):
        st.function([step], T.arange(0, 5, step))(0)


# ------------------------------------------------------------ eye

@pytest.mark.parametrize("n,m,k", [(3, None, 0), (3, 4, 1), (4, 2, -1), (2, 2, 5), (0, 3, 0)])
@pytest.mark.parametrize("dtype", [None, "float32", "int8"])
def test_eye(n, m, k, dtype):
    out = T.eye(n, m, k, dtype=dtype)
    want = np.eye(n, m, k, dtype=dtype or st.config.floatX)
    assert out.dtype == want.dtype.name
    assert out.type.shape == want.shape
    got = st.function([], out)()
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


def test_eye_symbolic():
    n, m, k = T.iscalars("n", "m", "k")
    out = T.eye(n, m, k)
    check_numpy([n, m, k], out, lambda a, b, c: np.eye(a, b, c), [3, 5, -1])
    check_infer_shape([n, m, k], out, [3, 5, 2])
    with pytest.raises(ValueError, match="must be >= 0"):
        st.function([n, m, k], out)(-1, 2, 0)
    with pytest.raises(TypeError, match="k must be an integer"):
        T.eye(3, k=0.5)
    with pytest.raises(ValueError, match="n must be >= 0"):
        T.eye(-2)


def test_identity_like(rng):
    x = T.fmatrix("x")
    out = T.identity_like(x)
    assert out.dtype == "float32"
    check_numpy([x], out, lambda v: np.eye(*v.shape, dtype="float32"), [rand(rng, (2, 4), "float32")])
    check_infer_shape([x], out, [rand(rng, (3, 2), "float32")])
    with pytest.raises(TypeError, match="expected a matrix"):
        T.identity_like(T.vector())


# ------------------------------------------------------------ repeat

# (shape, repeats, axis)
REPEAT_CASES = [
    ((3,), 2, None), ((2, 3), 2, None), ((2, 3), 3, 0), ((2, 3), 2, 1), ((2, 3), 2, -1), ((2, 3, 2), 0, 1),
    ((2, 3), [1, 0, 2], 1), ((2, 3), [2, 1], -2), ((2, 3), [1, 2, 0, 1, 1, 3], None), ((2, 3), [3], 1),
]


@pytest.mark.parametrize("shape,repeats,axis", REPEAT_CASES)
@pytest.mark.parametrize("dtype", ["float32", "float64", "int16"])
def test_repeat_matches_numpy(rng, shape, repeats, axis, dtype):
    x = var(dtype, len(shape), "x")
    out = T.repeat(x, repeats, axis=axis)
    assert out.dtype == dtype
    value = noncontiguous(rand(rng, shape, dtype))
    check_numpy([x], out, lambda v: np.repeat(v, repeats, axis=axis), [value])
    check_infer_shape([x], out, [value])


@pytest.mark.parametrize("shape,repeats,axis", REPEAT_CASES)
def test_repeat_grad(rng, shape, repeats, axis):
    st.verify_grad(lambda x: T.repeat(x, repeats, axis=axis), [rand(rng, shape)], rng=rng)


def test_repeat_symbolic_repeats(rng):
    x = T.matrix("x")
    r, rv = T.iscalar("r"), T.ivector("rv")
    xv = rand(rng, (2, 3))
    for out, rep in [(T.repeat(x, r, axis=0), np.int32(3)), (x.repeat(rv, axis=1), np.array([0, 2, 1], "int32")),
                     (T.repeat(x, rv), np.arange(6, dtype="int32"))]:
        inputs = [x, r if rep.ndim == 0 else rv]
        axis = out.owner.op.axis
        check_numpy(inputs, out, lambda v, k: np.repeat(v, k, axis=axis), [xv, rep])
        check_infer_shape(inputs, out, [xv, rep])
    g = st.grad((T.repeat(x, rv, axis=1) ** 2).sum(), x)
    got = st.function([x, rv], g)(xv, np.array([0, 2, 1], "int32"))
    np.testing.assert_allclose(got, 2 * xv * np.array([0, 2, 1]))


def test_repeat_static_shape():
    x = T.tensor("float64", shape=(2, 3))
    assert T.repeat(x, 2, axis=1).type.shape == (2, 6)
    assert T.repeat(x, [1, 0, 4], axis=1).type.shape == (2, 5)
    assert T.repeat(x, 2).type.shape == (12,)
    assert T.repeat(T.matrix(), 2, axis=0).type.shape == (None, None)


def test_repeat_errors(rng):
    x = T.matrix("x")
    with pytest.raises(TypeError, match="repeats must be integers"):
        T.repeat(x, 1.5)
    with pytest.raises(ValueError, match="scalar or a vector"):
        T.repeat(x, np.ones((2, 2), dtype="int64"))
    with pytest.raises(ValueError, match="axis 2 is out of range"):
        T.repeat(x, 2, axis=2)
    with pytest.raises(ValueError, match=">= 0"):
        T.repeat(x, -1)
    with pytest.raises(ValueError, match="2 repeat counts given for an axis of length 3"):
        T.repeat(T.tensor("float64", shape=(2, 3)), [1, 2], axis=1)
    rv = T.ivector()
    f = st.function([x, rv], T.repeat(x, rv, axis=0))
    with pytest.raises(ValueError, match="3 repeat counts given for an axis of length 2"):
        f(rand(rng, (2, 2)), np.array([1, 1, 1], "int32"))
    with pytest.raises(ValueError, match=">= 0"):
        f(rand(rng, (2, 2)), np.array([1, -1], "int32"))


# ------------------------------------------------------------ tile

# (shape, reps, ndim)
TILE_CASES = [
    ((3,), 2, None), ((2, 3), (2, 1), None), ((2, 3), (3,), None), ((2, 3), (2, 1, 2), None),
    ((2, 1, 3), (1, 2, 2), None), ((3,), (2, 2), 3), ((2, 2), [0, 1], None), ((), 3, None),
]


@pytest.mark.parametrize("shape,reps,ndim", TILE_CASES)
@pytest.mark.parametrize("dtype", ["float32", "int32"])
def test_tile_matches_numpy(rng, shape, reps, ndim, dtype):
    x = var(dtype, len(shape), "x")
    out = T.tile(x, reps, ndim=ndim)
    value = rand(rng, shape, dtype)
    if shape:
        value = noncontiguous(value)

    def ref(v):
        want = np.tile(v, reps)
        return want.reshape((1,) * ((ndim or 0) - want.ndim) + want.shape)

    check_numpy([x], out, ref, [value])
    check_infer_shape([x], out, [value])


@pytest.mark.parametrize("shape,reps,ndim", TILE_CASES[:6])
def test_tile_grad(rng, shape, reps, ndim):
    st.verify_grad(lambda x: T.tile(x, reps, ndim=ndim), [rand(rng, shape)], rng=rng)


def test_tile_symbolic_reps(rng):
    x = T.matrix("x")
    a, b = T.iscalars("a", "b")
    r = T.ivector("r")
    xv = rand(rng, (2, 3))
    out = T.tile(x, (a, b))
    check_numpy([x, a, b], out, lambda v, i, j: np.tile(v, (i, j)), [xv, 2, 3])
    out = T.tile(x, r, ndim=3)
    check_numpy([x, r], out, lambda v, k: np.tile(v, k), [xv, np.array([2, 1, 2], "int32")])
    check_numpy([x, r], out, lambda v, k: np.tile(v, k)[None], [xv, np.array([3, 1], "int32")])
    check_infer_shape([x, r], out, [xv, np.array([3, 2], "int32")])
    assert T.tile(T.tensor("float64", shape=(2, 3)), (2, 2)).type.shape == (4, 6)


def test_tile_errors():
    x = T.matrix("x")
    with pytest.raises(ValueError, match="ndim"):
        T.tile(x, 2, ndim=1)
    with pytest.raises(ValueError, match="give ndim"):
        T.tile(x, T.ivector())
    with pytest.raises(TypeError, match="reps must be integers"):
        T.tile(x, T.dvector())
    with pytest.raises(TypeError, match=r"reps\[1\] must be an integer"):
        T.tile(x, (2, 1.5))
    with pytest.raises(ValueError, match="3 repetition counts given for ndim=2"):
        T.tile(x, (1, 2, 3), ndim=2)


# ------------------------------------------------------------ cumsum / cumprod

CUM_CASES = [((5,), None), ((5,), 0), ((2, 3), None), ((2, 3), 0), ((2, 3), 1), ((2, 3), -1), ((2, 3, 2), -2)]


@pytest.mark.parametrize("shape,axis", CUM_CASES)
@pytest.mark.parametrize("dtype", ["float32", "float64", "int32"])
@pytest.mark.parametrize("name", ["cumsum", "cumprod"])
def test_cumop_matches_numpy(rng, shape, axis, dtype, name):
    x = var(dtype, len(shape), "x")
    out = getattr(T, name)(x, axis=axis)
    assert out.dtype == dtype
    value = noncontiguous(rand(rng, shape, dtype, low=-2, high=2))
    ref = getattr(np, name)
    got = check_numpy([x], out, lambda v: ref(v, axis=axis, dtype=dtype), [value])
    assert got.dtype == dtype
    check_infer_shape([x], out, [value])
    method = getattr(x, name)(axis)
    assert method.owner.op == out.owner.op


@pytest.mark.parametrize("shape,axis", CUM_CASES)
def test_cumsum_grad(rng, shape, axis):
    st.verify_grad(lambda x: T.cumsum(x, axis=axis), [rand(rng, shape)], rng=rng)


@pytest.mark.parametrize("shape,axis", CUM_CASES)
def test_cumprod_grad(rng, shape, axis):
    value = rand(rng, shape, low=0.5, high=1.5) * rng.choice([-1, 1], size=shape)
    st.verify_grad(lambda x: T.cumprod(x, axis=axis), [value], rng=rng)


def test_cumop_misc():
    assert T.extra_ops.cumsum is T.cumsum
    b = T.tensor("bool", (False,))
    out = T.cumsum(b)
    assert out.dtype == "int64"
    np.testing.assert_array_equal(st.function([b], out)(np.array([True, False, True])), [1, 1, 2])
    assert T.cumsum(T.tensor("float64", shape=(2, 3))).type.shape == (6,)
    i = T.ivector()
    g = st.grad(T.cumsum(i).sum() * 1.0, i, disconnected_inputs="ignore")
    assert g.dtype == st.config.floatX
    with pytest.raises(ValueError, match="axis 2 is out of range"):
        T.cumsum(T.matrix(), axis=2)
    with pytest.raises(ValueError, match="axis -3 is out of range"):
        T.cumprod(T.matrix(), axis=-3)
    with pytest.raises(ValueError, match="mode must be"):
        T.CumOp(mode="max")


# ------------------------------------------------------------ diff

@pytest.mark.parametrize("shape,n,axis", [((6,), 1, -1), ((6,), 2, 0), ((3, 4), 1, 0), ((3, 4), 3, 1), ((3, 4), 0, 1)])
@pytest.mark.parametrize("dtype", ["float64", "int32"])
def test_diff(rng, shape, n, axis, dtype):
    x = var(dtype, len(shape), "x")
    out = T.diff(x, n=n, axis=axis)
    value = rand(rng, shape, dtype)
    check_numpy([x], out, lambda v: np.diff(v, n=n, axis=axis), [value])
    check_infer_shape([x], out, [value])
    if dtype == "float64":
        st.verify_grad(lambda v: T.diff(v, n=n, axis=axis), [value], rng=rng)


def test_diff_errors():
    with pytest.raises(ValueError, match="n must be an int >= 0"):
        T.diff(T.vector(), n=-1)
    with pytest.raises(ValueError, match="at least 1-d"):
        T.diff(T.scalar())
    with pytest.raises(ValueError, match="axis 1 is out of range"):
        T.diff(T.vector(), axis=1)


# ------------------------------------------------------------ nonzero

@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 3, 2)])
@pytest.mark.parametrize("dtype", ["float64", "int8", "bool"])
def test_nonzero(rng, shape, dtype):
    x = var(dtype, len(shape), "x")
    value = rand(rng, shape, dtype, low=-1, high=1)
    if dtype == "float64":
        value[value < 0.3] = 0
    f = st.function([x], [T.nonzero(x, return_matrix=True), T.flatnonzero(x), T.nonzero_values(x)]
                    + list(T.nonzero(x)) + list(x.nonzero()))
    matrix, flat, values, *rest = f(value)
    want = np.nonzero(value)
    assert matrix.dtype == "int64" and matrix.shape == (len(shape), len(want[0]))
    np.testing.assert_array_equal(matrix, np.array(want))
    np.testing.assert_array_equal(flat, np.flatnonzero(value))
    np.testing.assert_array_equal(values, value.ravel()[np.flatnonzero(value)])
    for got, w in zip(rest, want + want):
        np.testing.assert_array_equal(got, w)
    check_infer_shape([x], [T.nonzero(x, return_matrix=True), T.flatnonzero(x)], [value])


def test_nonzero_values_grad(rng):
    mask = np.ones((3, 4))
    mask[0, 1] = mask[2, 2] = 0  # zeros that finite differences cannot move
    st.verify_grad(lambda x: T.nonzero_values(x * mask) * 2, [rand(rng, (3, 4), low=0.5)], rng=rng)


def test_nonzero_errors():
    for fn in (T.nonzero, T.flatnonzero, T.nonzero_values):
        with pytest.raises(ValueError, match="at least 1-d"):
            fn(T.scalar())
