"""Algebra: canonical forms (canonicalize) and cheaper equivalents (specialize).

Canonical form, so that later rewrites need to recognise one shape only:
add and mul are flat n-ary nodes holding at most one constant (placed first);
subtraction is addition of a negation (``x - y -> x + (-y)``); division stays
``true_div`` with the factors common to numerator and denominator cancelled;
``x**2``, ``x**0.5``, ``x**-1`` are ``sqr``, ``sqrt``, ``1/x``.
Specialize then picks cheap ops: ``x + (-y) -> x - y``, ``(-1) * x -> -x``,
``x / c -> x * (1/c)`` and small powers as sqr/sqrt/mul chains.

Every rewrite keeps the replaced variable's type exactly (``keep_type``).
"""

import functools

import numpy as np

import symtensor.tensor.basic as tb
from symtensor import scalar as ts
from symtensor.graph.basic import Constant
from symtensor.graph.rewriting.basic import node_rewriter
from symtensor.graph.rewriting.pattern import PatternNodeRewriter
from symtensor.tensor.elemwise import CAReduce, DimShuffle, Elemwise
from symtensor.tensor.rewriting.basic import MAX_FOLDED_SIZE, same_type_or_none
from symtensor.tensor.rewriting.pipeline import register

# Elemwise ops used in patterns and replacements (equal by props to the ones users build)
add, mul, sub, neg, true_div = (Elemwise(op) for op in (ts.add, ts.mul, ts.sub, ts.neg, ts.true_div))
pow_, sqr, sqrt, exp, log = (Elemwise(op) for op in (ts.pow, ts.sqr, ts.sqrt, ts.exp, ts.log))

#: largest |integer exponent| that specialize turns into a chain of sqr/mul
MAX_POW_CHAIN = 16


# ------------------------------------------------------------------ helpers

def elemwise_node(var, scalar_cls):
    """The Elemwise node (not in place) computing ``var`` with a ``scalar_cls`` scalar op, or None."""
    node = var.owner
    if (node is not None and isinstance(node.op, Elemwise) and isinstance(node.op.scalar_op, scalar_cls)
            and not node.op.destroy_map and len(node.outputs) == 1):
        return node
    return None


def constant_data(var):
    """The value of a constant, also through a dimshuffle of a constant (not yet folded), else None."""
    if isinstance(var, Constant):
        return np.asarray(var.data)
    node = var.owner
    if node is not None and isinstance(node.op, DimShuffle) and isinstance(node.inputs[0], Constant):
        storage = [[None]]
        node.op.perform(node, [np.asarray(node.inputs[0].data)], storage)
        return np.asarray(storage[0][0])
    return None


def scalar_constant(var):
    """The single value every element of a constant holds, else None."""
    data = constant_data(var)
    if data is None or data.size == 0 or data.dtype.kind not in "biufc":
        return None
    first = data.flat[0]
    return first if bool(np.all(data == first)) else None


def is_float(var):
    return var.dtype in ts.float_dtypes


def single_client(fgraph, var):
    """Only one node uses ``var`` (so rewriting that node does not compute var twice)."""
    return len(fgraph.clients.get(var, ())) == 1 and var not in fgraph.outputs


def negate(var):
    """-var, without stacking negations (used to build replacements that stay simple)."""
    node = elemwise_node(var, ts.Neg)
    return node.inputs[0] if node is not None else neg(var)


def keep_type(new, old, sources=(), cast=True):
    """``new`` given exactly ``old``'s type, or None when that cannot be done safely.

    ``cast`` allows a dtype cast; ``sources`` are variables whose shape ``old``
    had: ``new`` is ``fill``-ed with them where it is broadcastable and old is
    not (dropping ``x`` from ``x * y / x`` must not drop x's shape). A length-1
    axis never replaces an axis of unknown length.
    """
    new = tb.as_tensor_variable(new)
    if new.ndim > old.ndim:
        return None
    if new.ndim < old.ndim:
        new = tb.shape_padleft(new, old.ndim - new.ndim)
    if new.dtype != old.dtype:
        if not cast:
            return None
        new = tb.cast(new, old.dtype)
    for src in sources:
        if src.ndim != old.ndim:
            continue
        if any(nb and not sb and not ob
               for nb, sb, ob in zip(new.broadcastable, src.broadcastable, old.broadcastable)):
            new = tb.fill(src, new)
    if any(nb and not ob for nb, ob in zip(new.broadcastable, old.broadcastable)):
        return None
    return same_type_or_none(new, old)


