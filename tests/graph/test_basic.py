"""The graph IR (symtensor.graph.basic, op): walks, cloning, replacement, Op identity, creation traces.

The graph layer knows nothing about tensors, so most tests build graphs from
a tiny Type and Op defined here.
"""

import inspect
import os

import numpy as np
import pytest

import symtensor as st
import symtensor.tensor as T
from symtensor.graph.basic import (Apply, Constant, Variable, ancestors, clone, clone_get_equiv, clone_replace,
                                   graph_inputs, io_toposort, is_in_ancestors, user_trace, vars_between)
from symtensor.graph.op import Op
from symtensor.graph.type import Type


class Kind(Type):
    """A type identified by a name; 'any' accepts every other kind (is_super)."""

    def __init__(self, name="num"):
        self.name = name

    def filter(self, data, strict=False, allow_downcast=None):
        return data

    def __eq__(self, other):
        return type(other) is Kind and other.name == self.name

    def __hash__(self):
        return hash(("Kind", self.name))

    def is_super(self, other):
        return self == other or self.name == "any"

    def __str__(self):
        return f"Kind({self.name})"


NUM = Kind("num")
OTHER = Kind("other")


class Fn(Op):
    """A named op with ``nout`` outputs of the type of its first input."""

    __props__ = ("name", "nout")

    def __init__(self, name, nout=1):
        self.name = name
        self.nout = nout

    def make_node(self, *inputs):
        return Apply(self, inputs, [inputs[0].type() for _ in range(self.nout)])


add, mul, neg = Fn("add"), Fn("mul"), Fn("neg")
split = Fn("split", nout=2)


def var(name, type=NUM):
    return type(name)


# ---------------------------------------------------------------- walks

def test_ancestors_includes_outputs_and_stops_at_blockers():
    x, y, z = var("x"), var("y"), var("z")
    a = add(x, y)
    b = mul(a, z)
    anc = ancestors([b])
    assert set(anc) == {b, a, x, y, z}
    assert anc[0] is b
    blocked = ancestors([b], blockers=[a])
    assert set(blocked) == {b, a, z}


def test_graph_inputs_returns_ownerless_and_blockers():
    x, y = var("x"), var("y")
    c = Constant(NUM, 3)
    a = add(x, c)
    b = mul(a, y)
    assert set(graph_inputs([b])) == {x, c, y}
    assert set(graph_inputs([b], blockers=[a])) == {a, y}


def test_io_toposort_orders_dependencies_first():
    x, y = var("x"), var("y")
    a = add(x, y)
    b = neg(a)
    c = mul(a, b)
    d = add(c, a)
    order = io_toposort([x, y], [d])
    assert len(order) == 4 and len(set(order)) == 4
    pos = {node: k for k, node in enumerate(order)}
    for node in order:
        for inp in node.inputs:
            if inp.owner is not None:
                assert pos[inp.owner] < pos[node]
    # stops at given inputs: a treated as an input
    assert set(io_toposort([a], [d])) == {b.owner, c.owner, d.owner}


def test_io_toposort_multi_output_node_once():
    x = var("x")
    lo, hi = split(x)
    out = add(lo, hi)
    order = io_toposort([x], [out, lo])
    assert order == [lo.owner, out.owner]


def test_io_toposort_is_iterative_on_deep_graphs():
    x = var("x")
    h = x
    for _ in range(5000):
        h = neg(h)
    assert len(io_toposort([x], [h])) == 5000
    assert len(ancestors([h])) == 5001


def test_vars_between_and_is_in_ancestors():
    x, y = var("x"), var("y")
    a = add(x, y)
    b = neg(a)
    assert set(vars_between([x, y], [b])) == {x, y, a, b}
    assert is_in_ancestors(b.owner, a.owner)
    assert not is_in_ancestors(a.owner, b.owner)


# ---------------------------------------------------------------- cloning

@pytest.mark.parametrize("copy_inputs", [True, False])
def test_clone_get_equiv(copy_inputs):
    x, y = var("x"), var("y")
    c = Constant(NUM, 7, name="seven")
    a = add(x, c)
    b = mul(a, y)
    b.name = "b"
    equiv = clone_get_equiv([x, y], [b], copy_inputs=copy_inputs)
    if copy_inputs:
        assert equiv[x] is not x and equiv[x].type == x.type and equiv[x].name == "x"
    else:
        assert equiv[x] is x and equiv[y] is y
    assert equiv[c] is c  # constants are immutable and shared
    new_b = equiv[b]
    assert new_b is not b and new_b.name == "b" and new_b.owner is equiv[b.owner]
    assert new_b.owner.op == b.owner.op
    assert new_b.owner.inputs == [equiv[a], equiv[y]]
    # the original graph is untouched
    assert b.owner.inputs == [a, y] and a.owner.inputs == [x, c]


def test_clone_copies_orphans_unless_told_not_to():
    x, orphan = var("x"), var("orphan")
    out = add(x, orphan)
    (nx,), (nout,) = clone([x], [out])
    assert nout.owner.inputs[0] is nx and nout.owner.inputs[1] is not orphan
    (nx,), (nout,) = clone([x], [out], copy_orphans=False)
    assert nout.owner.inputs[1] is orphan


