"""Scalar ops on their own: types, dtype rules, impl and scalar-graph gradients vs finite differences."""

import numpy as np
import pytest

import symtensor as st
import symtensor.scalar.math as sm
from symtensor import scalar as ts
from symtensor.graph.null_type import NullType
from symtensor.scalar.basic import ScalarOp, ScalarType


def _instances():
    return {name: op for name, op in vars(sm).items() if isinstance(op, ScalarOp)}


def f64():
    return ScalarType("float64")()


# evaluation points where each op is smooth; ops missing here are checked at 0.7 (all inputs)
POINTS = {
    "true_div": (0.7, 1.3), "int_div": (0.7, 0.3), "mod": (0.7, 0.3), "pow": (0.7, 1.3),
    "arccosh": (1.5,), "arctan2": (0.7, 1.3), "hypot": (0.7, -1.3), "switch": (1.0, 0.7, -0.4),
    "clip": (0.3, -0.5, 0.5), "gamma": (1.7,), "gammaln": (1.7,), "psi": (1.7,), "tri_gamma": (1.7,),
    "erfcinv": (0.6,), "maximum": (0.7, 0.2), "minimum": (0.7, 0.2),
}
POINTS.update({cmp: (0.7, 0.2) for cmp in ("lt", "gt", "le", "ge", "eq", "neq")})  # away from the jump
# ops whose gradient is zero almost everywhere
PIECEWISE = {"int_div", "sgn", "floor", "ceil", "trunc", "round_half_to_even", "round_half_away_from_zero",
             "lt", "gt", "le", "ge", "eq", "neq", "isnan", "isinf", "imag"}
NOT_DIFFERENTIABLE = {"tri_gamma"}  # gradient undefined
DISCRETE_ONLY = {"and_", "or_", "xor", "invert"}
COMPLEX_ONLY = {"real", "imag", "conj"}


def _nin(op):
    return op.nin if op.nin >= 0 else 2


def _inputs_for(name, op):
    dtype = "int32" if name in DISCRETE_ONLY else "complex128" if name in COMPLEX_ONLY else "float64"
    return [ScalarType(dtype)() for _ in range(_nin(op))]


@pytest.mark.parametrize("name", sorted(_instances()))
def test_make_node_and_perform_give_exact_dtypes(name):
    op = _instances()[name]
    ins = _inputs_for(name, op)
    node = op.make_node(*ins)
    assert all(isinstance(o.type, ScalarType) for o in node.outputs)
    dtype = ins[0].type.dtype
    point = POINTS.get(name, (0.7,) * len(ins))
    values = [np.asarray(1 if dtype == "int32" else p, dtype=dtype) for p in point]
    storage = [[None] for _ in node.outputs]
    op.perform(node, values, storage)
    for cell, out in zip(storage, node.outputs):
        assert isinstance(cell[0], np.ndarray) and cell[0].shape == ()
        assert cell[0].dtype == out.type.dtype
    assert op.infer_shape(None, node, [()] * len(ins)) == [()] * len(node.outputs)


@pytest.mark.parametrize("name", sorted(set(_instances()) - DISCRETE_ONLY - COMPLEX_ONLY - NOT_DIFFERENTIABLE))
def test_scalar_gradient_matches_finite_differences(name):
    op = _instances()[name]
    ins = [f64() for _ in range(_nin(op))]
    point = POINTS.get(name, (0.7,) * len(ins))
    out = op(*ins)
    gz = f64()
    grads = op.L_op(ins, [out], [gz])
    assert len(grads) == len(ins)
    fn = st.function(ins + [gz], [ts.cast(g, "float64") for g in grads], on_unused_input="ignore")
    got = fn(*point, 1.0)
    f = st.function(ins, ts.cast(out, "float64"))
    eps = 1e-6
    for k in range(len(ins)):
        plus, minus = list(point), list(point)
        plus[k] += eps
        minus[k] -= eps
        numeric = (float(f(*plus)) - float(f(*minus))) / (2 * eps)
        if name in PIECEWISE:
            assert float(got[k]) == 0.0
        assert abs(float(got[k]) - numeric) < 1e-5 * max(1.0, abs(numeric)), (name, k, got[k], numeric)


def test_tri_gamma_gradient_is_undefined():
    x = f64()
    (g,) = sm.tri_gamma.L_op([x], [sm.tri_gamma(x)], [f64()])
    assert isinstance(g.type, NullType)


@pytest.mark.parametrize("name", ["add", "mul", "exp", "maximum", "true_div"])
def test_integer_inputs_get_a_zero_float_gradient(name):
    op = _instances()[name]
    ins = [ScalarType("int32")() for _ in range(_nin(op))]
    out = op(*ins)
    grads = op.L_op(ins, [out], [ScalarType(out.type.dtype if out.type.dtype.startswith("float") else
                                            "float64")()])
    for g in grads:
        assert g.type.dtype in ts.basic.continuous_dtypes
        assert g.owner is not None and isinstance(g.owner.inputs[0], ts.ScalarConstant)


# ------------------------------------------------------------------ dtype rules at scalar level