def pattern(in_pattern, out_pattern, name, cast=False):
    """A PatternNodeRewriter whose result must keep the replaced variable's type."""
    return PatternNodeRewriter(in_pattern, out_pattern, name=name,
                               convert=lambda new, old: keep_type(new, old, cast=cast))


def _nary(op, inputs):
    return inputs[0] if len(inputs) == 1 else op(*inputs)


def _const(value, dtype, ndim=0):
    """A constant of ``dtype``; a scalar value gets ``ndim`` broadcastable axes (no dimshuffle to fold later)."""
    value = np.asarray(value, dtype=dtype)
    if value.ndim == 0 and ndim:
        value = value.reshape((1,) * ndim)
    return tb.constant(value)


# ----------------------------------------------------------- canonicalize

@register("canonicalize", "fast_run")
@node_rewriter([Elemwise])
def flatten_add_mul(fgraph, node):
    """(a + b) + c -> add(a, b, c) and (a * b) * c -> mul(a, b, c), so constants meet."""
    op = node.op.scalar_op
    if not isinstance(op, (ts.Add, ts.Mul)) or node.op.destroy_map:
        return None
    out = node.outputs[0]
    inputs, changed = [], False
    for inp in node.inputs:
        inner = elemwise_node(inp, type(op))
        if inner is not None and inner.op.scalar_op == op and inp.dtype == out.dtype \
                and single_client(fgraph, inp):
            inputs.extend(inner.inputs)
            changed = True
        else:
            inputs.append(inp)
    if not changed:
        return None
    new = keep_type(Elemwise(op)(*inputs), out, cast=False)
    return None if new is None else [new]


@register("canonicalize", "fast_run")
@node_rewriter([Elemwise])
def collect_constants(fgraph, node):
    """x * 2 * 3 -> 6 * x, x + 1 + 2 -> 3 + x: the constants of an add/mul become one, placed first."""
    op = node.op.scalar_op
    if not isinstance(op, (ts.Add, ts.Mul)) or node.op.destroy_map:
        return None
    out = node.outputs[0]
    datas = [(i, constant_data(i)) for i in node.inputs]
    consts = [d for _i, d in datas if d is not None]
    if len(consts) < 2:
        return None
    ufunc = np.add if isinstance(op, ts.Add) else np.multiply
    with np.errstate(all="ignore"):
        combined = functools.reduce(ufunc, [c.astype(out.dtype) for c in consts])
    if combined.size > MAX_FOLDED_SIZE:
        return None
    rest = [i for i, d in datas if d is None]
    const = _const(combined, out.dtype)
    new = Elemwise(op)(const, *rest) if rest else const
    new = keep_type(new, out, sources=node.inputs, cast=False)
    return None if new is None else [new]


def _not_bool(var):
    return var.dtype != "bool"


register("canonicalize", "fast_run", name="sub_to_add")(pattern(
    (sub, {"pattern": "x", "constraint": _not_bool}, {"pattern": "y", "constraint": _not_bool}),
    (add, "x", (neg, "y")), "sub_to_add"))


for _phase in ("canonicalize", "specialize"):  # specialize's own rewrites can stack negations again
    register(_phase, "fast_run", name=f"double_neg_{_phase}")(pattern((neg, (neg, "x")), "x", "double_neg"))


def _factors(var, scalar_cls):
    node = elemwise_node(var, scalar_cls)
    return list(node.inputs) if node is not None else [var]


def _remove_common(left, right):
    """Drop the variables found (by identity) in both lists, once per match; returns what was dropped."""
    dropped = []
    for v in list(left):
        for k, w in enumerate(right):
            if w is v:
                left.remove(v)
                del right[k]
                dropped.append(v)
                break
    return dropped


@register("canonicalize", "fast_run")
@node_rewriter([Elemwise])
def cancel_add_neg(fgraph, node):
    """x + y + (-x) -> y and x - x -> 0 (nan for infinite x; accepted as in Theano)."""
    if not isinstance(node.op.scalar_op, ts.Add):
        return None
    out = node.outputs[0]
    pos = [i for i in node.inputs if elemwise_node(i, ts.Neg) is None]
    negs = [i.owner.inputs[0] for i in node.inputs if elemwise_node(i, ts.Neg) is not None]
    dropped = _remove_common(pos, negs)
    if not dropped:
        return None
    terms = pos + [neg(n) for n in negs]
    terms = [tb.cast(t, out.dtype) for t in terms]
    new = _nary(add, terms) if terms else _const(0, out.dtype, out.ndim)
    new = keep_type(new, out, sources=dropped + terms)
    return None if new is None else [new]


