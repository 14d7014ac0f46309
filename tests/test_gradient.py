"""symtensor.gradient: grad, Lop/Rop, jacobian/hessian, verify_grad and the gradient modifiers."""

import warnings

import numpy as np
import pytest

import symtensor as st
import symtensor.gradient as G
import symtensor.tensor as T
from helpers import check_infer_shape
from symtensor.graph.basic import Apply, ancestors
from symtensor.graph.null_type import grad_undefined, is_disconnected
from symtensor.graph.op import Op


def _eval(outputs, inputs, values):
    return st.function(inputs, outputs, on_unused_input="ignore")(*values)


def numeric_jacobian(fn, x, eps=1e-6):
    """d fn(x).ravel() / d x.ravel() by central differences."""
    x = np.array(x, dtype="float64")
    cols = []
    for j in range(x.size):
        xp, xm = x.copy().reshape(-1), x.copy().reshape(-1)
        xp[j] += eps
        xm[j] -= eps
        cols.append((np.ravel(fn(xp.reshape(x.shape))) - np.ravel(fn(xm.reshape(x.shape)))) / (2 * eps))
    return np.stack(cols, axis=1)


# ---------------------------------------------------------------- tiny test ops

class Square(Op):
    """x**2 with a hand-written L_op and no R_op (Rop must use two L_ops)."""

    __props__ = ()

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = np.asarray(inputs[0] ** 2)

    def infer_shape(self, fgraph, node, input_shapes):
        return input_shapes

    def L_op(self, inputs, outputs, output_grads):
        return [2 * inputs[0] * output_grads[0]]


class SquareWithRop(Square):
    """Square with its own R_op, counting calls to show which path Rop took."""

    r_op_calls = 0

    def R_op(self, inputs, eval_points):
        type(self).r_op_calls += 1
        return [None if eval_points[0] is None else 2 * inputs[0] * eval_points[0]]


class WrongSquare(Square):
    """Square whose gradient is deliberately wrong (3x instead of 2x)."""

    def L_op(self, inputs, outputs, output_grads):
        return [3 * inputs[0] * output_grads[0]]


class NoGrad(Square):
    def L_op(self, inputs, outputs, output_grads):
        raise NotImplementedError("no gradient on purpose")


class UndefinedGradOp(Square):
    def L_op(self, inputs, outputs, output_grads):
        return [grad_undefined(self, 0, inputs[0], "not differentiable on purpose")]


# ---------------------------------------------------------------- grad

GRAD_CASES = [
    ("square", lambda x: T.sum(x ** 2), lambda x: 2 * x),
    ("tanh", lambda x: T.sum(T.tanh(x)), lambda x: 1 - np.tanh(x) ** 2),
    ("exp_mul", lambda x: T.sum(T.exp(x) * x), lambda x: np.exp(x) * (1 + x)),
    ("reuse", lambda x: T.sum(x * x * x), lambda x: 3 * x ** 2),
    ("mean", lambda x: T.mean(x), lambda x: np.full_like(x, 1.0 / x.size)),
]


@pytest.mark.parametrize("name,build,want", GRAD_CASES, ids=[c[0] for c in GRAD_CASES])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_grad_matches_analytic(name, build, want, dtype, rng):
    x = T.vector("x", dtype=dtype)
    g = st.grad(build(x), x)
    assert g.dtype == dtype and g.broadcastable == x.broadcastable
    xv = rng.uniform(-1, 1, 4).astype(dtype)
    np.testing.assert_allclose(_eval(g, [x], [xv]), want(xv), rtol=1e-5 if dtype == "float32" else 1e-12)


def test_grad_single_and_list_wrt():
    x, y = T.dscalar("x"), T.dscalar("y")
    cost = x * y + x ** 2
    single = st.grad(cost, x)
    assert not isinstance(single, list)
    listed = st.grad(cost, [x, y])
    assert isinstance(listed, list) and len(listed) == 2
    np.testing.assert_allclose(_eval(listed, [x, y], [3.0, 5.0]), [5.0 + 6.0, 3.0])
    tupled = st.grad(cost, (x, y))
    assert isinstance(tupled, list)
    assert single.name == "(dcost/dx)"


