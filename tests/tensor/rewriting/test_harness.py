"""Correctness harness: rewritten graphs compute what the unrewritten graphs compute.

Random expression graphs come from hypothesis; a fixed corpus covers ops that
random graphs rarely build.
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs

import symtensor as st
import symtensor.tensor as T
import symtensor.tensor.rewriting  # noqa: F401  (registers the rewrites)
from symtensor.compile.mode import Mode

FAST_RUN = Mode(optimizer="fast_run")
NO_REWRITES = Mode(optimizer=None)

UNARY = [T.tanh, T.sigmoid, T.sin, T.cos, T.abs_, T.neg, T.sqr, T.softplus, T.arctan,
         lambda a: T.exp(T.clip(a, -5, 5)), lambda a: T.log(1 + T.sqr(a)), lambda a: T.sqrt(T.abs_(a) + 1),
         lambda a: a * 1, lambda a: a + 0, lambda a: -(-a), lambda a: a ** 2, lambda a: a ** 3,
         lambda a: T.log(1 + T.exp(T.clip(a, -5, 5))), lambda a: T.exp(a * 0.1) - 1, lambda a: a.T.T,
         lambda a: a * 2 * 3, lambda a: a + 1 + 2]
BINARY = [T.add, T.sub, T.mul, T.maximum, T.minimum, lambda a, b: a / (1 + T.sqr(b)),
          lambda a, b: a * b + a * b, lambda a, b: T.switch(a > b, a, b)]
REDUCE = [lambda a: a.sum(axis=0, keepdims=True) + a, lambda a: a.max(axis=1, keepdims=True) * a,
          lambda a: a.mean(axis=0).dimshuffle("x", 0) - a]


def expressions(leaves):
    def extend(children):
        return hs.one_of(
            hs.tuples(hs.sampled_from(range(len(UNARY))), children).map(lambda t: UNARY[t[0]](t[1])),
            hs.tuples(hs.sampled_from(range(len(BINARY))), children, children).map(
                lambda t: BINARY[t[0]](t[1], t[2])),
            hs.tuples(hs.sampled_from(range(len(REDUCE))), children).map(lambda t: REDUCE[t[0]](t[1])),
        )
    return hs.recursive(hs.sampled_from(leaves), extend, max_leaves=12)


X, Y = T.dmatrices("x", "y")
LEAVES = [X, Y, X * 0.5, T.constant(np.full((1, 1), 0.25))]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expr=expressions(LEAVES), seed=hs.integers(0, 1000))
def test_random_graphs_rewritten_equal_unrewritten(expr, seed):
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    fast = st.function([X, Y], expr, mode=FAST_RUN, on_unused_input="ignore")
    slow = st.function([X, Y], expr, mode=NO_REWRITES, on_unused_input="ignore")
    np.testing.assert_allclose(fast(a, b), slow(a, b), rtol=1e-9, atol=1e-12)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expr=expressions([X, Y]), seed=hs.integers(0, 1000))
def test_random_graph_gradients_rewritten_equal_unrewritten(expr, seed):
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    cost = expr.sum()
    grads = st.grad(cost, [X, Y], disconnected_inputs="ignore")
    fast = st.function([X, Y], grads, mode=FAST_RUN, on_unused_input="ignore")
    slow = st.function([X, Y], grads, mode=NO_REWRITES, on_unused_input="ignore")
    for g1, g2 in zip(fast(a, b), slow(a, b)):
        np.testing.assert_allclose(g1, g2, rtol=1e-8, atol=1e-10)


def _corpus():
    x, y = T.dmatrices("x", "y")
    v = T.dvector("v")
    i = T.ivector("i")
    return [
        ("dot", [x, y], T.dot(x, y.T) * 2),
        ("tensordot", [x, y], T.tensordot(x, y, [[1], [1]])),
        ("outer", [v], T.outer(v, v) + 1),
        ("reshape", [x], (x * 2).reshape((4, 3)).sum(axis=1)),
        ("flatten", [x], T.exp(x).flatten() * 3),
        ("subtensor", [x], x[1:, ::2] * x[0, 1]),
        ("set_subtensor", [x, y], T.set_subtensor(x[1:], y[:2] * 2) + 1),
        ("inc_subtensor", [x, y], T.inc_subtensor(x[:, 1], y[:, 0])),
        ("advanced", [x, i], x[i] * 2),
        ("argmax", [x], T.argmax(x * 2, axis=1)),
        ("prod", [x], T.prod(x + 1, axis=0)),
        ("var_std", [x], T.var(x, axis=1) + T.std(x, axis=0).sum()),
        ("shape_arith", [x], T.cast(x.shape[0] * x.shape[1], "float64") + x.sum()),
        ("alloc", [x], T.zeros_like(x) + T.ones_like(x) * 2 + x),
        ("softmax", [x], T.nnet.softmax(x * 3)),
        ("cast", [x], T.cast(x * 10, "int32") + 1),
        ("comparison", [x, y], T.switch(T.gt(x, y), x, y) + T.eq(x, x)),
        ("join", [x, y], T.concatenate([x, y * 2], axis=1)),
    ]


@pytest.mark.parametrize("name,inputs,output", _corpus(), ids=[c[0] for c in _corpus()])
def test_corpus_rewritten_equal_unrewritten(name, inputs, output, rng):
    values = [rng.normal(size=(3, 4)) if i.ndim == 2 else (
        rng.integers(0, 3, size=5).astype(i.dtype) if i.dtype.startswith("int") else rng.normal(size=4))
        for i in inputs]
    fast = st.function(inputs, output, mode=FAST_RUN)
    slow = st.function(inputs, output, mode=NO_REWRITES)
    np.testing.assert_allclose(fast(*values), slow(*values), rtol=1e-10)
