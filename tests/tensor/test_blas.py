"""BLAS-shaped ops (Gemm, Gemv, Ger, Dot22): values against NumPy, in-place contract, grads, shapes, errors."""

import numpy as np
import pytest

import symtensor as st
import symtensor.tensor as T
from symtensor.compile.mode import Mode
from symtensor.tensor import blas
from symtensor.tensor.type import TensorType
from tests.helpers import check_infer_shape, noncontiguous, rand, tolerance

NO_REWRITES = Mode(optimizer=None)


def _ref_gemm(z, a, x, y, b):
    prod = np.zeros_like(z) if a == 0 else a * np.dot(x, y)
    return prod if b == 0 else b * z + prod


def _ref_gemv(y, a, A, x, b):  # noqa: N803
    prod = np.zeros_like(y) if a == 0 else a * np.dot(A, x)
    return prod if b == 0 else b * y + prod


def _ref_ger(A, a, x, y):  # noqa: N803
    return A.copy() if a == 0 else A + a * np.outer(x, y)


def _ref_dot22(x, y):
    return np.dot(x, y)


# name: (op, reference, operand shapes (None marks a 0-d coefficient), which operands are coefficients)
OPS = {
    "gemm": (blas.gemm_no_inplace, blas.gemm_inplace, _ref_gemm, [(3, 5), None, (3, 4), (4, 5), None]),
    "gemv": (blas.gemv_no_inplace, blas.gemv_inplace, _ref_gemv, [(3,), None, (3, 4), (4,), None]),
    "ger": (blas.ger, blas.ger_destructive, _ref_ger, [(3, 4), None, (3,), (4,)]),
    "dot22": (blas.dot22, None, _ref_dot22, [(3, 4), (4, 5)]),
}
COEFFICIENTS = [(0.0, 0.0), (1.0, 1.0), (0.0, 1.0), (1.0, 0.0), (-1.5, 0.5)]
LAYOUTS = ["c", "fortran", "noncontiguous", "transposed_view"]


def _variables(shapes, dtype):
    return [TensorType(dtype, shape=(None,) * (0 if s is None else len(s)))(f"in{k}") for k, s in enumerate(shapes)]


def _layout(arr, layout):
    if arr.ndim == 0 or layout == "c":
        return arr
    if layout == "fortran":
        return np.asfortranarray(arr)
    if layout == "noncontiguous":
        return noncontiguous(arr)
    return np.ascontiguousarray(arr.T).T  # a Fortran-ordered view reached by transposing


def _values(rng, shapes, dtype, coefficients=()):
    coefs = iter(coefficients)
    out = []
    for s in shapes:
        if s is None:
            out.append(np.asarray(next(coefs, 1.5), dtype=dtype))
        elif np.dtype(dtype).kind == "c":
            out.append((rand(rng, s, "float64") + 1j * rand(rng, s, "float64")).astype(dtype))
        else:
            out.append(rand(rng, s, dtype))
    return out


def _coefficient_pairs(name):
    return COEFFICIENTS if name != "dot22" else [()]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("name", sorted(OPS))
def test_matches_numpy_and_leaves_inputs_alone(name, layout, dtype, rng):
    op, _inplace, ref, shapes = OPS[name]
    inputs = _variables(shapes, dtype)
    out = op(*inputs)
    assert out.dtype == dtype
    f = st.function(inputs, out, mode=NO_REWRITES)
    for coefs in _coefficient_pairs(name):
        values = [_layout(v, layout) for v in _values(rng, shapes, dtype, coefs if name != "ger" else coefs[:1])]
        before = [v.copy() for v in values]
        got = f(*values)
        assert got.dtype == dtype
        np.testing.assert_allclose(got, ref(*before), rtol=tolerance(dtype), atol=tolerance(dtype))
        for v, b in zip(values, before):
            np.testing.assert_array_equal(v, b)  # the non-inplace op never writes into an input
            assert not np.shares_memory(got, v)


