"""T.slinalg: Cholesky, solves, eigvalsh, expm and kron against scipy.linalg."""

import numpy as np
import pytest
import scipy.linalg

import symtensor as st
import symtensor.tensor as T
from helpers import FLOAT_DTYPES, check_infer_shape, check_numpy, noncontiguous, rand
from symtensor.gradient import NullTypeGradError
from symtensor.tensor import slinalg
from symtensor.tensor.type import TensorType


def var(dtype, ndim, name=None):
    return TensorType(dtype, (False,) * ndim)(name)


def spd(rng, n, dtype="float64"):
    """A symmetric positive-definite matrix with distinct eigenvalues in [1, 3]."""
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    return ((q * np.linspace(1.0, 3.0, n)) @ q.T).astype(dtype)


def triangular(rng, n, lower, dtype="float64"):
    """A well-conditioned triangular matrix (garbage in the other triangle, which must be ignored)."""
    a = rand(rng, (n, n), "float64", -0.5, 0.5) + np.diag(rng.uniform(1.5, 2.5, n))
    keep = np.tril(a) if lower else np.triu(a)
    return (keep + 100 * (np.triu(a, 1) if lower else np.tril(a, -1))).astype(dtype)


def tol(dtype):
    return 2e-4 if dtype == "float32" else 1e-9


# ---------------------------------------------------------------- values

@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("lower", [True, False])
def test_cholesky(dtype, lower, rng):
    x = var(dtype, 2)
    out = slinalg.Cholesky(lower=lower)(x)
    assert out.dtype == dtype
    value = spd(rng, 5, dtype)
    value[np.triu_indices(5, 1) if lower else np.tril_indices(5, -1)] = 7.0  # the unread triangle
    ref = lambda v: scipy.linalg.cholesky(v.astype("float64"), lower=lower)  # noqa: E731
    check_numpy([x], out, ref, [value], rtol=tol(dtype), atol=tol(dtype))
    check_numpy([x], out, ref, [noncontiguous(value)], rtol=tol(dtype), atol=tol(dtype))
    assert slinalg.cholesky(x).owner.op == slinalg.Cholesky(lower=True)


def test_cholesky_not_positive_definite(rng):
    x = var("float64", 2)
    bad = -spd(rng, 3)
    with pytest.raises(np.linalg.LinAlgError, match="Cholesky: the matrix is not positive definite"):
        st.function([x], slinalg.cholesky(x))(bad)
    got = st.function([x], slinalg.Cholesky(on_error="nan")(x))(bad)
    assert got.shape == (3, 3) and np.all(np.isnan(got))
    g = st.function([x], T.grad(slinalg.Cholesky(on_error="nan")(x).sum(), x))(bad)
    assert np.all(np.isnan(g))


@pytest.mark.parametrize("structure", slinalg.STRUCTURES)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("b_ndim", [1, 2])
def test_solve(structure, dtype, b_ndim, rng):
    a, b = var(dtype, 2, "a"), var(dtype, b_ndim, "b")
    out = slinalg.Solve(structure)(a, b)
    assert out.dtype == dtype and out.ndim == b_ndim
    if structure.endswith("triangular"):
        lower = structure == "lower_triangular"
        a_val = triangular(rng, 4, lower, dtype)
        ref = lambda u, w: scipy.linalg.solve_triangular(u.astype("float64"), w, lower=lower)  # noqa: E731
    else:
        a_val = spd(rng, 4, dtype) if structure == "symmetric" else (rand(rng, (4, 4)) + 4 * np.eye(4)).astype(dtype)
        ref = lambda u, w: np.linalg.solve(u.astype("float64"), w)  # noqa: E731
    b_val = rand(rng, (4, 3)[:b_ndim], dtype)
    check_numpy([a, b], out, ref, [a_val, b_val], rtol=tol(dtype), atol=tol(dtype))
    check_numpy([a, b], out, ref, [noncontiguous(a_val), noncontiguous(b_val)], rtol=tol(dtype), atol=tol(dtype))


