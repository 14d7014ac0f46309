"""The draw ops: statistics of every distribution, word layouts, shapes, type errors and gradients."""

import numpy as np
import pytest
from scipy import stats

import symtensor as st
import symtensor.tensor as T
from helpers import check_infer_shape
from symtensor.gradient import NullTypeGradError
from symtensor.tensor.random import philox, transforms
from symtensor.tensor.random.op import (
    BinomialRV, ChoiceRV, IntegersRV, MultinomialRV, NormalRV, PermutationRV, UniformRV)

N = 100_000


def draw(op, size, *params, seed=0):
    """(new_state, sample) of one draw evaluated by the python linker from seed_state(seed, 0)."""
    state = st.shared(philox.seed_state(seed, 0))
    new_state, sample = op(state, size, *params)
    return st.function([], [new_state, sample])()


def within(value, expected, sd, n, k=5.0):
    """|value - expected| within k standard errors of a mean of n draws with standard deviation sd."""
    assert abs(value - expected) <= k * sd / np.sqrt(n), (value, expected)


# ------------------------------------------------------------------ statistics

@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_uniform_statistics(dtype):
    _, u = draw(UniformRV(dtype), (N,))
    assert u.dtype == dtype and u.shape == (N,)
    assert u.min() > 0 and u.max() < 1
    x = u.astype("float64")
    within(x.mean(), 0.5, np.sqrt(1 / 12), N)
    within(x.var(), 1 / 12, np.sqrt(1 / 180), N)
    if dtype != "float16":
        assert stats.kstest(x, "uniform").pvalue > 1e-4
        assert len(np.unique(x)) > 0.99 * N


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_normal_statistics(dtype):
    _, z = draw(NormalRV(dtype), (N,))
    assert z.dtype == dtype
    x = z.astype("float64")
    within(x.mean(), 0, 1, N)
    within(x.var(), 1, np.sqrt(2), N)
    within(stats.skew(x), 0, np.sqrt(6), N)
    within(stats.kurtosis(x), 0, np.sqrt(24), N)
    assert stats.kstest(x, "norm").pvalue > 1e-4
    assert np.abs(x).max() < 7


def test_normal_pairs_and_float32_rounding():
    _, z64 = draw(NormalRV("float64"), (7,))
    _, z32 = draw(NormalRV("float32"), (7,))
    np.testing.assert_array_equal(z32, z64.astype("float32"))   # float32 is the float64 value rounded once
    _, z8 = draw(NormalRV("float64"), (8,))
    np.testing.assert_array_equal(z8[:7], z64)                  # an odd count drops the last of a pair
    new_state, _ = draw(NormalRV("float64"), (7,))
    assert new_state[2] == 4                                    # 4 pairs, one block each


@pytest.mark.parametrize("n, p", [(1, 0.5), (1, 0.03), (10, 0.3), (37, 0.9)])
def test_binomial_statistics(n, p):
    _, b = draw(BinomialRV("int64"), (N,), n, p)
    assert b.dtype == "int64" and b.min() >= 0 and b.max() <= n
    within(b.mean(), n * p, np.sqrt(n * p * (1 - p)), N)
    within(b.var(), n * p * (1 - p), np.sqrt(2) * n * p * (1 - p) + 0.1, N)


def test_binomial_broadcast_parameters_and_edges():
    n = np.array([0, 1, 5, 20])
    p = np.array([[0.0], [1.0], [0.5]])
    _, b = draw(BinomialRV("int32"), (3, 4), n, p)
    assert b.dtype == "int32"
    np.testing.assert_array_equal(b[0], 0)
    np.testing.assert_array_equal(b[1], n)
    assert np.all((b[2] >= 0) & (b[2] <= n))
    _, f = draw(BinomialRV("float32"), (5, 0), 3, 0.5)
    assert f.shape == (5, 0) and f.dtype == "float32"


def test_binomial_word_layout():
    # element i, trial j reads word i * W + j with W the largest n; success when (2w + 1) / 2**33 < p
    state = philox.seed_state(0, 0)
    n = np.array([3, 1, 2])
    new_state, b = draw(BinomialRV("int64"), (3,), n, 0.4)
    w = philox.words(state, 0, 9).reshape(3, 3)
    hit = ((w.astype("float64") * 2 + 1) / 2.0 ** 33 < 0.4) & (np.arange(3) < n[:, None])
    np.testing.assert_array_equal(b, hit.sum(axis=1))
    assert new_state[2] == 3  # ceil(9 / 4) blocks


