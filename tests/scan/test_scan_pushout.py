"""The pushout rewrites move per-step products out of the loop (structure) and keep every value."""

import numpy as np
import pytest

import symtensor as st
import symtensor.tensor as T
from symtensor.compile.mode import Mode
from symtensor.graph.basic import io_toposort
from symtensor.scan.op import Scan
from symtensor.tensor.blas import Dot22, Gemm
from symtensor.tensor.math import Dot

PUSHOUTS = ("scan_pushout_seq_ops", "scan_pushout_dot_accumulators", "scan_pushout_nitsot_dots")
PY, C = Mode(linker="py"), Mode(linker="c")


def scan_nodes(f):
    return [n for n in f.maker.fgraph.toposort() if isinstance(n.op, Scan)]


def inner_products(node):
    return [n for n in io_toposort(node.op.inner_inputs, node.op.inner_outputs) if isinstance(n.op, Dot)]


def outer_products(f):
    return [n for n in f.maker.fgraph.toposort() if isinstance(n.op, (Dot, Dot22, Gemm))]


def fired(f, name):
    return f.maker.rewrite_log.counts().get(name, 0)


def compile_with_and_without(inputs, outputs, mode=PY):
    return (st.function(inputs, outputs, mode=mode),
            st.function(inputs, outputs, mode=mode.excluding(*PUSHOUTS)))


def assert_close_lists(got, want, rtol=1e-10):
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=rtol, atol=1e-12)


def rnn(xs, h0, W, U, b):
    """tanh(x_t W + b + h U), written the Theano-tutorial way: every product inside the step."""
    h, _ = st.scan(lambda x, h: T.tanh(T.dot(x, W) + b + T.dot(h, U)), sequences=xs, outputs_info=h0)
    return h


def rnn_values(rng, steps=5, batch=4):
    return [rng.standard_normal((steps, batch, 2)), rng.standard_normal((batch, 3)),
            rng.standard_normal((2, 3)) * 0.5, rng.standard_normal((3, 3)) * 0.5, rng.standard_normal(3)]


def rnn_variables():
    return T.dtensor3("xs"), T.dmatrix("h0"), T.dmatrix("W"), T.dmatrix("U"), T.dvector("b")


@pytest.mark.parametrize("mode", [PY, C], ids=["py", "c"])
def test_input_projection_runs_once_over_the_whole_sequence(rng, mode):
    xs, h0, W, U, b = variables = rnn_variables()
    h = rnn(xs, h0, W, U, b)
    f, ref = compile_with_and_without(list(variables), h, mode)
    assert fired(f, "scan_pushout_seq_ops") == 1 and fired(ref, "scan_pushout_seq_ops") == 0
    (node,) = scan_nodes(f)
    (ref_node,) = scan_nodes(ref)
    # the loop keeps only the recurrent product; x W + b is one product over all steps and batch rows
    assert len(inner_products(node)) == 1 and len(inner_products(ref_node)) == 2
    names = [i.name for i in node.inputs]
    assert "W" not in names and "U" in names
    assert any(i.name == "W" for p in outer_products(f) for i in p.inputs)
    vals = rnn_values(rng)
    assert_close_lists([f(*vals)], [ref(*vals)])
    want, hh = [], vals[1]
    for x in vals[0]:
        hh = np.tanh(x @ vals[2] + vals[4] + hh @ vals[3])
        want.append(hh)
    np.testing.assert_allclose(f(*vals), want, rtol=1e-10)
    assert f(np.zeros((0, 4, 2)), *vals[1:]).shape == (0, 4, 3)


def test_a_map_of_products_leaves_no_loop(rng):
    xs, W = T.dmatrix("xs"), T.dmatrix("W")
    out, _ = st.scan(lambda x, W: T.nnet.sigmoid(T.dot(x, W) * 2), sequences=xs, non_sequences=W)
    f, ref = compile_with_and_without([xs, W], out)
    assert not scan_nodes(f) and len(scan_nodes(ref)) == 1
    xv, wv = rng.standard_normal((6, 3)), rng.standard_normal((3, 2))
    np.testing.assert_allclose(f(xv, wv), 1 / (1 + np.exp(-2 * xv @ wv)))
    np.testing.assert_allclose(f(xv, wv), ref(xv, wv))


def test_elementwise_work_alone_stays_in_the_loop():
    xs, h0 = T.dvector("xs"), T.dscalar("h0")
    h, _ = st.scan(lambda x, h: h * 0.5 + T.exp(x), sequences=xs, outputs_info=h0)
    f = st.function([xs, h0], h, mode=PY)
    assert fired(f, "scan_pushout_seq_ops") == 0
    np.testing.assert_allclose(f(np.zeros(3), 0.0), [1.0, 1.5, 1.75])