def test_grad_wrt_intermediate_and_its_ancestor():
    x = T.dscalar("x")
    h = x ** 2
    h.name = "h"
    cost = T.sin(h) + 3 * x
    gh, gx = st.grad(cost, [h, x])
    vh, vx = _eval([gh, gx], [x], [0.7])
    assert np.isclose(vh, np.cos(0.49))
    assert np.isclose(vx, np.cos(0.49) * 1.4 + 3)


def test_grad_broadcast_input_summed_back(rng):
    x = T.dmatrix("x")
    b = T.TensorType("float64", shape=(1, None))("b")
    g = st.grad(T.sum((x + b) ** 2), b)
    assert g.broadcastable == (True, False)
    xv, bv = rng.normal(size=(3, 4)), rng.normal(size=(1, 4))
    np.testing.assert_allclose(_eval(g, [x, b], [xv, bv]), np.sum(2 * (xv + bv), axis=0, keepdims=True))


def test_grad_consider_constant():
    x = T.dvector("x")
    y = 2 * x
    cost = T.sum(x * y)
    full = st.grad(cost, x)
    held = st.grad(cost, x, consider_constant=[y])
    xv = np.array([1.0, -2.0])
    np.testing.assert_allclose(_eval(full, [x], [xv]), 4 * xv)
    np.testing.assert_allclose(_eval(held, [x], [xv]), 2 * xv)
    with pytest.raises(G.DisconnectedInputError):
        st.grad(cost, x, consider_constant=[x])


def test_disconnected_inputs_raise_names_variable():
    x, unused = T.dvector("x"), T.dvector("unused_thing")
    with pytest.raises(G.DisconnectedInputError, match="unused_thing"):
        st.grad(T.sum(x), [x, unused])
    with pytest.raises(ValueError, match="disconnected_inputs"):
        st.grad(T.sum(x), x, disconnected_inputs="bogus")


def test_disconnected_inputs_warn_and_ignore():
    x, unused = T.dvector("x"), T.dvector("unused_thing")
    with pytest.warns(UserWarning, match="unused_thing"):
        gx, gu = st.grad(T.sum(x), [x, unused], disconnected_inputs="warn")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _, gu2 = st.grad(T.sum(x), [x, unused], disconnected_inputs="ignore")
    np.testing.assert_array_equal(_eval(gu, [unused], [np.ones(3)]), np.zeros(3))
    np.testing.assert_array_equal(_eval(gu2, [unused], [np.ones(3)]), np.zeros(3))


@pytest.mark.parametrize("mode", ["zero", "None", "Disconnected"])
def test_return_disconnected(mode):
    x, unused = T.dvector("x"), T.dvector("u")
    _, gu = st.grad(T.sum(x), [x, unused], disconnected_inputs="ignore", return_disconnected=mode)
    if mode == "zero":
        assert gu.type == unused.type
        np.testing.assert_array_equal(_eval(gu, [unused], [np.ones(2)]), np.zeros(2))
    elif mode == "None":
        assert gu is None
    else:
        assert is_disconnected(gu)


def test_known_grads_without_cost(rng):
    x = T.dvector("x")
    y = T.tanh(x)
    gy = T.dvector("gy")
    gx = st.grad(None, x, known_grads={y: gy})
    xv, gv = rng.normal(size=3), rng.normal(size=3)
    np.testing.assert_allclose(_eval(gx, [x, gy], [xv, gv]), gv * (1 - np.tanh(xv) ** 2))
    with pytest.raises(ValueError, match="cost or known_grads"):
        st.grad(None, x)


def test_known_grads_with_cost_add_up(rng):
    x = T.dvector("x")
    y = 3 * x
    cost = T.sum(y)
    gx = st.grad(cost, x, known_grads={y: T.ones_like(y) * 2.0})
    np.testing.assert_allclose(_eval(gx, [x], [rng.normal(size=3)]), np.full(3, 3 * (1 + 2)))


def test_known_grads_on_wrt_itself():
    x = T.dvector("x")
    g = st.grad(None, x, known_grads={x: T.ones_like(x) * 5.0})
    np.testing.assert_allclose(_eval(g, [x], [np.zeros(2)]), [5.0, 5.0])