@pytest.mark.parametrize("dtype", ["float16", "complex128", "complex64"])
@pytest.mark.parametrize("name", sorted(OPS))
def test_numpy_fallback_dtypes(name, dtype, rng):
    op, _inplace, ref, shapes = OPS[name]
    inputs = _variables(shapes, dtype)
    f = st.function(inputs, op(*inputs), mode=NO_REWRITES)
    values = _values(rng, shapes, dtype, (0.5, 2.0))
    got = f(*values)
    assert got.dtype == dtype
    tol = 1e-2 if dtype == "float16" else tolerance(dtype)
    np.testing.assert_allclose(got, ref(*values), rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", ["float32", "float64", "complex128"])
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("name", ["gemm", "gemv", "ger"])
def test_inplace_variant_writes_into_its_first_input(name, layout, dtype, rng):
    _op, inplace, ref, shapes = OPS[name]
    assert inplace.destroy_map == {0: [0]} and inplace.inplace
    node = inplace.make_node(*_variables(shapes, dtype))
    for coefs in COEFFICIENTS:
        values = [_layout(v, layout) for v in _values(rng, shapes, dtype, coefs if name != "ger" else coefs[:1])]
        want = ref(*[v.copy() for v in values])
        storage = [[None]]
        inplace.perform(node, values, storage)
        got = storage[0][0]
        assert got is values[0], "the in-place op must return its first input"
        np.testing.assert_allclose(values[0], want, rtol=tolerance(dtype), atol=tolerance(dtype))


@pytest.mark.parametrize("dtype", ["float32", "float64", "complex128"])
@pytest.mark.parametrize("name", ["gemm", "gemv"])
def test_beta_zero_does_not_read_the_accumulator(name, dtype, rng):
    op, inplace, ref, shapes = OPS[name]
    inputs = _variables(shapes, dtype)
    f = st.function(inputs, op(*inputs), mode=NO_REWRITES)
    values = _values(rng, shapes, dtype, (2.0, 0.0))
    values[0][...] = np.nan
    got = f(*values)
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got, ref(*values), rtol=tolerance(dtype))


@pytest.mark.parametrize("dtype", ["float32", "float64", "complex128"])
@pytest.mark.parametrize("name", ["gemm", "gemv", "ger"])
def test_alpha_zero_does_not_compute_the_product(name, dtype, rng):
    op, inplace, ref, shapes = OPS[name]
    inputs = _variables(shapes, dtype)
    f = st.function(inputs, op(*inputs), mode=NO_REWRITES)
    values = _values(rng, shapes, dtype, (0.0, 2.0))
    values[2][...] = np.inf  # an operand of the product
    got = f(*values)
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got, ref(*values), rtol=tolerance(dtype))


@pytest.mark.parametrize("name,shapes", [
    ("gemm", [(2, 3), None, (2, 0), (0, 3), None]),
    ("gemm", [(0, 3), None, (0, 4), (4, 3), None]),
    ("gemv", [(2,), None, (2, 0), (0,), None]),
    ("gemv", [(0,), None, (0, 3), (3,), None]),
    ("ger", [(0, 3), None, (0,), (3,)]),
    ("dot22", [(2, 0), (0, 3)]),
], ids=["gemm_k0", "gemm_m0", "gemv_k0", "gemv_m0", "ger_m0", "dot22_k0"])
def test_empty_operands(name, shapes, rng):
    op, _inplace, ref, _ = OPS[name]
    inputs = _variables(shapes, "float64")
    values = _values(rng, shapes, "float64", (2.0, 3.0))
    got = st.function(inputs, op(*inputs), mode=NO_REWRITES)(*values)
    np.testing.assert_allclose(got, ref(*values))


def test_symbolic_coefficients_and_python_numbers(rng):
    z, x, y = T.dmatrices("z", "x", "y")
    a = T.iscalar("a")  # int32 fits float64: cast by make_node
    out = blas.gemm_no_inplace(z, a, x, y, 0.5)
    assert out.owner.inputs[1].dtype == "float64" and out.owner.inputs[4].dtype == "float64"
    f = st.function([z, a, x, y], out, mode=NO_REWRITES)
    Z, X, Y = rng.normal(size=(2, 3)), rng.normal(size=(2, 4)), rng.normal(size=(4, 3))
    np.testing.assert_allclose(f(Z, 3, X, Y), 0.5 * Z + 3 * X @ Y)


# ---------------------------------------------------------------- gradients

GRAD_CASES = {
    "gemm": [(3, 4), (), (3, 2), (2, 4), ()],
    "gemv": [(3,), (), (3, 2), (2,), ()],
    "ger": [(3, 4), (), (3,), (4,)],
    "dot22": [(3, 2), (2, 4)],
}


