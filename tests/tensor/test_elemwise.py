"""Elemwise functions (one table row per function), Elemwise broadcasting and DimShuffle.

Each row of ``TABLE`` gives a tensor function, its NumPy reference, the input
domain where the function is smooth, the expected output dtype rule (Theano
1.0's) and whether its gradient is checked. Every test below runs over every
row, and ``test_every_scalar_op_has_a_row`` fails when a scalar op of
``symtensor.scalar.math`` is missing from the table.
"""

import inspect
from dataclasses import dataclass, field

import numpy as np
import pytest
import scipy.special as sps

import symtensor as st
import symtensor.scalar.math as sm
import symtensor.tensor as T
import symtensor.tensor.math as tmath
from helpers import check_infer_shape, check_numpy, noncontiguous, rand
from symtensor.scalar.basic import ScalarOp
from symtensor.tensor.elemwise import DimShuffle, Elemwise

# ------------------------------------------------------------------ dtype rules (Theano 1.0)

_SMALL_INTS = ("bool", "int8", "uint8", "int16", "uint16")


def upcast(dtypes):
    return np.result_type(*[np.dtype(d) for d in dtypes]).name


def upgrade(dtypes):
    """Theano's upgrade_to_float: small integers -> float32, larger ones -> float64."""
    d = upcast(dtypes)
    if np.dtype(d).kind in "biu":
        return "float32" if d in _SMALL_INTS else "float64"
    return d


def same(dtypes):
    return dtypes[0]


def true_div_rule(dtypes):
    """integer / integer -> floatX, otherwise the upcast."""
    if all(np.dtype(d).kind in "biu" for d in dtypes):
        return st.config.floatX
    return upcast(dtypes)


def boolean(dtypes):
    return "bool"


def switch_rule(dtypes):
    return upcast(dtypes[1:])


def second_rule(dtypes):
    return dtypes[1]


def fixed(dtype):
    return lambda dtypes: dtype


# ------------------------------------------------------------------ the table

FLOATS = ("float32", "float64")
INTS = ("int8", "int32")
NUMERIC = FLOATS + INTS
DISCRETE = ("bool", "int8", "int32", "uint8")


@dataclass
class Row:
    name: str
    fn: object                  # symbolic: tensors -> tensor
    ref: object                 # numpy: arrays -> array
    nin: int = 1
    domain: tuple = ((-2.0, 2.0),)      # float domain per input (smooth there)
    int_domain: tuple = ((-3, 3),)      # integer domain per input
    out: object = upgrade               # output dtype rule
    grad: str = "smooth"                # 'smooth', 'zero' (piecewise constant) or None
    dtypes: tuple = NUMERIC
    in_dtypes: object = None            # dtype -> the dtypes of each input (default: all the same)
    extra: dict = field(default_factory=dict)

    def __post_init__(self):
        if len(self.domain) == 1 and self.nin > 1:
            self.domain = self.domain * self.nin
        if len(self.int_domain) == 1 and self.nin > 1:
            self.int_domain = self.int_domain * self.nin

    def input_dtypes(self, dtype):
        return list(self.in_dtypes(dtype)) if self.in_dtypes else [dtype] * self.nin

    def __repr__(self):
        return self.name


def _round_away(x):
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


POS = ((0.2, 3.0),)
UNIT = ((-0.9, 0.9),)
B = "bool"

