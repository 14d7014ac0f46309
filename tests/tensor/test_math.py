"""Reductions (sum, prod, max, min, all, any, mean, var, std, argmax, argmin) and the dot family."""

import numpy as np
import pytest

import symtensor as st
import symtensor.tensor as T
from helpers import check_infer_shape, check_numpy, noncontiguous, rand
from symtensor.tensor.elemwise import CAReduce
from symtensor.tensor.math import BatchedDot, Dot

# ------------------------------------------------------------------ reductions

AXES = [None, 0, 1, 2, -1, -2, (0, 2), (2, 0), (0, 1, 2), ()]


def _np_axis(axis):
    return tuple(axis) if isinstance(axis, (tuple, list)) else axis


def _acc_dtype(dtype):
    """Theano: sums/products of small ints give int64 (uint64 for unsigned), bool -> int64."""
    kind = np.dtype(dtype).kind
    if kind in "bi":
        return "int64"
    if kind == "u":
        return "uint64"
    return dtype


def _mean_dtype(dtype):
    return dtype if np.dtype(dtype).kind in "fc" else "float64"


# name -> (symbolic, numpy reference, output dtype rule)
REDUCTIONS = {
    "sum": (T.sum, np.sum, _acc_dtype),
    "prod": (T.prod, np.prod, _acc_dtype),
    "max": (T.max, np.max, lambda d: d),
    "min": (T.min, np.min, lambda d: d),
    "all": (T.all, np.all, lambda d: "bool"),
    "any": (T.any, np.any, lambda d: "bool"),
    "mean": (T.mean, np.mean, _mean_dtype),
    "var": (T.var, np.var, _mean_dtype),
    "std": (T.std, np.std, _mean_dtype),
}


def _values(rng, dtype, shape=(2, 3, 4)):
    if dtype == "bool":
        return rand(rng, shape, dtype)
    return rand(rng, shape, dtype, -3, 3) if np.dtype(dtype).kind in "iu" else rand(rng, shape, dtype, 0.5, 1.5)


@pytest.mark.parametrize("name", list(REDUCTIONS))
@pytest.mark.parametrize("axis", AXES, ids=str)
@pytest.mark.parametrize("keepdims", [False, True])
def test_reduction_values(rng, name, axis, keepdims):
    fn, ref, _ = REDUCTIONS[name]
    x = T.dtensor3()
    out = fn(x, axis=axis, keepdims=keepdims)
    v = _values(rng, "float64")
    want = ref(v, axis=_np_axis(axis), keepdims=keepdims)
    assert out.ndim == np.ndim(want)
    check_numpy([x], out, lambda a: ref(a, axis=_np_axis(axis), keepdims=keepdims), [v])
    check_numpy([x], out, lambda a: ref(a, axis=_np_axis(axis), keepdims=keepdims), [noncontiguous(v)])
    check_infer_shape([x], out, [v])
    if keepdims:
        axes = range(3) if axis is None else [a % 3 for a in np.atleast_1d(axis)]
        assert all(out.broadcastable[a] for a in axes)


@pytest.mark.parametrize("name", list(REDUCTIONS))
@pytest.mark.parametrize("dtype", ["float32", "float64", "int8", "int32", "uint8", "bool"])
def test_reduction_dtypes(rng, name, dtype):
    fn, ref, rule = REDUCTIONS[name]
    if name in ("var", "std") and dtype == "bool":
        return  # numpy has no variance of booleans to compare with
    x = T.TensorType(dtype, (False, False))()
    out = fn(x, axis=1)
    assert out.dtype == rule(dtype), f"{name}({dtype}) -> {out.dtype}, Theano gives {rule(dtype)}"
    v = _values(rng, dtype, (3, 4))
    got = check_numpy([x], out, lambda a: np.asarray(ref(a, axis=1)).astype(rule(dtype)), [v])
    assert got.dtype == rule(dtype)


def test_sum_int8_does_not_overflow():
    x = T.bvector()
    out = x.sum()
    assert out.dtype == "int64"
    assert st.function([x], out)(np.full(100, 100, "int8")) == 10000


def test_sum_float32_accumulates_in_float64():
    x = T.fvector()
    v = np.array([1e8] + [1.0] * 100 + [-1e8], "float32")  # float32 steps lose the ones: 1e8 + 1 == 1e8
    got = st.function([x], x.sum())(v)
    assert got.dtype == "float32"
    assert float(got) == 100.0