@register("canonicalize", "fast_run")
@node_rewriter([Elemwise])
def cancel_div(fgraph, node):
    """x * y / x -> y, x / (x * y) -> 1 / y, x / x -> 1 (nan at 0 and inf; accepted as in Theano)."""
    if not isinstance(node.op.scalar_op, ts.TrueDiv) or node.op.destroy_map:
        return None
    out = node.outputs[0]
    num, den = node.inputs
    if not is_float(out) or num.dtype != out.dtype or den.dtype != out.dtype:
        return None
    nf, df = _factors(num, ts.Mul), _factors(den, ts.Mul)
    dropped = _remove_common(nf, df)
    if not dropped:
        return None
    nf = [tb.cast(f, out.dtype) for f in nf]
    df = [tb.cast(f, out.dtype) for f in df]
    one = _const(1, out.dtype, out.ndim)
    if df:
        new = true_div(_nary(mul, nf) if nf else one, _nary(mul, df))
    else:
        new = _nary(mul, nf) if nf else one
    new = keep_type(new, out, sources=dropped + nf + df)
    return None if new is None else [new]


@register("canonicalize", "fast_run")
@node_rewriter([Elemwise])
def mul_of_div(fgraph, node):
    """a * (b / c) -> (a * b) / c and (a / b) / c -> a / (b * c), a / (b / c) -> (a * c) / b: one division
    on top, so numerator and denominator factors can cancel (and exp(x) / (1 + exp(x)) be recognised)."""
    op = node.op.scalar_op
    out = node.outputs[0]
    if node.op.destroy_map or not is_float(out) or not isinstance(op, (ts.Mul, ts.TrueDiv)):
        return None

    def div_parts(var):
        inner = elemwise_node(var, ts.TrueDiv)
        if inner is not None and var.dtype == out.dtype and single_client(fgraph, var):
            return inner.inputs
        return None

    if isinstance(op, ts.Mul):
        num, den = [], []
        for i in node.inputs:
            parts = div_parts(i)
            if parts is None:
                num.append(i)
            else:
                num.append(parts[0])
                den.append(parts[1])
        if not den:
            return None
    else:
        a, b = node.inputs
        pa, pb = div_parts(a), div_parts(b)
        if pa is not None:
            num, den = [pa[0]], [pa[1], b]
        elif pb is not None:
            num, den = [a, pb[1]], [pb[0]]
        else:
            return None
    num = [tb.cast(v, out.dtype) for v in num]
    den = [tb.cast(v, out.dtype) for v in den]
    new = keep_type(true_div(_nary(mul, num), _nary(mul, den)), out, cast=False)
    return None if new is None else [new]


@register("canonicalize", "fast_run", "fast_compile")
@node_rewriter([Elemwise])
def remove_useless_fill(fgraph, node):
    """fill(a, b) -> b when b already has the result's type (a only gave the shape b already has)."""
    if not isinstance(node.op.scalar_op, ts.Second):
        return None
    b = node.inputs[1]
    out = node.outputs[0]
    if b.dtype != out.dtype or b.broadcastable != out.broadcastable:
        return None
    new = keep_type(b, out, cast=False)
    return None if new is None else [new]


@register("canonicalize", "fast_run")
@node_rewriter([DimShuffle])
def lift_dimshuffle(fgraph, node):
    """dimshuffle(f(x, y)) -> f(dimshuffle(x), dimshuffle(y)): transposes and new axes move to the inputs,
    where they merge with other dimshuffles or fold into constants."""
    x = node.inputs[0]
    inner = x.owner
    if node.op.new_order == tuple(range(x.ndim)) or inner is None or not isinstance(inner.op, Elemwise):
        return None
    if len(inner.outputs) != 1 or inner.op.destroy_map or not single_client(fgraph, x):
        return None
    order = node.op.new_order
    new_inputs = [DimShuffle(i.broadcastable, order)(i) for i in inner.inputs]
    new = keep_type(Elemwise(inner.op.scalar_op)(*new_inputs), node.outputs[0], cast=False)
    return None if new is None else [new]


