"""Advanced ("fancy") indexing with integer and boolean arrays, following NumPy's rules.

``AdvancedSubtensor1`` is the common case ``x[int_vector]`` (rows of a
matrix, embedding lookups). ``AdvancedSubtensor`` handles everything else:
several index arrays broadcast together, mixed with slices, integers, new
axes and boolean masks. Its index is an ``idx_list`` like Subtensor's, plus
``None`` for a new axis; a ``"?"`` entry is an extra input that is an integer
scalar, an integer array or a boolean mask (its type says which). The
increment ops accumulate repeated indices, like ``np.add.at``, which is what
makes them the gradients of the indexing ops.
"""

import numpy as np

import symtensor.tensor.basic as _basic
import symtensor.tensor.math as _math
import symtensor.tensor.subtensor as _subtensor
from symtensor import scalar as ts
from symtensor.config import config
from symtensor.graph.basic import Apply, Constant, Variable
from symtensor.graph.op import DataFirstOp, Op
from symtensor.tensor.type import TensorType

__all__ = ["AdvancedSubtensor1", "AdvancedIncSubtensor1", "AdvancedSubtensor", "AdvancedIncSubtensor",
           "advanced_subtensor1", "advanced_inc_subtensor1", "advanced_set_subtensor1", "advanced_subtensor",
           "advanced_inc_subtensor", "advanced_set_subtensor", "take"]

SYMBOLIC = _subtensor.SYMBOLIC


def as_index_array(item, what):
    """An integer or boolean index array as a tensor (a clear TypeError for anything else)."""
    if isinstance(item, (list, tuple)) and len(item) == 0:
        item = np.zeros(0, dtype="int64")
    try:
        v = _basic.as_tensor_variable(item)
    except TypeError as exc:
        raise TypeError(f"index {what}: cannot use {item!r} as an index array ({exc})") from None
    if v.dtype == "bool":
        if v.ndim == 0:
            raise TypeError(f"index {what}: a boolean scalar ({v}) is not a supported index; use T.switch")
        return v
    if v.dtype not in _subtensor.INDEX_DTYPES:
        raise TypeError(f"index {what}: index arrays must have an integer or boolean dtype, got {v} of dtype {v.dtype}")
    return v


def _int_array_bounds(v, n, axis, opname):
    """Constant integer indices must lie in [-n, n) when the axis length n is known."""
    if n is None or not isinstance(v, Constant):
        return
    data = np.asarray(v.data)
    if data.size and (data.min() < -n or data.max() >= n):
        bad = data[(data < -n) | (data >= n)].reshape(-1)[0]
        raise IndexError(f"{opname}: index {bad} is out of bounds for axis {axis} with length {n}")


def _wrap_index_error(opname, exc, x_shape, index, extra=""):
    shapes = ", ".join(f"array{np.shape(i)}" if isinstance(i, np.ndarray) else repr(i) for i in index)
    return type(exc)(f"{opname}: {exc} (x shape {tuple(x_shape)}{extra}, index ({shapes}))")


# ------------------------------------------------------------------ x[int_vector]