def test_sum_dtype_and_acc_dtype_arguments():
    x = T.bvector()
    assert T.sum(x, dtype="int16").dtype == "int16"
    assert T.sum(T.fvector(), acc_dtype="float64").dtype == "float32"
    assert T.mean(T.fvector(), dtype="float64").dtype == "float64"


@pytest.mark.parametrize("fn", [T.sum, T.max, T.mean, T.argmax])
def test_reduction_axis_out_of_range(fn):
    with pytest.raises(ValueError, match="out of range"):
        fn(T.dmatrix(), axis=2)
    with pytest.raises(ValueError, match="out of range"):
        fn(T.dmatrix(), axis=-3)


def test_max_of_empty_axis_raises():
    x = T.dmatrix()
    f = st.function([x], x.max(axis=1))
    with pytest.raises(ValueError, match="empty"):
        f(np.zeros((2, 0)))


def test_careduce_props_and_scalar_input(rng):
    assert CAReduce(st.scalar.add, (0,)) == CAReduce(st.scalar.add, [0])
    assert CAReduce(st.scalar.add, (0,)) != CAReduce(st.scalar.mul, (0,))
    s = T.dscalar()
    assert st.function([s], s.sum())(np.float64(3.0)) == 3.0
    with pytest.raises(ValueError, match="no reduction"):
        CAReduce(st.scalar.sub)


GRAD_REDUCTIONS = ["sum", "prod", "max", "min", "mean", "var", "std"]


@pytest.mark.parametrize("name", GRAD_REDUCTIONS)
@pytest.mark.parametrize("axis", [None, 0, -1, (0, 2)], ids=str)
@pytest.mark.parametrize("keepdims", [False, True])
def test_reduction_verify_grad(rng, name, axis, keepdims):
    fn = REDUCTIONS[name][0]
    v = _values(rng, "float64")
    st.verify_grad(lambda a: fn(a, axis=axis, keepdims=keepdims), [v], rng=rng)


def test_var_ddof_and_corrected(rng):
    x = T.dmatrix()
    v = rand(rng, (4, 5))
    check_numpy([x], T.var(x, axis=0, ddof=1), lambda a: np.var(a, axis=0, ddof=1), [v])
    check_numpy([x], T.std(x, ddof=1), lambda a: np.std(a, ddof=1), [v])
    # corrected: the two-pass compensated formula gives the same value in exact arithmetic
    check_numpy([x], T.var(x, axis=1, corrected=True), lambda a: np.var(a, axis=1), [v])
    st.verify_grad(lambda a: T.var(a, axis=0, ddof=1), [v], rng=rng)


@pytest.mark.parametrize("axis", [None, 1, 0])
def test_prod_grad_with_zeros(rng, axis):
    v = np.array([[1.5, 2.0, -0.5, 3.0],     # no zero
                  [1.5, 0.0, 2.0, -1.0],     # one zero: only its gradient is non-zero
                  [0.0, 2.0, 0.0, 1.5]])     # two zeros: the gradient is all zero
    x = T.dmatrix()
    g = st.function([x], st.grad(T.prod(x, axis=axis).sum(), x))(v)
    if axis == 1:
        want = np.array([[v[0].prod() / e for e in v[0]],
                         [0.0, 1.5 * 2.0 * -1.0, 0.0, 0.0],
                         [0.0, 0.0, 0.0, 0.0]])
        np.testing.assert_allclose(g, want)
    st.verify_grad(lambda a: T.prod(a, axis=axis), [v], rng=rng)


def test_prod_grad_single_zero_everywhere():
    v = np.array([2.0, 0.0, 3.0])
    x = T.dvector()
    g = st.function([x], st.grad(T.prod(x), x))(v)
    np.testing.assert_allclose(g, [0.0, 6.0, 0.0])


def test_max_grad_goes_to_the_max_and_ties():
    x = T.dmatrix()
    v = np.array([[1.0, 3.0, 2.0], [5.0, 5.0, 0.0]])
    g = st.function([x], st.grad(x.max(axis=1).sum(), x))(v)
    np.testing.assert_array_equal(g, [[0, 1, 0], [1, 1, 0]])
    g = st.function([x], st.grad(x.min(), x))(v)
    np.testing.assert_array_equal(g, [[0, 0, 0], [0, 0, 1]])


