"""C kernels for sort/argsort, cumsum/cumprod, repeat, split and float arange equal the python linker
(perform is the reference), and the nodes really run as C."""

import numpy as np
import pytest

import symtensor as st
import symtensor.tensor as T
from helpers import assert_same_results, c_op_names, compile_c_and_py
from symtensor.compile.mode import Mode
from symtensor.link.c import compiler
from symtensor.tensor.type import TensorType

pytestmark = pytest.mark.skipif(not compiler.compiler_available(), reason="no C compiler on this machine")

C = Mode(linker="c", optimizer="fast_run")


def var(dtype, ndim, name="x"):
    return TensorType(dtype, (False,) * ndim)(name)


def values(rng, shape, dtype, spread=4):
    """Values with many ties (a small range), so that stability and tie order are exercised."""
    if dtype == "bool":
        return rng.random(shape) > 0.5
    data = rng.integers(-spread, spread + 1, size=shape)
    if np.dtype(dtype).kind == "u":
        data = np.abs(data)
    return data.astype(dtype)


def layouts(a):
    """The same values as C-contiguous, strided, negatively strided and Fortran-ordered arrays."""
    big = np.zeros(tuple(2 * s + 1 for s in a.shape), a.dtype)
    strided = big[tuple(slice(1, None, 2) for _ in a.shape)]
    strided[...] = a
    flipped = np.ascontiguousarray(a[(slice(None, None, -1),) * a.ndim])[(slice(None, None, -1),) * a.ndim]
    return [a, strided, flipped, np.asfortranarray(a)]


SORT_DTYPES = ["bool", "int8", "uint16", "int32", "int64", "uint64", "float32", "float64"]
#: per rank: the axes sorted along (one compiled function covers them all) and the shapes tried
SORT_AXES = {1: [0, -1], 2: [0, -1, 1], 3: [1, None, -3]}
SORT_SHAPES = [((7,), (3, 4), (2, 3, 4)), ((40,), (3, 70), (2, 20, 3)), ((1,), (70, 2), (3, 1, 2)),
               ((0,), (0, 3), (2, 0, 3)), ((2,), (3, 0), (0, 2, 2))]


def by_rank(dtype, axes):
    """One input per rank and the outputs ``fn(x, axis)`` for its axes."""
    xs = [var(dtype, nd, f"x{nd}") for nd in sorted(axes)]
    return xs, [(x, axis) for x in xs for axis in axes[x.ndim]]


@pytest.mark.parametrize("dtype", SORT_DTYPES)
def test_sort_and_argsort(dtype, rng):
    xs, cases = by_rank(dtype, SORT_AXES)
    fc, fp = compile_c_and_py(xs, [f(x, axis) for x, axis in cases for f in (T.sort, T.argsort)])
    assert {"SortOp", "ArgSortOp"} <= c_op_names(fc)
    for shapes in SORT_SHAPES:
        arrays = [layouts(values(rng, shape, dtype)) for shape in shapes]
        for layout in zip(*arrays):
            assert_same_results(fc, fp, *layout)


def test_argsort_is_stable_and_nans_go_last(rng):
    x = T.dvector("x")
    f = st.function([x], [T.sort(x), T.argsort(x), T.argsort(x, kind="quicksort")], mode=C)
    assert {"SortOp", "ArgSortOp"} <= c_op_names(f)
    a = np.array([2.0, np.nan, -0.0, 1.0, 0.0, np.nan, 1.0, -np.inf, 2.0] * 5)
    s, p, q = f(a)
    np.testing.assert_array_equal(p, np.argsort(a, kind="stable"))
    np.testing.assert_array_equal(q, p)
    np.testing.assert_array_equal(s, np.sort(a, kind="stable"))
    assert np.signbit(s[np.flatnonzero(s == 0)]).tolist() == [True, False] * 5  # -0.0 before 0.0, as given