def test_grad_of_integer_inputs_is_float_zero():
    x = T.dvector("x")
    i = T.ivector("i")
    cost = T.sum(T.cast(i, "float64") * x)
    gx, gi = st.grad(cost, [x, i])
    assert gi.dtype == st.config.floatX and gi.ndim == 1
    gxv, giv = _eval([gx, gi], [x, i], [np.array([1.0, 2.0]), np.array([3, 4], dtype="int32")])
    np.testing.assert_array_equal(gxv, [3.0, 4.0])
    np.testing.assert_array_equal(giv, [0.0, 0.0])


def test_grad_through_integer_cast_is_zero():
    x = T.dvector("x")
    cost = T.sum(T.cast(T.floor(x), "int64") * 1.0) + T.sum(x)
    g = st.grad(cost, x)
    np.testing.assert_array_equal(_eval(g, [x], [np.array([1.5, 2.5])]), [1.0, 1.0])


def test_grad_of_integer_cost_is_zero():
    x = T.dvector("x")
    g = st.grad(T.sum(T.cast(x, "int32")), x)
    assert g.dtype == "float64"
    np.testing.assert_array_equal(_eval(g, [x], [np.array([1.5, 2.5])]), [0.0, 0.0])


def test_grad_non_scalar_cost_raises():
    x = T.dvector("x")
    with pytest.raises(TypeError, match="cost must be a scalar"):
        st.grad(x ** 2, x)


def test_grad_wrt_not_a_variable():
    x = T.dvector("x")
    with pytest.raises(TypeError, match="wrt must be symbolic"):
        st.grad(T.sum(x), np.ones(2))


def test_null_gradient_reaching_wrt_names_the_op():
    x = T.dvector("x")
    with pytest.raises(G.NullTypeGradError, match="UndefinedGradOp"):
        st.grad(T.sum(UndefinedGradOp()(x)), x)
    with pytest.raises(G.NullTypeGradError, match="undefined_grad"):
        st.grad(T.sum(G.undefined_grad(x)), x)
    g = st.grad(T.sum(UndefinedGradOp()(x)), x, null_gradients="return")
    assert G.is_null(g)


def test_null_gradient_not_reaching_wrt_is_fine():
    x, y = T.dvector("x"), T.dvector("y")
    cost = T.sum(x) + T.sum(UndefinedGradOp()(y))
    np.testing.assert_array_equal(_eval(st.grad(cost, x), [x, y], [np.ones(2), np.ones(2)]), [1.0, 1.0])


def test_op_without_gradient_error_names_op():
    x = T.dvector("x")
    with pytest.raises(G.NullTypeGradError, match="NoGrad"):
        st.grad(T.sum(NoGrad()(x)), x)
    # not needed: no error
    y = T.dvector("y")
    st.grad(T.sum(NoGrad()(y)) + T.sum(x), x)


# ---------------------------------------------------------------- Lop / Rop

def _f_tanh_dot(W, x):
    return T.tanh(T.dot(W, x))


def test_lop_equals_vector_times_numeric_jacobian(rng):
    W, x, v = T.dmatrix("W"), T.dvector("x"), T.dvector("v")
    y = _f_tanh_dot(W, x)
    lx = st.Lop(y, x, v)
    Wv, xv, vv = rng.normal(size=(3, 2)), rng.normal(size=2), rng.normal(size=3)
    J = numeric_jacobian(lambda a: np.tanh(Wv @ a), xv)
    np.testing.assert_allclose(_eval(lx, [W, x, v], [Wv, xv, vv]), vv @ J, rtol=1e-6, atol=1e-8)
    lW, lx2 = st.Lop(y, [W, x], v)
    JW = numeric_jacobian(lambda a: np.tanh(a @ xv), Wv)
    np.testing.assert_allclose(_eval(lW, [W, x, v], [Wv, xv, vv]).ravel(), vv @ JW, rtol=1e-6, atol=1e-8)
    with pytest.raises(ValueError, match="dimensions"):
        st.Lop(y, x, T.dmatrix())