def test_integer_reduction_gradient_is_zero_floatx():
    x = T.ivector()
    y = T.dvector()
    cost = T.cast(x.sum(), "float64") * y.sum()
    gx = st.grad(cost, x)
    assert gx.dtype == st.config.floatX
    np.testing.assert_array_equal(st.function([x, y], gx, on_unused_input="ignore")(np.arange(3, dtype="int32"), np.ones(2)), 0)


# ------------------------------------------------------------------ argmax / argmin

@pytest.mark.parametrize("name", ["argmax", "argmin"])
@pytest.mark.parametrize("axis", [None, 0, 1, -1], ids=str)
@pytest.mark.parametrize("keepdims", [False, True])
def test_argmax_argmin(rng, name, axis, keepdims):
    fn, ref = getattr(T, name), getattr(np, name)
    x = T.dmatrix()
    out = fn(x, axis=axis, keepdims=keepdims)
    assert out.dtype == "int64"
    v = rand(rng, (3, 4))
    check_numpy([x], out, lambda a: ref(a, axis=axis, keepdims=keepdims), [v])
    check_numpy([x], out, lambda a: ref(a, axis=axis, keepdims=keepdims), [noncontiguous(v)])
    check_infer_shape([x], out, [v])
    meth = getattr(x, name)(axis=axis, keepdims=keepdims)
    check_numpy([x], meth, lambda a: ref(a, axis=axis, keepdims=keepdims), [v])


def test_argmax_int_input_and_empty(rng):
    x = T.bmatrix()
    v = rand(rng, (3, 4), "int8", -5, 5)
    check_numpy([x], T.argmax(x, axis=0), lambda a: np.argmax(a, axis=0), [v])
    f = st.function([x], T.argmax(x))
    with pytest.raises(ValueError, match="empty"):
        f(np.zeros((0, 3), "int8"))


def test_argmax_is_not_differentiable():
    x = T.dvector()
    cost = T.cast(T.argmax(x), "float64") + x.sum()
    g = st.function([x], st.grad(cost, x))(np.array([1.0, 3.0, 2.0]))
    np.testing.assert_array_equal(g, [1.0, 1.0, 1.0])


def test_max_and_argmax(rng):
    x = T.dmatrix()
    mx, am = T.max_and_argmax(x, axis=1)
    v = rand(rng, (3, 4))
    a, b = st.function([x], [mx, am])(v)
    np.testing.assert_array_equal(a, v.max(axis=1))
    np.testing.assert_array_equal(b, v.argmax(axis=1))


# ------------------------------------------------------------------ dot

SHAPES = {"v": (4,), "m": (3, 4), "w": (4, 5)}  # a's last axis and b's first axis have length 4
DOT_CASES = [
    ("vector", "vector", (4,), (4,)),
    ("matrix", "vector", (3, 4), (4,)),
    ("vector", "matrix", (4,), (4, 5)),
    ("matrix", "matrix", (3, 4), (4, 5)),
    ("row", "matrix", (1, 4), (4, 5)),
    ("matrix", "col", (3, 4), (4, 1)),
]
_PATTERN = {"vector": (False,), "matrix": (False, False), "row": (True, False), "col": (False, True)}


@pytest.mark.parametrize("ka,kb,sa,sb", DOT_CASES, ids=lambda p: str(p))
@pytest.mark.parametrize("dtypes", [("float64", "float64"), ("float32", "float32"), ("float32", "float64"),
                                    ("int32", "int32"), ("int8", "float32")], ids="-".join)
def test_dot_values(rng, ka, kb, sa, sb, dtypes):
    a = T.TensorType(dtypes[0], _PATTERN[ka])()
    b = T.TensorType(dtypes[1], _PATTERN[kb])()
    out = T.dot(a, b)
    assert out.dtype == np.result_type(*dtypes).name
    va, vb = rand(rng, sa, dtypes[0]), rand(rng, sb, dtypes[1])
    check_numpy([a, b], out, np.dot, [va, vb])
    check_numpy([a, b], out, np.dot, [noncontiguous(va), noncontiguous(vb)])
    check_numpy([a, b], a @ b, np.dot, [va, vb])
    check_infer_shape([a, b], out, [va, vb])


@pytest.mark.parametrize("ka,kb,sa,sb", DOT_CASES, ids=lambda p: str(p))
def test_dot_verify_grad(rng, ka, kb, sa, sb):
    def fn(a, b):
        return T.dot(T.patternbroadcast(a, _PATTERN[ka]), T.patternbroadcast(b, _PATTERN[kb]))

    st.verify_grad(fn, [rand(rng, sa), rand(rng, sb)], rng=rng)


