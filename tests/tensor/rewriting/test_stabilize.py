"""Stability rewrites: expressions that overflow or lose digits get their exact forms.

For each: values equal to the unrewritten graph where that one is accurate,
the right answer where it is not, the stable op in the graph, and gradients
that verify.
"""

import numpy as np
import pytest
import scipy.special as sps

import symtensor as st
import symtensor.tensor as T
import symtensor.tensor.rewriting  # noqa: F401  (registers the rewrites)
from symtensor.compile.mode import Mode
from symtensor.tensor.elemwise import Elemwise

FAST_RUN = Mode(optimizer="fast_run")
NO_REWRITES = Mode(optimizer=None)
VISIBLE = FAST_RUN.excluding("fusion")
#: stabilize without the algebraic canonical forms (fast_compile): patterns must also match the raw graph
RAW = Mode(optimizer="fast_compile")


def scalar_ops(f):
    return [str(n.op.scalar_op) for n in f.maker.fgraph.toposort() if isinstance(n.op, Elemwise)]


def fired(f):
    return f.maker.fgraph.rewrite_log.counts()


def tol(dtype):
    return dict(rtol=1e-5, atol=1e-6) if dtype == "float32" else dict(rtol=1e-12, atol=1e-14)


# (id, expression of a vector x, rewrite that fires, op that must appear, op that must be gone,
#  extreme input, the right answer there)
CASES = [
    ("log1p", lambda x: T.log(1 + x), "log1p_from_log", "log1p", "log", 1e-20, 1e-20),
    ("log1p_r", lambda x: T.log(x + 1), "log1p_from_log", "log1p", "log", 1e-20, 1e-20),
    ("log1p_nary", lambda x: T.log(x + 1 + x), "log1p_from_log", "log1p", "log", 1e-20, 2e-20),
    ("log1p_of_minus", lambda x: T.log(1 - x), "log1p_from_log", "log1p", "log", 1e-20, -1e-20),
    ("expm1", lambda x: T.exp(x) - 1, "expm1_from_exp", "expm1", "exp", 1e-20, 1e-20),
    ("expm1_r", lambda x: -1 + T.exp(x), "expm1_from_exp", "expm1", "exp", 1e-20, 1e-20),
    ("expm1_nary", lambda x: T.exp(x) + x - 1, "expm1_from_exp", "expm1", "exp", 1e-20, 2e-20),
    ("log_sigmoid", lambda x: T.log(T.nnet.sigmoid(x)), "log_sigmoid", "softplus", "sigmoid", -1000.0, -1000.0),
    ("log_one_minus_sigmoid", lambda x: T.log(1 - T.nnet.sigmoid(x)), None, "softplus", "sigmoid",
     1000.0, -1000.0),
    ("one_minus_sigmoid", lambda x: 1 - T.nnet.sigmoid(x), "one_minus_sigmoid", "sigmoid", "add",
     50.0, sps.expit(-50.0)),
    ("softplus", lambda x: T.log(1 + T.exp(x)), None, "softplus", "exp", 1000.0, 1000.0),
    ("softplus_r", lambda x: T.log(T.exp(x) + 1), None, "softplus", "exp", 1000.0, 1000.0),
    ("softplus_neg", lambda x: T.log(1 + T.exp(x)), None, "softplus", "exp", -40.0, np.log1p(np.exp(-40.0))),
    ("log_exp", lambda x: T.log(T.exp(x)), "log_of_exp", None, "exp", 1000.0, 1000.0),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_stable_form_keeps_values(case, dtype, rng):
    _name, build, rewrite, present, gone, _x, _want = case
    x = T.vector("x", dtype=dtype)
    expr = build(x)
    f = st.function([x], expr, mode=VISIBLE)
    ref = st.function([x], expr, mode=NO_REWRITES)
    assert f.maker.fgraph.outputs[0].type == expr.type
    a = rng.uniform(0.1, 0.9, size=5).astype(dtype)  # where the raw form is accurate too
    np.testing.assert_allclose(f(a), ref(a), **tol(dtype))
    ops = scalar_ops(f)
    if rewrite is not None:
        assert rewrite in fired(f), fired(f)
    assert present is None or present in ops, ops
    assert gone not in ops, ops


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_stable_form_right_where_raw_form_fails(case):
    _name, build, _rewrite, _present, _gone, x_val, want = case
    x = T.dvector("x")
    f = st.function([x], build(x), mode=FAST_RUN)
    got = f(np.array([x_val]))[0]
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=0)
    raw = st.function([x], build(x), mode=NO_REWRITES)(np.array([x_val]))[0]
    assert not np.isclose(raw, want, rtol=1e-6, atol=0), "the case must be one the raw graph gets wrong"


GRAD_CASES = [c for c in CASES if c[0] != "log_exp"]


@pytest.mark.parametrize("case", GRAD_CASES, ids=[c[0] for c in GRAD_CASES])
def test_gradient_of_stable_form_verifies(case, rng):
    st.verify_grad(case[1], [rng.uniform(0.1, 0.9, size=4)], mode=FAST_RUN, rng=rng)


RAW_CASES = [c for c in CASES if c[0] not in ("log_exp", "log1p_nary", "expm1_nary")]  # n-ary needs flattening


@pytest.mark.parametrize("case", RAW_CASES, ids=[c[0] for c in RAW_CASES])
def test_patterns_match_without_canonicalize(case, rng):
    _name, build, _rewrite, present, gone, x_val, want = case
    x = T.dvector("x")
    f = st.function([x], build(x), mode=RAW)
    assert present in scalar_ops(f) and gone not in scalar_ops(f), scalar_ops(f)
    np.testing.assert_allclose(f(np.array([x_val]))[0], want, rtol=1e-12, atol=0)


