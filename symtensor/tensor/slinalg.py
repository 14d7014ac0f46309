"""Linear algebra backed by ``scipy.linalg`` (Theano's ``T.slinalg``): Cholesky, linear solves,
symmetric eigenvalues, the matrix exponential.

Like ``nlinalg``, the ops compute with SciPy and differentiate symbolically.
An op that reads only one triangle of its matrix (Cholesky, triangular
solves, eigvalsh) is a function of that triangle alone, so its gradient is
zero on the other one.
"""

import numpy as np
import scipy.linalg

import symtensor.tensor.basic as _basic
import symtensor.tensor.math as _math
from symtensor import scalar as ts
from symtensor.graph.basic import Apply
from symtensor.graph.null_type import grad_not_implemented
from symtensor.graph.op import Op
from symtensor.tensor.nlinalg import (alloc_diag, as_float_matrix, as_float_tensor, check_square, eigh,
                                      extract_diag, fold_triangle, matrix_dot, square_shape, tril, triu)
from symtensor.tensor.type import TensorType

__all__ = ["Cholesky", "cholesky", "Solve", "solve", "solve_lower_triangular", "solve_upper_triangular",
           "solve_symmetric", "SolveTriangular", "solve_triangular", "cho_solve", "Eigvalsh", "eigvalsh", "Expm",
           "ExpmGrad", "expm", "kron"]


# ------------------------------------------------------------------ Cholesky

