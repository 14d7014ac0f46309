"""OpFromGraph: an op defined by an inner graph, run compiled or inlined, with gradients and R-ops."""

import numpy as np
import pytest

import symtensor as st
import symtensor.tensor as T
from helpers import check_infer_shape
from symtensor.compile.builders import OpFromGraph
from symtensor.compile.function import MissingInputError
from symtensor.compile.mode import Mode
from symtensor.gradient import DisconnectedInputError, NullTypeGradError
from symtensor.graph.null_type import DisconnectedType, NullType


def ofg_nodes(f):
    return [n for n in f.maker.fgraph.toposort() if isinstance(n.op, OpFromGraph)]


def test_exported_where_theano_has_it():
    assert st.OpFromGraph is OpFromGraph
    assert st.compile.builders.OpFromGraph is OpFromGraph


# ------------------------------------------------------------------ Theano's documented examples

def test_example_1_behaves_like_a_normal_op():
    x, y, z = T.scalars("x", "y", "z")
    e = x + y * z
    op = OpFromGraph([x, y, z], [e])
    e2 = op(x, y, z) + op(z, y, x)
    f = st.function([x, y, z], [e2])
    np.testing.assert_allclose(f(1.0, 2.0, 3.0), [(1 + 2 * 3) + (3 + 2 * 1)])
    assert len(ofg_nodes(f)) == 2


def test_example_2_reads_a_shared_variable(rng):
    x, y, z = T.scalars("x", "y", "z")
    s = st.shared(rng.random((2, 2)).astype(st.config.floatX), name="s")
    op = OpFromGraph([x, y, z], [x + y * z + s])
    e2 = op(x, y, z) + op(z, y, x)
    assert e2.owner.inputs[0].owner.inputs[-1] is s  # a hidden extra input
    f = st.function([x, y, z], e2)
    np.testing.assert_allclose(f(1.0, 2.0, 3.0), 12 + 2 * s.get_value(), rtol=1e-6)
    s.set_value(np.zeros((2, 2), st.config.floatX))
    np.testing.assert_allclose(f(1.0, 2.0, 3.0), np.full((2, 2), 12.0))  # the current value is read
    gs = T.grad(op(x, y, z).sum(), s)
    np.testing.assert_array_equal(st.function([x, y, z], gs, on_unused_input="ignore")(1.0, 2.0, 3.0),
                                  np.ones((2, 2)))


def test_example_3_overrides_one_gradient():
    x, y, z = T.dscalars("x", "y", "z")
    e = x + y * z

    def rescale_dy(inps, grads):
        x, y, z = inps
        (g,) = grads
        return z * 2

    op = OpFromGraph([x, y, z], [e], grad_overrides=["default", rescale_dy, "default"])
    dx, dy, dz = T.grad(op(x, y, z), [x, y, z])
    fn = st.function([x, y, z], [dx, dy, dz])
    np.testing.assert_allclose(fn(2.0, 3.0, 4.0), [1.0, 8.0, 3.0])


# ------------------------------------------------------------------ values, shapes, gradients

def _two_output_op():
    m, v = T.dmatrix("m"), T.dvector("v")
    return OpFromGraph([m, v], [T.dot(m, v), T.tanh(m).sum(axis=0) * 2.0], name="block")


def test_several_outputs_shapes_and_gradients(rng):
    op = _two_output_op()
    m, v = T.dmatrix("m"), T.dvector("v")
    o1, o2 = op(m, v)
    mv, vv = rng.standard_normal((3, 4)), rng.standard_normal(4)
    got = st.function([m, v], [o1, o2])(mv, vv)
    np.testing.assert_allclose(got[0], mv @ vv)
    np.testing.assert_allclose(got[1], np.tanh(mv).sum(0) * 2)
    check_infer_shape([m, v], [o1, o2], [mv, vv])
    check_infer_shape([m, v], [o1, o2], [np.zeros((0, 2)), np.zeros(2)])
    st.verify_grad(lambda a, b: op(a, b)[0], [mv, vv], rng=rng)
    st.verify_grad(lambda a, b: op(a, b)[1], [mv, vv], rng=rng)
    st.verify_grad(lambda a, b: op(a, b)[0].sum() + op(a, b)[1].sum(), [mv, vv], rng=rng)
    assert str(op) == "OpFromGraph{block}"


def test_connection_pattern_follows_the_inner_graph():
    x, y = T.dvector("x"), T.dvector("y")
    op = OpFromGraph([x, y], [x * 2, T.cast(T.argmax(y), "float64") + x.shape[0]])
    o1, o2 = op(x, y)
    assert op.connection_pattern(o1.owner) == [[True, False], [False, False]]
    with pytest.raises(DisconnectedInputError):
        T.grad(o1.sum(), y)
    with pytest.raises(DisconnectedInputError):
        T.grad(o2, y)  # argmax and shapes carry no gradient
    gx = st.function([x, y], T.grad(o2, x), on_unused_input="ignore")(np.ones(2), np.ones(3))
    np.testing.assert_array_equal(gx, [0.0, 0.0])


