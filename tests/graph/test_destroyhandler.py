"""DestroyHandler: double destroys, protected inputs, views, graph outputs, cycles, orderings,
and the incremental order maintenance agreeing with a from-scratch check."""

import random

import numpy as np
import pytest

import symtensor.tensor as T
from symtensor.graph.basic import Apply, Constant
from symtensor.graph.destroyhandler import DestroyHandler
from symtensor.graph.fgraph import FunctionGraph, InconsistencyError
from symtensor.graph.op import Op
from symtensor.graph.rewriting.basic import apply_replacements
from symtensor.link.python import PythonLinker


class Inc(Op):
    """x + 1; overwrites x when ``inplace``."""

    __props__ = ("inplace",)

    def __init__(self, inplace=False):
        self.inplace = inplace
        self.destroy_map = {0: [0]} if inplace else {}

    def make_node(self, x):
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, out):
        x = inputs[0] if self.inplace else inputs[0].copy()
        x += 1
        out[0][0] = x


class IncBy(Op):
    """x + y; overwrites x."""

    __props__ = ()
    destroy_map = {0: [0]}

    def make_node(self, x, y):
        return Apply(self, [x, y], [x.type()])

    def perform(self, node, inputs, out):
        inputs[0] += inputs[1]
        out[0][0] = inputs[0]


class View(Op):
    """The same storage as x (a view)."""

    __props__ = ()
    view_map = {0: [0]}

    def make_node(self, x):
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, out):
        out[0][0] = inputs[0][...]


class Add(Op):
    __props__ = ()

    def make_node(self, *xs):
        return Apply(self, list(xs), [xs[0].type()])

    def perform(self, node, inputs, out):
        out[0][0] = np.sum(inputs, axis=0)


inc, inc_ip, inc_by, view, add = Inc(), Inc(True), IncBy(), View(), Add()


def graph(inputs, outputs, protected=None):
    fg = FunctionGraph(inputs, outputs, clone=False)
    dh = DestroyHandler(protected)
    fg.attach_feature(dh)
    return fg, dh


def run(fg, *values):
    return PythonLinker().make_function(fg)(list(values))


def vec(name):
    return T.dvector(name)


# ------------------------------------------------------------------ rejected states

def test_a_variable_destroyed_by_two_nodes_is_rejected():
    x = vec("x")
    t = add(x, x)
    fg, _ = graph([x], [add(inc_ip(t), inc_ip(t))])
    with pytest.raises(InconsistencyError, match="destroyed by two nodes"):
        fg.validate()


def test_destroying_a_view_and_its_root_is_a_double_destroy():
    x = vec("x")
    t = add(x, x)
    fg, _ = graph([x], [add(inc_ip(view(t)), inc_ip(t))])
    with pytest.raises(InconsistencyError, match="destroyed by two nodes"):
        fg.validate()


@pytest.mark.parametrize("through_view", [False, True])
def test_protected_inputs_are_never_destroyed(through_view):
    x, y = vec("x"), vec("y")
    target = view(x) if through_view else x
    fg, _ = graph([x, y], [add(inc_ip(target), y)])  # default: every graph input is protected
    with pytest.raises(InconsistencyError, match="protected input"):
        fg.validate()
    fg, _ = graph([x, y], [add(inc_ip(target), y)], protected=[y])  # x is mutable
    assert fg.validate()


def test_constants_are_never_destroyed():
    c = T.constant(np.zeros(3))
    x = vec("x")
    fg, _ = graph([x], [add(inc_ip(c), x)], protected=[])
    with pytest.raises(InconsistencyError, match="constant"):
        fg.validate()


def test_a_graph_output_is_never_destroyed():
    x = vec("x")
    t = add(x, x)
    fg, _ = graph([x], [view(t), inc_ip(t)])
    with pytest.raises(InconsistencyError, match="output of the graph"):
        fg.validate()


def test_a_destroyer_may_not_read_its_target_through_another_input():
    x = vec("x")
    t = add(x, x)
    fg, _ = graph([x], [inc_by(t, view(t))])
    with pytest.raises(InconsistencyError, match="also reading its storage"):
        fg.validate()


@pytest.mark.parametrize("through_view", [False, True])
def test_a_reader_that_needs_the_destroyers_result_is_a_cycle(through_view):
    x = vec("x")
    t = add(x, x)
    d = inc_ip(t)
    reader_input = view(t) if through_view else t
    fg, _ = graph([x], [add(reader_input, d)])  # must read t before d runs, but needs d's result
    with pytest.raises(InconsistencyError, match="cycle"):
        fg.validate()


# ------------------------------------------------------------------ orderings

