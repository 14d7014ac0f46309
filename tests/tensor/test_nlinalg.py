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
