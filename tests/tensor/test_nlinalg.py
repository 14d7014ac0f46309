"""T.nlinalg: inverse, determinants, eigh, SVD, QR, pinv, diagonals and helpers against numpy.linalg."""

import numpy as np
import pytest

import symtensor as st
import symtensor.tensor as T
from helpers import FLOAT_DTYPES, check_infer_shape, check_numpy, noncontiguous, rand
from symtensor.gradient import NullTypeGradError
from symtensor.tensor import nlinalg
from symtensor.tensor.type import TensorType


def mat(dtype="float64", name="x"):
    return TensorType(dtype, (False, False))(name)


def well_conditioned(rng, n, m=None, dtype="float64"):
    """A random matrix whose singular values stay away from 0 and from each other."""
    m = n if m is None else m
    q1, _ = np.linalg.qr(rng.standard_normal((n, n)))
    q2, _ = np.linalg.qr(rng.standard_normal((m, m)))
    s = np.zeros((n, m))
    k = min(n, m)
    s[np.arange(k), np.arange(k)] = np.linspace(1.0, 2.0 + 0.5 * k, k)
    return (q1 @ s @ q2).astype(dtype)


def spd(rng, n, dtype="float64"):
    """A symmetric positive-definite matrix with distinct, well separated eigenvalues."""
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    return ((q * np.linspace(1.0, 3.0, n)) @ q.T).astype(dtype)


def column_signs_fixed(v):
    """``v`` times the sign of its first row: invariant to the sign LAPACK gives each singular/eigen vector."""
    if isinstance(v, np.ndarray):
        return v * v[0:1]
    return v * v[0].dimshuffle("x", 0)


# ---------------------------------------------------------------- values against numpy.linalg

# name -> (symbolic function of one matrix, numpy reference, input shape)
VALUES = {
    "matrix_inverse": (nlinalg.matrix_inverse, np.linalg.inv, (4, 4)),
    "det": (nlinalg.det, np.linalg.det, (4, 4)),
    "slogdet_sign": (lambda x: nlinalg.slogdet(x)[0], lambda v: np.linalg.slogdet(v)[0], (4, 4)),
    "slogdet_logdet": (lambda x: nlinalg.slogdet(x)[1], lambda v: np.linalg.slogdet(v)[1], (4, 4)),
    "eigh_w": (lambda x: nlinalg.eigh(x)[0], lambda v: np.linalg.eigh(v)[0], (4, 4)),
    "eigh_v_upper": (lambda x: column_signs_fixed(nlinalg.eigh(x, "U")[1]),
                     lambda v: column_signs_fixed(np.linalg.eigh(v, "U")[1]), (4, 4)),
    "svd_s": (lambda x: nlinalg.svd(x, compute_uv=False), lambda v: np.linalg.svd(v, compute_uv=False), (5, 3)),
    "svd_u_full": (lambda x: column_signs_fixed(nlinalg.svd(x)[0][:, :3]),
                   lambda v: column_signs_fixed(np.linalg.svd(v)[0][:, :3]), (5, 3)),
    "svd_vt_reduced": (lambda x: column_signs_fixed(nlinalg.svd(x, full_matrices=False)[2].T),
                       lambda v: column_signs_fixed(np.linalg.svd(v, full_matrices=False)[2].T), (3, 5)),
    "qr_q": (lambda x: nlinalg.qr(x)[0], lambda v: np.linalg.qr(v)[0], (5, 3)),
    "qr_r": (lambda x: nlinalg.qr(x)[1], lambda v: np.linalg.qr(v)[1], (3, 5)),
    "qr_complete_q": (lambda x: nlinalg.qr(x, "complete")[0], lambda v: np.linalg.qr(v, "complete")[0], (5, 3)),
    "qr_mode_r": (lambda x: nlinalg.qr(x, "r"), lambda v: np.linalg.qr(v, "r"), (5, 3)),
    "qr_raw_h": (lambda x: nlinalg.qr(x, "raw")[0], lambda v: np.linalg.qr(v, "raw")[0], (5, 3)),
    "pinv": (nlinalg.pinv, np.linalg.pinv, (5, 3)),
    "trace": (nlinalg.trace, np.trace, (4, 3)),
    "extract_diag": (nlinalg.extract_diag, np.diagonal, (3, 5)),
    "diag_offset": (lambda x: nlinalg.ExtractDiag(-1)(x), lambda v: np.diagonal(v, -1), (4, 3)),
    "matrix_power_3": (lambda x: nlinalg.matrix_power(x, 3), lambda v: np.linalg.matrix_power(v, 3), (4, 4)),
    "matrix_power_-2": (lambda x: nlinalg.matrix_power(x, -2), lambda v: np.linalg.matrix_power(v, -2), (4, 4)),
    "matrix_power_0": (lambda x: nlinalg.matrix_power(x, 0), lambda v: np.linalg.matrix_power(v, 0), (3, 3)),
    "matrix_dot": (lambda x: nlinalg.matrix_dot(x, x.T, x), lambda v: v @ v.T @ v, (3, 4)),
}
SYMMETRIC = ("eigh_w", "eigh_v_upper")


