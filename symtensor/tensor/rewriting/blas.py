"""Specialize ``dot`` into BLAS-shaped ops, and run the accumulating ones in place.

specialize:
    dot(matrix, matrix)                            -> Dot22
    a * dot(X, Y) + b * Z   (and z + dot, z - dot, dot * a + z, -dot + z, ...)
                                                   -> Gemm(Z, a, X, Y, b)
    a * dot(A, x) + b * y, a * dot(x, A) + b * y  -> Gemv(y, a, A, x, b) / Gemv(y, a, A.T, x, b)
    Z + a * outer(x, y)                            -> Ger(Z, a, x, y)

An add/sub node is split into signed terms; each term is peeled of negations
and of scalar (all-broadcastable) factors, which become alpha / beta. A term
is only peeled through nodes that nothing else uses (otherwise the dot would
be computed twice). The rewrite fires only when the result type is exactly
the replaced one: every peeled node computes in the dot's dtype and the dot's
operands share that dtype, so casting the coefficients (and Z) to it repeats
what the elementwise ops did. A Z broadcast by the add is ``alloc``-ed to the
full shape, which the in-place phase then lets the Gemm overwrite.

inplace:
    Gemm / Gemv / Ger -> their in-place variant when ``can_destroy`` allows it.
"""

import functools

import numpy as np

import symtensor.tensor.basic as tb
import symtensor.tensor.blas as blas
import symtensor.tensor.math as tm
from symtensor import scalar as ts
from symtensor.graph.basic import Constant, view_roots
from symtensor.graph.rewriting.basic import GraphRewriter, apply_replacements, node_rewriter
from symtensor.tensor.elemwise import DimShuffle, Elemwise
from symtensor.tensor.rewriting.basic import same_type_or_none
from symtensor.tensor.rewriting.pipeline import register
from symtensor.tensor.shape import Shape_i

_ACCUMULATING = (blas.Gemm, blas.Gemv, blas.Ger)
_INPLACE = {blas.Gemm: blas.gemm_inplace, blas.Gemv: blas.gemv_inplace, blas.Ger: blas.ger_destructive}


# ---------------------------------------------------------------- helpers

def _elemwise(var, scalar_cls):
    """The plain (not in-place) Elemwise node computing ``var`` with a ``scalar_cls`` op, or None."""
    node = var.owner
    if (node is not None and isinstance(node.op, Elemwise) and isinstance(node.op.scalar_op, scalar_cls)
            and not node.op.destroy_map and len(node.outputs) == 1):
        return node
    return None


def _only_client(fgraph, var):
    return len(fgraph.clients.get(var, ())) == 1 and var not in fgraph.outputs


def _constant_value(var):
    """The value of a size-1 constant (also seen through a dimshuffle), else None."""
    if var.owner is not None and isinstance(var.owner.op, DimShuffle):
        var = var.owner.inputs[0]
    if isinstance(var, Constant):
        data = np.asarray(var.data)
        if data.size == 1 and data.dtype.kind in "biufc":
            return data.reshape(())
    return None


def _is_scalar_like(var):
    """All-broadcastable: one value that multiplies every element (a coefficient)."""
    return all(var.broadcastable)


class _Term:
    """``const * prod(factors) * var``: one summand with its scalar coefficient separated."""

    def __init__(self, source, var, dtype, sign):
        self.source = source      # the add/sub input this term came from
        self.var = var
        self.const = np.asarray(sign, dtype=dtype)
        self.factors = []
        self.dtype = dtype

    def is_one(self):
        return not self.factors and self.const == 1

    def scalar(self):
        """The coefficient as a 0-d variable of the term's dtype."""
        parts = [_as_0d(f, self.dtype) for f in self.factors]
        if not parts or self.const != 1:
            parts.insert(0, tb.constant(np.asarray(self.const, dtype=self.dtype)))
        return functools.reduce(tm.mul, parts)


