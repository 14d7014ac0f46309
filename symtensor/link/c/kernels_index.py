"""C kernels for views, indexing and the small shape ops of an MLP graph (Subtensor, IncSubtensor,
AdvancedSubtensor1/AdvancedIncSubtensor1, coordinate AdvancedSubtensor/AdvancedIncSubtensor, Alloc, Join,
MakeVector, ARange, Rebroadcast, SpecifyShape, TensorFromScalar/ScalarFromTensor, SliceLength).

The loops live in ``c_code/st_index.h``; these generators only pass the
node's constant facts (index entries, broadcast patterns, dtypes, names).
"""

from symtensor.link.c.registry import register
from symtensor.link.c.scalar_c import NPY_TYPENUMS, c_type
from symtensor.tensor.advanced_subtensor import (
    AdvancedIncSubtensor, AdvancedIncSubtensor1, AdvancedSubtensor, AdvancedSubtensor1)
from symtensor.tensor.basic import Alloc, MakeVector, Rebroadcast, ScalarFromTensor, TensorFromScalar
from symtensor.tensor.extra_ops import ARange
from symtensor.tensor.join import Join
from symtensor.tensor.shape import SpecifyShape
from symtensor.tensor.subtensor import SYMBOLIC, IncSubtensor, SliceLength, Subtensor

_INT_DTYPES = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")


def c_string(text):
    """A C string literal for ``text`` (op names in error messages)."""
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def _bcast(var):
    """The broadcastable pattern of a variable as a C string of '0'/'1' (which axes may be broadcast)."""
    return c_string("".join("1" if b else "0" for b in var.type.broadcastable))


def _index_entries(idx_list, sym_slots):
    """C statements declaring ``st_index_entry e[]`` for an idx_list; symbolic parts read from their slots."""
    n = len(idx_list)
    lines = [f"st_index_entry e[{max(n, 1)}];", "memset(e, 0, sizeof e);"]
    sym = iter(sym_slots)
    for k, entry in enumerate(idx_list):
        if isinstance(entry, tuple):
            lines.append(f"e[{k}].kind = 1;")
            for j, part in enumerate(entry[1:]):
                if part is None:
                    continue
                value = f"st_scalar_i64({next(sym)})" if part == SYMBOLIC else f"{int(part)}LL"
                lines.append(f"e[{k}].has[{j}] = 1; e[{k}].v[{j}] = {value};")
        else:
            value = f"st_scalar_i64({next(sym)})" if entry == SYMBOLIC else f"{int(entry)}LL"
            lines.append(f"e[{k}].kind = 0; e[{k}].v[0] = {value};")
    return lines


# ------------------------------------------------------------------ views

@register(Subtensor)
def subtensor_kernel(node, ins, outs):
    n = len(node.op.idx_list)
    return _index_entries(node.op.idx_list, ins[1:]) + [
        f"PyObject *v = st_subtensor_view(ST_ARR({ins[0]}), {n}, e, {c_string(node.op)});",
        "if (v == NULL) return -1;",
        f"st_set_slot(&{outs[0]}, v);",
    ]


@register(Rebroadcast)
def rebroadcast_kernel(node, ins, outs):
    lines = [f"PyArrayObject *x = ST_ARR({ins[0]});", "char sbuf[160];"]
    for axis, flag in node.op.axis:
        if flag:
            lines.append(f"if (PyArray_DIM(x, {axis}) != 1) ST_FAIL(PyExc_ValueError, \"Rebroadcast: axis {axis} was "
                         f"declared broadcastable but has length %ld (input shape %s)\", (long)PyArray_DIM(x, {axis}), "
                         "st_shape_str(x, sbuf, sizeof sbuf));")
    lines.append(f"Py_INCREF({ins[0]}); st_set_slot(&{outs[0]}, {ins[0]});")
    return lines


@register(SpecifyShape)
def specify_shape_kernel(node, ins, outs):
    checks = [f"PyArray_DIM(x, {d}) != {s}" for d, s in enumerate(node.op.shape) if s is not None]
    lines = [f"PyArrayObject *x = ST_ARR({ins[0]});", "char sbuf[160];"]
    if checks:
        expected = str(tuple(node.op.shape)).replace('"', "'")
        lines.append(f"if ({' || '.join(checks)}) ST_FAIL(PyExc_ValueError, \"specify_shape: expected shape "
                     f"{expected}, got %s\", st_shape_str(x, sbuf, sizeof sbuf));")
    lines.append(f"Py_INCREF({ins[0]}); st_set_slot(&{outs[0]}, {ins[0]});")
    return lines