@pytest.mark.parametrize("name", sorted(VALUES))
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_values_match_numpy(name, dtype, rng):
    fn, ref, shape = VALUES[name]
    x = mat(dtype)
    out = fn(x)
    assert out.dtype == dtype
    value = spd(rng, shape[0], dtype) if name in SYMMETRIC else well_conditioned(rng, *shape, dtype=dtype)
    tol = 2e-4 if dtype == "float32" else 1e-9
    check_numpy([x], out, lambda v: ref(v.astype("float64")), [value], rtol=tol, atol=tol)
    check_numpy([x], out, lambda v: ref(v.astype("float64")), [noncontiguous(value)], rtol=tol, atol=tol)


def test_eigh_reads_one_triangle(rng):
    x = mat()
    value = rand(rng, (4, 4))
    f = st.function([x], list(nlinalg.eigh(x, "L")) + list(nlinalg.eigh(x, "U")))
    w_l, _, w_u, _ = f(value)
    np.testing.assert_allclose(w_l, np.linalg.eigvalsh(value, "L"))
    np.testing.assert_allclose(w_u, np.linalg.eigvalsh(value, "U"))


def test_slogdet_of_negative_determinant(rng):
    x = mat()
    value = well_conditioned(rng, 3)
    value[0] *= -1 if np.linalg.det(value) > 0 else 1
    sign, logdet = st.function([x], nlinalg.slogdet(x))(value)
    assert sign == -1 and logdet == pytest.approx(np.log(abs(np.linalg.det(value))))


def test_svd_outputs_and_qr_modes(rng):
    x = mat()
    value = well_conditioned(rng, 5, 3)
    u, s, vt = st.function([x], nlinalg.svd(x))(value)
    assert u.shape == (5, 5) and s.shape == (3,) and vt.shape == (3, 3)
    np.testing.assert_allclose((u[:, :3] * s) @ vt, value, atol=1e-12)
    for mode in ("reduced", "complete", "r", "raw"):
        got = st.function([x], nlinalg.qr(x, mode))(value)
        want = np.linalg.qr(value, mode)
        for g, w in zip(got if isinstance(got, list) else [got], want if isinstance(want, tuple) else [want]):
            np.testing.assert_allclose(g, w, atol=1e-12)


def test_alloc_diag_and_diag(rng):
    v = T.dvector("v")
    value = rand(rng, (4,))
    check_numpy([v], nlinalg.alloc_diag(v), np.diag, [value])
    check_numpy([v], nlinalg.AllocDiag(2)(v), lambda a: np.diag(a, 2), [value])
    check_numpy([v], nlinalg.diag(v), np.diag, [value])
    x = mat()
    check_numpy([x], nlinalg.diag(x), np.diag, [rand(rng, (3, 4))])
    with pytest.raises(TypeError, match="diag"):
        nlinalg.diag(T.tensor3())


def test_n_dimensional_diagonals(rng):
    x = T.dtensor3("x")
    value = rand(rng, (3, 4, 5))
    op = nlinalg.ExtractDiag(1, 2, 0)
    check_numpy([x], op(x), lambda a: np.diagonal(a, 1, 2, 0), [value])
    check_infer_shape([x], op(x), [value])
    m = T.dmatrix("m")
    alloc = nlinalg.AllocDiag(-1, axis1=2, axis2=0)
    got = st.function([m], alloc(m))(value[0])
    assert got.shape == (6, 4, 6)
    np.testing.assert_allclose(np.diagonal(got, -1, 2, 0), value[0])
    assert np.count_nonzero(got) == np.count_nonzero(value[0])


def test_norms_match_numpy(rng):
    v, x = T.dvector("v"), mat()
    vec, m = rand(rng, (5,)), well_conditioned(rng, 4, 3)
    for ord_ in (None, np.inf, "-inf", 0, 1, 3):
        want = np.linalg.norm(vec, -np.inf if ord_ == "-inf" else ord_)
        assert st.function([v], nlinalg.norm(v, ord_))(vec) == pytest.approx(want)
    for ord_ in (None, "fro", "inf", -np.inf, 1, -1, "nuc", 2, -2):
        want = np.linalg.norm(m, {"inf": np.inf}.get(ord_, ord_))
        assert st.function([x], nlinalg.norm(x, ord_))(m) == pytest.approx(want)
    with pytest.raises(ValueError, match="invalid order"):
        nlinalg.norm(x, 3)


