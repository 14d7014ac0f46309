"""C kernels for views, indexing and small tensor builders equal the python linker (perform is the reference)."""

import numpy as np
import pytest

import symtensor as st
import symtensor.tensor as T
from symtensor import scalar as ts
from helpers import assert_same_results, c_op_names, compile_c_and_py
from symtensor.compile.mode import Mode
from symtensor.link.c import compiler
from symtensor.tensor.basic import scalar_from_tensor, tensor_from_scalar
from symtensor.tensor.subtensor import slice_length

pytestmark = pytest.mark.skipif(not compiler.compiler_available(), reason="no C compiler on this machine")

C = Mode(linker="c", optimizer="fast_run")
PY = Mode(linker="py", optimizer="fast_run")


def layouts(rng, shape, dtype):
    base = (rng.normal(size=shape) * 10).astype(dtype)
    big = np.zeros(tuple(2 * s for s in shape), dtype)
    strided = big[tuple(slice(None, None, 2) for _ in shape)]
    strided[...] = base
    return [base, strided, np.ascontiguousarray(base[::-1])[::-1], np.asfortranarray(base)]


@pytest.mark.parametrize("dtype", ["float32", "int64"])
def test_subtensor_views_constant_and_symbolic(rng, dtype):
    x = T.tensor3("x", dtype=dtype)
    i, j, k = T.lscalars("i", "j", "k")
    outs = [x[1], x[-1, 1:3], x[::2, ::-1, 1], x[i:j, :, k], x[i, ::-1], x[:, j:i:-1], x[1:, :-1], x[3:1],
            x[i:, j, k:]]
    fc, fp = compile_c_and_py([x, i, j, k], outs)
    assert "Subtensor" in c_op_names(fc)
    for a in layouts(rng, (3, 4, 5), dtype):
        for idx in [(0, 3, 1), (-2, -1, -5), (2, 0, 4)]:
            assert_same_results(fc, fp, a, *idx)
    with pytest.raises(IndexError, match=r"index 7 is out of bounds for axis 0 with size 3.*shape \(3, 4, 5\)"):
        fc(layouts(rng, (3, 4, 5), dtype)[0], 7, 0, 0)


def test_slice_bounds_follow_python(rng):
    """Every start/stop/step combination (None, negative, past the end) gives NumPy's slice."""
    x = T.dvector("x")
    a, b, c = T.lscalars("a", "b", "c")
    f = st.function([x, a, b, c], [x[a:b:c], x[a::c], x[:b:c], x[a:b]], mode=C)
    assert "Subtensor" in c_op_names(f)
    data = np.arange(6.0)
    for start in range(-8, 9, 3):
        for stop in range(-8, 9, 2):
            for step in (-7, -2, -1, 1, 2, 5):
                got = f(data, start, stop, step)
                want = [data[start:stop:step], data[start::step], data[:stop:step], data[start:stop]]
                for g, w in zip(got, want):
                    np.testing.assert_array_equal(g, w)
    with pytest.raises(ValueError, match="slice step cannot be zero"):
        f(data, 0, 3, 0)


def test_views_share_memory_and_outputs_stay_valid(rng):
    x = T.dmatrix("x")
    f = st.function([x], [x[1:, ::-1], x[0]], mode=C)
    a = rng.normal(size=(3, 4))
    first = f(a)
    np.testing.assert_array_equal(first[0], a[1:, ::-1])
    second = f(a * 2)
    np.testing.assert_array_equal(first[1], a[0])
    np.testing.assert_array_equal(second[1], 2 * a[0])


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32"])
def test_inc_and_set_subtensor(rng, dtype):
    x = T.matrix("x", dtype=dtype)
    y = T.matrix("y", dtype=dtype)
    v = T.vector("v", dtype=dtype)
    i = T.lscalar("i")
    r = T.row("r", dtype=dtype)
    outs = [T.set_subtensor(x[1:3], y), T.inc_subtensor(x[i, ::-1], v), T.inc_subtensor(x[:, 1], v[0]),
            T.set_subtensor(x[::2, i:], 7), T.inc_subtensor((x * 2)[1:3], y), T.set_subtensor((x + 1)[-1], v),
            T.inc_subtensor(x[1:], r)]
    fc, fp = compile_c_and_py([x, y, v, i, r], outs)
    ops = [n.op for n in fc.maker.run.plan.order if type(n.op).__name__ == "IncSubtensor"]
    assert not fc.maker.run.plan.python_nodes
    assert {op.inplace for op in ops} == {True, False}  # intermediates are updated in place, inputs never
    for a in layouts(rng, (4, 3), dtype):
        keep = a.copy()
        assert_same_results(fc, fp, a, rng.normal(size=(2, 3)).astype(dtype), rng.normal(size=3).astype(dtype), -1,
                    (rng.normal(size=(1, 3)) * 5).astype(dtype))
        np.testing.assert_array_equal(a, keep)
    r0 = np.ones((1, 3), dtype)
    with pytest.raises(ValueError, match=r"value of shape \(3, 3\) does not fit the indexed region of shape \(2, 3\)"):
        fc(a, np.zeros((3, 3), dtype), np.zeros(3, dtype), 0, r0)
    with pytest.raises(IndexError, match=r"index 9 is out of bounds for axis 0 with size 4"):
        fc(a, np.zeros((2, 3), dtype), np.zeros(3, dtype), 9, r0)