@pytest.mark.parametrize("op,dtypes,want", [
    (sm.add, ("int8", "float32"), "float32"),
    (sm.add, ("int32", "float32"), "float64"),
    (sm.true_div, ("int32", "int32"), "float64"),
    (sm.true_div, ("int8", "float32"), "float32"),
    (sm.exp, ("int8",), "float32"),
    (sm.exp, ("int64",), "float64"),
    (sm.lt, ("float32", "int8"), "bool"),
    (sm.sqr, ("int16",), "int16"),
    (sm.abs_, ("complex64",), "float32"),
    (sm.floor, ("int8",), "float32"),
    (sm.switch, ("bool", "int8", "float32"), "float32"),
    (sm.second, ("float64", "int8"), "int8"),
    (sm.and_, ("bool", "bool"), "bool"),
    (sm.int_div, ("int32", "int32"), "int32"),
])
def test_output_dtypes(op, dtypes, want):
    assert op(*[ScalarType(d)() for d in dtypes]).type.dtype == want


def test_true_div_of_integers_follows_floatx():
    with st.config.change_flags(floatX="float32"):
        assert sm.true_div(ScalarType("int64")(), ScalarType("int64")()).type.dtype == "float32"


@pytest.mark.parametrize("op,dtypes,match", [
    (sm.and_, ("float32", "int8"), "integer or boolean"),
    (sm.invert, ("float64",), "integer or boolean"),
    (sm.int_div, ("complex64", "float32"), "complex"),
    (sm.erf, ("complex128",), "complex"),
    (sm.round_half_to_even, ("int32",), "only accepts float"),
])
def test_bad_input_dtypes_raise(op, dtypes, match):
    with pytest.raises(TypeError, match=match):
        op(*[ScalarType(d)() for d in dtypes])


def test_wrong_number_of_inputs():
    with pytest.raises(TypeError, match="expected 1 inputs, got 2"):
        sm.exp(f64(), f64())


def test_small_int_inputs_computed_in_float32_not_float16():
    """NumPy would compute log(int8) in float16; the op casts to its float32 output first."""
    x = ScalarType("int8")()
    node = sm.log.make_node(x)
    (res,) = sm.log.compute(node, [np.asarray(3, "int8")])
    assert res.dtype == "float32"
    assert abs(float(res) - np.log(3.0)) < 1e-6


def test_pow_negative_integer_exponent():
    x, y = ScalarType("int32")(), ScalarType("int32")()
    node = sm.pow.make_node(x, y)
    (res,) = sm.pow.compute(node, [np.asarray(1, "int32"), np.asarray(-2, "int32")])
    assert res.dtype == "int32" and int(res) == 1


def test_nary_add_and_mul():
    a, b, c = f64(), f64(), f64()
    f = st.function([a, b, c], [sm.add(a, b, c), sm.mul(a, b, c)])
    s, p = f(1.0, 2.0, 3.0)
    assert float(s) == 6.0 and float(p) == 6.0
    ga = sm.mul.L_op([a, b, c], [sm.mul(a, b, c)], [f64()])
    assert len(ga) == 3


# ------------------------------------------------------------------ op identity and helpers

def test_op_properties():
    assert sm.add.commutative and sm.add.associative and sm.add.identity == 0
    assert sm.mul.identity == 1
    assert not sm.sub.commutative
    assert sm.add == ts.math.Add(name="add") and hash(sm.add) == hash(ts.math.Add(name="add"))
    assert sm.add != sm.mul
    assert ts.math.Cast("float32") == ts.math.Cast("float32")
    assert ts.math.Cast("float32") != ts.math.Cast("float64")
    assert str(sm.exp) == "exp"


def test_cast():
    x = ScalarType("float64")()
    assert ts.cast(x, "float64") is x
    y = ts.cast(x, "int8")
    assert y.type.dtype == "int8"
    node = y.owner
    (res,) = node.op.compute(node, [np.asarray(3.7)])
    assert res.dtype == "int8" and int(res) == 3


def test_scalar_operators_build_graphs():
    x, y = f64(), f64()
    f = st.function([x, y], [x + y, x - y, x * y, x / y, x ** y, -x, 2 - x, 1 / y])
    vals = [float(v) for v in f(2.0, 4.0)]
    assert vals == [6.0, -2.0, 8.0, 0.5, 16.0, -2.0, 0.0, 0.25]
    assert (x < y).type.dtype == "bool"


def test_scalar_type_filter_and_errors():
    t = ScalarType("int8")
    assert t.filter(3).dtype == "int8"
    with pytest.raises(TypeError, match="without loss"):
        t.filter(300)
    with pytest.raises(TypeError, match="scalar"):
        t.filter(np.ones(2))
    with pytest.raises(TypeError, match="dtype"):
        t.filter(np.float64(1.0), strict=True)
    with pytest.raises(TypeError, match="unsupported scalar dtype"):
        ScalarType("object")
    with pytest.raises(TypeError, match="scalar variable"):
        ts.as_scalar(st.tensor.dvector())


def test_constants_autocast():
    assert ts.constant(1).type.dtype == "int8"
    assert ts.constant(1.5).type.dtype == "float32"
    with st.config.change_flags(floatX="float64"):
        assert ts.constant(1.1).type.dtype == "float64"
    with st.config.change_flags(floatX="float32"):
        assert ts.constant(1.1).type.dtype == "float32"
