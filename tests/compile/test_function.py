"""function(): arguments, outputs, updates, givens, errors, aliasing, runtime error reports."""

import inspect
import os
import warnings
import weakref
from collections import OrderedDict

import numpy as np
import pytest

import symtensor as st
import symtensor.tensor as T
import symtensor.tensor.basic as tb
from symtensor.compile.function import MissingInputError, UnusedInputError
from symtensor.graph import fgraph as fg
from symtensor.graph.basic import Apply
from symtensor.graph.op import Op
from symtensor.link.python import NodeError


def arr(*shape, dtype="float64", fill=1.0):
    return np.full(shape, fill, dtype=dtype)


# ---------------------------------------------------------------- calling conventions

def test_positional_and_keyword_arguments():
    x, y = T.dmatrix("x"), T.dmatrix("y")
    f = st.function([x, y], x - y)
    a, b = arr(2, 2, fill=3.0), arr(2, 2, fill=1.0)
    np.testing.assert_array_equal(f(a, b), a - b)
    np.testing.assert_array_equal(f(a, y=b), a - b)
    np.testing.assert_array_equal(f(y=b, x=a), a - b)


def test_in_default_value_and_name():
    x, y = T.dscalar("x"), T.dscalar("y")
    f = st.function([x, st.In(y, value=10.0)], x * y)
    assert f(2.0) == 20.0
    assert f(2.0, 3.0) == 6.0
    assert f(2.0, y=4.0) == 8.0
    g = st.function([st.In(x, name="alpha"), y], x - y)
    assert g(alpha=5.0, y=1.0) == 4.0
    with pytest.raises(TypeError, match="unexpected keyword argument 'x'"):
        g(x=5.0, y=1.0)


def test_in_default_is_checked_when_compiling():
    x = T.dvector("x")
    with pytest.raises(TypeError, match=r'"x".*1-d array'):
        st.function([st.In(x, value=np.zeros((2, 2)))], x * 2)


def test_single_output_list_output_dict_output_and_no_output():
    x = T.dvector("x")
    v = np.arange(3.0)
    single = st.function([x], x * 2)(v)
    assert isinstance(single, np.ndarray)
    listed = st.function([x], [x * 2, x + 1])(v)
    assert isinstance(listed, list) and len(listed) == 2
    np.testing.assert_array_equal(listed[1], v + 1)
    one_list = st.function([x], [x * 2])(v)
    assert isinstance(one_list, list) and len(one_list) == 1
    as_dict = st.function([x], {"double": x * 2, "inc": x + 1})(v)
    assert set(as_dict) == {"double", "inc"}
    np.testing.assert_array_equal(as_dict["inc"], v + 1)
    s = st.shared(np.zeros(3), name="s")
    assert st.function([x], [], updates=[(s, s + x)])(v) == []
    assert st.function([x], None, updates=[(s, s + x)])(v) == []
    np.testing.assert_array_equal(s.get_value(), 2 * v)


def test_fgraph_and_maker_are_exposed():
    x = T.dvector("x")
    s = st.shared(np.zeros(3), name="s")
    f = st.function([x], x + s, updates=[(s, s + 1)])
    fgraph = f.maker.fgraph
    assert isinstance(fgraph, fg.FunctionGraph)
    assert len(fgraph.inputs) == 2 and len(fgraph.outputs) == 2
    assert f.get_shared() == [s]


# ---------------------------------------------------------------- argument errors

def test_argument_count_errors():
    x, y = T.dmatrix("x"), T.dmatrix("y")
    f = st.function([x, y], x + y, name="adder")
    with pytest.raises(TypeError, match="'adder' takes 2 argument"):
        f(arr(1, 1), arr(1, 1), arr(1, 1))
    with pytest.raises(TypeError, match=r"missing required input 1 \('y'\)"):
        f(arr(1, 1))
    with pytest.raises(TypeError, match="unexpected keyword argument 'z'"):
        f(arr(1, 1), z=arr(1, 1))
    with pytest.raises(TypeError, match="multiple values for input 'x'"):
        f(arr(1, 1), x=arr(1, 1))


