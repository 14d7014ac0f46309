"""The C kernels of the random draws equal perform bit for bit, and C-linked functions advance the
random states exactly like the python linker."""

import numpy as np
import pytest

import symtensor as st
import symtensor.tensor as T
from helpers import c_op_names, noncontiguous
from symtensor.compile.mode import Mode
from symtensor.link.c import compiler
from symtensor.tensor.random import philox
from symtensor.tensor.random.op import (
    BinomialRV, ChoiceRV, IntegersRV, MultinomialRV, NormalRV, PermutationRV, UniformRV)
from symtensor.tensor.shared_randomstreams import RandomStreams

pytestmark = pytest.mark.skipif(not compiler.compiler_available(), reason="no C compiler on this machine")

C = Mode(linker="c", optimizer="fast_run")
PY = Mode(linker="py", optimizer="fast_run")


def assert_identical(got, want):
    assert len(got) == len(want)
    for g, w in zip(got, want):
        g, w = np.asarray(g), np.asarray(w)
        assert g.dtype == w.dtype and g.shape == w.shape
        np.testing.assert_array_equal(g, w)


def both(inputs, outputs):
    fc = st.function(inputs, outputs, mode=C, on_unused_input="ignore")
    fp = st.function(inputs, outputs, mode=PY, on_unused_input="ignore")
    return fc, fp


def outputs_of(op, state, size, *params):
    """Both outputs (new state and sample) of a draw."""
    return list(op(state, size, *params))


def test_standard_draws_bit_for_bit():
    state = T.vector("state", dtype="uint32")
    n = T.lscalar("n")
    outs = []
    for op_class in (UniformRV, NormalRV):
        for dtype in ("float32", "float64"):
            outs += outputs_of(op_class(dtype), state, (n, 3)) + outputs_of(op_class(dtype), state, ())
    fc, fp = both([state, n], outs)
    assert {"UniformRV", "NormalRV"} <= c_op_names(fc)
    for seed, rows in [(0, 1), (1, 7), (2, 0), (3, 33333)]:
        s = philox.seed_state(seed, seed)
        assert_identical(fc(s, rows), fp(s, rows))
    # a state near the end of the 64-bit position space, read through strides
    s = philox.seed_state(4, 1)
    s[2] = s[3] = 0xFFFFFFFF
    assert_identical(fc(noncontiguous(s), 5), fp(s, 5))


def test_binomial_bit_for_bit(rng):
    state = T.vector("state", dtype="uint32")
    n, p = T.lvector("n"), T.dmatrix("p")
    pf = T.fvector("pf")
    outs = []
    for dtype in ("int64", "int8", "float32", "float64", "bool"):
        outs += (outputs_of(BinomialRV(dtype), state, (4, 6), n, p)
                 + outputs_of(BinomialRV(dtype), state, (1000,), 1, pf)
                 + outputs_of(BinomialRV(dtype), state, (0, 3), 2, 0.5))
    fc, fp = both([state, n, p, pf], outs)
    assert "BinomialRV" in c_op_names(fc)
    nv = rng.integers(0, 9, size=6)
    pv = rng.random((4, 6))
    pfv = rng.random(1000).astype("float32")
    s = philox.seed_state(5, 2)
    assert_identical(fc(s, nv, pv, pfv), fp(s, nv, pv, pfv))
    assert_identical(fc(s, noncontiguous(nv), noncontiguous(pv), noncontiguous(pfv)), fp(s, nv, pv, pfv))
    pv[1] = [0, 1, 0, 1, 0.5, 1e-9]
    assert_identical(fc(s, nv, pv, pfv), fp(s, nv, pv, pfv))


def test_binomial_broadcast_rows_and_errors():
    state = st.shared(philox.seed_state(0, 0))
    p = T.dcol("p")
    n = T.lvector("n")
    outs = outputs_of(BinomialRV("int64"), state, (3, 5), n, p)
    fc, fp = both([n, p], outs)
    nv, pv = np.arange(5), np.array([[0.1], [0.5], [0.9]])
    assert_identical(fc(nv, pv), fp(nv, pv))
    with pytest.raises(ValueError, match=r"BinomialRV: the probability p must be in \[0, 1\], got 1.5"):
        fc(nv, np.array([[0.1], [1.5], [2.0]]))
    with pytest.raises(ValueError, match=r"BinomialRV: the probability p must be in \[0, 1\], got nan"):
        fc(nv, pv * np.nan)
    with pytest.raises(ValueError, match="BinomialRV: the number of trials n must be >= 0, got -2"):
        fc(nv - 2, pv)
    with pytest.raises(ValueError, match=r"BinomialRV: n of shape \(4,\) does not broadcast to the sample size "
                                         r"\(3, 5\)"):
        fc(np.arange(4), pv)


