"""Theano 1.0's library reference (tensor basics, function, shared, gradient, nnet), with symtensor imports.

Each test reads like code a Theano user writes from the reference pages and
checks the documented contract: names, keyword arguments, dtypes, shapes and
errors. Values are compared with NumPy.
"""

import numpy as np
import pytest

import symtensor as st
import symtensor.tensor as T
from symtensor import In, Out, function, shared

FX = st.config.floatX


def _run(inputs, outputs, *values):
    return function(inputs, outputs)(*values)


# ------------------------------------------------------------------ variables and types

def test_tensor_type_and_custom_patterns():
    dtensor5 = T.TensorType("float64", (False,) * 5)
    x = dtensor5("x")
    assert x.ndim == 5 and x.dtype == "float64" and x.broadcastable == (False,) * 5
    my_row = T.TensorType(FX, (True, False))
    assert my_row() .broadcastable == T.row().broadcastable
    t = T.tensor(dtype="int32", broadcastable=(False, True), name="t")
    assert t.dtype == "int32" and t.broadcastable == (False, True) and t.name == "t"
    assert T.tensor3().ndim == 3 and T.tensor4().ndim == 4 and T.tensor5().ndim == 5


def test_as_tensor_variable_and_constants():
    c = T.as_tensor_variable(np.arange(3))
    assert isinstance(c, T.TensorConstant) and c.dtype == "int64"
    assert T.as_tensor_variable([1.0, 2.0]).ndim == 1
    assert T.constant(np.float32(1)).dtype == "float32"
    assert T.constant(2).dtype == "int8"             # python ints autocast to the smallest int
    assert T.constant(1.5).dtype == "float32"        # exact in float32
    assert T.constant(0.1).dtype == "float64"        # not exact in float32
    assert T.get_scalar_constant_value(T.constant(3) * 2) == 6
    with pytest.raises(T.NotScalarConstantError):
        T.get_scalar_constant_value(T.dscalar())
    np.testing.assert_array_equal(T.as_tensor([[1, 2]]).eval(), [[1, 2]])


def test_variable_attributes_and_methods():
    x = T.dmatrix("x")
    xv = np.arange(6.0).reshape(2, 3)
    outs = [x.T, x.transpose(), x.dimshuffle(1, "x", 0), x.reshape((3, 2)), x.flatten(), x.sum(axis=0),
            x.mean(axis=1), x.max(), x.min(axis=0), x.argmax(axis=1), x.argmin(), x.std(), x.var(axis=0),
            x.prod(), x.clip(1, 4), x.astype("int32"), x.norm(2, axis=1), x.any(), x.all(), x.cumsum(axis=1),
            x.sort(axis=1), x.argsort(axis=1), x.repeat(2, axis=0), x.dot(x.T), x.nonzero()[1], x.copy(),
            x.zeros_like(), x.ones_like(), x.round(), x.squeeze(), x.ravel(), x.shape, x.size]
    refs = [xv.T, xv.T, xv.T[:, None, :], xv.reshape(3, 2), xv.ravel(), xv.sum(0), xv.mean(1), xv.max(),
            xv.min(0), xv.argmax(1), xv.argmin(), xv.std(), xv.var(0), xv.prod(), xv.clip(1, 4),
            xv.astype("int32"), np.linalg.norm(xv, axis=1), xv.any(), xv.all(), xv.cumsum(1), np.sort(xv, 1),
            np.argsort(xv, 1), xv.repeat(2, 0), xv @ xv.T, xv.nonzero()[1], xv, np.zeros_like(xv),
            np.ones_like(xv), np.round(xv), xv, xv.ravel(), xv.shape, xv.size]
    got = _run([x], outs, xv)
    for k, (g, r) in enumerate(zip(got, refs)):
        np.testing.assert_allclose(g, r, err_msg=f"output {k}")
    assert x.dimshuffle("x", 0, 1).broadcastable == (True, False, False)
    assert x.astype("int32").dtype == "int32"