def test_dot_with_scalar_is_mul(rng):
    s, m = T.dscalar(), T.dmatrix()
    vm = rand(rng, (2, 3))
    check_numpy([s, m], T.dot(s, m), lambda a, b: a * b, [np.float64(2.5), vm])
    st.verify_grad(lambda a, b: T.dot(a, b), [np.array(1.5), vm], rng=rng)


def test_dot_nd_contracts_last_and_second_to_last(rng):
    a, b = T.dtensor3(), T.dmatrix()
    va, vb = rand(rng, (2, 3, 4)), rand(rng, (4, 5))
    check_numpy([a, b], T.dot(a, b), np.dot, [va, vb])
    c = T.dtensor3()
    vc = rand(rng, (3, 4, 2))
    check_numpy([b, c], T.dot(b, c), np.dot, [rand(rng, (5, 4)), vc])
    st.verify_grad(T.dot, [va, vb], rng=rng)


def test_dot_errors():
    with pytest.raises(TypeError, match="vectors or matrices"):
        Dot()(T.dtensor3(), T.dmatrix())
    a = T.tensor(dtype="float64", shape=(2, 3))
    b = T.tensor(dtype="float64", shape=(4, 5))
    with pytest.raises(ValueError, match="not aligned"):
        T.dot(a, b)
    x, y = T.dmatrix(), T.dmatrix()
    f = st.function([x, y], T.dot(x, y))
    with pytest.raises(ValueError, match=r"\(2, 3\) and \(4, 5\) are not aligned"):
        f(np.ones((2, 3)), np.ones((4, 5)))


def test_matmul_operator(rng):
    a, b = T.dmatrix(), T.dvector()
    va, vb = rand(rng, (3, 4)), rand(rng, (4,))
    check_numpy([a, b], a @ b, lambda x, y: x @ y, [va, vb])
    check_numpy([a], a @ vb, lambda x: x @ vb, [va])
    assert isinstance((a @ b).owner.op, Dot)


def test_outer(rng):
    x, y = T.dvector(), T.fvector()
    vx, vy = rand(rng, (3,)), rand(rng, (4,), "float32")
    out = T.outer(x, y)
    assert out.dtype == "float64"
    check_numpy([x, y], out, np.outer, [vx, vy])
    check_infer_shape([x, y], out, [vx, vy])
    st.verify_grad(T.outer, [vx, rand(rng, (4,))], rng=rng)
    m = T.dmatrix()
    check_numpy([x, m], T.outer(x, m), np.outer, [vx, rand(rng, (2, 2))])


# ------------------------------------------------------------------ tensordot

TENSORDOT = [
    ((2, 3, 4), (3, 4, 5), 2),
    ((2, 3, 4), (4, 5), 1),
    ((2, 3), (4, 5), 0),
    ((2, 3, 4), (3, 4, 5), [[1, 2], [0, 1]]),
    ((2, 3, 4), (4, 2), [[0, 2], [1, 0]]),
    ((3, 4), (4, 3), [[1], [0]]),
    ((3, 4), (3, 5), [[0], [0]]),
    ((3, 4), (5, 4), [[-1], [-1]]),
    ((3, 4), (3, 4), [[0, 1], [0, 1]]),
]


@pytest.mark.parametrize("sa,sb,axes", TENSORDOT, ids=str)
def test_tensordot(rng, sa, sb, axes):
    a = T.TensorType("float64", (False,) * len(sa))()
    b = T.TensorType("float64", (False,) * len(sb))()
    out = T.tensordot(a, b, axes)
    va, vb = rand(rng, sa), rand(rng, sb)
    np_axes = axes if isinstance(axes, int) else (axes[0], axes[1])
    assert out.ndim == np.tensordot(va, vb, np_axes).ndim
    check_numpy([a, b], out, lambda x, y: np.tensordot(x, y, np_axes), [va, vb])
    check_numpy([a, b], out, lambda x, y: np.tensordot(x, y, np_axes), [noncontiguous(va), noncontiguous(vb)])
    check_infer_shape([a, b], out, [va, vb])
    st.verify_grad(lambda x, y: T.tensordot(x, y, axes), [va, vb], rng=rng)


def test_tensordot_mismatched_axes():
    with pytest.raises(ValueError, match="as many axes"):
        T.tensordot(T.dmatrix(), T.dmatrix(), [[0, 1], [0]])


