"""The Theano 1.0 tutorial, re-created with symtensor's imports.

Each test follows one documented example (basics, more examples, derivatives,
conditions, shape information, aliasing, printing, modes, debugging tips) and
asserts the result the tutorial shows: values, dtypes, shapes and errors.
Sections that need scan, RandomStreams, sparse or the GPU are out of
scope here.
"""

import io
import pickle

import numpy as np
import pytest

import symtensor as st
import symtensor.tensor as T
from symtensor import In, function, shared
from symtensor.ifelse import ifelse


# ------------------------------------------------------------------ baby steps: algebra

def test_adding_two_scalars():
    x = T.dscalar("x")
    y = T.dscalar("y")
    z = x + y
    f = function([x, y], z)
    out = f(2, 3)
    assert isinstance(out, np.ndarray) and out.shape == () and out.dtype == np.float64
    assert out == 5.0
    assert np.allclose(f(16.3, 12.1), 28.4)
    # z's graph can also be evaluated directly
    assert np.allclose(z.eval({x: 16.3, y: 12.1}), 28.4)


def test_scalar_variables_have_the_documented_types():
    x = T.dscalar("x")
    assert isinstance(x, T.TensorVariable)
    assert x.type == T.dscalar
    assert x.type is T.dscalar  # the typed constructors are TensorType instances
    assert str(x.type) == "TensorType(float64, scalar)"
    assert x.name == "x"
    assert x.type == T.TensorType("float64", ())


def test_adding_two_matrices():
    x = T.dmatrix("x")
    y = T.dmatrix("y")
    f = function([x, y], x + y)
    out = f([[1, 2], [3, 4]], [[10, 20], [30, 40]])
    np.testing.assert_array_equal(out, [[11.0, 22.0], [33.0, 44.0]])
    assert out.dtype == np.float64
    out = f(np.array([[1, 2], [3, 4]]), np.array([[10, 20], [30, 40]]))
    np.testing.assert_array_equal(out, [[11.0, 22.0], [33.0, 44.0]])


def test_algebra_exercise_vector_power():
    a = T.vector()
    out = a + a ** 10
    f = function([a], out)
    np.testing.assert_allclose(f([0, 1, 2]), [0.0, 2.0, 1026.0])
    assert f([0, 1, 2]).dtype == st.config.floatX


def test_constructor_families_exist_with_their_dtypes():
    expected = {"b": "int8", "w": "int16", "i": "int32", "l": "int64", "f": "float32", "d": "float64",
                "c": "complex64", "z": "complex128"}
    kinds = {"scalar": 0, "vector": 1, "row": 2, "col": 2, "matrix": 2, "tensor3": 3, "tensor4": 4}
    for prefix, dtype in expected.items():
        for kind, ndim in kinds.items():
            var = getattr(T, prefix + kind)()
            assert var.dtype == dtype and var.ndim == ndim, (prefix + kind, var.type)
    assert T.row().broadcastable == (True, False)
    assert T.col().broadcastable == (False, True)
    assert T.matrix().dtype == st.config.floatX
    assert T.matrix("m", dtype="int32").dtype == "int32"


def test_plural_constructors():
    x, y, z = T.dmatrices("x", "y", "z")
    assert [v.name for v in (x, y, z)] == ["x", "y", "z"]
    assert all(v.type == T.dmatrix for v in (x, y, z))
    a, b = T.iscalars(2)
    assert a.dtype == b.dtype == "int32" and a is not b


# ------------------------------------------------------------------ more examples

def test_logistic_function_elementwise():
    x = T.dmatrix("x")
    s = 1 / (1 + T.exp(-x))
    logistic = function([x], s)
    expected = np.array([[0.5, 0.73105858], [0.26894142, 0.11920292]])
    np.testing.assert_allclose(logistic([[0, 1], [-1, -2]]), expected, rtol=1e-7)
    s2 = (1 + T.tanh(x / 2)) / 2
    logistic2 = function([x], s2)
    np.testing.assert_allclose(logistic2([[0, 1], [-1, -2]]), expected, rtol=1e-7)