class AdvancedSubtensor1(Op):
    """``x[ilist]`` for an integer vector ``ilist``: rows of x, repeated or reordered as listed."""

    __props__ = ()

    def make_node(self, x, ilist):
        x = _basic.as_tensor_variable(x)
        ilist = _basic.as_tensor_variable(ilist)
        if x.ndim == 0:
            raise TypeError(f"AdvancedSubtensor1: cannot index the 0-d tensor {x}")
        if ilist.ndim != 1 or ilist.dtype not in _subtensor.INDEX_DTYPES:
            raise TypeError(f"AdvancedSubtensor1: the index must be an integer vector, got {ilist} "
                            f"({ilist.ndim}-d {ilist.dtype})")
        _int_array_bounds(ilist, x.type.shape[0], 0, "AdvancedSubtensor1")
        out = TensorType(x.dtype, shape=(ilist.type.shape[0],) + x.type.shape[1:])()
        return Apply(self, [x, ilist], [out])

    def perform(self, node, inputs, output_storage):
        x, ilist = inputs
        try:
            output_storage[0][0] = x[ilist]
        except IndexError as exc:
            raise _wrap_index_error(str(self), exc, x.shape, (ilist,)) from None

    def infer_shape(self, fgraph, node, input_shapes):
        return [(input_shapes[1][0],) + tuple(input_shapes[0][1:])]

    def L_op(self, inputs, outputs, output_grads):
        x, ilist = inputs
        (gz,) = output_grads
        if x.dtype in ts.discrete_dtypes:
            gx = _basic.zeros_like(x, dtype=config.floatX)
        else:
            gx = AdvancedIncSubtensor1()(_basic.zeros_like(x), gz, ilist)
        return [gx, _basic.zeros_like(ilist, dtype=config.floatX)]

    def connection_pattern(self, node):
        return [[True], [False]]

    def R_op(self, inputs, eval_points):
        if eval_points[0] is None:
            return [None]
        return [self(eval_points[0], inputs[1])]


advanced_subtensor1 = AdvancedSubtensor1()


class AdvancedIncSubtensor1(Op):
    """``x`` with ``x[ilist]`` incremented by ``y`` (repeats accumulate) or set to ``y``."""

    __props__ = ("inplace", "set_instead_of_inc")

    def __init__(self, inplace=False, set_instead_of_inc=False):
        self.inplace = inplace
        self.set_instead_of_inc = set_instead_of_inc
        self.destroy_map = {0: [0]} if inplace else {}

    def __str__(self):
        kind = "Set" if self.set_instead_of_inc else "Inc"
        return f"Advanced{kind}Subtensor1{{{'inplace' if self.inplace else 'no_inplace'}}}"

    def make_node(self, x, y, ilist):
        x = _basic.as_tensor_variable(x)
        ilist = _basic.as_tensor_variable(ilist)
        opname = str(self)
        if x.ndim == 0:
            raise TypeError(f"{opname}: cannot index the 0-d tensor {x}")
        if ilist.ndim != 1 or ilist.dtype not in _subtensor.INDEX_DTYPES:
            raise TypeError(f"{opname}: the index must be an integer vector, got {ilist} "
                            f"({ilist.ndim}-d {ilist.dtype})")
        _int_array_bounds(ilist, x.type.shape[0], 0, opname)
        y = _subtensor.cast_value(x, y, opname)
        _subtensor.check_value_shape((ilist.type.shape[0],) + x.type.shape[1:], y, opname)
        return Apply(self, [x, y, ilist], [x.type()])

    def perform(self, node, inputs, output_storage):
        x, y, ilist = inputs
        out = x if self.inplace else x.copy()
        try:
            _subtensor.check_runtime_value(node, y, (len(ilist),) + x.shape[1:], str(self))
            if self.set_instead_of_inc:
                out[ilist] = y
            else:
                np.add.at(out, ilist, y)
        except (IndexError, ValueError) as exc:
            raise _wrap_index_error(str(self), exc, x.shape, (ilist,), f", value shape {np.shape(y)}") from None
        output_storage[0][0] = out

    def infer_shape(self, fgraph, node, input_shapes):
        return [input_shapes[0]]

    def L_op(self, inputs, outputs, output_grads):
        x, y, ilist = inputs
        (gz,) = output_grads
        if x.dtype in ts.discrete_dtypes:
            gx = _basic.zeros_like(x, dtype=config.floatX)
        elif self.set_instead_of_inc:
            gx = AdvancedIncSubtensor1(set_instead_of_inc=True)(gz, _basic.zeros_like(y), ilist)
        else:
            gx = gz
        if self.set_instead_of_inc:
            gy = _set_value_grad(advanced_subtensor1(gz, ilist), x, y, (SYMBOLIC,), [ilist])
        else:
            gy = _subtensor._sum_to_shape(advanced_subtensor1(gz, ilist), y)
        return [gx, gy, _basic.zeros_like(ilist, dtype=config.floatX)]

    def connection_pattern(self, node):
        return [[True], [True], [False]]

    def R_op(self, inputs, eval_points):
        if eval_points[0] is None and eval_points[1] is None:
            return [None]
        ex = _basic.zeros_like(inputs[0]) if eval_points[0] is None else eval_points[0]
        ey = _basic.zeros_like(inputs[1]) if eval_points[1] is None else eval_points[1]
        return [self(ex, ey, inputs[2])]