def test_integer_outputs_and_inputs():
    x, k = T.dvector("x"), T.lscalar("k")
    op = OpFromGraph([x, k], [x * k, T.argmax(x)])
    y, idx = op(x, k)
    assert idx.dtype == "int64"
    g = T.grad(y.sum() + idx, x)
    f = st.function([x, k], [y, idx, g])
    got = f(np.array([1.0, 5.0, 2.0]), 3)
    np.testing.assert_array_equal(got[0], [3.0, 15.0, 6.0])
    assert got[1] == 1
    np.testing.assert_array_equal(got[2], [3.0, 3.0, 3.0])


def test_constants_inside_unused_inputs_and_outputs_that_are_inputs():
    x, y = T.dvector("x"), T.dvector("y")
    op = OpFromGraph([x, y], [x, x + np.array([1.0, 2.0])])  # y is unused
    a, b = op(x, y)
    f = st.function([x, y], [a, b])
    xv = np.array([3.0, 4.0])
    got = f(xv, np.zeros(2))
    np.testing.assert_array_equal(got[0], xv)
    assert not np.shares_memory(got[0], xv)
    np.testing.assert_array_equal(got[1], [4.0, 6.0])
    g = T.grad(a.sum() + b.sum(), x)
    np.testing.assert_array_equal(st.function([x, y], g)(xv, np.zeros(2)), [2.0, 2.0])


def test_nested_ops(rng):
    x = T.dvector("x")
    inner = OpFromGraph([x], [T.exp(x)])
    outer = OpFromGraph([x], [inner(x) * inner(-x)])  # = 1
    xv = rng.standard_normal(4)
    np.testing.assert_allclose(st.function([x], outer(x))(xv), np.ones(4))
    st.verify_grad(lambda v: outer(v) * v, [xv], rng=rng)


def test_second_derivatives(rng):
    x = T.dvector("x")
    op = OpFromGraph([x], [(x ** 3).sum()])
    g = T.grad(op(x), x)
    h = T.grad(g.sum(), x)
    xv = rng.standard_normal(3)
    got = st.function([x], [g, h])(xv)
    np.testing.assert_allclose(got[0], 3 * xv ** 2)
    np.testing.assert_allclose(got[1], 6 * xv)


def test_rop(rng):
    op = _two_output_op()
    m, v, em, ev = T.dmatrix("m"), T.dvector("v"), T.dmatrix("em"), T.dvector("ev")
    o1, o2 = op(m, v)
    r1, r2 = st.Rop([o1, o2], [m, v], [em, ev])
    mv, vv, emv, evv = rng.standard_normal((3, 4)), rng.standard_normal(4), rng.standard_normal((3, 4)), \
        rng.standard_normal(4)
    got = st.function([m, v, em, ev], [r1, r2])(mv, vv, emv, evv)
    np.testing.assert_allclose(got[0], emv @ vv + mv @ evv)
    np.testing.assert_allclose(got[1], 2 * ((1 - np.tanh(mv) ** 2) * emv).sum(0))
    only_v = st.Rop(o1, v, ev)
    np.testing.assert_allclose(st.function([m, v, ev], only_v)(mv, vv, evv), mv @ evv)


# ------------------------------------------------------------------ overrides

def test_grad_override_callable_and_ofg_for_all_inputs():
    x, y = T.dscalars("x", "y")

    def by_callable(inputs, grads):
        return [grads[0] * 10.0, grads[0] * inputs[0]]

    op = OpFromGraph([x, y], [x * y], grad_overrides=by_callable)
    gx, gy = T.grad(op(x, y), [x, y])
    np.testing.assert_allclose(st.function([x, y], [gx, gy])(2.0, 3.0), [10.0, 2.0])
    a, b, g = T.dscalars("a", "b", "g")
    as_op = OpFromGraph([a, b, g], [g * 3.0, g * a])  # takes inputs + output gradients
    op = OpFromGraph([x, y], [x * y], grad_overrides=as_op)
    gx, gy = T.grad(op(x, y), [x, y])
    np.testing.assert_allclose(st.function([x, y], [gx, gy])(2.0, 3.0), [3.0, 2.0])


def test_grad_override_special_variables():
    x, y = T.dscalars("x", "y")
    op = OpFromGraph([x, y], [x * y], grad_overrides=[NullType("no gradient here")(), DisconnectedType()()])
    out = op(x, y)
    with pytest.raises(NullTypeGradError, match="no gradient here"):
        T.grad(out, x)
    with pytest.raises(DisconnectedInputError):
        T.grad(out, y)
    assert st.function([y], T.grad(out, y, disconnected_inputs="ignore"), on_unused_input="ignore")(1.0) == 0.0


