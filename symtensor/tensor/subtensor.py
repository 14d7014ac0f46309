"""Indexing: Subtensor (basic slicing, a view) and IncSubtensor (set/increment a slice).

An index is stored as ``idx_list``: one entry per indexed axis, either an
int, a ``"?"`` marker for a symbolic integer, or a ``("slice", a, b, c)``
tuple whose parts are None, ints or ``"?"``. Symbolic parts are the op's
extra inputs, in order. Constant indices live in the props, so equal
indexing merges. ``getitem`` sends integer/boolean arrays to
``advanced_subtensor`` and turns ``None`` (new axes) into a DimShuffle.
"""

import numbers

import numpy as np

import symtensor.tensor.basic as _basic
import symtensor.tensor.elemwise as _elemwise
from symtensor import scalar as ts
from symtensor.config import config
from symtensor.graph.basic import Apply, Constant, Variable
from symtensor.graph.op import DataFirstOp, Op
from symtensor.tensor.type import TensorType

SYMBOLIC = "?"
INDEX_DTYPES = ts.int_dtypes + ts.uint_dtypes


def _as_index_scalar(v, what):
    v = _basic.as_tensor_variable(v)
    if v.ndim != 0 or v.dtype not in INDEX_DTYPES:
        raise TypeError(f"index {what} must be an integer scalar, got {v} ({v.ndim}-d {v.dtype})")
    return _basic.cast(v, "int64")


def _entry(part, inputs, what):
    """A slice part or integer index -> prop entry (int/None/'?'), appending symbolic inputs."""
    if part is None:
        return None
    if isinstance(part, (numbers.Integral, np.integer)) and not isinstance(part, (bool, np.bool_)):
        return int(part)
    if isinstance(part, np.ndarray) and part.ndim == 0 and part.dtype.kind in "iu":
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


def n_symbolic(idx_list):
    """How many extra inputs an idx_list needs."""
    n = 0
    for e in idx_list:
        if isinstance(e, tuple):
            n += sum(1 for p in e[1:] if p == SYMBOLIC)
        elif e == SYMBOLIC:
            n += 1
    return n


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
    return len(range(*slice(*parts).indices(n)))


def _check_idx_list(x, idx_list, n_inputs, opname):
    if len(idx_list) > x.ndim:
        raise IndexError(f"{opname}: too many indices ({len(idx_list)}) for {x.ndim}-d {x}")
    if n_inputs != n_symbolic(idx_list):
        raise TypeError(f"{opname}: expected {n_symbolic(idx_list)} symbolic index inputs, got {n_inputs}")
    for axis, entry in enumerate(idx_list):
        if isinstance(entry, tuple) and entry[3] == 0:
            raise ValueError(f"{opname}: slice step cannot be zero")
        n = x.type.shape[axis]
        if isinstance(entry, int) and n is not None and not -n <= entry < n:
            raise IndexError(f"{opname}: index {entry} is out of bounds for axis {axis} of {x} with length {n}")


def _out_shape(x, idx_list):
    """Static output shape: sliced axes keep a length when it is computable, indexed axes disappear."""
    shape = []
    for axis, n in enumerate(x.type.shape):
        if axis < len(idx_list):
            entry = idx_list[axis]
            if isinstance(entry, tuple):
                shape.append(_static_slice_length(entry, n))
        else:
            shape.append(n)
    return tuple(shape)


def _sliced_ndim(x, idx_list):
    return sum(1 for e in idx_list if isinstance(e, tuple)) + x.ndim - len(idx_list)


class Subtensor(DataFirstOp):
    """``x[idx]`` for integers and slices; the output is a view of x."""

    __props__ = ("idx_list",)
    view_map = {0: [0]}

    def __init__(self, idx_list):
        self.idx_list = tuple(idx_list)

    def __str__(self):
        return f"Subtensor{{{_format_idx(self.idx_list)}}}"

    def make_node(self, x, *inputs):
        x = _basic.as_tensor_variable(x)
        _check_idx_list(x, self.idx_list, len(inputs), str(self))
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

    def L_op(self, inputs, outputs, output_grads):
        return [_basic.zeros_like(i, dtype=config.floatX) for i in inputs]

    def connection_pattern(self, node):
        return [[False] for _ in node.inputs]