@pytest.mark.parametrize("op_cls", [Square, SquareWithRop], ids=["two_lops", "own_r_op"])
def test_rop_equals_numeric_jacobian_times_vector(op_cls, rng):
    W, x, v = T.dmatrix("W"), T.dvector("x"), T.dvector("v")
    y = T.tanh(T.dot(W, op_cls()(x)))
    before = SquareWithRop.r_op_calls
    r = st.Rop(y, x, v)
    assert SquareWithRop.r_op_calls - before == (1 if op_cls is SquareWithRop else 0)
    Wv, xv, vv = rng.normal(size=(3, 2)), rng.normal(size=2), rng.normal(size=2)
    J = numeric_jacobian(lambda a: np.tanh(Wv @ a ** 2), xv)
    np.testing.assert_allclose(_eval(r, [W, x, v], [Wv, xv, vv]), J @ vv, rtol=1e-6, atol=1e-8)


def test_rop_several_wrt_and_outputs(rng):
    W, x = T.dmatrix("W"), T.dvector("x")
    eW, ex = T.dmatrix("eW"), T.dvector("ex")
    y = T.dot(W, x)
    z = T.exp(x)
    ry, rz = st.Rop([y, z], [W, x], [eW, ex])
    Wv, xv, eWv, exv = rng.normal(size=(3, 2)), rng.normal(size=2), rng.normal(size=(3, 2)), rng.normal(size=2)
    gy, gz = _eval([ry, rz], [W, x, eW, ex], [Wv, xv, eWv, exv])
    np.testing.assert_allclose(gy, eWv @ xv + Wv @ exv)
    np.testing.assert_allclose(gz, np.exp(xv) * exv)


def test_rop_disconnected_output():
    x, y = T.dvector("x"), T.dvector("y")
    with pytest.raises(G.DisconnectedInputError):
        st.Rop(T.exp(y), x, T.dvector())
    r = st.Rop(T.exp(y), x, T.dvector(), disconnected_outputs="ignore")
    np.testing.assert_array_equal(_eval(r, [y], [np.ones(2)]), [0.0, 0.0])


# ---------------------------------------------------------------- jacobian / hessian

def test_jacobian_of_square():
    x = T.dvector("x")
    J = st.jacobian(x ** 2, x)
    np.testing.assert_allclose(_eval(J, [x], [np.array([4.0, 4.0])]), [[8.0, 0.0], [0.0, 8.0]])


def test_jacobian_scalar_expression_is_grad():
    x = T.dvector("x")
    J = st.jacobian(T.sum(x ** 2), x)
    assert J.ndim == 1
    np.testing.assert_allclose(_eval(J, [x], [np.array([1.0, 2.0])]), [2.0, 4.0])


def test_jacobian_list_of_wrt_and_shapes(rng):
    x, W = T.dvector("x"), T.dmatrix("W")
    y = T.tanh(T.dot(W, x))
    Jx, JW = st.jacobian(y, [x, W])
    Wv, xv = rng.normal(size=(3, 2)), rng.normal(size=2)
    jx, jW = _eval([Jx, JW], [W, x], [Wv, xv])
    np.testing.assert_allclose(jx, numeric_jacobian(lambda a: np.tanh(Wv @ a), xv), rtol=1e-6, atol=1e-8)
    assert jW.shape == (3, 3, 2)
    np.testing.assert_allclose(jW.reshape(3, 6), numeric_jacobian(lambda a: np.tanh(a @ xv), Wv),
                               rtol=1e-6, atol=1e-8)
    check_infer_shape([W, x], [Jx, JW], [Wv, xv])


def test_jacobian_of_matrix_expression_is_flattened(rng):
    x = T.dvector("x")
    J = st.jacobian(T.outer(x, x), x)
    xv = rng.normal(size=3)
    np.testing.assert_allclose(_eval(J, [x], [xv]), numeric_jacobian(lambda a: np.outer(a, a), xv),
                               rtol=1e-6, atol=1e-8)


def test_jacobian_symbolic_length_and_shared(rng):
    x = T.dvector("x")
    w = st.shared(np.array([1.0, -2.0, 0.5]), name="w")
    J = st.jacobian(T.tanh(x * w), [x, w])
    f = st.function([x], J)
    xv = rng.normal(size=3)
    jx, jw = f(xv)
    d = 1 - np.tanh(xv * w.get_value()) ** 2
    np.testing.assert_allclose(jx, np.diag(d * w.get_value()))
    np.testing.assert_allclose(jw, np.diag(d * xv))
    w.set_value(np.array([0.0, 1.0, 1.0]))
    jx2, _ = f(xv)
    np.testing.assert_allclose(jx2, np.diag((1 - np.tanh(xv * w.get_value()) ** 2) * w.get_value()))
    check_infer_shape([x], J, [xv])