@pytest.mark.parametrize("make_var, value, pattern", [
    (lambda: T.dmatrix("m"), np.ones(3), r'"m".*index 0.*expected a 2-d array'),
    (lambda: T.fmatrix("m"), np.ones((2, 2)), r'"m".*float64.*float32.*allow_input_downcast'),
    (lambda: T.ivector("m"), np.ones(3), r'"m".*float64.*int32'),
    (lambda: T.TensorType("float64", shape=(None, 3))("m"), np.ones((2, 4)), r'"m".*dimension 1 must be of length 3'),
    (lambda: T.TensorType("float64", broadcastable=(True, False))("m"), np.ones((2, 4)),
     r'"m".*dimension 0 must be broadcastable'),
    (lambda: T.dvector("m"), "hello", r'"m"'),
])
def test_bad_argument_names_input_and_expectation(make_var, value, pattern):
    m = make_var()
    f = st.function([m], m * 2)
    with pytest.raises(TypeError, match=pattern):
        f(value)


def test_allow_input_downcast():
    m = T.fmatrix("m")
    with pytest.raises(TypeError, match="allow_input_downcast"):
        st.function([m], m * 2)(np.ones((2, 2)))
    out = st.function([m], m * 2, allow_input_downcast=True)(np.ones((2, 2)))
    assert out.dtype == np.float32
    # per-input: In(allow_downcast=...) overrides the function-wide setting
    assert st.function([st.In(m, allow_downcast=True)], m * 2)(np.ones((1, 1))).dtype == np.float32
    with pytest.raises(TypeError):
        st.function([st.In(m, allow_downcast=False)], m * 2, allow_input_downcast=True)(np.ones((1, 1)))


def test_python_floats_into_float32_inputs():
    s = T.fscalar("s")
    f = st.function([s], s * 2)
    out = f(0.1)
    assert out.dtype == np.float32 and np.isclose(out, 0.2)
    assert f(1.5) == 3.0
    v = T.fvector("v")
    assert st.function([v], v * 2)([0.1, 0.2]).dtype == np.float32
    with pytest.raises(TypeError, match="allow_input_downcast"):
        f(np.float64(0.1))  # a float64 NumPy value is data, not a literal
    with pytest.raises(TypeError, match="allow_input_downcast"):
        st.function([s], s * 2, allow_input_downcast=False)(0.1)
    with st.config.change_flags(floatX="float32"):
        h = T.scalar("h")
        assert st.function([h], h + 1)(0.1).dtype == np.float32


@pytest.mark.parametrize("inputs, pattern, exc", [
    (lambda x, s: [3], "input 0 must be a symbolic variable", TypeError),
    (lambda x, s: [x, x], "appears twice", ValueError),
    (lambda x, s: [s], "shared variable", TypeError),
    (lambda x, s: [tb.constant(1.0)], "constant", TypeError),
    (lambda x, s: [x * 2], "computed by", TypeError),
    (lambda x, s: x, "must be a list", TypeError),
])
def test_bad_inputs(inputs, pattern, exc):
    x = T.dvector("x")
    s = st.shared(np.zeros(3), name="s")
    with pytest.raises(exc, match=pattern):
        st.function(inputs(x, s), x + s)


def test_missing_input_names_the_variable():
    x, y = T.dvector("x"), T.dvector("why")
    with pytest.raises(MissingInputError, match=r"(?s)value of why .*not one of the inputs.*test_function.py"):
        st.function([x], x + y)
    assert issubclass(MissingInputError, ValueError) and issubclass(MissingInputError, fg.MissingInputError)


def test_on_unused_input():
    x, y = T.dvector("x"), T.dvector("y")
    with pytest.raises(UnusedInputError, match=r"input 1 \(y\) is not needed"):
        st.function([x, y], x * 2)
    with pytest.warns(UserWarning, match=r"input 1 \(y\)"):
        f = st.function([x, y], x * 2, on_unused_input="warn")
    np.testing.assert_array_equal(f(np.ones(2), np.ones(5)), [2, 2])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        st.function([x, y], x * 2, on_unused_input="ignore")
    with pytest.raises(ValueError, match="on_unused_input"):
        st.function([x], x, on_unused_input="sometimes")
    with st.config.change_flags(on_unused_input="ignore"):
        st.function([x, y], x * 2)


def test_output_that_is_not_a_variable():
    x = T.dvector("x")
    with pytest.raises(TypeError, match="output 0 must be a symbolic variable"):
        st.function([x], [object()])


# ---------------------------------------------------------------- updates