def slice_length(n, start, stop, step):
    """Symbolic (or, when everything is known, Python int) length of a slice of an axis of length n."""
    parts = (start, stop, step)
    if isinstance(n, Constant) and np.ndim(n.data) == 0:
        n = int(n.data)
    if all(isinstance(p, (int, type(None))) for p in parts) and isinstance(n, (int, np.integer)):
        return len(range(*slice(*parts).indices(int(n))))
    if parts == (None, None, None) or parts == (None, None, 1):
        return n
    none_mask = tuple(p is None for p in parts)
    return SliceLength(none_mask)(n, *[p for p in parts if p is not None])


# ------------------------------------------------------------------ values put into a tensor

def _literal_fits(data, dtype):
    """A constant (a literal in user code) may be stored in ``dtype`` if no information is lost."""
    arr = np.asarray(data)
    target = np.dtype(dtype)
    if target.kind in "fc":
        return arr.dtype.kind in "biuf" or (arr.dtype.kind == "c" and target.kind == "c")
    if arr.dtype.kind not in "biu" or arr.size == 0:
        return arr.dtype.kind in "biu"
    return bool(np.array_equal(arr.astype(target).astype(arr.dtype), arr))


def cast_value(x, y, opname):
    """The value ``y`` of a set/increment, in x's dtype: safe casts and exact literals only."""
    y = _basic.as_tensor_variable(y)
    if y.dtype == x.dtype:
        return y
    if np.can_cast(y.dtype, x.dtype, casting="safe"):
        return _basic.cast(y, x.dtype)
    if isinstance(y, Constant) and _literal_fits(y.data, x.dtype):
        return _basic.constant(np.asarray(y.data).astype(x.dtype), dtype=x.dtype)
    raise TypeError(f"{opname}: cannot store values of dtype {y.dtype} ({y}) in the {x.dtype} tensor {x} "
                    f"without loss of precision; cast the value first, e.g. y.astype('{x.dtype}')")


def check_value_shape(target_shape, y, opname):
    """``y`` must broadcast to the static shape of the indexed region (right-aligned, NumPy rules)."""
    if y.ndim > len(target_shape):
        raise TypeError(f"{opname}: the value {y} has {y.ndim} dimensions, more than the {len(target_shape)} "
                        "of the indexed region")
    for k, n in enumerate(y.type.shape):
        want = target_shape[len(target_shape) - y.ndim + k]
        if n is not None and want is not None and n != 1 and n != want:
            raise ValueError(f"{opname}: cannot broadcast the value {y} of static shape {y.type.shape} "
                             f"to the indexed region of shape {tuple(target_shape)}")


def check_runtime_value(node, y, region_shape, opname):
    """Like Elemwise: only the value's broadcastable axes (and missing leading ones) may be broadcast."""
    offset = len(region_shape) - np.ndim(y)
    for k, b in enumerate(node.inputs[1].type.broadcastable):
        if not b and np.shape(y)[k] != region_shape[offset + k]:
            raise ValueError(f"{opname}: the value of shape {np.shape(y)} does not fit the indexed region of shape "
                             f"{tuple(region_shape)} (axis {k} of the value is not broadcastable; use "
                             "T.addbroadcast, a row/col, or a value of the right shape)")


