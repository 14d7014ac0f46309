"""Join (concatenate) and Split, and the stacking helpers built on them.

Following Theano, the axis is an *input* of Join and Split (a 0-d integer
tensor), so it may be symbolic; when it is a constant the output's static
shape is exact and mismatched lengths are reported while building the graph.
"""

import numbers
import warnings

import numpy as np

import symtensor.tensor.basic as _basic
import symtensor.tensor.math as _math
from symtensor import scalar as ts
from symtensor.config import config
from symtensor.graph.basic import Apply, Constant, Variable
from symtensor.graph.null_type import DisconnectedType
from symtensor.graph.op import Op
from symtensor.tensor.type import TensorType

__all__ = ["Join", "Split", "join", "concatenate", "stack", "split", "horizontal_stack", "vertical_stack"]


def as_axis(axis, opname):
    """An axis argument (int or 0-d integer tensor) as a 0-d int64 tensor."""
    if isinstance(axis, (bool, np.bool_)) or not isinstance(axis, (numbers.Integral, Variable)):
        raise TypeError(f"{opname}: axis must be an integer or an integer scalar, got {axis!r}")
    if isinstance(axis, (numbers.Integral, np.integer)):
        return _basic.constant(int(axis), dtype="int64")
    axis = _basic.as_tensor_variable(axis)
    if axis.ndim != 0 or axis.dtype not in ts.int_dtypes + ts.uint_dtypes:
        raise TypeError(f"{opname}: axis must be an integer scalar, got {axis} ({axis.ndim}-d {axis.dtype})")
    if isinstance(axis, Constant):
        return _basic.constant(int(axis.data), dtype="int64")
    return _basic.cast(axis, "int64")


def static_axis(axis, ndim, opname):
    """The axis in [0, ndim) when it is a constant, else None; raises if it is out of range."""
    try:
        a = int(_basic.get_scalar_constant_value(axis))
    except _basic.NotScalarConstantError:
        return None
    if not -ndim <= a < ndim:
        raise IndexError(f"{opname}: axis {a} is out of range for {ndim}-d tensors")
    return a % ndim


def _runtime_axis(axis, ndim, opname):
    a = int(axis)
    if not -ndim <= a < ndim:
        raise IndexError(f"{opname}: axis {a} is out of range for {ndim}-d tensors")
    return a % ndim


def _symbolic_axis(axis, ndim):
    """A (possibly negative) symbolic axis normalized to [0, ndim)."""
    return _math.switch(_math.lt(axis, 0), axis + ndim, axis)


def _sum_all(items):
    out = items[0]
    for s in items[1:]:
        out = out + s
    return out


class Join(Op):
    """``Join()(axis, *tensors)``: concatenation along ``axis``; the output dtype is the inputs' upcast."""

    def make_node(self, axis, *tensors):
        if not tensors:
            raise ValueError("Join: needs at least one tensor")
        axis = as_axis(axis, "Join")
        tensors = [_basic.as_tensor_variable(t) for t in tensors]
        ndim = tensors[0].ndim
        if ndim == 0:
            raise TypeError("Join: cannot join 0-d tensors; use stack() to make a vector of scalars")
        for k, t in enumerate(tensors):
            if t.ndim != ndim:
                raise TypeError(f"Join: all tensors must have the same number of dimensions; tensor 0 ({tensors[0]}) "
                                f"is {ndim}-d but tensor {k} ({t}) is {t.ndim}-d")
        dtype = ts.upcast(*[t.dtype for t in tensors])
        a = static_axis(axis, ndim, "Join")
        shape = [None] * ndim
        if a is not None:
            for d in range(ndim):
                lengths = [t.type.shape[d] for t in tensors]
                if d == a:
                    shape[d] = None if None in lengths else sum(lengths)
                    continue
                known = {n for n in lengths if n is not None}
                if len(known) > 1:
                    raise ValueError(f"Join: the tensors must have the same length on every axis but the join axis "
                                     f"{a}; their static shapes are {[t.type.shape for t in tensors]} "
                                     f"(axis {d} differs)")
                shape[d] = known.pop() if known else None
        return Apply(self, [axis] + tensors, [TensorType(dtype, shape=shape)()])

    def perform(self, node, inputs, output_storage):
        axis, tensors = inputs[0], inputs[1:]
        a = _runtime_axis(axis, tensors[0].ndim, "Join")
        shapes = [t.shape for t in tensors]
        for s in shapes[1:]:
            if s[:a] + s[a + 1:] != shapes[0][:a] + shapes[0][a + 1:]:
                raise ValueError(f"Join: the tensors must have the same length on every axis but the join axis {a}; "
                                 f"got shapes {shapes}")
        out = np.concatenate(tensors, axis=a, dtype=node.outputs[0].type.dtype, casting="unsafe")
        output_storage[0][0] = out

    def infer_shape(self, fgraph, node, input_shapes):
        axis, shapes = node.inputs[0], input_shapes[1:]
        ndim = len(shapes[0])
        a = static_axis(axis, ndim, "Join")
        if a is not None:
            return [tuple(_sum_all([s[d] for s in shapes]) if d == a else shapes[0][d] for d in range(ndim))]
        a = _symbolic_axis(axis, ndim)
        return [tuple(_math.switch(_math.eq(a, d), _sum_all([s[d] for s in shapes]), shapes[0][d])
                      for d in range(ndim))]

    def connection_pattern(self, node):
        return [[False]] + [[True]] * (len(node.inputs) - 1)

    def L_op(self, inputs, outputs, output_grads):
        axis, tensors = inputs[0], inputs[1:]
        (gz,) = output_grads
        if len(tensors) == 1:
            pieces = [gz]
        else:
            lengths = _basic.MakeVector("int64")(*[t.shape[axis] for t in tensors])
            pieces = Split(len(tensors))(gz, axis, lengths, return_list=True)
        grads = [DisconnectedType()()]
        for t, g in zip(tensors, pieces):
            if t.dtype in ts.discrete_dtypes:
                grads.append(_basic.zeros_like(t, dtype=config.floatX))
            else:
                grads.append(_basic.patternbroadcast(_basic.cast(g, t.dtype), t.broadcastable))
        return grads

    def R_op(self, inputs, eval_points):
        if all(e is None for e in eval_points[1:]):
            return [None]
        evals = [_basic.zeros_like(t) if e is None else e for t, e in zip(inputs[1:], eval_points[1:])]
        return [self(inputs[0], *evals)]