def test_integer_input_is_upcast_to_floatx(rng):
    x = T.imatrix("x")
    value = np.array([[2, 1], [1, 3]], dtype="int32")
    out = nlinalg.matrix_inverse(x)
    assert out.dtype == st.config.floatX
    np.testing.assert_allclose(st.function([x], out)(value), np.linalg.inv(value), rtol=1e-6)


# ---------------------------------------------------------------- errors

@pytest.mark.parametrize("op,name", [(nlinalg.matrix_inverse, "MatrixInverse"), (nlinalg.det, "Det"),
                                     (nlinalg.slogdet, "SLogDet"), (nlinalg.eigh, "Eigh")])
def test_square_ops_refuse_bad_inputs(op, name, rng):
    with pytest.raises(TypeError, match=f"{name}: x must be a matrix"):
        op(T.dvector())
    with pytest.raises(TypeError, match=f"{name}: x must be a real float"):
        op(T.zmatrix())
    with pytest.raises(ValueError, match=f"{name}: x must be a square matrix"):
        op(TensorType("float64", shape=(2, 3))())
    x = mat()
    f = st.function([x], op(x))
    with pytest.raises(ValueError, match=f"{name}: x must be a square matrix, got shape \\(2, 3\\)"):
        f(rand(rng, (2, 3)))


def test_other_ops_refuse_non_matrices():
    for op, name in ((nlinalg.svd, "SVD"), (nlinalg.qr, "QR"), (nlinalg.pinv, "MatrixPinv")):
        with pytest.raises(TypeError, match=f"{name}: x must be a matrix"):
            op(T.dtensor3())
    with pytest.raises(ValueError, match="QR: mode"):
        nlinalg.qr(mat(), "economic")
    with pytest.raises(ValueError, match="Eigh: UPLO"):
        nlinalg.eigh(mat(), "X")
    with pytest.raises(TypeError, match="ExtractDiag: x must have at least 2"):
        nlinalg.extract_diag(T.dvector())
    with pytest.raises(ValueError, match="axis1 and axis2 must differ"):
        nlinalg.ExtractDiag(0, 1, 1)(mat())
    with pytest.raises(TypeError, match="matrix_power: n must be"):
        nlinalg.matrix_power(mat(), 1.5)


# ---------------------------------------------------------------- shapes

@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (4, 4)])
def test_infer_shape(shape, rng):
    x = mat()
    value = well_conditioned(rng, *shape)
    outs = [*nlinalg.svd(x), *nlinalg.svd(x, False), nlinalg.svd(x, compute_uv=False),
            *nlinalg.qr(x), *nlinalg.qr(x, "complete"), nlinalg.qr(x, "r"), *nlinalg.qr(x, "raw"),
            nlinalg.pinv(x), nlinalg.extract_diag(x), nlinalg.ExtractDiag(2)(x), nlinalg.ExtractDiag(-4)(x)]
    check_infer_shape([x], outs, [value])
    v = T.dvector("v")
    check_infer_shape([v], [nlinalg.alloc_diag(v), nlinalg.AllocDiag(-2)(v)], [rand(rng, (3,))])


def test_infer_shape_square(rng):
    x = mat()
    outs = [nlinalg.matrix_inverse(x), nlinalg.det(x), *nlinalg.slogdet(x), *nlinalg.eigh(x)]
    check_infer_shape([x], outs, [spd(rng, 4)])


def test_static_shapes():
    x = TensorType("float64", shape=(None, 4))()
    assert nlinalg.matrix_inverse(x).type.shape == (4, 4)
    assert [o.type.shape for o in nlinalg.eigh(x)] == [(4,), (4, 4)]
    y = TensorType("float32", shape=(5, 3))()
    assert [o.type.shape for o in nlinalg.svd(y, full_matrices=False)] == [(5, 3), (3,), (3, 3)]
    assert [o.type.shape for o in nlinalg.qr(y, "complete")] == [(5, 5), (5, 3)]
    assert nlinalg.pinv(y).type.shape == (3, 5)


# ---------------------------------------------------------------- gradients

def sym(f):
    """``f`` of a symmetric matrix built from its argument, so finite differences see a symmetric input."""
    return lambda x: f((x + x.T) / 2)