def test_symbolic_sort_axis(rng):
    x, axis = T.imatrix("x"), T.lscalar("axis")
    fc, fp = compile_c_and_py([x, axis], [T.sort(x, axis), T.argsort(x, axis)])
    assert {"SortOp", "ArgSortOp"} <= c_op_names(fc)
    a = values(rng, (5, 6), "int32")
    for ax in (0, 1, -1, -2):
        assert_same_results(fc, fp, a, ax)
    with pytest.raises(IndexError, match="sort: axis 2 is out of range for 2-d tensors"):
        fc(a, 2)


CUM_DTYPES = ["bool", "int8", "uint8", "int32", "int64", "float32", "float64"]
CUM_AXES = {1: [None, 0], 2: [None, 0, -1], 3: [1]}
CUM_SHAPES = [((6,), (3, 4), (2, 3, 4)), ((0,), (0, 4), (2, 0, 4)), ((1,), (3, 0), (1, 1, 1))]


@pytest.mark.parametrize("dtype", CUM_DTYPES)
def test_cumsum_and_cumprod(dtype, rng):
    xs, cases = by_rank(dtype, CUM_AXES)
    outs = [f(x, axis) for x, axis in cases for f in (T.cumsum, T.cumprod)]
    assert outs[0].dtype == ("int64" if dtype == "bool" else dtype)
    fc, fp = compile_c_and_py(xs, outs)
    assert "CumOp" in c_op_names(fc)
    for shapes in CUM_SHAPES:
        arrays = [layouts(values(rng, shape, dtype, spread=3)) for shape in shapes]
        for layout in zip(*arrays):
            assert_same_results(fc, fp, *layout)


def test_integer_cumulative_overflow_wraps_like_numpy():
    x = T.bvector("x")
    fc, fp = compile_c_and_py([x], [T.cumsum(x), T.cumprod(x)])
    a = np.array([100, 100, -128, 127, 3, -7, 99], dtype="int8")
    assert_same_results(fc, fp, a)
    np.testing.assert_array_equal(fc(a)[1], np.cumprod(a, dtype="int8"))


@pytest.mark.parametrize("dtype", ["bool", "int16", "float32", "float64"])
def test_repeat(dtype, rng):
    x, k = var(dtype, 2), T.lscalar("k")
    counts = {axis: T.ivector(f"counts{axis}") for axis in (None, 0, 1)}
    outs = [out for axis in (None, 0, 1, -1) for out in
            (T.repeat(x, 2, axis=axis), T.repeat(x, counts[axis % 2 if axis else axis], axis=axis),
             T.repeat(x, k, axis=axis))]
    fc, fp = compile_c_and_py([x, k, *counts.values()], outs)
    assert "RepeatOp" in c_op_names(fc)
    lengths = {None: 12, 0: 3, 1: 4}
    good = [np.arange(n, dtype="int32") % 3 for n in lengths.values()]
    for a in layouts(values(rng, (3, 4), dtype)):
        assert_same_results(fc, fp, a, 3, *good)
        assert_same_results(fc, fp, a, 0, *[np.zeros_like(c) for c in good])
    with pytest.raises(ValueError, match="repeat: repeat counts must be >= 0"):
        fc(a, 1, good[0], good[1] - 1, good[2])
    with pytest.raises(ValueError, match="repeat: 5 repeat counts given for an axis of length 4"):
        fc(a, 1, good[0], good[1], np.ones(5, "int32"))
    with pytest.raises(ValueError, match="repeat: 3 repeat counts given for an axis of length 12"):
        fc(a, 1, good[0][:3], good[1], good[2])


def test_repeat_broadcastable_counts_and_zero_size(rng):
    x = T.dtensor3("x")
    one = TensorType("int64", (True,))("one")
    fc, fp = compile_c_and_py([x, one], [T.repeat(x, one, axis=1), T.repeat(x, one)])
    assert "RepeatOp" in c_op_names(fc)
    for shape in [(2, 3, 4), (0, 3, 2), (2, 0, 3)]:
        for a in layouts(values(rng, shape, "float64")):
            assert_same_results(fc, fp, a, np.array([3]))


