"""Linear algebra backed by ``numpy.linalg`` (Theano's ``T.nlinalg``).

Every op computes in NumPy and differentiates symbolically, so gradients are
graphs of other ops (differentiable again, and shape-inferable). Inputs are
real float matrices; integer and boolean inputs are cast to floatX (float16 to
float32) the way Theano upcasts them, complex inputs are refused.

Decompositions whose factors are not unique (the extra columns of a
``full_matrices`` SVD or a ``complete`` QR of a non-square matrix) have no
gradient for those factors: asking for one gives an undefined-gradient error,
while gradients that only use the unique part still work.

The less common ops (``eig``, ``lstsq``, ``tensorinv``, ``tensorsolve``) live in
``nlinalg_extra`` and are exposed here under their Theano names.
"""

import functools

import numpy as np

import symtensor.tensor.basic as _basic
import symtensor.tensor.extra_ops as _extra_ops
import symtensor.tensor.math as _math
import symtensor.tensor.subtensor as _subtensor
from symtensor import scalar as ts
from symtensor.config import config
from symtensor.graph.basic import Apply, Constant
from symtensor.graph.null_type import grad_undefined
from symtensor.graph.op import Op
from symtensor.graph.null_type import disconnected
from symtensor.tensor.elemwise import DimShuffle, Elemwise
from symtensor.tensor.join import concatenate
from symtensor.tensor.linalg_inputs import (  # noqa: F401  (as_float_tensor: slinalg imports it from here)
    as_float_matrix, as_float_tensor, check_square, eigen_node, square_shape)
from symtensor.tensor.nlinalg_extra import (Eig, Lstsq, TensorInv, TensorSolve, eig, lstsq, tensorinv,
                                            tensorsolve)
from symtensor.tensor.type import TensorType

__all__ = ["MatrixInverse", "matrix_inverse", "Det", "det", "SLogDet", "slogdet", "Eigh", "eigh", "SVD", "svd",
           "QR", "QRFull", "QRIncomplete", "qr", "MatrixPinv", "pinv", "ExtractDiag", "extract_diag", "AllocDiag",
           "alloc_diag", "diag", "trace", "matrix_dot", "matrix_power", "norm", "tril", "triu",
           # from nlinalg_extra, exposed here as in Theano
           "Eig", "eig", "Lstsq", "lstsq", "TensorInv", "tensorinv", "TensorSolve", "tensorsolve"]


# ------------------------------------------------------------------ unused outputs

def is_zero(g):
    """Whether ``g`` is the symbolic zero that grad fills in for an output nobody used."""
    owner = g.owner
    if owner is None or not isinstance(owner.op, Elemwise) or not isinstance(owner.op.scalar_op, type(ts.second)):
        return False
    value = owner.inputs[1]
    while value.owner is not None and isinstance(value.owner.op, DimShuffle):
        value = value.owner.inputs[0]
    try:
        return float(_basic.get_scalar_constant_value(value)) == 0.0
    except _basic.NotScalarConstantError:
        return False


# ------------------------------------------------------------------ symbolic helpers

def _tri_mask(x, k, lower):
    rows = _extra_ops.arange(x.shape[0]).dimshuffle(0, "x")
    cols = _extra_ops.arange(x.shape[1]).dimshuffle("x", 0)
    return _math.ge(rows + k, cols) if lower else _math.le(rows + k, cols)


def tril(x, k=0):
    """The lower triangle of matrix ``x`` (entries above diagonal ``k`` set to 0)."""
    x = _basic.as_tensor_variable(x)
    return _math.switch(_tri_mask(x, k, True), x, _basic.constant(0, dtype=x.dtype))


def triu(x, k=0):
    """The upper triangle of matrix ``x`` (entries below diagonal ``k`` set to 0)."""
    x = _basic.as_tensor_variable(x)
    return _math.switch(_tri_mask(x, k, False), x, _basic.constant(0, dtype=x.dtype))


def fold_triangle(g, lower):
    """Gradient of a function that reads only one triangle of a symmetric matrix.

    ``g`` is the gradient with respect to the full symmetric matrix; an
    off-diagonal entry of the read triangle stands for two entries of it.
    """
    if lower:
        return tril(g) + tril(g.T, -1)
    return triu(g) + triu(g.T, 1)


