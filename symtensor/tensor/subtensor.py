"""Indexing: Subtensor (basic slicing, a view) and IncSubtensor (set/increment a slice).

An index is stored as ``idx_list``: one entry per indexed axis, either an
int, a ``"?"`` marker for a symbolic integer, or a ``("slice", a, b, c)``
tuple whose parts are None, ints or ``"?"``. Symbolic parts are the op's
extra inputs, in order. Constant indices live in the props, so equal
indexing merges.
"""

import numbers

import numpy as np

import symtensor.tensor.basic as _basic
from symtensor import scalar as ts
from symtensor.config import config
from symtensor.graph.basic import Apply, Constant, Variable
from symtensor.graph.op import Op
from symtensor.tensor.type import TensorType

SYMBOLIC = "?"


def _as_index_scalar(v, what):
    v = _basic.as_tensor_variable(v)
    if v.ndim != 0 or v.dtype not in ts.int_dtypes + ts.uint_dtypes:
        raise TypeError(f"index {what} must be an integer scalar, got {v} ({v.ndim}-d {v.dtype})")
    return _basic.cast(v, "int64")


def _entry(part, inputs, what):
    """A slice part or integer index -> prop entry (int/None/'?'), appending symbolic inputs."""
    if part is None:
        return None
    if isinstance(part, (numbers.Integral, np.integer)) and not isinstance(part, bool):
        return int(part)
    if isinstance(part, Constant) and np.ndim(part.data) == 0 and np.asarray(part.data).dtype.kind in "iu":
        return int(part.data)
    inputs.append(_as_index_scalar(part, what))
    return SYMBOLIC


def make_idx_list(index):
    """Split a basic index tuple into (idx_list, symbolic inputs)."""
    idx_list, inputs = [], []
    for k, item in enumerate(index):
        if isinstance(item, slice):
            idx_list.append(("slice",) + tuple(_entry(p, inputs, f"{k} ({name})") for p, name in
                                              ((item.start, "start"), (item.stop, "stop"), (item.step, "step"))))
        else:
            idx_list.append(_entry(item, inputs, str(k)))
    return tuple(idx_list), inputs


def build_index(idx_list, values):
    """Concrete NumPy index from the prop entries and the symbolic values."""
    it = iter(values)
    out = []
    for entry in idx_list:
        if isinstance(entry, tuple):
            parts = [int(next(it)) if p == SYMBOLIC else p for p in entry[1:]]
            out.append(slice(*parts))
        else:
            out.append(int(next(it)) if entry == SYMBOLIC else entry)
    return tuple(out)


def _static_slice_length(entry, n):
    parts = entry[1:]
    if n is None or SYMBOLIC in parts:
        return None
    if parts[2] == 0:
        raise ValueError("slice step cannot be zero")
    return len(range(*slice(*parts).indices(n)))


def _check_idx_list(x, idx_list, opname):
    if len(idx_list) > x.ndim:
        raise IndexError(f"{opname}: too many indices ({len(idx_list)}) for {x.ndim}-d {x}")
    for axis, entry in enumerate(idx_list):
        if isinstance(entry, tuple) and entry[3] == 0:
            raise ValueError(f"{opname}: slice step cannot be zero")
        n = x.type.shape[axis]
        if isinstance(entry, int) and n is not None and not -n <= entry < n:
            raise IndexError(f"{opname}: index {entry} is out of bounds for axis {axis} of length {n}")


def _out_shape(x, idx_list):
    shape = []
    for axis, n in enumerate(x.type.shape):
        if axis < len(idx_list):
            entry = idx_list[axis]
            if isinstance(entry, tuple):
                shape.append(_static_slice_length(entry, n))
        else:
            shape.append(n)
    # a slice of a broadcastable axis stays of length <= 1; keep it broadcastable only if surely 1
    return tuple(shape)


