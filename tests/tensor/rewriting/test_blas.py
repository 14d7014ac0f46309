"""dot -> Dot22 / Gemm / Gemv / Ger specializations and the in-place BLAS phase."""

import numpy as np
import pytest

import symtensor as st
import symtensor.tensor as T
import symtensor.tensor.rewriting  # noqa: F401  (registers the rewrites)
from symtensor.compile.mode import Mode
from symtensor.graph.fgraph import FunctionGraph
from symtensor.tensor import blas
from symtensor.tensor.math import Dot
from symtensor.graph.rewriting.basic import in2out
from symtensor.tensor.rewriting.blas import can_destroy, dot_to_gemm
from symtensor.tensor.type import TensorType
from tests.helpers import tolerance

FAST_RUN = Mode(optimizer="fast_run")
NO_REWRITES = Mode(optimizer=None)


def ops_of(f):
    return [n.op for n in f.maker.fgraph.toposort()]


def count(f, cls, **props):
    return sum(isinstance(op, cls) and all(getattr(op, k) == v for k, v in props.items()) for op in ops_of(f))


def compile_both(inputs, outputs, **kwargs):
    return (st.function(inputs, outputs, mode=FAST_RUN, **kwargs),
            st.function(inputs, outputs, mode=NO_REWRITES, **kwargs))


def assert_same_values(f, ref, values, dtype):
    got, want = f(*[v.copy() for v in values]), ref(*[v.copy() for v in values])
    got, want = (got, want) if isinstance(got, list) else ([got], [want])
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and g.shape == w.shape
        np.testing.assert_allclose(g, w, rtol=tolerance(dtype), atol=tolerance(dtype))


class Vars:
    """z: (3, 5) = x (3, 4) @ y (4, 5); v (3,) = x @ u (4,); w (4,) = p (3,) @ x; outer(p (3,), q (5,))."""

    shapes = {"z": (3, 5), "x": (3, 4), "y": (4, 5), "c": (3, 5), "x2": (3, 2), "y2": (2, 5), "a": (), "b": (),
              "v": (3,), "u": (4,), "w": (4,), "p": (3,), "q": (5,), "bias": (5,)}

    def __init__(self, dtype):
        self.dtype = dtype
        for name, shape in self.shapes.items():
            setattr(self, name, TensorType(dtype, shape=(None,) * len(shape))(name))

    def values(self, names, rng):
        return [(rng.uniform(-2, 2, size=self.shapes[n]) + (0.5 if n in "ab" else 0)).astype(self.dtype)
                for n in names]


# (id, input names, expression, BLAS op class expected, how many)
CASES = [
    ("z_plus_dot", "zxy", lambda s: s.z + T.dot(s.x, s.y), blas.Gemm, 1),
    ("dot_plus_z", "zxy", lambda s: T.dot(s.x, s.y) + s.z, blas.Gemm, 1),
    ("z_minus_dot", "zxy", lambda s: s.z - T.dot(s.x, s.y), blas.Gemm, 1),
    ("dot_minus_z", "zxy", lambda s: T.dot(s.x, s.y) - s.z, blas.Gemm, 1),
    ("neg_dot_plus_z", "zxy", lambda s: -T.dot(s.x, s.y) + s.z, blas.Gemm, 1),
    ("a_dot_plus_b_z", "zxyab", lambda s: s.a * T.dot(s.x, s.y) + s.b * s.z, blas.Gemm, 1),
    ("dot_a_plus_z", "zxya", lambda s: T.dot(s.x, s.y) * s.a + s.z, blas.Gemm, 1),
    ("z_minus_a_dot", "zxya", lambda s: s.z - s.a * T.dot(s.x, s.y), blas.Gemm, 1),
    ("const_coefficients", "zxy", lambda s: 2 * T.dot(s.x, s.y) + s.z * 3, blas.Gemm, 1),
    ("broadcastable_constant", "zxy",
     lambda s: T.constant(np.full((1, 1), 2.0, dtype=s.dtype)) * T.dot(s.x, s.y) + s.z, blas.Gemm, 1),
    ("div_by_constant", "zxy", lambda s: T.dot(s.x, s.y) / 4 + s.z, blas.Gemm, 1),
    ("a_times_b_dot", "zxyab", lambda s: s.a * (s.b * T.dot(s.x, s.y)) + s.z, blas.Gemm, 1),
    ("three_terms", "zxyc", lambda s: s.z + T.dot(s.x, s.y) + s.c, blas.Gemm, 1),
    ("two_dots", "zxyx2y2", None, blas.Gemm, 2),
    ("bias_vector", "xybias", lambda s: T.dot(s.x, s.y) + s.bias, blas.Gemm, 1),
    ("matrix_vector", "vxu", lambda s: s.v + 2 * T.dot(s.x, s.u), blas.Gemv, 1),
    ("matrix_vector_sub", "vxua", lambda s: s.a * s.v - T.dot(s.x, s.u), blas.Gemv, 1),
    ("vector_matrix", "wpx", lambda s: T.dot(s.p, s.x) * 3 + s.w, blas.Gemv, 1),
    ("outer", "zpqa", lambda s: s.z + T.outer(s.p, s.q) * s.a, blas.Ger, 1),
    ("outer_sub", "zpq", lambda s: s.z - T.outer(s.p, s.q), blas.Ger, 1),
    ("outer_scaled_z", "zpq", lambda s: 2 * s.z + T.outer(s.p, s.q), blas.Ger, 1),
    ("dot22", "xy", lambda s: T.dot(s.x, s.y), blas.Dot22, 1),
]