@register("canonicalize", "fast_run")
@node_rewriter([CAReduce])
def sum_of_scaled(fgraph, node):
    """sum(c * x) -> c * sum(x) and sum(x / c) -> sum(x) / c for a scalar constant c (so mean too)."""
    if not isinstance(node.op.scalar_op, ts.Add):
        return None
    x = node.inputs[0]
    out = node.outputs[0]
    if not is_float(x):
        return None
    mul_node = elemwise_node(x, ts.Mul)
    div_node = elemwise_node(x, ts.TrueDiv)
    if mul_node is not None:
        consts = [i for i in mul_node.inputs if all(i.broadcastable) and scalar_constant(i) is not None]
        rest = [i for i in mul_node.inputs if not any(i is c for c in consts)]
        if not consts or not rest:
            return None
        with np.errstate(all="ignore"):
            c = functools.reduce(np.multiply, [np.asarray(scalar_constant(k), dtype=x.dtype) for k in consts])
        inner = _nary(mul, rest)
        if inner.type != x.type:
            return None
        new = mul(_const(c, x.dtype, out.ndim), node.op(inner))
    elif div_node is not None:
        a, c = div_node.inputs
        if not all(c.broadcastable) or scalar_constant(c) is None or a.type != x.type:
            return None
        new = true_div(node.op(a), _const(scalar_constant(c), c.dtype, out.ndim))
    else:
        return None
    new = keep_type(new, out, cast=False)
    return None if new is None else [new]


@register("canonicalize", "fast_run")
@node_rewriter([CAReduce])
def merge_reductions(fgraph, node):
    """sum(sum(x, a), b) -> sum(x, a + b) (and the same for prod, max, min, all, any)."""
    x = node.inputs[0]
    inner = x.owner
    if inner is None or not isinstance(inner.op, CAReduce) or inner.op.scalar_op != node.op.scalar_op:
        return None
    if not single_client(fgraph, x):
        return None
    if node.op.acc_dtype != inner.op.acc_dtype:
        return None
    base = inner.inputs[0]
    kept = [a for a in range(base.ndim) if a not in inner.op.axis]
    axes = sorted(set(inner.op.axis) | {kept[b] for b in node.op.axis})
    op = CAReduce(node.op.scalar_op, axes, node.op.dtype or inner.op.dtype, inner.op.acc_dtype)
    new = keep_type(op(base), node.outputs[0], cast=False)
    return None if new is None else [new]


@register("canonicalize", "fast_run")
@node_rewriter([CAReduce])
def reduce_over_length_one_axes(fgraph, node):
    """sum / prod / max / min of x over axes that all have length 1 -> x without those axes (a gradient
    through dimshuffle('x', 0, 'x', 'x') sums a bias-shaped tensor over its broadcast axes)."""
    if not isinstance(node.op.scalar_op, (ts.Add, ts.Mul, ts.Maximum, ts.Minimum)):
        return None
    x = node.inputs[0]
    axes = tuple(range(x.ndim)) if node.op.axis is None else node.op.axis
    if not axes or not all(x.broadcastable[a] for a in axes):
        return None
    kept = [a for a in range(x.ndim) if a not in axes]
    new = keep_type(DimShuffle(x.broadcastable, kept)(x), node.outputs[0])
    return None if new is None else [new]


register("canonicalize", "fast_run", "fast_compile", name="log_of_exp")(
    pattern((log, (exp, "x")), "x", "log_of_exp"))


# -------------------------------------------------------------- powers

def _pow_parts(node):
    """(base, exponent value, out) of x ** c with c one constant value, for exponents we can expand."""
    if not isinstance(node.op.scalar_op, ts.Pow) or node.op.destroy_map:
        return None
    x, e = node.inputs
    out = node.outputs[0]
    value = scalar_constant(e)
    if value is None or np.iscomplexobj(value):
        return None
    value = float(value)
    if out.dtype in ts.float_dtypes:
        pass
    elif out.dtype in ts.discrete_dtypes and out.dtype != "bool" and value >= 0 and value == int(value):
        pass  # integer powers of integers are exact (and wrap alike)
    else:
        return None
    return tb.cast(x, out.dtype), value, out


def _int_power(x, n):
    """x ** n (n >= 1) by repeated squaring."""
    result, base = None, x
    while n:
        if n & 1:
            result = base if result is None else mul(result, base)
        n >>= 1
        if n:
            base = sqr(base)
    return result


