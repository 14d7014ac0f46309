"""BLAS-shaped ops: Gemm, Gemv, Ger and Dot22, the targets of the ``dot`` specializations.

Semantics follow Theano's ``tensor.blas`` (argument order included):

- ``Gemm(z, alpha, x, y, beta)``  = beta * z + alpha * dot(x, y)      (all matrices)
- ``Gemv(y, alpha, A, x, beta)``  = beta * y + alpha * dot(A, x)      (y, x vectors)
- ``Ger(A, alpha, x, y)``         = A + alpha * outer(x, y)
- ``Dot22(x, y)``                 = dot(x, y) for two matrices (gemm without accumulation)

``alpha`` and ``beta`` are 0-d tensors (so they may be symbolic). As in BLAS,
``beta == 0`` means the accumulator is not read (NaN there is harmless) and
``alpha == 0`` means the product is not computed. The accumulating ops have an
in-place variant (``inplace=True``, ``destroy_map = {0: [0]}``) that writes into
its first input; the other variant never modifies an input. ``perform`` calls
SciPy's BLAS for float32/float64 (orienting operands so C- or F-contiguous
arrays are passed without copies) and NumPy for other dtypes. Dot22 has no
in-place variant: its output never has the shape of an input.
"""

import numpy as np
from scipy.linalg import blas as _scipy_blas

import symtensor.tensor.basic as _basic
import symtensor.tensor.math as _math
from symtensor import scalar as ts
from symtensor.graph.basic import Apply, Variable, view_roots
from symtensor.graph.op import Op
from symtensor.tensor.type import TensorType

_PREFIX = {"float32": "s", "float64": "d"}


def _blas_fn(name, dtype):
    """SciPy's BLAS routine ``name`` for ``dtype`` (None: use NumPy)."""
    prefix = _PREFIX.get(str(dtype))
    return getattr(_scipy_blas, prefix + name) if prefix else None


# ---------------------------------------------------------------- checking

def _matrix_or_vector(opname, argname, var, ndim):
    var = _basic.as_tensor_variable(var)
    if var.ndim != ndim:
        kind = "a matrix (2-d)" if ndim == 2 else "a vector (1-d)"
        raise TypeError(f"{opname}: argument {argname} must be {kind}, got {var} with {var.ndim} dimensions")
    return var


def _check_dtypes(opname, named):
    """The tensor operands share one float or complex dtype (BLAS does not mix precisions)."""
    dtypes = {name: var.dtype for name, var in named}
    dtype = named[0][1].dtype
    if any(d != dtype for d in dtypes.values()):
        listed = ", ".join(f"{n}: {d}" for n, d in dtypes.items())
        raise TypeError(f"{opname}: operands must have one dtype, got {listed}")
    if dtype not in ts.continuous_dtypes:
        raise TypeError(f"{opname}: operands must be float or complex, got dtype {dtype}")
    return dtype


def _as_coefficient(opname, argname, value, dtype):
    """``value`` as a 0-d tensor of ``dtype``; numbers must be exact in that dtype, variables must fit it."""
    if isinstance(value, Variable):
        value = _basic.as_tensor_variable(value)
        if value.ndim != 0:
            raise TypeError(f"{opname}: {argname} must be a scalar (0-d tensor), got {value} with {value.ndim} "
                            "dimensions")
        if value.dtype != dtype:
            if ts.upcast(value.dtype, dtype) != dtype:
                raise TypeError(f"{opname}: {argname} has dtype {value.dtype}, which does not fit the operands' "
                                f"dtype {dtype} (cast it explicitly)")
            value = _basic.cast(value, dtype)
        return value
    arr = np.asarray(value)
    if arr.ndim != 0:
        raise TypeError(f"{opname}: {argname} must be a scalar, got an array of shape {arr.shape}")
    if arr.dtype.kind not in "biufc":
        raise TypeError(f"{opname}: {argname} must be a number, got {value!r}")
    with np.errstate(all="ignore"):
        cast = arr.astype(dtype)
    if not (cast == arr or (np.isnan(cast) and np.isnan(arr))):
        raise TypeError(f"{opname}: {argname}={value!r} is not exactly representable in {dtype}")
    return _basic.constant(cast)


