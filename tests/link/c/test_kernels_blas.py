"""BLAS kernels (Dot in every matrix/vector form, Gemm, Gemv, Ger) equal perform over layouts and dtypes."""

import numpy as np
import pytest

import symtensor as st
import symtensor.tensor as T
from helpers import assert_same_results, c_op_names, compile_c_and_py
from symtensor.compile.mode import Mode
from symtensor.link.c import compiler, kernels_blas
from symtensor.tensor import blas

pytestmark = pytest.mark.skipif(not compiler.compiler_available(), reason="no C compiler on this machine")

#: no rewrites, so the ops built below reach the linker as they are
C_RAW = Mode(linker="c", optimizer=None)
PY_RAW = Mode(linker="py", optimizer=None)


def layouts(rng, shape, dtype):
    """The same values as C-contiguous, strided, negative-stride and Fortran arrays."""
    base = rng.normal(size=shape).astype(dtype)
    big = np.zeros(tuple(2 * s for s in shape), dtype)
    strided = big[tuple(slice(None, None, 2) for _ in shape)]
    strided[...] = base
    flipped = np.ascontiguousarray(base[(slice(None, None, -1),) * base.ndim])[(slice(None, None, -1),) * base.ndim]
    return {"contiguous": base, "strided": strided, "negative": flipped, "fortran": np.asfortranarray(base)}


def compile_raw(inputs, output):
    return (st.function(inputs, output, mode=C_RAW, accept_inplace=True),
            st.function(inputs, output, mode=PY_RAW, accept_inplace=True))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("form", ["matrix_vector", "vector_matrix", "vector_vector"])
def test_dot_with_vectors_runs_in_c(rng, dtype, form):
    m, v = T.matrix("m", dtype=dtype), T.vector("v", dtype=dtype)
    w = T.vector("w", dtype=dtype)
    inputs, out, shapes = {"matrix_vector": ([m, v], T.dot(m, v), [(5, 3), (3,)]),
                           "vector_matrix": ([v, m], T.dot(v, m), [(5,), (5, 3)]),
                           "vector_vector": ([v, w], T.dot(v, w), [(4,), (4,)])}[form]
    fc, fp = compile_c_and_py(inputs, out)
    assert "Dot" in c_op_names(fc) or "Gemv" in c_op_names(fc)
    first, second = (layouts(rng, s, dtype) for s in shapes)
    for lay in first:
        assert_same_results(fc, fp, first[lay], second[lay])


def test_dot_with_vectors_reports_misaligned_shapes(rng):
    m, v = T.dmatrix("m"), T.dvector("v")
    fc = st.function([m, v], T.dot(m, v), mode=Mode(linker="c"))
    with pytest.raises(ValueError, match="not aligned"):
        fc(np.ones((2, 3)), np.ones(4))


def test_dot_with_empty_inner_axis_is_zero():
    m, v = T.dmatrix("m"), T.dvector("v")
    fc, _ = compile_c_and_py([m, v], [T.dot(m, v), T.dot(v, v)])
    mv, vv = fc(np.ones((3, 0)), np.ones(0))
    np.testing.assert_array_equal(mv, np.zeros(3))
    assert vv == 0.0


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("inplace", [False, True])
def test_gemv_matches_perform_over_layouts(rng, dtype, inplace):
    y, a, x = T.vector("y", dtype=dtype), T.matrix("a", dtype=dtype), T.vector("x", dtype=dtype)
    alpha, beta = T.scalar("alpha", dtype=dtype), T.scalar("beta", dtype=dtype)
    op = blas.gemv_inplace if inplace else blas.gemv_no_inplace
    fc, fp = compile_raw([y, alpha, a, x, beta], op(y, alpha, a, x, beta))
    assert c_op_names(fc) == {"Gemv"}
    as_, xs = layouts(rng, (4, 6), dtype), layouts(rng, (6,), dtype)
    for lay in as_:
        for beta_value in (0.0, 0.5):
            coeffs = np.asarray(1.5, dtype), np.asarray(beta_value, dtype)
            # in place, each function overwrites its y: each gets the same values in the same layout
            y_c, y_p = (layouts(np.random.default_rng(7), (4,), dtype)[lay] for _ in range(2))
            got = fc(y_c, coeffs[0], as_[lay], xs[lay], coeffs[1])
            want = fp(y_p, coeffs[0], as_[lay], xs[lay], coeffs[1])
            np.testing.assert_allclose(got, want, rtol=1e-5 if dtype == "float32" else 1e-12, atol=1e-6)