def _two_dots(s):
    return T.dot(s.x, s.y) + T.dot(s.x2, s.y2) + s.z


def _names(spec):
    out, k = [], 0
    while k < len(spec):
        two = spec[k:k + 2]
        if two in ("x2", "y2"):
            out.append(two)
            k += 2
        elif spec[k:k + 4] == "bias":
            out.append("bias")
            k += 4
        else:
            out.append(spec[k])
            k += 1
    return out


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_pattern_becomes_blas_op(case, dtype, rng):
    name, spec, build, cls, n = case
    s = Vars(dtype)
    names = _names(spec)
    expr = (build or _two_dots)(s)
    assert expr.dtype == dtype
    f, ref = compile_both([getattr(s, k) for k in names], expr)
    assert count(f, cls) == n, [str(op) for op in ops_of(f)]
    assert count(f, Dot) == 0, "every dot was specialized"
    if cls is not blas.Dot22:
        assert count(f, blas.Dot22) == 0, "the dot was absorbed into the accumulating op"
    out = f.maker.fgraph.outputs[0]
    assert out.type == expr.type or expr.type.is_super(out.type)
    assert_same_values(f, ref, s.values(names, rng), dtype)


# raw (not canonicalized) forms, rewritten by dot_to_gemm alone: (expression, alpha, beta)
RAW = [
    ("z_plus_neg_dot", lambda z, d, a: z + (-d), -1, 1),
    ("neg_a_dot_plus_z", lambda z, d, a: -(a * d) + z, "-a", 1),
    ("z_minus_neg_dot", lambda z, d, a: z - (-d), 1, 1),
    ("neg_z_minus_dot", lambda z, d, a: -z - d * 2, -2, -1),
    ("minus_one_times_dot", lambda z, d, a: T.constant(-1.0) * d + a * z, -1, "a"),
]


@pytest.mark.parametrize("build,alpha,beta", [r[1:] for r in RAW], ids=[r[0] for r in RAW])
def test_raw_forms_peel_signs_and_coefficients(build, alpha, beta, rng):
    s = Vars("float64")
    expr = build(s.z, T.dot(s.x, s.y), s.a)
    fg = FunctionGraph([s.z, s.x, s.y, s.a], [expr], clone=True)
    in2out(dot_to_gemm).rewrite(fg)
    gemms = [n for n in fg.toposort() if isinstance(n.op, blas.Gemm)]
    assert len(gemms) == 1 and fg.outputs[0] is gemms[0].outputs[0], [str(n) for n in fg.toposort()]
    vals = s.values("zxya", rng)
    coef = st.function(fg.inputs, [gemms[0].inputs[1], gemms[0].inputs[4]], mode=NO_REWRITES,
                       on_unused_input="ignore")(*vals)
    a_val = vals[3]
    want = [-a_val if c == "-a" else a_val if c == "a" else c for c in (alpha, beta)]
    np.testing.assert_allclose(coef, want)
    f = st.function(fg.inputs, fg.outputs[0], mode=NO_REWRITES, on_unused_input="ignore")
    ref = st.function([s.z, s.x, s.y, s.a], expr, mode=NO_REWRITES, on_unused_input="ignore")
    assert_same_values(f, ref, vals, "float64")