def test_softplus_with_the_default_mode():
    x = T.dscalar("x")
    f = st.function([x], T.log(1 + T.exp(x)))
    assert f(1000.0) == 1000.0
    assert 0 <= f(-1000.0) < 1e-300
    g = st.function([x], st.grad(T.log(1 + T.exp(x)), x))
    np.testing.assert_allclose(g(1000.0), 1.0)


@pytest.mark.parametrize("build", [lambda x: T.exp(x) / (1 + T.exp(x)), lambda x: 2 / (T.exp(x) + 1),
                                   lambda x: st.grad(T.log(1 + T.exp(x)).sum(), x)], ids=["ratio", "inv", "grad"])
def test_exp_ratio_becomes_sigmoid(build, rng):
    x = T.dvector("x")
    f = st.function([x], build(x), mode=VISIBLE)
    ref = st.function([x], build(x), mode=NO_REWRITES)
    assert "sigmoid_from_exp_ratio" in fired(f) and "exp" not in scalar_ops(f), scalar_ops(f)
    a = rng.normal(size=5)
    np.testing.assert_allclose(f(a), ref(a), rtol=1e-12)
    assert np.all(np.isfinite(f(np.array([1000.0, -1000.0]))))


def test_log1p_with_broadcast_constant_one(rng):
    x = T.drow("x")
    ones = T.constant(np.ones((3, 4)))  # a full array of ones: the result keeps its (3, 4) shape
    f = st.function([x], T.log(ones + x), mode=VISIBLE)
    assert "log1p" in scalar_ops(f) and "log" not in scalar_ops(f)
    a = rng.uniform(0, 1, size=(1, 4))
    out = f(a)
    assert out.shape == (3, 4)
    np.testing.assert_allclose(out, np.log1p(np.broadcast_to(a, (3, 4))), rtol=1e-15)


def test_log1p_mixed_precision_computes_in_output_dtype():
    x = T.fvector("x")
    expr = T.log(T.constant(1.0, dtype="float64") + x)
    f = st.function([x], expr, mode=VISIBLE)
    assert f.maker.fgraph.outputs[0].dtype == "float64" and "log1p" in scalar_ops(f)
    a = np.array([1e-20, 0.5], dtype="float32")
    np.testing.assert_allclose(f(a), np.log1p(a.astype("float64")), rtol=1e-15)


def test_log_of_sigmoid_of_minus_has_no_double_negation():
    x = T.dvector("x")
    f = st.function([x], T.log(1 - T.nnet.sigmoid(x)), mode=VISIBLE)
    assert scalar_ops(f) == ["softplus", "neg"], scalar_ops(f)


def test_exp_of_log_is_left_alone():
    x = T.dvector("x")
    f = st.function([x], T.exp(T.log(x)), mode=VISIBLE)
    assert scalar_ops(f) == ["log", "exp"]


# ------------------------------------------------------------ logsumexp

LSE_CASES = [dict(axis=None), dict(axis=0), dict(axis=1), dict(axis=1, keepdims=True),
             dict(axis=0, keepdims=True), dict(axis=(0, 1), keepdims=True), dict(axis=-1)]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kw", LSE_CASES, ids=[str(k) for k in LSE_CASES])
def test_logsumexp_is_shifted_and_keeps_values(kw, dtype, rng):
    x = T.matrix("x", dtype=dtype)
    expr = T.log(T.sum(T.exp(x), **kw))
    f = st.function([x], expr, mode=VISIBLE)
    ref = st.function([x], expr, mode=NO_REWRITES)
    assert "logsumexp" in fired(f)
    assert f.maker.fgraph.outputs[0].type == expr.type
    a = rng.normal(size=(3, 4)).astype(dtype)
    np.testing.assert_allclose(f(a), ref(a), **tol(dtype))
    big = (a * 100 + 1000).astype(dtype)  # exp overflows without the shift
    want = sps.logsumexp(big.astype("float64"), axis=kw.get("axis"), keepdims=kw.get("keepdims", False))
    np.testing.assert_allclose(f(big), want, rtol=1e-6 if dtype == "float32" else 1e-12)
    assert np.all(np.isinf(ref(big)))


def test_logsumexp_of_minus_infinity_rows():
    x = T.dmatrix("x")
    f = st.function([x], T.log(T.sum(T.exp(x), axis=1)), mode=FAST_RUN)
    a = np.array([[-np.inf, -np.inf], [0.0, -np.inf], [np.inf, 0.0]])
    np.testing.assert_array_equal(f(a), [-np.inf, 0.0, np.inf])


def test_logsumexp_gradient_verifies(rng):
    st.verify_grad(lambda x: T.log(T.sum(T.exp(x), axis=1, keepdims=True)), [rng.normal(size=(3, 4))],
                   mode=FAST_RUN, rng=rng)
    x = T.dmatrix("x")
    g = st.function([x], st.grad(T.log(T.sum(T.exp(x))), x), mode=FAST_RUN)
    a = rng.normal(size=(2, 3))
    np.testing.assert_allclose(g(a), sps.softmax(a), rtol=1e-10)


def test_logsumexp_written_stably_is_not_shifted_twice():
    x = T.dmatrix("x")
    m = T.max(x, axis=1, keepdims=True)
    expr = T.log(T.sum(T.exp(x - m), axis=1)) + m.dimshuffle(0)
    f = st.function([x], expr, mode=VISIBLE)
    assert "logsumexp" not in fired(f)
    assert sum(isinstance(n.op, Elemwise) and str(n.op.scalar_op) == "exp" for n in f.maker.fgraph.toposort()) == 1