def advanced_inc_subtensor1(x, y, ilist):
    return AdvancedIncSubtensor1()(x, y, ilist)


def advanced_set_subtensor1(x, y, ilist):
    return AdvancedIncSubtensor1(set_instead_of_inc=True)(x, y, ilist)


# ------------------------------------------------------------------ general advanced indexing

def make_idx_list(index):
    """Split an index tuple with arrays into (idx_list, inputs); see the module docstring."""
    idx_list, inputs = [], []
    for k, item in enumerate(index):
        if item is None:
            idx_list.append(None)
        elif isinstance(item, slice):
            idx_list.append(("slice",) + tuple(_subtensor._entry(p, inputs, f"{k} ({name})") for p, name in
                                              ((item.start, "start"), (item.stop, "stop"), (item.step, "step"))))
        elif _subtensor.is_advanced(item):
            inputs.append(as_index_array(item, k))
            idx_list.append(SYMBOLIC)
        else:
            idx_list.append(_subtensor._entry(item, inputs, str(k)))
    return tuple(idx_list), inputs


def _entries(idx_list, values):
    """Pair the entries with their inputs: (kind, value, input position or None).

    kind is 'slice' (value: the 3 parts), 'new', 'int', 'array' or 'mask'.
    Works on variables (graph building) and on arrays (run time).
    """
    out, k = [], 0
    for e in idx_list:
        if e is None:
            out.append(("new", None, None))
        elif isinstance(e, tuple):
            parts = []
            for p in e[1:]:
                if p == SYMBOLIC:
                    parts.append(values[k])
                    k += 1
                else:
                    parts.append(p)
            out.append(("slice", tuple(parts), None))
        elif e == SYMBOLIC:
            v = values[k]
            kind = "mask" if v.dtype == "bool" else ("array" if v.ndim else "int")
            out.append((kind, v, k))
            k += 1
        else:
            out.append(("int", e, None))
    return out


def _layout(entries, x_ndim):
    """Output dimensions in order: ('adv', j) | ('slice', axis, parts) | ('new',) | ('keep', axis).

    The broadcast index dimensions replace the indexed axes when the array
    indices are adjacent, and go first otherwise (NumPy's rule).
    """
    adv_pos = [k for k, (kind, _, _) in enumerate(entries) if kind in ("int", "array", "mask")]
    has_array = any(kind in ("array", "mask") for kind, _, _ in entries)
    bnd = max([v.ndim for kind, v, _ in entries if kind == "array"] +
              [1 for kind, _, _ in entries if kind == "mask"] + [0])
    adjacent = not has_array or adv_pos == list(range(adv_pos[0], adv_pos[-1] + 1))
    adv_dims = [("adv", j) for j in range(bnd)]
    dims = [] if adjacent else list(adv_dims)
    placed, axis = not adjacent, 0
    for kind, v, _ in entries:
        if kind == "new":
            dims.append(("new",))
        elif kind == "slice":
            dims.append(("slice", axis, v))
            axis += 1
        else:
            if not placed:
                dims.extend(adv_dims)
                placed = True
            axis += v.ndim if kind == "mask" else 1
    if axis > x_ndim:
        raise IndexError(f"too many indices: the index uses {axis} dimensions of a {x_ndim}-d tensor")
    dims.extend(("keep", a) for a in range(axis, x_ndim))
    return dims, bnd


