"""RandomStreams / MRG_RandomStreams: Theano's API, reproducibility, default updates, symbolic sizes, gradients."""

import os
import subprocess
import sys

import numpy as np
import pytest

import symtensor as st
import symtensor.tensor as T
from symtensor.sandbox.rng_mrg import MRG_RandomStreams
from symtensor.tensor.random import philox, transforms
from symtensor.tensor.random.op import NormalRV, RandomOp, UniformRV
from symtensor.tensor.shared_randomstreams import RandomStreams


def test_import_paths():
    assert T.shared_randomstreams.RandomStreams is RandomStreams
    assert issubclass(MRG_RandomStreams, RandomStreams)
    srng = MRG_RandomStreams()
    np.testing.assert_array_equal(srng.uniform((3,)).eval(), RandomStreams(12345).uniform((3,)).eval())


def test_state_update_and_rng_attributes():
    srng = RandomStreams(7)
    u = srng.uniform((2, 3))
    state, new_state = u.update
    assert u.rng is state and state.default_update is new_state
    assert srng.updates() == [(state, new_state)]
    assert isinstance(new_state.owner.op, UniformRV) and new_state.owner.outputs[1] is u
    np.testing.assert_array_equal(state.get_value(), philox.seed_state(7, 0))
    np.testing.assert_array_equal(srng[state], philox.seed_state(7, 0))
    n = srng.normal((4,))
    assert len(srng.updates()) == 2
    np.testing.assert_array_equal(n.rng.get_value(), philox.seed_state(7, 1))   # its own substream


def test_calls_draw_new_numbers_and_states_advance():
    srng = RandomStreams(3)
    u = srng.uniform((5,), dtype="float64")
    f = st.function([], u)
    a, b = f(), f()
    assert not np.array_equal(a, b)
    start = philox.seed_state(3, 0)
    np.testing.assert_array_equal(a, transforms.uniform(start, 5, "float64")[0])
    np.testing.assert_array_equal(b, transforms.uniform(philox.advance(start, 10), 5, "float64")[0])
    np.testing.assert_array_equal(u.rng.get_value(), philox.advance(philox.advance(start, 10), 10))  # 3 blocks each


def test_same_seed_same_numbers_different_variables_differ():
    def values(seed):
        srng = RandomStreams(seed)
        outs = [srng.uniform((4,)), srng.normal((4,)), srng.binomial((4,), n=5, p=0.5),
                srng.random_integers((4,), 0, 100), srng.permutation(n=6), srng.choice((3,), a=10),
                srng.multinomial(n=20, pvals=[0.2, 0.8])]
        f = st.function([], outs)
        return [f(), f()]
    a, b, c = values(11), values(11), values(12)
    for call_a, call_b, call_c in zip(a, b, c):
        for x, y, z in zip(call_a, call_b, call_c):
            np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a[0][3], c[0][3])
    srng = RandomStreams(5)
    u1, u2 = srng.uniform((8,)), srng.uniform((8,))
    v1, v2 = st.function([], [u1, u2])()
    assert not np.array_equal(v1, v2)


@pytest.mark.slow
def test_same_numbers_in_another_process():
    # (the golden values of test_philox pin the numbers too; this checks a whole compiled draw)
    code = ("import numpy as np; from symtensor.tensor.shared_randomstreams import RandomStreams as R; "
            "s = R(2024); print(repr(s.normal((3,), dtype='float64').eval().tolist()))")
    env = dict(os.environ, PYTHONHASHSEED="123")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True,
                         cwd=os.path.dirname(os.path.dirname(st.__file__)))
    here = RandomStreams(2024).normal((3,), dtype="float64").eval().tolist()
    assert eval(out.stdout.strip()) == here


def test_two_functions_share_the_stream():
    srng = RandomStreams(9)
    u = srng.uniform((3,))
    f, g = st.function([], u), st.function([], u * 2)
    a, b = f(), g()
    srng.seed(9)
    np.testing.assert_array_equal(f(), a)
    np.testing.assert_allclose(f() * 2, b)


def test_seed_reseeds_every_stream():
    srng = RandomStreams(1)
    u, z = srng.uniform((3,)), srng.normal((3,))
    f = st.function([], [u, z])
    first = f()
    f()
    srng.seed(1)
    for x, y in zip(f(), first):
        np.testing.assert_array_equal(x, y)
    srng.seed(2)
    other = RandomStreams(2)
    f2 = st.function([], [other.uniform((3,)), other.normal((3,))])
    for x, y in zip(f(), f2()):
        np.testing.assert_array_equal(x, y)
    srng.seed()  # back to the constructor's seed
    np.testing.assert_array_equal(f()[0], first[0])
    # variables made after seed(s) use s
    srng.seed(2)
    w = srng.uniform((3,))
    np.testing.assert_array_equal(w.rng.get_value(), philox.seed_state(2, 2))