TABLE = [
    Row("add", T.add, np.add, 2, out=upcast),
    Row("add_3", lambda a, b, c: T.add(a, b, c), lambda a, b, c: a + b + c, 3, out=upcast),
    Row("sub", T.sub, np.subtract, 2, out=upcast),
    Row("mul", T.mul, np.multiply, 2, out=upcast),
    Row("mul_3", lambda a, b, c: T.mul(a, b, c), lambda a, b, c: a * b * c, 3, out=upcast),
    Row("true_div", T.true_div, np.true_divide, 2, domain=((-2, 2), (0.5, 2)), int_domain=((-3, 3), (1, 4)),
        out=true_div_rule),
    Row("int_div", T.int_div, np.floor_divide, 2, domain=((-2, 2), (0.3, 2)), int_domain=((-5, 5), (1, 4)),
        out=upcast, grad="zero"),
    Row("mod", T.mod, np.mod, 2, domain=((-2, 2), (0.3, 2)), int_domain=((-5, 5), (1, 4)), out=upcast),
    Row("pow", T.pow, np.power, 2, domain=((0.5, 2), (-2, 2)), int_domain=((1, 3), (0, 3)), out=upcast),
    Row("neg", T.neg, np.negative, out=same),
    Row("abs_", T.abs_, np.abs, out=same),
    Row("sgn", T.sgn, np.sign, out=same, grad="zero"),
    Row("sqr", T.sqr, np.square, out=same),
    Row("sqrt", T.sqrt, np.sqrt, domain=POS, int_domain=((0, 4),)),
    Row("exp", T.exp, np.exp),
    Row("exp2", T.exp2, np.exp2),
    Row("expm1", T.expm1, np.expm1),
    Row("log", T.log, np.log, domain=POS, int_domain=((1, 5),)),
    Row("log2", T.log2, np.log2, domain=POS, int_domain=((1, 5),)),
    Row("log10", T.log10, np.log10, domain=POS, int_domain=((1, 5),)),
    Row("log1p", T.log1p, np.log1p, domain=((-0.5, 3),), int_domain=((0, 5),)),
    Row("sin", T.sin, np.sin),
    Row("cos", T.cos, np.cos),
    Row("tan", T.tan, np.tan, domain=((-1.2, 1.2),), int_domain=((-1, 1),)),
    Row("arcsin", T.arcsin, np.arcsin, domain=UNIT, int_domain=((-1, 1),)),
    Row("arccos", T.arccos, np.arccos, domain=UNIT, int_domain=((-1, 1),)),
    Row("arctan", T.arctan, np.arctan),
    Row("sinh", T.sinh, np.sinh),
    Row("cosh", T.cosh, np.cosh),
    Row("tanh", T.tanh, np.tanh),
    Row("arcsinh", T.arcsinh, np.arcsinh),
    Row("arccosh", T.arccosh, np.arccosh, domain=((1.2, 3),), int_domain=((1, 4),)),
    Row("arctanh", T.arctanh, np.arctanh, domain=UNIT, int_domain=((0, 0),)),
    Row("arctan2", T.arctan2, np.arctan2, 2, domain=((-2, 2), (0.5, 2)), int_domain=((-3, 3), (1, 3))),
    Row("hypot", T.hypot, np.hypot, 2, domain=((0.5, 2), (-2, -0.5))),
    Row("erf", T.erf, sps.erf),
    Row("erfc", T.erfc, sps.erfc),
    Row("erfinv", T.erfinv, sps.erfinv, domain=UNIT, int_domain=((-1, 1),)),
    Row("erfcinv", T.erfcinv, sps.erfcinv, domain=((0.1, 1.9),), int_domain=((0, 2),)),
    Row("gammaln", T.gammaln, sps.gammaln, domain=POS, int_domain=((1, 5),)),
    Row("psi", T.psi, sps.digamma, domain=POS, int_domain=((1, 5),)),
    Row("tri_gamma", T.tri_gamma, lambda x: sps.polygamma(1, x), domain=POS, int_domain=((1, 5),),
        grad="undefined"),
    Row("gamma", T.gamma, sps.gamma, domain=((0.5, 3),), int_domain=((1, 5),)),
    Row("sigmoid", T.sigmoid, sps.expit, domain=((-4, 4),)),
    Row("softplus", T.softplus, lambda x: np.logaddexp(0, x), domain=((-4, 4),)),
    Row("floor", T.floor, np.floor, grad="zero"),
    Row("ceil", T.ceil, np.ceil, grad="zero"),
    Row("trunc", T.trunc, np.trunc, grad="zero"),
    Row("round_half_away_from_zero", T.round, _round_away, out=same, grad="zero", dtypes=FLOATS),
    Row("round_half_to_even", lambda x: T.round(x, mode="half_to_even"), np.round, out=same, grad="zero",
        dtypes=FLOATS),
    Row("maximum", T.maximum, np.maximum, 2, out=upcast),
    Row("minimum", T.minimum, np.minimum, 2, out=upcast),
    Row("lt", T.lt, np.less, 2, out=boolean, grad=None),
    Row("gt", T.gt, np.greater, 2, out=boolean, grad=None),
    Row("le", T.le, np.less_equal, 2, out=boolean, grad=None),
    Row("ge", T.ge, np.greater_equal, 2, out=boolean, grad=None),
    Row("eq", T.eq, np.equal, 2, out=boolean, grad=None),
    Row("neq", T.neq, np.not_equal, 2, out=boolean, grad=None),
    Row("isnan", T.isnan, np.isnan, out=boolean, grad=None),
    Row("isinf", T.isinf, np.isinf, out=boolean, grad=None),
    Row("and_", T.and_, np.bitwise_and, 2, out=upcast, grad=None, dtypes=DISCRETE),
    Row("or_", T.or_, np.bitwise_or, 2, out=upcast, grad=None, dtypes=DISCRETE),
    Row("xor", T.xor, np.bitwise_xor, 2, out=upcast, grad=None, dtypes=DISCRETE),
    Row("invert", T.invert, np.invert, out=same, grad=None, dtypes=DISCRETE),
    Row("switch", T.switch, np.where, 3, out=switch_rule, in_dtypes=lambda d: (B, d, d)),
    Row("switch_int_cond", T.switch, np.where, 3, out=switch_rule, in_dtypes=lambda d: ("int8", d, d),
        int_domain=((0, 1), (-3, 3), (-3, 3))),
    Row("clip", T.clip, np.clip, 3, domain=((-2, 2), (-1.5, -0.5), (0.5, 1.5)),
        int_domain=((-4, 4), (-2, -1), (1, 2)), out=upcast),
    Row("cast_float", lambda x: T.cast(x, "float32" if x.dtype == "float64" else "float64"),
        lambda x: x.astype("float32" if x.dtype == "float64" else "float64"),
        out=lambda ds: "float32" if ds[0] == "float64" else "float64",
        extra={"verify": {"eps": 1e-2}}),  # linear, float32 output: a large step is exact
    Row("cast_int", lambda x: T.cast(x, "int16"), lambda x: x.astype("int16"), out=fixed("int16"), grad="zero"),
    Row("second", T.second, lambda a, b: np.broadcast_to(b, np.broadcast(a, b).shape), 2, out=second_rule),
    Row("fill", T.fill, lambda a, b: np.broadcast_to(b, np.broadcast(a, b).shape), 2, out=second_rule),
    Row("identity", T.tensor_copy, lambda x: x.copy(), out=same),
    Row("real", T.real, np.real, out=lambda ds: {"complex64": "float32"}.get(ds[0], "float64"),
        dtypes=("complex64", "complex128"), grad=None),
    Row("imag", T.imag, np.imag, out=lambda ds: {"complex64": "float32"}.get(ds[0], "float64"),
        dtypes=("complex64", "complex128"), grad=None),
    Row("conj", T.conj, np.conj, out=same, dtypes=("complex64", "complex128"), grad=None),
]