def test_symbolic_coefficients_are_the_scalars_themselves():
    s = Vars("float64")
    f = st.function([s.z, s.x, s.y, s.a, s.b], s.a * T.dot(s.x, s.y) + s.b * s.z, mode=FAST_RUN)
    (node,) = f.maker.fgraph.toposort()  # no dimshuffles or casts around alpha and beta
    assert isinstance(node.op, blas.Gemm)
    z, x, y, a, b = f.maker.fgraph.inputs
    assert node.inputs == [z, a, x, y, b]


def test_two_dots_chain_in_place(rng):
    s = Vars("float64")
    f, ref = compile_both([s.z, s.x, s.y, s.x2, s.y2], _two_dots(s))
    # the second gemm accumulates into the first one's fresh result
    assert count(f, blas.Gemm, inplace=True) == 1 and count(f, blas.Gemm, inplace=False) == 1
    assert_same_values(f, ref, s.values(["z", "x", "y", "x2", "y2"], rng), "float64")


def test_float32_stays_float32_and_inexact_coefficients_are_left_alone(rng):
    s = Vars("float32")
    with st.config.change_flags(floatX="float64"):
        inexact = s.z + 0.1 * T.dot(s.x, s.y)  # 0.1 is a float64 constant: the graph computes in float64
        exact = s.z + 0.5 * T.dot(s.x, s.y)  # 0.5 is exact in float32: autocast keeps float32
    with st.config.change_flags(floatX="float32"):
        as_floatx = s.z + 0.1 * T.dot(s.x, s.y)
    assert inexact.dtype == "float64" and exact.dtype == "float32" and as_floatx.dtype == "float32"
    values = s.values("zxy", rng)
    for expr, gemms in ((inexact, 0), (exact, 1), (as_floatx, 1)):
        f, ref = compile_both([s.z, s.x, s.y], expr)
        assert count(f, blas.Gemm) == gemms, [str(op) for op in ops_of(f)]
        assert f.maker.fgraph.outputs[0].dtype == expr.dtype
        assert_same_values(f, ref, values, expr.dtype)
    f = st.function([s.z, s.x, s.y], inexact, mode=FAST_RUN)
    assert count(f, blas.Dot22) == 1 and all(n.outputs[0].dtype == "float32" for n in f.maker.fgraph.toposort()
                                             if isinstance(n.op, blas.Dot22))


def test_operands_of_different_dtypes_are_left_alone(rng):
    s, t = Vars("float64"), Vars("float32")
    expr = T.dot(t.x, s.y) + s.z
    f, ref = compile_both([t.x, s.y, s.z], expr)
    assert count(f, blas.Gemm) == 0 and count(f, blas.Dot22) == 0 and count(f, Dot) == 1
    vals = [t.values("x", rng)[0], s.values("y", rng)[0], s.values("z", rng)[0]]
    assert_same_values(f, ref, vals, "float64")


def test_a_matrix_coefficient_is_not_alpha(rng):
    s = Vars("float64")
    f, ref = compile_both([s.x, s.y, s.c, s.z], T.dot(s.x, s.y) * s.c + s.z)
    assert count(f, blas.Gemm) == 0 and count(f, blas.Dot22) == 1
    assert_same_values(f, ref, s.values(["x", "y", "c", "z"], rng), "float64")


def test_z_may_be_any_expression(rng):
    s = Vars("float64")
    f, ref = compile_both([s.x, s.y, s.z, s.c], T.dot(s.x, s.y) + T.exp(s.z) * s.c)
    assert count(f, blas.Gemm) == 1 and count(f, blas.Dot22) == 0
    assert_same_values(f, ref, s.values(["x", "y", "z", "c"], rng), "float64")


