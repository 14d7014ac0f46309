"""The in-place phase: what may be overwritten (never the caller's arrays), what is (intermediates,
updated shared variables), in which order, and that the values never change."""

import numpy as np
import pytest

import symtensor as st
import symtensor.tensor as T
from symtensor import scalar as ts
from symtensor.compile.mode import Mode
from symtensor.scalar.composite import Composite
from symtensor.tensor.elemwise import Elemwise

NO_INPLACE = Mode(optimizer="fast_run").excluding("inplace")


def destroyers(f):
    return [n for n in f.maker.fgraph.apply_nodes if n.op.destroy_map]


def destroyed_vars(f):
    return {n.inputs[i] for n in destroyers(f) for idxs in n.op.destroy_map.values() for i in idxs}


def snapshot(*arrays):
    return [a.copy() for a in arrays]


# graphs where overwriting an input would be tempting: (builder over x, y matrices)
TEMPTING = {
    "x_plus_1": lambda x, y: x + 1,
    "exp_plus_y": lambda x, y: T.exp(x) + y,
    "set_row": lambda x, y: T.set_subtensor(x[0], y[1]),
    "inc_rows": lambda x, y: T.inc_subtensor(x[1:], y[:-1]),
    "advanced_inc": lambda x, y: T.inc_subtensor(x[[0, 2]], y[:2]),
    "advanced_set_2d": lambda x, y: T.set_subtensor(x[[0, 1], [1, 2]], y[0, :2]),
    "set_then_add": lambda x, y: T.set_subtensor(x[0], 0.0) + y,
    "view_of_input": lambda x, y: T.set_subtensor(x.T[0], y[0, :3]) * 2,
    "two_steps": lambda x, y: T.sqrt(T.abs_(x * y + 1)) - x,
}


@pytest.mark.parametrize("name", sorted(TEMPTING))
def test_inputs_passed_by_the_caller_are_never_overwritten(name, rng):
    x, y = T.dmatrix("x"), T.dmatrix("y")
    out = TEMPTING[name](x, y)
    f = st.function([x, y], out, on_unused_input="ignore")
    ref = st.function([x, y], out, mode=NO_INPLACE, on_unused_input="ignore")
    xv, yv = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    before = snapshot(xv, yv)
    for _ in range(3):  # repeated calls keep giving the same result
        np.testing.assert_allclose(f(xv, yv), ref(*before))
        np.testing.assert_array_equal(xv, before[0])
        np.testing.assert_array_equal(yv, before[1])
    fg_inputs = set(f.maker.fgraph.inputs)
    dh = f.maker.fgraph.destroy_handler
    assert not {r for v in destroyed_vars(f) for r in dh.roots(v)} & fg_inputs


@pytest.mark.parametrize("name", sorted(TEMPTING))
def test_shared_values_that_are_not_updated_are_never_overwritten(name, rng):
    xv, yv = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    x, y = st.shared(xv.copy(), name="x"), st.shared(yv.copy(), name="y")
    f = st.function([], TEMPTING[name](x, y))
    first = f()
    for _ in range(2):
        np.testing.assert_allclose(f(), first)
    np.testing.assert_array_equal(x.get_value(borrow=True), xv)
    np.testing.assert_array_equal(y.get_value(borrow=True), yv)


def test_intermediates_are_overwritten(rng):
    x = T.dmatrix("x")
    s = x.sum(axis=0)
    f = st.function([x], [T.set_subtensor(T.exp(x)[0], 1.0), s * 2 + 1])
    kinds = {type(n.op).__name__ for n in destroyers(f)}
    assert kinds == {"IncSubtensor", "Elemwise"}
    xv = rng.normal(size=(3, 2))
    a, b = f(xv)
    want = np.exp(xv)
    want[0] = 1.0
    np.testing.assert_allclose(a, want)
    np.testing.assert_allclose(b, xv.sum(axis=0) * 2 + 1)