ROWS = {r.name: r for r in TABLE}
GRAD_ROWS = [r for r in TABLE if r.grad in ("smooth", "zero")]


def make_values(rng, row, shapes, dtypes):
    values = []
    for k, (shape, dtype) in enumerate(zip(shapes, dtypes)):
        kind = np.dtype(dtype).kind
        if kind == "c":
            lo, hi = row.domain[k]
            v = rand(rng, shape, "float64", lo, hi) + 1j * rand(rng, shape, "float64", lo, hi)
            values.append(v.astype(dtype))
        elif kind in "iu":
            lo, hi = row.int_domain[k]
            if kind == "u":
                lo = max(lo, 0)
            values.append(rand(rng, shape, dtype, lo, max(hi, lo)))
        else:
            lo, hi = row.domain[k]
            values.append(rand(rng, shape, dtype, lo, hi))
    return values



def reference(row, values, out_dtype):
    """NumPy result in the output dtype; integer inputs of float functions become floats first."""
    if np.dtype(out_dtype).kind in "fc":
        values = [v.astype(out_dtype) if v.dtype.kind in "biu" else v for v in values]
    with np.errstate(all="ignore"):
        return np.asarray(row.ref(*values)).astype(out_dtype)


def scalar_op_of(out):
    assert isinstance(out.owner.op, Elemwise), out.owner.op
    return out.owner.op.scalar_op


