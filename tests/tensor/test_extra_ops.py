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


# ------------------------------------------------------------ mgrid / ogrid

GRID_KEYS = [
    (slice(0, 3), slice(0, 2)),
    (slice(1, 7, 2), slice(5, 0, -2), slice(0, 1)),
    (slice(0, 1, 0.25), slice(2, 3)),
    (slice(-1, 1, 5j), slice(0, 3)),
    (slice(0, 0), slice(0, 3)),
]


@pytest.mark.parametrize("key", GRID_KEYS, ids=str)
def test_mgrid_and_ogrid_match_numpy(key):
    for grid, ref in ((T.mgrid, np.mgrid), (T.ogrid, np.ogrid)):
        want = list(ref[key])
        out = grid[key]
        assert isinstance(out, list) and len(out) == len(key)
        got = st.function([], out)()
        for g, w, sym in zip(got, want, out):
            assert g.shape == w.shape and sym.ndim == w.ndim
            assert sym.dtype == g.dtype and g.dtype.kind == w.dtype.kind
            np.testing.assert_allclose(g, w)
            assert sym.type.shape == w.shape  # constant bounds: static shapes


def test_grids_of_one_slice_and_of_none():
    np.testing.assert_array_equal(st.function([], T.mgrid[2:8:3])(), np.mgrid[2:8:3])
    np.testing.assert_allclose(st.function([], T.ogrid[0:1:4j])(), np.ogrid[0:1:4j])
    assert T.mgrid[()] == []


def test_grid_with_symbolic_bounds():
    n, m = T.lscalar("n"), T.lscalar("m")
    dense, sparse = T.mgrid[0:n, m:5], T.ogrid[0:n, m:5]
    f = st.function([n, m], dense + sparse)
    got = f(3, 1)
    for g, w in zip(got, list(np.mgrid[0:3, 1:5]) + list(np.ogrid[0:3, 1:5])):
        np.testing.assert_array_equal(g, w)
    assert sparse[0].broadcastable == (False, True) and sparse[1].broadcastable == (True, False)
    check_infer_shape([n, m], dense, [4, 2])
    x = T.dscalar("x")
    pts = T.mgrid[0:x:3j]  # a symbolic end point with a point count
    np.testing.assert_allclose(st.function([x], pts)(2.0), np.mgrid[0:2:3j])


def test_grid_dtypes_are_upcast_together():
    a, b = T.mgrid[0:2, 0:1:0.5]
    assert a.dtype == b.dtype == "float64"
    assert all(g.dtype == "int64" for g in T.ogrid[0:2, 0:3])


def test_grid_errors():
    with pytest.raises(TypeError, match="slices"):
        T.mgrid[0:2, 3]
    with pytest.raises(ValueError, match="no stop"):
        T.ogrid[0:]


# ------------------------------------------------------------ choose

def _choose_cases(rng):
    a23 = rng.integers(0, 3, size=(2, 3)).astype("int32")
    return [
        ("vector_of_rows", a23[0], rand(rng, (3, 3))),
        ("matrix", a23, rand(rng, (3, 2, 3))),
        ("a_broadcasts_over_rows", a23[:1], rand(rng, (3, 4, 3))),
        ("choices_broadcast", a23, rand(rng, (3, 1, 3))),
        ("fewer_dims_in_choices", a23, rand(rng, (3, 3))),
        ("scalar_a", np.array(2, "int64"), rand(rng, (3, 2, 2))),
        ("many_choices", rng.integers(0, 40, size=7).astype("int64"), rand(rng, (40, 7))),
        ("empty", np.zeros((0, 3), "int8"), rand(rng, (2, 0, 3))),
    ]


def _var_like(value, bcast_ones=True):
    return TensorType(value.dtype, tuple(bcast_ones and s == 1 for s in value.shape))()


CHOOSE_CASES = ["vector_of_rows", "matrix", "a_broadcasts_over_rows", "choices_broadcast", "fewer_dims_in_choices",
                "scalar_a", "many_choices", "empty"]