# name -> (function of one matrix, input maker(rng, dtype))
GRADS = {
    "matrix_inverse": (nlinalg.matrix_inverse, lambda r, d: well_conditioned(r, 4, dtype=d)),
    "det": (nlinalg.det, lambda r, d: well_conditioned(r, 4, dtype=d)),
    "slogdet": (lambda x: nlinalg.slogdet(x)[1], lambda r, d: well_conditioned(r, 4, dtype=d)),
    "eigh_w": (lambda x: nlinalg.eigh(x)[0], lambda r, d: spd(r, 4, d)),
    "eigh_v": (lambda x: column_signs_fixed(nlinalg.eigh(x)[1]), lambda r, d: spd(r, 4, d)),
    "eigh_v_upper_sym": (sym(lambda x: column_signs_fixed(nlinalg.eigh(x, "U")[1])), lambda r, d: spd(r, 4, d)),
    "eigh_both": (lambda x: nlinalg.eigh(x)[0].sum() + nlinalg.eigh(x)[1][1:].sum() ** 2,
                  lambda r, d: spd(r, 3, d)),
    "svd_s_only": (lambda x: nlinalg.svd(x, compute_uv=False), lambda r, d: well_conditioned(r, 5, 3, d)),
    "svd_s_of_full": (lambda x: nlinalg.svd(x)[1], lambda r, d: well_conditioned(r, 3, 5, d)),
    "svd_u_tall": (lambda x: column_signs_fixed(nlinalg.svd(x, False)[0]), lambda r, d: well_conditioned(r, 5, 3, d)),
    "svd_vt_tall": (lambda x: column_signs_fixed(nlinalg.svd(x, False)[2]), lambda r, d: well_conditioned(r, 5, 3, d)),
    "svd_u_wide": (lambda x: column_signs_fixed(nlinalg.svd(x, False)[0]), lambda r, d: well_conditioned(r, 3, 5, d)),
    "svd_vt_wide": (lambda x: column_signs_fixed(nlinalg.svd(x, False)[2].T),
                    lambda r, d: well_conditioned(r, 3, 5, d)),
    "svd_all_square": (lambda x: sum(column_signs_fixed(o).sum() if o.ndim == 2 else o.sum()
                                     for o in nlinalg.svd(x)) + nlinalg.svd(x)[1].prod(),
                       lambda r, d: well_conditioned(r, 4, dtype=d)),
    "qr_tall": (lambda x: nlinalg.qr(x)[0].sum() + (nlinalg.qr(x)[1] ** 2).sum(),
                lambda r, d: well_conditioned(r, 5, 3, d)),
    "qr_q_square": (lambda x: nlinalg.qr(x)[0], lambda r, d: well_conditioned(r, 4, dtype=d)),
    "qr_r_square": (lambda x: nlinalg.qr(x)[1], lambda r, d: well_conditioned(r, 4, dtype=d)),
    "qr_q_wide": (lambda x: nlinalg.qr(x)[0], lambda r, d: well_conditioned(r, 3, 5, d)),
    "qr_r_wide": (lambda x: nlinalg.qr(x)[1], lambda r, d: well_conditioned(r, 3, 5, d)),
    "qr_mode_r": (lambda x: nlinalg.qr(x, "r"), lambda r, d: well_conditioned(r, 5, 3, d)),
    "qr_complete_wide": (lambda x: nlinalg.qr(x, "complete")[0], lambda r, d: well_conditioned(r, 3, 5, d)),
    "pinv_tall": (nlinalg.pinv, lambda r, d: well_conditioned(r, 5, 3, d)),
    "pinv_wide": (nlinalg.pinv, lambda r, d: well_conditioned(r, 3, 5, d)),
    "trace": (nlinalg.trace, lambda r, d: rand(r, (3, 4), d)),
    "extract_diag_offset": (nlinalg.ExtractDiag(1), lambda r, d: rand(r, (3, 5), d)),
    "extract_diag_transposed": (nlinalg.ExtractDiag(-1, 1, 0), lambda r, d: rand(r, (4, 3), d)),
    "alloc_diag": (lambda x: nlinalg.AllocDiag(1, 2, 0)(x), lambda r, d: rand(r, (2, 3), d)),
    "matrix_power": (lambda x: nlinalg.matrix_power(x, 3), lambda r, d: rand(r, (3, 3), d, -1, 1)),
    "norm_nuc": (lambda x: nlinalg.norm(x, "nuc"), lambda r, d: well_conditioned(r, 4, 3, d)),
}


