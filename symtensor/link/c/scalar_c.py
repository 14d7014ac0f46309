"""C expressions for the scalar ops, owned by the C backend (core ops know nothing of C).

``c_expression(node, args)`` returns a C expression computing the scalar
node's output from the C expressions ``args`` of its inputs, in the node's
output dtype, or None when the op has no C form (the linker then runs the
whole Elemwise in Python).
"""

import numpy as np

from symtensor import scalar as ts
from symtensor.scalar.composite import Composite

C_TYPES = {
    "bool": "npy_bool", "int8": "npy_int8", "int16": "npy_int16", "int32": "npy_int32", "int64": "npy_int64",
    "uint8": "npy_uint8", "uint16": "npy_uint16", "uint32": "npy_uint32", "uint64": "npy_uint64",
    "float32": "npy_float32", "float64": "npy_float64",
}

NPY_TYPENUMS = {
    "bool": "NPY_BOOL", "int8": "NPY_INT8", "int16": "NPY_INT16", "int32": "NPY_INT32", "int64": "NPY_INT64",
    "uint8": "NPY_UINT8", "uint16": "NPY_UINT16", "uint32": "NPY_UINT32", "uint64": "NPY_UINT64",
    "float32": "NPY_FLOAT32", "float64": "NPY_FLOAT64",
}


def c_type(dtype):
    return C_TYPES[dtype]


# unary float functions: scalar op class -> C function of a double (float32 outputs are cast back)
_FLOAT_FUNCS = {
    ts.Exp: "exp", ts.Exp2: "exp2", ts.Expm1: "expm1", ts.Log: "log", ts.Log2: "log2", ts.Log10: "log10",
    ts.Log1p: "log1p", ts.Sqrt: "sqrt", ts.Sin: "sin", ts.Cos: "cos", ts.Tan: "tan", ts.ArcSin: "asin",
    ts.ArcCos: "acos", ts.ArcTan: "atan", ts.Sinh: "sinh", ts.Cosh: "cosh", ts.Tanh: "tanh",
    ts.ArcSinh: "asinh", ts.ArcCosh: "acosh", ts.ArcTanh: "atanh", ts.Erf: "erf", ts.Erfc: "erfc",
    ts.Erfinv: "st_erfinv", ts.Erfcinv: "st_erfcinv", ts.GammaLn: "lgamma", ts.Gamma: "tgamma",
    ts.Psi: "st_psi", ts.Sigmoid: "st_sigmoid", ts.Softplus: "st_softplus", ts.Floor: "floor",
    ts.Ceil: "ceil", ts.Trunc: "trunc", ts.RoundHalfToEven: "rint", ts.RoundHalfAwayFromZero: "round",
}

# float32 outputs: inline functions from st_math.h (or libm's single-precision ones) that vectorize
_SINGLE_FUNCS = {
    ts.Exp: "st_expf", ts.Log: "st_logf", ts.Tanh: "st_tanhf", ts.Sigmoid: "st_sigmoidf",
    ts.Softplus: "st_softplusf", ts.Log1p: "st_log1pf", ts.Sqrt: "sqrtf", ts.Floor: "floorf", ts.Ceil: "ceilf",
    ts.Trunc: "truncf", ts.RoundHalfToEven: "rintf",
}

_COMPARE = {ts.LT: "<", ts.GT: ">", ts.LE: "<=", ts.GE: ">=", ts.EQ: "==", ts.NEQ: "!="}


def _is_float(dtype):
    return dtype in ("float32", "float64")


