"""The C linker computes what the python linker computes (perform is the reference)."""

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs

import symtensor as st
import symtensor.tensor as T
from helpers import assert_same_results, compile_c_and_py
from symtensor.compile.mode import Mode
from symtensor.link.c import compiler
from symtensor.link.c import linker as c_linker

pytestmark = pytest.mark.skipif(not compiler.compiler_available(), reason="no C compiler on this machine")

C = Mode(linker="c", optimizer="fast_run")
PY = Mode(linker="py", optimizer="fast_run")






def c_nodes(f):
    python_nodes = f.maker.run.plan.python_nodes
    return [n for p, n in enumerate(f.maker.run.plan.order) if p not in python_nodes]


def layouts(rng, shape, dtype):
    base = rng.normal(size=shape).astype(dtype)
    out = {"contiguous": base, "fortran": np.asfortranarray(base)}
    if base.ndim:
        big = np.zeros(tuple(2 * s for s in shape), dtype)
        view = big[tuple(slice(None, None, 2) for _ in shape)]
        view[...] = base
        out["strided"] = view
        flipped = np.ascontiguousarray(base[::-1])[::-1]
        out["negative_strides"] = flipped
    return out


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("layout", ["contiguous", "fortran", "strided", "negative_strides"])
def test_fused_elementwise_and_broadcasting(rng, dtype, layout):
    x = T.matrix("x", dtype=dtype)
    b = T.vector("b", dtype=dtype)
    y = T.tanh(x * 2 + b) * T.exp(-x * x) - T.sqrt(T.abs_(x) + 1) + T.maximum(x, b) / (1 + T.sqr(b))
    fc, fp = compile_c_and_py([x, b], y)
    assert any("Composite" in str(n.op) for n in c_nodes(fc))
    a = layouts(rng, (3, 4), dtype)[layout]
    assert_same_results(fc, fp, a, rng.normal(size=4).astype(dtype))


@pytest.mark.parametrize("dtype", ["int8", "int32", "int64", "bool"])
def test_integer_and_bool_elementwise(rng, dtype):
    x = T.vector("x", dtype=dtype)
    y = T.vector("y", dtype=dtype)
    if dtype == "bool":
        outs = [x & y, x | y, T.xor(x, y), ~x, T.eq(x, y)]
        a, c = rng.random(7) > 0.5, rng.random(7) > 0.5
    else:
        outs = [x + y, x * y, x // T.maximum(y, 1), x % T.maximum(y, 1), T.maximum(x, y), x < y, -x, abs(x),
                T.switch(x > 0, x, y), x / T.maximum(y, 1)]
        a = rng.integers(-9, 10, size=7).astype(dtype)
        c = rng.integers(-9, 10, size=7).astype(dtype)
    fc, fp = compile_c_and_py([x, y], outs)
    assert_same_results(fc, fp, a, c)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_special_values_follow_numpy(dtype):
    x = T.vector("x", dtype=dtype)
    outs = [T.maximum(x, 0), T.minimum(x, 0), T.sgn(x), T.isnan(x), T.isinf(x), T.floor(x), T.round(x),
            T.round(x, "half_to_even"), T.log1p(x), T.sigmoid(x), T.softplus(x), T.erfinv(T.clip(x, -0.9, 0.9)),
            T.psi(T.abs_(x) + 0.5), T.gammaln(T.abs_(x) + 0.5)]
    fc, fp = compile_c_and_py([x], outs)
    values = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 0.5, 1.5, 2.5, -2.5, 1e3, -1e3, 3.25], dtype)
    assert_same_results(fc, fp, values)


@pytest.mark.parametrize("axis", [None, 0, 1, (0, 2), -1, (1, 2)])
@pytest.mark.parametrize("dtype", ["float32", "float64", "int8", "int64"])
def test_reductions(rng, axis, dtype):
    x = T.tensor3("x", dtype=dtype)
    outs = [x.sum(axis=axis), x.prod(axis=axis), x.max(axis=axis), x.min(axis=axis), x.all(axis=axis),
            x.any(axis=axis), x.mean(axis=axis, keepdims=True)]
    fc, fp = compile_c_and_py([x], outs)
    a = (rng.normal(size=(2, 3, 4)) * 3).astype(dtype)
    assert_same_results(fc, fp, a)
    assert_same_results(fc, fp, np.ascontiguousarray(a.transpose(2, 1, 0)).transpose(2, 1, 0))