def test_other_readers_run_before_the_destroyer():
    x, y = vec("x"), vec("y")
    t = add(x, y)
    d = inc_ip(t)
    r = add(view(t), y)  # reads t through a view; independent of d
    fg, dh = graph([x, y], [d, r])  # data dependencies alone would run d first
    assert fg.validate()
    readers = dh.orderings()[d.owner]
    assert r.owner in readers and view(t).owner not in readers  # the actual view node of the graph is
    order = fg.toposort()
    assert order.index(r.owner) < order.index(d.owner)
    dh.check_order(order)
    out_d, out_r = run(fg, np.array([1.0, 2.0]), np.array([10.0, 20.0]))
    np.testing.assert_array_equal(out_d, [12.0, 23.0])
    np.testing.assert_array_equal(out_r, [21.0, 42.0])  # t was read before it was overwritten


def test_no_destroyers_means_no_orderings():
    x = vec("x")
    fg, dh = graph([x], [add(inc(x), view(x))])
    assert fg.validate() and dh.orderings() == {}


def test_destroyers_of_mutable_inputs_are_scheduled_last():
    x, y = vec("x"), vec("y")
    d = inc_ip(x)
    others = [add(y, y)]
    for _ in range(3):
        others.append(add(others[-1], y))
    fg, dh = graph([x, y], [d, others[-1], add(x, y)], protected=[y])
    assert fg.validate()
    order = fg.toposort()
    assert order[-1] is d.owner and dh.schedule_last() == {d.owner}


# ------------------------------------------------------------------ incremental behaviour

def test_a_rejected_replacement_is_reverted_and_the_handler_keeps_working():
    x = vec("x")
    t = add(x, x)
    u = inc(t)
    fg, dh = graph([x], [add(u, t)])
    assert fg.validate()
    before = str(fg.toposort())
    new = inc_ip(t)  # would overwrite t while the add still needs it afterwards
    assert not apply_replacements(fg, "test", u.owner, [new])
    fg.check_integrity()
    assert str(fg.toposort()) == before and not dh.destroyers
    # a safe one afterwards is accepted
    s = add(x, x)
    fg2, dh2 = graph([x], [inc(s)])
    assert apply_replacements(fg2, "test", fg2.outputs[0].owner, [inc_ip(s)])
    assert dh2.destroyers == {fg2.outputs[0].owner}


def test_incremental_checks_agree_with_a_from_scratch_check():
    """Random graphs; random Inc -> Inc(inplace) swaps, each kept only when the handler accepts it.
    After every step a fresh handler on a copy of the graph must agree, and the order it uses must
    respect every ordering."""
    rng = random.Random(0)
    for trial in range(40):
        xs = [vec(f"x{i}") for i in range(3)]
        pool = list(xs)
        for _ in range(rng.randint(10, 30)):
            kind = rng.random()
            if kind < 0.35:
                pool.append(inc(rng.choice(pool)))
            elif kind < 0.55:
                pool.append(view(rng.choice(pool)))
            else:
                pool.append(add(*rng.sample(pool, 2)))
        outs = rng.sample(pool[3:], min(3, len(pool) - 3))
        fg, dh = graph(xs, outs, protected=xs[:1])
        assert fg.validate()
        for _ in range(12):
            incs = [n for n in fg.apply_nodes if isinstance(n.op, Inc) and not n.op.inplace]
            if not incs:
                break
            node = rng.choice(sorted(incs, key=str))
            accepted = apply_replacements(fg, "test", node, [inc_ip(node.inputs[0])])
            fg.check_integrity()
            fresh_fg, equiv = fg.clone_get_equiv()
            fresh = DestroyHandler([fresh_fg.inputs[0]])
            fresh_fg.attach_feature(fresh)
            fresh_fg.validate()  # the accepted state is consistent from scratch too
            if not accepted:  # and the rejected change really was unsafe: redo it on the copy
                twin = equiv[node.outputs[0]].owner
                with pytest.raises(InconsistencyError):
                    fresh_fg.replace_validate(twin.outputs[0], inc_ip(twin.inputs[0]))
            assert fg.validate()  # (positions are brought up to date by validate, also after a revert)
            if not dh._stale:
                dh.check_order(sorted(fg.apply_nodes, key=dh.pos.__getitem__))
            dh.check_order(fg.toposort())


def test_the_handler_attaches_once_and_detaches():
    x = vec("x")
    fg, dh = graph([x], [inc(x)])
    fg.attach_feature(DestroyHandler())
    assert [f for f in fg.features if isinstance(f, DestroyHandler)] == [dh]
    fg.remove_feature(dh)
    assert not hasattr(fg, "destroy_handler")


def test_roots_and_alias_sets_follow_views():
    x = vec("x")
    t = add(x, x)
    v1 = view(t)
    v2 = view(v1)
    fg, dh = graph([x], [add(v2, view(t))])
    assert dh.roots(v2) == [t]
    assert {v1, v2, t} <= dh.alias_set(v2)
    assert dh.can_destroy(v2) and not dh.can_destroy(x)
    assert not dh.can_destroy(Constant(x.type, np.zeros(2)))