class Cholesky(Op):
    """The Cholesky factor of a symmetric positive-definite matrix, reading only its ``lower`` (or upper)
    triangle. ``on_error='nan'`` gives a matrix of NaNs instead of raising when the matrix is not
    positive definite."""

    __props__ = ("lower", "on_error")

    def __init__(self, lower=True, on_error="raise"):
        if on_error not in ("raise", "nan"):
            raise ValueError(f"Cholesky: on_error must be 'raise' or 'nan', got {on_error!r}")
        self.lower, self.on_error = bool(lower), on_error

    def make_node(self, x):
        x = as_float_matrix(x, "Cholesky", square=True)
        return Apply(self, [x], [TensorType(x.dtype, shape=square_shape(x))()])

    def perform(self, node, inputs, output_storage):
        (x,) = inputs
        check_square("Cholesky", "x", x)
        dtype = node.outputs[0].dtype
        try:
            out = scipy.linalg.cholesky(x, lower=self.lower) if x.size else np.zeros_like(x)
        except np.linalg.LinAlgError as exc:
            if self.on_error == "raise":
                raise np.linalg.LinAlgError(f"Cholesky: the matrix is not positive definite ({exc})") from None
            out = np.full_like(x, np.nan)
        output_storage[0][0] = np.asarray(out, dtype=dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        return [input_shapes[0]]

    def L_op(self, inputs, outputs, output_grads):
        # Murray, "Differentiation of the Cholesky decomposition" (2016), as in Theano
        (chol,), (dz,) = outputs, output_grads
        if self.on_error == "nan":
            ok = ~_math.any(_math.isnan(chol))
            chol, dz = _math.switch(ok, chol, 1), _math.switch(ok, dz, 1)
        if not self.lower:
            chol, dz = chol.T, dz.T
        phi = _math.dot(chol.T, dz)
        phi = tril(phi) - 0.5 * alloc_diag(extract_diag(phi))
        # s = L^-T phi L^-1
        s = solve_triangular(chol, solve_triangular(chol, phi.T, lower=True, trans=1).T, lower=True, trans=1)
        sym = s + s.T - alloc_diag(extract_diag(s))
        grad = tril(sym) if self.lower else triu(sym)
        if self.on_error == "nan":
            grad = _math.switch(ok, grad, np.nan)
        return [grad]


def cholesky(x, lower=True):
    """The Cholesky factor of ``x`` (lower triangular by default, as in Theano)."""
    return Cholesky(lower=lower)(x)


# ------------------------------------------------------------------ solves

def _solve_inputs(opname, a, b):
    a = as_float_matrix(a, opname, "a", square=True)
    b = as_float_tensor(b, opname, "b")
    if b.ndim not in (1, 2):
        raise TypeError(f"{opname}: b must be a vector or a matrix, got a {b.ndim}-d {b}")
    rows, n = a.type.shape[0], b.type.shape[0]
    if rows is not None and n is not None and rows != n:
        raise ValueError(f"{opname}: a has {rows} rows but b has {n}")
    dtype = ts.upcast(a.dtype, b.dtype)
    out = TensorType(dtype, shape=(square_shape(a)[0],) + b.type.shape[1:])()
    return a, b, out


def _check_solve_values(opname, a, b):
    check_square(opname, "a", a)
    if b.shape[0] != a.shape[0]:
        raise ValueError(f"{opname}: a of shape {a.shape} and b of shape {b.shape} do not match "
                         f"(b needs {a.shape[0]} rows)")


def _solve_infer_shape(input_shapes):
    a_shape, b_shape = input_shapes
    return [(a_shape[1],) + tuple(b_shape[1:])]


def _outer_grad(left, right):
    """``-left right'`` for matrices, ``-outer(left, right)`` for vectors: the gradient of a solve's matrix."""
    if left.ndim == 1:
        return -_math.outer(left, right)
    return -_math.dot(left, right.T)


STRUCTURES = ("general", "symmetric", "lower_triangular", "upper_triangular")


class Solve(Op):
    """``x`` with ``a x = b`` (Theano's Solve).

    As in Theano, a triangular ``A_structure`` reads one triangle of ``a``;
    'general' and 'symmetric' both use an LU solve of the whole matrix, so
    the gradient is right for any ``a``.
    """

    __props__ = ("A_structure", "lower", "overwrite_A", "overwrite_b")

    def __init__(self, A_structure="general", lower=False, overwrite_A=False, overwrite_b=False):  # noqa: N803
        if A_structure not in STRUCTURES:
            raise ValueError(f"Solve: A_structure must be one of {STRUCTURES}, got {A_structure!r}")
        self.A_structure, self.lower = A_structure, bool(lower)
        self.overwrite_A, self.overwrite_b = bool(overwrite_A), bool(overwrite_b)

    def __str__(self):
        return f"Solve{{{self.A_structure}}}"

    def make_node(self, a, b):
        a, b, out = _solve_inputs("Solve", a, b)
        return Apply(self, [a, b], [out])

    def perform(self, node, inputs, output_storage):
        a, b = inputs
        _check_solve_values("Solve", a, b)
        if self.A_structure.endswith("triangular"):
            x = scipy.linalg.solve_triangular(a, b, lower=self.A_structure == "lower_triangular")
        else:
            x = scipy.linalg.solve(a, b)
        output_storage[0][0] = np.asarray(x, dtype=node.outputs[0].dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        return _solve_infer_shape(input_shapes)

    def L_op(self, inputs, outputs, output_grads):
        (a, b), (c,), (gc,) = inputs, outputs, output_grads
        flip = {"lower_triangular": "upper_triangular", "upper_triangular": "lower_triangular"}
        gb = Solve(flip.get(self.A_structure, self.A_structure), not self.lower)(a.T, gc)
        ga = _outer_grad(gb, c)
        if self.A_structure == "lower_triangular":
            ga = tril(ga)
        elif self.A_structure == "upper_triangular":
            ga = triu(ga)
        return [ga, gb]


solve_lower_triangular = Solve("lower_triangular", lower=True)
solve_upper_triangular = Solve("upper_triangular", lower=False)
solve_symmetric = Solve("symmetric")

_ASSUME_A = {"gen": "general", "general": "general", "sym": "symmetric", "symmetric": "symmetric",
             "pos": "symmetric", "her": "symmetric", "lower triangular": "lower_triangular",
             "upper triangular": "upper_triangular", "lower_triangular": "lower_triangular",
             "upper_triangular": "upper_triangular"}


def solve(a, b, assume_a="gen", lower=False, A_structure=None):  # noqa: N803
    """``x`` with ``a x = b``. ``A_structure`` (Theano) or ``assume_a`` (SciPy's spelling) says what ``a`` is."""
    structure = A_structure or _ASSUME_A.get(assume_a)
    if structure is None:
        raise ValueError(f"solve: assume_a must be one of {sorted(_ASSUME_A)}, got {assume_a!r}")
    return Solve(structure, lower=lower)(a, b)


class SolveTriangular(Op):
    """``x`` with ``a x = b`` (``trans=1``: ``a' x = b``) for triangular ``a``, as
    ``scipy.linalg.solve_triangular``; only the ``lower`` (or upper) triangle of ``a`` is read, and not its
    diagonal when ``unit_diagonal``."""

    __props__ = ("lower", "trans", "unit_diagonal")

    def __init__(self, lower=False, trans=0, unit_diagonal=False):
        codes = {0: 0, 1: 1, 2: 1, "N": 0, "T": 1, "C": 1}  # real matrices: conjugate transpose = transpose
        if trans not in codes:
            raise ValueError(f"SolveTriangular: trans must be 0, 1, 2, 'N', 'T' or 'C', got {trans!r}")
        self.lower, self.trans, self.unit_diagonal = bool(lower), codes[trans], bool(unit_diagonal)

    def make_node(self, a, b):
        a, b, out = _solve_inputs("SolveTriangular", a, b)
        return Apply(self, [a, b], [out])

    def perform(self, node, inputs, output_storage):
        a, b = inputs
        _check_solve_values("SolveTriangular", a, b)
        x = scipy.linalg.solve_triangular(a, b, trans=self.trans, lower=self.lower,
                                          unit_diagonal=self.unit_diagonal)
        output_storage[0][0] = np.asarray(x, dtype=node.outputs[0].dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        return _solve_infer_shape(input_shapes)

    def L_op(self, inputs, outputs, output_grads):
        (a, b), (c,), (gc,) = inputs, outputs, output_grads
        gb = SolveTriangular(self.lower, 1 - self.trans, self.unit_diagonal)(a, gc)
        ga = _outer_grad(c, gb) if self.trans else _outer_grad(gb, c)
        k = 1 if self.unit_diagonal else 0
        return [tril(ga, -k) if self.lower else triu(ga, k), gb]


def solve_triangular(a, b, trans=0, lower=False, unit_diagonal=False):
    """``x`` with ``a x = b`` for triangular ``a`` (SciPy's signature)."""
    return SolveTriangular(lower, trans, unit_diagonal)(a, b)


def cho_solve(c_and_lower, b):
    """``x`` with ``a x = b`` given ``(c, lower)``, the Cholesky factor of ``a`` (two triangular solves)."""
    c, lower = c_and_lower
    if lower:
        return solve_triangular(c, solve_triangular(c, b, lower=True), trans=1, lower=True)
    return solve_triangular(c, solve_triangular(c, b, trans=1, lower=False), lower=False)


# ------------------------------------------------------------------ symmetric eigenvalues

class Eigvalsh(Op):
    """Eigenvalues (ascending) of symmetric ``a``, or of the generalized problem ``a v = w b v`` with ``b``
    positive definite; only the ``lower`` (or upper) triangles are read."""

    __props__ = ("lower",)

    def __init__(self, lower=True):
        self.lower = bool(lower)

    def make_node(self, a, b=None):
        a = as_float_matrix(a, "Eigvalsh", "a", square=True)
        inputs, dtype = [a], a.dtype
        if b is not None and not (getattr(b, "data", 0) is None):
            b = as_float_matrix(b, "Eigvalsh", "b", square=True)
            for s, t in zip(a.type.shape, b.type.shape):
                if s is not None and t is not None and s != t:
                    raise ValueError(f"Eigvalsh: a of static shape {a.type.shape} and b of {b.type.shape} differ")
            inputs, dtype = [a, b], ts.upcast(a.dtype, b.dtype)
        return Apply(self, inputs, [TensorType(dtype, shape=square_shape(a)[:1])()])

    def perform(self, node, inputs, output_storage):
        a = inputs[0]
        check_square("Eigvalsh", "a", a)
        b = inputs[1] if len(inputs) > 1 else None
        if b is not None and b.shape != a.shape:
            raise ValueError(f"Eigvalsh: a of shape {a.shape} and b of shape {b.shape} must match")
        w = scipy.linalg.eigvalsh(a, b, lower=self.lower) if a.size else np.zeros(0)
        output_storage[0][0] = np.asarray(w, dtype=node.outputs[0].dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        return [input_shapes[0][:1]]

    def L_op(self, inputs, outputs, output_grads):
        (w,), (gw,) = outputs, output_grads
        a, uplo = inputs[0], "L" if self.lower else "U"
        if len(inputs) == 1:
            v = eigh(a, uplo)[1]
            return [fold_triangle(matrix_dot(v, alloc_diag(gw), v.T), self.lower)]
        # reduce to a standard problem with b = l l': c = l^-1 a l^-T, eigenvectors v = l^-T u
        b = inputs[1]
        chol = Cholesky(lower=self.lower)(b)
        low = chol if self.lower else chol.T
        a_sym = tril(a) + tril(a, -1).T if self.lower else triu(a) + triu(a, 1).T
        y = solve_triangular(low, a_sym, lower=True)
        u = eigh(solve_triangular(low, y.T, lower=True))[1]
        v = solve_triangular(low, u, trans=1, lower=True)
        ga = fold_triangle(matrix_dot(v, alloc_diag(gw), v.T), self.lower)
        gb = fold_triangle(-matrix_dot(v, alloc_diag(gw * w), v.T), self.lower)
        return [ga, gb]


def eigvalsh(a, b=None, lower=True):
    """Eigenvalues of symmetric ``a`` (generalized problem with ``b``), in ascending order."""
    return Eigvalsh(lower)(a, b)


# ------------------------------------------------------------------ matrix exponential

class Expm(Op):
    """The matrix exponential (``scipy.linalg.expm``)."""

    def make_node(self, a):
        a = as_float_matrix(a, "Expm", "a", square=True)
        return Apply(self, [a], [TensorType(a.dtype, shape=square_shape(a))()])

    def perform(self, node, inputs, output_storage):
        (a,) = inputs
        check_square("Expm", "a", a)
        output_storage[0][0] = np.asarray(scipy.linalg.expm(a), dtype=node.outputs[0].dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        return [input_shapes[0]]

    def L_op(self, inputs, outputs, output_grads):
        return [ExpmGrad()(inputs[0], output_grads[0])]


class ExpmGrad(Op):
    """``ExpmGrad()(a, g)``: the vector-Jacobian product of expm at ``a``, i.e. the Frechet derivative of expm
    at ``a'`` in the direction ``g``."""

    def make_node(self, a, g):
        a = as_float_matrix(a, "ExpmGrad", "a", square=True)
        g = as_float_matrix(g, "ExpmGrad", "g", square=True)
        return Apply(self, [a, g], [TensorType(ts.upcast(a.dtype, g.dtype), shape=square_shape(a))()])

    def perform(self, node, inputs, output_storage):
        a, g = inputs
        check_square("ExpmGrad", "a", a)
        if g.shape != a.shape:
            raise ValueError(f"ExpmGrad: a of shape {a.shape} and g of shape {g.shape} must match")
        out = scipy.linalg.expm_frechet(a.T, g, compute_expm=False) if a.size else np.zeros_like(a)
        output_storage[0][0] = np.asarray(out, dtype=node.outputs[0].dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        return [input_shapes[0]]

    def L_op(self, inputs, outputs, output_grads):
        a, _ = inputs
        # linear in g, with the adjoint ExpmGrad(a'); the second derivative in a is not implemented
        return [grad_not_implemented(self, 0, a, "second derivative of expm"), ExpmGrad()(a.T, output_grads[0])]


expm = Expm()


# ------------------------------------------------------------------ Kronecker product

def kron(a, b):
    """The Kronecker product, as ``numpy.kron`` (the operand with fewer dimensions gets leading ones)."""
    a, b = _basic.as_tensor_variable(a), _basic.as_tensor_variable(b)
    ndim = max(a.ndim, b.ndim, 1)
    a = _basic.shape_padleft(a, ndim - a.ndim) if a.ndim < ndim else a
    b = _basic.shape_padleft(b, ndim - b.ndim) if b.ndim < ndim else b
    pa, pb = [], []
    for i in range(ndim):
        pa += [i, "x"]
        pb += ["x", i]
    prod = a.dimshuffle(*pa) * b.dimshuffle(*pb)
    return prod.reshape([a.shape[i] * b.shape[i] for i in range(ndim)], ndim=ndim)