def test_dimshuffle_rejects_dropping_a_non_broadcastable_axis():
    with pytest.raises(ValueError):
        T.dmatrix().dimshuffle(0)


# ------------------------------------------------------------------ creation and shape

def test_creation_functions():
    n = T.iscalar("n")
    x = T.dmatrix("x")
    xv = np.ones((2, 3))
    outs = [T.zeros((n, 2)), T.ones((2, n), dtype="int32"), T.zeros_like(x), T.ones_like(x),
            T.alloc(2.5, n, 3), T.fill(x, 7.0), T.eye(n), T.eye(n, 4, 1), T.identity_like(x),
            T.arange(n), T.arange(1, n, 2), T.tile(T.arange(2), (2, 2))]
    refs = [np.zeros((4, 2)), np.ones((2, 4), "int32"), np.zeros((2, 3)), np.ones((2, 3)), np.full((4, 3), 2.5),
            np.full((2, 3), 7.0), np.eye(4), np.eye(4, 4, 1), np.eye(2, 3), np.arange(4), np.arange(1, 4, 2),
            np.tile(np.arange(2), (2, 2))]
    got = _run([n, x], outs, 4, xv)
    for k, (g, r) in enumerate(zip(got, refs)):
        np.testing.assert_array_equal(g, r, err_msg=f"output {k}")
    assert T.ones((2, n), dtype="int32").dtype == "int32"
    assert T.zeros((2, 2)).dtype == FX
    assert T.arange(n).dtype == "int64"


def test_shape_manipulation():
    x = T.dmatrix("x")
    v = T.dvector("v")
    xv = np.arange(6.0).reshape(2, 3)
    outs = [T.reshape(x, (3, 2)), T.flatten(x), T.flatten(x, 1), T.shape(x), T.shape_padleft(v),
            T.shape_padright(v), T.shape_padaxis(v, 1), T.squeeze(T.addbroadcast(x[:1], 0)), T.transpose(x), T.swapaxes(x, 0, 1),
            T.roll(v, 1), T.roll(x, -1, axis=1)]
    vv = np.arange(3.0)
    refs = [xv.reshape(3, 2), xv.ravel(), xv.ravel(), [2, 3], vv[None], vv[:, None], vv[:, None],
            xv[0], xv.T, xv.T, np.roll(vv, 1), np.roll(xv, -1, axis=1)]
    got = _run([x, v], outs, xv, vv)
    for k, (g, r) in enumerate(zip(got, refs)):
        np.testing.assert_array_equal(g, r, err_msg=f"output {k}")
    assert T.shape_padleft(v).broadcastable == (True, False)
    assert T.addbroadcast(T.dmatrix(), 0).broadcastable == (True, False)
    assert T.unbroadcast(T.drow(), 0).broadcastable == (False, False)
    assert T.patternbroadcast(T.dmatrix(), (False, True)).broadcastable == (False, True)


def test_joining():
    x = T.dmatrix("x")
    a, b = T.dscalars("a", "b")
    xv = np.arange(4.0).reshape(2, 2)
    outs = [T.concatenate([x, x], axis=1), T.join(0, x, x), T.stack([x, x]), T.stack([x, x], axis=2),
            T.horizontal_stack(x, x), T.vertical_stack(x, x), T.stacklists([[a, b], [b, a]])]
    refs = [np.concatenate([xv, xv], 1), np.concatenate([xv, xv], 0), np.stack([xv, xv]),
            np.stack([xv, xv], 2), np.hstack([xv, xv]), np.vstack([xv, xv]), [[1.0, 2.0], [2.0, 1.0]]]
    got = _run([x, a, b], outs, xv, 1.0, 2.0)
    for k, (g, r) in enumerate(zip(got, refs)):
        np.testing.assert_array_equal(g, r, err_msg=f"output {k}")