def test_nothing_is_broadcast_into_a_buffer(rng):
    row, m = T.drow("row"), T.dmatrix("m")
    a = T.exp(row)   # (1, n): an add with m would broadcast it, so it may not be overwritten
    b = T.log(T.abs_(m) + 1)
    f = st.function([row, m], [a * 2, a + b])
    for node in destroyers(f):
        for o, (i,) in node.op.destroy_map.items():
            assert node.inputs[i].type.broadcastable == node.outputs[o].type.broadcastable
            assert node.inputs[i].dtype == node.outputs[o].dtype
    rv, mv = rng.normal(size=(1, 3)), rng.normal(size=(2, 3))
    got = f(rv, mv)
    np.testing.assert_allclose(got[0], np.exp(rv) * 2)
    np.testing.assert_allclose(got[1], np.exp(rv) + np.log(np.abs(mv) + 1))


def test_a_second_reader_runs_before_the_buffer_is_overwritten(rng):
    """a = exp(x) has two readers. Data dependencies alone would run ``a + 1`` (listed first) before
    ``a * 2``; once ``a + 1`` overwrites a, only the DestroyHandler's ordering keeps ``a * 2`` right."""
    x = T.dvector("x")
    a = T.exp(x)
    f = st.function([x], [a + 1, a * 2])
    fg = f.maker.fgraph
    (d,) = [n for n in destroyers(f) if n.inputs[next(iter(n.op.destroy_map.values()))[0]].owner is not None]
    other = next(c for c, _ in fg.clients[d.inputs[0]] if c is not d)
    assert fg.destroy_handler.orderings()[d] == {other}
    order = f.maker.run.order
    assert order.index(other) < order.index(d)
    xv = rng.normal(size=4)
    for _ in range(2):
        p, q = f(xv)
        np.testing.assert_allclose(p, np.exp(xv) + 1)
        np.testing.assert_allclose(q, np.exp(xv) * 2)


def test_a_reader_after_the_destroyer_forbids_it(rng):
    x = T.dvector("x")
    a = T.exp(x)
    b = T.set_subtensor(a[0], 0.0)
    c = T.dot(b, a)  # needs the old a after b: b may not overwrite a
    f = st.function([x], c)
    assert not destroyers(f)
    xv = rng.normal(size=3)
    e = np.exp(xv)
    np.testing.assert_allclose(f(xv), e[1:] @ e[1:])


def mlp(rng, n_in=6, n_hid=5, n_out=3):
    x, y = T.dmatrix("x"), T.dmatrix("y")
    w1 = st.shared(rng.normal(size=(n_in, n_hid)) * 0.3, name="w1")
    b1 = st.shared(np.zeros(n_hid), name="b1")
    w2 = st.shared(rng.normal(size=(n_hid, n_out)) * 0.3, name="w2")
    h = T.tanh(T.dot(x, w1) + b1)
    cost = T.sqr(T.dot(h, w2) - y).mean()
    params = [w1, b1, w2]
    grads = st.grad(cost, params)
    return x, y, params, cost, [(p, p - 0.1 * g) for p, g in zip(params, grads)]


def test_sgd_updates_overwrite_the_shared_values_in_place(rng):
    x, y, params, cost, updates = mlp(rng)
    start = [p.get_value() for p in params]
    f = st.function([x, y], cost, updates=updates)
    fg = f.maker.fgraph
    mapping = fg.update_mapping
    for out_k, in_k in mapping.items():
        node = fg.outputs[out_k].owner
        assert node.op.destroy_map, f"the update of {fg.inputs[in_k]} is not done in place: {node}"
        dh = fg.destroy_handler
        assert any(fg.inputs[in_k] in dh.roots(node.inputs[i])
                   for idxs in node.op.destroy_map.values() for i in idxs)
    assert not f._copy_inputs  # an in-place shared update costs no copy
    buffers = [p.get_value(borrow=True) for p in params]
    # the same steps without the in-place phase, on copies of the parameters
    x2, y2, params2, cost2, updates2 = mlp(np.random.default_rng(0))
    for p2, v in zip(params2, start):
        p2.set_value(v)
    g = st.function([x2, y2], cost2, updates=updates2, mode=NO_INPLACE)
    assert not destroyers(g)
    xv, yv = rng.normal(size=(8, 6)), rng.normal(size=(8, 3))
    for _ in range(4):
        np.testing.assert_allclose(f(xv, yv), g(xv, yv))
        for p, p2 in zip(params, params2):
            np.testing.assert_allclose(p.get_value(), p2.get_value())
    assert all(p.get_value(borrow=True) is b for p, b in zip(params, buffers))