@pytest.mark.parametrize("name", sorted(GRADS))
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_verify_grad(name, dtype, rng):
    fn, make = GRADS[name]
    T.verify_grad(fn, [make(rng, dtype)], rng=np.random.default_rng(3))


def test_eigh_gradient_is_zero_on_the_unread_triangle(rng):
    x = mat()
    g = st.function([x], T.grad(nlinalg.eigh(x, "L")[0][-1], x))(rand(rng, (4, 4)))
    assert np.all(np.triu(g, 1) == 0) and np.any(np.tril(g, -1) != 0)


def test_gradient_through_non_unique_factors_fails_at_run_time(rng):
    x = mat()
    value = well_conditioned(rng, 5, 3)
    u, s, vt = nlinalg.svd(x)
    # the first min(m, n) columns are unique: differentiable, and equal to the reduced SVD's gradient
    g_full = st.function([x], T.grad(column_signs_fixed(u[:, :3]).sum(), x))(value)
    u_r = nlinalg.svd(x, full_matrices=False)[0]
    g_reduced = st.function([x], T.grad(column_signs_fixed(u_r).sum(), x))(value)
    np.testing.assert_allclose(g_full, g_reduced, atol=1e-12)
    with pytest.raises(ValueError, match="SVD: the gradient with respect to the singular vectors past"):
        st.function([x], T.grad(u.sum(), x))(value)
    q = nlinalg.qr(x, "complete")[0]
    with pytest.raises(ValueError, match="QR: the gradient with respect to the columns of q past"):
        st.function([x], T.grad(q.sum(), x))(value)
    with pytest.raises(NullTypeGradError, match="raw"):
        T.grad(nlinalg.qr(x, "raw")[1].sum(), x)


def test_full_and_complete_factors_of_square_matrices_need_no_check():
    sq = TensorType("float64", shape=(3, 3))("z")
    for out in (nlinalg.svd(sq)[0], nlinalg.qr(sq, "complete")[0]):
        g = T.grad(out.sum(), sq)
        nodes = st.function([sq], g).maker.fgraph.toposort()
        assert not any(isinstance(n.op, nlinalg.UniqueFactorsCheck) for n in nodes)


@pytest.mark.parametrize("op", [nlinalg.matrix_inverse, nlinalg.det, lambda x: nlinalg.slogdet(x)[1],
                                nlinalg.extract_diag])
def test_r_op_matches_directional_derivative(op, rng):
    x, ev = mat(), mat(name="ev")
    out = op(x)
    jvp = st.function([x, ev], T.Rop(out, x, ev), on_unused_input="ignore")
    value, direction = well_conditioned(rng, 4), rand(rng, (4, 4))
    f = st.function([x], out)
    eps = 1e-6
    numeric = (f(value + eps * direction) - f(value - eps * direction)) / (2 * eps)
    np.testing.assert_allclose(jvp(value, direction), numeric, rtol=1e-6, atol=1e-8)


def test_unused_factors_cost_nothing_and_allow_repeated_values():
    """Gradients of eigenvalues / singular values alone skip the eigenvector terms, which divide by the gaps
    between values: they stay finite for a matrix with repeated values."""
    x = mat()
    for out in (nlinalg.eigh(x)[0], nlinalg.svd(x)[1], nlinalg.svd(x, compute_uv=False)):
        f = st.function([x], T.grad(out.sum(), x))
        names = {type(n.op).__name__ for n in f.maker.fgraph.toposort()}
        assert not names & {"UniqueFactorsCheck", "Eye"}
        np.testing.assert_allclose(f(np.eye(3)), np.eye(3), atol=1e-12)


# ---------------------------------------------------------------- eig, lstsq, tensorinv, tensorsolve

def real_spectrum(rng, n, dtype="float64"):
    """A non-symmetric matrix with real, well separated eigenvalues: P diag(d) P^-1."""
    p = well_conditioned(rng, n)
    return (p * np.linspace(-2.0, 3.0, n)) @ np.linalg.inv(p)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_eig_matches_numpy(dtype, rng):
    x = mat(dtype)
    w, v = nlinalg.eig(x)
    assert w.dtype == v.dtype == dtype and w.ndim == 1 and v.ndim == 2
    value = real_spectrum(rng, 4).astype(dtype)
    got_w, got_v = st.function([x], [w, v])(value)
    want_w, want_v = np.linalg.eig(value)
    tol = 1e-4 if dtype == "float32" else 1e-10
    np.testing.assert_allclose(got_w, want_w, rtol=tol, atol=tol)
    np.testing.assert_allclose(got_v, want_v, rtol=tol, atol=tol)
    np.testing.assert_allclose(value @ got_v, got_v * got_w, rtol=10 * tol, atol=10 * tol)
    check_infer_shape([x], [w, v], [value])
    assert [o.type.shape for o in nlinalg.eig(TensorType(dtype, shape=(3, None))())] == [(3,), (3, 3)]