def _static(*lengths):
    """The one static length among ``lengths`` (None if all unknown); ValueError if they disagree."""
    known = {n for n in lengths if n is not None}
    if len(known) > 1:
        raise ValueError(sorted(known))
    return known.pop() if known else None


def _merge_static(opname, what, *lengths):
    try:
        return _static(*lengths)
    except ValueError as exc:
        raise ValueError(f"{opname}: {what} have different static lengths {exc.args[0]}") from None


def _check_not_aliased(opname, dest, others):
    """An in-place op must not overwrite an array it also reads as another operand."""
    roots = set(view_roots(dest))
    for name, var in others:
        if roots & set(view_roots(var)):
            raise ValueError(f"{opname}: the in-place destination is also operand {name} (or a view of it); "
                             "use the non-inplace op")


def _grad_like(g, var):
    """``g`` with the dtype and broadcast pattern of ``var``."""
    g = _basic.cast(g, var.dtype)
    if g.broadcastable != var.broadcastable:
        g = _basic.patternbroadcast(g, var.broadcastable)
    return g


def _add_terms(terms):
    terms = [t for t in terms if t is not None]
    if not terms:
        return None
    return terms[0] if len(terms) == 1 else _math.add(*terms)


# ---------------------------------------------------------------- kernels

def _fortran_operand(a):
    """(array, trans) with op(array) == a and array Fortran-contiguous, copying only strided input."""
    if a.flags.f_contiguous:
        return a, 0
    if a.flags.c_contiguous:
        return a.T, 1
    return np.asfortranarray(a), 0


def _scale_into(out, beta):
    """out <- beta * out, with beta == 0 meaning 'ignore out' (NaN-safe, as BLAS)."""
    if beta == 0:
        out.fill(0)
    elif beta != 1:
        out *= beta


def _gemm_into(out, alpha, x, y, beta):
    """out <- beta * out + alpha * dot(x, y), in place."""
    if alpha == 0 or x.shape[1] == 0 or out.size == 0:
        _scale_into(out, beta)
        return
    fn = _blas_fn("gemm", out.dtype)
    if fn is None:
        prod = np.dot(x, y)
        _scale_into(out, beta)
        out += alpha * prod
        return
    transposed = not out.flags.f_contiguous and out.flags.c_contiguous
    if transposed:
        target, a, b = out.T, y.T, x.T           # out.T = y.T @ x.T (Fortran view of a C array)
    else:
        target, a, b = np.asfortranarray(out), x, y  # no copy when out is Fortran-contiguous
    a_arr, trans_a = _fortran_operand(a)
    b_arr, trans_b = _fortran_operand(b)
    res = fn(alpha, a_arr, b_arr, beta=beta, c=target, trans_a=trans_a, trans_b=trans_b, overwrite_c=1)
    if not np.shares_memory(res, out):
        out[...] = res.T if transposed else res


def _gemv_into(out, alpha, a, x, beta):
    """out <- beta * out + alpha * dot(a, x), in place."""
    if alpha == 0 or a.shape[1] == 0 or out.size == 0:
        _scale_into(out, beta)
        return
    fn = _blas_fn("gemv", out.dtype)
    if fn is None:
        prod = np.dot(a, x)
        _scale_into(out, beta)
        out += alpha * prod
        return
    a_arr, trans = _fortran_operand(a)
    target = out if out.flags.c_contiguous else np.ascontiguousarray(out)
    res = fn(alpha, a_arr, x, beta=beta, y=target, trans=trans, overwrite_y=1)
    if not np.shares_memory(res, out):
        out[...] = res


def _ger_into(out, alpha, x, y):
    """out <- out + alpha * outer(x, y), in place."""
    if alpha == 0 or out.size == 0:
        return
    fn = _blas_fn("ger", out.dtype)
    if fn is None or not (out.flags.f_contiguous or out.flags.c_contiguous):
        out += alpha * np.outer(x, y)
        return
    if out.flags.f_contiguous:
        target, u, v = out, x, y
    else:
        target, u, v = out.T, y, x              # out.T += alpha * outer(y, x)
    res = fn(alpha, u, v, a=target, overwrite_a=1)
    if not np.shares_memory(res, out):
        target[...] = res