def test_an_updated_shared_value_that_is_also_an_output_is_not_overwritten():
    w = st.shared(np.arange(3.0), name="w")
    f = st.function([], [w, w * 3], updates=[(w, w * 2)])
    old, tripled = f()
    np.testing.assert_array_equal(old, [0, 1, 2])
    np.testing.assert_array_equal(tripled, [0, 3, 6])
    np.testing.assert_array_equal(w.get_value(), [0, 2, 4])


def test_an_updated_shared_array_passed_as_an_argument_too_is_not_overwritten():
    w = st.shared(np.arange(3.0), name="w")
    x = T.dvector("x")
    f = st.function([x], x + w, updates=[(w, w * 2)])
    assert destroyers(f)
    arg = w.get_value(borrow=True)
    np.testing.assert_array_equal(f(arg), [0, 2, 4])
    np.testing.assert_array_equal(arg, [0, 1, 2])  # the caller's array (the old shared buffer) is intact
    np.testing.assert_array_equal(w.get_value(), [0, 2, 4])


def test_an_in_place_shared_update_runs_after_nodes_that_can_fail():
    """w's update comes first in the graph outputs, so data dependencies alone would overwrite w
    before the dot runs; the destroyers of updated shared values are scheduled last instead."""
    a, b = T.dmatrix("a"), T.dmatrix("b")
    w = st.shared(np.ones(3), name="w")
    v = st.shared(np.zeros(()), name="v")
    f = st.function([a, b], [], updates=[(w, w * 2), (v, v + T.dot(a, b).sum())])
    assert len(destroyers(f)) == 2
    with pytest.raises(ValueError):
        f(np.ones((2, 3)), np.ones((2, 3)))
    np.testing.assert_array_equal(w.get_value(), [1, 1, 1])  # the failing dot ran before w was touched
    f(np.ones((2, 3)), np.ones((3, 2)))
    np.testing.assert_array_equal(w.get_value(), [2, 2, 2])
    assert v.get_value() == 12


def test_mutable_inputs_may_be_overwritten(rng):
    x = T.dvector("x")
    f = st.function([st.In(x, mutable=True)], T.exp(x) * 2 + 1)
    assert destroyed_vars(f) == {f.maker.fgraph.inputs[0]}
    xv = rng.normal(size=4)
    want = np.exp(xv) * 2 + 1
    out = f(xv)
    np.testing.assert_allclose(out, want)


@pytest.mark.parametrize("name", sorted(TEMPTING))
def test_excluding_inplace_gives_the_same_values(name, rng):
    x, y = T.dmatrix("x"), T.dmatrix("y")
    a = T.exp(x) * y  # an intermediate the graphs may overwrite
    out = TEMPTING[name](a, y + 1)
    xv, yv = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    f = st.function([x, y], [out, a])
    g = st.function([x, y], [out, a], mode=NO_INPLACE)
    assert not destroyers(g)
    for _ in range(2):
        for got, want in zip(f(xv, yv), g(xv, yv)):
            np.testing.assert_allclose(got, want)


def test_elemwise_with_two_outputs_gets_distinct_buffers(rng):
    u, v = ts.ScalarType("float64")(), ts.ScalarType("float64")()
    x, y = T.dvector("x"), T.dvector("y")
    a, b = T.exp(x), T.exp(y)
    q = Elemwise(Composite([u, v], [u + v, u * v]))(a, b)
    f = st.function([x, y], q)
    (node,) = [n for n in f.maker.fgraph.apply_nodes if len(n.outputs) == 2]
    assert sorted(i for i, in node.op.destroy_map.values()) == [0, 1]
    xv, yv = rng.normal(size=3), rng.normal(size=3)
    s, p = f(xv, yv)
    np.testing.assert_allclose(s, np.exp(xv) + np.exp(yv))
    np.testing.assert_allclose(p, np.exp(xv) * np.exp(yv))