def test_eig_refuses_complex_eigenvalues_and_bad_inputs(rng):
    x = mat()
    f = st.function([x], nlinalg.eig(x))
    with pytest.raises(ValueError, match="Eig: the matrix has complex eigenvalues"):
        f(np.array([[0.0, -1.0], [1.0, 0.0]]))
    with pytest.raises(ValueError, match="Eig: x must be a square matrix, got shape"):
        f(rand(rng, (2, 3)))
    with pytest.raises(TypeError, match="Eig: x must be a matrix"):
        nlinalg.eig(T.dvector())
    with pytest.raises(TypeError, match="Eig: x must be a real float"):
        nlinalg.eig(T.zmatrix())


def test_eig_has_no_gradient():
    x = mat()
    with pytest.raises(NullTypeGradError, match="general eigenproblem"):
        T.grad(nlinalg.eig(x)[0].sum(), x)


LSTSQ_CASES = {
    "tall_matrix_b": ((6, 3), (6, 2), -1),
    "tall_vector_b": ((6, 3), (6,), -1),
    "square": ((4, 4), (4, 3), -1),
    "wide": ((3, 5), (3, 2), -1),
    "rank_deficient": ((6, 3), (6, 2), -1),
    "rcond_drops_small_values": ((6, 3), (6,), 0.6),
}


def lstsq_inputs(name, rng, dtype="float64"):
    a_shape, b_shape, rcond = LSTSQ_CASES[name]
    a = well_conditioned(rng, *a_shape)
    if name == "rank_deficient":
        a[:, 2] = a[:, 0] + a[:, 1]
    return a.astype(dtype), rand(rng, b_shape, dtype), rcond


@pytest.mark.parametrize("name", sorted(LSTSQ_CASES))
def test_lstsq_matches_numpy(name, rng):
    value_a, value_b, rcond = lstsq_inputs(name, rng)
    a, b = mat(name="a"), TensorType("float64", shape=(None,) * value_b.ndim)("b")
    outs = nlinalg.lstsq(a, b, rcond)
    got = st.function([a, b], outs)(value_a, value_b)
    want = np.linalg.lstsq(value_a, value_b, rcond=rcond)
    for g, w in zip(got, want):
        assert np.shape(g) == np.shape(w)
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-10)
    assert got[2].dtype == "int64" and got[0].ndim == value_b.ndim
    check_infer_shape([a, b], outs, [value_a, value_b])


def test_lstsq_rank_and_residuals_follow_numpy_conventions(rng):
    a, b = mat(name="a"), T.dvector("b")
    f = st.function([a, b], nlinalg.lstsq(a, b, -1))
    _, residuals, rank, s = f(*lstsq_inputs("rank_deficient", rng)[:1], rand(rng, (6,)))
    assert rank == 2 and residuals.shape == (0,) and s.shape == (3,)
    _, residuals, rank, _ = f(*lstsq_inputs("tall_vector_b", rng)[:2])
    assert rank == 3 and residuals.shape == (1,)
    _, _, rank, _ = st.function([a, b], nlinalg.lstsq(a, b, 0.6))(*lstsq_inputs("rcond_drops_small_values", rng)[:2])
    assert rank < 3


@pytest.mark.parametrize("dtypes", [("float32", "float32"), ("float32", "float64"), ("int32", "float32")])
def test_lstsq_dtypes(dtypes, rng):
    a, b = TensorType(dtypes[0], (False, False))("a"), TensorType(dtypes[1], (False,))("b")
    x, residuals, rank, s = nlinalg.lstsq(a, b)
    want = np.result_type(*(st.config.floatX if d == "int32" else d for d in dtypes)).name
    assert x.dtype == residuals.dtype == s.dtype == want and rank.dtype == "int64"
    value_a = np.array([[1, 0], [0, 2], [1, 1]], dtype=dtypes[0])
    value_b = np.array([1, 2, 3], dtype=dtypes[1])
    got = st.function([a, b], x)(value_a, value_b)
    np.testing.assert_allclose(got, np.linalg.lstsq(value_a.astype(want), value_b, rcond=-1)[0], rtol=1e-5)


