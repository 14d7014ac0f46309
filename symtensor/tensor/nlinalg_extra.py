"""The less common ``numpy.linalg`` ops of Theano's ``T.nlinalg``: eig, lstsq, tensorinv, tensorsolve.

``nlinalg`` re-exports them. Like the rest of ``nlinalg`` they compute in
NumPy; ``tensorinv`` and ``tensorsolve`` are matrix inverses and solves seen
through reshapes, so their gradients are the matrix ones, written with the
ops themselves and reshapes (differentiable again). Theano gave ``eig`` and
``lstsq`` no gradient, and neither do these.
"""

import numpy as np

import symtensor.tensor.basic as _basic
import symtensor.tensor.math as _math
from symtensor import scalar as ts
from symtensor.graph.basic import Apply
from symtensor.graph.null_type import grad_not_implemented, grad_undefined
from symtensor.graph.op import Op
from symtensor.tensor.linalg_inputs import as_float_matrix, as_float_tensor, check_square, eigen_node
from symtensor.tensor.shape import reshape
from symtensor.tensor.type import TensorType

__all__ = ["Eig", "eig", "Lstsq", "lstsq", "TensorInv", "tensorinv", "TensorSolve", "tensorsolve"]


def _static_prod(shape):
    """The product of a static shape, or None if a length is unknown."""
    return None if any(s is None for s in shape) else int(np.prod(shape, dtype=np.int64))


def _prod(lengths):
    """The product of symbolic lengths (1 for none)."""
    out = _basic.constant(1, dtype="int64")
    for n in lengths:
        out = out * n
    return out


def _as_square_matrix(x, rows):
    """``x`` reshaped to a matrix whose row count is the product of its first ``rows`` lengths."""
    return reshape(x, [_prod([x.shape[i] for i in range(rows)]), -1], ndim=2)


# ------------------------------------------------------------------ general eigenproblem

class Eig(Op):
    """Eigenvalues ``w`` and right eigenvectors ``v`` (columns) of a square matrix, as ``numpy.linalg.eig``.

    As in Theano the outputs have the input's real dtype, so the eigenvalues
    must be real: a matrix with complex eigenvalues is refused at run time
    (Theano silently dropped their imaginary parts).
    """

    def make_node(self, x):
        return eigen_node(self, x, "Eig")

    def perform(self, node, inputs, output_storage):
        (x,) = inputs
        check_square("Eig", "x", x)
        w, v = np.linalg.eig(x)
        if np.iscomplexobj(w):
            raise ValueError("Eig: the matrix has complex eigenvalues, which the real outputs cannot hold "
                             f"(eigenvalues {w})")
        output_storage[0][0] = w.astype(node.outputs[0].dtype, copy=False)
        output_storage[1][0] = v.astype(node.outputs[1].dtype, copy=False)

    def infer_shape(self, fgraph, node, input_shapes):
        n = input_shapes[0][0]
        return [(n,), (n, n)]

    def L_op(self, inputs, outputs, output_grads):
        return [grad_undefined(self, 0, inputs[0], "Theano defines no gradient for the general eigenproblem; "
                                                   "use eigh for a symmetric matrix")]


eig = Eig()


# ------------------------------------------------------------------ least squares