class Subtensor(Op):
    """``x[idx]`` for integers and slices; the output is a view of x."""

    __props__ = ("idx_list",)
    view_map = {0: [0]}

    def __init__(self, idx_list):
        self.idx_list = tuple(idx_list)

    def __str__(self):
        return f"Subtensor{{{_format_idx(self.idx_list)}}}"

    def make_node(self, x, *inputs):
        x = _basic.as_tensor_variable(x)
        _check_idx_list(x, self.idx_list, str(self))
        inputs = [_as_index_scalar(i, "") for i in inputs]
        out = TensorType(x.dtype, shape=_out_shape(x, self.idx_list))()
        return Apply(self, [x] + inputs, [out])

    def perform(self, node, inputs, output_storage):
        x, values = inputs[0], inputs[1:]
        index = build_index(self.idx_list, values)
        try:
            output_storage[0][0] = np.asarray(x[index])
        except IndexError as exc:
            raise IndexError(f"{self}: {exc} (input shape {x.shape}, index {index})") from None

    def infer_shape(self, fgraph, node, input_shapes):
        x = node.inputs[0]
        xshape = input_shapes[0]
        sym = iter(node.inputs[1:])
        out = []
        for axis in range(x.ndim):
            if axis < len(self.idx_list):
                entry = self.idx_list[axis]
                if isinstance(entry, tuple):
                    parts = [next(sym) if p == SYMBOLIC else p for p in entry[1:]]
                    out.append(slice_length(xshape[axis], *parts))
                elif entry == SYMBOLIC:
                    next(sym)
            else:
                out.append(xshape[axis])
        return [tuple(out)]

    def L_op(self, inputs, outputs, output_grads):
        x, rest = inputs[0], inputs[1:]
        (gz,) = output_grads
        if x.dtype in ts.discrete_dtypes:
            gx = _basic.zeros_like(x, dtype=config.floatX)
        else:
            gx = IncSubtensor(self.idx_list)(_basic.zeros_like(x), gz, *rest)
        return [gx] + [_basic.zeros_like(r, dtype=config.floatX) for r in rest]

    def connection_pattern(self, node):
        return [[True]] + [[False]] * (len(node.inputs) - 1)

    def R_op(self, inputs, eval_points):
        if eval_points[0] is None:
            return [None]
        return [self(eval_points[0], *inputs[1:])]


class SliceLength(Op):
    """Length of ``range(n)[start:stop:step]``; parts flagged in ``none_mask`` are None."""

    __props__ = ("none_mask",)

    def __init__(self, none_mask):
        self.none_mask = tuple(none_mask)

    def make_node(self, n, *parts):
        inputs = [_as_index_scalar(n, "length")] + [_as_index_scalar(p, "slice part") for p in parts]
        return Apply(self, inputs, [TensorType("int64", ())()])

    def perform(self, node, inputs, output_storage):
        n, parts = int(inputs[0]), iter(inputs[1:])
        sl = slice(*[None if none else int(next(parts)) for none in self.none_mask])
        output_storage[0][0] = np.asarray(len(range(*sl.indices(n))), dtype="int64")

    def infer_shape(self, fgraph, node, input_shapes):
        return [()]


def slice_length(n, start, stop, step):
    parts = (start, stop, step)
    if all(isinstance(p, (int, type(None))) for p in parts) and isinstance(n, (int, np.integer)):
        return len(range(*slice(*parts).indices(int(n))))
    if parts == (None, None, None):
        return n
    none_mask = tuple(p is None for p in parts)
    return SliceLength(none_mask)(n, *[p for p in parts if p is not None])