def test_solve_spellings():
    a, b = T.dmatrix("a"), T.dvector("b")
    assert slinalg.solve(a, b).owner.op == slinalg.Solve("general")
    assert slinalg.solve(a, b, assume_a="pos").owner.op == slinalg.Solve("symmetric")
    assert slinalg.solve(a, b, A_structure="lower_triangular", lower=True).owner.op == \
        slinalg.solve_lower_triangular
    assert slinalg.solve_upper_triangular(a, b).owner.op.A_structure == "upper_triangular"
    with pytest.raises(ValueError, match="assume_a"):
        slinalg.solve(a, b, assume_a="banded")
    with pytest.raises(ValueError, match="A_structure"):
        slinalg.Solve("diagonal")


@pytest.mark.parametrize("lower", [True, False])
@pytest.mark.parametrize("trans", [0, 1, "T"])
@pytest.mark.parametrize("unit_diagonal", [False, True])
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_solve_triangular(lower, trans, unit_diagonal, dtype, rng):
    a, b = var(dtype, 2, "a"), var(dtype, 2, "b")
    out = slinalg.solve_triangular(a, b, trans=trans, lower=lower, unit_diagonal=unit_diagonal)
    a_val, b_val = triangular(rng, 4, lower, dtype), rand(rng, (4, 2), dtype)

    def ref(u, w):
        return scipy.linalg.solve_triangular(u.astype("float64"), w, trans=trans, lower=lower,
                                             unit_diagonal=unit_diagonal)
    check_numpy([a, b], out, ref, [a_val, b_val], rtol=tol(dtype), atol=tol(dtype))


@pytest.mark.parametrize("lower", [True, False])
def test_cho_solve(lower, rng):
    c, b = T.dmatrix("c"), T.dmatrix("b")
    a_val = spd(rng, 4)
    c_val = scipy.linalg.cholesky(a_val, lower=lower)
    b_val = rand(rng, (4, 2))
    check_numpy([c, b], slinalg.cho_solve((c, lower), b), lambda u, w: np.linalg.solve(a_val, w), [c_val, b_val])


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("lower", [True, False])
@pytest.mark.parametrize("generalized", [False, True])
def test_eigvalsh(dtype, lower, generalized, rng):
    a, b = var(dtype, 2, "a"), var(dtype, 2, "b")
    a_val, b_val = rand(rng, (4, 4), dtype), spd(rng, 4, dtype)
    if generalized:
        out = slinalg.eigvalsh(a, b, lower=lower)
        check_numpy([a, b], out, lambda u, w: scipy.linalg.eigvalsh(u, w, lower=lower), [a_val, b_val],
                    rtol=tol(dtype), atol=tol(dtype))
    else:
        out = slinalg.eigvalsh(a, lower=lower)
        assert len(out.owner.inputs) == 1
        check_numpy([a], out, lambda u: scipy.linalg.eigvalsh(u, lower=lower), [a_val],
                    rtol=tol(dtype), atol=tol(dtype))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_expm_and_kron(dtype, rng):
    x = var(dtype, 2)
    value = rand(rng, (4, 4), dtype, -1, 1)
    check_numpy([x], slinalg.expm(x), lambda v: scipy.linalg.expm(v.astype("float64")), [value],
                rtol=tol(dtype), atol=tol(dtype))
    y, v, w = var(dtype, 2, "y"), var(dtype, 1, "v"), var(dtype, 3, "w")
    vals = [rand(rng, (2, 3), dtype), rand(rng, (3, 2), dtype), rand(rng, (4,), dtype), rand(rng, (2, 1, 3), dtype)]
    check_numpy([x, y], slinalg.kron(x, y), np.kron, vals[:2])
    check_numpy([x, v], slinalg.kron(v, x), lambda a, b: np.kron(b, a), [vals[1], vals[2]])
    check_numpy([v, w], slinalg.kron(w, v), lambda a, b: np.kron(b, a), [vals[2], vals[3]])


def test_integer_inputs_are_upcast(rng):
    a, b = T.lmatrix("a"), T.lvector("b")
    out = slinalg.solve(a, b)
    assert out.dtype == st.config.floatX
    a_val, b_val = np.array([[3, 1], [1, 2]]), np.array([1, 2])
    np.testing.assert_allclose(st.function([a, b], out)(a_val, b_val), np.linalg.solve(a_val, b_val), rtol=1e-6)