def _off_diagonal_reciprocal(d):
    """``1 / d`` off the diagonal, 0 on it (d holds pairwise differences, 0 on the diagonal)."""
    eye = _extra_ops.identity_like(d)
    return (1 - eye) / (d + eye)


def matrix_dot(*args):
    """``dot(dot(args[0], args[1]), ...)``: the product of a chain of matrices."""
    if not args:
        raise TypeError("matrix_dot: expected at least one matrix")
    return functools.reduce(_math.dot, args)


# ------------------------------------------------------------------ inverse, determinants

class MatrixInverse(Op):
    """The inverse of a square matrix (``numpy.linalg.inv``)."""

    def make_node(self, x):
        x = as_float_matrix(x, "MatrixInverse", square=True)
        return Apply(self, [x], [TensorType(x.dtype, shape=square_shape(x))()])

    def perform(self, node, inputs, output_storage):
        (x,) = inputs
        check_square("MatrixInverse", "x", x)
        output_storage[0][0] = np.linalg.inv(x).astype(node.outputs[0].dtype, copy=False)

    def infer_shape(self, fgraph, node, input_shapes):
        return [input_shapes[0]]

    def L_op(self, inputs, outputs, output_grads):
        (xi,) = outputs
        (gz,) = output_grads
        # d(X^-1) = -X^-1 dX X^-1, so the vector-Jacobian product is -X^-T gz X^-T
        return [-matrix_dot(xi.T, gz, xi.T)]

    def R_op(self, inputs, eval_points):
        if eval_points[0] is None:
            return [None]
        xi = self(inputs[0])
        return [-matrix_dot(xi, eval_points[0], xi)]


matrix_inverse = MatrixInverse()