@pytest.mark.parametrize("mode", [PY, C], ids=["py", "c"])
def test_weight_gradients_are_one_product_after_the_backward_loop(rng, mode):
    xs, h0, W, U, b = variables = rnn_variables()
    h = rnn(xs, h0, W, U, b)
    cost = (h ** 2).sum() + (h * 3).sum()
    grads = st.grad(cost, list(variables))
    f, ref = compile_with_and_without(list(variables), [cost] + grads, mode)
    assert fired(f, "scan_pushout_dot_accumulators") == 1 and fired(f, "scan_pushout_nitsot_dots") == 1
    (backward,) = [n for n in scan_nodes(f) if n.op.info.name == "grad_of_scan"]
    (ref_backward,) = [n for n in scan_nodes(ref) if n.op.info.name == "grad_of_scan"]
    # the reference accumulates dW, dU and db in states; now only the carried gradient of h and db remain
    assert ref_backward.op.info.n_states == 4 and backward.op.info.n_states == 2
    # per step: only the product that carries the gradient back through U (dz_t U^T) is left in the loop
    assert len(inner_products(backward)) == 1 and len(inner_products(ref_backward)) == 4
    vals = rnn_values(rng)
    assert_close_lists(f(*vals), ref(*vals))
    empty = [np.zeros((0, 4, 2))] + vals[1:]
    assert_close_lists(f(*empty), ref(*empty))


def test_outer_product_accumulators_of_vectors(rng):
    xs, h0, W = T.dmatrix("xs"), T.dvector("h0"), T.dmatrix("W")
    h, _ = st.scan(lambda x, h, W: T.tanh(T.dot(h, W) + x), sequences=xs, outputs_info=h0, non_sequences=W)
    gW = st.grad(h.sum(), W)
    f, ref = compile_with_and_without([xs, h0, W], gW)
    assert fired(f, "scan_pushout_dot_accumulators") == 1
    (backward,) = [n for n in scan_nodes(f) if n.op.info.name == "grad_of_scan"]
    assert all(t.ndim == 1 for t in backward.op.inner_inputs[:backward.op.info.n_seqs])
    vals = [rng.standard_normal((5, 3)), rng.standard_normal(3), rng.standard_normal((3, 3)) * 0.5]
    np.testing.assert_allclose(f(*vals), ref(*vals), rtol=1e-10)


def test_accumulator_with_other_terms_keeps_them_in_the_loop(rng):
    """acc + a_t^T b_t + c_t: the product leaves, c_t stays summed in the loop."""
    xs, ys = T.dtensor3("xs"), T.dmatrix("ys")

    def step(x, y, acc):
        return acc + T.dot(x.T, x) + T.outer(y, y) * 0.5

    acc, _ = st.scan(step, sequences=[xs, ys], outputs_info=T.zeros((3, 3), dtype="float64"))
    f, ref = compile_with_and_without([xs, ys], acc[-1])
    assert fired(f, "scan_pushout_dot_accumulators") == 1
    (node,) = scan_nodes(f)
    assert node.op.info.n_states == 1 and len(inner_products(node)) == 1
    xv, yv = rng.standard_normal((4, 2, 3)), rng.standard_normal((4, 3))
    want = sum(x.T @ x + 0.5 * np.outer(y, y) for x, y in zip(xv, yv))
    np.testing.assert_allclose(f(xv, yv), want, rtol=1e-10)
    np.testing.assert_allclose(f(xv, yv), ref(xv, yv), rtol=1e-10)


def test_an_accumulator_read_at_every_step_stays(rng):
    xs = T.dtensor3("xs")
    acc, _ = st.scan(lambda x, acc: acc + T.dot(x.T, x), sequences=xs, outputs_info=T.zeros((3, 3), dtype="float64"))
    f = st.function([xs], acc, mode=PY)   # every row is used: the loop must produce each partial sum
    assert fired(f, "scan_pushout_dot_accumulators") == 0
    xv = rng.standard_normal((3, 2, 3))
    np.testing.assert_allclose(f(xv), np.cumsum([x.T @ x for x in xv], axis=0), rtol=1e-10)


def test_pushouts_keep_a_truncated_gradient(rng):
    xs, h0, W, U, b = variables = rnn_variables()
    h, _ = st.scan(lambda x, h: T.tanh(T.dot(x, W) + b + T.dot(h, U)), sequences=xs, outputs_info=h0,
                   truncate_gradient=2)
    grads = st.grad((h ** 2).sum(), list(variables))
    f, ref = compile_with_and_without(list(variables), grads)
    assert fired(f, "scan_pushout_dot_accumulators") == 1
    vals = rnn_values(rng, steps=6)
    got = f(*vals)
    assert_close_lists(got, ref(*vals))
    assert np.all(got[0][:4] == 0) and np.any(got[0][4:] != 0)   # only the last two steps get a gradient


def test_until_loops_are_left_alone():
    xs, W = T.dmatrix("xs"), T.dmatrix("W")
    out, _ = st.scan(lambda x, W: (T.dot(x, W), st.scan.until(x.sum() > 2)), sequences=xs, non_sequences=W)
    f = st.function([xs, W], out, mode=PY)
    assert fired(f, "scan_pushout_seq_ops") == 0 and len(scan_nodes(f)) == 1
    got = f(np.arange(8.0).reshape(4, 2), np.eye(2))
    np.testing.assert_allclose(got, [[0, 1], [2, 3]])