@pytest.mark.parametrize("axis", [None, (0, 2, 3), (1,), (2, 3), (0, 1), (0, 3), (1, 2)])
@pytest.mark.parametrize("dtype", ["float32", "int32"])
def test_reductions_over_merged_axes_and_views(rng, axis, dtype):
    """The kernel merges adjacent reduced (or kept) axes that are contiguous in memory; views and broadcast
    inputs break the runs."""
    x = T.tensor4("x", dtype=dtype)
    c = T.vector("c", dtype=dtype)   # broadcast over every axis but the channels (1)
    r = T.vector("r", dtype=dtype)   # broadcast over every axis but the last
    outs = [x.sum(axis=axis), x.prod(axis=axis), x.max(axis=axis),
            (x * c.dimshuffle("x", 0, "x", "x")).sum(axis=axis), T.sqr(x + r).sum(axis=axis)]
    fc, fp = compile_c_and_py([x, c, r], outs)
    a = (rng.normal(size=(3, 4, 9, 17)) * (1 if dtype == "float32" else 3)).astype(dtype)
    for arr in (a, a[:, :, ::2, :], a[..., 1:], np.ascontiguousarray(a.transpose(3, 2, 1, 0)).transpose(3, 2, 1, 0),
                a[:, ::-1]):
        cv = rng.normal(size=arr.shape[1]).astype(dtype)
        rv = rng.normal(size=arr.shape[3]).astype(dtype)
        assert_same_results(fc, fp, arr, cv, rv)



# (shape of x, shape of the broadcast operand): small ones run serially, the others over threads in runs
# of whole rows (many rows) or of cut rows (few long rows)
_BROADCASTS = [((3, 4, 5, 6), (1, 4, 1, 1)), ((8, 16, 33, 35), (1, 16, 1, 1)), ((3, 70001), (3, 1)),
               ((300001,), (1,)), ((5, 40000), (1, 40000)), ((2, 3, 1, 7), (2, 1, 1, 1))]


@pytest.mark.parametrize("shapes", _BROADCASTS, ids=lambda s: "x".join(map(str, s[0])))
@pytest.mark.parametrize("layout", ["contiguous", "strided", "negative_strides", "transposed"])
def test_broadcasting_elementwise_over_layouts(rng, shapes, layout):
    """Operands that are not all contiguous with the output's shape (a bias over a conv output, a row or
    column vector, a view) take the merged-axes loop; its vector path and its strided path give NumPy's
    values, fused or not, in place or not."""
    xshape, bshape = shapes
    bcast = tuple(n == 1 for n in bshape)
    x = T.TensorType("float32", (False,) * len(xshape))("x")
    b = T.TensorType("float64", bcast)("b")
    outs = [x + b, T.nnet.relu(x * 2 + b), T.maximum(x, b) - T.cast(b > 0, "int32")]
    f = st.function([x, b], outs, mode=C)
    assert not f.maker.run.plan.python_nodes
    a = rng.normal(size=xshape).astype("float32")
    if layout == "strided":
        a = np.repeat(a, 2, axis=-1)[..., ::2]
    elif layout == "negative_strides":
        a = np.ascontiguousarray(a[::-1])[::-1]
    elif layout == "transposed":
        a = np.ascontiguousarray(a.T).T
    bv = rng.normal(size=bshape)
    want = [a + bv, np.maximum(a * 2 + bv, 0), np.maximum(a, bv) - (bv > 0).astype("int32")]
    for got, ref in zip(f(a, bv), want):
        assert got.dtype == ref.dtype and got.shape == ref.shape
        np.testing.assert_allclose(got, ref, rtol=1e-12)