def _as_0d(var, dtype):
    """The 0-d value of an all-broadcastable variable, seeing through the dimshuffles that padded it."""
    while var.owner is not None and isinstance(var.owner.op, DimShuffle) and all(var.owner.inputs[0].broadcastable):
        var = var.owner.inputs[0]
    if var.ndim:
        var = var.dimshuffle()  # drop the broadcastable axes
    return var if var.dtype == dtype else tb.cast(var, dtype)


def _mul_const(term, value):
    """Fold a constant factor into the term; False when it is not exact in the term's dtype."""
    with np.errstate(all="ignore"):
        cast = value.astype(term.dtype)
        if cast != value:
            return False
        term.const = np.asarray(term.const * cast, dtype=term.dtype)
    return True


def _peel(fgraph, source, sign, dtype):
    """Split ``source`` into coefficient and base, through single-client neg/mul nodes of ``dtype``."""
    term = _Term(source, source, dtype, sign)
    var = source
    while var.dtype == dtype and _only_client(fgraph, var):
        if _elemwise(var, ts.Neg) is not None:
            term.const = -term.const
            var = var.owner.inputs[0]
            continue
        node = _elemwise(var, ts.Mul)
        if node is None:
            break
        others = [i for i in node.inputs if not _is_scalar_like(i)]
        if len(others) != 1:
            break
        scalars = [i for i in node.inputs if _is_scalar_like(i)]
        saved = (term.const, list(term.factors))
        ok = True
        for s in scalars:
            value = _constant_value(s)
            if value is not None:
                ok = _mul_const(term, value)
            else:
                term.factors.append(s)
            if not ok:
                break
        if not ok:
            term.const, term.factors = saved
            break
        var = others[0]
    term.var = var
    return term


def _product(fgraph, var, dtype):
    """('gemm', X, Y) / ('gemv', A, x) / ('ger', x, y) when ``var`` is a dot usable by a BLAS op, else None."""
    node = var.owner
    if node is None or not isinstance(node.op, (tm.Dot, blas.Dot22)) or not _only_client(fgraph, var):
        return None
    a, b = node.inputs
    if a.dtype != dtype or b.dtype != dtype:
        return None
    col, row = a.owner, b.owner
    if (col is not None and row is not None and isinstance(col.op, DimShuffle) and isinstance(row.op, DimShuffle)
            and col.op.new_order == (0, "x") and row.op.new_order == ("x", 0)
            and col.inputs[0].ndim == 1 and row.inputs[0].ndim == 1):
        return "ger", col.inputs[0], row.inputs[0]
    if a.ndim == 2 and b.ndim == 2:
        return "gemm", a, b
    if a.ndim == 2 and b.ndim == 1:
        return "gemv", a, b
    if a.ndim == 1 and b.ndim == 2:
        return "gemv", b.T, a
    return None


def _signed_inputs(node):
    op = node.op.scalar_op
    if isinstance(op, ts.Add):
        return [(1, i) for i in node.inputs]
    if isinstance(op, ts.Sub):
        return [(1, node.inputs[0]), (-1, node.inputs[1])]
    return None


def _length(var, axis):
    static = var.type.shape[axis]
    return tb.constant(static, dtype="int64") if static is not None else Shape_i(axis)(var)


def _full(z, out, lengths):
    """``z`` as an array of the output's shape (alloc-ed where the add broadcast it)."""
    if z.dtype != out.dtype:
        z = tb.cast(z, out.dtype)
    if any(zb and not ob for zb, ob in zip(z.broadcastable, out.broadcastable)):
        z = tb.alloc(z, *lengths)
    return z


