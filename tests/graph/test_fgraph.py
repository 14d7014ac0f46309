"""FunctionGraph: construction, client bookkeeping, replace, pruning, features, validation."""

import numpy as np
import pytest

import symtensor.tensor as T
from symtensor.graph.basic import Apply, Constant
from symtensor.graph.fgraph import (AlreadyThere, Feature, FunctionGraph, InconsistencyError, MissingInputError,
                                    Output)
from symtensor.graph.op import Op
from symtensor.graph.type import Type
from symtensor.link.python import PythonLinker


class Kind(Type):
    def __init__(self, name="num"):
        self.name = name

    def filter(self, data, strict=False, allow_downcast=None):
        return data

    def __eq__(self, other):
        return type(other) is Kind and other.name == self.name

    def __hash__(self):
        return hash(("Kind", self.name))

    def __str__(self):
        return f"Kind({self.name})"


NUM = Kind("num")


class Fn(Op):
    __props__ = ("name",)

    def __init__(self, name):
        self.name = name

    def make_node(self, *inputs):
        return Apply(self, inputs, [inputs[0].type()])

    def __str__(self):
        return self.name


add, mul, neg, bad = Fn("add"), Fn("mul"), Fn("neg"), Fn("bad")


def var(name, type=NUM):
    return type(name)


class Recorder(Feature):
    """Logs every callback as a tuple."""

    def __init__(self):
        self.log = []

    def on_attach(self, fgraph):
        self.log.append(("attach",))

    def on_detach(self, fgraph):
        self.log.append(("detach",))

    def on_import(self, fgraph, node, reason):
        self.log.append(("import", str(node.op), reason))

    def on_prune(self, fgraph, node, reason):
        self.log.append(("prune", str(node.op), reason))

    def on_change_input(self, fgraph, node, i, old, new, reason):
        self.log.append(("change", node if isinstance(node, Output) else str(node.op), i, old, new, reason))

    def of(self, kind):
        return [entry for entry in self.log if entry[0] == kind]


class NoBad(Feature):
    """Vetoes any graph holding a ``bad`` node."""

    def validate(self, fgraph):
        for node in fgraph.apply_nodes:
            if node.op == bad:
                raise InconsistencyError(f"{node} is not allowed")


def small_graph():
    x, y = var("x"), var("y")
    a = add(x, y)
    b = neg(a)
    out = mul(b, x)
    return x, y, a, b, out


# ---------------------------------------------------------------- construction

def test_construction_without_clone_tracks_everything():
    x, y, a, b, out = small_graph()
    fg = FunctionGraph([x, y], [out], clone=False)
    assert fg.inputs == [x, y] and fg.outputs == [out]
    assert fg.apply_nodes == {a.owner, b.owner, out.owner}
    assert fg.variables == {x, y, a, b, out}
    assert fg.clients[x] == [(a.owner, 0), (out.owner, 1)] or \
        sorted(fg.clients[x], key=lambda c: c[1]) == [(a.owner, 0), (out.owner, 1)]
    assert fg.clients[a] == [(b.owner, 0)]
    assert fg.clients[out] == [(Output(0), 0)]
    assert fg.get_clients(y) == [(a.owner, 1)]
    fg.check_integrity()
    assert fg.toposort() == [a.owner, b.owner, out.owner]


def test_construction_with_clone_leaves_original_alone():
    x, y, a, b, out = small_graph()
    fg = FunctionGraph([x, y], [out])
    assert fg.inputs[0] is not x and fg.equiv[x] is fg.inputs[0]
    assert out.owner not in fg.apply_nodes and fg.equiv[out] is fg.outputs[0]
    fg.replace(fg.equiv[a], fg.inputs[1])
    assert out.owner.inputs[0] is b and b.owner.inputs[0] is a
    fg.check_integrity()


def test_constants_and_output_that_is_an_input():
    x = var("x")
    c = Constant(NUM, 2)
    out = mul(x, c)
    fg = FunctionGraph([x], [out, x], clone=False)
    assert c in fg.variables and fg.clients[c] == [(out.owner, 1)]
    assert (Output(1), 1) in fg.clients[x]
    fg.check_integrity()


def test_bad_construction():
    x, y, a, b, out = small_graph()
    with pytest.raises(ValueError, match="ownerless"):
        FunctionGraph([a], [out], clone=False)
    with pytest.raises(ValueError, match="more than once"):
        FunctionGraph([x, x, y], [out], clone=False)


def test_missing_input_error_names_variable_and_site():
    x, y, a, b, out = small_graph()
    with pytest.raises(MissingInputError, match=r"value of y") as info:
        FunctionGraph([x], [out], clone=False)
    assert info.value.variable is y
    assert "test_fgraph.py" in str(info.value)