def test_jacobian_of_empty_expression():
    x = T.dvector("x")
    J = st.jacobian(x ** 2, x)
    assert _eval(J, [x], [np.zeros(0)]).shape == (0, 0)


def test_hessian_of_sum_of_squares():
    x = T.dvector("x")
    H = st.hessian(T.sum(x ** 2), x)
    np.testing.assert_allclose(_eval(H, [x], [np.array([1.0, 2.0, 3.0])]), 2 * np.eye(3))


def test_hessian_with_shared_weights_and_list(rng):
    x, y = T.dvector("x"), T.dvector("y")
    w = st.shared(rng.normal(size=3), name="w")
    cost = T.sum(T.exp(x * w)) + T.sum(x * y) ** 2
    Hx, Hy = st.hessian(cost, [x, y])
    xv, yv = rng.normal(size=3), rng.normal(size=3)
    hx, hy = _eval([Hx, Hy], [x, y], [xv, yv])
    wv = w.get_value()
    np.testing.assert_allclose(hx, np.diag(wv ** 2 * np.exp(xv * wv)) + 2 * np.outer(yv, yv))
    np.testing.assert_allclose(hy, 2 * np.outer(xv, xv))


def test_hessian_rejects_non_vector():
    m = T.dmatrix("m")
    with pytest.raises(TypeError, match="vectors"):
        st.hessian(T.sum(m ** 2), m)
    with pytest.raises(TypeError, match="scalar"):
        st.hessian(T.dvector() ** 2, T.dvector())


def test_grad_through_jacobian():
    x = T.dvector("x")
    cost = T.sum(st.jacobian(x ** 3, x))
    np.testing.assert_allclose(_eval(st.grad(cost, x), [x], [np.array([1.0, 2.0])]), [6.0, 12.0])


# ---------------------------------------------------------------- second derivatives

SECOND_CASES = [
    ("tanh", lambda x: T.tanh(x), lambda x: -2 * np.tanh(x) * (1 - np.tanh(x) ** 2)),
    ("exp", lambda x: T.exp(2 * x), lambda x: 4 * np.exp(2 * x)),
    ("mul_chain", lambda x: x * x * T.exp(x), lambda x: np.exp(x) * (x ** 2 + 4 * x + 2)),
    ("tanh_exp", lambda x: T.tanh(T.exp(x)),
     lambda x: np.exp(x) * (1 - np.tanh(np.exp(x)) ** 2)
     - 2 * np.exp(2 * x) * np.tanh(np.exp(x)) * (1 - np.tanh(np.exp(x)) ** 2)),
]


@pytest.mark.parametrize("name,f,d2", SECOND_CASES, ids=[c[0] for c in SECOND_CASES])
def test_grad_of_grad(name, f, d2):
    x = T.dvector("x")
    g = st.grad(T.sum(f(x)), x)
    gg = st.grad(T.sum(g), x)
    xv = np.array([-0.7, 0.1, 0.9])
    np.testing.assert_allclose(_eval(gg, [x], [xv]), d2(xv), rtol=1e-10)


def test_third_derivative_verified_numerically():
    st.verify_grad(lambda x: st.grad(T.sum(st.grad(T.sum(T.tanh(x) * x), x)), x), [np.array([0.3, -0.4])])


# ---------------------------------------------------------------- verify_grad

def test_verify_grad_accepts_correct_gradient():
    st.verify_grad(lambda x: Square()(x), [np.array([0.5, -1.5, 2.0])])
    st.verify_grad(lambda a, b: T.tanh(T.dot(a, b)), [np.ones((2, 3)) * 0.3, np.linspace(-1, 1, 3)])


def test_verify_grad_reports_wrong_gradient():
    with pytest.raises(G.GradientError, match=r"input 0 \(shape \(3,\)\).*symbolic.*numeric") as info:
        st.verify_grad(lambda x: WrongSquare()(x), [np.array([0.5, -1.5, 2.0])])
    err = info.value
    assert err.arg == 0 and err.abs_err > err.abs_tol
    assert isinstance(err, st.verify_grad.E_grad)