def test_several_outputs_at_once():
    a, b = T.dmatrices("a", "b")
    diff = a - b
    abs_diff = abs(diff)
    diff_squared = diff ** 2
    f = function([a, b], [diff, abs_diff, diff_squared])
    out = f([[1, 1], [1, 1]], [[0, 1], [2, 3]])
    assert isinstance(out, list) and len(out) == 3
    np.testing.assert_array_equal(out[0], [[1.0, 0.0], [-1.0, -2.0]])
    np.testing.assert_array_equal(out[1], [[1.0, 0.0], [1.0, 2.0]])
    np.testing.assert_array_equal(out[2], [[1.0, 0.0], [1.0, 4.0]])


def test_default_value_for_an_argument():
    x, y = T.dscalars("x", "y")
    z = x + y
    f = function([x, In(y, value=1)], z)
    assert f(33) == 34.0
    assert f(33, 2) == 35.0


def test_default_values_and_keyword_names():
    x, y, w = T.dscalars("x", "y", "w")
    z = (x + y) * w
    f = function([x, In(y, value=1), In(w, value=2, name="w_by_name")], z)
    assert f(33) == 68.0
    assert f(33, 2) == 70.0
    assert f(33, 0, 1) == 33.0
    assert f(33, w_by_name=1) == 34.0
    assert f(33, w_by_name=1, y=0) == 33.0


def test_shared_variable_accumulator():
    state = shared(0)
    inc = T.iscalar("inc")
    accumulator = function([inc], state, updates=[(state, state + inc)])
    assert state.get_value() == 0 and state.dtype == "int64"
    assert accumulator(1) == 0  # the output is the value before the update
    assert state.get_value() == 1
    assert accumulator(300) == 1
    assert state.get_value() == 301
    state.set_value(-1)
    assert accumulator(3) == -1
    assert state.get_value() == 2
    decrementor = function([inc], state, updates=[(state, state - inc)])
    assert decrementor(2) == 2
    assert state.get_value() == 0


def test_givens_replace_a_shared_variable():
    state = shared(0)
    inc = T.iscalar("inc")
    fn_of_state = state * 2 + inc
    foo = T.scalar(dtype=state.dtype)
    skip_shared = function([inc, foo], fn_of_state, givens=[(state, foo)])
    assert skip_shared(1, 3) == 7
    assert state.get_value() == 0  # the shared value was not used nor changed


def test_givens_accepts_a_dict():
    x = T.dscalar("x")
    y = T.dscalar("y")
    f = function([y], x * 10, givens={x: y + 1})
    assert f(2.0) == 30.0


def test_copying_functions_swap_and_delete_updates():
    state = shared(0)
    inc = T.iscalar("inc")
    accumulator = function([inc], state, updates=[(state, state + inc)])
    accumulator(10)
    assert state.get_value() == 10
    new_state = shared(0)
    new_accumulator = accumulator.copy(swap={state: new_state})
    new_accumulator(100)
    assert new_state.get_value() == 100 and state.get_value() == 10
    null_accumulator = accumulator.copy(delete_updates=True)
    null_accumulator(9000)
    assert state.get_value() == 10


def test_copying_a_function_without_arguments_gives_an_independent_callable():
    state = shared(0)
    inc = T.iscalar("inc")
    accumulator = function([inc], state, updates=[(state, state + inc)])
    other = accumulator.copy()
    other(5)
    accumulator(1)
    assert state.get_value() == 6  # by default the copy shares the shared variables