# ------------------------------------------------------------------ coverage of the table

def _module_scalar_ops():
    return {name: obj for name, obj in vars(sm).items() if isinstance(obj, ScalarOp)}


def _public_scalar_op_classes():
    return {name: obj for name, obj in vars(sm).items()
            if inspect.isclass(obj) and issubclass(obj, ScalarOp) and not name.startswith("_")
            and obj.__module__ == sm.__name__}


def _row_scalar_ops():
    ops = []
    for row in TABLE:
        ins = [T.TensorType(d, (False, False))() for d in row.input_dtypes("float64" if row.dtypes is not DISCRETE
                                                                            else "int32")]
        if row.dtypes[0].startswith("complex"):
            ins = [T.TensorType("complex128", (False, False))()]
        ops.append(scalar_op_of(row.fn(*ins)))
    return ops


def test_every_scalar_op_has_a_row():
    covered = _row_scalar_ops()
    missing = [name for name, op in _module_scalar_ops().items() if op not in covered]
    assert not missing, f"scalar ops without a row in the elemwise table: {missing}"
    classes = {type(op) for op in covered}
    missing_cls = [name for name, cls in _public_scalar_op_classes().items() if cls not in classes]
    assert not missing_cls, f"scalar op classes without a row in the elemwise table: {missing_cls}"


def test_every_elemwise_function_has_a_row():
    covered = set(ROWS) | {"round"}
    missing = [name for name in tmath._ELEMWISE if name not in covered]
    assert not missing, f"elementwise functions of symtensor.tensor.math without a row: {missing}"


# ------------------------------------------------------------------ values and dtypes

def _cases(rows):
    return [pytest.param(r, d, id=f"{r.name}-{d}") for r in rows for d in r.dtypes]


@pytest.mark.parametrize("row,dtype", _cases(TABLE))
def test_values_and_dtype(rng, row, dtype):
    dtypes = row.input_dtypes(dtype)
    ins = [T.TensorType(d, (False, False))() for d in dtypes]
    out = row.fn(*ins)
    want_dtype = row.out(dtypes)
    assert out.dtype == want_dtype, f"{row.name}{tuple(dtypes)} -> {out.dtype}, Theano gives {want_dtype}"
    values = make_values(rng, row, [(3, 4)] * row.nin, dtypes)
    got = check_numpy(ins, out, lambda *v: reference(row, list(v), want_dtype), values)
    assert isinstance(got, np.ndarray) and got.dtype == want_dtype


MIXED = [("int8", "float32"), ("float32", "int8"), ("int32", "float32"), ("int16", "float64"),
         ("float32", "float64"), ("int8", "int32"), ("uint8", "int8")]


@pytest.mark.parametrize("row", [r for r in TABLE if r.nin == 2 and r.dtypes == NUMERIC], ids=repr)
@pytest.mark.parametrize("dtypes", MIXED, ids="-".join)
def test_mixed_dtypes(rng, row, dtypes):
    ins = [T.TensorType(d, (False,))() for d in dtypes]
    out = row.fn(*ins)
    want = row.out(list(dtypes))
    assert out.dtype == want
    values = make_values(rng, row, [(5,), (5,)], dtypes)
    check_numpy(ins, out, lambda *v: reference(row, list(v), want), values)


@pytest.mark.parametrize("row", TABLE, ids=repr)
def test_noncontiguous(rng, row):
    dtypes = row.input_dtypes(row.dtypes[-1])
    ins = [T.TensorType(d, (False, False))() for d in dtypes]
    out = row.fn(*ins)
    values = [noncontiguous(v) for v in make_values(rng, row, [(3, 4)] * row.nin, dtypes)]
    check_numpy(ins, out, lambda *v: reference(row, list(v), out.dtype), values)


# broadcast patterns: (broadcastable, shape) per input; the last ones pad ranks
PATTERNS = {
    "matrix-row": [((False, False), (3, 4)), ((True, False), (1, 4))],
    "col-row": [((False, True), (3, 1)), ((True, False), (1, 4))],
    "matrix-scalar": [((False, False), (3, 4)), ((), ())],
    "vector-matrix": [((False,), (4,)), ((False, False), (3, 4))],
    "scalar-tensor3": [((), ()), ((False, False, False), (2, 3, 4))],
}