_join = Join()


class Split(Op):
    """``Split(n)(x, axis, splits)``: ``n`` consecutive pieces of ``x`` along ``axis`` of lengths ``splits``."""

    __props__ = ("len_splits",)

    def __init__(self, len_splits):
        self.len_splits = int(len_splits)
        if self.len_splits < 1:
            raise ValueError(f"Split: the number of pieces must be >= 1, got {len_splits}")

    def make_node(self, x, axis, splits):
        x = _basic.as_tensor_variable(x)
        if x.ndim == 0:
            raise TypeError(f"Split: cannot split 0-d {x}")
        axis = as_axis(axis, "Split")
        splits = _basic.as_tensor_variable(splits)
        if splits.ndim != 1 or splits.dtype not in ts.int_dtypes + ts.uint_dtypes:
            raise TypeError(f"Split: splits must be a vector of integers, got {splits} "
                            f"({splits.ndim}-d {splits.dtype})")
        if splits.type.shape[0] not in (None, self.len_splits):
            raise ValueError(f"Split: expected {self.len_splits} split lengths, got {splits.type.shape[0]}")
        splits = _basic.constant(splits.data, dtype="int64") if isinstance(splits, Constant) \
            else _basic.cast(splits, "int64")
        a = static_axis(axis, x.ndim, "Split")
        if a is None:
            shapes = [(None,) * x.ndim] * self.len_splits
        else:
            lengths = _basic.static_lengths(splits, self.len_splits)
            if any(n is not None and n < 0 for n in lengths):
                raise ValueError(f"Split: split lengths must be >= 0, got {lengths}")
            total = x.type.shape[a]
            if None not in lengths and total is not None and sum(lengths) != total:
                raise ValueError(f"Split: the split lengths {lengths} add up to {sum(lengths)}, but axis {a} of "
                                 f"{x} has length {total}")
            shapes = [x.type.shape[:a] + (n,) + x.type.shape[a + 1:] for n in lengths]
        outs = [TensorType(x.dtype, shape=s)() for s in shapes]
        return Apply(self, [x, axis, splits], outs)

    def perform(self, node, inputs, output_storage):
        x, axis, splits = inputs
        a = _runtime_axis(axis, x.ndim, "Split")
        if len(splits) != self.len_splits:
            raise ValueError(f"Split: expected {self.len_splits} split lengths, got {len(splits)} ({list(splits)})")
        if np.any(splits < 0):
            raise ValueError(f"Split: split lengths must be >= 0, got {list(splits)}")
        if splits.sum() != x.shape[a]:
            raise ValueError(f"Split: the split lengths {list(splits)} add up to {splits.sum()}, but axis {a} of "
                             f"the input (shape {x.shape}) has length {x.shape[a]}")
        bounds = np.concatenate([[0], np.cumsum(splits)])
        for k in range(self.len_splits):
            index = (slice(None),) * a + (slice(int(bounds[k]), int(bounds[k + 1])),)
            output_storage[k][0] = x[index].copy()

    def infer_shape(self, fgraph, node, input_shapes):
        x, axis, splits = node.inputs
        xs = input_shapes[0]
        a = static_axis(axis, x.ndim, "Split")
        if a is not None:
            return [tuple(splits[k] if d == a else xs[d] for d in range(x.ndim)) for k in range(self.len_splits)]
        a = _symbolic_axis(axis, x.ndim)
        return [tuple(_math.switch(_math.eq(a, d), splits[k], xs[d]) for d in range(x.ndim))
                for k in range(self.len_splits)]

    def connection_pattern(self, node):
        return [[True] * self.len_splits, [False] * self.len_splits, [False] * self.len_splits]

    def L_op(self, inputs, outputs, output_grads):
        x, axis, _ = inputs
        if x.dtype in ts.discrete_dtypes:
            gx = _basic.zeros_like(x, dtype=config.floatX)
        else:
            gx = join(axis, *output_grads) if self.len_splits > 1 else output_grads[0]
            gx = _basic.patternbroadcast(_basic.cast(gx, x.dtype), x.broadcastable)
        return [gx, DisconnectedType()(), DisconnectedType()()]

    def R_op(self, inputs, eval_points):
        if eval_points[0] is None:
            return [None] * self.len_splits
        return self(eval_points[0], *inputs[1:], return_list=True)