def test_integers_statistics_and_range():
    _, x = draw(IntegersRV("int64"), (N,), -3, 4)
    assert x.min() == -3 and x.max() == 4
    counts = np.bincount(x + 3, minlength=8)
    assert stats.chisquare(counts).pvalue > 1e-4
    _, one = draw(IntegersRV("int8"), (10,), 7, 7)
    assert one.dtype == "int8" and np.all(one == 7)


def test_integers_huge_ranges_use_rejection_retries():
    # span 2**63 + 1: about half of the first candidates are rejected and retried in lanes 1, 2, ...
    low, high = -(2 ** 62), 2 ** 62
    _, x = draw(IntegersRV("int64"), (20000,), low, high)
    assert x.min() >= low and x.max() <= high
    within(x.astype("float64").mean() / 2 ** 62, 0, np.sqrt(1 / 3), 20000)
    # the full int64 range (span 2**64) takes the 64 bits as they are
    info = np.iinfo(np.int64)
    _, y = draw(IntegersRV("int64"), (1000,), info.min, info.max)
    r = transforms._pairs(philox.seed_state(0, 0), 1000)
    np.testing.assert_array_equal(y, (np.uint64(info.min & 0xFFFFFFFFFFFFFFFF) + r).view(np.int64))


def test_integers_match_the_unbiased_definition():
    # offset = floor(r * span / 2**64) for accepted r (Lemire); check with Python integers
    state = philox.seed_state(0, 0)
    span = 10 ** 18 + 7
    _, x = draw(IntegersRV("int64"), (500,), 5, 5 + span - 1)
    r = transforms._pairs(state, 500)
    threshold = (2 ** 64) % span
    for xi, ri in zip(x, r):
        ri = int(ri)
        if (ri * span) % 2 ** 64 >= threshold:
            assert xi == 5 + (ri * span >> 64)


def test_permutation_is_a_permutation():
    _, p = draw(PermutationRV("int64"), (2000,), 6)
    assert p.shape == (2000, 6)
    np.testing.assert_array_equal(np.sort(p, axis=1), np.tile(np.arange(6), (2000, 1)))
    for position in range(6):  # each value lands in each position about equally often
        assert stats.chisquare(np.bincount(p[:, position], minlength=6)).pvalue > 1e-4
    _, q = draw(PermutationRV("int32"), (), 0)
    assert q.shape == (0,) and q.dtype == "int32"


def test_choice_variants():
    _, c = draw(ChoiceRV("int64", True), (N,), 5)
    assert stats.chisquare(np.bincount(c, minlength=5)).pvalue > 1e-4
    p = np.array([0.1, 0.0, 0.6, 0.3])
    _, w = draw(ChoiceRV("int64", True, True), (N,), np.array([10, 20, 30, 40]), p)
    freq = np.array([np.mean(w == v) for v in (10, 20, 30, 40)])
    np.testing.assert_allclose(freq, p, atol=0.01)
    assert freq[1] == 0
    _, s = draw(ChoiceRV("int64", False), (4, 2), 8)
    assert len(set(s.ravel())) == 8
    _, sw = draw(ChoiceRV("float64", False, True), (2,), np.array([1.5, 2.5, 3.5]), np.array([0.0, 1.0, 1.0]))
    assert sorted(sw) == [2.5, 3.5] and sw.dtype == "float64"
    with pytest.raises(ValueError, match="without replacement"):
        draw(ChoiceRV("int64", False), (9,), 8)
    with pytest.raises(ValueError, match="one probability per element"):
        draw(ChoiceRV("int64", True, True), (3,), 4, np.ones(3) / 3)


