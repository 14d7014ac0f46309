"""Algebraic rewrites: canonical forms (canonicalize) and cheaper equivalents (specialize).

Each case checks three things: the rewritten function computes what the
unrewritten one computes (float32 and float64), its output type is unchanged,
and the graph shows that the rewrite fired.
"""

import numpy as np
import pytest

import symtensor as st
import symtensor.tensor as T
import symtensor.tensor.rewriting  # noqa: F401  (registers the rewrites)
from symtensor.compile.mode import Mode
from symtensor.graph.basic import Constant
from symtensor.tensor.elemwise import CAReduce, DimShuffle, Elemwise

FAST_RUN = Mode(optimizer="fast_run")
NO_REWRITES = Mode(optimizer=None)
#: everything but fusion, so the individual nodes stay visible
VISIBLE = FAST_RUN.excluding("fusion")
#: the canonical form, before stabilize and specialize change it
CANONICAL = FAST_RUN.excluding("stabilize", "specialize", "fusion")


def names(f):
    """Scalar op names of the Elemwise nodes, class names of the others, in order."""
    out = []
    for node in f.maker.fgraph.toposort():
        out.append(str(node.op.scalar_op) if isinstance(node.op, Elemwise) else type(node.op).__name__)
    return out


def fired(f):
    return f.maker.fgraph.rewrite_log.counts()


def tol(dtype):
    return dict(rtol=2e-5, atol=1e-6) if dtype == "float32" else dict(rtol=1e-12, atol=1e-14)


def check_same(inputs, expr, values, mode=VISIBLE, **kw):
    """Compile with and without rewrites; values equal and output type unchanged. Returns the rewritten function."""
    f = st.function(inputs, expr, mode=mode, on_unused_input="ignore")
    ref = st.function(inputs, expr, mode=NO_REWRITES, on_unused_input="ignore")
    assert f.maker.fgraph.outputs[0].type == expr.type, (f.maker.fgraph.outputs[0].type, expr.type)
    got, want = f(*values), ref(*values)
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_allclose(got, want, **(kw or tol(str(expr.dtype))))
    return f