def _build(kind, a, b, alpha, z_term, out):
    """The BLAS op's output for ``z_term + alpha * product(a, b)``."""
    if kind == "gemm":
        lengths = [_length(a, 0), _length(b, 1)]
        z = _full(z_term.var, out, lengths)
        return blas.gemm_no_inplace(z, alpha, a, b, z_term.scalar())
    if kind == "gemv":
        z = _full(z_term.var, out, [_length(a, 0)])
        return blas.gemv_no_inplace(z, alpha, a, b, z_term.scalar())
    lengths = [_length(a, 0), _length(b, 0)]
    z = z_term.var if z_term.is_one() else tm.mul(z_term.scalar(), z_term.var)
    return blas.ger(_full(z, out, lengths), alpha, a, b)


# ---------------------------------------------------------------- specialize

@register("specialize", "fast_run")
@node_rewriter([tm.Dot])
def dot_to_dot22(fgraph, node):
    """dot(X, Y) of two matrices of one float/complex dtype -> Dot22 (BLAS gemm)."""
    x, y = node.inputs
    if x.ndim != 2 or y.ndim != 2 or x.dtype != y.dtype or x.dtype not in ts.continuous_dtypes:
        return None
    new = same_type_or_none(blas.dot22(x, y), node.outputs[0])
    return None if new is None else [new]


@register("specialize", "fast_run")
@node_rewriter([Elemwise])
def dot_to_gemm(fgraph, node):
    """z + a * dot(x, y), b * z - dot(x, y), ... -> Gemm / Gemv / Ger (see the module docstring)."""
    if node.op.destroy_map or len(node.outputs) != 1:
        return None
    signed = _signed_inputs(node)
    out = node.outputs[0]
    if signed is None or len(signed) < 2 or out.dtype not in ts.continuous_dtypes:
        return None
    dtype = out.dtype
    terms = [_peel(fgraph, var, sign, dtype) for sign, var in signed]
    products = [_product(fgraph, t.var, dtype) for t in terms]
    for i, (term, product) in enumerate(zip(terms, products)):
        if product is None or term.var.broadcastable != out.broadcastable:
            continue
        # Z: prefer a term that is not itself a product (that one can become the next gemm)
        candidates = sorted((j for j in range(len(terms)) if j != i), key=lambda j: products[j] is not None)
        for j in candidates:
            z_term = terms[j]
            if z_term.var.ndim != out.ndim:
                continue
            kind, a, b = product
            try:
                new = _build(kind, a, b, term.scalar(), z_term, out)
            except (TypeError, ValueError):  # e.g. static lengths that disagree: leave it to run time
                continue
            rest = [t.source for k, t in enumerate(terms) if k not in (i, j)]
            if rest:
                new = tm.add(new, *rest)
            new = same_type_or_none(new, out)
            if new is not None:
                return [new]
    return None


# ---------------------------------------------------------------- inplace

def can_destroy(fgraph, node, input_index):
    """May ``node`` overwrite its input ``input_index``? Conservative rules until a destroy handler exists:
    the input is computed in the graph (not an input, shared variable or constant), it is not a view of
    another array, it is not a graph output, and ``node`` is its only client (only once)."""
    var = node.inputs[input_index]
    if isinstance(var, Constant) or var.owner is None or var in fgraph.outputs:
        return False
    if view_roots(var) != [var]:
        return False
    return list(fgraph.clients.get(var, ())) == [(node, input_index)]


class BlasInplace(GraphRewriter):
    """Gemm / Gemv / Ger -> their in-place variant where the accumulator may be overwritten."""

    name = "blas_inplace"

    def apply(self, fgraph):
        changed = False
        for node in fgraph.toposort():
            if node not in fgraph.apply_nodes or not isinstance(node.op, _ACCUMULATING) or node.op.inplace:
                continue
            if not can_destroy(fgraph, node, 0):
                continue
            try:
                new = _INPLACE[type(node.op)](*node.inputs)
            except ValueError:  # the accumulator is also read as another operand
                continue
            if apply_replacements(fgraph, self, node, [new]):
                changed = True
        return changed


register("inplace", "fast_run", name="blas_inplace")(BlasInplace())