def test_clone_keeps_creation_trace_and_tags():
    x = var("x")
    out = neg(x)
    out.tag.note = "hello"
    (_,), (new,) = clone([x], [out])
    assert new.tag.note == "hello" and new.tag.trace == out.tag.trace
    new.tag.note = "changed"
    assert out.tag.note == "hello"


def test_clone_replace_input():
    x, y, z = var("x"), var("y"), var("z")
    out = mul(add(x, y), x)
    new = clone_replace(out, {x: z})
    assert graph_inputs([new]) and set(graph_inputs([new])) == {z, y}
    assert set(graph_inputs([out])) == {x, y}  # original untouched
    assert new.owner.inputs[1] is z
    # the graph is copied even when nothing is replaced; inputs are shared
    same = clone_replace(out)
    assert same is not out and set(graph_inputs([same])) == {x, y}
    copied = clone_replace(out, share_inputs=False)
    assert not set(graph_inputs([copied])) & {x, y}


def test_clone_replace_inner_variable_and_list():
    x, y, w = var("x"), var("y"), var("w")
    a = add(x, y)
    b = neg(a)
    c = mul(b, x)
    new_b, new_c = clone_replace([b, c], [(a, w)])
    assert new_b.owner.inputs == [w]
    assert new_c.owner.inputs[0] is new_b and new_c.owner.inputs[1] is x
    assert a not in ancestors([new_c])


def test_clone_replace_with_tensors_evaluates(rng):
    x, y = T.dvector("x"), T.dvector("y")
    out = T.exp(x) * 2 + x
    inner = out.owner.inputs[0]  # exp(x) * 2
    new = clone_replace(out, {inner: y})
    xv, yv = rng.normal(size=3), rng.normal(size=3)
    np.testing.assert_allclose(st.function([x, y], new)(xv, yv), yv + xv)


def test_clone_replace_type_mismatch():
    x, y = var("x"), var("y", OTHER)
    out = neg(x)
    with pytest.raises(TypeError, match="cannot replace x"):
        clone_replace(out, {x: y})
    loose = clone_replace(out, {x: y}, strict=False)
    assert loose.type == OTHER
    with pytest.raises(TypeError, match="Variables"):
        clone_replace(out, {x: 3})


def test_clone_replace_tensor_type_mismatch():
    x = T.dvector("x")
    with pytest.raises(TypeError, match="cannot replace"):
        clone_replace(x * 2, {x: T.fvector("f")})
    with pytest.raises(TypeError, match="cannot replace"):
        clone_replace(x * 2, {x: T.dmatrix("m")})


def test_clone_with_new_inputs_strictness():
    x, y = var("x"), var("y", OTHER)
    node = neg(x).owner
    same = node.clone_with_new_inputs([var("x2")])
    assert same.op is node.op and same.outputs[0] is not node.outputs[0]
    with pytest.raises(TypeError, match="cannot replace"):
        node.clone_with_new_inputs([y])
    retyped = node.clone_with_new_inputs([y], strict=False)
    assert retyped.outputs[0].type == OTHER
    with pytest.raises(ValueError, match="new inputs"):
        node.clone_with_new_inputs([x, x])


# ---------------------------------------------------------------- Apply and Op

def test_apply_validates_inputs_and_outputs():
    with pytest.raises(TypeError, match="input 0 is int"):
        Apply(neg, [3], [var("o")])
    out = neg(var("x"))
    with pytest.raises(ValueError, match="already belongs"):
        Apply(neg, [var("y")], [out])


def test_apply_default_output():
    lo, hi = split(var("x"))
    with pytest.raises(AttributeError, match="2 outputs"):
        lo.owner.out  # noqa: B018
    assert neg(var("x")).owner.out.owner.op is neg


def test_op_equality_and_hash_from_props():
    assert Fn("a") == Fn("a") and hash(Fn("a")) == hash(Fn("a"))
    assert Fn("a") != Fn("b") and Fn("a") != Fn("a", nout=2)
    assert len({Fn("a"), Fn("a"), Fn("b")}) == 2

    class Other(Fn):
        pass

    assert Other("a") != Fn("a")  # same props, different class
    assert str(Fn("a")) == "Fn{name='a', nout=1}"


def test_op_call_returns_default_output_or_list():
    assert isinstance(neg(var("x")), Variable)
    outs = split(var("x"))
    assert isinstance(outs, list) and len(outs) == 2
    assert isinstance(neg(var("x"), return_list=True), list)


# ---------------------------------------------------------------- creation traces

def test_variable_trace_records_user_file_and_line():
    x = T.dvector("x"); line = _lineno()  # noqa: E702
    y = T.tanh(x) * 2; line_y = _lineno()  # noqa: E702
    for v, ln in ((x, line), (y, line_y)):
        filename, lineno, func, text = v.tag.trace[-1]
        assert os.path.basename(filename) == "test_basic.py"
        assert lineno == ln
        assert func == "test_variable_trace_records_user_file_and_line"
        assert "T." in text
    assert "test_basic.py" in y.creation_site()


def test_trace_limit_and_clone_keeps_trace():
    t = user_trace(limit=2)
    assert 1 <= len(t) <= 2 and os.path.basename(t[-1][0]) == "test_basic.py"
    assert user_trace(limit=0) == []
    x = T.dvector("x")
    assert x.clone().tag.trace == x.tag.trace


def _lineno():
    """The line number of the caller."""
    return inspect.currentframe().f_back.f_lineno