@pytest.mark.parametrize("row", [r for r in TABLE if r.nin >= 2], ids=repr)
@pytest.mark.parametrize("pattern", list(PATTERNS))
def test_broadcasting(rng, row, pattern):
    spec = PATTERNS[pattern]
    spec = (spec + [spec[0]] * row.nin)[:row.nin]
    dtypes = row.input_dtypes(row.dtypes[0] if row.dtypes[0] != "bool" else "int8")
    ins = [T.TensorType(d, b)() for d, (b, _) in zip(dtypes, spec)]
    out = row.fn(*ins)
    assert out.ndim == max(len(b) for b, _ in spec)
    values = make_values(rng, row, [s for _, s in spec], dtypes)
    got = check_numpy(ins, out, lambda *v: reference(row, list(v), out.dtype), values)
    assert got.flags.writeable
    check_infer_shape(ins, out, values)


@pytest.mark.parametrize("row", TABLE, ids=repr)
def test_infer_shape(rng, row):
    dtypes = row.input_dtypes(row.dtypes[-1])
    ins = [T.TensorType(d, (False, False, False))() for d in dtypes]
    out = row.fn(*ins)
    check_infer_shape(ins, out, make_values(rng, row, [(2, 3, 4)] * row.nin, dtypes))


# ------------------------------------------------------------------ gradients

def _float_inputs(row):
    return [k for k, d in enumerate(row.input_dtypes("float64")) if np.dtype(d).kind == "f"]


@pytest.mark.parametrize("row", GRAD_ROWS, ids=repr)
def test_verify_grad(rng, row):
    dtypes = row.input_dtypes("float64")
    values = make_values(rng, row, [(3, 4)] * row.nin, dtypes)
    floats = _float_inputs(row)

    def fn(*xs):
        args = list(values_as_constants)
        for k, x in zip(floats, xs):
            args[k] = x
        return row.fn(*args)

    values_as_constants = [T.constant(v) for v in values]
    st.verify_grad(fn, [values[k] for k in floats], rng=rng, **row.extra.get("verify", {}))


@pytest.mark.parametrize("row", [r for r in GRAD_ROWS if r.nin >= 2], ids=repr)
def test_verify_grad_broadcast(rng, row):
    """The gradient of a broadcast input is summed back to its shape (row, then a scalar)."""
    dtypes = row.input_dtypes("float64")
    floats = _float_inputs(row)
    full = make_values(rng, row, [(3, 4)] * row.nin, dtypes)
    rowvals = make_values(rng, row, [(4,)] * row.nin, dtypes)
    scal = make_values(rng, row, [()] * row.nin, dtypes)
    last = floats[-1]
    for small, lift in ((rowvals, lambda v: v.dimshuffle("x", 0)), (scal, lambda v: v)):
        pt = [full[k] for k in floats[:-1]] + [small[last]]

        def fn(*xs):
            args = [T.constant(v) for v in full]
            for k, x in zip(floats[:-1], xs[:-1]):
                args[k] = x
            args[last] = lift(xs[-1])
            return row.fn(*args)

        st.verify_grad(fn, pt, rng=rng)


@pytest.mark.parametrize("row", [r for r in TABLE if r.grad is None and "float64" in r.dtypes], ids=repr)
def test_non_differentiable_gradient_is_zero(rng, row):
    dtypes = row.input_dtypes("float64")
    ins = [T.TensorType(d, (False,))() for d in dtypes]
    cost = T.cast(row.fn(*ins), "float64").sum()
    wrt = [ins[k] for k in _float_inputs(row)]
    grads = st.grad(cost, wrt)
    values = make_values(rng, row, [(4,)] * row.nin, dtypes)
    for g in st.function(ins, grads, on_unused_input="ignore")(*values):
        np.testing.assert_array_equal(g, np.zeros(4))


@pytest.mark.parametrize("row", [r for r in TABLE if r.grad == "undefined"], ids=repr)
def test_undefined_gradient_raises(row):
    ins = [T.dvector() for _ in range(row.nin)]
    with pytest.raises(st.gradient.NullTypeGradError, match=f"{row.name}.*undefined"):
        st.grad(row.fn(*ins).sum(), ins[0])