def test_rop_override():
    x = T.dvector("x")
    op = OpFromGraph([x], [x ** 2], rop_overrides=lambda inputs, points: [points[0] * 100.0])
    ev = T.dvector("ev")
    r = st.Rop(op(x), x, ev)
    np.testing.assert_array_equal(st.function([x, ev], r, on_unused_input="ignore")(np.ones(2), np.ones(2)),
                                  [100.0, 100.0])


def test_override_errors():
    x, y = T.dscalars("x", "y")
    with pytest.raises(ValueError, match="3 entries for 2 inputs"):
        T.grad(OpFromGraph([x, y], [x * y], grad_overrides=["default"] * 3)(x, y), x)
    with pytest.raises(ValueError, match="one per input"):
        T.grad(OpFromGraph([x, y], [x * y], grad_overrides=lambda i, g: [g[0]])(x, y), x)
    with pytest.raises(TypeError, match="NullType or DisconnectedType"):
        T.grad(OpFromGraph([x, y], [x * y], grad_overrides=[x, "default"])(x, y), x)


# ------------------------------------------------------------------ identity, inlining, backends

def test_equal_graphs_give_equal_ops_and_merge():
    def make():
        a, b = T.dvectors("a", "b")
        return OpFromGraph([a, b], [a * b + 1.0])

    op1, op2 = make(), make()
    assert op1 == op2 and hash(op1) == hash(op2)
    x, y = T.dvectors("x", "y")
    assert op1 != OpFromGraph([x, y], [x * y + 2.0])
    assert op1 != OpFromGraph([x, y], [x * y + 1.0], inline=True)
    f = st.function([x, y], op1(x, y) + op2(x, y))
    assert len(ofg_nodes(f)) == 1
    np.testing.assert_array_equal(f(np.ones(2), np.ones(2)), [4.0, 4.0])


def test_inline_expands_into_the_outer_graph(rng):
    x, y = T.dvectors("x", "y")
    op = OpFromGraph([x, y], [T.exp(x) * y], inline=True)
    out = op(x, y).sum()
    g = T.grad(out, x)
    xv, yv = rng.standard_normal(3), rng.standard_normal(3)
    for optimizer in ("fast_run", "fast_compile"):
        f = st.function([x, y], [out, g], mode=Mode(optimizer=optimizer))
        assert not ofg_nodes(f), optimizer  # the op and its (inline) gradient op are gone
        got = f(xv, yv)
        np.testing.assert_allclose(got[0], (np.exp(xv) * yv).sum())
        np.testing.assert_allclose(got[1], np.exp(xv) * yv)
    f = st.function([x, y], [out, g], mode=Mode(optimizer=None))  # no rewrites: it still runs
    assert ofg_nodes(f)
    np.testing.assert_allclose(f(xv, yv)[1], np.exp(xv) * yv)


def test_runs_under_the_c_linker(rng):
    op = _two_output_op()
    m, v = T.dmatrix("m"), T.dvector("v")
    o1, o2 = op(m, v)
    fc = st.function([m, v], [o1, o2, T.grad(o1.sum(), v)], mode=Mode(linker="c"))
    mv, vv = rng.standard_normal((2, 3)), rng.standard_normal(3)
    got = fc(mv, vv)
    np.testing.assert_allclose(got[0], mv @ vv)
    np.testing.assert_allclose(got[2], mv.sum(0))


def test_function_keywords_reach_the_inner_function():
    x = T.dvector("x")
    op = OpFromGraph([x], [x + 1.0], mode=Mode(linker="py", optimizer=None))
    st.function([x], op(x))(np.ones(2))
    assert op.inner_function().maker.mode.optimizer is None


def test_test_values_flow_through():
    x = T.dvector("x")
    op = OpFromGraph([x], [x * 3.0])
    with st.change_flags(compute_test_value="raise"):
        a = T.dvector("a")
        a.tag.test_value = np.array([1.0, 2.0])
        out = op(a) + 1.0
        np.testing.assert_array_equal(out.tag.test_value, [4.0, 7.0])
        T.grad(out.sum(), a)  # builds the gradient op on placeholders without test values


def test_construction_errors():
    x, y = T.dscalars("x", "y")
    with pytest.raises(TypeError, match="list"):
        OpFromGraph(x, [x])
    with pytest.raises(TypeError, match="constant"):
        OpFromGraph([T.constant(1.0)], [x])
    with pytest.raises(TypeError, match="shared"):
        OpFromGraph([st.shared(1.0)], [x])
    with pytest.raises(ValueError, match="more than once"):
        OpFromGraph([x, x], [x])
    with pytest.raises(MissingInputError, match="y"):
        OpFromGraph([x], [x + y])
    with pytest.raises(TypeError, match="updates"):
        OpFromGraph([x], [x], updates=[])
    op = OpFromGraph([x, y], [x + y])
    with pytest.raises(TypeError, match="expected 2 inputs"):
        op(x)
    with pytest.raises(TypeError, match="expected TensorType"):
        op(T.dvector(), y)
    assert st.function([y], op(2.0, y))(1.0) == 3.0