# ---------------------------------------------------------------- errors

def test_errors_name_the_op_and_the_argument(rng):
    with pytest.raises(TypeError, match="Cholesky: x must be a matrix"):
        slinalg.cholesky(T.dvector())
    with pytest.raises(ValueError, match="Cholesky: x must be a square matrix"):
        slinalg.cholesky(TensorType("float64", shape=(2, 3))())
    with pytest.raises(TypeError, match="Solve: b must be a vector or a matrix"):
        slinalg.solve(T.dmatrix(), T.dtensor3())
    with pytest.raises(TypeError, match="Solve: a must be a matrix"):
        slinalg.solve(T.dvector(), T.dvector())
    with pytest.raises(ValueError, match="Solve: a has 3 rows but b has 2"):
        slinalg.solve(TensorType("float64", shape=(3, 3))(), TensorType("float64", shape=(2,))())
    with pytest.raises(TypeError, match="SolveTriangular: a must be a real float"):
        slinalg.solve_triangular(T.zmatrix(), T.dvector())
    with pytest.raises(ValueError, match="SolveTriangular: trans"):
        slinalg.solve_triangular(T.dmatrix(), T.dvector(), trans=3)
    with pytest.raises(ValueError, match="Eigvalsh: a of static shape"):
        slinalg.eigvalsh(TensorType("float64", shape=(3, 3))(), TensorType("float64", shape=(2, 2))())
    with pytest.raises(ValueError, match="Cholesky: on_error"):
        slinalg.Cholesky(on_error="ignore")
    a, b = T.dmatrix("a"), T.dvector("b")
    f = st.function([a, b], slinalg.solve(a, b))
    with pytest.raises(ValueError, match="Solve: a must be a square matrix, got shape \\(2, 3\\)"):
        f(rand(rng, (2, 3)), rand(rng, (2,)))
    with pytest.raises(ValueError, match="Solve: a of shape \\(2, 2\\) and b of shape \\(3,\\) do not match"):
        f(rand(rng, (2, 2)), rand(rng, (3,)))
    with pytest.raises(ValueError, match="Expm: a must be a square matrix"):
        st.function([a], slinalg.expm(a))(rand(rng, (2, 3)))


# ---------------------------------------------------------------- shapes

def test_infer_shape(rng):
    a, b, v = T.dmatrix("a"), T.dmatrix("b"), T.dvector("v")
    outs = [slinalg.cholesky(a), slinalg.solve(a, b), slinalg.solve(a, v), slinalg.solve_triangular(a, b),
            slinalg.eigvalsh(a), slinalg.eigvalsh(a, a), slinalg.expm(a), slinalg.ExpmGrad()(a, a),
            slinalg.kron(b, a)]
    check_infer_shape([a, b, v], outs, [spd(rng, 4), rand(rng, (4, 2)), rand(rng, (4,))])
    assert slinalg.solve(TensorType("float64", shape=(None, 3))(), b).type.shape == (3, None)


# ---------------------------------------------------------------- gradients

def sym(f):
    """``f`` of the symmetric matrix x x' + n I, positive definite for any x."""
    return lambda x: f(T.dot(x, x.T) + 4 * T.eye(x.shape[0], dtype=x.dtype))


def square(rng, dtype, n=4):
    return (rand(rng, (n, n), "float64", -1, 1) + 3 * np.eye(n)).astype(dtype)