@pytest.mark.parametrize("dtype", ["int8", "int64", "float32", "float64"])
def test_split(dtype, rng):
    x = var(dtype, 3)
    sizes = {axis: T.lvector(f"sizes{axis}") for axis in (0, 1, -1)}
    pieces = [p for axis, sz in sizes.items() for p in T.split(x, sz, 3, axis=axis)]
    fc, fp = compile_c_and_py([x, *sizes.values()], pieces)
    assert "Split" in c_op_names(fc)
    # split lengths along axes 0, 1 and -1 (of lengths 5, 6 and 4), empty pieces included
    cases = [([1, 2, 2], [3, 1, 2], [1, 1, 2]), ([0, 5, 0], [0, 0, 6], [4, 0, 0])]
    for a in layouts(values(rng, (5, 6, 4), dtype)):
        for case in cases:
            assert_same_results(fc, fp, a, *map(np.array, case))
    with pytest.raises(ValueError, match=r"Split: the split lengths \[1, 1, 1\] add up to 3, but axis 1"):
        fc(a, np.array([5, 0, 0]), np.array([1, 1, 1]), np.array([4, 0, 0]))
    with pytest.raises(ValueError, match=r"Split: split lengths must be >= 0, got \[-1, 6, 0\]"):
        fc(a, np.array([-1, 6, 0]), np.array([6, 0, 0]), np.array([4, 0, 0]))


def test_split_symbolic_axis_and_zero_size(rng):
    x, axis = T.dmatrix("x"), T.lscalar("axis")
    pieces = T.split(x, [1, 2], 2, axis=axis)
    fc, fp = compile_c_and_py([x, axis], pieces)
    assert "Split" in c_op_names(fc)
    assert_same_results(fc, fp, values(rng, (3, 0), "float64"), 0)
    assert_same_results(fc, fp, values(rng, (4, 3), "float64"), 1)
    assert_same_results(fc, fp, values(rng, (3, 4), "float64"), -2)
    with pytest.raises(IndexError, match="Split: axis 2 is out of range for 2-d tensors"):
        fc(values(rng, (3, 3), "float64"), 2)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_float_arange_equals_numpy_exactly(dtype):
    a, b, s = T.dscalar("a"), T.dscalar("b"), T.dscalar("s")
    out = T.arange(a, b, s, dtype=dtype)
    fc, fp = compile_c_and_py([a, b, s], out)
    assert "ARange" in c_op_names(fc)
    cases = [(0, 10, 1), (0.5, 7.3, 0.1), (-3.2, 4.9, 0.7), (1, 0, -0.01), (2.0, 2.0, 1.0), (0, 1, 3),
             (5, 0, 1), (0.1, 0.4, 0.1), (1e-3, 1.0, 1e-3), (1e-300, 2e-300, 1e-301), (0, 1e-300, 1e300),
             (0, -1e-300, 1e300), (-1, 1e5, 0.37)]
    for case in cases:
        got, want = fc(*case), fp(*case)
        assert got.dtype == want.dtype == dtype
        np.testing.assert_array_equal(got, want)
    with pytest.raises(ValueError, match="ARange: step must not be zero"):
        fc(0, 1, 0)
    with pytest.raises(ValueError, match="its length is not a finite array size"):
        fc(0, 1, 1e-320)


def test_float_arange_from_integer_and_float32_scalars():
    i, j = T.lscalar("i"), T.fscalar("j")
    outs = [T.arange(i, dtype="float32"), T.arange(j, i, 0.25), T.arange(i * 2, dtype="int32")]
    assert outs[1].dtype == "float64"
    fc, fp = compile_c_and_py([i, j], outs)
    assert "ARange" in c_op_names(fc)
    for n, start in [(7, 0.3), (0, -1.5), (40, 39.9)]:
        assert_same_results(fc, fp, n, np.float32(start))
        np.testing.assert_array_equal(fc(n, np.float32(start))[1], fp(n, np.float32(start))[1])