def test_gemv_in_place_overwrites_a_strided_accumulator(rng):
    y, a, x = T.dvector("y"), T.dmatrix("a"), T.dvector("x")
    fc = st.function([st.In(y, mutable=True), a, x], blas.gemv_inplace(y, 2.0, a, x, 1.0), mode=C_RAW,
                     accept_inplace=True)
    big = np.zeros(8)
    acc = big[::2]
    acc[...] = [1.0, 2.0, 3.0, 4.0]
    amat, xvec = rng.normal(size=(4, 3)), rng.normal(size=3)
    want = acc + 2.0 * amat @ xvec
    fc(acc, amat, xvec)
    np.testing.assert_allclose(acc, want)
    np.testing.assert_array_equal(big[1::2], 0.0)  # the elements between were not touched


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("inplace", [False, True])
def test_ger_matches_perform_over_layouts(rng, dtype, inplace):
    a, x, y = T.matrix("a", dtype=dtype), T.vector("x", dtype=dtype), T.vector("y", dtype=dtype)
    alpha = T.scalar("alpha", dtype=dtype)
    op = blas.ger_destructive if inplace else blas.ger
    fc, fp = compile_raw([a, alpha, x, y], op(a, alpha, x, y))
    assert c_op_names(fc) == {"Ger"}
    xs, ys = layouts(rng, (5,), dtype), layouts(rng, (3,), dtype)
    for lay in xs:
        a_c, a_p = (layouts(np.random.default_rng(7), (5, 3), dtype)[lay] for _ in range(2))
        want = fp(a_p, np.asarray(0.7, dtype), xs[lay], ys[lay])
        got = fc(a_c, np.asarray(0.7, dtype), xs[lay], ys[lay])
        np.testing.assert_allclose(got, want, rtol=1e-5 if dtype == "float32" else 1e-12, atol=1e-6)


def test_ger_reports_shape_mismatch():
    a, x, y = T.dmatrix("a"), T.dvector("x"), T.dvector("y")
    fc = st.function([a, x, y], blas.ger(a, 1.0, x, y), mode=C_RAW)
    with pytest.raises(ValueError, match=r"outer\(x, y\)"):
        fc(np.ones((2, 3)), np.ones(2), np.ones(4))


def test_rewritten_gemv_and_ger_graphs_run_without_python_nodes(rng):
    """The BLAS rewrites produce Gemv/Ger from user graphs; the compiled graph stays in C."""
    a, x, y, z = T.dmatrix("a"), T.dvector("x"), T.dvector("y"), T.dmatrix("z")
    outs = [y + 2.0 * T.dot(a, x), z + 0.5 * T.outer(x, y)]
    fc, fp = compile_c_and_py([a, x, y, z], outs)
    names = c_op_names(fc)
    assert names & {"Gemv", "Ger"}, names
    assert_same_results(fc, fp, rng.normal(size=(4, 4)), rng.normal(size=4), rng.normal(size=4),
                        rng.normal(size=(4, 4)))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_batched_dot_of_matrices_runs_in_c(rng, dtype):
    x, y = T.tensor3("x", dtype=dtype), T.tensor3("y", dtype=dtype)
    fc, fp = compile_c_and_py([x, y], T.batched_dot(x, y))
    assert "BatchedDot" in c_op_names(fc)
    xs, ys = layouts(rng, (3, 4, 5), dtype), layouts(rng, (3, 5, 2), dtype)
    for lay in xs:
        assert_same_results(fc, fp, xs[lay], ys[lay], rtol=1e-5 if dtype == "float32" else None)
    assert fc(np.ones((0, 4, 5), dtype), np.ones((0, 5, 2), dtype)).shape == (0, 4, 2)
    with pytest.raises(ValueError, match="BatchedDot: shapes"):
        fc(np.ones((3, 4, 5), dtype), np.ones((2, 5, 2), dtype))