def test_missing_input_during_replace_leaves_graph_intact():
    x, y, a, b, out = small_graph()
    fg = FunctionGraph([x, y], [out], clone=False)
    stranger = var("stranger")
    with pytest.raises(MissingInputError, match="stranger"):
        fg.replace(b, neg(add(x, stranger)))
    assert fg.apply_nodes == {a.owner, b.owner, out.owner}
    fg.check_integrity()


# ---------------------------------------------------------------- replace and pruning

def test_replace_inner_variable_prunes_dead_nodes():
    x, y, a, b, out = small_graph()
    fg = FunctionGraph([x, y], [out], clone=False)
    rec = Recorder()
    fg.attach_feature(rec)
    new = mul(x, y)
    fg.replace(b, new, reason="test")
    assert out.owner.inputs[0] is new
    assert fg.apply_nodes == {new.owner, out.owner}
    assert a not in fg.variables and b not in fg.variables and a not in fg.clients
    assert fg.clients[x] and (a.owner, 0) not in fg.clients[x]
    assert rec.of("import") == [("import", "mul", "test")]
    assert sorted(rec.of("prune")) == [("prune", "add", "test"), ("prune", "neg", "test")]
    assert rec.of("change") == [("change", "mul", 0, b, new, "test")]
    fg.check_integrity()


def test_replace_output_and_replace_all():
    x, y, a, b, out = small_graph()
    fg = FunctionGraph([x, y], [out], clone=False)
    rec = Recorder()
    fg.attach_feature(rec)
    fg.replace(out, a)
    assert fg.outputs == [a]
    assert fg.apply_nodes == {a.owner}
    assert rec.of("change") == [("change", Output(0), 0, out, a, None)]
    fg.check_integrity()
    fg2 = FunctionGraph([x, y], [b, a], clone=False)
    nx, ny = neg(x), neg(y)
    fg2.replace_all([(a, nx), (b, ny)])
    assert fg2.outputs == [ny, nx]
    assert fg2.apply_nodes == {nx.owner, ny.owner}
    fg2.check_integrity()


def test_replace_by_expression_of_itself():
    x, y, a, b, out = small_graph()
    fg = FunctionGraph([x, y], [out], clone=False)
    wrapped = neg(neg(a))
    fg.replace(a, wrapped)
    assert b.owner.inputs[0] is wrapped
    assert a in fg.variables and fg.clients[a] == [(wrapped.owner.inputs[0].owner, 0)]
    fg.check_integrity()


def test_replace_type_mismatch_and_foreign_variable():
    x, y, a, b, out = small_graph()
    fg = FunctionGraph([x, y], [out], clone=False)
    with pytest.raises(TypeError, match="cannot replace"):
        fg.replace(a, var("o", Kind("other")))
    fg.replace(var("not_in_graph"), a)  # a no-op
    fg.check_integrity()


def test_change_node_input_with_output_marker():
    x, y, a, b, out = small_graph()
    fg = FunctionGraph([x, y], [out], clone=False)
    fg.change_node_input("output", 0, b)
    assert fg.outputs == [b] and fg.clients[b] == [(Output(0), 0)]
    fg.check_integrity()
    with pytest.raises(ValueError, match="not in this FunctionGraph"):
        fg.change_node_input(out.owner, 0, a)


def test_pruning_a_deep_chain_is_iterative():
    x = var("x")
    h = x
    for _ in range(5000):
        h = neg(h)
    fg = FunctionGraph([x], [h], clone=False)
    assert len(fg.apply_nodes) == 5000
    fg.replace(h, x)
    assert fg.apply_nodes == set() and fg.variables == {x}
    fg.check_integrity()


def test_replace_on_tensor_graph_computes_new_value():
    x = T.dvector("x")
    y = T.exp(x) + 1.0
    fg = FunctionGraph([x], [y])
    inner = fg.outputs[0].owner.inputs[0]
    fg.replace(inner, fg.inputs[0] * 3.0)
    run = PythonLinker().make_function(fg)
    np.testing.assert_allclose(run([np.array([1.0, 2.0])])[0], [4.0, 7.0])
    fg.check_integrity()


# ---------------------------------------------------------------- features

def test_feature_attach_detach_and_no_replay():
    x, y, a, b, out = small_graph()
    fg = FunctionGraph([x, y], [out], clone=False)
    rec = Recorder()
    fg.attach_feature(rec)
    fg.attach_feature(rec)  # twice: once
    assert rec.log == [("attach",)]  # existing nodes are not replayed through on_import
    assert fg.features == [rec]
    fg.remove_feature(rec)
    assert rec.log[-1] == ("detach",) and fg.features == []
    fg.replace(b, x)
    assert rec.of("prune") == []


