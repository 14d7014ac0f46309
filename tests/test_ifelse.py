"""ifelse: values against NumPy, laziness (the untaken branch never runs), gradients, shapes, errors."""

import numpy as np
import pytest

import symtensor as st
import symtensor.tensor as T
from symtensor.compile.ops import as_op
from symtensor.ifelse import IfElse, ifelse
from symtensor.link import lazy

from helpers import check_infer_shape

LINKERS = ("py", "c")


def counting_op(calls, name):
    """An op that records each time it runs (and doubles its input)."""
    @as_op(itypes=[T.dvector], otypes=[T.dvector])
    def op(v):
        calls.append(name)
        return v * 2
    return op


@pytest.mark.parametrize("linker", LINKERS)
def test_ifelse_picks_the_branch_like_numpy(linker):
    a, b = T.dscalars("a", "b")
    x, y = T.dmatrices("x", "y")
    z = ifelse(T.lt(a, b), T.mean(x), T.mean(y))
    with st.change_flags(linker=linker):
        f = st.function([a, b, x, y], z)
    xv, yv = np.arange(6.0).reshape(2, 3), -np.ones((2, 3))
    assert f(1, 2, xv, yv) == pytest.approx(xv.mean())
    assert f(2, 1, xv, yv) == pytest.approx(yv.mean())


@pytest.mark.parametrize("linker", LINKERS)
def test_untaken_branch_never_runs(linker):
    calls = []
    c = T.bscalar("c")
    v = T.dvector("v")
    out = ifelse(c, counting_op(calls, "then")(v).sum(), counting_op(calls, "else")(v).prod())
    with st.change_flags(linker=linker):
        f = st.function([c, v], out)
    vals = np.array([1.0, 2.0, 3.0])
    assert f(1, vals) == pytest.approx(12.0)
    assert calls == ["then"]
    assert f(0, vals) == pytest.approx(48.0)
    assert calls == ["then", "else"]


@pytest.mark.parametrize("linker", LINKERS)
def test_untaken_branch_that_would_fail_is_not_run(linker):
    i = T.lscalar("i")
    v = T.dvector("v")
    safe = ifelse(T.lt(i, v.shape[0]), v[i] * 2, T.constant(-1.0))
    with st.change_flags(linker=linker):
        f = st.function([i, v], safe)
    assert f(1, np.arange(3.0)) == 2.0
    assert f(7, np.arange(3.0)) == -1.0


@pytest.mark.parametrize("linker", LINKERS)
def test_nested_ifelse_is_lazy_at_every_level(linker):
    calls = []
    c1, c2 = T.bscalars("c1", "c2")
    v = T.dvector("v")
    inner = ifelse(c2, counting_op(calls, "inner-then")(v), counting_op(calls, "inner-else")(v) + 1)
    out = ifelse(c1, inner, counting_op(calls, "outer-else")(v) - 1)
    with st.change_flags(linker=linker):
        f = st.function([c1, c2, v], out)
    vals = np.array([1.0, 2.0])
    np.testing.assert_allclose(f(1, 1, vals), 2 * vals)
    assert calls == ["inner-then"]
    np.testing.assert_allclose(f(1, 0, vals), 2 * vals + 1)
    assert calls == ["inner-then", "inner-else"]
    np.testing.assert_allclose(f(0, 1, vals), 2 * vals - 1)
    assert calls == ["inner-then", "inner-else", "outer-else"]


@pytest.mark.parametrize("linker", LINKERS)
def test_a_value_both_branches_use_is_computed_once(linker):
    calls = []
    c = T.bscalar("c")
    v = T.dvector("v")
    shared_part = counting_op(calls, "shared")(v)
    out = ifelse(c, shared_part + 1, shared_part - 1)
    with st.change_flags(linker=linker):
        f = st.function([c, v], out)
    np.testing.assert_allclose(f(0, np.ones(2)), [1.0, 1.0])
    assert calls == ["shared"]


@pytest.mark.parametrize("linker", LINKERS)
def test_several_outputs_and_an_output_also_used_outside(linker):
    c = T.bscalar("c")
    x, y = T.dvectors("x", "y")
    outs = ifelse(c, [x * 2, x.sum()], [y * 3, y.sum()])
    also = (x * 2).sum()  # merged with the then-branch's x*2, which therefore runs eagerly
    with st.change_flags(linker=linker):
        f = st.function([c, x, y], outs + [also])
    xv, yv = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    a, b, d = f(1, xv, yv)
    np.testing.assert_allclose(a, 2 * xv)
    assert b == pytest.approx(3.0) and d == pytest.approx(6.0)
    a, b, d = f(0, xv, yv)
    np.testing.assert_allclose(a, 3 * yv)
    assert b == pytest.approx(7.0) and d == pytest.approx(6.0)