@pytest.mark.parametrize("name", sorted(GRAD_CASES))
def test_verify_grad(name, rng):
    op = OPS[name][0]
    pt = [rng.normal(size=s) + (0.5 if s == () else 0.0) for s in GRAD_CASES[name]]
    st.verify_grad(lambda *args: op(*args), pt, rng=rng)


def _reference_expression(name, args):
    if name == "gemm":
        z, a, x, y, b = args
        return b * z + a * T.dot(x, y)
    if name == "gemv":
        y, a, A, x, b = args  # noqa: N806
        return b * y + a * T.dot(A, x)
    if name == "ger":
        A, a, x, y = args  # noqa: N806
        return A + a * T.outer(x, y)
    return T.dot(*args)


@pytest.mark.parametrize("name", sorted(GRAD_CASES))
def test_R_op_matches_the_dot_expression(name, rng):
    op = OPS[name][0]
    shapes = GRAD_CASES[name]
    args = [TensorType("float64", shape=(None,) * len(s))(f"a{k}") for k, s in enumerate(shapes)]
    evals = [TensorType("float64", shape=(None,) * len(s))(f"e{k}") for k, s in enumerate(shapes)]
    got = st.Rop(op(*args), args, evals)
    want = st.Rop(_reference_expression(name, args), args, evals)
    f = st.function(args + evals, [got, want], mode=NO_REWRITES)
    values = [rng.normal(size=s) for s in shapes] * 2
    r_got, r_want = f(*values)
    np.testing.assert_allclose(r_got, r_want, rtol=1e-10)
    # only some eval points (the others are disconnected)
    part = st.Rop(op(*args), args[-1], evals[-1])
    ref_part = st.Rop(_reference_expression(name, args), args[-1], evals[-1])
    g = st.function(args + evals[-1:], [part, ref_part], mode=NO_REWRITES, on_unused_input="ignore")
    a_got, a_want = g(*values[:len(shapes)], values[len(shapes) - 1])
    np.testing.assert_allclose(a_got, a_want, rtol=1e-10)


# ---------------------------------------------------------------- shapes

@pytest.mark.parametrize("name", sorted(OPS))
def test_infer_shape(name, rng):
    op, _inplace, _ref, shapes = OPS[name]
    inputs = _variables(shapes, "float64")
    check_infer_shape(inputs, op(*inputs), _values(rng, shapes, "float64"))


def test_static_shapes_propagate():
    z = TensorType("float64", shape=(None, 5))("z")
    x = TensorType("float64", shape=(3, None))("x")
    y = T.dmatrix("y")
    assert blas.gemm_no_inplace(z, 1.0, x, y, 1.0).type.shape == (3, 5)
    assert blas.dot22(x, TensorType("float64", shape=(None, 7))()).type.shape == (3, 7)
    assert blas.ger(T.dmatrix(), 1.0, TensorType("float64", shape=(2,))(), T.dvector()).type.shape == (2, None)


# ---------------------------------------------------------------- props and errors

def test_props_and_printing():
    assert blas.Gemm(inplace=False) == blas.gemm_no_inplace
    assert hash(blas.Gemm(inplace=True)) == hash(blas.gemm_inplace)
    assert blas.gemm_inplace != blas.gemm_no_inplace
    assert blas.gemm_no_inplace.destroy_map == {} and blas.gemv_no_inplace.destroy_map == {}
    assert blas.ger.destroy_map == {} and blas.ger_destructive.destroy_map == {0: [0]}
    assert str(blas.gemm_inplace) == "Gemm{inplace}" and str(blas.gemv_no_inplace) == "Gemv{no_inplace}"
    assert str(blas.dot22) == "Dot22"


def test_function_refuses_inplace_op_unless_accepted(rng):
    z, x, y = T.dmatrices("z", "x", "y")
    out = blas.gemm_inplace(z, 1.0, x, y, 1.0)
    with pytest.raises(TypeError, match="in-place"):
        st.function([z, x, y], out, mode=NO_REWRITES)
    f = st.function([z, x, y], out, mode=NO_REWRITES, accept_inplace=True)
    Z, X, Y = rng.normal(size=(2, 2)), rng.normal(size=(2, 3)), rng.normal(size=(3, 2))
    Z0 = Z.copy()
    np.testing.assert_allclose(f(Z, X, Y), Z0 + X @ Y)
    np.testing.assert_array_equal(Z, Z0)  # the function copies an input it does not own