def test_diag_and_diagonal():
    v = T.dvector("v")
    x = T.dmatrix("x")
    vv = np.array([1.0, 2.0, 3.0])
    xv = np.arange(12.0).reshape(3, 4)
    got = _run([v, x], [T.diag(v), T.diag(x), T.diagonal(x, 1)], vv, xv)
    np.testing.assert_array_equal(got[0], np.diag(vv))
    np.testing.assert_array_equal(got[1], np.diag(xv))
    np.testing.assert_array_equal(got[2], np.diag(xv, 1))


def test_mgrid_and_ogrid():
    a, b = T.mgrid[0:3, 0:2]
    np.testing.assert_array_equal(a.eval(), np.mgrid[0:3, 0:2][0])
    assert len(T.ogrid[0:3, 0:2]) == 2


def test_choose():
    a = T.ivector("a")
    out = _run([a], T.choose(a, [[1, 2, 3], [10, 20, 30]]), np.array([0, 1, 0], "int32"))
    np.testing.assert_array_equal(out, [1, 20, 3])


# ------------------------------------------------------------------ reductions and elementwise

def test_reductions_with_keywords():
    x = T.dmatrix("x")
    xv = np.arange(1.0, 7.0).reshape(2, 3)
    outs = [T.sum(x, axis=0, keepdims=True), T.sum(x, axis=[0, 1]), T.prod(x, axis=1), T.mean(x, axis=None),
            T.var(x, axis=1, keepdims=True), T.std(x), T.max(x, axis=1), T.min(x, axis=0, keepdims=True),
            T.argmax(x, axis=0), T.argmin(x, axis=1), T.max_and_argmax(x, axis=1)[1], T.ptp(x, axis=1),
            T.any(T.gt(x, 5)), T.all(T.gt(x, 0), axis=0)]
    refs = [xv.sum(0, keepdims=True), xv.sum(), xv.prod(1), xv.mean(), xv.var(1, keepdims=True), xv.std(),
            xv.max(1), xv.min(0, keepdims=True), xv.argmax(0), xv.argmin(1), xv.argmax(1), np.ptp(xv, 1),
            True, [True] * 3]
    got = _run([x], outs, xv)
    for k, (g, r) in enumerate(zip(got, refs)):
        np.testing.assert_allclose(g, r, err_msg=f"output {k}")
    assert T.argmax(x, axis=0).dtype == "int64"
    assert T.sum(T.bvector()).dtype == "int64"
    assert T.sum(T.fvector(), acc_dtype="float64").dtype == "float32"
    assert T.sum(T.ivector(), dtype="float32").dtype == "float32"
    assert T.mean(T.ivector()).dtype == "float64"


def test_elementwise_functions_match_numpy():
    x = T.dvector("x")
    xv = np.array([0.2, 0.5, 1.5, 3.0])
    table = [(T.abs_, np.abs), (T.exp, np.exp), (T.log, np.log), (T.log2, np.log2), (T.log10, np.log10),
             (T.log1p, np.log1p), (T.expm1, np.expm1), (T.sqrt, np.sqrt), (T.sqr, np.square), (T.sgn, np.sign),
             (T.ceil, np.ceil), (T.floor, np.floor), (T.trunc, np.trunc), (T.cos, np.cos), (T.sin, np.sin),
             (T.tan, np.tan), (T.cosh, np.cosh), (T.sinh, np.sinh), (T.tanh, np.tanh),
             (T.arctan, np.arctan), (T.arcsinh, np.arcsinh), (T.deg2rad, np.deg2rad), (T.rad2deg, np.rad2deg),
             (T.inv, np.reciprocal), (T.neg, np.negative), (T.exp2, np.exp2)]
    got = _run([x], [f(x) for f, _ in table], xv)
    for (f, ref), g in zip(table, got):
        np.testing.assert_allclose(g, ref(xv), rtol=1e-12, err_msg=f.__name__ if hasattr(f, "__name__") else f)
    np.testing.assert_array_equal(_run([x], T.iround(x), xv).dtype, np.int64)