@pytest.mark.parametrize("row", [r for r in GRAD_ROWS if set(r.dtypes) & set(INTS)], ids=repr)
def test_gradient_wrt_integer_input_is_zero_floatx(rng, row):
    """Integer inputs get a zero gradient of floatX (Theano)."""
    dtypes = row.input_dtypes("int32")
    ins = [T.TensorType(d, (False,))() for d in dtypes]
    cost = T.cast(row.fn(*ins), "float64").sum()
    grads = st.grad(cost, ins)
    values = make_values(rng, row, [(4,)] * row.nin, dtypes)
    for g in st.function(ins, grads, on_unused_input="ignore")(*values):
        assert g.dtype == st.config.floatX
        np.testing.assert_array_equal(g, np.zeros(4))


# ------------------------------------------------------------------ Theano dtype examples

@pytest.mark.parametrize("expr,dtype", [
    (lambda: T.bvector() + T.fvector(), "float32"),
    (lambda: T.ivector() / T.ivector(), "float64"),
    (lambda: T.bvector() / T.bvector(), "float64"),
    (lambda: T.bvector() / T.fvector(), "float32"),
    (lambda: T.ivector() / T.fvector(), "float64"),
    (lambda: T.exp(T.bvector()), "float32"),
    (lambda: T.exp(T.ivector()), "float64"),
    (lambda: T.exp(T.lvector()), "float64"),
    (lambda: T.ivector() + T.fvector(), "float64"),
    (lambda: T.ivector() // T.ivector(), "int32"),
    (lambda: T.ivector() < T.fvector(), "bool"),
    (lambda: T.eq(T.dmatrix(), T.dmatrix()), "bool"),
    (lambda: T.floor(T.bvector()), "float32"),
    (lambda: T.sqr(T.bvector()), "int8"),
    (lambda: T.switch(T.ivector(), T.bvector(), T.fvector()), "float32"),
    (lambda: T.ivector() & T.bvector(), "int32"),
])
def test_theano_output_dtypes(expr, dtype):
    assert expr().dtype == dtype


def test_bitwise_ops_reject_floats():
    with pytest.raises(TypeError, match="integer or boolean"):
        T.and_(T.fvector(), T.ivector())
    with pytest.raises(TypeError, match="integer or boolean"):
        T.invert(T.dvector())


def test_integer_division_with_slash_gives_floatx():
    with st.config.change_flags(floatX="float32"):
        assert (T.ivector() / T.ivector()).dtype == "float32"
        assert (T.lvector() / 2).dtype == "float32"
    x, y = T.ivector(), T.ivector()
    got = st.function([x, y], x / y)(np.array([1, 7], "int32"), np.array([2, 2], "int32"))
    np.testing.assert_array_equal(got, [0.5, 3.5])


@pytest.mark.parametrize("mode", ["half_away_from_zero", "half_to_even"])
def test_round_rejects_integers(mode):
    """Theano's rounding ops accept floats only."""
    with pytest.raises(TypeError, match="only accepts float"):
        T.round(T.ivector(), mode=mode)


def test_abs_of_complex_is_real():
    assert T.abs_(T.cvector()).dtype == "float32"
    assert T.abs_(T.zvector()).dtype == "float64"
    z = T.zvector()
    np.testing.assert_allclose(st.function([z], abs(z))(np.array([3 + 4j, -1j])), [5.0, 1.0])


def test_round_ties():
    x = T.dvector()
    v = np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 0.4, -0.6])
    away = st.function([x], T.round(x))(v)
    even = st.function([x], T.round(x, mode="half_to_even"))(v)
    np.testing.assert_array_equal(away, [-3, -2, -1, 1, 2, 3, 0, -1])
    np.testing.assert_array_equal(even, [-2, -2, -0, 0, 2, 2, 0, -1])
    with pytest.raises(ValueError, match="mode"):
        T.round(x, mode="up")


def test_isnan_isinf_values():
    x = T.dvector()
    v = np.array([0.0, np.nan, np.inf, -np.inf, 1.0])
    f = st.function([x], [T.isnan(x), T.isinf(x)])
    nan, inf = f(v)
    np.testing.assert_array_equal(nan, [False, True, False, False, False])
    np.testing.assert_array_equal(inf, [False, False, True, True, False])
    assert nan.dtype == bool and inf.dtype == bool