def _destination(node, value):
    """The array the op writes into: the input itself when in place (and writeable), else a copy."""
    if node.op.inplace and value.flags.writeable:
        return value
    return np.array(value, dtype=node.outputs[0].type.dtype, copy=True, order="K")


def _check_len(opname, what, a, b):
    if a != b:
        raise ValueError(f"{opname}: {what} ({a} != {b})")


# ---------------------------------------------------------------- ops

class _Accumulating:
    """Shared parts of the ops that accumulate into their first input (a mixin, not an Op itself)."""

    __props__ = ("inplace",)

    def __init__(self, inplace=False):
        self.inplace = bool(inplace)
        self.destroy_map = {0: [0]} if self.inplace else {}

    def __str__(self):
        return f"{type(self).__name__}{{{'inplace' if self.inplace else 'no_inplace'}}}"

    __repr__ = __str__

    def infer_shape(self, fgraph, node, input_shapes):
        return [input_shapes[0]]


class Gemm(_Accumulating, Op):
    """``gemm(z, alpha, x, y, beta) = beta * z + alpha * dot(x, y)`` for matrices z, x, y."""

    def make_node(self, z, alpha, x, y, beta):
        name = str(self)
        z = _matrix_or_vector(name, "z", z, 2)
        x = _matrix_or_vector(name, "x", x, 2)
        y = _matrix_or_vector(name, "y", y, 2)
        dtype = _check_dtypes(name, [("z", z), ("x", x), ("y", y)])
        alpha = _as_coefficient(name, "alpha", alpha, dtype)
        beta = _as_coefficient(name, "beta", beta, dtype)
        _merge_static(name, "x's columns and y's rows", x.type.shape[1], y.type.shape[0])
        rows = _merge_static(name, "z's rows and x's rows", z.type.shape[0], x.type.shape[0])
        cols = _merge_static(name, "z's columns and y's columns", z.type.shape[1], y.type.shape[1])
        if self.inplace:
            _check_not_aliased(name, z, [("x", x), ("y", y)])
        return Apply(self, [z, alpha, x, y, beta], [TensorType(dtype, shape=(rows, cols))()])

    def perform(self, node, inputs, output_storage):
        z, alpha, x, y, beta = inputs
        name = str(self)
        _check_len(name, f"in dot(x, y), shapes {x.shape} and {y.shape} are not aligned", x.shape[1], y.shape[0])
        _check_len(name, f"z of shape {z.shape} does not match dot(x, y) of shape {(x.shape[0], y.shape[1])}",
                   z.shape, (x.shape[0], y.shape[1]))
        if beta == 0 and not self.inplace:
            out = np.empty(z.shape, dtype=z.dtype)
        else:
            out = _destination(node, z)
        _gemm_into(out, alpha.item(), x, y, beta.item())
        output_storage[0][0] = out

    def L_op(self, inputs, outputs, output_grads):
        z, alpha, x, y, beta = inputs
        (g,) = output_grads
        prod = _math.dot(x, y)
        return [_grad_like(_math.mul(beta, g), z),
                _grad_like(_math.sum(_math.mul(g, prod)), alpha),
                _grad_like(_math.mul(alpha, _math.dot(g, y.T)), x),
                _grad_like(_math.mul(alpha, _math.dot(x.T, g)), y),
                _grad_like(_math.sum(_math.mul(g, z)), beta)]

    def R_op(self, inputs, eval_points):
        z, alpha, x, y, beta = inputs
        ez, ea, ex, ey, eb = eval_points
        prod = _add_terms([None if ex is None else _math.dot(ex, y), None if ey is None else _math.dot(x, ey)])
        terms = [None if ez is None else _math.mul(beta, ez),
                 None if eb is None else _math.mul(eb, z),
                 None if ea is None else _math.mul(ea, _math.dot(x, y)),
                 None if prod is None else _math.mul(alpha, prod)]
        out = _add_terms(terms)
        return [None if out is None else _grad_like(out, self.make_node(*inputs).outputs[0])]