# ------------------------------------------------------------ user functions

def join(axis, *tensors_list):
    """Concatenate ``tensors_list`` along ``axis`` (an int or integer scalar; may be negative)."""
    if len(tensors_list) == 1:
        t = _basic.as_tensor_variable(tensors_list[0])
        if t.ndim == 0:
            raise TypeError("join: cannot join 0-d tensors; use stack() to make a vector of scalars")
        static_axis(as_axis(axis, "join"), t.ndim, "join")
        return t
    return _join(axis, *tensors_list)


def concatenate(tensor_list, axis=0):
    """``join(axis, *tensor_list)``; ``tensor_list`` must be a list or tuple."""
    if not isinstance(tensor_list, (list, tuple)):
        raise TypeError("concatenate: the first argument must be a list or tuple of tensors "
                        "(did you forget the brackets: concatenate([x, y]) ?)")
    if not tensor_list:
        raise ValueError("concatenate: needs at least one tensor")
    return join(axis, *tensor_list)


def split(x, splits_size, n_splits, axis=0):
    """``n_splits`` pieces of ``x`` along ``axis``, of lengths ``splits_size``; returns a list."""
    return Split(n_splits)(x, axis, splits_size, return_list=True)


def stack(*tensors, **kwargs):
    """``stack(tensors, axis=0)``: tensors of equal shape joined along a new axis.

    Theano's old form ``stack(x, y, z)`` (axis 0) is still accepted, with a DeprecationWarning.
    """
    if not tensors:
        raise TypeError("stack: give a list of tensors, stack(tensors, axis=0)")
    if isinstance(tensors[0], (list, tuple)):
        if len(tensors) > 2:
            raise TypeError("stack: use stack(tensors, axis=0)")
        axis = tensors[1] if len(tensors) == 2 else kwargs.pop("axis", 0)
        tensors = list(tensors[0])
    else:
        warnings.warn("stack(*tensors) is deprecated; use stack(tensors, axis=0)", DeprecationWarning, stacklevel=2)
        axis = kwargs.pop("axis", 0)
    if kwargs:
        raise TypeError(f"stack: unexpected keyword arguments {sorted(kwargs)}")
    if not tensors:
        raise ValueError("stack: needs at least one tensor")
    tensors = [_basic.as_tensor_variable(t) for t in tensors]
    ndim = tensors[0].ndim
    for k, t in enumerate(tensors):
        if t.ndim != ndim:
            raise TypeError(f"stack: all tensors must have the same number of dimensions; tensor 0 "
                            f"({tensors[0]}) is {ndim}-d but tensor {k} ({t}) is {t.ndim}-d")
    if isinstance(axis, (numbers.Integral, np.integer)) and not -(ndim + 1) <= axis <= ndim:
        raise IndexError(f"stack: axis {axis} is out of range for stacking {ndim}-d tensors")
    if ndim == 0 and isinstance(axis, (numbers.Integral, np.integer)):
        return _basic.MakeVector(ts.upcast(*[t.dtype for t in tensors]))(*tensors)
    if not isinstance(axis, (numbers.Integral, np.integer)):
        try:
            axis = int(_basic.get_scalar_constant_value(as_axis(axis, "stack")))
        except _basic.NotScalarConstantError:
            raise TypeError(f"stack: axis must be a constant, got {axis}") from None
    axis = axis % (ndim + 1)
    padded = [_basic.shape_padaxis(t, axis) for t in tensors]
    if len(padded) == 1:
        return padded[0]
    return _join(axis, *padded)


def horizontal_stack(*args):
    """Join matrices side by side (axis 1); unlike numpy.hstack, only matrices are accepted."""
    return _stack2d(args, 1, "horizontal_stack")


def vertical_stack(*args):
    """Join matrices one above the other (axis 0); only matrices are accepted."""
    return _stack2d(args, 0, "vertical_stack")


def _stack2d(args, axis, name):
    if len(args) < 2:
        raise TypeError(f"{name}: needs at least two matrices")
    args = [_basic.as_tensor_variable(a) for a in args]
    for k, a in enumerate(args):
        if a.ndim != 2:
            raise TypeError(f"{name}: argument {k} ({a}) is {a.ndim}-d; only matrices are accepted")
    return concatenate(args, axis=axis)
