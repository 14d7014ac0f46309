"""C kernels for sorting (SortOp, ArgSortOp), cumulative sums and products (CumOp), RepeatOp, Split and
ARange with a float dtype (the integer ARange kernel of kernels_index is kept and tried first).

The loops live in ``c_code/st_extra.h``; the generators pick the per-dtype
lane function and pass the node's constant facts (axis, broadcast flags).
"""

from symtensor.link.c.kernels_index import arange_kernel as integer_arange_kernel
from symtensor.link.c.registry import register
from symtensor.link.c.scalar_c import NPY_TYPENUMS
from symtensor.tensor.extra_ops import ARange, CumOp, RepeatOp
from symtensor.tensor.join import Split
from symtensor.tensor.sort import ArgSortOp, SortOp

#: dtype -> suffix of the lane functions instantiated in st_extra.h
SUFFIX = {"bool": "bool", "int8": "i8", "uint8": "u8", "int16": "i16", "uint16": "u16", "int32": "i32",
          "uint32": "u32", "int64": "i64", "uint64": "u64", "float32": "f32", "float64": "f64"}
_INT_DTYPES = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")


@register(SortOp, ArgSortOp)
def sort_kernel(node, ins, outs):
    """Stable sort along a run-time axis: the values (SortOp) or the int64 positions (ArgSortOp)."""
    sfx = SUFFIX.get(node.inputs[0].dtype)
    if sfx is None:
        return None
    positions = isinstance(node.op, ArgSortOp)
    opname = "argsort" if positions else "sort"
    return [
        f"PyArrayObject *x = ST_ARR({ins[0]});",
        f"const int axis = st_axis(st_scalar_i64({ins[1]}), PyArray_NDIM(x), \"{opname}\");",
        "if (axis < 0) return -1;",
        f"if (st_prepare_output(&{outs[0]}, PyArray_NDIM(x), PyArray_DIMS(x), "
        f"{NPY_TYPENUMS[node.outputs[0].dtype]}) < 0) return -1;",
        f"if (st_for_lanes(x, ST_ARR({outs[0]}), axis, st_sort_lane_{sfx}, {int(positions)}, "
        f"2 * sizeof(st_keyed_{sfx})) < 0) return -1;",
    ]


@register(CumOp)
def cum_kernel(node, ins, outs):
    """cumsum / cumprod in the output dtype (booleans counted as int64, like perform)."""
    dtype = node.outputs[0].dtype
    if dtype not in SUFFIX or dtype == "bool" or node.inputs[0].dtype not in NPY_TYPENUMS:
        return None
    axis = -1 if node.op.axis is None else node.op.axis % node.inputs[0].ndim
    mul = int(node.op.mode == "mul")
    return [f"if (st_cum(&{outs[0]}, {ins[0]}, {axis}, {NPY_TYPENUMS[dtype]}, st_cum_lane_{SUFFIX[dtype]}, "
            f"{mul}) < 0) return -1;"]


@register(RepeatOp)
def repeat_kernel(node, ins, outs):
    x, repeats = node.inputs
    if x.dtype not in NPY_TYPENUMS or repeats.dtype not in _INT_DTYPES:
        return None
    axis = -1 if node.op.axis is None else node.op.axis
    broadcast = int(repeats.ndim == 1 and repeats.broadcastable[0])
    return [
        f"PyArrayObject *x = (PyArrayObject *)PyArray_GETCONTIGUOUS(ST_ARR({ins[0]}));",
        "if (x == NULL) return -1;",
        f"const int rc = st_repeat(&{outs[0]}, x, {axis}, ST_ARR({ins[1]}), {broadcast});",
        "Py_DECREF(x);",
        "if (rc < 0) return -1;",
    ]


@register(Split)
def split_kernel(node, ins, outs):
    if node.inputs[0].dtype not in NPY_TYPENUMS:
        return None
    n = len(outs)
    return [
        f"PyObject **outs[{n}] = {{{', '.join('&' + o for o in outs)}}};",
        f"if (st_split(outs, {n}, ST_ARR({ins[0]}), st_scalar_i64({ins[1]}), ST_ARR({ins[2]})) < 0) return -1;",
    ]


@register(ARange)
def arange_kernel(node, ins, outs):
    """Integer ranges as in kernels_index; float32/float64 ranges counted and filled like NumPy's arange."""
    body = integer_arange_kernel(node, ins, outs)
    dtype = node.outputs[0].dtype
    if body is not None or dtype not in ("float32", "float64"):
        return body
    if any(i.dtype not in NPY_TYPENUMS or i.dtype == "bool" for i in node.inputs):
        return None
    sfx = SUFFIX[dtype]
    return [
        f"const double a = st_scalar_f64({ins[0]}), b = st_scalar_f64({ins[1]}), s = st_scalar_f64({ins[2]});",
        "npy_intp dims[1];",
        "if (st_arange_length(a, b, s, dims) < 0) return -1;",
        f"if (st_prepare_output(&{outs[0]}, 1, dims, {NPY_TYPENUMS[dtype]}) < 0) return -1;",
        f"st_arange_fill_{sfx}((npy_{'float32' if sfx == 'f32' else 'float64'} *)PyArray_DATA(ST_ARR({outs[0]})), "
        "dims[0], a, s);",
    ]