@pytest.mark.parametrize("dtype", ["float32", "float64", "int8"])
def test_advanced_subtensor1(rng, dtype):
    x = T.matrix("x", dtype=dtype)
    x3 = T.tensor3("x3", dtype=dtype)
    v = T.vector("v", dtype=dtype)
    idx = T.ivector("idx")
    lidx = T.lvector("lidx")
    outs = [x[idx], x3[lidx], v[idx], x.T[lidx]]
    fc, fp = compile_c_and_py([x, x3, v, idx, lidx], outs)
    assert "AdvancedSubtensor1" in c_op_names(fc)
    for a, a3 in zip(layouts(rng, (5, 3), dtype), layouts(rng, (5, 2, 3), dtype)):
        for ind, lind in (([0, 4, -1, -5, 2, 2], [0, 2, -3, 2]), ([], [])):
            assert_same_results(fc, fp, a, a3, a[:, 0], np.array(ind, "int32"), np.array(lind, "int64"))
    with pytest.raises(IndexError, match=r"index 5 is out of bounds for axis 0 with size 5.*x shape \(5, 3\)"):
        fc(a, a3, a[:, 0], np.array([1, 5], "int32"), np.array([0], "int64"))
    with pytest.raises(IndexError, match=r"index -6 is out of bounds for axis 0 with size 5"):
        fc(a, a3, a[:, 0], np.array([0], "int32"), np.array([-6], "int64"))


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
def test_advanced_inc_subtensor1_accumulates_duplicates(rng, dtype):
    x = T.matrix("x", dtype=dtype)
    y = T.matrix("y", dtype=dtype)
    r = T.vector("r", dtype=dtype)
    idx = T.lvector("idx")
    outs = [T.inc_subtensor(x[idx], y), T.set_subtensor(x[idx], r), T.inc_subtensor((x * 3)[idx], r),
            T.set_subtensor((x - 1)[idx], y)]
    fc, fp = compile_c_and_py([x, y, r, idx], outs)
    ops = [n.op for n in fc.maker.run.plan.order if type(n.op).__name__ == "AdvancedIncSubtensor1"]
    assert not fc.maker.run.plan.python_nodes and {op.inplace for op in ops} == {True, False}
    ind = np.array([1, -1, 1, 0, 1], "int64")
    for a in layouts(rng, (4, 3), dtype):
        keep = a.copy()
        assert_same_results(fc, fp, a, (rng.normal(size=(5, 3)) * 5).astype(dtype), (rng.normal(size=3) * 5).astype(dtype),
                    ind)
        np.testing.assert_array_equal(a, keep)
    got = fc(np.zeros((4, 3), dtype), np.ones((5, 3), dtype), np.ones(3, dtype), ind)[0]
    np.testing.assert_array_equal(got[:, 0], np.array([1, 3, 0, 1], dtype))
    with pytest.raises(IndexError, match=r"index 4 is out of bounds for axis 0 with size 4.*x shape \(4, 3\)"):
        fc(a, np.ones((1, 3), dtype), np.ones(3, dtype), np.array([4], "int64"))
    with pytest.raises(ValueError, match=r"value of shape \(2, 3\) does not fit the indexed region of shape \(1, 3\)"):
        fc(a, np.ones((2, 3), dtype), np.ones(3, dtype), np.array([0], "int64"))


def test_coordinate_advanced_indexing_and_its_gradient(rng):
    """x[arange(n), y] (the log-likelihood pick) and its gradient, an in-place coordinate increment."""
    x = T.dmatrix("x")
    y = T.ivector("y")
    rows = T.lvector("rows")
    picked = x[T.arange(y.shape[0]), y]
    outs = [picked, st.grad((picked ** 2).sum(), x), x[rows, y], T.inc_subtensor(x[rows, y], 1.0)]
    fc, fp = compile_c_and_py([x, y, rows], outs)
    names = c_op_names(fc)
    assert {"AdvancedSubtensor", "AdvancedIncSubtensor", "ARange"} <= names
    for a in layouts(rng, (4, 3), "float64"):
        assert_same_results(fc, fp, a, np.array([2, 0, -1, 2], "int32"), np.array([3, 3, 0, -4], "int64"))
    with pytest.raises(IndexError, match=r"index 3 is out of bounds for axis 1 with size 3.*x shape \(4, 3\)"):
        fc(a, np.array([2, 0, 3, 2], "int32"), np.array([0, 0, 0, 0], "int64"))
    with pytest.raises(IndexError, match=r"shape mismatch.*\(3,\) \(4,\)"):
        fc(a, np.array([2, 0, 1, 2], "int32"), np.array([0, 1, 2], "int64"))