def test_binary_and_comparison_functions():
    a = T.dvector("a")
    b = T.dvector("b")
    av = np.array([1.0, 5.0, -2.0])
    bv = np.array([2.0, 5.0, 3.0])
    outs = [T.maximum(a, b), T.minimum(a, b), T.pow(a, 2), T.arctan2(a, b), T.mod(a, 2), T.true_div(a, b),
            T.int_div(a, b), T.lt(a, b), T.gt(a, b), T.le(a, b), T.ge(a, b), T.eq(a, b), T.neq(a, b),
            T.switch(T.lt(a, b), a, b), T.where(a > 0, a, 0), T.clip(a, 0, 3), T.isclose(a, b),
            T.and_(a > 0, b > 2), T.or_(a > 0, b > 4), T.xor(a > 0, b > 4), T.invert(a > 0)]
    refs = [np.maximum(av, bv), np.minimum(av, bv), av ** 2, np.arctan2(av, bv), np.mod(av, 2), av / bv,
            av // bv, av < bv, av > bv, av <= bv, av >= bv, av == bv, av != bv, np.where(av < bv, av, bv),
            np.where(av > 0, av, 0), np.clip(av, 0, 3), np.isclose(av, bv), (av > 0) & (bv > 2),
            (av > 0) | (bv > 4), (av > 0) ^ (bv > 4), ~(av > 0)]
    got = _run([a, b], outs, av, bv)
    for k, (g, r) in enumerate(zip(got, refs)):
        np.testing.assert_allclose(g, r, err_msg=f"output {k}")
    assert T.lt(a, b).dtype == "bool"  # Theano 1.0 comparisons are boolean


