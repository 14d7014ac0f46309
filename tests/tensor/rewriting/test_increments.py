"""x - c * inc_rows(zeros_like(x), v, idx) becomes inc_rows(x, -c * v, idx): the sparse SGD update."""

import numpy as np
import pytest

import symtensor as st
import symtensor.tensor as T
import symtensor.tensor.rewriting  # noqa: F401  (registers the rewrites)
from symtensor.compile.mode import Mode
from symtensor.tensor.advanced_subtensor import AdvancedIncSubtensor1


@pytest.mark.parametrize("linker", ["py", "c"])
@pytest.mark.parametrize("lr", [1.0, 0.25])
def test_embedding_sgd_update_touches_only_the_looked_up_rows(rng, linker, lr):
    start = rng.normal(size=(6, 3))
    emb = st.shared(start.copy(), name="E")
    idx = T.lvector("idx")
    cost = (T.tanh(emb[idx]) ** 2).sum()
    g = st.grad(cost, emb)
    f = st.function([idx], cost, updates=[(emb, emb - lr * g)], mode=Mode(linker=linker, optimizer="fast_run"))
    update = f.maker.fgraph.outputs[-1].owner
    assert isinstance(update.op, AdvancedIncSubtensor1), update
    emb_in = f.maker.fgraph.inputs[-1]
    readers = {type(client.op).__name__ for client, _ in f.maker.fgraph.clients[emb_in]}
    assert readers <= {"AdvancedSubtensor1", "AdvancedIncSubtensor1", "Shape_i"}, readers  # no dense pass over E
    rows = np.array([4, 1, 4])  # a repeated row gets both increments
    f(rows)
    want = start.copy()
    t = np.tanh(start[rows])
    np.add.at(want, rows, -lr * 2 * t * (1 - t ** 2))
    np.testing.assert_allclose(emb.get_value(), want, rtol=1e-12)


def test_plus_and_unrelated_bases_are_left_alone(rng):
    x, other = T.dmatrix("x"), T.dmatrix("other")
    idx = T.lvector("idx")
    v = T.dmatrix("v")
    added = T.inc_subtensor(T.zeros_like(x)[idx], v) + x
    not_zeros = x - T.inc_subtensor(other[idx], v)
    mode = Mode(linker="py", optimizer="fast_run")
    f = st.function([x, other, idx, v], [added, not_zeros], mode=mode)
    ops = [type(n.op).__name__ for n in f.maker.fgraph.toposort()]
    assert ops.count("AdvancedIncSubtensor1") == 2
    xv, ov, vv = rng.normal(size=(4, 2)), rng.normal(size=(4, 2)), rng.normal(size=(2, 2))
    iv = np.array([3, 0])
    got_added, got_not = f(xv, ov, iv, vv)
    want_added = xv.copy()
    np.add.at(want_added, iv, vv)
    want_not = ov.copy()
    np.add.at(want_not, iv, vv)
    np.testing.assert_allclose(got_added, want_added)
    np.testing.assert_allclose(got_not, xv - want_not)