def test_feature_given_at_construction_hears_nothing_but_attach():
    x, y, a, b, out = small_graph()
    rec = Recorder()
    FunctionGraph([x, y], [out], features=[rec], clone=False)
    assert rec.log == [("attach",)]


def test_already_there_refuses_attachment():
    class Once(Feature):
        def on_attach(self, fgraph):
            if any(isinstance(f, Once) for f in fgraph.features):
                raise AlreadyThere()

    x = var("x")
    fg = FunctionGraph([x], [neg(x)], clone=False)
    first, second = Once(), Once()
    fg.attach_feature(first)
    fg.attach_feature(second)
    assert fg.features == [first]


def test_feature_hooks_are_optional():
    class Partial:
        def __init__(self):
            self.imported = []

        def on_import(self, fgraph, node, reason):
            self.imported.append(node)

    x, y, a, b, out = small_graph()
    fg = FunctionGraph([x, y], [out], clone=False)
    partial = Partial()
    fg.attach_feature(partial)
    new = add(y, y)
    fg.replace(a, new)
    fg.validate()
    assert partial.imported == [new.owner]


def test_replace_validate_veto_reverts():
    x, y, a, b, out = small_graph()
    fg = FunctionGraph([x, y], [out], clone=False)
    fg.attach_feature(NoBad())
    rec = Recorder()
    fg.attach_feature(rec)
    before_nodes, before_clients = set(fg.apply_nodes), {k: list(v) for k, v in fg.clients.items()}
    with pytest.raises(InconsistencyError, match="not allowed"):
        fg.replace_validate(b, bad(x), reason="try")
    assert fg.apply_nodes == before_nodes
    assert {k: sorted(v, key=lambda c: c[1]) for k, v in fg.clients.items()} == \
        {k: sorted(v, key=lambda c: c[1]) for k, v in before_clients.items()}
    assert out.owner.inputs[0] is b
    assert ("import", "bad", "try") in rec.log and ("prune", "bad", "revert") in rec.log
    fg.check_integrity()
    ok = neg(y)
    fg.replace_validate(b, ok)
    assert out.owner.inputs[0] is ok
    fg.check_integrity()


def test_replace_all_validate_reverts_every_pair():
    x, y, a, b, out = small_graph()
    fg = FunctionGraph([x, y], [out, a], clone=False)
    fg.attach_feature(NoBad())
    with pytest.raises(InconsistencyError):
        fg.replace_all_validate([(a, neg(y)), (b, bad(y))])
    assert fg.outputs == [out, a] and b.owner.inputs[0] is a
    fg.check_integrity()


def test_check_integrity_detects_corruption():
    x, y, a, b, out = small_graph()
    fg = FunctionGraph([x, y], [out], clone=False)
    fg.clients[a].clear()
    with pytest.raises(AssertionError, match="client list"):
        fg.check_integrity()
    fg2 = FunctionGraph([x, y], [out], clone=False)
    fg2.apply_nodes.discard(b.owner)
    with pytest.raises(AssertionError, match="apply_nodes"):
        fg2.check_integrity()


def test_fgraph_clone_is_independent():
    x, y, a, b, out = small_graph()
    fg = FunctionGraph([x, y], [out], clone=False)
    fg.attach_feature(Recorder())
    copy, equiv = fg.clone_get_equiv()
    assert copy.features == [] and equiv[out] is copy.outputs[0]
    copy.replace(equiv[b], copy.inputs[0])
    assert fg.apply_nodes == {a.owner, b.owner, out.owner}
    copy.check_integrity()
    fg.check_integrity()
    assert len(fg.clone().apply_nodes) == 3


def test_add_output_and_import_var():
    x, y, a, b, out = small_graph()
    fg = FunctionGraph([x, y], [b], clone=False)
    fg.add_output(out)
    assert fg.outputs == [b, out] and (Output(1), 1) in fg.clients[out]
    fg.check_integrity()


def test_import_is_proportional_to_new_nodes():
    """Importing into a big graph walks only the new part (no toposort of everything)."""
    x = var("x")
    h = x
    for _ in range(3000):
        h = neg(h)
    fg = FunctionGraph([x], [h], clone=False)
    walked = []
    original = fg._new_nodes

    def spy(node):
        order = original(node)
        walked.append(len(order))
        return order

    fg._new_nodes = spy
    top = h
    for _ in range(200):
        new = add(neg(top), top)
        fg.change_node_input("output", 0, new)
        top = new
    assert walked == [2] * 200
    fg.check_integrity()