class IncSubtensor(Op):
    """``x`` with ``x[idx]`` incremented by (or, with set_instead_of_inc, set to) ``y``."""

    __props__ = ("idx_list", "inplace", "set_instead_of_inc")

    def __init__(self, idx_list, inplace=False, set_instead_of_inc=False):
        self.idx_list = tuple(idx_list)
        self.inplace = inplace
        self.set_instead_of_inc = set_instead_of_inc
        self.destroy_map = {0: [0]} if inplace else {}

    def __str__(self):
        kind = "Set" if self.set_instead_of_inc else "Inc"
        return f"{kind}Subtensor{{{_format_idx(self.idx_list)}{',inplace' if self.inplace else ''}}}"

    def make_node(self, x, y, *inputs):
        x, y = _basic.as_tensor_variable(x), _basic.as_tensor_variable(y)
        _check_idx_list(x, self.idx_list, str(self))
        n_sliced = sum(1 for e in self.idx_list if isinstance(e, tuple)) + x.ndim - len(self.idx_list)
        if y.ndim > n_sliced:
            raise ValueError(f"{self}: the value {y} has {y.ndim} dimensions, more than the {n_sliced} of x{_format_idx(self.idx_list)}")
        if not np.can_cast(y.dtype, x.dtype, casting="same_kind") and y.dtype != x.dtype:
            raise TypeError(f"{self}: cannot put values of dtype {y.dtype} into {x.dtype} tensor {x}")
        inputs = [_as_index_scalar(i, "") for i in inputs]
        return Apply(self, [x, y] + inputs, [x.type()])

    def perform(self, node, inputs, output_storage):
        x, y, values = inputs[0], inputs[1], inputs[2:]
        out = x if self.inplace else x.copy()
        index = build_index(self.idx_list, values)
        try:
            if self.set_instead_of_inc:
                out[index] = y
            else:
                view = out[index]
                if np.ndim(view) == 0:
                    out[index] = view + y
                else:
                    view += y
        except (IndexError, ValueError) as exc:
            raise type(exc)(f"{self}: {exc} (x shape {x.shape}, value shape {np.shape(y)}, index {index})") from None
        output_storage[0][0] = out

    def infer_shape(self, fgraph, node, input_shapes):
        return [input_shapes[0]]

    def L_op(self, inputs, outputs, output_grads):
        x, y, rest = inputs[0], inputs[1], inputs[2:]
        (gz,) = output_grads
        if self.set_instead_of_inc:
            gx = IncSubtensor(self.idx_list, set_instead_of_inc=True)(gz, _basic.zeros_like(y, dtype=gz.dtype), *rest)
        else:
            gx = gz
        gy = Subtensor(self.idx_list)(gz, *rest)
        gy = _sum_to_shape(gy, y)
        gx = _basic.zeros_like(x, dtype=config.floatX) if x.dtype in ts.discrete_dtypes else gx
        return [gx, gy] + [_basic.zeros_like(r, dtype=config.floatX) for r in rest]

    def connection_pattern(self, node):
        return [[True], [True]] + [[False]] * (len(node.inputs) - 2)


def _sum_to_shape(g, y):
    """Reduce a gradient of x[idx] to the shape of the (broadcast) value y."""
    if y.dtype in ts.discrete_dtypes:
        return _basic.zeros_like(y, dtype=config.floatX)
    extra = g.ndim - y.ndim
    if extra:
        g = g.sum(axis=list(range(extra)))
    axes = [i for i, b in enumerate(y.broadcastable) if b and not g.broadcastable[i]]
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return _basic.patternbroadcast(_basic.cast(g, y.dtype), y.broadcastable)


def _format_idx(idx_list):
    parts = []
    for e in idx_list:
        if isinstance(e, tuple):
            parts.append(":".join("" if p is None else str(p) for p in e[1:]).rstrip(":") or ":")
        else:
            parts.append(str(e))
    return ", ".join(parts)


def _is_advanced(item):
    if isinstance(item, (list, np.ndarray)) and not (isinstance(item, np.ndarray) and item.ndim == 0
                                                       and item.dtype.kind in "iu"):
        return True
    if isinstance(item, Variable) and getattr(item.type, "ndim", 0) > 0:
        return True
    if isinstance(item, Variable) and getattr(item, "dtype", None) == "bool":
        return True
    if isinstance(item, (bool, np.bool_)):
        return True
    return False


