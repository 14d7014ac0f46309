"""config.compute_test_value: ops run on test values while the graph is built."""

import pdb
import warnings

import numpy as np
import pytest

import symtensor as st
import symtensor.tensor as T
from symtensor.config import ConfigError
from symtensor.graph.basic import Apply
from symtensor.graph.op import Op, get_test_value


@pytest.fixture
def raising():
    with st.change_flags(compute_test_value="raise"):
        yield


def matrix(name, value):
    var = T.dmatrix(name)
    var.tag.test_value = value
    return var


def test_shape_errors_raise_where_the_graph_is_built(raising):
    x, w = matrix("x", np.ones((3, 4))), matrix("w", np.ones((5, 2)))
    with pytest.raises(ValueError, match="not aligned") as info:
        T.dot(x, w)
    assert any("while computing test values" in note and "(3, 4), (5, 2)" in note for note in info.value.__notes__)
    assert info.traceback[-1].path.name != "test_testvalue.py"  # raised inside the op, called from here
    assert any(entry.path.name == "test_testvalue.py" for entry in info.traceback)


def test_outputs_carry_test_values(raising, rng):
    xv, wv = rng.standard_normal((3, 4)), rng.standard_normal((4, 2))
    x, w = matrix("x", xv), matrix("w", wv)
    b = st.shared(np.arange(2.0), name="b")  # a shared variable is its own test value
    h = T.tanh(T.dot(x, w) + b) * 2  # and so is the constant 2
    np.testing.assert_allclose(h.tag.test_value, np.tanh(xv @ wv + np.arange(2.0)) * 2)
    cost = (h ** 2).sum()
    gw = T.grad(cost, w)  # gradients are computed on test values as well
    want = st.function([x, w], gw)(xv, wv)
    np.testing.assert_allclose(gw.tag.test_value, want)
    assert get_test_value(T.constant(3.0)) == 3.0
    np.testing.assert_array_equal(get_test_value(b), np.arange(2.0))


def test_flag_off_computes_nothing():
    x = matrix("x", np.ones((2, 2)))
    assert st.config.compute_test_value == "off"
    y = x * 2
    assert not hasattr(y.tag, "test_value")
    T.dot(x, matrix("w", np.ones((3, 3))))  # no error while building


def test_missing_test_value_raise_names_the_variable(raising):
    x, y = matrix("x", np.ones((2, 2))), T.dmatrix("lonely")
    with pytest.raises(ValueError, match="input 1 \\(lonely.*has none.*lonely.tag.test_value"):
        x + y


def test_missing_test_value_warn_points_at_the_user_line():
    with st.change_flags(compute_test_value="warn"):
        x, y = matrix("x", np.ones((2, 2))), T.dmatrix("lonely")
        with pytest.warns(UserWarning, match="lonely") as record:
            z = x + y
        assert record[0].filename == __file__
        assert not hasattr(z.tag, "test_value")
        with pytest.warns(UserWarning, match="because lonely"):  # later nodes name the variable without one
            z * 2


def test_missing_test_value_ignore_is_quiet():
    with st.change_flags(compute_test_value="ignore"):
        x, y = matrix("x", np.ones((2, 2))), T.dmatrix("lonely")
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            z = x + y
        assert not hasattr(z.tag, "test_value")
        y.tag.test_value = np.full((2, 2), 3.0)
        np.testing.assert_array_equal((z * 2).tag.test_value, np.full((2, 2), 8.0))  # filled in on demand


def test_missing_test_value_pdb_opens_the_debugger(monkeypatch):
    seen = []
    monkeypatch.setattr(pdb, "post_mortem", lambda tb: seen.append(tb))
    with st.change_flags(compute_test_value="pdb"):
        matrix("x", np.ones((2, 2))) + T.dmatrix("lonely")
    assert len(seen) == 1 and seen[0] is not None


def test_bad_test_value_is_a_type_error(raising):
    x = T.dmatrix("x")
    x.tag.test_value = np.ones(3)
    with pytest.raises(TypeError) as info:
        x * 2
    assert any("test value of x does not fit" in note for note in info.value.__notes__)


def test_nodes_built_without_call_get_values_on_demand(raising, rng):
    xv = rng.standard_normal((4, 3))
    x = matrix("x", xv)
    node = T.Elemwise(st.scalar.exp).make_node(x)  # make_node directly: no test value yet
    assert not hasattr(node.outputs[0].tag, "test_value")
    np.testing.assert_allclose((node.outputs[0] + 1).tag.test_value, np.exp(xv) + 1)
    rows, _ = st.scan(lambda row, acc: acc + row, sequences=[x], outputs_info=[T.zeros((3,), dtype="float64")])
    np.testing.assert_allclose((rows[-1] * 1).tag.test_value, xv.sum(0))


class _DoubleInPlace(Op):
    destroy_map = {0: [0]}

    def make_node(self, x):
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        inputs[0] *= 2
        output_storage[0][0] = inputs[0]

    def infer_shape(self, fgraph, node, input_shapes):
        return input_shapes


def test_ops_that_overwrite_inputs_get_copies(raising):
    x = matrix("x", np.ones((2, 2)))
    y = _DoubleInPlace()(x)
    np.testing.assert_array_equal(y.tag.test_value, np.full((2, 2), 2.0))
    np.testing.assert_array_equal(x.tag.test_value, np.ones((2, 2)))


def test_compiling_and_differentiating_with_the_flag_on(rng):
    xv = rng.standard_normal((5, 4))
    with st.change_flags(compute_test_value="warn"), warnings.catch_warnings():
        warnings.simplefilter("error")  # symtensor's own placeholders (gradients, rewrites) never warn
        x = matrix("x", xv)
        y = T.ivector("y")
        y.tag.test_value = np.array([0, 1, 2, 0, 1], "int32")
        w = st.shared(rng.standard_normal((4, 3)), name="w")
        p = T.nnet.softmax(T.dot(x, w))
        cost = T.nnet.categorical_crossentropy(p, y).mean()
        gw = T.grad(cost, w)
        f = st.function([x, y], [cost, gw], updates=[(w, w - 0.1 * gw)])
        got = f(xv, y.tag.test_value)
    np.testing.assert_allclose(got[0], cost.tag.test_value)
    np.testing.assert_allclose(got[1], gw.tag.test_value)


def test_flag_values():
    for value in ("off", "ignore", "warn", "raise", "pdb"):
        with st.change_flags(compute_test_value=value):
            assert st.config.compute_test_value == value
    with pytest.raises(ConfigError):
        st.config.compute_test_value = "loud"