def _static_adv_shape(entries, bnd, opname):
    shapes = []
    for kind, v, _ in entries:
        if kind == "array":
            shapes.append(v.type.shape)
        elif kind == "mask":
            shapes.append((int(np.sum(v.data)) if isinstance(v, Constant) else None,))
    out = []
    for j in range(bnd):
        known, unknown = set(), False
        for s in shapes:
            off = j - (bnd - len(s))
            if off < 0:
                continue
            if s[off] is None:
                unknown = True
            elif s[off] != 1:
                known.add(s[off])
        if len(known) > 1:
            raise IndexError(f"{opname}: shape mismatch: the index arrays (static shapes {shapes}) cannot be "
                             "broadcast together")
        out.append(known.pop() if known else (None if unknown else 1))
    return out


def _static_shape(x, entries, opname):
    dims, bnd = _layout(entries, x.ndim)
    adv = _static_adv_shape(entries, bnd, opname)
    shape = []
    for d in dims:
        if d[0] == "adv":
            shape.append(adv[d[1]])
        elif d[0] == "new":
            shape.append(1)
        elif d[0] == "keep":
            shape.append(x.type.shape[d[1]])
        else:
            parts = d[2]
            n = x.type.shape[d[1]]
            known = all(p is None or isinstance(p, int) for p in parts)
            shape.append(len(range(*slice(*parts).indices(n))) if known and n is not None else None)
    return tuple(shape)


def _check_entries(x, entries, opname):
    """Build-time checks: zero steps, constant indices in bounds, mask shapes matching x."""
    axis = 0
    for kind, v, _ in entries:
        if kind == "new":
            continue
        if kind == "slice":
            if v[2] == 0:
                raise ValueError(f"{opname}: slice step cannot be zero")
        elif kind == "mask":
            for k, n in enumerate(v.type.shape):
                want = x.type.shape[axis + k] if axis + k < x.ndim else None
                if n is not None and want is not None and n != want:
                    raise IndexError(f"{opname}: boolean index of static shape {v.type.shape} does not match "
                                     f"axes {axis}..{axis + v.ndim - 1} of {x} with shape {x.type.shape}")
            axis += v.ndim
            continue
        elif axis < x.ndim:
            n = x.type.shape[axis]
            if kind == "int" and isinstance(v, int):
                v = _basic.constant(v)
            _int_array_bounds(v, n, axis, opname)
        axis += 1


def _numpy_index(entries):
    out = []
    for kind, v, _ in entries:
        if kind == "slice":
            out.append(slice(*[None if p is None else int(p) for p in v]))
        elif kind == "new":
            out.append(None)
        elif kind == "int":
            out.append(int(v))
        else:
            out.append(v)
    return tuple(out)


def _runtime_shape(x_shape, entries):
    """Shape of x[index] from the index values, without indexing (the shape of the region an inc writes)."""
    dims, _ = _layout(entries, len(x_shape))
    arrays = [np.shape(v) for kind, v, _ in entries if kind == "array"]
    arrays += [(int(np.count_nonzero(v)),) for kind, v, _ in entries if kind == "mask"]
    try:
        adv = np.broadcast_shapes(*arrays)
    except ValueError:
        raise IndexError(f"shape mismatch: index arrays of shapes {arrays} cannot be broadcast together") from None
    shape = []
    for d in dims:
        if d[0] == "adv":
            shape.append(adv[d[1]])
        elif d[0] == "new":
            shape.append(1)
        elif d[0] == "keep":
            shape.append(x_shape[d[1]])
        else:
            shape.append(len(range(*slice(*[None if p is None else int(p) for p in d[2]]).indices(x_shape[d[1]]))))
    return tuple(shape)


def _broadcast_length(a, b):
    """NumPy's broadcast of two lengths, assuming they are compatible."""
    return _math.switch(_math.eq(a, 1), b, a)