def test_softplus_large_inputs_are_stable():
    x = T.dvector()
    v = np.array([-800.0, -30.0, 0.0, 30.0, 800.0])
    got = st.function([x], T.softplus(x))(v)
    np.testing.assert_allclose(got, np.logaddexp(0, v), rtol=1e-12)


def test_integer_pow_negative_exponent():
    """An integer base with a negative integer exponent follows float semantics cast back."""
    x, y = T.ivector(), T.ivector()
    got = st.function([x, y], x ** y)(np.array([1, 2, 4], "int32"), np.array([-1, 2, 0], "int32"))
    np.testing.assert_array_equal(got, [1, 4, 1])
    assert got.dtype == "int32"


# ------------------------------------------------------------------ Elemwise mechanics

def test_runtime_broadcast_mismatch_raises():
    x, y = T.dmatrix(), T.dmatrix()
    f = st.function([x, y], x + y)
    with pytest.raises(ValueError, match=r"dimension mismatch on axis 0.*\(1, 4\)"):
        f(np.ones((5, 4)), np.ones((1, 4)))
    with pytest.raises(ValueError, match="broadcastable"):
        f(np.ones((1, 4)), np.ones((5, 4)))
    with pytest.raises(ValueError, match="mismatch on axis 1"):
        f(np.ones((2, 3)), np.ones((2, 4)))


def test_broadcastable_axis_broadcasts_at_runtime():
    x, r = T.dmatrix(), T.drow()
    got = st.function([x, r], x + r)(np.ones((5, 4)), np.arange(4.0)[None])
    np.testing.assert_array_equal(got, np.ones((5, 4)) + np.arange(4.0))


def test_static_shape_mismatch_raises_at_build_time():
    a = T.tensor(dtype="float64", shape=(3, 4))
    b = T.tensor(dtype="float64", shape=(5, 4))
    with pytest.raises(ValueError, match="incompatible static lengths"):
        a + b


def test_output_static_shape_and_broadcastable():
    a = T.tensor(dtype="float64", shape=(3, None))
    r = T.drow()
    out = a * r
    assert out.type.shape == (3, None)
    assert (T.drow() + T.dcol()).broadcastable == (False, False)
    assert (T.drow() + T.drow()).broadcastable == (True, False)
    assert (T.dvector() + T.dmatrix()).broadcastable == (False, False)
    assert (T.dscalar() + T.dmatrix()).ndim == 2


def test_outputs_never_alias_inputs():
    x = T.dvector()
    s = T.dscalar()
    f = st.function([x, s], [T.tensor_copy(x), T.second(x, s), x * 1])
    v = np.arange(3.0)
    out = f(v, np.float64(2.0))
    for o in out:
        assert not np.may_share_memory(o, v)
        assert o.flags.writeable
    np.testing.assert_array_equal(out[1], [2.0, 2.0, 2.0])


def test_elemwise_props_equality():
    assert Elemwise(sm.add) == Elemwise(sm.add)
    assert hash(Elemwise(sm.add)) == hash(Elemwise(sm.add))
    assert Elemwise(sm.add) != Elemwise(sm.mul)
    assert Elemwise(sm.add) != Elemwise(sm.add, {0: 0})
    a, b = T.dvector(), T.dvector()
    assert (a + b).owner.op == T.add(a, b).owner.op


def test_elemwise_rejects_non_tensors():
    with pytest.raises(TypeError, match="cannot convert"):
        T.add(T.dvector(), object())


def test_elemwise_wrong_number_of_inputs():
    with pytest.raises(TypeError, match="expected 1 inputs"):
        Elemwise(sm.exp)(T.dvector(), T.dvector())


# ------------------------------------------------------------------ Python constants autocast