def test_zero_size_inputs():
    x = T.dmatrix("x")
    fc, fp = compile_c_and_py([x], [T.exp(x) + 1, x.sum(axis=0), x.sum(), T.dot(x.T, x)])
    assert_same_results(fc, fp, np.zeros((0, 3)))
    with pytest.raises(ValueError, match="empty"):
        st.function([x], x.max(axis=0), mode=C)(np.zeros((0, 3)))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_dot_through_blas(rng, dtype):
    x = T.matrix("x", dtype=dtype)
    w = T.matrix("w", dtype=dtype)
    z = T.matrix("z", dtype=dtype)
    outs = [T.dot(x, w), T.dot(x, w) * 2 + z, z - T.dot(x, w)]
    fc, fp = compile_c_and_py([x, w, z], outs)
    assert any(type(n.op).__name__ in ("Dot", "Dot22", "Gemm") for n in c_nodes(fc))
    for lay in ["contiguous", "fortran", "strided", "negative_strides"]:
        a = layouts(rng, (5, 3), dtype)[lay]
        assert_same_results(fc, fp, a, rng.normal(size=(3, 4)).astype(dtype), rng.normal(size=(5, 4)).astype(dtype))


@st.as_op(itypes=[T.dmatrix], otypes=[T.dmatrix])
def _python_only_double(a):
    """An op with no C code: the driver must call its perform."""
    return a * 2


def test_mixed_graph_calls_back_into_python(rng):
    x = T.dmatrix("x")
    idx = T.lvector("idx")
    y = T.exp(x[idx]).sum(axis=1) + _python_only_double(x)[:, 0]
    fc, fp = compile_c_and_py([x, idx], y)
    plan = fc.maker.run.plan
    assert plan.python_nodes and len(plan.python_nodes) < len(plan.order)
    assert_same_results(fc, fp, rng.normal(size=(4, 3)), np.array([3, 0, 0, 1]))


def test_training_step_matches_and_updates(rng):
    x = T.dmatrix("x")
    y = T.ivector("y")
    w = st.shared(rng.normal(size=(5, 3)) * 0.1, name="w")
    b = st.shared(np.zeros(3), name="b")
    p = T.nnet.softmax(T.dot(x, w) + b)
    cost = -T.mean(T.log(p)[T.arange(y.shape[0]), y])
    gw, gb = st.grad(cost, [w, b])
    w0, b0 = w.get_value(), b.get_value()
    data, labels = rng.normal(size=(8, 5)), rng.integers(0, 3, 8).astype("int32")
    costs = {}
    for name, mode in (("c", C), ("py", PY)):
        w.set_value(w0)
        b.set_value(b0)
        train = st.function([x, y], cost, updates=[(w, w - 0.1 * gw), (b, b - 0.1 * gb)], mode=mode)
        costs[name] = [float(train(data, labels)) for _ in range(3)] + [w.get_value()]
    np.testing.assert_allclose(costs["c"][:3], costs["py"][:3], rtol=1e-12)
    np.testing.assert_allclose(costs["c"][3], costs["py"][3], rtol=1e-12)


def test_runtime_error_names_node_shapes_and_user_line():
    x = T.dmatrix("x")
    v = T.dvector("v")
    y = x * v  # the line the report must point at
    f = st.function([x, v], y, mode=C)
    with pytest.raises(ValueError) as info:
        f(np.ones((2, 3)), np.ones(4))
    text = str(info.value)
    assert "dimension mismatch" in text and "shape (2, 3)" in text and "shape (1, 4)" in text
    assert "test_c_linker.py" in text and "the line the report must point at" in text


def test_outputs_are_not_overwritten_by_later_calls(rng):
    x = T.dvector("x")
    f = st.function([x], T.exp(x) + 1, mode=C)
    first = f(np.zeros(3))
    second = f(np.ones(3))
    np.testing.assert_allclose(first, 2.0)
    np.testing.assert_allclose(second, np.e + 1)