class Lstsq(Op):
    """The least-squares solution of ``a x = b``: ``x, residuals, rank, s`` as ``numpy.linalg.lstsq``.

    ``residuals`` holds the squared residual norm of each column of ``b``; like
    NumPy's it is empty unless ``a`` has more rows than columns and full rank.
    Singular values below ``rcond`` times the largest one count as zero (a
    negative ``rcond`` means machine precision).
    """

    def make_node(self, a, b, rcond=-1):
        a = as_float_matrix(a, "Lstsq", "a")
        b = as_float_tensor(b, "Lstsq", "b")
        if b.ndim not in (1, 2):
            raise TypeError(f"Lstsq: b must be a vector or a matrix, got a {b.ndim}-d {b}")
        rcond = _basic.as_tensor_variable(rcond)
        if rcond.ndim != 0 or rcond.dtype in ts.complex_dtypes:
            raise TypeError(f"Lstsq: rcond must be a real scalar, got {rcond} of type {rcond.type}")
        rcond = _basic.cast(rcond, "float64")
        m, n = a.type.shape
        if m is not None and b.type.shape[0] is not None and m != b.type.shape[0]:
            raise ValueError(f"Lstsq: a and b must have as many rows, got static shapes {a.type.shape} and "
                             f"{b.type.shape}")
        dtype = ts.upcast(a.dtype, b.dtype)
        k = None if m is None or n is None else min(m, n)
        outputs = [TensorType(dtype, shape=(n,) + b.type.shape[1:])(), TensorType(dtype, shape=(None,))(),
                   TensorType("int64", shape=())(), TensorType(dtype, shape=(k,))()]
        return Apply(self, [a, b, rcond], outputs)

    def perform(self, node, inputs, output_storage):
        a, b, rcond = inputs
        if a.shape[0] != b.shape[0]:
            raise ValueError(f"Lstsq: a and b must have as many rows, got shapes {a.shape} and {b.shape}")
        x, residuals, rank, s = np.linalg.lstsq(a, b, rcond=float(rcond))
        for storage, value, out in zip(output_storage, (x, residuals, rank, s), node.outputs):
            storage[0] = np.asarray(value, dtype=out.dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        (m, n), b_shape = input_shapes[:2]
        # NumPy gives residuals only for a full-rank a with more rows than columns: the length needs the rank
        rank = self(*node.inputs)[2]
        columns = b_shape[1] if len(b_shape) == 2 else 1
        full = _math.and_(_math.gt(m, n), _math.eq(rank, n))
        residuals = _math.switch(full, columns, 0)
        return [(n,) + tuple(b_shape[1:]), (residuals,), (), (_math.minimum(m, n),)]

    def L_op(self, inputs, outputs, output_grads):
        why = "Theano defines no gradient for lstsq; for a full-rank a, dot(pinv(a), b) is differentiable"
        return [grad_not_implemented(self, 0, inputs[0], why), grad_not_implemented(self, 1, inputs[1], why),
                grad_undefined(self, 2, inputs[2], "rcond only decides which singular values count as zero")]


def lstsq(a, b, rcond=-1):
    """``x, residuals, rank, s = lstsq(a, b, rcond)``: least squares as ``numpy.linalg.lstsq``."""
    return Lstsq()(a, b, rcond)


# ------------------------------------------------------------------ tensor inverse

class TensorInv(Op):
    """The inverse of ``a`` for ``tensordot(., ., ind)``, as ``numpy.linalg.tensorinv``.

    ``a`` of shape ``s[:ind] + s[ind:]`` is a square matrix of
    ``prod(s[:ind])`` rows; its inverse has shape ``s[ind:] + s[:ind]``.
    """

    __props__ = ("ind",)

    def __init__(self, ind=2):
        if isinstance(ind, bool) or not isinstance(ind, (int, np.integer)) or ind <= 0:
            raise ValueError(f"TensorInv: ind must be a positive integer, got {ind!r}")
        self.ind = int(ind)

    def make_node(self, a):
        a = as_float_tensor(a, "TensorInv", "a")
        if a.ndim < self.ind:
            raise TypeError(f"TensorInv: a must have at least ind={self.ind} dimensions, got a {a.ndim}-d {a}")
        rows, cols = _static_prod(a.type.shape[:self.ind]), _static_prod(a.type.shape[self.ind:])
        if rows is not None and cols is not None and rows != cols:
            raise ValueError(f"TensorInv: a of static shape {a.type.shape} is not square for ind={self.ind}: "
                             f"prod(shape[:ind])={rows} != prod(shape[ind:])={cols}")
        shape = a.type.shape[self.ind:] + a.type.shape[:self.ind]
        return Apply(self, [a], [TensorType(a.dtype, shape=shape)()])

    def perform(self, node, inputs, output_storage):
        (a,) = inputs
        rows, cols = _static_prod(a.shape[:self.ind]), _static_prod(a.shape[self.ind:])
        if rows != cols:
            raise ValueError(f"TensorInv: a of shape {a.shape} is not square for ind={self.ind}: "
                             f"prod(shape[:ind])={rows} != prod(shape[ind:])={cols}")
        out = np.linalg.tensorinv(a, self.ind)
        output_storage[0][0] = np.asarray(out, dtype=node.outputs[0].dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        shp = tuple(input_shapes[0])
        return [shp[self.ind:] + shp[:self.ind]]

    def L_op(self, inputs, outputs, output_grads):
        (a,), (y,), (gy,) = inputs, outputs, output_grads
        # matrix form: d(A^-1) = -A^-1 dA A^-1, so the vector-Jacobian product is -Y' G Y'
        ym = _as_square_matrix(y, a.ndim - self.ind)
        gm = _as_square_matrix(gy, a.ndim - self.ind)
        ga = -_math.dot(ym.T, _math.dot(gm, ym.T))
        return [reshape(ga, a.shape, ndim=a.ndim)]

    def R_op(self, inputs, eval_points):
        if eval_points[0] is None:
            return [None]
        (a,), da = inputs, eval_points[0]
        y = self(a)
        ym = _as_square_matrix(y, a.ndim - self.ind)
        dy = -_math.dot(ym, _math.dot(_as_square_matrix(da, self.ind), ym))
        return [reshape(dy, y.shape, ndim=y.ndim)]


def tensorinv(a, ind=2):
    """The inverse of ``a`` with respect to ``tensordot(., ., ind)``, as ``numpy.linalg.tensorinv``."""
    return TensorInv(ind)(a)


# ------------------------------------------------------------------ tensor solve

def _solve_axes(axes, ndim):
    """``axes`` (moved to the end of ``a`` before solving) as a tuple of non-negative ints, or None."""
    if axes is None:
        return None
    axes = tuple(int(ax) for ax in np.atleast_1d(axes))
    normal = tuple(ax % ndim if -ndim <= ax < ndim else None for ax in axes)
    if None in normal or len(set(normal)) != len(normal):
        raise ValueError(f"TensorSolve: axes {axes} must be distinct axes of the {ndim}-d a")
    return normal


class TensorSolve(Op):
    """``x`` with ``tensordot(a, x, x.ndim) == b``, as ``numpy.linalg.tensorsolve``.

    ``a`` (after moving ``axes`` to its end) has shape ``b.shape + x.shape`` and
    is a square matrix of ``b.size`` rows.
    """

    __props__ = ("axes",)

    def __init__(self, axes=None):
        self.axes = None if axes is None else tuple(int(ax) for ax in np.atleast_1d(axes))

    def _permutation(self, ndim):
        """The axes of ``a`` in solving order: those not in ``axes``, then ``axes``."""
        axes = _solve_axes(self.axes, ndim) or ()
        return [i for i in range(ndim) if i not in axes] + list(axes)

    def make_node(self, a, b):
        a = as_float_tensor(a, "TensorSolve", "a")
        b = as_float_tensor(b, "TensorSolve", "b")
        if b.ndim < 1 or a.ndim <= b.ndim:
            raise TypeError(f"TensorSolve: b must have at least 1 dimension and a more than b, got a {a.ndim}-d "
                            f"a and a {b.ndim}-d b")
        shape = tuple(a.type.shape[i] for i in self._permutation(a.ndim))
        lead, x_shape = shape[:b.ndim], shape[b.ndim:]
        if any(p is not None and q is not None and p != q for p, q in zip(lead, b.type.shape)):
            raise ValueError(f"TensorSolve: a must have shape b.shape + x.shape (after moving axes), got static "
                             f"shapes {shape} and {b.type.shape}")
        rows, cols = _static_prod(lead), _static_prod(x_shape)
        if rows is not None and cols is not None and rows != cols:
            raise ValueError(f"TensorSolve: a of static shape {shape} is not square: prod(b.shape)={rows} != "
                             f"prod(x.shape)={cols}")
        dtype = ts.upcast(a.dtype, b.dtype)
        return Apply(self, [a, b], [TensorType(dtype, shape=x_shape)()])

    def perform(self, node, inputs, output_storage):
        a, b = inputs
        a = np.transpose(a, self._permutation(a.ndim))
        lead, x_shape = a.shape[:b.ndim], a.shape[b.ndim:]
        if lead != b.shape:
            raise ValueError(f"TensorSolve: a must have shape b.shape + x.shape (after moving axes), got shapes "
                             f"{a.shape} and {b.shape}")
        if _static_prod(lead) != _static_prod(x_shape):
            raise ValueError(f"TensorSolve: a of shape {a.shape} is not square: prod(b.shape)={_static_prod(lead)}"
                             f" != prod(x.shape)={_static_prod(x_shape)}")
        output_storage[0][0] = np.asarray(np.linalg.tensorsolve(a, b), dtype=node.outputs[0].dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        a_shape, b_shape = input_shapes
        return [tuple(a_shape[i] for i in self._permutation(len(a_shape))[len(b_shape):])]

    def L_op(self, inputs, outputs, output_grads):
        (a, b), (x,), (gx,) = inputs, outputs, output_grads
        perm = self._permutation(a.ndim)
        nb, nx = b.ndim, x.ndim
        # matrix form x = A^-1 b: gb = A^-T gx, and gA = -gb x', an outer product of shape b.shape + x.shape
        a_t = a.dimshuffle(*perm[nb:], *perm[:nb])
        gb = TensorSolve()(a_t, gx)
        ga_solving_order = -(gb.dimshuffle(*range(nb), *["x"] * nx) * x.dimshuffle(*["x"] * nb, *range(nx)))
        ga = ga_solving_order.dimshuffle(*[perm.index(i) for i in range(a.ndim)])
        return [ga, gb]

    def R_op(self, inputs, eval_points):
        (a, b), (da, db) = inputs, eval_points
        if da is None and db is None:
            return [None]
        x = self(a, b)
        rhs = _basic.zeros_like(b, dtype=x.dtype) if db is None else db
        if da is not None:
            da = da.dimshuffle(*self._permutation(a.ndim))
            rhs = rhs - _math.tensordot(da, x, axes=x.ndim)
        return [self(a, rhs)]


def tensorsolve(a, b, axes=None):
    """Solve ``tensordot(a, x, x.ndim) == b`` for ``x``, as ``numpy.linalg.tensorsolve``."""
    return TensorSolve(axes)(a, b)