@pytest.mark.parametrize("build,error,match", [
    (lambda: blas.gemm_no_inplace(T.dvector(), 1.0, T.dmatrix(), T.dmatrix(), 1.0), TypeError,
     "argument z must be a matrix"),
    (lambda: blas.gemm_no_inplace(T.dmatrix(), 1.0, T.dtensor3(), T.dmatrix(), 1.0), TypeError,
     "argument x must be a matrix"),
    (lambda: blas.gemm_no_inplace(T.dmatrix(), 1.0, T.fmatrix(), T.dmatrix(), 1.0), TypeError,
     "one dtype.*x: float32"),
    (lambda: blas.gemm_no_inplace(T.imatrix(), 1, T.imatrix(), T.imatrix(), 1), TypeError,
     "float or complex, got dtype int32"),
    (lambda: blas.gemm_no_inplace(T.dmatrix(), T.dvector(), T.dmatrix(), T.dmatrix(), 1.0), TypeError,
     "alpha must be a scalar"),
    (lambda: blas.gemm_no_inplace(T.fmatrix(), T.dscalar(), T.fmatrix(), T.fmatrix(), 1.0), TypeError,
     "alpha has dtype float64, which does not fit.*float32"),
    (lambda: blas.gemm_no_inplace(T.fmatrix(), 0.1, T.fmatrix(), T.fmatrix(), 1.0), TypeError,
     "alpha=0.1 is not exactly representable in float32"),
    (lambda: blas.gemm_no_inplace(T.dmatrix(), 1.0, TensorType("float64", shape=(None, 3))(),
                                  TensorType("float64", shape=(4, None))(), 1.0), ValueError,
     "x's columns and y's rows have different static lengths"),
    (lambda: blas.gemv_no_inplace(T.dmatrix(), 1.0, T.dmatrix(), T.dvector(), 1.0), TypeError,
     "argument y must be a vector"),
    (lambda: blas.ger(T.dmatrix(), 1.0, T.dmatrix(), T.dvector()), TypeError, "argument x must be a vector"),
    (lambda: blas.dot22(T.dvector(), T.dmatrix()), TypeError, "Dot22: argument x must be a matrix"),
    (lambda: blas.dot22(T.lmatrix(), T.lmatrix()), TypeError, "float or complex"),
], ids=["z_rank", "x_rank", "mixed_dtype", "int", "alpha_rank", "alpha_dtype", "alpha_inexact",
        "static_misaligned", "gemv_rank", "ger_rank", "dot22_rank", "dot22_int"])
def test_bad_inputs_raise_clear_errors(build, error, match):
    with pytest.raises(error, match=match):
        build()


def test_inplace_destination_may_not_be_an_operand():
    z, y = T.dmatrices("z", "y")
    with pytest.raises(ValueError, match="in-place destination is also operand x"):
        blas.gemm_inplace(z, 1.0, z.T, y, 1.0)
    v = T.dvector()
    with pytest.raises(ValueError, match="also operand x"):
        blas.gemv_inplace(v, 1.0, T.dmatrix(), v, 1.0)


@pytest.mark.parametrize("name,shapes,match", [
    ("gemm", [(3, 5), None, (3, 4), (3, 5), None], r"in dot\(x, y\), shapes \(3, 4\) and \(3, 5\) are not aligned"),
    ("gemm", [(2, 5), None, (3, 4), (4, 5), None], r"z of shape \(2, 5\) does not match"),
    ("gemv", [(3,), None, (3, 4), (5,), None], r"in dot\(A, x\), shapes \(3, 4\) and \(5,\) are not aligned"),
    ("gemv", [(2,), None, (3, 4), (4,), None], r"y of shape \(2,\) does not match"),
    ("ger", [(3, 3), None, (3,), (4,)], r"A of shape \(3, 3\) does not match outer"),
    ("dot22", [(3, 4), (5, 2)], r"Dot22: shapes \(3, 4\) and \(5, 2\) are not aligned \(4 != 5\)"),
], ids=["gemm_xy", "gemm_z", "gemv_Ax", "gemv_y", "ger_A", "dot22"])
def test_runtime_shape_errors(name, shapes, match, rng):
    op = OPS[name][0]
    inputs = _variables(shapes, "float64")
    f = st.function(inputs, op(*inputs), mode=NO_REWRITES)
    with pytest.raises(ValueError, match=match):
        f(*_values(rng, shapes, "float64"))