def expand_index(x, index):
    """Normalize a Python index into a tuple with Ellipsis expanded (None kept for new axes)."""
    if not isinstance(index, tuple):
        index = (index,)
    n_ell = sum(1 for i in index if i is Ellipsis)
    if n_ell > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    consumed = sum(1 for i in index if i is not None and i is not Ellipsis and not (
        isinstance(i, Variable) and getattr(i, "dtype", None) == "bool" and False))
    if n_ell:
        k = index.index(Ellipsis)
        index = index[:k] + (slice(None),) * (x.ndim - consumed) + index[k + 1:]
    return index


def getitem(x, index):
    """``x[index]``: basic indexing gives a view (Subtensor); arrays of ints or bools use advanced indexing."""
    index = expand_index(x, index)
    if any(_is_advanced(i) for i in index):
        return _advanced.advanced_getitem(x, index)
    # new axes (None): index without them, then insert broadcastable axes
    plain = tuple(i for i in index if i is not None)
    if len(plain) > x.ndim:
        raise IndexError(f"too many indices ({len(plain)}) for {x.ndim}-d {x}")
    idx_list, inputs = make_idx_list(plain)
    while idx_list and idx_list[-1] == ("slice", None, None, None):
        idx_list = idx_list[:-1]
    out = Subtensor(idx_list)(x, *inputs) if idx_list else x
    if any(i is None for i in index):
        pattern, k = [], 0
        for i in index:
            if i is None:
                pattern.append("x")
            elif isinstance(i, slice):
                pattern.append(k)
                k += 1
        pattern.extend(range(k, out.ndim))
        out = out.dimshuffle(pattern)
    return out


def _inc_or_set(x, y, set_instead_of_inc, inplace=False, tolerate_inplace_aliasing=False):
    """Shared by inc_subtensor and set_subtensor: x must be the result of indexing."""
    y = _basic.as_tensor_variable(y)
    if x.owner is None:
        raise TypeError(f"{'set' if set_instead_of_inc else 'inc'}_subtensor: the first argument must be an "
                        f"indexing result such as x[1:3], got {x}")
    op = x.owner.op
    if isinstance(op, Subtensor):
        base, rest = x.owner.inputs[0], x.owner.inputs[1:]
        if y.dtype != base.dtype:
            y = _basic.cast(y, base.dtype) if np.can_cast(y.dtype, base.dtype, "same_kind") else y
        return IncSubtensor(op.idx_list, set_instead_of_inc=set_instead_of_inc)(base, y, *rest)
    if isinstance(op, _basic.Rebroadcast) or (hasattr(op, "new_order") and x.owner.inputs[0].owner is not None):
        # x[None] / x[i, None] patterns: undo the dimshuffle on the value
        inner = x.owner.inputs[0]
        if hasattr(op, "new_order"):
            keep = [i for i, o in enumerate(op.new_order) if o != "x"]
            y_full = y if y.ndim == x.ndim else _basic.shape_padleft(y, x.ndim - y.ndim)
            y_inner = y_full.dimshuffle([i for i in range(x.ndim) if i in keep]) if all(
                y_full.broadcastable[i] for i in range(x.ndim) if i not in keep) else y_full.sum(
                axis=[i for i in range(x.ndim) if i not in keep])
            return _inc_or_set(inner, y_inner, set_instead_of_inc)
        return _inc_or_set(inner, y, set_instead_of_inc)
    return _advanced.advanced_inc_or_set(x, y, set_instead_of_inc)


def inc_subtensor(x, y, inplace=False, set_instead_of_inc=False, tolerate_inplace_aliasing=False):
    """The whole tensor that ``x`` indexes, with ``y`` added at the indexed positions."""
    return _inc_or_set(x, y, set_instead_of_inc)


def set_subtensor(x, y, inplace=False, tolerate_inplace_aliasing=False):
    """The whole tensor that ``x`` indexes, with ``y`` written at the indexed positions."""
    return _inc_or_set(x, y, True)


import symtensor.tensor.advanced_subtensor as _advanced  # noqa: E402  (advanced indexing builds on this module)