@pytest.mark.parametrize("case", CHOOSE_CASES)
def test_choose_matches_numpy(rng, case):
    a, c = {name: (a, c) for name, a, c in _choose_cases(rng)}[case]
    av, cv = _var_like(a), _var_like(c)
    out = T.choose(av, cv)
    assert out.dtype == c.dtype
    check_numpy([av, cv], out, np.choose, [a, c])
    check_infer_shape([av, cv], out, [a, c])
    f = st.function([av, cv], out)
    strided = [noncontiguous(v) if v.ndim else v for v in (a, c)]
    np.testing.assert_array_equal(f(*strided), np.choose(a, c))


@pytest.mark.parametrize("mode", ["raise", "wrap", "clip"])
def test_choose_modes(mode):
    a = T.lvector("a")
    c = T.dmatrix("c")
    choices = np.arange(12.0).reshape(3, 4)
    f = st.function([a, c], T.choose(a, c, mode=mode))
    inside = np.array([0, 2, 1, 0])
    np.testing.assert_array_equal(f(inside, choices), np.choose(inside, choices, mode=mode))
    outside = np.array([-1, 3, 5, 2])
    if mode == "raise":
        with pytest.raises(ValueError, match="out of range"):
            f(outside, choices)
    else:
        np.testing.assert_array_equal(f(outside, choices), np.choose(outside, choices, mode=mode))


def test_choose_from_a_list_of_choices():
    a = T.ivector("a")
    x = T.dvector("x")
    out = T.choose(a, [x, x * 10, 0.5])  # a vector, an expression and a scalar broadcast together
    assert out.dtype == "float64"
    av, xv = np.array([0, 1, 2, 1], "int32"), np.arange(4.0)
    np.testing.assert_array_equal(st.function([a, x], out)(av, xv), np.choose(av, [xv, xv * 10, 0.5]))
    # the documented Theano example: a list of constant rows
    assert st.function([a], T.choose(a, [[1, 2, 3], [10, 20, 30]]))(np.array([0, 1, 0], "int32")).tolist() \
        == [1, 20, 3]


@pytest.mark.parametrize("mode", ["raise", "wrap", "clip"])
def test_choose_grad(rng, mode):
    a = np.array([[0, 2, 1], [1, 1, 0]]) if mode == "raise" else np.array([[0, 5, -1], [-4, 1, 2]])
    st.verify_grad(lambda c: T.choose(a, c, mode=mode), [rand(rng, (3, 2, 3))], rng=rng)
    # broadcast choices collect the gradient of every position they were used for
    st.verify_grad(lambda c: T.choose(a, T.addbroadcast(c, 1), mode=mode) * np.arange(6.0).reshape(2, 3),
                   [rand(rng, (3, 1, 3))], rng=rng)


def test_choose_grad_ignores_the_indices_and_has_an_rop():
    a = T.lvector("a")
    c = T.dmatrix("c")
    out = T.choose(a, c)
    with pytest.raises(st.gradient.DisconnectedInputError):
        T.grad(out.sum(), a)
    gc = T.grad((out * 2).sum(), c)
    av, cv = np.array([1, 0, 1]), np.ones((2, 3))
    np.testing.assert_array_equal(st.function([a, c], gc)(av, cv), [[0, 2, 0], [2, 0, 2]])
    v = T.dmatrix("v")
    rop = st.Rop(out, c, v)
    vv = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(st.function([a, v], rop)(av, vv), np.choose(av, vv))  # linear in c


def test_choose_errors():
    with pytest.raises(TypeError, match="integer"):
        T.choose(T.dvector(), T.dmatrix())
    with pytest.raises(TypeError, match="leading axis"):
        T.choose(T.lvector(), T.dscalar())
    with pytest.raises(ValueError, match="mode"):
        T.choose(T.lvector(), T.dmatrix(), mode="nearest")
    with pytest.raises(ValueError, match="out"):
        T.choose(T.lvector(), T.dmatrix(), out=np.zeros(3))
    with pytest.raises(ValueError, match="broadcast"):
        T.choose(TensorType("int64", shape=(3,))(), TensorType("float64", shape=(2, 4))())
    f = st.function([a := T.lvector(), c := T.dmatrix()], T.choose(a, c))
    with pytest.raises(ValueError, match="axis 0"):
        f(np.zeros(3, "int64"), np.ones((2, 4)))
    assert T.Choose("wrap") == T.Choose("wrap") and T.Choose("wrap") != T.Choose("clip")