def test_outputs_are_copies_not_aliases_of_inputs():
    c = T.bscalar("c")
    x = T.dvector("x")
    f = st.function([c, x], ifelse(c, x, x + 1))
    xv = np.array([1.0, 2.0])
    out = f(1, xv)
    out[0] = 100.0
    assert xv[0] == 1.0


def test_gradient_flows_only_through_the_taken_branch():
    c = T.bscalar("c")
    x, y = T.dvectors("x", "y")
    cost = ifelse(c, (x ** 2).sum(), (3 * y).sum())
    gx, gy = st.grad(cost, [x, y])
    f = st.function([c, x, y], [gx, gy])
    xv, yv = np.array([1.0, -2.0]), np.array([5.0, 6.0])
    gxv, gyv = f(1, xv, yv)
    np.testing.assert_allclose(gxv, 2 * xv)
    np.testing.assert_allclose(gyv, 0.0)
    gxv, gyv = f(0, xv, yv)
    np.testing.assert_allclose(gxv, 0.0)
    np.testing.assert_allclose(gyv, 3.0)


@pytest.mark.parametrize("taken", [0, 1])
def test_verify_grad(taken):
    rng = np.random.default_rng(0)

    def fn(x, y):
        return ifelse(T.constant(taken, dtype="int8"), T.tanh(x) * y, x * y ** 2)

    st.verify_grad(fn, [rng.normal(size=(3,)), rng.normal(size=(3,))], rng=rng)


def test_rop_matches_the_taken_branch():
    c = T.bscalar("c")
    x = T.dvector("x")
    v = T.dvector("v")
    out = ifelse(c, x ** 2, 3 * x)
    jv = st.Rop(out, x, v)
    f = st.function([c, x, v], jv)
    xv, vv = np.array([1.0, 2.0]), np.array([0.5, -1.0])
    np.testing.assert_allclose(f(1, xv, vv), 2 * xv * vv)
    np.testing.assert_allclose(f(0, xv, vv), 3 * vv)


def test_infer_shape():
    c = T.bscalar("c")
    x, y = T.dmatrices("x", "y")
    out = ifelse(c, x, y)
    check_infer_shape([c, x, y], out, [np.int8(1), np.ones((2, 3)), np.ones((4, 5))])
    check_infer_shape([c, x, y], out, [np.int8(0), np.ones((2, 3)), np.ones((4, 5))])


def test_mixed_dtypes_upcast_and_static_shapes_merge():
    c = T.bscalar("c")
    out = ifelse(c, T.fvector("f"), T.dvector("d"))
    assert out.dtype == "float64"
    a = T.TensorType("float64", shape=(3, None))("a")
    b = T.TensorType("float64", shape=(3, 4))("b")
    assert ifelse(c, a, b).type.shape == (3, None)


def test_errors_name_the_problem():
    c = T.bscalar("c")
    with pytest.raises(TypeError, match="condition must be a scalar"):
        ifelse(T.bvector("cv"), T.dscalar(), T.dscalar())
    with pytest.raises(TypeError, match="output 0 has type"):
        ifelse(c, T.dvector(), T.dmatrix())
    with pytest.raises(ValueError, match="then-branch has 2 values but the else-branch has 1"):
        ifelse(c, [T.dvector(), T.dvector()], [T.dvector()])
    with pytest.raises(TypeError, match="takes a condition and 2 branch values"):
        IfElse(1)(c, T.dvector())


def test_schedule_without_lazy_ops_is_the_plain_order():
    x = T.dvector("x")
    fg = st.FunctionGraph([x], [T.exp(x) + 1])
    order, gates = lazy.schedule(fg)
    assert order == fg.toposort() and gates == []


def test_schedule_gates_the_branch_only_nodes():
    c = T.bscalar("c")
    x = T.dvector("x")
    fg = st.FunctionGraph([c, x], [ifelse(c, T.exp(x), T.log(x))])
    order, gates = lazy.schedule(fg)
    assert len(gates) == 1
    gate = gates[0]
    then_ops = [str(order[s].op) for s in gate.branch_steps[0]]
    else_ops = [str(order[s].op) for s in gate.branch_steps[1]]
    assert any("exp" in o for o in then_ops) and any("log" in o for o in else_ops)
    assert gate.before == min(gate.branch_steps[0] + gate.branch_steps[1])