def test_integer_arithmetic_dtypes():
    i = T.iscalar("i")
    j = T.iscalar("j")
    assert (i + j).dtype == "int32"
    assert (i // j).dtype == "int32"
    assert (i / j).dtype == "float64"     # true division of int32 upgrades to float64
    assert (i * 2.5).dtype in ("float32", "float64")
    assert (T.bscalar() + T.bscalar()).dtype == "int8"
    assert (T.fscalar() + T.dscalar()).dtype == "float64"
    assert (T.fscalar() + T.iscalar()).dtype == "float64"
    assert (T.fscalar() + T.bscalar()).dtype == "float32"
    assert _run([i, j], [i // j, i % j, i / j], 7, 2) == [3, 1, 3.5]


def test_dot_family():
    x = T.dmatrix("x")
    y = T.dmatrix("y")
    v = T.dvector("v")
    xv = np.arange(6.0).reshape(2, 3)
    yv = np.arange(12.0).reshape(3, 4)
    vv = np.arange(3.0)
    outs = [T.dot(x, y), T.dot(x, v), T.dot(v, v), T.outer(v, v), T.tensordot(x, y, axes=1),
            T.tensordot(x, x, axes=[[1], [1]]), T.batched_dot(x, x), x @ y]
    refs = [xv @ yv, xv @ vv, vv @ vv, np.outer(vv, vv), np.tensordot(xv, yv, 1),
            np.tensordot(xv, xv, [[1], [1]]), (xv * xv).sum(1), xv @ yv]
    got = _run([x, y, v], outs, xv, yv, vv)
    for k, (g, r) in enumerate(zip(got, refs)):
        np.testing.assert_allclose(g, r, err_msg=f"output {k}")
    with pytest.raises((TypeError, ValueError)):
        function([x, y], T.dot(x, y))(xv, xv)


# ------------------------------------------------------------------ indexing

def test_basic_and_advanced_indexing():
    x = T.dmatrix("x")
    i = T.lscalar("i")
    idx = T.lvector("idx")
    xv = np.arange(12.0).reshape(3, 4)
    outs = [x[0], x[-1, ::-1], x[i:, 1], x[:, i], x[idx], x[idx, idx], x[x > 5], x[T.arange(2), [1, 3]],
            x[None, 0], x[..., 1]]
    refs = [xv[0], xv[-1, ::-1], xv[1:, 1], xv[:, 1], xv[[2, 0]], xv[[2, 0], [2, 0]], xv[xv > 5],
            xv[np.arange(2), [1, 3]], xv[None, 0], xv[..., 1]]
    got = _run([x, i, idx], outs, xv, 1, np.array([2, 0]))
    for k, (g, r) in enumerate(zip(got, refs)):
        np.testing.assert_array_equal(g, r, err_msg=f"output {k}")


def test_set_and_inc_subtensor():
    x = T.dmatrix("x")
    xv = np.zeros((3, 2))
    outs = [T.set_subtensor(x[0], 5.0), T.inc_subtensor(x[:, 1], [1.0, 2.0, 3.0]),
            T.inc_subtensor(x[[0, 0, 2]], 1.0), T.set_subtensor(x[1:, :1], [[7.0], [8.0]])]
    got = _run([x], outs, xv)
    np.testing.assert_array_equal(got[0], [[5, 5], [0, 0], [0, 0]])
    np.testing.assert_array_equal(got[1], [[0, 1], [0, 2], [0, 3]])
    np.testing.assert_array_equal(got[2], [[2, 2], [0, 0], [1, 1]])  # repeated indices accumulate
    np.testing.assert_array_equal(got[3], [[0, 0], [7, 0], [8, 0]])
    with pytest.raises(TypeError):
        x[0] = 1.0  # symbolic variables are immutable: set_subtensor is the way


# ------------------------------------------------------------------ function, In, Out

def test_function_keywords():
    x = T.dvector("x")
    s = shared(np.zeros(2), name="s")
    f = function(inputs=[x], outputs=x * 2, mode="FAST_RUN", updates=[(s, s + x)], givens=None,
                 no_default_updates=False, accept_inplace=False, name="doubler", rebuild_strict=True,
                 allow_input_downcast=None, profile=None, on_unused_input="raise")
    np.testing.assert_array_equal(f([1.0, 2.0]), [2.0, 4.0])
    np.testing.assert_array_equal(s.get_value(), [1.0, 2.0])
    assert f.name == "doubler"
    assert [i.variable for i in f.maker.inputs][0] is x


def test_function_outputs_forms():
    x = T.dscalar("x")
    assert isinstance(function([x], x * 2)(1), np.ndarray)
    assert function([x], [x * 2])(1) == [2.0]
    assert function([x], (x * 2, x + 1))(1) == [2.0, 2.0]
    out = function([x], {"double": x * 2, "next": x + 1})(3)
    assert out == {"double": 6.0, "next": 4.0}
    s = shared(0.0)
    assert function([], [], updates=[(s, s + 1)])() == []
    assert s.get_value() == 1.0


def test_function_argument_checking():
    a, b = T.dscalars("a", "b")
    f = function([a, b], a - b)
    assert f(b=1, a=5) == 4.0
    with pytest.raises(TypeError):
        f(1)
    with pytest.raises(TypeError):
        f(1, 2, 3)
    v = T.fvector("v")
    g = function([v], v * 2)
    with pytest.raises(TypeError):
        g(np.ones(2))  # float64 -> float32 loses precision
    assert g([1.5, 2.0]).dtype == np.float32  # python lists are accepted when exact
    assert function([v], v * 2, allow_input_downcast=True)(np.ones(2)).dtype == np.float32
    d = T.dvector()
    with pytest.raises(TypeError):
        function([d], d * 2)(np.ones((2, 2)))  # wrong number of dimensions
    q = T.fscalar("q")
    assert function([q], q * 2)(0.1).dtype == np.float32  # python floats may become float32


def test_in_options():
    x = T.dvector("x")
    y = T.dscalar("y")
    f = function([In(x, mutable=True), In(y, value=3.0, name="scale")], x * y)
    np.testing.assert_array_equal(f(np.ones(2)), [3.0, 3.0])
    np.testing.assert_array_equal(f(np.ones(2), scale=2.0), [2.0, 2.0])
    g = function([In(x, borrow=True, allow_downcast=True)], Out(x + 1, borrow=True))
    np.testing.assert_array_equal(g([1, 2]), [2.0, 3.0])
    fv = T.fvector("s")
    strict = function([In(fv, strict=True)], fv * 2)
    with pytest.raises(TypeError):
        strict([1.0, 2.0])  # strict inputs take only arrays of the exact type
    np.testing.assert_array_equal(strict(np.ones(2, dtype="float32")), [2.0, 2.0])


def test_update_type_must_match_the_shared_variable():
    w = shared(np.zeros(2, dtype="float32"), name="w")
    x = T.dvector("x")
    with pytest.raises(TypeError, match="cast"):
        function([x], [], updates=[(w, w + x)])
    f = function([x], [], updates=[(w, T.cast(w + x, "float32"))])
    f([1.0, 2.0])
    np.testing.assert_array_equal(w.get_value(), [1.0, 2.0])
    with pytest.raises(TypeError):
        function([], [], updates=[(T.dvector(), x)])  # only shared variables can be updated


# ------------------------------------------------------------------ shared

def test_shared_constructor_dtypes_and_options():
    assert shared(1.5).dtype == "float64"
    assert shared(1).dtype == "int64"
    assert shared(np.float32(1)).dtype == "float32"
    assert shared(np.zeros((2, 3), dtype="float32")).type == T.fmatrix
    assert shared(np.zeros((1, 3)), broadcastable=(True, False)).broadcastable == (True, False)
    assert shared(np.zeros((1, 3))).broadcastable == (False, False)  # shared values may change shape
    w = shared(np.zeros(3), name="w", strict=False, allow_downcast=None)
    assert w.name == "w" and str(w) == "w"
    assert isinstance(w, st.SharedVariable) and isinstance(w, T.TensorSharedVariable)
    with pytest.raises(TypeError):
        w.set_value(np.zeros((2, 2)))
    w.set_value(np.ones(3, dtype="int32"))  # a safe cast is accepted
    assert w.get_value().dtype == np.float64


def test_shared_in_expressions_and_eval():
    w = shared(np.arange(3.0), name="w")
    np.testing.assert_array_equal((w * 2).eval(), [0.0, 2.0, 4.0])
    x = T.dvector("x")
    np.testing.assert_array_equal((w + x).eval({x: np.ones(3)}), [1.0, 2.0, 3.0])


def test_default_update_and_no_default_updates():
    count = shared(0, name="count")
    count.default_update = count + 1
    f = function([], count)
    assert f() == 0 and f() == 1 and count.get_value() == 2
    g = function([], count, no_default_updates=True)
    assert g() == 2 and count.get_value() == 2
    h = function([], count, no_default_updates=[count])
    assert h() == 2 and count.get_value() == 2
    explicit = function([], count, updates=[(count, count + 10)])
    explicit()
    assert count.get_value() == 12  # an explicit update replaces the default one


# ------------------------------------------------------------------ gradient

def test_grad_forms_and_names():
    x = T.dvector("x")
    w = T.dvector("w")
    cost = T.sum(x * w)
    gx, gw = T.grad(cost, [x, w])
    single = T.grad(cost, x)
    assert isinstance(single, T.TensorVariable)
    np.testing.assert_array_equal(_run([x, w], [gx, gw, single], [1.0, 2.0], [3.0, 4.0]),
                                  [[3.0, 4.0], [1.0, 2.0], [3.0, 4.0]])
    assert st.grad is st.gradient.grad or st.grad(cost, x) is not None


def test_grad_errors_and_options():
    x = T.dvector("x")
    s = T.dscalar("s")
    cost = (x ** 2).sum()
    with pytest.raises(TypeError):
        T.grad(x ** 2, x)  # the cost must be a scalar
    with pytest.raises(st.gradient.DisconnectedInputError):
        T.grad(cost, s)
    g = T.grad(cost, s, disconnected_inputs="ignore")
    assert function([s], g)(2.0) == 0.0
    with pytest.warns(UserWarning):
        T.grad(cost, s, disconnected_inputs="warn")
    assert T.grad(cost, s, disconnected_inputs="ignore", return_disconnected="None") is None


def test_consider_constant_zero_grad_disconnected_grad_grad_clip():
    x = T.dvector("x")
    w = T.dvector("w")
    cost = (x * w).sum() * w.sum()
    f = function([x, w], T.grad(cost, x, consider_constant=[w]))
    np.testing.assert_array_equal(f([1.0, 1.0], [2.0, 2.0]), [8.0, 8.0])
    xv = np.array([3.0, -3.0])
    for wrapper in (st.gradient.zero_grad, st.gradient.disconnected_grad, st.gradient.consider_constant):
        np.testing.assert_array_equal(function([x], T.grad((wrapper(x) * x).sum(), x))(xv), xv)
    clipped = T.grad((st.gradient.grad_clip(x, -1.0, 1.0) * 5).sum(), x)
    np.testing.assert_array_equal(function([x], clipped)(xv), [1.0, 1.0])
    scaled = T.grad(st.gradient.grad_scale(x, 0.5).sum(), x)
    np.testing.assert_array_equal(function([x], scaled)(xv), [0.5, 0.5])


def test_known_grads_and_integer_wrt():
    x = T.dvector("x")
    y = x * 3
    g = T.grad(None, x, known_grads={y: T.ones_like(y)})
    np.testing.assert_array_equal(function([x], g)([1.0, 2.0]), [3.0, 3.0])
    i = T.iscalar("i")
    gi = T.grad(i * 2.0, i)  # the gradient with respect to an integer is zero
    assert function([i], gi)(3) == 0.0


def test_verify_grad():
    rng = np.random.RandomState(0)
    st.gradient.verify_grad(lambda a, b: T.tanh(T.dot(a, b)).sum(), [rng.rand(2, 3), rng.rand(3)], rng=rng)
    T.verify_grad(lambda a: T.nnet.sigmoid(a), [rng.rand(4)], rng=rng)
    with pytest.raises(Exception):
        st.verify_grad(lambda a: st.gradient.zero_grad(a) * a, [rng.rand(3) + 1.0], rng=rng)


def test_grad_undefined_in_a_custom_op_raises_on_request():
    x = T.dvector("x")

    class Floorish(st.graph.Op):
        __props__ = ()

        def make_node(self, a):
            a = T.as_tensor_variable(a)
            return st.Apply(self, [a], [a.type()])

        def perform(self, node, inputs, output_storage):
            output_storage[0][0] = np.floor(inputs[0])

        def grad(self, inputs, output_grads):
            return [st.gradient.grad_undefined(self, 0, inputs[0], "floor is piecewise constant")]

    y = Floorish()(x)
    np.testing.assert_array_equal(function([x], y)([1.5, -0.5]), [1.0, -1.0])
    with pytest.raises(st.gradient.NullTypeGradError):
        T.grad(y.sum(), x)
    assert st.gradient.grad_not_implemented is not None


def test_subgraph_grad():
    x = T.dvector("x")
    h = x * 2
    cost = (h ** 2).sum()
    wrt_grads, next_grads = st.gradient.subgraph_grad(wrt=[h], end=[h], cost=cost)
    assert len(wrt_grads) == 1


# ------------------------------------------------------------------ nnet

def test_nnet_activations():
    x = T.dmatrix("x")
    xv = np.array([[-2.0, -0.5, 0.0, 0.5, 3.0]])
    sig = 1 / (1 + np.exp(-xv))
    outs = [T.nnet.sigmoid(x), T.nnet.softplus(x), T.nnet.relu(x), T.nnet.relu(x, alpha=0.1), T.nnet.elu(x),
            T.nnet.softsign(x), T.nnet.ultra_fast_sigmoid(x), T.nnet.hard_sigmoid(x), T.nnet.selu(x)]
    got = _run([x], outs, xv)
    np.testing.assert_allclose(got[0], sig)
    np.testing.assert_allclose(got[1], np.log1p(np.exp(xv)))
    np.testing.assert_allclose(got[2], np.maximum(xv, 0))
    np.testing.assert_allclose(got[3], np.where(xv > 0, xv, 0.1 * xv))
    np.testing.assert_allclose(got[4], np.where(xv > 0, xv, np.exp(xv) - 1))
    np.testing.assert_allclose(got[5], xv / (1 + np.abs(xv)))
    np.testing.assert_allclose(got[6], sig, atol=0.05)  # an approximation
    np.testing.assert_allclose(got[7], np.clip(0.2 * xv + 0.5, 0, 1))
    np.testing.assert_allclose(got[8], 1.0507009873554805 * np.where(xv > 0, xv, 1.6732632423543772 *
                                                                     (np.exp(xv) - 1)))
    assert T.nnet.sigmoid(T.fmatrix()).dtype == "float32"


def test_softmax_and_crossentropies():
    x = T.dmatrix("x")
    y = T.ivector("y")
    t = T.dmatrix("t")
    rng = np.random.RandomState(1)
    xv = rng.randn(4, 3)
    yv = np.array([0, 2, 1, 2], dtype="int32")
    onehot = np.eye(3)[yv]
    p = T.nnet.softmax(x)
    outs = [p, T.nnet.categorical_crossentropy(p, y), T.nnet.categorical_crossentropy(p, t),
            T.nnet.binary_crossentropy(T.nnet.sigmoid(x), t), T.nnet.logsoftmax(x),
            T.nnet.crossentropy_softmax_1hot(x, y)[0]]
    got = _run([x, y, t], outs, xv, yv, onehot)
    ref_p = np.exp(xv - xv.max(1, keepdims=True))
    ref_p /= ref_p.sum(1, keepdims=True)
    np.testing.assert_allclose(got[0], ref_p)
    nll = -np.log(ref_p[np.arange(4), yv])
    np.testing.assert_allclose(got[1], nll)
    np.testing.assert_allclose(got[2], nll)
    s = 1 / (1 + np.exp(-xv))
    np.testing.assert_allclose(got[3], -(onehot * np.log(s) + (1 - onehot) * np.log(1 - s)))
    np.testing.assert_allclose(got[4], np.log(ref_p))
    np.testing.assert_allclose(got[5], nll)
    assert T.nnet.categorical_crossentropy(p, y).ndim == 1
    # the classic negative log-likelihood idiom
    nll_sym = -T.mean(T.log(p)[T.arange(y.shape[0]), y])
    np.testing.assert_allclose(function([x, y], nll_sym)(xv, yv), nll.mean())
    st.verify_grad(lambda a: T.nnet.categorical_crossentropy(T.nnet.softmax(a), yv).mean(), [xv], rng=rng)


def test_batch_normalization():
    x = T.dmatrix("x")
    out = T.nnet.bn.batch_normalization(x, T.ones((3,)), T.zeros((3,)), x.mean(0), x.std(0), mode="low_mem")
    assert out.ndim == 2


def test_confusion_matrix():
    a = T.ivector()
    b = T.ivector()
    cm, order = T.nnet.confusion_matrix(a, b)
    assert cm.ndim == 2


def test_numpy_arrays_on_the_left_of_operators():
    """ndarray (op) variable builds a symbolic graph (Theano's __array_priority__), not an object array."""
    v = T.dvector("v")
    a = np.array([1.0, 2.0])
    outs = [a * v, a + v, a - v, a / v, a ** v, np.float64(3) * v, a > v]
    for out in outs:
        assert isinstance(out, T.TensorVariable), type(out)
    got = function([v], outs)(np.array([2.0, 4.0]))
    refs = [[2, 8], [3, 6], [-1, -2], [0.5, 0.5], [1, 16], [6, 12], [False, False]]
    for g, r in zip(got, refs):
        np.testing.assert_allclose(g, r)