class IncSubtensor(DataFirstOp):
    """``x`` with ``x[idx]`` incremented by (or, with set_instead_of_inc, set to) ``y``."""

    __props__ = ("idx_list", "inplace", "set_instead_of_inc")
    n_data = 2  # x and the value y

    def __init__(self, idx_list, inplace=False, set_instead_of_inc=False):
        self.idx_list = tuple(idx_list)
        self.inplace = inplace
        self.set_instead_of_inc = set_instead_of_inc
        self.destroy_map = {0: [0]} if inplace else {}

    def __str__(self):
        kind = "Set" if self.set_instead_of_inc else "Inc"
        return f"{kind}Subtensor{{{_format_idx(self.idx_list)}{',inplace' if self.inplace else ''}}}"

    def make_node(self, x, y, *inputs):
        x = _basic.as_tensor_variable(x)
        _check_idx_list(x, self.idx_list, len(inputs), str(self))
        y = cast_value(x, y, str(self))
        check_value_shape(_out_shape(x, self.idx_list), y, str(self))
        inputs = [_as_index_scalar(i, "") for i in inputs]
        return Apply(self, [x, y] + inputs, [x.type()])

    def perform(self, node, inputs, output_storage):
        x, y, values = inputs[0], inputs[1], inputs[2:]
        out = x if self.inplace else x.copy()
        index = build_index(self.idx_list, values)
        try:
            check_runtime_value(node, y, np.shape(out[index]), str(self))
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
        gy = _sum_to_shape(Subtensor(self.idx_list)(gz, *rest), y)
        gx = _basic.zeros_like(x, dtype=config.floatX) if x.dtype in ts.discrete_dtypes else gx
        return [gx, gy] + [_basic.zeros_like(r, dtype=config.floatX) for r in rest]


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
        if e is None:
            parts.append("newaxis")
        elif isinstance(e, tuple):
            text = ["" if p is None else str(p) for p in e[1:]]
            parts.append(":".join(text if e[3] is not None else text[:2]))
        else:
            parts.append(str(e))
    return ", ".join(parts) if parts else "..."


# ------------------------------------------------------------------ x[index]

def _bool_ndim(item):
    """ndim of a boolean mask index, or None when ``item`` is not one."""
    if isinstance(item, Variable):
        return item.ndim if getattr(item, "dtype", None) == "bool" else None
    if isinstance(item, (list, np.ndarray, np.bool_, bool)):
        if isinstance(item, list) and any(isinstance(e, Variable) for e in _basic._flatten(item)):
            return None
        arr = np.asarray(item)
        return arr.ndim if arr.dtype == bool else None
    return None


def is_advanced(item):
    """Does this index entry need advanced (array) indexing?"""
    if isinstance(item, (bool, np.bool_)):
        return True
    if isinstance(item, np.ndarray):
        return not (item.ndim == 0 and item.dtype.kind in "iu")
    if isinstance(item, list):
        return True
    if isinstance(item, Variable):
        return getattr(item.type, "ndim", 0) > 0 or getattr(item, "dtype", None) == "bool"
    return False


def expand_index(x, index):
    """Normalize a Python index into a tuple with Ellipsis expanded (None kept for new axes)."""
    if not isinstance(index, tuple):
        index = (index,)
    n_ell = sum(1 for i in index if i is Ellipsis)
    if n_ell > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    consumed = 0
    for i in index:
        if i is None or i is Ellipsis:
            continue
        nd = _bool_ndim(i)
        consumed += 1 if nd is None else nd
    if consumed > x.ndim:
        raise IndexError(f"too many indices for {x.ndim}-d tensor {x}: the index {index} uses {consumed} dimensions")
    if n_ell:
        k = index.index(Ellipsis)
        index = index[:k] + (slice(None),) * (x.ndim - consumed) + index[k + 1:]
    return index


def getitem(x, index):
    """``x[index]``: basic indexing gives a view (Subtensor); arrays of ints or bools use advanced indexing."""
    index = expand_index(x, index)
    if any(is_advanced(i) for i in index):
        return _advanced.advanced_getitem(x, index)
    plain = tuple(i for i in index if i is not None)
    idx_list, inputs = make_idx_list(plain)
    while idx_list and idx_list[-1] in (("slice", None, None, None), ("slice", None, None, 1)):
        idx_list = idx_list[:-1]
    has_new = any(i is None for i in index)
    # x[:] and x[...] stay an (identity) Subtensor so that set_subtensor(x[:], y) works
    out = Subtensor(idx_list)(x, *inputs) if idx_list or not has_new else x
    if has_new:
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