def _symbolic_shape(node, idx_list, x_shape, index_shapes):
    """Output shape of x[index] from the input shapes (and, for masks, the number of True entries)."""
    x = node.inputs[0]
    values = node.inputs[len(node.inputs) - len(index_shapes):]
    entries = _entries(idx_list, values)
    dims, bnd = _layout(entries, x.ndim)
    items = []  # per advanced item: (static shape, symbolic shape)
    for kind, v, k in entries:
        if kind == "array":
            items.append((v.type.shape, tuple(index_shapes[k])))
        elif kind == "mask":
            items.append(((None,), (_math.sum(v, dtype="int64"),)))
    adv = []
    for j in range(bnd):
        length = None
        for static, symbolic in items:
            off = j - (bnd - len(static))
            if off < 0 or static[off] == 1:
                continue
            length = symbolic[off] if length is None else _broadcast_length(length, symbolic[off])
        adv.append(1 if length is None else length)
    shape = []
    for d in dims:
        if d[0] == "adv":
            shape.append(adv[d[1]])
        elif d[0] == "new":
            shape.append(1)
        elif d[0] == "keep":
            shape.append(x_shape[d[1]])
        else:
            shape.append(_subtensor.slice_length(x_shape[d[1]], *d[2]))
    return tuple(shape)


def _prepare_index_inputs(idx_list, inputs, opname):
    if len(inputs) != _subtensor.n_symbolic(idx_list):
        raise TypeError(f"{opname}: expected {_subtensor.n_symbolic(idx_list)} index inputs, got {len(inputs)}")
    out, k = [], 0
    slice_parts = set()
    for e in idx_list:
        if isinstance(e, tuple):
            for p in e[1:]:
                if p == SYMBOLIC:
                    slice_parts.add(k)
                    k += 1
        elif e == SYMBOLIC:
            k += 1
    for k, v in enumerate(inputs):
        if k in slice_parts:
            out.append(_subtensor._as_index_scalar(v, "(slice part)"))
        else:
            v = as_index_array(v, k)
            out.append(_basic.cast(v, "int64") if v.ndim == 0 else v)
    return out


class LastWriteMask(Op):
    """Which elements of ``x[index] = y`` survive (True) when integer indices repeat a position.

    NumPy keeps the last write; the set ops use this mask so that only the
    surviving elements of ``y`` receive a gradient.
    """

    __props__ = ("idx_list",)

    def __init__(self, idx_list):
        self.idx_list = tuple(idx_list)

    def make_node(self, x, *inputs):
        x = _basic.as_tensor_variable(x)
        inputs = _prepare_index_inputs(self.idx_list, inputs, "LastWriteMask")
        shape = _static_shape(x, _entries(self.idx_list, inputs), "LastWriteMask")
        return Apply(self, [x] + inputs, [TensorType("bool", shape=shape)()])

    def perform(self, node, inputs, output_storage):
        x = inputs[0]
        entries = _entries(self.idx_list, inputs[1:])
        index = _numpy_index(entries)
        region = _runtime_shape(x.shape, entries)
        order = np.arange(int(np.prod(region)), dtype="int64").reshape(region)
        writer = np.full(x.shape, -1, dtype="int64")
        writer[index] = order
        output_storage[0][0] = np.asarray(writer[index] == order)

    def infer_shape(self, fgraph, node, input_shapes):
        return [_symbolic_shape(node, self.idx_list, input_shapes[0], input_shapes[1:])]

    def L_op(self, inputs, outputs, output_grads):
        return [_basic.zeros_like(i, dtype=config.floatX) for i in inputs]

    def connection_pattern(self, node):
        return [[False] for _ in node.inputs]


def _set_value_grad(gathered, x, y, idx_list, index_inputs):
    """Gradient of the value of a set: the gathered output gradient where the write survived."""
    if any(kind == "array" for kind, _, _ in _entries(idx_list, index_inputs)):
        survived = LastWriteMask(idx_list)(x, *index_inputs)
        gathered = _math.switch(survived, gathered, _basic.constant(0, dtype=gathered.dtype))
    return _subtensor._sum_to_shape(gathered, y)