def _power(x, value, dtype):
    """x ** value from sqr / sqrt / mul / 1/x, or None when value is not a small (half-)integer."""
    twice = 2 * value
    if twice != int(twice) or abs(value) > MAX_POW_CHAIN:
        return None
    if value == 0:
        return tb.fill(x, _const(1, dtype, x.ndim))
    mag = abs(value)
    whole = int(mag)
    parts = []
    if whole:
        parts.append(_int_power(x, whole))
    if mag != whole:
        parts.append(sqrt(x))
    res = _nary(mul, parts)
    return true_div(_const(1, dtype, x.ndim), res) if value < 0 else res


def _pow_rewrite(node, allowed):
    parts = _pow_parts(node)
    if parts is None:
        return None
    x, value, out = parts
    if allowed is not None and value not in allowed:
        return None
    res = _power(x, value, out.dtype)
    if res is None:
        return None
    new = keep_type(res, out, sources=node.inputs, cast=False)
    return None if new is None else [new]


@register("canonicalize", "fast_run")
@node_rewriter([Elemwise])
def pow_canonical(fgraph, node):
    """x**2 -> sqr(x), x**0.5 -> sqrt(x), x**1 -> x, x**-1 -> 1/x, x**0 -> 1."""
    return _pow_rewrite(node, (2.0, 0.5, 1.0, -1.0, 0.0))


# ------------------------------------------------------------ specialize

@register("specialize", "fast_run")
@node_rewriter([Elemwise])
def pow_specialize(fgraph, node):
    """Small integer and half-integer powers: x**3 -> x * sqr(x), x**4 -> sqr(sqr(x)), x**-2 -> 1/sqr(x),
    x**1.5 -> x * sqrt(x) (cheaper and at least as accurate as pow)."""
    return _pow_rewrite(node, None)


@register("specialize", "fast_run")
@node_rewriter([Elemwise])
def mul_by_minus_one(fgraph, node):
    """(-1) * x -> -x."""
    if not isinstance(node.op.scalar_op, ts.Mul) or node.op.destroy_map:
        return None
    out = node.outputs[0]
    if out.dtype in ts.discrete_dtypes and not out.dtype.startswith("int"):
        return None  # no negation for bool / unsigned
    minus = [i for i in node.inputs if scalar_constant(i) is not None and scalar_constant(i) == -1]
    if not minus:
        return None
    rest = [i for i in node.inputs if i is not minus[0]]
    new = keep_type(neg(_nary(mul, rest)), out, sources=minus, cast=False)
    return None if new is None else [new]


@register("specialize", "fast_run")
@node_rewriter([Elemwise])
def div_by_constant(fgraph, node):
    """x / c -> x * (1/c) for a float constant c (a multiply is cheaper than a divide)."""
    if not isinstance(node.op.scalar_op, ts.TrueDiv) or node.op.destroy_map:
        return None
    x, c = node.inputs
    out = node.outputs[0]
    data = constant_data(c)
    if data is None or not is_float(out) or data.size > MAX_FOLDED_SIZE:
        return None
    data = data.astype(out.dtype)
    with np.errstate(all="ignore"):
        recip = np.divide(np.asarray(1, dtype=out.dtype), data)
    if not (np.all(np.isfinite(recip)) and np.all(recip != 0)):
        return None  # 1/c over- or underflows: x / c and x * (1/c) would differ
    new = keep_type(mul(x, _const(recip, out.dtype)), out, cast=False)
    return None if new is None else [new]


@register("specialize", "fast_run")
@node_rewriter([Elemwise])
def add_neg_to_sub(fgraph, node):
    """a + b + (-c) -> (a + b) - c: undoes the canonical form with the cheaper op."""
    if not isinstance(node.op.scalar_op, ts.Add) or node.op.destroy_map:
        return None
    out = node.outputs[0]
    pos = [i for i in node.inputs if elemwise_node(i, ts.Neg) is None]
    negs = [i.owner.inputs[0] for i in node.inputs if elemwise_node(i, ts.Neg) is not None]
    if not pos or not negs:
        return None
    pos = [tb.cast(p, out.dtype) for p in pos]
    negs = [tb.cast(n, out.dtype) for n in negs]
    new = keep_type(sub(_nary(add, pos), _nary(add, negs)), out, cast=False)
    return None if new is None else [new]