def test_updates_list_ordered_dict_and_dict_are_simultaneous():
    a = st.shared(np.array(1.0), name="a")
    b = st.shared(np.array(2.0), name="b")
    for updates in ([(a, b), (b, a)], OrderedDict([(a, b), (b, a)]), {a: b, b: a}):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            st.function([], [], updates=updates)()
    # three swaps: every update reads the values from before the call
    assert a.get_value() == 2.0 and b.get_value() == 1.0


def test_update_errors():
    x = T.dvector("x")
    s = st.shared(np.zeros(3), name="svec")
    with pytest.raises(TypeError, match="only shared variables can be updated, got x"):
        st.function([x], x, updates=[(x, x + 1)])
    with pytest.raises(TypeError, match=r"svec \(type TensorType\(float64, vector\)\).*float32.*astype\('float64'\)"):
        st.function([], s, updates=[(s, T.cast(s, "float32"))])
    with pytest.raises(TypeError, match=r"svec.*number of dimensions differs"):
        st.function([], s, updates=[(s, s.sum())])
    with pytest.raises(ValueError, match="svec is updated twice"):
        st.function([], s, updates=[(s, s + 1), (s, s + 2)])
    with pytest.raises(TypeError, match="pair"):
        st.function([], s, updates=[(s,)])


def test_update_with_broadcastable_expression_is_accepted():
    s = st.shared(np.zeros((1, 3)), name="row")  # not broadcastable
    r = T.drow("r")
    st.function([r], [], updates=[(s, r * 2)])(np.ones((1, 3)))
    np.testing.assert_array_equal(s.get_value(), 2 * np.ones((1, 3)))


def test_default_update_and_no_default_updates():
    counter = st.shared(np.array(0.0), name="counter")
    other = st.shared(np.array(0.0), name="other")
    counter.default_update = counter + 1
    other.default_update = other + 10
    f = st.function([], counter + other)
    assert f() == 0.0 and f() == 11.0
    assert counter.get_value() == 2.0
    st.function([], counter + other, no_default_updates=True)()
    assert counter.get_value() == 2.0 and other.get_value() == 20.0
    st.function([], counter + other, no_default_updates=[counter])()
    assert counter.get_value() == 2.0 and other.get_value() == 30.0
    st.function([], counter * 1, updates=[(counter, counter - 1)])()  # explicit update wins
    assert counter.get_value() == 1.0


def test_runtime_failure_leaves_shared_variables_unchanged():
    a, b = T.dmatrix("a"), T.dmatrix("b")
    w = st.shared(np.zeros(2), name="w")
    c = st.shared(np.array(5.0), name="c")
    c.default_update = c * 2
    f = st.function([a, b], T.dot(a, b), updates=[(w, w + 1)])
    # the update node does not depend on the dot: it may well run before the failure
    with pytest.raises(ValueError):
        f(np.ones((2, 3)), np.ones((2, 3)))
    np.testing.assert_array_equal(w.get_value(), [0.0, 0.0])
    assert c.get_value() == 5.0
    f(np.ones((2, 3)), np.ones((3, 2)))
    np.testing.assert_array_equal(w.get_value(), [1.0, 1.0])


# ---------------------------------------------------------------- givens

def test_givens_minibatch_slicing():
    data = st.shared(np.arange(20.0).reshape(10, 2), name="data")
    x = T.dmatrix("x")
    i = T.lscalar("i")
    bs = 3
    f = st.function([i], x.sum(axis=0), givens={x: data[i * bs:(i + 1) * bs]})
    np.testing.assert_array_equal(f(1), np.arange(20.0).reshape(10, 2)[3:6].sum(axis=0))
    assert data in f.get_shared()


def test_givens_replace_shared_and_input_by_expression():
    s = st.shared(np.ones(3), name="s")
    x, y = T.dvector("x"), T.dvector("y")
    f = st.function([y], x + s, givens=[(s, y * 10), (x, y)])
    np.testing.assert_array_equal(f(np.arange(3.0)), np.arange(3.0) * 11)
    assert f.get_shared() == []


def test_givens_type_mismatch():
    x = T.dvector("x")
    y = T.fvector("y")
    with pytest.raises(TypeError, match=r"cannot replace x .*astype\('float64'\)"):
        st.function([y], x * 2, givens={x: y})
    with pytest.raises(TypeError, match="keys must be symbolic variables"):
        st.function([y], y * 2, givens={"x": y})


# ---------------------------------------------------------------- aliasing and borrowing