def products(a, b, z):
    """Dot22 and Gemm with beta 1 and 0 of the same operands."""
    return [blas.dot22(a, b), blas.gemm_no_inplace(z, 0.5, a, b, 1.0), blas.gemm_no_inplace(z, -1.0, a, b, 0.0)]


def assert_products_match(fc, rng, m, k, n, dtype):
    """fc(a, b, z) computes products(a, b, z): checked against NumPy on every layout of a (m, k) and b (k, n)."""
    as_, bs = layouts(rng, (m, k), dtype), layouts(rng, (k, n), dtype)
    zv = rng.normal(size=(m, n)).astype(dtype)
    tol = dict(rtol=2e-4, atol=2e-4) if dtype == "float32" else dict(rtol=1e-10, atol=1e-10)
    for lay_a in as_:
        for lay_b in bs:
            want = as_[lay_a].astype("float64") @ bs[lay_b].astype("float64")
            got = fc(as_[lay_a], bs[lay_b], zv)
            np.testing.assert_allclose(got[0], want, **tol)
            np.testing.assert_allclose(got[1], zv + 0.5 * want, **tol)
            np.testing.assert_allclose(got[2], -want, **tol)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shapes", [((160, 100), (100, 140)), ((40, 130), (130, 420))], ids=["tall", "wide"])
def test_large_products_split_over_threads_match_numpy(rng, dtype, shapes):
    """Products of 2M multiply-adds and more are cut into slabs of rows (tall) or columns (wide), one
    single-threaded BLAS call per OpenMP thread: every operand layout, Dot22 and Gemm with beta 0 and 1."""
    a, b, z = T.matrix("a", dtype=dtype), T.matrix("b", dtype=dtype), T.matrix("z", dtype=dtype)
    fc = st.function([a, b, z], products(a, b, z), mode=C_RAW)
    assert c_op_names(fc) == {"Dot22", "Gemm"}
    (m, k), (_, n) = shapes
    assert_products_match(fc, rng, m, k, n, dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shapes", [((20, 200), (200, 800)), ((5, 37), (37, 131)), ((32, 16), (16, 128)),
                                    ((1, 40), (40, 300))], ids=["lstm_step", "ragged", "edge", "one_row"])
def test_few_rows_times_a_long_operand_match_numpy(rng, dtype, shapes):
    """Few rows times a long operand (a recurrent step's h . U) skip BLAS and read the long operand in place:
    as B when it is row-major, as the A of C^T = B^T A^T when it is column-major; ragged edges are packed.
    Dot22 and Gemm with beta 0 and 1, on every layout of both operands, single- and multi-threaded sizes."""
    (m, k), (_, n) = shapes
    # the row count is static, as inside scan: only then is the module compiled with this path
    a, b = T.TensorType(dtype, shape=(m, None))("a"), T.matrix("b", dtype=dtype)
    z = T.TensorType(dtype, shape=(m, None))("z")
    fc = st.function([a, b, z], products(a, b, z), mode=C_RAW)
    assert all(kernels_blas.few_rows_product(node) for node in fc.maker.fgraph.toposort())
    assert_products_match(fc, rng, m, k, n, dtype)


def test_products_of_unknown_row_count_leave_the_few_rows_path_out():
    a, b = T.fmatrix("a"), T.fmatrix("b")
    fc = st.function([a, b], blas.dot22(a, b), mode=C_RAW)
    assert not any(kernels_blas.few_rows_product(node) for node in fc.maker.fgraph.toposort())