def test_no_default_updates_repeats_and_explicit_updates():
    srng = RandomStreams(4)
    u = srng.normal((4,))
    f = st.function([], u, no_default_updates=True)
    np.testing.assert_array_equal(f(), f())
    g = st.function([], u, no_default_updates=True, updates=srng.updates())
    assert not np.array_equal(g(), g())
    h = st.function([], u, no_default_updates=[u.rng])
    np.testing.assert_array_equal(h(), h())


def test_setitem_and_random_default_seed():
    srng = RandomStreams()
    u = srng.uniform((3,))
    srng[u.rng] = philox.seed_state(5, 0)
    np.testing.assert_array_equal(u.eval(), RandomStreams(5).uniform((3,)).eval())
    assert RandomStreams().uniform((4,)).eval().tolist() != RandomStreams().uniform((4,)).eval().tolist()


# ------------------------------------------------------------------ sizes

def test_symbolic_sizes():
    srng = RandomStreams(0)
    x = T.matrix("x")
    n = T.lscalar("n")
    v = T.lvector("v")
    outs = [srng.uniform(x.shape), srng.normal((n, 2)), srng.binomial(v, ndim=3, p=0.2), srng.uniform(n),
            srng.random_integers(size=x.shape[::-1], low=0, high=3)]
    assert [o.ndim for o in outs] == [2, 2, 3, 1, 2]
    f = st.function([x, n, v], outs)
    values = f(np.zeros((2, 5)), 3, [1, 2, 4])
    assert [a.shape for a in values] == [(2, 5), (3, 2), (1, 2, 4), (3,), (5, 2)]
    with pytest.raises(ValueError, match="pass ndim"):
        srng.uniform(v)
    with pytest.raises(ValueError, match="does not match"):
        srng.uniform((2, 3), ndim=3)


def test_size_none_broadcasts_the_parameters():
    srng = RandomStreams(0)
    low = T.vector("low")
    hi = T.dcol("hi")
    u = srng.uniform(low=low, high=hi)
    assert u.ndim == 2
    val = st.function([low, hi], u)(np.zeros(3, low.dtype), np.full((2, 1), 2.0))
    assert val.shape == (2, 3) and np.all((val > 0) & (val < 2))
    assert srng.normal().eval().shape == ()
    assert srng.binomial(p=np.full((4,), 0.5)).eval().shape == (4,)
    assert srng.normal(avg=np.zeros((2, 3))).eval().shape == (2, 3)
    assert srng.permutation(n=4).eval().shape == (4,)
    assert srng.choice(a=4).eval().shape == ()
    assert srng.multinomial(n=5, pvals=np.ones((3, 4)) / 4).eval().shape == (3, 4)
    assert srng.uniform(ndim=2, low=np.zeros(3)).eval().shape == (1, 3)


# ------------------------------------------------------------------ parameters and dtypes

def test_default_dtypes_follow_floatx():
    srng = RandomStreams(0)
    with st.config.change_flags(floatX="float32"):
        assert srng.uniform((2,)).dtype == "float32"
        assert srng.normal((2,), avg=T.dvector()).dtype == "float64"   # Theano's upcast rule
    with st.config.change_flags(floatX="float64"):
        assert srng.uniform((2,)).dtype == "float64"
    assert srng.normal((2,), dtype="float32").dtype == "float32"
    assert srng.binomial((2,)).dtype == "int64"
    assert srng.random_integers((2,)).dtype == "int64"
    with pytest.raises(TypeError, match="float dtype"):
        srng.uniform((2,), dtype="int32")


def test_uniform_and_normal_parameters():
    srng = RandomStreams(0)
    u = srng.uniform((20000,), low=-2.0, high=3.0, dtype="float64")
    z = srng.normal((20000,), avg=5.0, std=0.5, dtype="float64")
    uv, zv = st.function([], [u, z])()
    assert uv.min() > -2 and uv.max() < 3 and abs(uv.mean() - 0.5) < 0.05
    assert abs(zv.mean() - 5) < 0.02 and abs(zv.std() - 0.5) < 0.02
    low = T.vector("low")
    w = srng.uniform(low=low, high=low + 1)
    val = st.function([low], w)(np.array([0.0, 10.0, 100.0], st.config.floatX))
    assert np.all((val > [0, 10, 100]) & (val < [1, 11, 101]))
    # default parameters: the draw itself, with no arithmetic around it
    assert isinstance(srng.uniform((2,)).owner.op, RandomOp)
    assert isinstance(srng.normal((2,)).owner.op, NormalRV)