def test_lstsq_refuses_bad_inputs_and_has_no_gradient(rng):
    with pytest.raises(TypeError, match="Lstsq: a must be a matrix"):
        nlinalg.lstsq(T.dvector(), T.dvector())
    with pytest.raises(TypeError, match="Lstsq: b must be a vector or a matrix"):
        nlinalg.lstsq(mat(), T.dtensor3())
    with pytest.raises(TypeError, match="Lstsq: rcond must be a real scalar"):
        nlinalg.lstsq(mat(), T.dvector(), T.dvector())
    with pytest.raises(ValueError, match="Lstsq: a and b must have as many rows"):
        nlinalg.lstsq(TensorType("float64", shape=(3, 2))(), TensorType("float64", shape=(4,))())
    a, b = mat(name="a"), T.dvector("b")
    x = nlinalg.lstsq(a, b)[0]
    with pytest.raises(ValueError, match="Lstsq: a and b must have as many rows, got shapes"):
        st.function([a, b], x)(rand(rng, (3, 2)), rand(rng, (4,)))
    with pytest.raises(NullTypeGradError, match="no gradient for lstsq"):
        T.grad(x.sum(), a)


def invertible_tensor(rng, shape, ind, dtype="float64"):
    n = int(np.prod(shape[:ind]))
    return well_conditioned(rng, n, dtype=dtype).reshape(shape)


# name -> (shape of a, ind)
TENSORINV_CASES = {"ind2": ((2, 3, 3, 2), 2), "ind1": ((6, 2, 3), 1), "matrix": ((4, 4), 1), "ind3": ((2, 2, 2, 8), 3)}


@pytest.mark.parametrize("name", sorted(TENSORINV_CASES))
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_tensorinv_matches_numpy(name, dtype, rng):
    shape, ind = TENSORINV_CASES[name]
    a = TensorType(dtype, (False,) * len(shape))("a")
    out = nlinalg.tensorinv(a, ind)
    assert out.dtype == dtype
    value = invertible_tensor(rng, shape, ind, dtype)
    tol = 2e-4 if dtype == "float32" else 1e-10
    check_numpy([a], out, lambda v: np.linalg.tensorinv(v.astype("float64"), ind), [value], rtol=tol, atol=tol)
    check_numpy([a], out, lambda v: np.linalg.tensorinv(v.astype("float64"), ind), [noncontiguous(value)],
                rtol=tol, atol=tol)
    check_infer_shape([a], out, [value])


@pytest.mark.parametrize("name", sorted(TENSORINV_CASES))
def test_tensorinv_verify_grad(name, rng):
    shape, ind = TENSORINV_CASES[name]
    T.verify_grad(lambda a: nlinalg.tensorinv(a, ind), [invertible_tensor(rng, shape, ind)],
                  rng=np.random.default_rng(3))


def test_tensorinv_second_derivative_and_r_op(rng):
    a = T.dtensor3("a")
    value = invertible_tensor(rng, (6, 2, 3), 1)
    T.verify_grad(lambda x: T.grad((nlinalg.tensorinv(x, 1) ** 2).sum(), x), [value], rng=np.random.default_rng(3))
    ev = T.dtensor3("ev")
    out = nlinalg.tensorinv(a, 1)
    jvp = st.function([a, ev], T.Rop(out, a, ev))
    direction = rand(rng, value.shape)
    f = st.function([a], out)
    eps = 1e-6
    numeric = (f(value + eps * direction) - f(value - eps * direction)) / (2 * eps)
    np.testing.assert_allclose(jvp(value, direction), numeric, rtol=1e-6, atol=1e-8)


def test_tensorinv_static_shape_and_errors(rng):
    assert nlinalg.tensorinv(TensorType("float64", shape=(2, 3, None, 2))()).type.shape == (None, 2, 2, 3)
    with pytest.raises(ValueError, match="TensorInv: a of static shape .* is not square for ind=2"):
        nlinalg.tensorinv(TensorType("float64", shape=(2, 3, 2, 2))())
    with pytest.raises(TypeError, match="TensorInv: a must have at least ind=3 dimensions"):
        nlinalg.tensorinv(mat(), 3)
    with pytest.raises(ValueError, match="TensorInv: ind must be a positive integer"):
        nlinalg.tensorinv(mat(), 0)
    a = T.dtensor3("a")
    with pytest.raises(ValueError, match="TensorInv: a of shape \\(4, 2, 3\\) is not square for ind=1"):
        st.function([a], nlinalg.tensorinv(a, 1))(rand(rng, (4, 2, 3)))
    x = T.imatrix("x")
    assert nlinalg.tensorinv(x, 1).dtype == st.config.floatX