class AdvancedSubtensor(DataFirstOp):
    """``x[index]`` with integer/boolean arrays, mixed with slices, integers and new axes (a copy)."""

    __props__ = ("idx_list",)

    def __init__(self, idx_list):
        self.idx_list = tuple(idx_list)

    def __str__(self):
        return f"AdvancedSubtensor{{{_subtensor._format_idx(self.idx_list)}}}"

    def make_node(self, x, *inputs):
        x = _basic.as_tensor_variable(x)
        if x.ndim == 0:
            raise TypeError(f"{self}: cannot index the 0-d tensor {x}")
        inputs = _prepare_index_inputs(self.idx_list, inputs, str(self))
        entries = _entries(self.idx_list, inputs)
        _check_entries(x, entries, str(self))
        out = TensorType(x.dtype, shape=_static_shape(x, entries, str(self)))()
        return Apply(self, [x] + inputs, [out])

    def perform(self, node, inputs, output_storage):
        x = inputs[0]
        index = _numpy_index(_entries(self.idx_list, inputs[1:]))
        try:
            output_storage[0][0] = np.asarray(x[index])
        except IndexError as exc:
            raise _wrap_index_error(str(self), exc, x.shape, index) from None

    def infer_shape(self, fgraph, node, input_shapes):
        return [_symbolic_shape(node, self.idx_list, input_shapes[0], input_shapes[1:])]

    def L_op(self, inputs, outputs, output_grads):
        x, rest = inputs[0], inputs[1:]
        (gz,) = output_grads
        if x.dtype in ts.discrete_dtypes:
            gx = _basic.zeros_like(x, dtype=config.floatX)
        else:
            gx = AdvancedIncSubtensor(self.idx_list)(_basic.zeros_like(x), gz, *rest)
        return [gx] + [_basic.zeros_like(r, dtype=config.floatX) for r in rest]



class AdvancedIncSubtensor(DataFirstOp):
    """``x`` with ``x[index]`` incremented by ``y`` (repeats accumulate, like np.add.at) or set to ``y``."""

    __props__ = ("idx_list", "inplace", "set_instead_of_inc")
    n_data = 2  # x and the value y

    def __init__(self, idx_list, inplace=False, set_instead_of_inc=False):
        self.idx_list = tuple(idx_list)
        self.inplace = inplace
        self.set_instead_of_inc = set_instead_of_inc
        self.destroy_map = {0: [0]} if inplace else {}

    def __str__(self):
        kind = "Set" if self.set_instead_of_inc else "Inc"
        return (f"Advanced{kind}Subtensor{{{_subtensor._format_idx(self.idx_list)}"
                f"{',inplace' if self.inplace else ''}}}")

    def make_node(self, x, y, *inputs):
        x = _basic.as_tensor_variable(x)
        opname = str(self)
        if x.ndim == 0:
            raise TypeError(f"{opname}: cannot index the 0-d tensor {x}")
        inputs = _prepare_index_inputs(self.idx_list, inputs, opname)
        entries = _entries(self.idx_list, inputs)
        _check_entries(x, entries, opname)
        y = _subtensor.cast_value(x, y, opname)
        _subtensor.check_value_shape(_static_shape(x, entries, opname), y, opname)
        return Apply(self, [x, y] + inputs, [x.type()])

    def perform(self, node, inputs, output_storage):
        x, y = inputs[0], inputs[1]
        entries = _entries(self.idx_list, inputs[2:])
        index = _numpy_index(entries)
        out = x if self.inplace else x.copy()
        try:
            _subtensor.check_runtime_value(node, y, _runtime_shape(x.shape, entries), str(self))
            if self.set_instead_of_inc:
                out[index] = y
            else:
                np.add.at(out, index, y)
        except (IndexError, ValueError) as exc:
            raise _wrap_index_error(str(self), exc, x.shape, index, f", value shape {np.shape(y)}") from None
        output_storage[0][0] = out

    def infer_shape(self, fgraph, node, input_shapes):
        return [input_shapes[0]]

    def L_op(self, inputs, outputs, output_grads):
        x, y, rest = inputs[0], inputs[1], inputs[2:]
        (gz,) = output_grads
        if x.dtype in ts.discrete_dtypes:
            gx = _basic.zeros_like(x, dtype=config.floatX)
        elif self.set_instead_of_inc:
            gx = AdvancedIncSubtensor(self.idx_list, set_instead_of_inc=True)(gz, _basic.zeros_like(y), *rest)
        else:
            gx = gz
        gathered = AdvancedSubtensor(self.idx_list)(gz, *rest)
        if self.set_instead_of_inc:
            gy = _set_value_grad(gathered, x, y, self.idx_list, rest)
        else:
            gy = _subtensor._sum_to_shape(gathered, y)
        return [gx, gy] + [_basic.zeros_like(r, dtype=config.floatX) for r in rest]