@pytest.mark.parametrize("floatX,expr,dtype", [
    ("float64", lambda: T.fvector() * 2, "float32"),
    ("float64", lambda: T.fvector() * 1.5, "float32"),
    ("float64", lambda: T.fvector() * 1.1, "float64"),
    ("float32", lambda: T.fvector() * 1.1, "float32"),
    ("float32", lambda: T.fvector() * 2, "float32"),
    ("float64", lambda: T.ivector() + 1, "int32"),
    ("float64", lambda: T.bvector() + 1, "int8"),
    ("float64", lambda: T.bvector() + 300, "int16"),
    ("float64", lambda: T.ivector() + 1.5, "float64"),
    ("float64", lambda: T.bvector() * 1.5, "float32"),
    ("float32", lambda: T.ivector() * 1.5, "float64"),
    ("float64", lambda: 2 ** T.fvector(), "float32"),
    ("float64", lambda: T.dvector() * 1.5, "float64"),
])
def test_python_number_autocast(floatX, expr, dtype):
    with st.config.change_flags(floatX=floatX):
        assert expr().dtype == dtype


def test_autocast_value_is_kept():
    x = T.fvector()
    with st.config.change_flags(floatX="float64"):
        f = st.function([x], x * 1.1)
    got = f(np.ones(2, "float32"))
    assert got.dtype == "float64"
    np.testing.assert_allclose(got, [1.1, 1.1], rtol=1e-15)


# ------------------------------------------------------------------ DimShuffle

@pytest.mark.parametrize("bcast,pattern,shape", [
    ((False, False), (1, 0), (2, 3)),
    ((False, False), ("x", 0, "x", 1), (2, 3)),
    ((False, True, False), (2, 0), (2, 1, 3)),
    ((True,), (), (1,)),
    ((), ("x", "x"), ()),
    ((False, False, False), (2, "x", 0, 1), (2, 3, 4)),
    ((True, False), (1,), (1, 3)),
])
def test_dimshuffle_values_grad_shape(rng, bcast, pattern, shape):
    x = T.TensorType("float64", bcast)()
    out = x.dimshuffle(*pattern)
    assert out.ndim == len(pattern)
    assert out.broadcastable == tuple(True if p == "x" else bcast[p] for p in pattern)
    v = rand(rng, shape)
    keep = [p for p in pattern if p != "x"]
    dropped = [i for i in range(len(shape)) if i not in keep]

    def ref(a):
        r = np.transpose(a, keep + dropped).reshape([a.shape[p] for p in keep])
        return r.reshape([1 if p == "x" else a.shape[p] for p in pattern])

    check_numpy([x], out, ref, [v])
    if v.ndim:
        check_numpy([x], out, ref, [noncontiguous(v)])
    check_infer_shape([x], out, [v])

    def fn(a):
        return T.patternbroadcast(a, bcast).dimshuffle(*pattern)

    st.verify_grad(fn, [v], rng=rng)


def test_dimshuffle_is_a_view_and_transpose_alias():
    x = T.dmatrix()
    assert DimShuffle((False, False), (1, 0)).view_map == {0: [0]}
    v = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(st.function([x], x.T)(v), v.T)
    np.testing.assert_array_equal(st.function([x], x.transpose(1, 0))(v), v.T)


@pytest.mark.parametrize("bcast,pattern,match", [
    ((False, False), (0, 2), "does not exist"),
    ((False, False), (0, 0), "twice"),
    ((False, False), (0,), "not broadcastable"),
    ((False, False), (-1, 0), "negative"),
])
def test_dimshuffle_errors(bcast, pattern, match):
    x = T.TensorType("float64", bcast)()
    with pytest.raises(ValueError, match=match):
        x.dimshuffle(*pattern)


def test_dimshuffle_wrong_input_rank():
    op = DimShuffle((False, False), (1, 0))
    with pytest.raises(TypeError, match="2-d input"):
        op(T.dvector())


def test_dimshuffle_dropping_length_one_axis_checks_at_runtime():
    x = T.TensorType("float64", (True, False))()
    f = st.function([x], x.dimshuffle(1))
    np.testing.assert_array_equal(f(np.ones((1, 3))), np.ones(3))
    with pytest.raises(Exception, match="broadcastable|length|shape"):
        f(np.ones((2, 3)))


def test_dimshuffle_props():
    assert DimShuffle((False, False), (1, 0)) == DimShuffle((False, False), (1, 0))
    assert DimShuffle((False, False), (1, 0)) != DimShuffle((False, False), (0, 1))
    assert str(DimShuffle((False, False), (1, "x", 0))) == "DimShuffle{1,x,0}"