# name -> (shape of a, shape of b, axes)
TENSORSOLVE_CASES = {
    "matrix_vector": ((4, 4), (4,), None),
    "b_matrix": ((2, 3, 6), (2, 3), None),
    "x_matrix": ((6, 2, 3), (6,), None),
    "axes": ((2, 6, 3), (6,), (0, 2)),
    "negative_axes": ((3, 2, 2, 3), (2, 3), (-4, 1)),
}


def tensorsolve_inputs(name, rng, dtype="float64"):
    a_shape, b_shape, axes = TENSORSOLVE_CASES[name]
    perm = nlinalg.TensorSolve(axes)._permutation(len(a_shape))
    moved = invertible_tensor(rng, tuple(a_shape[i] for i in perm), len(b_shape), dtype)
    return np.transpose(moved, np.argsort(perm)).copy(), rand(rng, b_shape, dtype), axes


@pytest.mark.parametrize("name", sorted(TENSORSOLVE_CASES))
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_tensorsolve_matches_numpy(name, dtype, rng):
    value_a, value_b, axes = tensorsolve_inputs(name, rng, dtype)
    a = TensorType(dtype, (False,) * value_a.ndim)("a")
    b = TensorType(dtype, (False,) * value_b.ndim)("b")
    out = nlinalg.tensorsolve(a, b, axes)
    assert out.dtype == dtype and out.ndim == value_a.ndim - value_b.ndim
    tol = 2e-4 if dtype == "float32" else 1e-10

    def ref(va, vb):
        return np.linalg.tensorsolve(va.astype("float64"), vb.astype("float64"),
                                     None if axes is None else [ax % va.ndim for ax in axes])
    check_numpy([a, b], out, ref, [value_a, value_b], rtol=tol, atol=tol)
    check_numpy([a, b], out, ref, [noncontiguous(value_a), noncontiguous(value_b)], rtol=tol, atol=tol)
    check_infer_shape([a, b], out, [value_a, value_b])


@pytest.mark.parametrize("name", sorted(TENSORSOLVE_CASES))
def test_tensorsolve_verify_grad(name, rng):
    value_a, value_b, axes = tensorsolve_inputs(name, rng)
    T.verify_grad(lambda a, b: nlinalg.tensorsolve(a, b, axes), [value_a, value_b], rng=np.random.default_rng(3))


def test_tensorsolve_r_op(rng):
    value_a, value_b, axes = tensorsolve_inputs("axes", rng)
    a, b, da, db = T.dtensor3("a"), T.dvector("b"), T.dtensor3("da"), T.dvector("db")
    out = nlinalg.tensorsolve(a, b, axes)
    jvp = st.function([a, b, da, db], T.Rop(out, [a, b], [da, db]))
    dirs = rand(rng, value_a.shape), rand(rng, value_b.shape)
    f = st.function([a, b], out)
    eps = 1e-6
    numeric = (f(value_a + eps * dirs[0], value_b + eps * dirs[1])
               - f(value_a - eps * dirs[0], value_b - eps * dirs[1])) / (2 * eps)
    np.testing.assert_allclose(jvp(value_a, value_b, *dirs), numeric, rtol=1e-6, atol=1e-8)


def test_tensorsolve_static_shape_and_errors(rng):
    a3 = TensorType("float64", shape=(2, None, 3))()
    assert nlinalg.tensorsolve(a3, T.dvector(), axes=(0,)).type.shape == (3, 2)
    with pytest.raises(TypeError, match="TensorSolve: b must have at least 1 dimension and a more than b"):
        nlinalg.tensorsolve(mat(), mat())
    with pytest.raises(ValueError, match="TensorSolve: axes \\(0, 3\\) must be distinct axes"):
        nlinalg.tensorsolve(T.dtensor3(), T.dvector(), axes=(0, 3))
    with pytest.raises(ValueError, match="TensorSolve: a must have shape b.shape \\+ x.shape"):
        nlinalg.tensorsolve(TensorType("float64", shape=(2, 3, 6))(), TensorType("float64", shape=(3, 2))())
    with pytest.raises(ValueError, match="TensorSolve: a of static shape .* is not square"):
        nlinalg.tensorsolve(TensorType("float64", shape=(2, 3, 5))(), T.dvector())
    a, b = T.dtensor3("a"), T.dmatrix("b")
    f = st.function([a, b], nlinalg.tensorsolve(a, b))
    with pytest.raises(ValueError, match="TensorSolve: a must have shape b.shape \\+ x.shape .* got shapes"):
        f(rand(rng, (2, 3, 6)), rand(rng, (3, 2)))
    with pytest.raises(ValueError, match="TensorSolve: a of shape \\(2, 3, 5\\) is not square"):
        f(rand(rng, (2, 3, 5)), rand(rng, (2, 3)))