def test_integers_bit_for_bit(rng):
    state = T.vector("state", dtype="uint32")
    low, high = T.lvector("low"), T.lvector("high")
    outs = []
    for dtype in ("int64", "int32", "uint8", "float64"):
        outs += (outputs_of(IntegersRV(dtype), state, (2, 5), low, high)
                 + outputs_of(IntegersRV(dtype), state, (300,), 0, 200))
    fc, fp = both([state, low, high], outs)
    assert "IntegersRV" in c_op_names(fc)
    lv = rng.integers(0, 50, size=5)
    hv = lv + rng.integers(0, 50, size=5)
    for seed in range(3):
        s = philox.seed_state(seed, 9)
        assert_identical(fc(s, lv, hv), fp(s, lv, hv))
    assert_identical(fc(s, noncontiguous(lv), noncontiguous(hv)), fp(s, lv, hv))


def test_integers_huge_spans_and_errors():
    state = st.shared(philox.seed_state(3, 0))
    low, high = T.lscalar("low"), T.lscalar("high")
    outs = outputs_of(IntegersRV("int64"), state, (5000,), low, high)
    fc, fp = both([low, high], outs)
    info = np.iinfo(np.int64)
    # spans just above 2**63 reject about half of the first candidates (retries in lanes 1, 2, ...)
    for lo, hi in [(-(2 ** 62), 2 ** 62), (info.min, info.max), (info.min, info.max - 1), (-5, -5), (0, 2 ** 40)]:
        got, want = fc(lo, hi), fp(lo, hi)
        assert_identical(got, want)
        assert got[1].min() >= lo and got[1].max() <= hi
    with pytest.raises(ValueError, match="IntegersRV: low must be <= high, got low=3 > high=2"):
        fc(3, 2)


def test_permutation_bit_for_bit():
    state = T.vector("state", dtype="uint32")
    n = T.lscalar("n")
    outs = outputs_of(PermutationRV("int64"), state, (7,), n) + outputs_of(PermutationRV("int16"), state, (), n)
    fc, fp = both([state, n], outs)
    assert "PermutationRV" in c_op_names(fc)
    for k in (0, 1, 2, 50):
        s = philox.seed_state(k, 0)
        assert_identical(fc(s, k), fp(s, k))
    with pytest.raises(ValueError, match="PermutationRV: n must be >= 0, got -1"):
        fc(s, -1)


def test_state_and_size_errors():
    state = T.vector("state", dtype="uint32")
    n = T.lscalar("n")
    fc = st.function([state, n], UniformRV("float64")(state, (n,))[1], mode=C)
    with pytest.raises(ValueError, match=r"UniformRV: a random state must hold 6 uint32 words \(key, counter\), got "
                                         r"shape \(5,\)"):
        fc(np.zeros(5, np.uint32), 3)
    with pytest.raises(ValueError, match=r"UniformRV: the sample size \(-1,\) has a negative length"):
        fc(philox.seed_state(0, 0), -1)


def test_python_only_draws_run_inside_c_functions():
    state = st.shared(philox.seed_state(2, 0))
    outs = (outputs_of(ChoiceRV("int64", False, True), state, (3,), 6, np.arange(6.0))
            + outputs_of(MultinomialRV("int64"), state, (2,), 10, np.ones(3) / 3))
    fc, fp = both([], outs)
    assert_identical(fc(), fp())


# ------------------------------------------------------------------ whole functions

def test_c_functions_advance_the_state_like_the_python_linker():
    def build(mode):
        srng = RandomStreams(77)
        x = T.matrix("x")
        outs = [srng.uniform(x.shape), srng.normal((5,), avg=1.0, std=2.0), srng.binomial((4,), p=0.3),
                srng.random_integers((3,), 1, 6), srng.permutation(n=5), srng.choice((2,), a=9, replace=False),
                srng.uniform((3,), dtype="float32"), srng.normal((3,), dtype="float32")]
        return srng, st.function([x], outs, mode=mode)

    (sc, fc), (sp, fp) = build(C), build(PY)
    x = np.zeros((2, 3))
    first = None
    for _ in range(3):
        got, want = fc(x), fp(x)
        first = got if first is None else first
        for k, (g, w) in enumerate(zip(got, want)):
            assert g.dtype == w.dtype and g.shape == w.shape
            if k == 1:  # avg + std * z: the C elementwise loop may fuse the multiply-add
                np.testing.assert_allclose(g, w, rtol=1e-15)
            else:
                np.testing.assert_array_equal(g, w)
        for (state_c, _), (state_p, _) in zip(sc.updates(), sp.updates()):
            np.testing.assert_array_equal(state_c.get_value(), state_p.get_value())
    sc.seed(77)
    np.testing.assert_array_equal(fc(x)[0], first[0])


def test_dropout_in_c():
    x = T.matrix("x")
    srng_c, srng_p = RandomStreams(3), RandomStreams(3)
    outs_c = [T.nnet.dropout(x, 0.25, srng=srng_c)]
    outs_p = [T.nnet.dropout(x, 0.25, srng=srng_p)]
    fc = st.function([x], outs_c + [st.grad(outs_c[0].sum(), x)], mode=C)
    fp = st.function([x], outs_p + [st.grad(outs_p[0].sum(), x)], mode=PY)
    xv = np.random.default_rng(0).normal(size=(30, 40)).astype(x.dtype)
    for _ in range(2):
        for g, w in zip(fc(xv), fp(xv)):
            np.testing.assert_allclose(g, w, rtol=1e-6)