# ------------------------------------------------------------------ set_subtensor / inc_subtensor

def _undo_dimshuffle(x, y, opname):
    """For ``x = inner.dimshuffle(order)``: the value to put into ``inner``, i.e. y with the inverse shuffle."""
    order = x.owner.op.new_order
    inner = x.owner.inputs[0]
    if y.ndim < x.ndim:
        y = _basic.shape_padleft(y, x.ndim - y.ndim)
    for pos, o in enumerate(order):
        if o == "x" and not y.broadcastable[pos]:
            y = _basic.addbroadcast(y, pos)  # checked at run time: a new axis has length 1
    pattern = [order.index(a) if a in order else "x" for a in range(inner.ndim)]
    return y.dimshuffle(pattern)


def _inc_or_set(x, y, set_instead_of_inc):
    """Shared by inc_subtensor and set_subtensor: x must be the result of indexing."""
    fname = "set_subtensor" if set_instead_of_inc else "inc_subtensor"
    x = _basic.as_tensor_variable(x)
    y = _basic.as_tensor_variable(y)
    if y.ndim > x.ndim:
        raise TypeError(f"{fname}: the value {y} has {y.ndim} dimensions, more than the {x.ndim} of {x}")
    op = x.owner.op if x.owner is not None else None
    if isinstance(op, Subtensor):
        base, rest = x.owner.inputs[0], x.owner.inputs[1:]
        return IncSubtensor(op.idx_list, set_instead_of_inc=set_instead_of_inc)(base, y, *rest)
    if isinstance(op, (_advanced.AdvancedSubtensor1, _advanced.AdvancedSubtensor)):
        return _advanced.advanced_inc_or_set(x, y, set_instead_of_inc)
    if isinstance(op, _basic.Rebroadcast):
        return _inc_or_set(x.owner.inputs[0], y, set_instead_of_inc)
    if isinstance(op, _elemwise.DimShuffle):
        # x[None], x[i][:, None], x[1:3].T ...: index the tensor under the shuffle with the unshuffled value
        inner = x.owner.inputs[0]
        y_inner = _undo_dimshuffle(x, cast_value(inner, y, fname), fname)
        inner_op = inner.owner.op if inner.owner is not None else None
        if isinstance(inner_op, (Subtensor, _advanced.AdvancedSubtensor1, _advanced.AdvancedSubtensor,
                                 _basic.Rebroadcast, _elemwise.DimShuffle)):
            return _inc_or_set(inner, y_inner, set_instead_of_inc)
        return IncSubtensor((), set_instead_of_inc=set_instead_of_inc)(inner, y_inner)
    raise TypeError(f"{fname}: the first argument must be the result of indexing a tensor, such as x[1:3], "
                    f"x[idx] or x[mask]; got {x}" + (f", the output of {op}" if op is not None else ""))


def inc_subtensor(x, y, inplace=False, set_instead_of_inc=False, tolerate_inplace_aliasing=False):
    """The whole tensor that ``x`` indexes, with ``y`` added at the indexed positions.

    Repeated integer indices accumulate (like ``np.add.at``). ``inplace`` is
    accepted for compatibility; in-place updates are the rewriter's job.
    """
    return _inc_or_set(x, y, set_instead_of_inc)


def set_subtensor(x, y, inplace=False, tolerate_inplace_aliasing=False):
    """The whole tensor that ``x`` indexes, with ``y`` written at the indexed positions."""
    return _inc_or_set(x, y, True)


import symtensor.tensor.advanced_subtensor as _advanced  # noqa: E402  (advanced indexing builds on this module)