# ------------------------------------------------------------------ writes into a region

@register(IncSubtensor)
def inc_subtensor_kernel(node, ins, outs):
    op = node.op
    if node.inputs[0].dtype not in NPY_TYPENUMS or node.inputs[1].dtype != node.inputs[0].dtype:
        return None
    name = c_string(op)
    return _index_entries(op.idx_list, ins[2:]) + [
        f"PyArrayObject *x = ST_ARR({ins[0]}), *y = ST_ARR({ins[1]});",
        f"if (st_inplace_or_copy(&{outs[0]}, x, {int(op.inplace)}) < 0) return -1;",
        f"PyObject *v = st_subtensor_view(ST_ARR({outs[0]}), {len(op.idx_list)}, e, {name});",
        "if (v == NULL) return -1;",
        f"int rc = st_assign_region(ST_ARR(v), y, {int(not op.set_instead_of_inc)}, {_bcast(node.inputs[1])}, "
        f"{name}, \"indexed region\", x);",
        "Py_DECREF(v);",
        "if (rc < 0) return -1;",
    ]


def _coordinate_index(node, first):
    """The index inputs when every entry is a 1-d integer array on the leading axes (else None)."""
    idx_list = getattr(node.op, "idx_list", (SYMBOLIC,))
    arrays = node.inputs[first:]
    if not idx_list or any(e != SYMBOLIC for e in idx_list) or len(arrays) != len(idx_list):
        return None
    if any(a.ndim != 1 or a.dtype not in _INT_DTYPES for a in arrays):
        return None
    return arrays


@register(AdvancedSubtensor1, AdvancedSubtensor)
def take_kernel(node, ins, outs):
    arrays = _coordinate_index(node, 1)
    if arrays is None or node.inputs[0].dtype not in NPY_TYPENUMS:
        return None
    k = len(arrays)
    return [
        f"PyArrayObject *idx[{k}] = {{{', '.join(f'ST_ARR({s})' for s in ins[1:])}}};",
        f"return st_take_coords(&{outs[0]}, ST_ARR({ins[0]}), {k}, idx, {c_string(node.op)});",
    ]


@register(AdvancedIncSubtensor1, AdvancedIncSubtensor)
def inc_coords_kernel(node, ins, outs):
    arrays = _coordinate_index(node, 2)
    x, y = node.inputs[:2]
    if arrays is None or x.dtype not in NPY_TYPENUMS or y.dtype != x.dtype:
        return None
    op = node.op
    k = len(arrays)
    return [
        f"PyArrayObject *idx[{k}] = {{{', '.join(f'ST_ARR({s})' for s in ins[2:])}}};",
        f"return st_inc_coords(&{outs[0]}, ST_ARR({ins[0]}), ST_ARR({ins[1]}), {k}, idx, {int(op.inplace)}, "
        f"{int(op.set_instead_of_inc)}, {_bcast(y)}, {c_string(op)});",
    ]


# ------------------------------------------------------------------ building tensors

@register(Alloc)
def alloc_kernel(node, ins, outs):
    out = node.outputs[0]
    if out.dtype not in NPY_TYPENUMS:
        return None
    nd = out.ndim
    lines = [f"npy_intp dims[{max(nd, 1)}];", "char sbuf[160];"]
    lines += [f"dims[{d}] = (npy_intp)st_scalar_i64({s});" for d, s in enumerate(ins[1:])]
    if nd:
        lines.append(f"if ({' || '.join(f'dims[{d}] < 0' for d in range(nd))}) ST_FAIL(PyExc_ValueError, "
                     f"\"Alloc: negative length in shape %s\", st_dims_str({nd}, dims, sbuf, sizeof sbuf));")
    lines += [
        f"if (st_prepare_output(&{outs[0]}, {nd}, dims, {NPY_TYPENUMS[out.dtype]}) < 0) return -1;",
        f"return st_assign_region(ST_ARR({outs[0]}), ST_ARR({ins[0]}), 0, NULL, \"Alloc\", \"output\", NULL);",
    ]
    return lines


