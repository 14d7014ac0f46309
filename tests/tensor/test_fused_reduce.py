"""FusedReduce: a reduction of an elementwise expression (built by the fusion phase)."""

import numpy as np
import pytest

import symtensor as st
import symtensor.tensor as T
from helpers import check_infer_shape
from symtensor import scalar as ts
from symtensor.compile.mode import Mode
from symtensor.scalar.composite import Composite
from symtensor.tensor.fused_reduce import FusedReduce


def _composite(n_inputs, build):
    xs = [ts.ScalarType("float64")() for _ in range(n_inputs)]
    return Composite(xs, [build(*xs)])


CASES = [
    ("sum_exp", ts.add, (1,), 2, lambda a, b: ts.exp(a * b), lambda a, b: np.exp(a * b).sum(axis=1)),
    ("max_sub", ts.maximum, (0,), 2, lambda a, b: a - b, lambda a, b: (a - b).max(axis=0)),
    ("prod_all", ts.mul, (0, 1), 1, lambda a: ts.sqr(a) + 1, lambda a: (a ** 2 + 1).prod()),
    ("min_tanh", ts.minimum, (1,), 1, lambda a: ts.tanh(a), lambda a: np.tanh(a).min(axis=1)),
]


@pytest.mark.parametrize("name,scalar_op,axis,n,build,reference", CASES, ids=[c[0] for c in CASES])
def test_fused_reduce_matches_numpy_grad_and_shape(rng, name, scalar_op, axis, n, build, reference):
    op = FusedReduce(scalar_op, axis, _composite(n, build))
    inputs = [T.dmatrix(f"a{k}") for k in range(n)]
    out = op(*inputs)
    values = [rng.uniform(0.5, 1.5, size=(3, 4)) for _ in range(n)]
    f = st.function(inputs, out, mode=Mode(optimizer=None))
    np.testing.assert_allclose(f(*values), reference(*values))
    check_infer_shape(inputs, out, values)
    st.verify_grad(lambda *xs: op(*xs), values, rng=rng)


def test_fusion_phase_builds_it_and_keeps_values(rng):
    x = T.dmatrix("x")
    b = T.dvector("b")
    y = T.exp(x * 2 + b).sum(axis=1)
    f = st.function([x, b], y, mode=Mode(optimizer="fast_run"))
    assert any(isinstance(n.op, FusedReduce) for n in f.maker.fgraph.toposort())
    a, c = rng.normal(size=(3, 4)), rng.normal(size=4)
    np.testing.assert_allclose(f(a, c), np.exp(a * 2 + c).sum(axis=1))


def test_an_expression_read_twice_is_not_fused(rng):
    x = T.dmatrix("x")
    e = T.exp(x)
    f = st.function([x], [e.sum(), e * 2], mode=Mode(optimizer="fast_run"))
    assert not any(isinstance(n.op, FusedReduce) for n in f.maker.fgraph.toposort())


def test_excluding_reduction_fusion():
    x = T.dmatrix("x")
    f = st.function([x], T.exp(x).sum(), mode=Mode(optimizer="fast_run").excluding("reduction_fusion"))
    assert not any(isinstance(n.op, FusedReduce) for n in f.maker.fgraph.toposort())