def test_outputs_never_alias_inputs_shared_constants_or_each_other():
    v = T.dvector("v")
    value = np.arange(3.0)
    out = st.function([v], v)(value)
    assert not np.may_share_memory(out, value)
    s = st.shared(np.arange(3.0), name="s")
    out = st.function([], s)()
    out[0] = 100.0
    assert s.get_value()[0] == 0.0
    const = tb.constant(np.arange(4.0))
    f = st.function([], const.dimshuffle("x", 0))
    first = f()
    first[0, 0] = 99.0
    assert f()[0, 0] == 0.0
    a, b = st.function([v], [v * 2, v * 2])(value)
    assert not np.may_share_memory(a, b)


def test_out_borrow_may_return_internal_storage():
    v = T.dvector("v")
    value = np.arange(3.0)
    out = st.function([v], st.Out(v, borrow=True))(value)
    assert np.may_share_memory(out, value)


def test_update_values_do_not_alias_inputs_or_outputs():
    v = T.dvector("v")
    s = st.shared(np.zeros(3), name="s")
    value = np.arange(3.0)
    out = st.function([v], v * 1, updates=[(s, v)])(value)
    value[0] = 50.0
    out[1] = 60.0
    np.testing.assert_array_equal(s.get_value(), [0.0, 1.0, 2.0])
    s1, s2 = st.shared(np.zeros(2), name="s1"), st.shared(np.zeros(2), name="s2")
    e = v[:2] + 1
    st.function([v], [], updates=[(s1, e), (s2, e)])(np.arange(3.0))
    assert not np.may_share_memory(s1.get_value(borrow=True), s2.get_value(borrow=True))


class AddOneInplace(Op):
    """x += 1 in place: exercises destroy_map handling of function inputs."""

    __props__ = ()
    destroy_map = {0: [0]}

    def make_node(self, x):
        x = tb.as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        inputs[0] += 1
        output_storage[0][0] = inputs[0]


def test_inplace_ops_in_the_user_graph_need_accept_inplace():
    v = T.dvector("v")
    with pytest.raises(TypeError, match=r"in-place operation AddOneInplace.*accept_inplace=True"):
        st.function([v], AddOneInplace()(v))


def test_destroyed_inputs_are_copied_unless_mutable():
    v = T.dvector("v")
    value = np.zeros(3)
    out = st.function([v], AddOneInplace()(v), accept_inplace=True)(value)
    np.testing.assert_array_equal(out, [1, 1, 1])
    np.testing.assert_array_equal(value, [0, 0, 0])
    st.function([st.In(v, mutable=True)], AddOneInplace()(v), accept_inplace=True)(value)
    np.testing.assert_array_equal(value, [1, 1, 1])
    s = st.shared(np.zeros(3), name="s")
    st.function([], AddOneInplace()(s), accept_inplace=True)()
    np.testing.assert_array_equal(s.get_value(), [0, 0, 0])


def test_inplace_update_is_still_atomic():
    a, b = T.dmatrix("a"), T.dmatrix("b")
    s = st.shared(np.zeros(3), name="s")
    f = st.function([a, b], T.dot(a, b), updates=[(s, AddOneInplace()(s))], accept_inplace=True)
    with pytest.raises(ValueError, match="Dot"):
        f(np.ones((2, 3)), np.ones((2, 3)))
    np.testing.assert_array_equal(s.get_value(), [0, 0, 0])
    f(np.ones((2, 3)), np.ones((3, 2)))
    np.testing.assert_array_equal(s.get_value(), [1, 1, 1])


def test_in_with_update_is_rejected():
    x = T.dscalar("x")
    with pytest.raises(TypeError, match="keep state in a shared variable"):
        st.function([st.In(x, value=0.0, update=x + 1)], x)


def test_trust_input_skips_checks():
    v = T.dvector("v")
    matrix = np.ones((2, 3))
    with pytest.raises(TypeError, match="1-d"):
        st.function([v], v)(matrix)
    out = st.function([v], v, trust_input=True)(matrix)
    assert out.shape == (2, 3)  # passed through unchecked


# ---------------------------------------------------------------- runtime errors and memory

def test_runtime_error_names_node_shapes_and_user_line():
    a, b = T.dmatrix("a"), T.fmatrix("b")
    line = inspect.currentframe().f_lineno + 1
    product = T.dot(a, b)
    f = st.function([a, b], product)
    with pytest.raises(ValueError) as info:
        f(np.ones((2, 3)), np.ones((4, 5), dtype="float32"))
    text = str(info.value)
    assert isinstance(info.value, NodeError)
    assert info.value.node.op == product.owner.op
    assert "Apply node that caused the error: Dot" in text
    assert "shape (2, 3), dtype float64" in text
    assert "shape (4, 5), dtype float32" in text
    assert f'File "{os.path.abspath(__file__)}", line {line}' in text or \
        f'File "{__file__}", line {line}' in text
    assert "product = T.dot(a, b)" in text