@pytest.mark.parametrize("linker", ["py", "c"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_truncated_normal_stays_within_two_std_and_matches_the_truncated_law(linker, dtype):
    srng = MRG_RandomStreams(5)
    z = srng.normal((100000,), avg=1.0, std=3.0, truncate=True, dtype=dtype)
    assert z.dtype == dtype
    f = st.function([], z, mode=st.Mode(linker=linker))
    a, b = f(), f()
    assert not np.array_equal(a, b)            # the state advances
    assert np.all(np.abs(a - 1.0) <= 6.0 + 1e-5)
    # the standard normal truncated to [-2, 2] has variance 1 - 4 phi(2) / (Phi(2) - Phi(-2)) = 0.7737
    assert abs(a.mean() - 1.0) < 0.02
    assert abs(a.std() - 3.0 * np.sqrt(0.77374)) < 0.02
    # exact quantile: P(|z| < 1) = 0.6827 / 0.9545 within the truncated law
    assert abs(np.mean(np.abs(a - 1.0) < 3.0) - 0.68269 / 0.95450) < 0.01
    # the same seed, the same uniforms; erfinv may differ in the last bits between linkers
    again = MRG_RandomStreams(5).normal((100000,), avg=1.0, std=3.0, truncate=True, dtype=dtype).eval()
    np.testing.assert_allclose(again, a, rtol=1e-5 if dtype == "float32" else 1e-12, atol=1e-6)


def test_binomial_prob_alias_and_random_integers_range():
    srng = RandomStreams(0)
    b = srng.binomial((1000,), prob=1.0)
    np.testing.assert_array_equal(b.eval(), 1)
    r = srng.random_integers((5000,), low=-2, high=2).eval()
    assert set(r.tolist()) == {-2, -1, 0, 1, 2}


def test_mrg_choice_per_row_without_replacement():
    srng = MRG_RandomStreams(1)
    p = T.dmatrix("p")
    c = srng.choice(size=2, p=p, replace=False)
    assert c.ndim == 2 and c.dtype == "int64" and c.rng.default_update is c.update[1]
    f = st.function([p], c)
    pv = np.array([[0.1, 0.0, 0.9, 0.5], [1.0, 1.0, 0.0, 0.0]])
    first = []
    for _ in range(1500):
        v = f(pv)
        assert v.shape == (2, 2) and 1 not in v[0] and v[0, 0] != v[0, 1] and sorted(v[1]) == [0, 1]
        first.append(v[0, 0])
    np.testing.assert_allclose(np.bincount(first, minlength=4) / 1500, np.array([0.1, 0, 0.9, 0.5]) / 1.5, atol=0.04)
    with pytest.raises(NotImplementedError, match="without replacement only"):
        srng.choice(size=2, p=p)
    # the other forms are RandomStreams.choice (a=None: range(len(p)))
    assert set(srng.choice((50,), p=[0.0, 1.0, 1.0]).eval().tolist()) == {1, 2}
    assert srng.choice(size=(3,), a=5).eval().shape == (3,)


def test_gen_applies_an_op_to_a_new_state():
    srng = RandomStreams(6)
    z = srng.gen(NormalRV("float64"), (3,))
    assert z.rng.default_update is z.update[1]
    np.testing.assert_array_equal(z.eval(), transforms.normal(philox.seed_state(6, 0), 3)[0])


# ------------------------------------------------------------------ gradients

@pytest.mark.parametrize("truncate", [False, True])
def test_grad_through_avg_and_std(truncate):
    srng = RandomStreams(0)
    avg, std = T.dscalar("avg"), T.dvector("std")
    z = srng.normal((4,), avg=avg, std=std, dtype="float64", truncate=truncate)
    cost = (z * z).sum()
    g_avg, g_std = st.grad(cost, [avg, std])
    f = st.function([avg, std], [z, g_avg, g_std])
    s = np.array([0.5, 1.0, 2.0, 3.0])
    zv, ga, gs = f(1.5, s)
    standard = (zv - 1.5) / s
    np.testing.assert_allclose(ga, (2 * zv).sum())
    np.testing.assert_allclose(gs, 2 * zv * standard)


def test_grad_through_low_and_high():
    srng = RandomStreams(0)
    low, high = T.dscalar("low"), T.dscalar("high")
    u = srng.uniform((6,), low=low, high=high, dtype="float64")
    f = st.function([low, high], [u] + st.grad(u.sum(), [low, high]))
    uv, gl, gh = f(1.0, 3.0)
    standard = (uv - 1.0) / 2.0
    np.testing.assert_allclose(gh, standard.sum())
    np.testing.assert_allclose(gl, (1 - standard).sum())


def test_verify_grad_with_a_fixed_draw():
    # without its default update the draw repeats, so finite differences see one fixed function
    srng = RandomStreams(1)
    z = srng.normal((3,), dtype="float64")
    z.rng.default_update = None
    rng = np.random.default_rng(0)
    st.verify_grad(lambda avg, std: z * std + avg, [rng.normal(size=3), rng.random(3) + 0.5], rng=rng)