def test_multinomial():
    pvals = np.array([[0.2, 0.3, 0.5], [1.0, 0.0, 0.0]])
    _, m = draw(MultinomialRV("int64"), (2,), np.array([1000, 7]), pvals)
    assert m.shape == (2, 3)
    np.testing.assert_array_equal(m.sum(axis=1), [1000, 7])
    np.testing.assert_array_equal(m[1], [7, 0, 0])
    within(m[0, 2] / 1000, 0.5, 0.5, 1000)
    _, many = draw(MultinomialRV("int64"), (N // 10,), 1, pvals[0])
    np.testing.assert_allclose(many.mean(axis=0), pvals[0], atol=0.01)


# ------------------------------------------------------------------ graph facets

def test_outputs_types_and_static_shapes():
    state = st.shared(philox.seed_state(1, 0))
    x = T.matrix("x")
    new_state, u = UniformRV("float32")(state, (3, 1))
    assert new_state.type == state.type
    assert u.type.shape == (3, 1) and u.broadcastable == (False, True)
    _, z = NormalRV("float64")(state, x.shape)
    assert z.ndim == 2 and z.type.shape == (None, None)
    _, p = PermutationRV("int64")(state, (4,), 5)
    assert p.type.shape == (4, 5)
    _, m = MultinomialRV("int64")(state, (2,), 3, T.constant(np.ones(3) / 3))
    assert m.type.shape == (2, 3)


def test_infer_shape(rng):
    x = T.matrix("x")
    n = T.lscalar("n")
    state = st.shared(philox.seed_state(1, 0))
    outs = [UniformRV("float64")(state, x.shape)[1], NormalRV("float32")(state, (n, 3))[1],
            BinomialRV("int64")(state, (x.shape[1],), 3, 0.5)[1], IntegersRV("int64")(state, (2, n), 0, 9)[1],
            PermutationRV("int64")(state, (x.shape[0],), n)[1], ChoiceRV("int64")(state, (n,), 4)[1],
            MultinomialRV("int64")(state, (n,), 4, T.vector("pv"))[1]]
    check_infer_shape([x, n, outs[-1].owner.inputs[-1]], outs, [rng.random((2, 5)), 4, np.ones(6) / 6])


@pytest.mark.parametrize("make, match", [
    (lambda s: UniformRV("int64"), "unsupported dtype"),
    (lambda s: UniformRV()(T.vector("s"), (2,)), "state must be a uint32 vector"),
    (lambda s: UniformRV()(s, (2.5,)), "must be an integer"),
    (lambda s: UniformRV()(s, T.lvector("v")), "length of size"),
    (lambda s: BinomialRV()(s, (2,), 1.5, 0.5), "n must be an integer tensor"),
    (lambda s: BinomialRV()(s, (2,), 1, T.matrix()), "more than the 1"),
    (lambda s: BinomialRV()(s, (2,), 1), "expected 2 parameters"),
    (lambda s: PermutationRV()(s, (2,), T.lvector()), "n must be an integer scalar"),
    (lambda s: ChoiceRV()(s, (2,), T.matrix()), "a must be an integer scalar"),
    (lambda s: ChoiceRV()(s, (2,), 3, np.ones(3)), "p must be given exactly when"),
])
def test_make_node_errors(make, match):
    with pytest.raises(TypeError, match=match):
        make(st.shared(philox.seed_state(0, 0)))


def test_runtime_errors():
    with pytest.raises(ValueError, match=r"BinomialRV: the probability p must be in \[0, 1\], got 1.5"):
        draw(BinomialRV(), (2,), 1, 1.5)
    with pytest.raises(ValueError, match="number of trials n must be >= 0"):
        draw(BinomialRV(), (2,), -1, 0.5)
    with pytest.raises(ValueError, match=r"n of shape \(3,\) does not broadcast to the sample size \(2,\)"):
        draw(BinomialRV(), (2,), np.array([1, 2, 3]), 0.5)
    with pytest.raises(ValueError, match="low must be <= high, got low=3 > high=2"):
        draw(IntegersRV(), (2,), 3, 2)
    n = T.lscalar("n")
    state = st.shared(philox.seed_state(0, 0))
    f = st.function([n], UniformRV()(state, (n,))[1])
    with pytest.raises(ValueError, match="negative length"):
        f(-1)
    bad = st.shared(np.zeros(5, np.uint32))
    with pytest.raises(ValueError, match="6 uint32 words"):
        st.function([], UniformRV()(bad, (2,))[1])()


def test_draws_pass_undefined_gradients_to_parameters():
    state = st.shared(philox.seed_state(0, 0))
    p = T.scalar("p")
    _, mask = BinomialRV(st.config.floatX)(state, (3,), 1, p)
    with pytest.raises(NullTypeGradError, match="not differentiable"):
        st.grad(mask.sum(), p)
    # a size computed from x does not block (or take part in) x's gradient
    x = T.vector("x")
    _, z = NormalRV("float64")(state, x.shape)
    g = st.grad((z * x).sum(), x)
    f = st.function([x], [z, g], no_default_updates=True)
    zv, gv = f(np.ones(4))
    np.testing.assert_array_equal(gv, zv)


def test_no_constant_folding():
    state = T.constant(philox.seed_state(0, 0))
    new_state, u = UniformRV("float64")(state, (3,))
    f = st.function([], u)
    assert any(isinstance(n.op, UniformRV) for n in f.maker.fgraph.apply_nodes)
    np.testing.assert_array_equal(f(), transforms.uniform(philox.seed_state(0, 0), 3, "float64")[0])