# ------------------------------------------------------------------ user-facing helpers

def _trim(idx_list, inputs):
    while idx_list and idx_list[-1] in (("slice", None, None, None), ("slice", None, None, 1)):
        idx_list = idx_list[:-1]
    return idx_list, inputs


def advanced_getitem(x, index):
    """``x[index]`` for an (Ellipsis-expanded) index tuple holding at least one array."""
    x = _basic.as_tensor_variable(x)
    idx_list, inputs = _trim(*make_idx_list(index))
    if idx_list == (SYMBOLIC,) and inputs[0].ndim == 1 and inputs[0].dtype != "bool":
        return advanced_subtensor1(x, inputs[0])
    return AdvancedSubtensor(idx_list)(x, *inputs)


def advanced_subtensor(x, *index):
    return advanced_getitem(x, tuple(index))


def advanced_inc_or_set(x, y, set_instead_of_inc):
    """inc/set_subtensor for ``x``, the output of AdvancedSubtensor1 or AdvancedSubtensor."""
    node = x.owner
    if isinstance(node.op, AdvancedSubtensor1):
        return AdvancedIncSubtensor1(set_instead_of_inc=set_instead_of_inc)(node.inputs[0], y, node.inputs[1])
    if isinstance(node.op, AdvancedSubtensor):
        return AdvancedIncSubtensor(node.op.idx_list, set_instead_of_inc=set_instead_of_inc)(
            node.inputs[0], y, *node.inputs[1:])
    raise TypeError(f"{'set' if set_instead_of_inc else 'inc'}_subtensor: {x} is not the result of advanced indexing")


def advanced_inc_subtensor(x, y, *index):
    return advanced_inc_or_set(advanced_getitem(x, tuple(index)), y, False)


def advanced_set_subtensor(x, y, *index):
    return advanced_inc_or_set(advanced_getitem(x, tuple(index)), y, True)


def take(a, indices, axis=None, mode="raise"):
    """``numpy.take``: elements (axis=None, on the flattened ``a``) or slices along ``axis`` at ``indices``.

    ``mode`` is 'raise' (out-of-range indices are an error), 'wrap' or 'clip'.
    """
    a = _basic.as_tensor_variable(a)
    indices = _basic.as_tensor_variable(indices)
    if indices.dtype not in _subtensor.INDEX_DTYPES:
        raise TypeError(f"take: indices must be integers, got {indices} of dtype {indices.dtype}")
    if mode not in ("raise", "wrap", "clip"):
        raise ValueError(f"take: mode must be 'raise', 'wrap' or 'clip', got {mode!r}")
    if axis is None:
        a = a.flatten() if a.ndim != 1 else a
        axis = 0
    if isinstance(axis, Variable):
        axis = int(_basic.get_scalar_constant_value(axis))
    if not -a.ndim <= axis < a.ndim:
        raise ValueError(f"take: axis {axis} is out of range for {a} with {a.ndim} dimensions")
    axis %= a.ndim
    if mode != "raise":
        n = a.shape[axis]
        indices = _math.mod(indices, n) if mode == "wrap" else _math.clip(indices, 0, n - 1)
    index = (slice(None),) * axis + (indices,)
    if indices.ndim == 0:
        return _subtensor.getitem(a, index)
    return advanced_getitem(a, index)