def test_repeated_calls_reuse_buffers_without_corruption(rng):
    x = T.dmatrix("x")
    f = st.function([x], (T.tanh(x) * 2).sum(axis=1), mode=C)
    a = rng.normal(size=(3, 4))
    want = (np.tanh(a) * 2).sum(axis=1)
    for _ in range(5):
        np.testing.assert_allclose(f(a), want)


UNARY = [T.tanh, T.sigmoid, T.sin, T.abs_, T.neg, T.sqr, T.softplus, lambda a: T.exp(T.clip(a, -5, 5)),
         lambda a: T.log(1 + T.sqr(a)), lambda a: a ** 3, lambda a: T.cast(a * 3, "int32") * 0.5]
BINARY = [T.add, T.sub, T.mul, T.maximum, T.minimum, lambda a, b: a / (1 + T.sqr(b)),
          lambda a, b: T.switch(a > b, a, b)]


def expressions(leaves):
    def extend(children):
        return hs.one_of(
            hs.tuples(hs.sampled_from(range(len(UNARY))), children).map(lambda t: UNARY[t[0]](t[1])),
            hs.tuples(hs.sampled_from(range(len(BINARY))), children, children).map(
                lambda t: BINARY[t[0]](t[1], t[2])),
            children.map(lambda c: c.sum(axis=0, keepdims=True) + c),
        )
    return hs.recursive(hs.sampled_from(leaves), extend, max_leaves=8)


X, Y = T.dmatrices("x", "y")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expr=expressions([X, Y, X.T.T * 0.5]), seed=hs.integers(0, 1000))
def test_random_graphs_c_equals_python(expr, seed):
    rng = np.random.default_rng(seed)
    fc, fp = compile_c_and_py([X, Y], expr)
    a, b = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    assert_same_results(fc, fp, a, b)
    assert_same_results(fc, fp, np.asfortranarray(a), b[:, :])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_fused_reduction_runs_in_c(rng, dtype):
    x = T.matrix("x", dtype=dtype)
    b = T.vector("b", dtype=dtype)
    s = T.scalar("s", dtype=dtype)
    outs = [T.exp(x * 2 + b).sum(axis=1), T.sqr(x).sum(), (x - b).max(axis=0), (x * s).mean(axis=0),
            T.tanh(x).min(axis=1, keepdims=True), T.sqr(s).sum()]
    fc, fp = compile_c_and_py([x, b, s], outs)
    assert any(type(n.op).__name__ == "FusedReduce" for n in c_nodes(fc))
    for lay in ["contiguous", "fortran", "strided", "negative_strides"]:
        a = layouts(rng, (3, 4), dtype)[lay]
        assert_same_results(fc, fp, a, rng.normal(size=4).astype(dtype), np.asarray(1.5, dtype))


def test_no_compiler_warns_once_and_runs_in_python(tmp_path, rng, monkeypatch):
    monkeypatch.setattr(c_linker, "_warned_no_compiler", [False])
    x = T.dvector("x")
    with st.config.change_flags(cxx=str(tmp_path / "no-such-compiler"), compiledir=str(tmp_path / "cache")):
        with pytest.warns(UserWarning, match="no working C compiler"):
            f = st.function([x], T.exp(x) * 2, mode=C)
        a = rng.normal(size=3)
        np.testing.assert_allclose(f(a), np.exp(a) * 2)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            st.function([x], T.exp(x) * 3, mode=C)  # no second warning


def test_c_is_the_default_linker():
    x = T.dvector("x")
    f = st.function([x], T.exp(x))
    assert type(f.maker.run).__name__ == "CRunner"


def test_profile_times_every_c_node(rng):
    x = T.dmatrix("x")
    f = st.function([x], [T.exp(x).sum(axis=0), T.dot(x, x.T)], mode=C, profile=True)
    f(rng.normal(size=(3, 3)))
    f(rng.normal(size=(3, 3)))
    assert f.profile.calls == 2
    assert len(f.profile.apply_time) == len(f.maker.fgraph.toposort())
    assert all(n == 2 for n, _ in f.profile.apply_time.values())
    assert "time per Apply node" in f.profile.summary()
