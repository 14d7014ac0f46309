"""Rewrites every graph gets: merge, constant folding, shapes without computation, no-ops, fusion."""

import numpy as np
import pytest

import symtensor as st
import symtensor.tensor as T
import symtensor.tensor.rewriting  # noqa: F401  (registers the rewrites)
from symtensor.compile.mode import Mode
from symtensor.tensor.elemwise import Elemwise
from symtensor.tensor.shape import Shape_i

FAST_RUN = Mode(optimizer="fast_run")
NO_REWRITES = Mode(optimizer=None)


def nodes(f):
    return f.maker.fgraph.toposort()


def compile_both(inputs, outputs):
    return st.function(inputs, outputs, mode=FAST_RUN), st.function(inputs, outputs, mode=NO_REWRITES)


def test_common_subexpression_computed_once(rng):
    x, y = T.dmatrices("x", "y")
    f, ref = compile_both([x, y], x * y + x * y)
    muls = [n for n in nodes(f) if "mul" in str(n.op)]
    assert len(nodes(f)) <= 2 and len(muls) <= 1
    a, b = rng.normal(size=(2, 3)), rng.normal(size=(2, 3))
    np.testing.assert_allclose(f(a, b), ref(a, b))


def test_constant_expression_folds_to_no_nodes():
    expr = T.exp(T.constant(1.0)) * 3 + T.constant(np.arange(4.0)).sum()
    f = st.function([], expr, mode=FAST_RUN)
    assert nodes(f) == []
    np.testing.assert_allclose(f(), np.e * 3 + 6)


def test_shape_is_answered_without_computing_the_tensor(rng):
    x = T.dmatrix("x")
    y = T.dot(T.exp(x), x.T)[1:]
    f = st.function([x], y.shape, mode=FAST_RUN)
    assert not any(isinstance(n.op, Elemwise) and "exp" in str(n.op) for n in nodes(f))
    assert all("Dot" not in str(n.op) for n in nodes(f))
    np.testing.assert_array_equal(f(rng.normal(size=(4, 3))), [3, 4])


def test_static_shapes_become_constants():
    x = T.TensorType("float64", shape=(3, None))("x")
    f = st.function([x], x.shape[0] * 2, mode=FAST_RUN, on_unused_input="ignore")
    assert nodes(f) == []
    assert f(np.zeros((3, 5))) == 6


@pytest.mark.parametrize("build", [
    lambda x: x * 1, lambda x: x + 0, lambda x: 0 + x, lambda x: x - 0, lambda x: x / 1, lambda x: -(-x),
    lambda x: x.dimshuffle(0, 1), lambda x: x.T.T, lambda x: T.cast(x, "float64"),
    lambda x: x.reshape(x.shape),
], ids=["mul1", "add0", "radd0", "sub0", "div1", "negneg", "ds_identity", "TT", "cast_same", "reshape_same"])
def test_no_op_expressions_vanish(build, rng):
    x = T.dmatrix("x")
    f = st.function([x], build(x), mode=FAST_RUN)
    assert nodes(f) == [], [str(n) for n in nodes(f)]
    a = rng.normal(size=(2, 3))
    out = f(a)
    np.testing.assert_array_equal(out, a)
    assert not np.shares_memory(out, a), "an output equal to an input must be a copy"


def test_elemwise_chain_fuses_into_one_node(rng):
    x = T.dmatrix("x")
    y = T.sqrt(T.exp(T.tanh(x) * 2 + 1) ** 2 - x / 3 + 10)
    f, ref = compile_both([x], y)
    assert len(nodes(f)) == 1, [str(n) for n in nodes(f)]
    a = rng.normal(size=(3, 4))
    np.testing.assert_allclose(f(a), ref(a))
    np.testing.assert_allclose(f(a), np.sqrt(np.exp(np.tanh(a) * 2 + 1) ** 2 - a / 3 + 10))


def test_fusion_keeps_intermediates_with_other_clients(rng):
    x = T.dmatrix("x")
    t = T.tanh(x)
    out = [T.exp(t) + 1, t * 2]
    f, ref = compile_both([x], out)
    a = rng.normal(size=(2, 2))
    for got, want in zip(f(a), ref(a)):
        np.testing.assert_allclose(got, want)