def test_runtime_error_high_verbosity_prints_the_graph():
    a, b = T.dmatrix("a"), T.dmatrix("b")
    f = st.function([a, b], T.dot(a, b) + 1)
    with st.config.change_flags(exception_verbosity="high"):
        with pytest.raises(ValueError, match=r"(?s)failing node.s graph.*\|a \[id"):
            f(np.ones((2, 3)), np.ones((2, 3)))


class Record(Op):
    """Copies its input and remembers a weak reference to the input array."""

    __props__ = ()

    def __init__(self):
        self.refs = []

    def make_node(self, x):
        x = tb.as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        self.refs.append(weakref.ref(inputs[0]))
        output_storage[0][0] = inputs[0].copy()


class CheckAlive(Op):
    """Copies its input and notes whether the arrays ``record`` saw are still alive."""

    __props__ = ()

    def __init__(self, record):
        self.record = record
        self.alive = []

    def make_node(self, x):
        x = tb.as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        self.alive.append(self.record.refs[-1]() is not None)
        output_storage[0][0] = inputs[0].copy()


@pytest.mark.parametrize("allow_gc", [True, False])
def test_dead_intermediates_are_freed(allow_gc):
    x = T.dvector("x")
    record = Record()
    check = CheckAlive(record)
    intermediate = x * 2
    out = check(record(intermediate) + 1)
    with st.config.change_flags(allow_gc=allow_gc):
        f = st.function([x], out)
    f(np.ones(4))
    assert check.alive == [not allow_gc]
    plan = f.maker.run.storage_plan
    freed_after_record = [freed for node, freed in plan if node.op is record][0]
    assert (len(freed_after_record) == 1) == allow_gc


# ---------------------------------------------------------------- profile, eval, modes

def test_profile_records_calls_and_nodes():
    x = T.dvector("x")
    f = st.function([x], T.exp(x).sum(), profile=True, name="prof")
    for _ in range(3):
        f(np.ones(5))
    stats = f.profile
    assert isinstance(stats, st.compile.CallStats)
    assert stats.calls == 3 and stats.total_time > 0
    assert all(n == 3 for n, _ in stats.apply_time.values())
    assert "prof: 3 calls" in stats.summary()
    assert st.function([x], x * 2).profile is None


def test_eval_is_cached_on_the_variable():
    x, y = T.dvector("x"), T.dvector("y")
    z = x + y
    np.testing.assert_array_equal(z.eval({x: np.ones(2), y: np.arange(2.0)}), [1.0, 2.0])
    np.testing.assert_array_equal(z.eval({x: np.zeros(2), y: np.arange(2.0)}), [0.0, 1.0])
    assert len(z._eval_cache) == 1
    s = st.shared(np.array(3.0))
    assert (s * 2).eval() == 6.0
    assert tb.constant(4.0).eval() == 4.0
    with pytest.raises(TypeError, match="keys must be symbolic variables"):
        z.eval({"x": 1})
    with pytest.raises(MissingInputError, match="value of y"):
        z.eval({x: np.ones(2)})


def test_modes_and_rewriter_seam():
    seen = []
    st.compile.register_rewriter("test_recording", lambda fgraph, mode: seen.append((fgraph, mode.included)))
    x = T.dvector("x")
    mode = st.Mode(optimizer="test_recording").including("alpha").excluding("beta")
    assert mode.included == ("alpha",) and mode.excluded == ("beta",)
    f = st.function([x], x * 2, mode=mode)
    assert seen == [(f.maker.fgraph, ("alpha",))]
    np.testing.assert_array_equal(st.function([x], x * 2, mode="FAST_COMPILE")(np.ones(2)), [2, 2])
    np.testing.assert_array_equal(st.function([x], x * 2, mode=st.Mode(optimizer=None))(np.ones(2)), [2, 2])
    with pytest.raises(ValueError, match="unknown mode"):
        st.function([x], x, mode="FASTEST")
    with pytest.raises(ValueError, match="unknown linker"):
        st.function([x], x, mode=st.Mode(linker="quantum"))