def test_verify_grad_second_input_wrong():
    with pytest.raises(G.GradientError, match="input 1"):
        st.verify_grad(lambda a, b: a * WrongSquare()(b), [np.array([1.0, 2.0]), np.array([0.5, 0.7])])


def test_verify_grad_bad_arguments():
    with pytest.raises(TypeError, match="list of arrays"):
        st.verify_grad(lambda x: x * 2, np.ones(3))
    with pytest.raises(TypeError, match="float"):
        st.verify_grad(lambda x: x * 2, [np.ones(3, dtype="int32")])


# ---------------------------------------------------------------- gradient modifiers

def test_zero_grad():
    x = T.dvector("x")
    y = G.zero_grad(x)
    np.testing.assert_array_equal(_eval(y, [x], [np.array([1.0, 2.0])]), [1.0, 2.0])
    g = st.grad(T.sum(y * x), x)
    np.testing.assert_array_equal(_eval(g, [x], [np.array([1.0, 2.0])]), [1.0, 2.0])
    g_only = st.grad(T.sum(y ** 2), x)  # connected, but zero
    np.testing.assert_array_equal(_eval(g_only, [x], [np.array([1.0, 2.0])]), [0.0, 0.0])


def test_disconnected_grad():
    x = T.dvector("x")
    y = G.disconnected_grad(x)
    g = st.grad(T.sum(y * x), x)
    np.testing.assert_array_equal(_eval(g, [x], [np.array([3.0, 4.0])]), [3.0, 4.0])
    with pytest.raises(G.DisconnectedInputError):
        st.grad(T.sum(y ** 2), x)
    assert G.consider_constant is G.disconnected_grad


def test_grad_clip():
    x = T.dvector("x")
    y = G.grad_clip(x, -1.0, 1.5)
    np.testing.assert_array_equal(_eval(y, [x], [np.array([5.0, -5.0, 0.0])]), [5.0, -5.0, 0.0])
    g = st.grad(T.sum(y * np.array([3.0, -2.0, 0.5])), x)
    np.testing.assert_array_equal(_eval(g, [x], [np.array([1.0, -1.0, 0.0])]), [1.5, -1.0, 0.5])
    with pytest.raises(ValueError, match="lower bound"):
        G.grad_clip(x, 2.0, 1.0)


def test_grad_scale():
    x = T.dvector("x")
    y = G.grad_scale(x ** 2, 0.5)
    np.testing.assert_array_equal(_eval(y, [x], [np.array([3.0])]), [9.0])
    np.testing.assert_array_equal(_eval(st.grad(T.sum(y), x), [x], [np.array([3.0])]), [3.0])
    assert G.GradScale(2.0) == G.GradScale(2.0) and G.GradScale(2.0) != G.GradScale(3.0)


# ---------------------------------------------------------------- deep graphs

def test_grad_of_deep_chain_is_linear_and_recursion_free():
    """1100 layers: deeper than Python's recursion limit; every walk must be iterative."""
    x = T.dvector("x")
    h = x
    for _ in range(1100):
        h = T.tanh(h)
    g = st.grad(T.sum(h), x)
    # the gradient graph grows linearly with depth
    assert len([v for v in ancestors([g]) if v.owner is not None]) < 20 * 1100
    xv = np.array([0.1, -0.1])
    want, hv = np.ones(2), xv
    for _ in range(1100):
        hv = np.tanh(hv)
        want = want * (1 - hv ** 2)
    np.testing.assert_allclose(st.function([x], g)(xv), want)


def test_grad_of_200_layer_dot_chain(rng):
    x = T.dmatrix("x")
    Ws = [st.shared(rng.normal(size=(3, 3)) * 0.5, name=f"W{i}") for i in range(200)]
    h = x
    for W in Ws:
        h = T.tanh(T.dot(h, W))
    grads = st.grad(T.sum(h), Ws)
    assert len(grads) == 200 and all(g.type == W.type for g, W in zip(grads, Ws))


# ------------------------------------------------------------------ subgraph_grad

def _two_layer_mlp(rng):
    x, t = T.dvector("x"), T.dvector("t")
    w1 = st.shared(rng.standard_normal((3, 4)), name="w1")
    w2 = st.shared(rng.standard_normal((4, 2)), name="w2")
    a1 = T.tanh(T.dot(x, w1))
    a2 = T.tanh(T.dot(a1, w2))
    cost2 = T.sqr(a2 - t).sum() + T.sqr(w2.sum())
    cost1 = T.sqr(w1.sum())
    return x, t, w1, w2, a1, cost1, cost2