# ------------------------------------------------------------------ batched_dot

BATCHED = [((3, 2, 4), (3, 4, 5)), ((3, 2, 4), (3, 4)), ((3, 4), (3, 4, 5)), ((3, 4), (3, 4))]


def _np_batched_dot(x, y):
    return np.stack([np.dot(a, b) for a, b in zip(x, y)])


@pytest.mark.parametrize("sa,sb", BATCHED, ids=str)
def test_batched_dot(rng, sa, sb):
    a = T.TensorType("float64", (False,) * len(sa))()
    b = T.TensorType("float64", (False,) * len(sb))()
    out = T.batched_dot(a, b)
    va, vb = rand(rng, sa), rand(rng, sb)
    assert out.ndim == _np_batched_dot(va, vb).ndim
    check_numpy([a, b], out, _np_batched_dot, [va, vb])
    check_numpy([a, b], out, _np_batched_dot, [noncontiguous(va), noncontiguous(vb)])
    check_infer_shape([a, b], out, [va, vb])
    st.verify_grad(T.batched_dot, [va, vb], rng=rng)


def test_batched_dot_dtype_and_errors(rng):
    a, b = T.ftensor3(), T.dtensor3()
    assert T.batched_dot(a, b).dtype == "float64"
    with pytest.raises(TypeError, match="2-d or 3-d"):
        BatchedDot()(T.dvector(), T.dmatrix())
    x, y = T.dtensor3(), T.dtensor3()
    f = st.function([x, y], T.batched_dot(x, y))
    with pytest.raises(ValueError, match="not aligned"):
        f(np.ones((3, 2, 4)), np.ones((2, 4, 5)))


def test_batched_tensordot(rng):
    x, y = T.dtensor3(), T.dtensor3()
    vx, vy = rand(rng, (2, 3, 4)), rand(rng, (2, 4, 5))
    out = T.batched_tensordot(x, y, [[2], [1]])
    check_numpy([x, y], out, _np_batched_dot, [vx, vy])
    st.verify_grad(lambda a, b: T.batched_tensordot(a, b, [[2], [1]]), [vx, vy], rng=rng)


# ------------------------------------------------------------------ small composite helpers

def test_composite_helpers(rng):
    x, y, z = T.dvector(), T.dvector(), T.dvector()
    vx, vy, vz = rand(rng, (5,)), rand(rng, (5,)), rand(rng, (5,))
    check_numpy([x], T.deg2rad(x), np.deg2rad, [vx])
    check_numpy([x], T.rad2deg(x), np.rad2deg, [vx])
    check_numpy([x], T.inv(x), lambda a: 1 / a, [vx])
    check_numpy([x, y, z], T.largest(x, y, z), lambda a, b, c: np.maximum(np.maximum(a, b), c), [vx, vy, vz])
    check_numpy([x, y, z], T.smallest(x, y, z), lambda a, b, c: np.minimum(np.minimum(a, b), c), [vx, vy, vz])
    check_numpy([x], T.iround(x), lambda a: np.sign(a) * np.floor(np.abs(a) + 0.5), [vx])
    check_numpy([x], T.ifloor(x), np.floor, [vx])
    check_numpy([x], T.iceil(x), np.ceil, [vx])
    assert T.iround(x).dtype == "int64"
    assert T.deg2rad(T.bvector()).dtype == "float32"
    st.verify_grad(lambda a: T.deg2rad(a), [vx], rng=rng)
    a, b = T.ivector(), T.ivector()
    va, vb = np.array([7, -7, 6, 0], "int32"), np.array([2, 2, 3, 5], "int32")
    got = st.function([a, b], T.ceil_intdiv(a, b))(va, vb)
    np.testing.assert_array_equal(got, -(-va // vb))
    assert got.dtype == "int32"


def test_isclose_allclose():
    x, y = T.dvector(), T.dvector()
    v = np.array([1.0, np.nan, 2.0])
    w = np.array([1.0 + 1e-9, np.nan, 2.1])
    np.testing.assert_array_equal(st.function([x, y], T.isclose(x, y))(v, w), [True, False, False])
    np.testing.assert_array_equal(st.function([x, y], T.isclose(x, y, equal_nan=True))(v, w), [True, True, False])
    assert not st.function([x, y], T.allclose(x, y))(v, w)
    assert st.function([x, y], T.allclose(x, y))(v[:1], w[:1])