def test_logistic_regression_example():
    """The tutorial's 'A real example': logistic regression trained by gradient descent."""
    rng = np.random.RandomState(42)
    n, feats = 60, 20
    data = (rng.randn(n, feats), rng.randint(size=n, low=0, high=2))
    x = T.dmatrix("x")
    y = T.dvector("y")
    w = shared(rng.randn(feats), name="w")
    b = shared(0.0, name="b")
    p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b))
    prediction = p_1 > 0.5
    xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)
    cost = xent.mean() + 0.01 * (w ** 2).sum()
    gw, gb = T.grad(cost, [w, b])
    train = function(inputs=[x, y], outputs=[prediction, xent],
                     updates=((w, w - 0.1 * gw), (b, b - 0.1 * gb)))
    predict = function(inputs=[x], outputs=prediction)
    assert b.get_value().dtype == np.float64 and b.get_value().shape == ()
    w_ref, b_ref = w.get_value(), 0.0
    first = None
    for _ in range(300):
        pred, err = train(data[0], data[1])  # integer labels go into a float64 vector
        first = err.mean() if first is None else first
        # the same step in NumPy
        p = 1 / (1 + np.exp(-data[0] @ w_ref - b_ref))
        g = (p - data[1]) / n
        w_ref, b_ref = w_ref - 0.1 * (data[0].T @ g + 0.02 * w_ref), b_ref - 0.1 * g.sum()
    assert pred.dtype == np.bool_ and pred.shape == (n,)
    assert err.mean() < first
    np.testing.assert_allclose(w.get_value(), w_ref, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(b.get_value(), b_ref, rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(predict(data[0]), (data[0] @ w_ref + b_ref) > 0)


# ------------------------------------------------------------------ derivatives

def test_gradient_of_x_squared():
    x = T.dscalar("x")
    y = x ** 2
    gy = T.grad(y, x)
    assert "x" in st.pp(gy)
    f = function([x], gy)
    assert f(4) == 8.0
    assert np.allclose(f(94.2), 188.4)
    # the compiled graph is reachable as in Theano
    assert len(f.maker.fgraph.outputs) == 1
    assert isinstance(st.pp(f.maker.fgraph.outputs[0]), str)


def test_gradient_of_the_logistic():
    x = T.dmatrix("x")
    s = T.sum(1 / (1 + T.exp(-x)))
    gs = T.grad(s, x)
    dlogistic = function([x], gs)
    np.testing.assert_allclose(dlogistic([[0, 1], [-1, -2]]),
                               [[0.25, 0.19661193], [0.19661193, 0.10499359]], rtol=1e-7)


def test_jacobian():
    x = T.dvector("x")
    y = x ** 2
    f = function([x], st.gradient.jacobian(y, x))
    np.testing.assert_array_equal(f([4, 4]), [[8.0, 0.0], [0.0, 8.0]])
    g = function([x], T.jacobian(y, x))
    np.testing.assert_array_equal(g([1, 3]), [[2.0, 0.0], [0.0, 6.0]])


def test_hessian():
    x = T.dvector("x")
    cost = (x ** 2).sum()
    f = function([x], st.gradient.hessian(cost, x))
    np.testing.assert_array_equal(f([4, 4]), [[2.0, 0.0], [0.0, 2.0]])
    g = function([x], T.hessian(cost, x))
    np.testing.assert_array_equal(g([4, 4]), [[2.0, 0.0], [0.0, 2.0]])


def test_r_operator_jacobian_times_vector():
    W = T.dmatrix("W")
    V = T.dmatrix("V")
    x = T.dvector("x")
    y = T.dot(x, W)
    JV = T.Rop(y, W, V)
    f = function([W, V, x], JV)  # W is an input, as in the tutorial
    np.testing.assert_array_equal(f([[1, 1], [1, 1]], [[2, 2], [2, 2]], [0, 1]), [2.0, 2.0])


def test_l_operator_vector_times_jacobian():
    W = T.dmatrix("W")
    v = T.dvector("v")
    x = T.dvector("x")
    y = T.dot(x, W)
    VJ = T.Lop(y, W, v)
    f = function([v, x], VJ)
    np.testing.assert_array_equal(f([2, 2], [0, 1]), [[0.0, 0.0], [2.0, 2.0]])


def test_hessian_times_vector_two_ways():
    x = T.dvector("x")
    v = T.dvector("v")
    y = T.sum(x ** 2)
    gy = T.grad(y, x)
    vH = T.grad(T.sum(gy * v), x)
    f = function([x, v], vH)
    np.testing.assert_array_equal(f([4, 4], [2, 2]), [4.0, 4.0])
    Hv = T.Rop(gy, x, v)
    g = function([x, v], Hv)
    np.testing.assert_array_equal(g([4, 4], [2, 2]), [4.0, 4.0])


# ------------------------------------------------------------------ conditions: switch and the lazy ifelse

@pytest.mark.parametrize("mode", [None, "FAST_COMPILE", "FAST_RUN", st.Mode(linker="vm"), st.Mode(linker="py")])
def test_switch_picks_elementwise(mode):
    a, b = T.scalars("a", "b")
    x, y = T.matrices("x", "y")
    z_switch = T.switch(T.lt(a, b), T.mean(x), T.mean(y))
    f_switch = function([a, b, x, y], z_switch, mode=mode)
    big1 = np.ones((4, 4), dtype=st.config.floatX)
    big2 = np.full((4, 4), 3.0, dtype=st.config.floatX)
    assert f_switch(1, 2, big1, big2) == 1.0
    assert f_switch(2, 1, big1, big2) == 3.0


@pytest.mark.parametrize("linker", ["vm", "cvm", "py"])
def test_ifelse_evaluates_one_branch(linker):
    a, b = T.scalars("a", "b")
    x, y = T.matrices("x", "y")
    z_lazy = ifelse(T.lt(a, b), T.mean(x), T.mean(y))
    f_lazyifelse = function([a, b, x, y], z_lazy, mode=st.Mode(linker=linker))
    big1 = np.ones((100, 100), dtype=st.config.floatX)
    big2 = np.full((100, 100), 3.0, dtype=st.config.floatX)
    assert f_lazyifelse(1, 2, big1, big2) == 1.0
    assert f_lazyifelse(2, 1, big1, big2) == 3.0


# ------------------------------------------------------------------ shape information

def test_shape_is_computed_without_computing_the_values():
    x = T.matrix("x")
    f = function([x], (x ** 2).shape)
    np.testing.assert_array_equal(f(np.ones((3, 5), dtype=st.config.floatX)), [3, 5])
    ops = [type(node.op).__name__ for node in f.maker.fgraph.toposort()]
    assert "Elemwise" not in ops, ops  # x ** 2 is never computed
    text = st.printing.debugprint(f, file="str")
    assert "Shape_i" in text or "Shape" in text


def test_shape_inference_of_join_does_not_check_the_other_axes():
    x = T.matrix("x")
    y = T.matrix("y")
    z = T.join(0, x, y)
    xv = np.random.rand(5, 4).astype(st.config.floatX)
    yv = np.random.rand(3, 3).astype(st.config.floatX)
    shape_fn = function([x, y], z.shape)
    np.testing.assert_array_equal(shape_fn(xv, yv), [8, 4])
    compute = function([x, y], z)
    with pytest.raises(ValueError):
        compute(xv, yv)


def test_specify_shape_gives_constant_shapes():
    x = T.matrix()
    x_specify_shape = T.specify_shape(x, (2, 2))
    f = function([x], (x_specify_shape ** 2).shape)
    np.testing.assert_array_equal(f(np.ones((2, 2), dtype=st.config.floatX)), [2, 2])
    assert not any(type(n.op).__name__ == "Shape_i" for n in f.maker.fgraph.toposort())
    g = function([x], x_specify_shape)
    with pytest.raises(Exception, match="shape"):
        g(np.ones((3, 2), dtype=st.config.floatX))


def test_broadcasting_row_and_matrix():
    r = T.row()
    m = T.matrix()
    f = function([r, m], r + m)
    out = f(np.array([[1, 2, 3]], dtype=st.config.floatX), np.zeros((2, 3), dtype=st.config.floatX))
    np.testing.assert_array_equal(out, [[1, 2, 3], [1, 2, 3]])
    with pytest.raises(TypeError):
        f(np.ones((2, 3), dtype=st.config.floatX), np.zeros((2, 3), dtype=st.config.floatX))


# ------------------------------------------------------------------ configuration and float32

def test_float32_programs_stay_float32():
    with st.change_flags(floatX="float32"):
        x = T.matrix("x")
        assert x.dtype == "float32"
        assert (x * 2.0).dtype == "float32"      # python floats do not upcast
        assert (x / 2).dtype == "float32"
        assert T.mean(x).dtype == "float32"
        assert T.nnet.sigmoid(x).dtype == "float32"
        w = shared(np.zeros((3, 2), dtype=st.config.floatX), name="w")
        y = T.dot(x, w) + 0.5
        assert y.dtype == "float32"
        f = function([x], y)
        out = f(np.ones((4, 3), dtype="float32"))
        assert out.dtype == np.float32 and out.shape == (4, 2)
        # a python list or float64 array into a float32 input needs allow_input_downcast
        with pytest.raises(TypeError):
            f(np.ones((4, 3)))
        g = function([x], y, allow_input_downcast=True)
        assert g(np.ones((4, 3))).dtype == np.float32
    assert st.config.floatX == "float64"


def test_change_flags_is_a_decorator_too():
    @st.change_flags(floatX="float32")
    def make():
        return T.vector()

    assert make().dtype == "float32"
    assert T.vector().dtype == st.config.floatX == "float64"


def test_config_flags_read_and_write():
    assert st.config.floatX in ("float32", "float64")
    assert st.config.device == "cpu"
    assert st.config.mode in ("FAST_RUN", "Mode")
    with pytest.raises(AttributeError):
        st.config.no_such_flag_exists  # noqa: B018
    old = st.config.optimizer
    st.config.optimizer = "fast_compile"
    try:
        x = T.dvector()
        assert function([x], x * 2)([1.0]) == 2.0
    finally:
        st.config.optimizer = old


# ------------------------------------------------------------------ aliasing (borrow)

def test_shared_borrow_semantics():
    arr = np.ones(3)
    s_copy = shared(arr)
    s_alias = shared(arr, borrow=True)
    arr += 1
    np.testing.assert_array_equal(s_copy.get_value(), [1, 1, 1])   # default: a private copy
    np.testing.assert_array_equal(s_alias.get_value(), [2, 2, 2])  # borrow=True: aliased
    copy_out = s_copy.get_value()
    copy_out[0] = 100
    assert s_copy.get_value()[0] == 1  # get_value() returns a copy
    assert s_alias.get_value(borrow=True) is arr
    assert isinstance(s_alias.get_value(borrow=True, return_internal_type=True), np.ndarray)
    new = np.zeros(3)
    s_alias.set_value(new, borrow=True)
    assert s_alias.get_value(borrow=True) is new


def test_in_and_out_borrow_flags_keep_values_correct():
    x = T.dvector("x")
    f = function([In(x, borrow=True)], st.Out(x * 2, borrow=True))
    first = f(np.ones(2)).copy()
    np.testing.assert_array_equal(first, [2, 2])
    np.testing.assert_array_equal(f(np.full(2, 3.0)), [6, 6])


# ------------------------------------------------------------------ loading and saving

def test_pickling_shared_variables_and_graphs():
    w = shared(np.arange(4.0), name="w")
    restored = pickle.loads(pickle.dumps(w))
    np.testing.assert_array_equal(restored.get_value(), np.arange(4.0))
    assert restored.name == "w"
    x = T.dvector("x")
    y = pickle.loads(pickle.dumps(x * 2 + 1))
    (x2,) = [v for v in st.graph.graph_inputs([y]) if getattr(v, "name", None) == "x"]
    np.testing.assert_array_equal(function([x2], y)([1.0, 2.0]), [3.0, 5.0])


def test_saving_parameters_by_value():
    """The tutorial's recommended long-term approach: save get_value() arrays, restore with set_value."""
    w = shared(np.arange(6.0).reshape(2, 3), name="w")
    b = shared(np.zeros(3), name="b")
    buf = io.BytesIO()
    np.savez(buf, *[p.get_value() for p in (w, b)])
    w.set_value(np.zeros((2, 3)))
    buf.seek(0)
    loaded = np.load(buf)
    for p, key in zip((w, b), sorted(loaded.files)):
        p.set_value(loaded[key])
    np.testing.assert_array_equal(w.get_value(), np.arange(6.0).reshape(2, 3))


def test_pickling_a_compiled_function():
    s = shared(np.ones(2), name="s")
    x = T.dvector("x")
    f = function([x], x + s, updates=[(s, s * 2)])
    g = pickle.loads(pickle.dumps(f))
    np.testing.assert_array_equal(g(np.zeros(2)), [1.0, 1.0])


# ------------------------------------------------------------------ printing and drawing

def test_pp_and_debugprint_of_a_prediction_graph():
    x = T.dmatrix("x")
    w = shared(np.zeros(3), name="w")
    b = shared(0.0, name="b")
    prediction = 1 / (1 + T.exp(-T.dot(x, w) - b)) > 0.5
    text = st.pp(prediction)
    assert "x" in text and "w" in text and "b" in text
    tree = st.printing.debugprint(prediction, file="str")
    assert tree.splitlines()[0].startswith("Elemwise{gt")
    assert "[id A]" in tree and " |" in tree
    for name in ("x", "w", "b"):
        assert f"{name} [id" in tree
    predict = function([x], prediction)
    compiled = st.printing.debugprint(predict, file="str")
    assert compiled.strip() and "x [id" in compiled
    # debugprint writes to stdout by default and to any file object
    out = io.StringIO()
    st.printing.debugprint(prediction, file=out)
    assert out.getvalue() == tree
    assert st.dprint is st.printing.debugprint or callable(st.dprint)


def test_debugprint_print_type():
    x = T.dvector("x")
    text = st.printing.debugprint(x * 2, file="str", print_type=True)
    assert "TensorType(float64, vector)" in text


# ------------------------------------------------------------------ modes

@pytest.mark.parametrize("mode", ["FAST_RUN", "FAST_COMPILE", "DebugMode", "DEBUG_MODE",
                                  st.Mode(linker="py", optimizer="fast_compile"),
                                  st.Mode(optimizer=None)])
def test_every_mode_computes_the_same_values(mode):
    x = T.dvector("x")
    y = T.log(1 + T.exp(x)) * 2 - x / 3
    f = function([x], y, mode=mode)
    xv = np.array([-1.0, 0.0, 2.0])
    np.testing.assert_allclose(f(xv), np.log1p(np.exp(xv)) * 2 - xv / 3)


def test_default_mode_and_mode_helpers():
    mode = st.compile.mode.get_default_mode()
    assert isinstance(mode, st.Mode)
    fast = st.compile.get_mode("FAST_RUN")
    assert isinstance(fast.including("fast_run"), st.Mode)
    assert isinstance(fast.excluding("fusion"), st.Mode)


def test_profiling_a_function():
    x = T.dvector("x")
    f = function([x], T.exp(x).sum(), profile=True)
    f(np.ones(3))
    f(np.ones(3))
    assert f.profile is not None
    assert "2 calls" in repr(f.profile)
    buf = io.StringIO()
    f.profile.summary(file=buf)  # Theano's ProfileStats.summary()
    assert "Elemwise" in buf.getvalue() or "exp" in buf.getvalue()


# ------------------------------------------------------------------ debugging tips

def test_runtime_error_names_the_apply_node():
    x = T.dvector("x")
    y = T.dvector("y")
    f = function([x, y], x * y)
    with pytest.raises(ValueError) as info:
        f(np.ones(3), np.ones(2))
    assert "Apply node" in str(info.value) or "mul" in str(info.value)


def test_print_op_shows_values_while_running(capsys):
    x = T.dvector("x")
    x_printed = st.printing.Print("this is x")(x)
    f = function([x], x_printed * 2)
    np.testing.assert_array_equal(f(np.array([1.0, 2.0])), [2.0, 4.0])
    assert "this is x" in capsys.readouterr().out
    g = function([x], st.printing.Print("shape of x", attrs=["shape"])(x).sum())
    g(np.ones(3))
    assert "(3,)" in capsys.readouterr().out


def test_compute_test_value_catches_shape_errors_at_graph_build_time():
    with st.change_flags(compute_test_value="raise"):
        x = T.dmatrix("x")
        x.tag.test_value = np.ones((3, 4))
        w = T.dmatrix("w")
        w.tag.test_value = np.ones((5, 2))
        with pytest.raises(ValueError):
            T.dot(x, w)


def test_missing_and_unused_inputs_are_reported():
    x = T.dscalar("x")
    y = T.dscalar("y")
    with pytest.raises(st.compile.MissingInputError):
        function([x], x + y)
    with pytest.raises(st.compile.UnusedInputError):
        function([x, y], x * 2)
    f = function([x, y], x * 2, on_unused_input="ignore")
    assert f(3, 100) == 6.0
    with pytest.warns(UserWarning):
        function([x, y], x * 2, on_unused_input="warn")