def test_subgraph_grad_backpropagates_one_layer_at_a_time(rng):
    """Theano's documented use: chained calls give the gradients of the whole cost."""
    x, t, w1, w2, a1, cost1, cost2 = _two_layer_mlp(rng)
    params, costs, ends = [[w2], [w1]], [cost2, cost1], [[a1], [x]]
    next_grad, param_grads = None, []
    for i in range(2):
        wrt_grads, end_grads = st.subgraph_grad(wrt=params[i], end=ends[i], start=next_grad, cost=costs[i])
        assert len(wrt_grads) == len(params[i]) and len(end_grads) == len(ends[i])
        next_grad = dict(zip(ends[i], end_grads))
        param_grads.extend(wrt_grads)
    full = T.grad(cost1 + cost2, [w2, w1, x])
    got = _eval(param_grads + [next_grad[x]] + full, [x, t], [rng.standard_normal(3), rng.standard_normal(2)])
    np.testing.assert_allclose(got[0], got[3])
    np.testing.assert_allclose(got[1], got[4])
    np.testing.assert_allclose(got[2], got[5])


def test_subgraph_grad_stops_at_end(rng):
    x = T.dvector("x")
    h = x * 2
    cost = (h ** 2).sum()
    (gx, gh), (gh_end,) = st.gradient.subgraph_grad(wrt=[x, h], end=[h], cost=cost)
    xv = np.array([1.0, -2.0])
    gx_v, gh_v, gh_end_v = _eval([gx, gh, gh_end], [x], [xv])
    np.testing.assert_allclose(gx_v, 0)  # the only path from x to the cost goes through h
    np.testing.assert_allclose(gh_v, 2 * 2 * xv)
    np.testing.assert_allclose(gh_end_v, gh_v)


def test_subgraph_grad_adds_start_and_cost_and_details(rng):
    x, w = T.dvector("x"), T.dvector("w")
    h = x * w
    y = T.tanh(h)
    g_y = T.dvector("g_y")
    penalty = (w ** 2).sum()
    wrt_grads, end_grads, start_grads, cost_grads = st.subgraph_grad(
        wrt=[w], end=[x], start={y: g_y}, cost=penalty, details=True)
    xv, wv, gv = rng.standard_normal(3), rng.standard_normal(3), rng.standard_normal(3)
    got = _eval(wrt_grads + end_grads + start_grads + cost_grads, [x, w, g_y], [xv, wv, gv])
    d_tanh = 1 - np.tanh(xv * wv) ** 2
    np.testing.assert_allclose(got[2], gv * d_tanh * xv)  # from start
    np.testing.assert_allclose(got[3], 2 * wv)  # from cost
    np.testing.assert_allclose(got[0], got[2] + got[3])
    np.testing.assert_allclose(got[1], gv * d_tanh * wv)
    only_cost = st.subgraph_grad(wrt=[w], end=[x], cost=penalty, details=True)
    assert only_cost[2] is None and len(only_cost[3]) == 1


def test_subgraph_grad_unreached_variables_get_zeros():
    x, z = T.dvector("x"), T.dvector("z")
    (gz,), (gx,) = st.subgraph_grad(wrt=[z], end=[x], cost=(x ** 2).sum())
    got = _eval([gz, gx], [x, z], [np.ones(2), np.ones(3)])
    np.testing.assert_array_equal(got[0], np.zeros(3))
    np.testing.assert_array_equal(got[1], [2.0, 2.0])


def test_subgraph_grad_errors():
    x = T.dvector("x")
    cost = (x ** 2).sum()
    with pytest.raises(ValueError, match="cost"):
        st.subgraph_grad(wrt=[x], end=[x])
    with pytest.raises(TypeError, match="lists"):
        st.subgraph_grad(wrt=x, end=[x], cost=cost)
    with pytest.raises(TypeError, match="dict"):
        st.subgraph_grad(wrt=[x], end=[x], start=[(x, x)])
    with pytest.raises(TypeError, match="scalar"):
        st.subgraph_grad(wrt=[x], end=[x], cost=x ** 2)