# (id, expression of a matrix x and a row vector y, mode, rewrite that must fire, expected node names)
CASES = [
    ("mul_consts", lambda x, y: x * 2 * 3, CANONICAL, "collect_constants", ["mul"]),
    ("mul_consts_apart", lambda x, y: (2 * x) * (y * 3), CANONICAL, "collect_constants", ["mul"]),
    ("add_consts", lambda x, y: x + 1 + 2, CANONICAL, "collect_constants", ["add"]),
    ("add_sub_consts", lambda x, y: x + 1 - 3, CANONICAL, "collect_constants", ["add"]),
    ("flatten_add", lambda x, y: (x + y) + (x * y + x), CANONICAL, "flatten_add_mul",
     ["mul", "add"]),
    ("sub_to_add", lambda x, y: x - y, CANONICAL, "sub_to_add", ["neg", "add"]),
    ("sub_back_to_sub", lambda x, y: x - y, VISIBLE, "add_neg_to_sub", ["sub"]),
    ("neg_plus", lambda x, y: -x + y, VISIBLE, "add_neg_to_sub", ["sub"]),
    ("cancel_add", lambda x, y: x + y - x, CANONICAL, "cancel_add_neg", ["second"]),
    ("cancel_mul_div", lambda x, y: x * y / x, CANONICAL, "cancel_div", ["second"]),
    ("cancel_div_self", lambda x, y: x / x, CANONICAL, "cancel_div", ["second"]),
    ("cancel_div_den", lambda x, y: x / (x * y), CANONICAL, "cancel_div", ["true_div", "second"]),
    ("cancel_div_both", lambda x, y: (x * y) / (y * T.exp(x)), CANONICAL, "cancel_div", ["exp", "true_div"]),
    ("mul_of_div", lambda x, y: x * (y / T.exp(x)), CANONICAL, "mul_of_div", ["mul", "exp", "true_div"]),
    ("div_of_div", lambda x, y: (x / y) / T.exp(x), CANONICAL, "mul_of_div", ["exp", "mul", "true_div"]),
    ("div_of_div_den", lambda x, y: x / (y / T.exp(x)), CANONICAL, "mul_of_div", ["exp", "mul", "true_div"]),
    ("cancel_through_div", lambda x, y: x * (y / x), CANONICAL, "cancel_div", ["second"]),
    ("useless_fill", lambda x, y: T.fill(y, T.exp(x)), CANONICAL, "remove_useless_fill", ["exp"]),
    ("lift_transpose", lambda x, y: T.exp(x * y).T, CANONICAL, "lift_dimshuffle",
     ["DimShuffle", "DimShuffle", "mul", "exp"]),
    ("sum_scaled", lambda x, y: T.sum(x * 3), CANONICAL, "sum_of_scaled", ["CAReduce", "mul"]),
    ("sum_scaled_axis", lambda x, y: T.sum(3 * x * y, axis=1), CANONICAL, "sum_of_scaled",
     ["mul", "CAReduce", "mul"]),
    ("sum_divided", lambda x, y: T.sum(x / 4, axis=0), CANONICAL, "sum_of_scaled", ["CAReduce", "true_div"]),
    ("mean_scaled", lambda x, y: T.mean(x * 3), CANONICAL, "sum_of_scaled", None),
    ("sum_of_sum", lambda x, y: x.sum(axis=1).sum(axis=0), CANONICAL, "merge_reductions", ["CAReduce"]),
    ("max_of_max", lambda x, y: x.max(axis=0).max(), CANONICAL, "merge_reductions", ["CAReduce"]),
    ("sum_length_one", lambda x, y: T.sum(y, axis=0) * x, CANONICAL, "reduce_over_length_one_axes",
     ["DimShuffle", "mul"]),
    ("max_length_one", lambda x, y: T.max(y, axis=0) + x, CANONICAL, "reduce_over_length_one_axes",
     ["DimShuffle", "add"]),
    ("pow2", lambda x, y: x ** 2, CANONICAL, "pow_canonical", ["sqr"]),
    ("pow_half", lambda x, y: x ** 0.5, CANONICAL, "pow_canonical", ["sqrt"]),
    ("pow_minus_one", lambda x, y: x ** -1, CANONICAL, "pow_canonical", ["true_div"]),
    ("pow_zero", lambda x, y: x ** 0, CANONICAL, "pow_canonical", ["second"]),
    ("pow3", lambda x, y: x ** 3, VISIBLE, "pow_specialize", ["sqr", "mul"]),
    ("pow4", lambda x, y: x ** 4, VISIBLE, "pow_specialize", ["sqr", "sqr"]),
    ("pow5", lambda x, y: x ** 5, VISIBLE, "pow_specialize", ["sqr", "sqr", "mul"]),
    ("pow_minus2", lambda x, y: x ** -2, VISIBLE, "pow_specialize", ["sqr", "true_div"]),
    ("pow_1_5", lambda x, y: x ** 1.5, VISIBLE, "pow_specialize", ["sqrt", "mul"]),
    ("pow_minus_half", lambda x, y: x ** -0.5, VISIBLE, "pow_specialize", ["sqrt", "true_div"]),
    ("mul_minus_one", lambda x, y: x * (-1), VISIBLE, "mul_by_minus_one", ["neg"]),
    ("mul_minus_one_nary", lambda x, y: -1 * x * y, VISIBLE, "mul_by_minus_one", ["mul", "neg"]),
    ("div_by_constant", lambda x, y: x / 4.0, VISIBLE, "div_by_constant", ["mul"]),
    ("log_of_exp", lambda x, y: T.log(T.exp(x)), CANONICAL, "log_of_exp", []),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_rewrite_fires_and_keeps_values(case, dtype, rng):
    _name, build, mode, rewrite, expected = case
    x = T.matrix("x", dtype=dtype)
    y = T.TensorType(dtype, (True, False))("y")
    expr = build(x, y)
    a = rng.uniform(0.5, 2.0, size=(3, 4)).astype(dtype)
    b = rng.uniform(0.5, 2.0, size=(1, 4)).astype(dtype)
    f = check_same([x, y], expr, [a, b], mode=mode)
    assert rewrite in fired(f), fired(f)
    if expected is not None:
        assert names(f) == expected, names(f)


@pytest.mark.parametrize("case", [c for c in CASES if c[0] not in ("pow_zero", "log_of_exp")],
                         ids=[c[0] for c in CASES if c[0] not in ("pow_zero", "log_of_exp")])
def test_gradient_of_rewritten_graph_verifies(case, rng):
    build = case[1]
    b = rng.uniform(0.5, 2.0, size=(1, 4))
    st.verify_grad(lambda x: build(x, T.constant(b)), [rng.uniform(0.5, 2.0, size=(3, 4))], mode=FAST_RUN, rng=rng)


def test_gradient_of_log_exp_verifies(rng):
    st.verify_grad(lambda x: T.log(T.exp(x)) * x, [rng.normal(size=(2, 3))], mode=FAST_RUN, rng=rng)


def test_constants_collected_in_one_constant():
    x = T.dvector("x")
    f = st.function([x], x * 2 * 3, mode=CANONICAL)
    (node,) = f.maker.fgraph.toposort()
    consts = [i for i in node.inputs if isinstance(i, Constant)]
    assert len(consts) == 1 and np.all(consts[0].data == 6)
    g = st.function([x], (x + 1) + 2, mode=CANONICAL)
    (node,) = g.maker.fgraph.toposort()
    assert [float(i.data.ravel()[0]) for i in node.inputs if isinstance(i, Constant)] == [3.0]


def test_integer_constants_wrap_like_the_original(rng):
    x = T.bvector("x")  # int8: x * 100 * 100 wraps; collecting to x * 16 (10000 mod 256) wraps alike
    f = check_same([x], x * 100 * 100, [rng.integers(-100, 100, size=6).astype("int8")], mode=CANONICAL)
    assert names(f) == ["mul"]


def test_integer_power_of_integers_specialized(rng):
    x = T.ivector("x")
    f = check_same([x], x ** 3, [rng.integers(-9, 9, size=5).astype("int32")])
    assert "pow" not in names(f) and f.maker.fgraph.outputs[0].dtype == "int32"


def test_negative_power_of_integers_left_alone(rng):
    x = T.ivector("x")  # int ** -1 truncates to an integer; 1/x would give floats
    f = check_same([x], x ** -1, [np.array([1, 2, -1, 4], dtype="int32")])
    assert names(f) == ["pow"]


def test_exp_of_log_is_not_rewritten(rng):
    x = T.dvector("x")
    f = st.function([x], T.exp(T.log(x)), mode=VISIBLE)
    assert names(f) == ["log", "exp"]
    assert np.isnan(f(np.array([-1.0]))[0]), "exp(log(x)) is nan for negative x; x is not"


def test_cancel_keeps_broadcast_shape(rng):
    x = T.dmatrix("x")
    y = T.drow("y")
    f = check_same([x, y], x * y / x, [rng.uniform(1, 2, (3, 4)), rng.uniform(1, 2, (1, 4))], mode=CANONICAL)
    assert f(np.ones((3, 4)), np.ones((1, 4))).shape == (3, 4)
    assert "mul" not in names(f) and "true_div" not in names(f)


def test_cancel_div_not_for_integer_inputs(rng):
    x, y = T.ivectors("x", "y")  # the int product could wrap before the float division
    f = check_same([x, y], (x * y) / x, [np.array([1, 2, 3], "int32"), np.array([4, 5, 6], "int32")],
                   mode=CANONICAL)
    assert "cancel_div" not in fired(f)


def test_dimshuffle_not_lifted_through_shared_elemwise(rng):
    x = T.dmatrix("x")
    e = T.exp(x)
    f = st.function([x], [e.T, e], mode=VISIBLE)
    assert names(f).count("exp") == 1
    a = rng.normal(size=(2, 3))
    np.testing.assert_allclose(f(a)[0], np.exp(a).T)


def test_lifted_dimshuffle_reaches_the_inputs(rng):
    x = T.dmatrix("x")
    y = T.dvector("y")
    expr = (T.exp(x) + y).dimshuffle("x", 1, 0)
    f = check_same([x, y], expr, [rng.normal(size=(2, 3)), rng.normal(size=3)], mode=CANONICAL)
    for node in f.maker.fgraph.toposort():
        if isinstance(node.op, DimShuffle):
            assert node.inputs[0] in f.maker.fgraph.inputs, "every dimshuffle applies to an input"


def test_mean_of_scaled_sums_the_input(rng):
    x = T.fmatrix("x")
    f = check_same([x], T.mean(x * 3, axis=1, keepdims=True), [rng.normal(size=(3, 4)).astype("float32")],
                   mode=CANONICAL)
    (red,) = [n for n in f.maker.fgraph.toposort() if isinstance(n.op, CAReduce)]
    assert red.inputs[0] is f.maker.fgraph.inputs[0]


@pytest.mark.parametrize("axes", [((0,), (0,)), ((1,), (1,)), ((0, 2), (0,)), ((1,), (0, 1))])
def test_sum_of_sum_axes_map_to_the_input(axes, rng):
    x = T.dtensor3("x")
    inner, outer = axes
    expr = x.sum(axis=inner).sum(axis=outer)
    f = check_same([x], expr, [rng.normal(size=(2, 3, 4))], mode=CANONICAL)
    (red,) = [n for n in f.maker.fgraph.toposort() if isinstance(n.op, CAReduce)]
    assert red.inputs[0] is f.maker.fgraph.inputs[0]


def test_sum_of_sum_keeps_output_dtype(rng):
    x = T.bmatrix("x")  # int8 sums accumulate in int64
    f = check_same([x], x.sum(axis=0).sum(), [rng.integers(-100, 100, size=(5, 3)).astype("int8")], mode=CANONICAL)
    assert names(f) == ["CAReduce"] and f.maker.fgraph.outputs[0].dtype == "int64"


def test_mixed_precision_pow_computes_in_output_dtype(rng):
    x = T.fvector("x")
    expr = x ** np.float64(2.0)  # a float64 exponent makes the result float64
    a = rng.uniform(1, 2, 4).astype("float32")
    f = check_same([x], expr, [a])
    assert f.maker.fgraph.outputs[0].dtype == "float64"
    np.testing.assert_allclose(f(a), a.astype("float64") ** 2, rtol=1e-15)


def test_pow_by_a_constant_array_keeps_its_shape(rng):
    x = T.drow("x")
    expr = x ** T.constant(np.full((3, 4), 2.0))
    f = check_same([x], expr, [rng.normal(size=(1, 4))])
    assert "pow" not in names(f)
    assert f(np.ones((1, 4))).shape == (3, 4)


def test_div_by_tiny_constant_not_turned_into_mul(rng):
    x = T.dvector("x")  # 1 / 1e-310 overflows to inf: keep the division
    f = check_same([x], x / 1e-310, [rng.normal(size=3)], rtol=1e-15, atol=0)
    assert "div_by_constant" not in fired(f)


def test_rewritten_and_unrewritten_agree_at_special_values():
    x = T.dvector("x")
    vals = np.array([0.0, -0.0, 1.0, -2.5, np.inf, -np.inf, 1e-300, 1e300])
    for expr in (x * 2 * 3, x - 1 - 2, x ** 3, x ** -2, x / 7.0, x * (-1), (x + 1) + 2):
        f = st.function([x], expr, mode=FAST_RUN)
        ref = st.function([x], expr, mode=NO_REWRITES)
        np.testing.assert_allclose(f(vals), ref(vals), rtol=1e-12, equal_nan=True)


def test_self_cancellation_accepts_non_finite_difference():
    x = T.dvector("x")  # x - x and x / x are 0 and 1 even where x is inf (nan before): accepted, as in Theano
    f = st.function([x], [x - x, x / x], mode=FAST_RUN)
    zero, one = f(np.array([np.inf, 2.0]))
    np.testing.assert_array_equal(zero, [0.0, 0.0])
    np.testing.assert_array_equal(one, [1.0, 1.0])


def test_canonical_form_is_stable_under_the_whole_pipeline(rng):
    x, y = T.dmatrices("x", "y")
    expr = (x - y) * 2 * 3 - (1 - x) / 5 + x ** 3 - (-y) * (-1)
    f = check_same([x, y], expr, [rng.normal(size=(2, 3)), rng.normal(size=(2, 3))], mode=FAST_RUN)
    assert len(f.maker.fgraph.toposort()) == 1  # fused after the algebra


def test_double_negation_disappears():
    x = T.dvector("x")
    f = st.function([x], -(-(x * 3)), mode=Mode(linker="py", optimizer="fast_run"))
    assert not any("neg" in str(n.op) for n in f.maker.fgraph.toposort())
    np.testing.assert_allclose(f(np.array([1.0, -2.0])), [3.0, -6.0])