@register(MakeVector)
def make_vector_kernel(node, ins, outs):
    out_dtype = node.outputs[0].dtype
    if out_dtype not in NPY_TYPENUMS or any(i.dtype not in NPY_TYPENUMS for i in node.inputs):
        return None
    t = c_type(out_dtype)
    lines = [f"npy_intp dims[1] = {{{len(ins)}}};",
             f"if (st_prepare_output(&{outs[0]}, 1, dims, {NPY_TYPENUMS[out_dtype]}) < 0) return -1;",
             f"{t} *p = ({t} *)PyArray_DATA(ST_ARR({outs[0]}));"]
    for k, (var, slot) in enumerate(zip(node.inputs, ins)):
        lines.append(f"p[{k}] = ({t})*(const {c_type(var.dtype)} *)PyArray_DATA(ST_ARR({slot}));")
    return lines


@register(ARange)
def arange_kernel(node, ins, outs):
    # integer start/stop/step only: NumPy counts float ranges through the output dtype, left to perform
    out_dtype = node.outputs[0].dtype
    if out_dtype not in _INT_DTYPES or any(i.dtype not in _INT_DTYPES for i in node.inputs):
        return None
    t = c_type(out_dtype)
    return [
        f"const npy_int64 a = st_scalar_i64({ins[0]}), b = st_scalar_i64({ins[1]}), s = st_scalar_i64({ins[2]});",
        "if (s == 0) ST_FAIL(PyExc_ValueError, \"ARange: step must not be zero\");",
        "npy_intp dims[1];",
        "dims[0] = s > 0 ? (b > a ? (npy_intp)((b - a + s - 1) / s) : 0) : (a > b ? (npy_intp)((a - b - s - 1) / -s) : 0);",
        f"if (st_prepare_output(&{outs[0]}, 1, dims, {NPY_TYPENUMS[out_dtype]}) < 0) return -1;",
        f"{t} *p = ({t} *)PyArray_DATA(ST_ARR({outs[0]}));",
        f"for (npy_intp i = 0; i < dims[0]; ++i) p[i] = ({t})(a + (npy_int64)i * s);",
    ]


@register(Join)
def join_kernel(node, ins, outs):
    out_dtype = node.outputs[0].dtype
    if out_dtype not in NPY_TYPENUMS or any(i.dtype not in NPY_TYPENUMS for i in node.inputs[1:]):
        return None
    n = len(ins) - 1
    return [
        f"PyObject *tensors[{n}] = {{{', '.join(ins[1:])}}};",
        f"return st_join(&{outs[0]}, st_scalar_i64({ins[0]}), {n}, tensors, {NPY_TYPENUMS[out_dtype]}, \"Join\");",
    ]


def _scalar_copy(node, ins, outs):
    dtype = node.outputs[0].type.dtype
    if dtype not in NPY_TYPENUMS:
        return None
    return [
        f"PyObject *r = PyArray_FromAny({ins[0]}, PyArray_DescrFromType({NPY_TYPENUMS[dtype]}), 0, 0, "
        "NPY_ARRAY_ENSURECOPY | NPY_ARRAY_FORCECAST, NULL);",
        "if (r == NULL) return -1;",
        "if (PyArray_NDIM((PyArrayObject *)r) != 0) { Py_DECREF(r); "
        f"ST_FAIL(PyExc_ValueError, \"{type(node.op).__name__}: expected a scalar\"); }}",
        f"st_set_slot(&{outs[0]}, r);",
    ]


register(TensorFromScalar, ScalarFromTensor)(_scalar_copy)


@register(SliceLength)
def slice_length_kernel(node, ins, outs):
    parts, it = [], iter(ins[1:])
    for none in node.op.none_mask:
        parts += ["0", "0"] if none else ["1", f"st_scalar_i64({next(it)})"]
    return ["npy_intp start, step, len;",
            f"if (st_slice_indices((npy_intp)st_scalar_i64({ins[0]}), {', '.join(parts)}, &start, &step, &len) < 0) "
            "return -1;",
            f"if (st_prepare_output(&{outs[0]}, 0, NULL, NPY_INT64) < 0) return -1;",
            f"*(npy_int64 *)PyArray_DATA(ST_ARR({outs[0]})) = (npy_int64)len;"]