def test_column_from_a_matrix_is_a_gemm_not_a_ger(rng):
    m = TensorType("float64", shape=(None, 1))("m")  # m.dimshuffle(0, "x") drops m's length-1 axis: not a vector
    q, z = T.dvector("q"), T.dmatrix("z")
    f, ref = compile_both([m, q, z], z + T.dot(m.dimshuffle(0, "x"), q.dimshuffle("x", 0)))
    assert count(f, blas.Ger) == 0 and count(f, blas.Gemm) == 1
    vals = [rng.normal(size=(3, 1)), rng.normal(size=4), rng.normal(size=(3, 4))]
    np.testing.assert_allclose(f(*vals), ref(*vals))


def test_integer_dot_is_left_alone(rng):
    x, y, z = T.lmatrix("x"), T.lmatrix("y"), T.lmatrix("z")
    f, ref = compile_both([z, x, y], z + 2 * T.dot(x, y))
    assert count(f, Dot) == 1 and count(f, blas.Gemm) == 0 and count(f, blas.Dot22) == 0
    vals = [rng.integers(-5, 5, size=(3, 3)) for _ in range(3)]
    np.testing.assert_array_equal(f(*vals), ref(*vals))


def test_a_shared_dot_is_not_computed_twice(rng):
    s = Vars("float64")
    d = T.dot(s.x, s.y)
    f, ref = compile_both([s.z, s.x, s.y], [s.z + d, d * 2])
    assert count(f, blas.Dot22) == 1 and count(f, blas.Gemm) == 0
    assert_same_values(f, ref, s.values("zxy", rng), "float64")


def test_a_dot_broadcast_by_the_add_is_not_a_gemm(rng):
    z = T.dmatrix("z")
    x = TensorType("float64", shape=(1, None))("x")  # dot(x, y) has one (broadcastable) row
    y = T.dmatrix("y")
    f, ref = compile_both([z, x, y], z + T.dot(x, y))
    assert count(f, blas.Gemm) == 0
    vals = [rng.normal(size=(3, 5)), rng.normal(size=(1, 4)), rng.normal(size=(4, 5))]
    np.testing.assert_allclose(f(*vals), ref(*vals))


def test_rewrites_can_be_excluded_by_name(rng):
    s = Vars("float64")
    expr = s.z + T.dot(s.x, s.y)
    f = st.function([s.z, s.x, s.y], expr, mode=FAST_RUN.excluding("dot_to_gemm"))
    assert count(f, blas.Gemm) == 0 and count(f, blas.Dot22) == 1
    f = st.function([s.z, s.x, s.y], expr, mode=FAST_RUN.excluding("dot_to_gemm", "dot_to_dot22"))
    assert count(f, Dot) == 1
    f = st.function([s.z, s.x, s.y], T.exp(s.z) + T.dot(s.x, s.y), mode=FAST_RUN.excluding("blas_inplace"))
    assert count(f, blas.Gemm, inplace=False) == 1


# ---------------------------------------------------------------- in place

@pytest.mark.parametrize("kind", ["gemm", "gemv", "ger"])
def test_inplace_only_on_a_private_intermediate(kind, rng):
    s = Vars("float64")
    acc, product, names, cls = {
        "gemm": (s.z, T.dot(s.x, s.y), "zxy", blas.Gemm),
        "gemv": (s.v, T.dot(s.x, s.u), "vxu", blas.Gemv),
        "ger": (s.z, T.outer(s.p, s.q), "zpq", blas.Ger),
    }[kind]
    inputs = [getattr(s, k) for k in names]
    vals = s.values(names, rng)
    private = T.exp(acc)
    cases = [
        ([acc + product], False),                 # an input: never overwritten
        ([private + product], True),              # a fresh intermediate only the op reads
        ([private + product, private], False),    # also an output
        ([private + product, private * 2], False),  # read by another node
        ([T.constant(np.ones((3, 5) if kind != "gemv" else 3)) * 1.0 + product], False),  # a constant
    ]
    for outputs, inplace in cases:
        f, ref = compile_both(inputs, outputs, on_unused_input="ignore")
        assert count(f, cls) == 1, [str(op) for op in ops_of(f)]
        assert count(f, cls, inplace=inplace) == 1, (outputs, [str(op) for op in ops_of(f)])
        before = [v.copy() for v in vals]
        assert_same_values(f, ref, vals, "float64")
        f(*vals)
        for v, b in zip(vals, before):
            np.testing.assert_array_equal(v, b)