# name -> (function, input makers)
GRADS = {
    "cholesky_lower": (sym(slinalg.cholesky), [lambda r, d: rand(r, (4, 4), d)]),
    "cholesky_upper": (sym(lambda x: slinalg.Cholesky(lower=False)(x)), [lambda r, d: rand(r, (4, 4), d)]),
    "cholesky_one_triangle": (slinalg.cholesky, [lambda r, d: spd(r, 4, d)]),
    "cholesky_nan_mode": (sym(lambda x: slinalg.Cholesky(on_error="nan")(x)), [lambda r, d: rand(r, (3, 3), d)]),
    "solve_matrix": (slinalg.solve, [square, lambda r, d: rand(r, (4, 2), d)]),
    "solve_vector": (slinalg.solve, [square, lambda r, d: rand(r, (4,), d)]),
    "solve_symmetric": (slinalg.solve_symmetric, [lambda r, d: spd(r, 4, d), lambda r, d: rand(r, (4, 2), d)]),
    "solve_lower": (slinalg.solve_lower_triangular, [lambda r, d: triangular(r, 4, True, d),
                                                     lambda r, d: rand(r, (4, 2), d)]),
    "solve_upper_vector": (slinalg.solve_upper_triangular, [lambda r, d: triangular(r, 4, False, d),
                                                            lambda r, d: rand(r, (4,), d)]),
    "solve_triangular_lower_trans": (lambda a, b: slinalg.solve_triangular(a, b, trans=1, lower=True),
                                     [lambda r, d: triangular(r, 4, True, d), lambda r, d: rand(r, (4, 2), d)]),
    "solve_triangular_upper_unit": (lambda a, b: slinalg.solve_triangular(a, b, unit_diagonal=True),
                                    [lambda r, d: triangular(r, 4, False, d), lambda r, d: rand(r, (4,), d)]),
    "solve_triangular_upper_trans_unit": (
        lambda a, b: slinalg.solve_triangular(a, b, trans="T", unit_diagonal=True),
        [lambda r, d: triangular(r, 3, False, d), lambda r, d: rand(r, (3, 2), d)]),
    "cho_solve": (lambda c, b: slinalg.cho_solve((c, True), b),
                  [lambda r, d: triangular(r, 4, True, d), lambda r, d: rand(r, (4, 2), d)]),
    "eigvalsh": (slinalg.eigvalsh, [lambda r, d: spd(r, 4, d)]),
    "eigvalsh_upper": (lambda a: slinalg.eigvalsh(a, lower=False), [lambda r, d: spd(r, 4, d)]),
    "eigvalsh_generalized": (slinalg.eigvalsh, [lambda r, d: spd(r, 4, d),
                                                lambda r, d: spd(r, 4, d) + np.eye(4, dtype=d)]),
    "eigvalsh_generalized_upper": (lambda a, b: slinalg.eigvalsh(a, b, lower=False),
                                   [lambda r, d: spd(r, 3, d), lambda r, d: spd(r, 3, d) + np.eye(3, dtype=d)]),
    "expm": (slinalg.expm, [lambda r, d: rand(r, (3, 3), d, -1, 1)]),
    "expm_grad_in_g": (lambda g: slinalg.ExpmGrad()(T.constant(np.array([[0.1, 0.4], [-0.3, 0.2]], g.dtype)), g),
                       [lambda r, d: rand(r, (2, 2), d)]),
    "kron": (slinalg.kron, [lambda r, d: rand(r, (2, 3), d), lambda r, d: rand(r, (3, 2), d)]),
}


@pytest.mark.parametrize("name", sorted(GRADS))
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_verify_grad(name, dtype, rng):
    fn, makers = GRADS[name]
    T.verify_grad(fn, [m(rng, dtype) for m in makers], rng=np.random.default_rng(5))


def test_one_triangle_ops_have_zero_gradient_on_the_other(rng):
    a, b = T.dmatrix("a"), T.dmatrix("b")
    cost = slinalg.cholesky(a).sum() + slinalg.solve_triangular(a, b, lower=True).sum() + slinalg.eigvalsh(a)[-1]
    g = st.function([a, b], T.grad(cost, a))(spd(rng, 4), rand(rng, (4, 2)))
    assert np.all(np.triu(g, 1) == 0) and np.all(g[np.tril_indices(4, -1)] != 0)


def test_second_derivative_of_expm_is_not_implemented():
    x = T.dmatrix("x")
    g = T.grad(slinalg.expm(x).sum(), x)
    with pytest.raises(NullTypeGradError, match="second derivative of expm"):
        T.grad(g.sum(), x)