class Gemv(_Accumulating, Op):
    """``gemv(y, alpha, A, x, beta) = beta * y + alpha * dot(A, x)`` for vectors y, x and a matrix A."""

    def make_node(self, y, alpha, A, x, beta):  # noqa: N803 - BLAS's name
        name = str(self)
        y = _matrix_or_vector(name, "y", y, 1)
        A = _matrix_or_vector(name, "A", A, 2)  # noqa: N806
        x = _matrix_or_vector(name, "x", x, 1)
        dtype = _check_dtypes(name, [("y", y), ("A", A), ("x", x)])
        alpha = _as_coefficient(name, "alpha", alpha, dtype)
        beta = _as_coefficient(name, "beta", beta, dtype)
        _merge_static(name, "A's columns and x", A.type.shape[1], x.type.shape[0])
        rows = _merge_static(name, "y and A's rows", y.type.shape[0], A.type.shape[0])
        if self.inplace:
            _check_not_aliased(name, y, [("A", A), ("x", x)])
        return Apply(self, [y, alpha, A, x, beta], [TensorType(dtype, shape=(rows,))()])

    def perform(self, node, inputs, output_storage):
        y, alpha, A, x, beta = inputs  # noqa: N806
        name = str(self)
        _check_len(name, f"in dot(A, x), shapes {A.shape} and {x.shape} are not aligned", A.shape[1], x.shape[0])
        _check_len(name, f"y of shape {y.shape} does not match dot(A, x) of shape {(A.shape[0],)}",
                   y.shape[0], A.shape[0])
        if beta == 0 and not self.inplace:
            out = np.empty(y.shape, dtype=y.dtype)
        else:
            out = _destination(node, y)
        _gemv_into(out, alpha.item(), A, x, beta.item())
        output_storage[0][0] = out

    def L_op(self, inputs, outputs, output_grads):
        y, alpha, A, x, beta = inputs  # noqa: N806
        (g,) = output_grads
        return [_grad_like(_math.mul(beta, g), y),
                _grad_like(_math.dot(g, _math.dot(A, x)), alpha),
                _grad_like(_math.mul(alpha, _math.outer(g, x)), A),
                _grad_like(_math.mul(alpha, _math.dot(A.T, g)), x),
                _grad_like(_math.dot(g, y), beta)]

    def R_op(self, inputs, eval_points):
        y, alpha, A, x, beta = inputs  # noqa: N806
        ey, ea, eA, ex, eb = eval_points  # noqa: N806
        prod = _add_terms([None if eA is None else _math.dot(eA, x), None if ex is None else _math.dot(A, ex)])
        terms = [None if ey is None else _math.mul(beta, ey),
                 None if eb is None else _math.mul(eb, y),
                 None if ea is None else _math.mul(ea, _math.dot(A, x)),
                 None if prod is None else _math.mul(alpha, prod)]
        out = _add_terms(terms)
        return [None if out is None else _grad_like(out, self.make_node(*inputs).outputs[0])]


