"""PythonLinker: running a FunctionGraph node by node, checking outputs, freeing storage, error reports."""

import numpy as np
import pytest

import symtensor as st
import symtensor.tensor as T
import symtensor.tensor.basic as tb
from symtensor.compile.profiling import CallStats
from symtensor.graph.basic import Apply
from symtensor.graph.fgraph import FunctionGraph
from symtensor.graph.op import Op
from symtensor.link.python import NodeError, PythonLinker, runtime_error
from symtensor.tensor.type import TensorType


def make_run(inputs, outputs, **kwargs):
    fgraph = FunctionGraph(inputs, outputs, clone=True)
    return fgraph, PythonLinker(**kwargs).make_function(fgraph)


def test_runs_nodes_in_topological_order_with_constants_and_several_outputs():
    x, y = T.dvector("x"), T.dvector("y")
    a = x * 2
    b = a + y
    fgraph, run = make_run([x, y], [b, a, x])
    out = run([np.ones(2), np.arange(2.0)])
    np.testing.assert_array_equal(out[0], [2.0, 3.0])
    np.testing.assert_array_equal(out[1], [2.0, 2.0])
    np.testing.assert_array_equal(out[2], [1.0, 1.0])
    position = {node: k for k, node in enumerate(run.order)}
    for node in run.order:
        for inp in node.inputs:
            if inp.owner is not None:
                assert position[inp.owner] < position[node]


def test_wrong_number_of_input_values():
    x = T.dvector("x")
    _, run = make_run([x], [x * 2])
    with pytest.raises(TypeError, match="takes 1 input values, got 2"):
        run([np.ones(1), np.ones(1)])


def test_storage_plan_frees_each_intermediate_after_its_last_reader():
    x = T.dvector("x")
    a = T.exp(x)
    b = a * 2
    c = b + a          # last reader of a and b
    d = c.sum()
    fgraph, run = make_run([x], [d])
    freed = {str(node.op): [str(v.owner.op) if v.owner else str(v) for v in vars_]
             for node, vars_ in run.storage_plan}
    c_node = fgraph.outputs[0].owner.inputs[0].owner
    plan = dict(run.storage_plan)
    assert {v.owner for v in plan[c_node]} == {inp.owner for inp in c_node.inputs}
    # nothing the caller passed in, and no output, is ever freed
    all_freed = [v for _, vars_ in run.storage_plan for v in vars_]
    assert fgraph.inputs[0] not in all_freed and fgraph.outputs[0] not in all_freed
    assert freed  # the plan names every node
    _, keep_all = make_run([x], [d], allow_gc=False)
    assert all(vars_ == [] for _, vars_ in keep_all.storage_plan)


def test_unread_output_of_a_multi_output_node_is_freed():
    x = T.dvector("x")
    pair = TwoOutputs()(x)
    fgraph, run = make_run([x], [pair[0] * 1])
    node = [n for n in run.order if isinstance(n.op, TwoOutputs)][0]
    assert node.outputs[1] in dict(run.storage_plan)[node]


class TwoOutputs(Op):
    __props__ = ()

    def make_node(self, x):
        x = tb.as_tensor_variable(x)
        return Apply(self, [x], [x.type(), x.type()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = inputs[0] + 1
        output_storage[1][0] = inputs[0] - 1


class BadOutput(Op):
    """Produces a value that does not match its declared output type."""

    __props__ = ("kind",)

    def __init__(self, kind):
        self.kind = kind

    def make_node(self, x):
        x = tb.as_tensor_variable(x)
        out = TensorType("float64", shape=(3,))() if self.kind == "shape" else x.type()
        return Apply(self, [x], [out])

    def perform(self, node, inputs, output_storage):
        x = inputs[0]
        output_storage[0][0] = {"dtype": x.astype("float32"), "scalar": np.float64(x.sum()),
                                "ndim": x[None], "shape": np.zeros(4)}[self.kind]


@pytest.mark.parametrize("kind, exc, pattern", [
    ("dtype", TypeError, r"BadOutput\{kind='dtype'\}.perform produced a 1-d float32 array"),
    ("scalar", TypeError, "produced float64, not an ndarray"),
    ("ndim", TypeError, "produced a 2-d float64 array"),
    ("shape", ValueError, "output axis 0 has length 4, but the graph says 3"),
])
def test_outputs_are_checked_against_their_types(kind, exc, pattern):
    x = T.dvector("x")
    _, run = make_run([x], [BadOutput(kind)(x)])
    with pytest.raises(exc, match=pattern):
        run([np.ones(3)])
    _, unchecked = make_run([x], [BadOutput(kind)(x)], check_outputs=False)
    unchecked([np.ones(3)])


def test_runtime_error_keeps_the_original_class_and_adds_context():
    err = runtime_error(KeyError("boom"), T.dot(T.dmatrix("p"), T.dmatrix("q")).owner,
                        [np.ones((2, 2)), np.ones((2, 2), dtype="float32")])
    assert isinstance(err, KeyError) and isinstance(err, NodeError)
    text = str(err)
    assert "boom" in text and "Apply node that caused the error: Dot(p, q)" in text
    assert "input 1: q of type TensorType(float64, matrix): shape (2, 2), dtype float32" in text
    assert "test_python_linker.py" in text
    again = runtime_error(KeyError("boom"), err.node, [np.ones((2, 2))] * 2)
    assert type(again) is type(err)  # one subclass per exception class, not one per error


def test_profile_receives_every_node():
    x = T.dvector("x")
    stats = CallStats("linker")
    fgraph, run = make_run([x], [T.exp(x) * 2])
    run = PythonLinker().make_function(fgraph, profile=stats)
    run([np.ones(2)])
    run([np.ones(2)])
    assert set(stats.apply_time) == set(fgraph.apply_nodes)
    assert all(n == 2 for n, _ in stats.apply_time.values())
    assert sum(stats.op_time().values()) > 0


def test_linker_matches_function_results():
    x = T.dmatrix("x")
    out = T.tanh(x).sum(axis=1)
    value = np.arange(6.0).reshape(2, 3)
    _, run = make_run([x], [out])
    np.testing.assert_allclose(run([value])[0], st.function([x], out)(value))
    np.testing.assert_allclose(run([value])[0], np.tanh(value).sum(axis=1))