def test_builders_alloc_makevector_join_arange(rng):
    x, y = T.dmatrices("x", "y")
    v = T.dvector("v")
    n, m, i = T.lscalars("n", "m", "i")
    b = T.bvector("b")
    outs = [T.alloc(v, n, v.shape[0]), T.zeros((n, abs(m))), T.stack([n, m, i]), T.concatenate([x, y, x], axis=0),
            T.concatenate([x, y], axis=i), T.concatenate([v, T.cast(b, "float64")]), T.arange(n), T.arange(n, m, -2),
            T.arange(m, n, 3)]
    fc, fp = compile_c_and_py([x, y, v, n, m, i, b], outs)
    assert {"Alloc", "MakeVector", "Join", "ARange"} <= c_op_names(fc)
    for a, c in zip(layouts(rng, (2, 3), "float64"), layouts(rng, (2, 3), "float64")[::-1]):
        assert_same_results(fc, fp, a, c, a[0], 3, -4, 1, np.array([1, -2], "int8"))
        assert_same_results(fc, fp, a, c, a[0], 0, 5, -2, np.array([], "int8"))
    with pytest.raises(ValueError, match=r"Alloc: negative length in shape \(-1, 3\)"):
        fc(a, c, a[0], -1, 2, 0, np.array([1], "int8"))
    with pytest.raises(ValueError, match=r"Join: the tensors must have the same length.*\[\(2, 3\), \(2, 4\), \(2, 3\)\]"):
        fc(a, np.zeros((2, 4)), a[0], 1, 2, 0, np.array([1], "int8"))
    with pytest.raises(IndexError, match="Join: axis 2 is out of range for 2-d tensors"):
        fc(a, c, a[0], 1, 2, 2, np.array([1], "int8"))


def test_alloc_broadcasts_like_numpy(rng):
    v = T.fmatrix("v")
    n = T.lscalar("n")
    f = st.function([v, n], T.alloc(v, n, 2, 3), mode=C)
    assert "Alloc" in c_op_names(f)
    val = rng.normal(size=(1, 3)).astype("float32")
    np.testing.assert_array_equal(f(val, 4), np.broadcast_to(val, (4, 2, 3)))
    np.testing.assert_array_equal(f(val[:, ::-1], 0), np.zeros((0, 2, 3), "float32"))
    with pytest.raises(ValueError, match=r"Alloc: the value of shape \(2, 2\) does not fit the output of shape"):
        f(np.ones((2, 2), "float32"), 1)


def test_rebroadcast_specify_shape_and_scalars(rng):
    x = T.dmatrix("x")
    v = T.dvector("v")
    s = ts.ScalarType("float64")("s")
    outs = [T.addbroadcast(x, 0) + v, T.specify_shape(x, (None, 3)) * 2, tensor_from_scalar(s) * v,
            tensor_from_scalar(scalar_from_tensor(v.sum())) + 1]
    fc, fp = compile_c_and_py([x, v, s], outs)
    assert {"Rebroadcast", "SpecifyShape", "TensorFromScalar", "ScalarFromTensor"} <= c_op_names(fc)
    a = rng.normal(size=(1, 3))
    assert_same_results(fc, fp, a, a[0], 2.0)
    assert_same_results(fc, fp, a[:, ::-1], a[0], np.float64(-1.5))
    with pytest.raises(ValueError, match=r"Rebroadcast: axis 0 was declared broadcastable but has length 2 "
                                         r"\(input shape \(2, 3\)\)"):
        fc(np.ones((2, 3)), a[0], 1.0)
    with pytest.raises(ValueError, match=r"specify_shape: expected shape \(None, 3\), got \(1, 4\)"):
        fc(np.ones((1, 4)), np.ones(4), 1.0)


def test_slice_length_runs_in_c_and_matches_python():
    n, start, stop, step = T.lscalars("n", "start", "stop", "step")
    lengths = [slice_length(n, start, stop, step), slice_length(n, None, stop, step), slice_length(n, start, None, None),
               slice_length(n, None, None, step)]
    fc, fp = compile_c_and_py([n, start, stop, step], lengths)
    assert "SliceLength" in c_op_names(fc)
    for args in [(10, 2, 8, 3), (10, -3, -12, -2), (5, 7, 1, 1), (0, 0, 0, 1), (6, 100, -100, -1), (6, -100, 100, 4)]:
        assert_same_results(fc, fp, *[np.array(a) for a in args])
    with pytest.raises(ValueError, match="step cannot be zero"):
        fc(5, 0, 1, 0)