class Ger(_Accumulating, Op):
    """``ger(A, alpha, x, y) = A + alpha * outer(x, y)`` for a matrix A and vectors x, y."""

    def make_node(self, A, alpha, x, y):  # noqa: N803 - BLAS's name
        name = str(self)
        A = _matrix_or_vector(name, "A", A, 2)  # noqa: N806
        x = _matrix_or_vector(name, "x", x, 1)
        y = _matrix_or_vector(name, "y", y, 1)
        dtype = _check_dtypes(name, [("A", A), ("x", x), ("y", y)])
        alpha = _as_coefficient(name, "alpha", alpha, dtype)
        rows = _merge_static(name, "A's rows and x", A.type.shape[0], x.type.shape[0])
        cols = _merge_static(name, "A's columns and y", A.type.shape[1], y.type.shape[0])
        if self.inplace:
            _check_not_aliased(name, A, [("x", x), ("y", y)])
        return Apply(self, [A, alpha, x, y], [TensorType(dtype, shape=(rows, cols))()])

    def perform(self, node, inputs, output_storage):
        A, alpha, x, y = inputs  # noqa: N806
        _check_len(str(self), f"A of shape {A.shape} does not match outer(x, y) of shape "
                   f"{(x.shape[0], y.shape[0])}", A.shape, (x.shape[0], y.shape[0]))
        out = _destination(node, A)
        _ger_into(out, alpha.item(), x, y)
        output_storage[0][0] = out

    def L_op(self, inputs, outputs, output_grads):
        A, alpha, x, y = inputs  # noqa: N806
        (g,) = output_grads
        return [_grad_like(g, A),
                _grad_like(_math.dot(x, _math.dot(g, y)), alpha),
                _grad_like(_math.mul(alpha, _math.dot(g, y)), x),
                _grad_like(_math.mul(alpha, _math.dot(x, g)), y)]

    def R_op(self, inputs, eval_points):
        A, alpha, x, y = inputs  # noqa: N806
        eA, ea, ex, ey = eval_points  # noqa: N806
        prod = _add_terms([None if ex is None else _math.outer(ex, y), None if ey is None else _math.outer(x, ey)])
        terms = [eA,
                 None if ea is None else _math.mul(ea, _math.outer(x, y)),
                 None if prod is None else _math.mul(alpha, prod)]
        out = _add_terms(terms)
        return [None if out is None else _grad_like(out, self.make_node(*inputs).outputs[0])]


class Dot22(Op):
    """``dot22(x, y) = dot(x, y)`` for two matrices of one float/complex dtype (BLAS gemm, no accumulation)."""

    __props__ = ()

    def make_node(self, x, y):
        x = _matrix_or_vector("Dot22", "x", x, 2)
        y = _matrix_or_vector("Dot22", "y", y, 2)
        dtype = _check_dtypes("Dot22", [("x", x), ("y", y)])
        _merge_static("Dot22", "x's columns and y's rows", x.type.shape[1], y.type.shape[0])
        return Apply(self, [x, y], [TensorType(dtype, shape=(x.type.shape[0], y.type.shape[1]))()])

    def perform(self, node, inputs, output_storage):
        x, y = inputs
        _check_len("Dot22", f"shapes {x.shape} and {y.shape} are not aligned", x.shape[1], y.shape[0])
        fn = _blas_fn("gemm", x.dtype)
        if fn is None or x.size == 0 or y.size == 0:
            out = np.asarray(np.dot(x, y), dtype=node.outputs[0].type.dtype)
        else:
            a_arr, trans_a = _fortran_operand(y.T)
            b_arr, trans_b = _fortran_operand(x.T)
            out = fn(1.0, a_arr, b_arr, trans_a=trans_a, trans_b=trans_b).T  # (y.T @ x.T).T, C-contiguous
        output_storage[0][0] = out

    def infer_shape(self, fgraph, node, input_shapes):
        xs, ys = input_shapes
        return [(xs[0], ys[1])]

    def L_op(self, inputs, outputs, output_grads):
        x, y = inputs
        (g,) = output_grads
        return [_grad_like(_math.dot(g, y.T), x), _grad_like(_math.dot(x.T, g), y)]

    def R_op(self, inputs, eval_points):
        x, y = inputs
        ex, ey = eval_points
        out = _add_terms([None if ex is None else _math.dot(ex, y), None if ey is None else _math.dot(x, ey)])
        return [None if out is None else _grad_like(out, self.make_node(x, y).outputs[0])]


gemm_no_inplace = Gemm(inplace=False)
gemm_inplace = Gemm(inplace=True)
gemv_no_inplace = Gemv(inplace=False)
gemv_inplace = Gemv(inplace=True)
ger = Ger(inplace=False)
ger_destructive = Ger(inplace=True)
_dot22 = Dot22()
dot22 = _dot22

__all__ = ["Gemm", "Gemv", "Ger", "Dot22", "gemm_no_inplace", "gemm_inplace", "gemv_no_inplace", "gemv_inplace",
           "ger", "ger_destructive", "dot22"]
