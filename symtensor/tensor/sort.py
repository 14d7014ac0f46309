"""Sorting: SortOp, ArgSortOp, and the permutation op that carries sort's gradient.

As in Theano, the axis is an input (a 0-d integer tensor, possibly symbolic);
``sort(a, axis=None)`` flattens ``a`` first. Whatever ``kind`` is asked for,
the sort is stable (ties keep their order, NaNs go last): NumPy's quicksort
orders ties arbitrarily, and every backend must give perform's order.
"""

import numpy as np

import symtensor.tensor.basic as _basic
import symtensor.tensor.join as _join
from symtensor import scalar as ts
from symtensor.config import config
from symtensor.graph.basic import Apply
from symtensor.graph.null_type import DisconnectedType
from symtensor.graph.op import Op
from symtensor.tensor.type import TensorType

__all__ = ["SortOp", "ArgSortOp", "PermuteAlongAxis", "sort", "argsort"]

KINDS = ("quicksort", "mergesort", "heapsort", "stable")


def _check_kind(kind, order, opname):
    if kind not in KINDS:
        raise ValueError(f"{opname}: kind must be one of {KINDS}, got {kind!r}")
    if order is not None:
        raise ValueError(f"{opname}: order is only meaningful for structured arrays, which tensors are not; "
                         f"got order={order!r}")


def _sortable(a, axis, opname):
    a = _basic.as_tensor_variable(a)
    if a.ndim == 0:
        raise ValueError(f"{opname}: cannot sort a 0-d tensor {a}")
    if a.dtype in ts.complex_dtypes:
        raise TypeError(f"{opname}: complex tensors cannot be sorted ({a} is {a.dtype})")
    axis = _join.as_axis(axis, opname)
    _join.static_axis(axis, a.ndim, opname)
    return a, axis


class SortOp(Op):
    """``SortOp(kind)(a, axis)``: ``a`` sorted along ``axis``."""

    __props__ = ("kind", "order")

    def __init__(self, kind="quicksort", order=None):
        _check_kind(kind, order, "sort")
        self.kind, self.order = kind, order

    def __str__(self):
        return f"SortOp{{{self.kind}}}"

    def make_node(self, a, axis=-1):
        a, axis = _sortable(a, axis, "sort")
        return Apply(self, [a, axis], [a.type()])

    def perform(self, node, inputs, output_storage):
        a, axis = inputs
        a_axis = _join._runtime_axis(axis, a.ndim, "sort")
        output_storage[0][0] = np.sort(a, axis=a_axis, kind="stable")

    def infer_shape(self, fgraph, node, input_shapes):
        return [input_shapes[0]]

    def connection_pattern(self, node):
        return [[True], [False]]

    def L_op(self, inputs, outputs, output_grads):
        a, axis = inputs
        (gz,) = output_grads
        if a.dtype in ts.discrete_dtypes:
            return [_basic.zeros_like(a, dtype=config.floatX), DisconnectedType()()]
        # out[j] = a[perm[j]], so a's gradient at perm[j] is gz[j]: gz gathered by the inverse permutation
        perm = ArgSortOp(self.kind)(a, axis)
        inverse = ArgSortOp("stable")(perm, axis)
        return [PermuteAlongAxis()(gz, inverse, axis), DisconnectedType()()]

    def R_op(self, inputs, eval_points):
        if eval_points[0] is None:
            return [None]
        a, axis = inputs
        return [PermuteAlongAxis()(eval_points[0], ArgSortOp(self.kind)(a, axis), axis)]


class ArgSortOp(Op):
    """``ArgSortOp(kind)(a, axis)``: the int64 indices that sort ``a`` along ``axis``."""

    __props__ = ("kind", "order")

    def __init__(self, kind="quicksort", order=None):
        _check_kind(kind, order, "argsort")
        self.kind, self.order = kind, order

    def __str__(self):
        return f"ArgSortOp{{{self.kind}}}"

    def make_node(self, a, axis=-1):
        a, axis = _sortable(a, axis, "argsort")
        return Apply(self, [a, axis], [TensorType("int64", shape=a.type.shape)()])

    def perform(self, node, inputs, output_storage):
        a, axis = inputs
        a_axis = _join._runtime_axis(axis, a.ndim, "argsort")
        output_storage[0][0] = np.argsort(a, axis=a_axis, kind="stable").astype("int64", copy=False)

    def infer_shape(self, fgraph, node, input_shapes):
        return [input_shapes[0]]

    def connection_pattern(self, node):
        return [[False], [False]]

    def L_op(self, inputs, outputs, output_grads):
        return [DisconnectedType()(), DisconnectedType()()]


class PermuteAlongAxis(Op):
    """``take_along_axis(x, perm, axis)`` where each slice of ``perm`` along ``axis`` is a permutation.

    Being a permutation makes it linear and invertible: its gradient permutes back by ``argsort(perm)``.
    """

    def make_node(self, x, perm, axis):
        x = _basic.as_tensor_variable(x)
        perm = _basic.as_tensor_variable(perm)
        if perm.ndim != x.ndim or perm.dtype not in ts.int_dtypes:
            raise TypeError(f"PermuteAlongAxis: perm must be a {x.ndim}-d integer tensor, got {perm} "
                            f"({perm.ndim}-d {perm.dtype})")
        axis = _join.as_axis(axis, "PermuteAlongAxis")
        _join.static_axis(axis, x.ndim, "PermuteAlongAxis")
        shape = tuple(p if p is not None else s for p, s in zip(perm.type.shape, x.type.shape))
        return Apply(self, [x, perm, axis], [TensorType(x.dtype, shape=shape)()])

    def perform(self, node, inputs, output_storage):
        x, perm, axis = inputs
        a = _join._runtime_axis(axis, x.ndim, "PermuteAlongAxis")
        if perm.shape != x.shape:
            raise ValueError(f"PermuteAlongAxis: perm of shape {perm.shape} does not match x of shape {x.shape}")
        output_storage[0][0] = np.take_along_axis(x, perm, axis=a)

    def infer_shape(self, fgraph, node, input_shapes):
        return [input_shapes[1]]

    def connection_pattern(self, node):
        return [[True], [False], [False]]

    def L_op(self, inputs, outputs, output_grads):
        x, perm, axis = inputs
        inverse = ArgSortOp("stable")(perm, axis)
        return [PermuteAlongAxis()(output_grads[0], inverse, axis), DisconnectedType()(), DisconnectedType()()]

    def R_op(self, inputs, eval_points):
        if eval_points[0] is None:
            return [None]
        return [self(eval_points[0], *inputs[1:])]


def _flatten_for_none(a, axis):
    a = _basic.as_tensor_variable(a)
    if axis is None:
        return a.flatten(), 0
    return a, axis


def sort(a, axis=-1, kind="quicksort", order=None):
    """A sorted copy of ``a`` along ``axis`` (None: of the flattened ``a``)."""
    a, axis = _flatten_for_none(a, axis)
    return SortOp(kind, order)(a, axis)


def argsort(a, axis=-1, kind="quicksort", order=None):
    """The int64 indices that sort ``a`` along ``axis`` (None: of the flattened ``a``)."""
    a, axis = _flatten_for_none(a, axis)
    return ArgSortOp(kind, order)(a, axis)
