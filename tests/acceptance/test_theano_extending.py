"""Theano 1.0's "Creating a new Op" tutorial: Ops written the Theano way run unchanged.

A Theano Op defines ``make_node`` (or ``itypes``/``otypes``), ``perform``,
``infer_shape(self, node, input_shapes)``, ``grad(self, inputs, output_grads)``
and ``R_op``; ``__props__`` gives equality and hashing. ``as_op`` wraps a
NumPy function.
"""

import numpy as np
import pytest

import symtensor as st
import symtensor.tensor as T
from symtensor import function
from symtensor.compile.ops import as_op


class TwiceOp(st.Op):
    """Doubles its input, with every optional method written in Theano 1.0's signatures."""

    __props__ = ()

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return st.Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        (x,) = inputs
        output_storage[0][0] = x * 2

    def infer_shape(self, node, i0_shapes):  # Theano 1.0 signature: no fgraph argument
        return i0_shapes

    def grad(self, inputs, output_grads):
        return [output_grads[0] * 2]

    def R_op(self, inputs, eval_points):
        if eval_points[0] is None:
            return eval_points
        return self.grad(inputs, eval_points)


class TwiceMatrixOp(st.Op):
    """The same computation declared with itypes/otypes instead of make_node."""

    __props__ = ()
    itypes = [T.dmatrix]
    otypes = [T.dmatrix]

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = inputs[0] * 2

    def infer_shape(self, node, i0_shapes):
        return i0_shapes

    def grad(self, inputs, output_grads):
        return [output_grads[0] * 2]


class AXPBOp(st.Op):
    """a * x + b with the parameters in __props__."""

    __props__ = ("a", "b")

    def __init__(self, a, b):
        self.a = a
        self.b = b
        super().__init__()

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return st.Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = self.a * inputs[0] + self.b

    def infer_shape(self, node, i0_shapes):
        return i0_shapes

    def grad(self, inputs, output_grads):
        return [self.a * output_grads[0]]


def test_op_with_make_node():
    x = T.matrix()
    f = function([x], TwiceOp()(x))
    inp = np.random.rand(5, 4).astype(st.config.floatX)
    np.testing.assert_allclose(f(inp), inp * 2)
    assert str(TwiceOp()) == "TwiceOp"


def test_op_with_itypes_and_otypes():
    x = T.dmatrix()
    f = function([x], TwiceMatrixOp()(x))
    inp = np.random.rand(3, 2)
    np.testing.assert_allclose(f(inp), inp * 2)
    with pytest.raises(TypeError):
        TwiceMatrixOp()(T.dvector())  # the declared input type is enforced
    assert TwiceMatrixOp()(x).type == T.dmatrix


def test_theano_style_infer_shape_is_used_for_shapes():
    x = T.dmatrix("x")
    for op in (TwiceOp(), TwiceMatrixOp(), AXPBOp(2, 1)):
        f = function([x], op(x).shape)
        np.testing.assert_array_equal(f(np.ones((4, 7))), [4, 7])
        assert not any(node.op == op for node in f.maker.fgraph.toposort()), "the op itself was computed"


def test_theano_style_grad_and_r_op():
    rng = np.random.RandomState(0)
    st.verify_grad(TwiceOp(), [rng.rand(3, 2)], rng=rng)
    st.verify_grad(TwiceMatrixOp(), [rng.rand(3, 2)], rng=rng)
    st.verify_grad(AXPBOp(3, 1), [rng.rand(4)], rng=rng)
    x = T.dvector("x")
    v = T.dvector("v")
    jv = T.Rop(TwiceOp()(x), x, v)
    np.testing.assert_array_equal(function([v], jv)([3.0, 4.0]), [6.0, 8.0])  # linear: x is not needed


def test_props_give_equality_and_hash():
    assert AXPBOp(2, 3) == AXPBOp(2, 3)
    assert hash(AXPBOp(2, 3)) == hash(AXPBOp(2, 3))
    assert AXPBOp(2, 3) != AXPBOp(2, 4)
    assert TwiceOp() == TwiceOp()
    x = T.dvector("x")
    f = function([x], AXPBOp(2, 3)(x) + AXPBOp(2, 3)(x))
    np.testing.assert_array_equal(f([1.0, 2.0]), [10.0, 14.0])
    # equal ops applied to the same input merge into one node
    assert sum(isinstance(n.op, AXPBOp) for n in f.maker.fgraph.toposort()) == 1


def test_as_op_decorator():
    @as_op(itypes=[T.fmatrix, T.fmatrix], otypes=[T.fmatrix])
    def numpy_dot(a, b):
        return np.dot(a, b)

    x = T.fmatrix("x")
    y = T.fmatrix("y")
    f = function([x, y], numpy_dot(x, y))
    a = np.ones((2, 3), dtype="float32")
    b = np.ones((3, 4), dtype="float32")
    out = f(a, b)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, np.full((2, 4), 3.0))


def test_as_op_with_infer_shape():
    def shape_of_dot(node, input_shapes):
        return [(input_shapes[0][0], input_shapes[1][1])]

    @as_op(itypes=[T.dmatrix, T.dmatrix], otypes=[T.dmatrix], infer_shape=shape_of_dot)
    def numpy_dot(a, b):
        return np.dot(a, b)

    x = T.dmatrix("x")
    y = T.dmatrix("y")
    f = function([x, y], numpy_dot(x, y).shape)
    np.testing.assert_array_equal(f(np.ones((2, 3)), np.ones((3, 5))), [2, 5])
    assert st.as_op is as_op


def test_custom_op_inside_a_trained_graph():
    """A Theano-style op used in a model with shared weights and updates."""
    w = st.shared(np.array([1.0, -1.0]), name="w")
    x = T.dvector("x")
    cost = (AXPBOp(2, 0)(x * w) ** 2).sum()
    step = function([x], cost, updates=[(w, w - 0.01 * T.grad(cost, w))])
    first = step([1.0, 1.0])
    for _ in range(20):
        last = step([1.0, 1.0])
    assert last < first


def test_op_from_graph():
    x, y, z = T.dscalars("x", "y", "z")
    e = x + y * z
    op = st.OpFromGraph([x, y, z], [e])
    a, b, c = T.dscalars("a", "b", "c")
    assert function([a, b, c], op(a, b, c))(1.0, 2.0, 3.0) == 7.0