def c_expression(node, args):
    """C expression for one scalar node (None: no C form)."""
    op = node.op
    out = node.outputs[0].type.dtype
    ins = [i.type.dtype for i in node.inputs]
    if out not in C_TYPES or any(d not in C_TYPES for d in ins):
        return None
    T = c_type(out)
    cast = [f"(({T})({a}))" for a in args]
    if isinstance(op, ts.Add):
        return "(" + " + ".join(cast) + ")" if out != "bool" else "(" + " || ".join(args) + ")"
    if isinstance(op, ts.Mul):
        return "(" + " * ".join(cast) + ")" if out != "bool" else "(" + " && ".join(args) + ")"
    if isinstance(op, ts.Sub):
        return f"({cast[0]} - {cast[1]})"
    if isinstance(op, ts.TrueDiv):
        return f"({cast[0]} / {cast[1]})"
    if isinstance(op, ts.IntDiv):
        if _is_float(out):
            return f"(({T})floor((double){args[0]} / (double){args[1]}))"
        return f"(({T})st_floordiv_i64((int64_t)({args[0]}), (int64_t)({args[1]})))"
    if isinstance(op, ts.Mod):
        if _is_float(out):
            return f"(({T})st_mod_f64((double){args[0]}, (double){args[1]}))"
        return f"(({T})st_mod_i64((int64_t)({args[0]}), (int64_t)({args[1]})))"
    if isinstance(op, ts.Pow):
        if _is_float(out):
            return f"(({T})pow((double){args[0]}, (double){args[1]}))"
        return f"(({T})st_pow_i64((int64_t)({args[0]}), (int64_t)({args[1]})))"
    if isinstance(op, ts.Neg):
        return f"(-{cast[0]})"
    if isinstance(op, ts.Abs):
        return f"(({T})fabs{'f' if out == 'float32' else ''}({args[0]}))" if _is_float(out) else f"(({T})(({args[0]}) < 0 ? -({args[0]}) : ({args[0]})))"
    if isinstance(op, ts.Sgn):
        return f"(({T})st_sgn((double){args[0]}))"
    if isinstance(op, ts.Sqr):
        return f"({cast[0]} * {cast[0]})"
    if type(op) in _FLOAT_FUNCS:
        if not _is_float(out):
            return None
        if out == "float32" and type(op) in _SINGLE_FUNCS:  # vectorizable single-precision forms
            return f"{_SINGLE_FUNCS[type(op)]}((npy_float32)({args[0]}))"
        return f"(({T}){_FLOAT_FUNCS[type(op)]}((double){args[0]}))"
    if isinstance(op, ts.ArcTan2):
        return f"(({T})atan2((double){args[0]}, (double){args[1]}))"
    if isinstance(op, ts.Hypot):
        return f"(({T})hypot((double){args[0]}, (double){args[1]}))"
    if isinstance(op, (ts.Maximum, ts.Minimum)):
        if _is_float(out):
            fn = "st_max_f" if isinstance(op, ts.Maximum) else "st_min_f"
            return f"(({T}){fn}((double){args[0]}, (double){args[1]}))"
        sign = ">" if isinstance(op, ts.Maximum) else "<"
        return f"({cast[0]} {sign}= {cast[1]} ? {cast[0]} : {cast[1]})"
    if type(op) in _COMPARE:
        common = c_type(ts.upcast(*ins))
        return f"((({common})({args[0]})) {_COMPARE[type(op)]} (({common})({args[1]})))"
    if isinstance(op, ts.IsInf):  # before IsNan: IsInf subclasses it
        return f"(isinf((double){args[0]}) != 0)" if _is_float(ins[0]) else "0"
    if isinstance(op, ts.IsNan):
        return f"(isnan((double){args[0]}) != 0)" if _is_float(ins[0]) else "0"
    if isinstance(op, (ts.AND, ts.OR, ts.XOR)):
        sym = {ts.AND: "&", ts.OR: "|", ts.XOR: "^"}[type(op)]
        return "(" + f" {sym} ".join(cast) + ")"
    if isinstance(op, ts.Invert):
        return f"(!({args[0]}))" if out == "bool" else f"(~{cast[0]})"
    if isinstance(op, ts.Switch):
        return f"(({args[0]}) ? {cast[1]} : {cast[2]})"
    if isinstance(op, ts.Clip):
        lo = f"(({cast[0]}) < ({cast[1]}) ? ({cast[1]}) : ({cast[0]}))"
        return f"({lo} > ({cast[2]}) ? ({cast[2]}) : {lo})"
    if isinstance(op, ts.Identity):
        return cast[0]
    if isinstance(op, ts.Second):
        return cast[1]
    if isinstance(op, ts.Cast):
        if out == "bool":
            return f"(({args[0]}) != 0)"
        return cast[0]
    return None


def composite_statements(composite, in_names, out_names, tmp_prefix="t"):
    """C statements evaluating a Composite's inner graph; None if some inner op has no C form."""
    names = dict(zip(composite.inputs, in_names))
    lines = []
    for k, node in enumerate(composite.nodes):
        args = []
        for i in node.inputs:
            if i in names:
                args.append(names[i])
            else:
                args.append(constant_literal(i.data, i.type.dtype))
        expr = c_expression(node, args)
        if expr is None:
            return None
        var = f"{tmp_prefix}{k}"
        lines.append(f"const {c_type(node.outputs[0].type.dtype)} {var} = {expr};")
        names[node.outputs[0]] = var
    for out, name in zip(composite.outputs, out_names):
        value = names[out] if out in names else constant_literal(out.data, out.type.dtype)
        lines.append(f"{name} = {value};")
    return lines


def constant_literal(value, dtype):
    value = np.asarray(value).reshape(())
    if dtype == "bool":
        return "1" if bool(value) else "0"
    if dtype.startswith(("int", "uint")):
        return f"(({c_type(dtype)}){int(value)}LL)"
    v = float(value)
    if np.isnan(v):
        return "((npy_float64)NAN)"
    if np.isinf(v):
        return "((npy_float64)INFINITY)" if v > 0 else "((npy_float64)-INFINITY)"
    return f"(({c_type(dtype)}){v!r})"


def scalar_op_has_c(scalar_op, node):
    if isinstance(scalar_op, Composite):
        return composite_statements(scalar_op, [f"x{i}" for i in range(scalar_op.nin)],
                                    [f"y{i}" for i in range(scalar_op.nout)]) is not None
    return c_expression(node, [f"x{i}" for i in range(len(node.inputs))]) is not None