def test_cheap_shared_node_is_recomputed_in_each_consumer(rng):
    """relu's mask x > 0 feeds the forward switch and the gradient: both fuse it, no mask array is kept,
    while an expensive shared node (tanh above) is still computed once."""
    x = T.dmatrix("x")
    y = T.nnet.relu(x)
    g = st.grad((y ** 2).sum(), x)
    f, ref = compile_both([x], [y, g])
    ops = [n.op for n in nodes(f) if isinstance(n.op, Elemwise)]
    assert not any(str(op) == "Elemwise{gt}" for op in ops), [str(op) for op in ops]
    a = rng.normal(size=(3, 4))
    for got, want in zip(f(a), ref(a)):
        np.testing.assert_allclose(got, want)
    np.testing.assert_allclose(f(a)[1], 2 * np.maximum(a, 0))


def test_fusion_with_broadcasting(rng):
    x = T.dmatrix("x")
    b = T.dvector("b")
    y = T.tanh(x + b) * T.exp(b) - 1
    f, ref = compile_both([x, b], y)
    a, c = rng.normal(size=(3, 4)), rng.normal(size=4)
    np.testing.assert_allclose(f(a, c), ref(a, c))


def test_fused_graph_gradient_matches(rng):
    x = T.dvector("x")
    cost = (T.exp(T.sin(x) * 3) / (1 + x ** 2)).sum()
    g = st.grad(cost, x)
    f, ref = compile_both([x], g)
    a = rng.normal(size=5)
    np.testing.assert_allclose(f(a), ref(a))


def test_rewrite_log_and_phase_times_are_visible():
    x = T.dmatrix("x")
    f = st.function([x], T.exp(x) * 2 + 1, mode=FAST_RUN)
    log = f.maker.fgraph.rewrite_log
    assert "elemwise_fusion" in " ".join(log.counts()) or log.counts()
    assert "canonicalize" in log.phase_times
    assert "Rewrites applied" in log.summary()


def test_excluding_a_phase_keeps_values(rng):
    x = T.dmatrix("x")
    y = T.exp(x) * 2 + 1
    f = st.function([x], y, mode=FAST_RUN.excluding("fusion"))
    assert len(nodes(f)) == 3
    a = rng.normal(size=(2, 2))
    np.testing.assert_allclose(f(a), np.exp(a) * 2 + 1)


def test_shape_i_of_input_is_left_alone():
    x = T.dmatrix("x")
    f = st.function([x], x.shape[1], mode=FAST_RUN)
    assert [type(n.op) for n in nodes(f)] == [Shape_i]


def test_profile_lists_rewrites_fired_and_phase_times(rng):
    x = T.dmatrix("x")
    f = st.function([x], T.log(1 + T.exp(x) * 2).sum(), mode=FAST_RUN, profile=True)
    f(rng.normal(size=(2, 2)))
    text = f.profile.summary()
    assert "Rewrite phases" in text and "canonicalize" in text and "fusion" in text
    assert "Rewrites applied" in text and "elemwise_fusion" in text
    assert "time per Op class" in text


def test_optimizer_none_flag_turns_rewriting_off(rng):
    x = T.dmatrix("x")
    y = T.exp(x) * 2 + 1
    with st.config.change_flags(optimizer="None"):
        f = st.function([x], y)
    assert len(nodes(f)) >= 3 and not any("Composite" in str(n.op) for n in nodes(f))
    a = rng.normal(size=(2, 2))
    np.testing.assert_allclose(f(a), np.exp(a) * 2 + 1)


def test_allocated_ones_of_a_gradient_fuse_into_their_consumer(rng):
    """grad(sum(f(x))) allocates ones of x's shape; they become a fill that fusion folds away."""
    x = T.dmatrix("x")
    g = st.grad((T.tanh(x) * 3).sum(), x)
    f, ref = compile_both([x], g)
    assert [type(n.op).__name__ for n in nodes(f)] == ["Elemwise"], [str(n) for n in nodes(f)]
    a = rng.normal(size=(3, 4))
    np.testing.assert_allclose(f(a), ref(a))
    np.testing.assert_allclose(f(a), 3 * (1 - np.tanh(a) ** 2))