def test_equal_accumulators_of_two_inplace_gemms_are_not_merged(rng):
    # both biases become the same alloc(b, rows(x), 3); merging them would let both gemms overwrite one buffer
    x, b = T.dmatrix("x"), T.dvector("b")
    W, V = TensorType("float64", shape=(4, 3))("W"), TensorType("float64", shape=(4, 3))("V")
    f, ref = compile_both([x, W, V, b], [T.dot(x, W) + b, T.dot(x, V) + b])
    gemms = [n for n in f.maker.fgraph.toposort() if isinstance(n.op, blas.Gemm)]
    assert len(gemms) == 2 and all(n.op.inplace for n in gemms)
    assert gemms[0].inputs[0] is not gemms[1].inputs[0]
    vals = [rng.normal(size=(2, 4)), rng.normal(size=(4, 3)), rng.normal(size=(4, 3)), rng.normal(size=3)]
    assert_same_values(f, ref, vals, "float64")


def test_can_destroy_rules():
    z, x, y = T.dmatrices("z", "x", "y")
    e = T.exp(z)
    out = blas.gemm_no_inplace(e, 1.0, x, y, 1.0)
    out_input = blas.gemm_no_inplace(z, 1.0, x, y, 1.0)
    view = blas.gemm_no_inplace(T.exp(z).T, 1.0, x, y, 1.0)
    fg = FunctionGraph([z, x, y], [out, out_input, view], clone=False)
    assert can_destroy(fg, out.owner, 0)
    assert not can_destroy(fg, out_input.owner, 0)      # a graph input
    assert not can_destroy(fg, out.owner, 2)            # x: a graph input
    assert not can_destroy(fg, view.owner, 0)           # a view (transpose) of another array
    fg2 = FunctionGraph([z, x, y], [out, e], clone=False)
    assert not can_destroy(fg2, out.owner, 0)           # e is also an output


# ---------------------------------------------------------------- an MLP layer

def test_mlp_layer_and_sgd_step_use_blas(rng):
    x, g = T.dmatrix("x"), T.dmatrix("g")
    W, b, lr = T.dmatrix("W"), T.dvector("b"), T.dscalar("lr")
    hidden = T.dot(x, W) + b
    step = W - lr * T.dot(x.T, g)
    f, ref = compile_both([x, W, b, g, lr], [hidden, step])
    assert count(f, blas.Gemm) == 2 and count(f, Dot) == 0, [str(op) for op in ops_of(f)]
    vals = [rng.normal(size=(6, 4)), rng.normal(size=(4, 3)), rng.normal(size=3), rng.normal(size=(6, 3)),
            np.asarray(0.1)]
    assert_same_values(f, ref, vals, "float64")


def test_mlp_training_function_with_shared_weights(rng):
    def build(mode):
        W = st.shared(np.linspace(-1, 1, 12).reshape(4, 3), name="W")
        b = st.shared(np.zeros(3), name="b")
        x, t = T.dmatrix("x"), T.dmatrix("t")
        y = T.tanh(T.dot(x, W) + b)
        cost = ((y - t) ** 2).mean()
        gW, gb = st.grad(cost, [W, b])
        return st.function([x, t], cost, updates=[(W, W - 0.1 * gW), (b, b - 0.1 * gb)], mode=mode), W

    f, W = build(FAST_RUN)
    ref, W_ref = build(NO_REWRITES)
    ops = ops_of(f)
    assert not any(isinstance(op, Dot) for op in ops), [str(op) for op in ops]
    assert count(f, blas.Gemm) == 2, [str(op) for op in ops]  # forward x @ W + b and W - lr * x.T @ delta
    xs, ts_ = rng.normal(size=(5, 4)), rng.normal(size=(5, 3))
    for _ in range(3):
        np.testing.assert_allclose(f(xs, ts_), ref(xs, ts_), rtol=1e-10)
    np.testing.assert_allclose(W.get_value(), W_ref.get_value(), rtol=1e-10)