class Det(Op):
    """The determinant of a square matrix (a 0-d tensor)."""

    def make_node(self, x):
        x = as_float_matrix(x, "Det", square=True)
        return Apply(self, [x], [TensorType(x.dtype, shape=())()])

    def perform(self, node, inputs, output_storage):
        (x,) = inputs
        check_square("Det", "x", x)
        output_storage[0][0] = np.asarray(np.linalg.det(x), dtype=node.outputs[0].dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        return [()]

    def L_op(self, inputs, outputs, output_grads):
        (x,), (d,), (gz,) = inputs, outputs, output_grads
        return [gz * d * matrix_inverse(x).T]

    def R_op(self, inputs, eval_points):
        if eval_points[0] is None:
            return [None]
        x = inputs[0]
        # d det = det * trace(X^-1 dX)
        return [self(x) * _math.sum(matrix_inverse(x).T * eval_points[0])]


det = Det()


class SLogDet(Op):
    """``(sign, log|det|)`` of a square matrix, as ``numpy.linalg.slogdet``: no overflow for large matrices."""

    def make_node(self, x):
        x = as_float_matrix(x, "SLogDet", square=True)
        return Apply(self, [x], [TensorType(x.dtype, shape=())(), TensorType(x.dtype, shape=())()])

    def perform(self, node, inputs, output_storage):
        (x,) = inputs
        check_square("SLogDet", "x", x)
        sign, logdet = np.linalg.slogdet(x)
        output_storage[0][0] = np.asarray(sign, dtype=node.outputs[0].dtype)
        output_storage[1][0] = np.asarray(logdet, dtype=node.outputs[1].dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        return [(), ()]

    def L_op(self, inputs, outputs, output_grads):
        # the sign is piecewise constant: only log|det| contributes, with gradient X^-T
        return [output_grads[1] * matrix_inverse(inputs[0]).T]

    def R_op(self, inputs, eval_points):
        if eval_points[0] is None:
            return [None, None]
        x = inputs[0]
        return [_basic.zeros_like(self(x)[0]), _math.sum(matrix_inverse(x).T * eval_points[0])]


def slogdet(x):
    """``sign, logabsdet = slogdet(x)``."""
    return SLogDet()(x)


# ------------------------------------------------------------------ symmetric eigenproblem

class Eigh(Op):
    """Eigenvalues (ascending) and eigenvectors of a symmetric matrix, reading only its ``UPLO`` triangle."""

    __props__ = ("UPLO",)

    def __init__(self, UPLO="L"):  # noqa: N803  (Theano's and NumPy's name)
        if UPLO not in ("L", "U"):
            raise ValueError(f"Eigh: UPLO must be 'L' or 'U', got {UPLO!r}")
        self.UPLO = UPLO

    def make_node(self, x):
        return eigen_node(self, x, "Eigh")

    def perform(self, node, inputs, output_storage):
        (x,) = inputs
        check_square("Eigh", "x", x)
        w, v = np.linalg.eigh(x, self.UPLO)
        output_storage[0][0] = w.astype(node.outputs[0].dtype, copy=False)
        output_storage[1][0] = v.astype(node.outputs[1].dtype, copy=False)

    def infer_shape(self, fgraph, node, input_shapes):
        n = input_shapes[0][0]
        return [(n,), (n, n)]

    def L_op(self, inputs, outputs, output_grads):
        w, v = outputs
        gw, gv = output_grads
        # dw_n = v_n' dA v_n and dv_n = sum_{m != n} v_m (v_m' dA v_n) / (w_n - w_m)
        inner = alloc_diag(gw)
        if not is_zero(gv):
            f = _off_diagonal_reciprocal(w.dimshuffle("x", 0) - w.dimshuffle(0, "x"))
            inner = inner + f * _math.dot(v.T, gv)
        return [fold_triangle(matrix_dot(v, inner, v.T), self.UPLO == "L")]


def eigh(a, UPLO="L"):  # noqa: N803
    """``w, v = eigh(a)``: eigenvalues and eigenvectors of the symmetric matrix ``a``."""
    return Eigh(UPLO)(a)


# ------------------------------------------------------------------ SVD

class SVD(Op):
    """Singular value decomposition ``u, s, vt`` (or ``s`` alone), as ``numpy.linalg.svd``."""

    __props__ = ("full_matrices", "compute_uv")

    def __init__(self, full_matrices=True, compute_uv=True):
        self.full_matrices, self.compute_uv = bool(full_matrices), bool(compute_uv)

    def make_node(self, x):
        x = as_float_matrix(x, "SVD")
        m, n = x.type.shape
        k = None if m is None or n is None else min(m, n)
        s = TensorType(x.dtype, shape=(k,))()
        if not self.compute_uv:
            return Apply(self, [x], [s])
        u = TensorType(x.dtype, shape=(m, m if self.full_matrices else k))()
        vt = TensorType(x.dtype, shape=(n if self.full_matrices else k, n))()
        return Apply(self, [x], [u, s, vt])

    def perform(self, node, inputs, output_storage):
        (x,) = inputs
        result = np.linalg.svd(x, full_matrices=self.full_matrices, compute_uv=self.compute_uv)
        if not self.compute_uv:
            result = (result,)
        for storage, value, out in zip(output_storage, result, node.outputs):
            storage[0] = value.astype(out.dtype, copy=False)

    def infer_shape(self, fgraph, node, input_shapes):
        m, n = input_shapes[0]
        k = _math.minimum(m, n)
        if not self.compute_uv:
            return [(k,)]
        if self.full_matrices:
            return [(m, m), (k,), (n, n)]
        return [(m, k), (k,), (k, n)]

    def L_op(self, inputs, outputs, output_grads):
        (x,) = inputs
        if not self.compute_uv:
            u, s, vt = SVD(full_matrices=False)(x)
            gu = gvt = None
            (gs,) = output_grads
        else:
            u, s, vt = outputs
            gu, gs, gvt = output_grads
            gu, gvt = (None if is_zero(g) else g for g in (gu, gvt))
        m, n = x.type.shape
        square = m is not None and m == n
        k = s.shape[0]
        u, vt = u[:, :k], vt[:k]
        a_bar = matrix_dot(u * gs.dimshuffle("x", 0), vt)
        if gu is None and gvt is None:
            return [a_bar]
        extras = [g for g in (None if gu is None else gu[:, k:], None if gvt is None else gvt[k:]) if g is not None]
        # Townsend, "Differentiating the singular value decomposition" (2016), for the reduced factors
        f = _off_diagonal_reciprocal(_math.sqr(s).dimshuffle("x", 0) - _math.sqr(s).dimshuffle(0, "x"))
        inner = _basic.zeros_like(f)
        if gu is not None:
            gu = gu[:, :k]
            utgu = _math.dot(u.T, gu)
            inner = inner + f * (utgu - utgu.T) * s.dimshuffle("x", 0)
            if not square:
                a_bar = a_bar + _math.dot((gu - _math.dot(u, utgu)) / s.dimshuffle("x", 0), vt)
        if gvt is not None:
            gvt = gvt[:k]
            vtgv = _math.dot(vt, gvt.T)
            inner = inner + s.dimshuffle(0, "x") * (f * (vtgv - vtgv.T))
            if not square:
                a_bar = a_bar + _math.dot(u, (gvt - _math.dot(vtgv.T, vt)) / s.dimshuffle(0, "x"))
        a_bar = a_bar + matrix_dot(u, inner, vt)
        if self.full_matrices and not square:
            a_bar = UniqueFactorsCheck("SVD", "singular vectors past min(m, n) of full_matrices=True")(a_bar, *extras)
        return [a_bar]


def svd(a, full_matrices=1, compute_uv=1):
    """``u, s, vt = svd(a)`` (``s`` alone when ``compute_uv`` is false), as ``numpy.linalg.svd``."""
    return SVD(full_matrices, compute_uv)(a)


class UniqueFactorsCheck(Op):
    """Passes a gradient through, failing at run time if the gradients of non-unique factors are not zero.

    The extra columns of a full SVD or complete QR of a non-square matrix are
    an arbitrary basis, so a cost that depends on them has no gradient; a cost
    that does not (their gradients are zero) has one.
    """

    __props__ = ("opname", "what")
    view_map = {0: [0]}

    def __init__(self, opname, what):
        self.opname, self.what = opname, what

    def make_node(self, g, *extras):
        g = _basic.as_tensor_variable(g)
        return Apply(self, [g, *map(_basic.as_tensor_variable, extras)], [g.type()])

    def perform(self, node, inputs, output_storage):
        if any(np.any(e != 0) for e in inputs[1:]):
            raise ValueError(f"{self.opname}: the gradient with respect to the {self.what} is undefined (they are "
                             f"not unique) but the cost depends on them; use the reduced factors")
        output_storage[0][0] = inputs[0]

    def infer_shape(self, fgraph, node, input_shapes):
        return [input_shapes[0]]

    def connection_pattern(self, node):
        return [[True]] + [[False]] * (len(node.inputs) - 1)

    def L_op(self, inputs, outputs, output_grads):
        return [output_grads[0]] + [disconnected() for _ in inputs[1:]]


# ------------------------------------------------------------------ QR

QR_MODES = ("reduced", "complete", "r", "raw")


class QR(Op):
    """QR decomposition as ``numpy.linalg.qr``: ``q, r`` for 'reduced'/'complete', ``r`` for 'r', ``h, tau``
    for 'raw' (LAPACK's Householder form, which has no gradient)."""

    __props__ = ("mode",)

    def __init__(self, mode="reduced"):
        if mode not in QR_MODES:
            raise ValueError(f"QR: mode must be one of {QR_MODES}, got {mode!r}")
        self.mode = mode

    def make_node(self, x):
        x = as_float_matrix(x, "QR")
        m, n = x.type.shape
        k = None if m is None or n is None else min(m, n)
        shapes = {"reduced": [(m, k), (k, n)], "complete": [(m, m), (m, n)], "r": [(k, n)],
                  "raw": [(n, m), (k,)]}[self.mode]
        return Apply(self, [x], [TensorType(x.dtype, shape=s)() for s in shapes])

    def perform(self, node, inputs, output_storage):
        result = np.linalg.qr(inputs[0], mode=self.mode)
        result = (result,) if self.mode == "r" else tuple(result)
        for storage, value, out in zip(output_storage, result, node.outputs):
            storage[0] = np.asarray(value, dtype=out.dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        m, n = input_shapes[0]
        k = _math.minimum(m, n)
        return {"reduced": [(m, k), (k, n)], "complete": [(m, m), (m, n)], "r": [(k, n)],
                "raw": [(n, m), (k,)]}[self.mode]

    def L_op(self, inputs, outputs, output_grads):
        (x,) = inputs
        if self.mode == "raw":
            return [grad_undefined(self, 0, x, "the Householder form of mode='raw' is not differentiable")]
        if self.mode == "r":
            q, gq = QR("reduced")(x)[0], None
            (r,), (gr,) = outputs, output_grads
        else:
            (q, r), (gq, gr) = outputs, output_grads
            gq = None if is_zero(gq) else gq
        if self.mode != "complete":
            return [_qr_grad(x, q, r, gq, gr)]
        k = _math.minimum(x.shape[0], x.shape[1])
        extras = [] if gq is None else [gq[:, k:]]
        q, r, gq = q[:, :k], r[:k], None if gq is None else gq[:, :k]
        a_bar = _qr_grad(x, q, r, gq, gr[:k])
        m, n = x.type.shape
        if extras and not (m is not None and n is not None and m <= n):
            a_bar = UniqueFactorsCheck("QR", "columns of q past min(m, n) of mode='complete'")(a_bar, *extras)
        return [a_bar]


def _qr_grad(a, q, r, gq, gr):
    """Gradient of ``a = q r`` (reduced).

    The leading square block of ``r`` is invertible for a full-rank ``a``; the
    columns past it (wide ``a``) are ``q' a[:, k:]``, whose gradient folds into
    that of ``q``. The square/tall part follows the usual formula (as in
    TensorFlow's QrGrad), with ``R^-T`` from an explicit inverse of a small
    triangular block.
    """
    k = r.shape[0]
    rk, gr_k, gr_rest, a_rest = r[:, :k], gr[:, :k], gr[:, k:], a[:, k:]
    gq = _basic.zeros_like(q) if gq is None else gq
    gq = gq + _math.dot(a_rest, gr_rest.T)
    r_inv_t = matrix_inverse(rk).T
    qdq = _math.dot(q.T, gq)
    rdr = _math.dot(rk, gr_k.T)
    low = tril(qdq - qdq.T + rdr - rdr.T)
    g_first = _math.dot(q, gr_k + _math.dot(low, r_inv_t)) + _math.dot(gq - _math.dot(q, qdq), r_inv_t)
    return concatenate([g_first, _math.dot(q, gr_rest)], axis=1)


QRFull = QRIncomplete = QR  # Theano's names for the modes with and without q


def qr(a, mode="reduced"):
    """QR decomposition of a matrix, as ``numpy.linalg.qr`` (``mode`` in 'reduced', 'complete', 'r', 'raw')."""
    return QR(mode)(a)


# ------------------------------------------------------------------ pseudo-inverse

class MatrixPinv(Op):
    """The Moore-Penrose pseudo-inverse (``numpy.linalg.pinv``); differentiable where the rank is constant."""

    def make_node(self, x):
        x = as_float_matrix(x, "MatrixPinv")
        return Apply(self, [x], [TensorType(x.dtype, shape=x.type.shape[::-1])()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = np.linalg.pinv(inputs[0]).astype(node.outputs[0].dtype, copy=False)

    def infer_shape(self, fgraph, node, input_shapes):
        return [tuple(reversed(input_shapes[0]))]

    def L_op(self, inputs, outputs, output_grads):
        (a,), (p,), (g,) = inputs, outputs, output_grads
        # Golub & Pereyra: dP = -P dA P + P P' dA' (I - A P) + (I - P A) dA' P' P
        eye_m = _extra_ops.eye(a.shape[0], dtype=a.dtype)
        eye_n = _extra_ops.eye(a.shape[1], dtype=a.dtype)
        return [-matrix_dot(p.T, g, p.T)
                + matrix_dot(eye_m - _math.dot(a, p), g.T, p, p.T)
                + matrix_dot(p.T, p, g.T, eye_n - _math.dot(p, a))]


pinv = MatrixPinv()


# ------------------------------------------------------------------ diagonals

def _diag_axes(offset, axis1, axis2, ndim, opname):
    a1, a2 = axis1 % ndim if -ndim <= axis1 < ndim else None, axis2 % ndim if -ndim <= axis2 < ndim else None
    if a1 is None or a2 is None:
        raise ValueError(f"{opname}: axes ({axis1}, {axis2}) out of range for {ndim} dimensions")
    if a1 == a2:
        raise ValueError(f"{opname}: axis1 and axis2 must differ, got {axis1} and {axis2}")
    return a1, a2


def _diag_length(n1, n2, offset):
    """Length of diagonal ``offset`` of an n1 x n2 block (ints or symbolic scalars)."""
    if isinstance(n1, int) and isinstance(n2, int):
        return max(0, min(n1 + min(offset, 0), n2 - max(offset, 0)))
    return _math.maximum(_math.minimum(n1 + min(offset, 0), n2 - max(offset, 0)), 0)


def _place_diag_axes(ndim, a1, a2):
    """Permutation taking (diag axis 1, diag axis 2, other axes...) to axes where the diagonal sits at a1, a2."""
    others = iter(range(2, ndim))
    return [0 if f == a1 else 1 if f == a2 else next(others) for f in range(ndim)]


class ExtractDiag(Op):
    """Diagonal ``offset`` of the (axis1, axis2) planes of ``x``, as ``numpy.diagonal`` (a copy, not a view).

    ``view`` is accepted for Theano compatibility and ignored.
    """

    __props__ = ("offset", "axis1", "axis2")

    def __init__(self, offset=0, axis1=0, axis2=1, view=False):
        self.offset, self.axis1, self.axis2 = int(offset), int(axis1), int(axis2)

    def make_node(self, x):
        x = _basic.as_tensor_variable(x)
        if x.ndim < 2:
            raise TypeError(f"ExtractDiag: x must have at least 2 dimensions, got a {x.ndim}-d {x}")
        a1, a2 = _diag_axes(self.offset, self.axis1, self.axis2, x.ndim, "ExtractDiag")
        others = [s for i, s in enumerate(x.type.shape) if i not in (a1, a2)]
        n1, n2 = x.type.shape[a1], x.type.shape[a2]
        length = None if n1 is None or n2 is None else _diag_length(n1, n2, self.offset)
        return Apply(self, [x], [TensorType(x.dtype, shape=others + [length])()])

    def perform(self, node, inputs, output_storage):
        out = np.diagonal(inputs[0], self.offset, self.axis1, self.axis2)
        output_storage[0][0] = np.array(out, dtype=node.outputs[0].dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        shp = input_shapes[0]
        a1, a2 = _diag_axes(self.offset, self.axis1, self.axis2, len(shp), "ExtractDiag")
        others = [s for i, s in enumerate(shp) if i not in (a1, a2)]
        return [tuple(others) + (_diag_length(shp[a1], shp[a2], self.offset),)]

    def L_op(self, inputs, outputs, output_grads):
        (x,), (gz,) = inputs, output_grads
        a1, a2 = _diag_axes(self.offset, self.axis1, self.axis2, x.ndim, "ExtractDiag")
        others = [i for i in range(x.ndim) if i not in (a1, a2)]
        zeros = _basic.zeros([x.shape[a1], x.shape[a2]] + [x.shape[i] for i in others], dtype=gz.dtype)
        idx = _extra_ops.arange(gz.shape[-1])
        r0, c0 = max(-self.offset, 0), max(self.offset, 0)
        g = _subtensor.set_subtensor(zeros[idx + r0, idx + c0], gz.dimshuffle(gz.ndim - 1, *range(gz.ndim - 1)))
        return [g.dimshuffle(*_place_diag_axes(x.ndim, a1, a2))]

    def R_op(self, inputs, eval_points):
        return [None if eval_points[0] is None else self(eval_points[0])]


def extract_diag(x):
    """The main diagonal of matrix ``x``."""
    return ExtractDiag()(x)


class AllocDiag(Op):
    """A tensor of zeros with the last axis of ``x`` on diagonal ``offset`` of its (axis1, axis2) planes."""

    __props__ = ("offset", "axis1", "axis2")

    def __init__(self, offset=0, axis1=0, axis2=1):
        self.offset, self.axis1, self.axis2 = int(offset), int(axis1), int(axis2)

    def make_node(self, x):
        x = _basic.as_tensor_variable(x)
        if x.ndim < 1:
            raise TypeError(f"AllocDiag: x must have at least 1 dimension, got a 0-d {x}")
        a1, a2 = _diag_axes(self.offset, self.axis1, self.axis2, x.ndim + 1, "AllocDiag")
        n = x.type.shape[-1]
        n = None if n is None else n + abs(self.offset)
        others = iter(x.type.shape[:-1])
        shape = [n if f in (a1, a2) else next(others) for f in range(x.ndim + 1)]
        return Apply(self, [x], [TensorType(x.dtype, shape=shape)()])

    def perform(self, node, inputs, output_storage):
        (x,) = inputs
        a1, a2 = _diag_axes(self.offset, self.axis1, self.axis2, x.ndim + 1, "AllocDiag")
        length = x.shape[-1]
        n = length + abs(self.offset)
        out = np.zeros((n, n) + x.shape[:-1], dtype=node.outputs[0].dtype)
        idx = np.arange(length)
        out[idx + max(-self.offset, 0), idx + max(self.offset, 0)] = np.moveaxis(x, -1, 0)
        output_storage[0][0] = np.ascontiguousarray(np.transpose(out, _place_diag_axes(x.ndim + 1, a1, a2)))

    def infer_shape(self, fgraph, node, input_shapes):
        shp = input_shapes[0]
        a1, a2 = _diag_axes(self.offset, self.axis1, self.axis2, len(shp) + 1, "AllocDiag")
        n = shp[-1] + abs(self.offset)
        others = iter(shp[:-1])
        return [tuple(n if f in (a1, a2) else next(others) for f in range(len(shp) + 1))]

    def L_op(self, inputs, outputs, output_grads):
        return [ExtractDiag(self.offset, self.axis1, self.axis2)(output_grads[0])]

    def R_op(self, inputs, eval_points):
        return [None if eval_points[0] is None else self(eval_points[0])]


alloc_diag = AllocDiag()


def diag(x):
    """Theano's ``nlinalg.diag``: a vector's diagonal matrix, or a matrix's diagonal."""
    x = _basic.as_tensor_variable(x)
    if x.ndim == 1:
        return alloc_diag(x)
    if x.ndim == 2:
        return extract_diag(x)
    raise TypeError(f"diag: expected a vector or a matrix, got a {x.ndim}-d {x}")


def trace(X):  # noqa: N803  (Theano's name)
    """The sum of the diagonal of matrix ``X``."""
    X = _basic.as_tensor_variable(X)
    if X.ndim != 2:
        raise TypeError(f"trace: X must be a matrix (2-d), got a {X.ndim}-d {X}")
    return extract_diag(X).sum()


# ------------------------------------------------------------------ helpers built from other ops

def matrix_power(M, n):  # noqa: N803
    """``M`` to the integer power ``n`` by repeated squaring (a negative ``n`` inverts ``M`` first)."""
    M = as_float_matrix(M, "matrix_power", "M", square=True)
    if isinstance(n, Constant):
        n = n.data
    if not isinstance(n, (int, np.integer)) or isinstance(n, (bool, np.bool_)):
        raise TypeError(f"matrix_power: n must be a Python integer, got {n!r}")
    n = int(n)
    if n < 0:
        M, n = matrix_inverse(M), -n
    result, base = None, M
    while n:
        if n & 1:
            result = base if result is None else _math.dot(result, base)
        n >>= 1
        if n:
            base = _math.dot(base, base)
    return _extra_ops.identity_like(M) if result is None else result


def _is_inf(ord, sign):  # noqa: A002
    return (isinstance(ord, str) and ord == ("inf" if sign > 0 else "-inf")) or \
        (isinstance(ord, (int, float)) and not isinstance(ord, bool) and ord == sign * np.inf)


def norm(x, ord=None):  # noqa: A002
    """Vector or matrix norm as ``numpy.linalg.norm`` (``ord``: None, 'fro', 'inf'/inf, '-inf'/-inf, 0, p for
    vectors; None, 'fro', inf, -inf, 1, -1, 'nuc', 2, -2 for matrices)."""
    x = _basic.as_tensor_variable(x)
    if x.ndim == 1:
        if ord is None:
            return _math.sqrt(_math.sum(_math.sqr(x)))
        if _is_inf(ord, 1):
            return _math.max(abs(x))
        if _is_inf(ord, -1):
            return _math.min(abs(x))
        if isinstance(ord, (int, float)) and not isinstance(ord, bool):
            if ord == 0:
                return _math.sum(_math.neq(x, 0), dtype=config.floatX)
            return _math.sum(abs(x) ** ord) ** (1.0 / ord)
        raise ValueError(f"norm: invalid order {ord!r} for a vector")
    if x.ndim == 2:
        if ord is None or ord == "fro":
            return _math.sqrt(_math.sum(_math.sqr(x)))
        if _is_inf(ord, 1):
            return _math.max(_math.sum(abs(x), axis=1))
        if _is_inf(ord, -1):
            return _math.min(_math.sum(abs(x), axis=1))
        if ord in (1, -1) and not isinstance(ord, bool):
            col = _math.sum(abs(x), axis=0)
            return _math.max(col) if ord == 1 else _math.min(col)
        if ord in ("nuc", 2, -2):
            s = svd(x, compute_uv=False)
            return _math.sum(s) if ord == "nuc" else _math.max(s) if ord == 2 else _math.min(s)
        raise ValueError(f"norm: invalid order {ord!r} for a matrix")
    raise TypeError(f"norm: expected a vector or a matrix, got a {x.ndim}-d {x}")
