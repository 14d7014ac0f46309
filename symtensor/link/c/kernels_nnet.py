"""C kernels for the nnet ops (softmax family, fused softmax cross-entropy and its gradient, PickClass)
and Argmax.

The row loops live in ``c_code/st_nnet.h`` (one instantiation per float
dtype); the generators here convert mixed-dtype inputs to the output dtype,
check shapes and labels, prepare the outputs and call them.
"""

from symtensor.link.c.registry import register
from symtensor.link.c.kernels_index import c_string
from symtensor.link.c.scalar_c import NPY_TYPENUMS, c_type
from symtensor.tensor.math import Argmax
from symtensor.tensor.nnet.basic import (
    CrossentropySoftmax1HotWithBiasDx, CrossentropySoftmaxArgmax1HotWithBias, CrossentropySoftmaxDense,
    CrossentropySoftmaxDenseDx, LogSoftmax, PickClass, PickClassGrad, Softmax, SoftmaxGrad, SoftmaxWithBias)

_SUFFIX = {"float32": "f32", "float64": "f64"}


def _converted(names_slots, typenum):
    """Declare ``PyArrayObject *name`` = the slot converted to typenum (new references, freed by _release)."""
    lines = []
    for name, slot in names_slots:
        lines.append(f"PyArrayObject *{name} = st_as_type({slot}, {typenum});")
    names = [n for n, _ in names_slots]
    lines.append(f"if ({' || '.join(f'{n} == NULL' for n in names)}) {{ {_release(names)} return -1; }}")
    return lines


def _release(names):
    return " ".join(f"Py_XDECREF({n});" for n in names)


def _float_out(node, k=0):
    dtype = node.outputs[k].dtype
    return (dtype, NPY_TYPENUMS[dtype], _SUFFIX[dtype]) if dtype in _SUFFIX else None


def _same_shape_output(out_slot, like, typenum):
    return f"if (st_prepare_output(&{out_slot}, PyArray_NDIM({like}), PyArray_DIMS({like}), {typenum}) < 0)"


@register(Softmax, LogSoftmax)
def softmax_kernel(node, ins, outs):
    info = _float_out(node)
    if info is None:
        return None
    _, typenum, sfx = info
    log_ = int(isinstance(node.op, LogSoftmax))
    return _converted([("x", ins[0])], typenum) + [
        f"{_same_shape_output(outs[0], 'x', typenum)} {{ Py_DECREF(x); return -1; }}",
        f"st_softmax_{sfx}(x, NULL, 0, ST_ARR({outs[0]}), {log_});",
        "Py_DECREF(x);",
    ]


@register(SoftmaxWithBias)
def softmax_with_bias_kernel(node, ins, outs):
    info = _float_out(node)
    if info is None:
        return None
    _, typenum, sfx = info
    return _converted([("x", ins[0]), ("b", ins[1])], typenum) + [
        "npy_intp bs;",
        "if (st_bias_stride(b, x, &bs, \"SoftmaxWithBias\") < 0 || "
        f"st_prepare_output(&{outs[0]}, PyArray_NDIM(x), PyArray_DIMS(x), {typenum}) < 0) "
        "{ Py_DECREF(x); Py_DECREF(b); return -1; }",
        f"st_softmax_{sfx}(x, b, bs, ST_ARR({outs[0]}), 0);",
        "Py_DECREF(x); Py_DECREF(b);",
    ]


@register(SoftmaxGrad)
def softmax_grad_kernel(node, ins, outs):
    info = _float_out(node)
    if info is None:
        return None
    _, typenum, sfx = info
    return _converted([("dy", ins[0]), ("sm", ins[1])], typenum) + [
        "int same = PyArray_NDIM(dy) == PyArray_NDIM(sm);",
        "for (int d = 0; same && d < PyArray_NDIM(sm); ++d) same = PyArray_DIM(dy, d) == PyArray_DIM(sm, d);",
        "if (!same) { char b1[160], b2[160]; PyErr_Format(PyExc_ValueError, \"SoftmaxGrad: dy of shape %s and sm of "
        "shape %s must match\", st_shape_str(dy, b1, sizeof b1), st_shape_str(sm, b2, sizeof b2)); "
        "Py_DECREF(dy); Py_DECREF(sm); return -1; }",
        f"{_same_shape_output(outs[0], 'sm', typenum)} {{ Py_DECREF(dy); Py_DECREF(sm); return -1; }}",
        f"st_softmax_grad_{sfx}(dy, sm, ST_ARR({outs[0]}));",
        "Py_DECREF(dy); Py_DECREF(sm);",
    ]


def _labels(lab_slot, like, opname, labname, cleanup, pick_style=False):
    return [
        f"const npy_intp k = PyArray_DIM({like}, PyArray_NDIM({like}) - 1), rows = st_rows({like});",
        "npy_intp *label = (npy_intp *)PyMem_Malloc((size_t)(rows > 0 ? rows : 1) * sizeof(npy_intp));",
        f"if (label == NULL) {{ {cleanup} PyErr_NoMemory(); return -1; }}",
        f"if (st_read_labels(ST_ARR({lab_slot}), {like}, k, label, {c_string(opname)}, \"{labname}\", "
        f"{int(pick_style)}) < 0) "
        f"{{ {cleanup} PyMem_Free(label); return -1; }}",
    ]


@register(CrossentropySoftmaxArgmax1HotWithBias)
def xent_softmax_kernel(node, ins, outs):
    info = _float_out(node)
    if info is None:
        return None
    _, typenum, sfx = info
    name = "CrossentropySoftmaxArgmax1HotWithBias"
    cleanup = "Py_DECREF(x); Py_DECREF(b);"
    return _converted([("x", ins[0]), ("b", ins[1])], typenum) + [
        "npy_intp bs;",
        f"if (st_bias_stride(b, x, &bs, \"{name}\") < 0) {{ {cleanup} return -1; }}",
    ] + _labels(ins[2], "x", name, "y_idx", cleanup) + [
        "const int nd = PyArray_NDIM(x);",
        f"int rc = st_prepare_output(&{outs[0]}, nd - 1, PyArray_DIMS(x), {typenum});",
        f"if (rc == 0) rc = st_prepare_output(&{outs[1]}, nd, PyArray_DIMS(x), {typenum});",
        f"if (rc == 0) rc = st_prepare_output(&{outs[2]}, nd - 1, PyArray_DIMS(x), NPY_INT64);",
        f"if (rc == 0 && k == 0 && rows > 0) {{ PyErr_SetString(PyExc_ValueError, \"{name}: x has no classes "
        "(its last axis is empty)\"); rc = -1; }",
        f"if (rc == 0) st_xent_softmax_{sfx}(x, b, bs, label, ST_ARR({outs[0]}), ST_ARR({outs[1]}), ST_ARR({outs[2]}));",
        f"PyMem_Free(label); {cleanup}",
        "if (rc < 0) return -1;",
    ]


@register(CrossentropySoftmax1HotWithBiasDx)
def xent_dx_kernel(node, ins, outs):
    info = _float_out(node)
    if info is None:
        return None
    _, typenum, sfx = info
    name = "CrossentropySoftmax1HotWithBiasDx"
    cleanup = "Py_DECREF(dy); Py_DECREF(sm);"
    return _converted([("dy", ins[0]), ("sm", ins[1])], typenum) + _labels(ins[2], "sm", name, "y_idx", cleanup) + [
        "const int nd = PyArray_NDIM(sm);",
        "npy_intp dstr[ST_MAX_NDIM];",
        f"int rc = st_broadcast_value(dy, nd - 1, PyArray_DIMS(sm), NULL, dstr, \"{name}\", \"rows of sm\", NULL);",
        f"if (rc == 0) rc = st_prepare_output(&{outs[0]}, nd, PyArray_DIMS(sm), {typenum});",
        f"if (rc == 0) st_xent_dx_{sfx}(dy, dstr, sm, label, ST_ARR({outs[0]}));",
        f"PyMem_Free(label); {cleanup}",
        "if (rc < 0) return -1;",
    ]


def _target_strides(like, name):
    """``tstr``: byte strides reading the target t broadcast to the shape of ``like`` (rc < 0 if it does not fit)."""
    return ["npy_intp tstr[ST_MAX_NDIM];",
            f"int rc = st_broadcast_value(t, PyArray_NDIM({like}), PyArray_DIMS({like}), NULL, tstr, \"{name}\", "
            f"\"{like}\", NULL);"]


@register(CrossentropySoftmaxDense)
def xent_dense_kernel(node, ins, outs):
    info = _float_out(node)
    if info is None:
        return None
    _, typenum, sfx = info
    return _converted([("x", ins[0]), ("t", ins[1])], typenum) + _target_strides("x", "CrossentropySoftmaxDense") + [
        "const int nd = PyArray_NDIM(x);",
        f"if (rc == 0) rc = st_prepare_output(&{outs[0]}, nd - 1, PyArray_DIMS(x), {typenum});",
        f"if (rc == 0) rc = st_prepare_output(&{outs[1]}, nd, PyArray_DIMS(x), {typenum});",
        f"if (rc == 0) st_xent_dense_{sfx}(x, t, tstr, ST_ARR({outs[0]}), ST_ARR({outs[1]}));",
        "Py_DECREF(x); Py_DECREF(t);",
        "if (rc < 0) return -1;",
    ]


@register(CrossentropySoftmaxDenseDx)
def xent_dense_dx_kernel(node, ins, outs):
    info = _float_out(node)
    if info is None:
        return None
    _, typenum, sfx = info
    name = "CrossentropySoftmaxDenseDx"
    converted = _converted([("dy", ins[0]), ("sm", ins[1]), ("t", ins[2])], typenum)
    return converted + _target_strides("sm", name) + [
        "const int nd = PyArray_NDIM(sm);",
        "npy_intp dstr[ST_MAX_NDIM];",
        f"if (rc == 0) rc = st_broadcast_value(dy, nd - 1, PyArray_DIMS(sm), NULL, dstr, \"{name}\", "
        "\"rows of sm\", NULL);",
        f"if (rc == 0) rc = st_prepare_output(&{outs[0]}, nd, PyArray_DIMS(sm), {typenum});",
        f"if (rc == 0) st_xent_dense_dx_{sfx}(dy, dstr, sm, t, tstr, ST_ARR({outs[0]}));",
        "Py_DECREF(dy); Py_DECREF(sm); Py_DECREF(t);",
        "if (rc < 0) return -1;",
    ]


@register(PickClass)
def pick_class_kernel(node, ins, outs):
    if node.outputs[0].dtype not in NPY_TYPENUMS or node.inputs[0].dtype != node.outputs[0].dtype:
        return None
    return [f"PyArrayObject *x = ST_ARR({ins[0]});"] + _labels(ins[1], "x", "PickClass", "idx", "", pick_style=True) + [
        f"if (st_prepare_output(&{outs[0]}, PyArray_NDIM(x) - 1, PyArray_DIMS(x), PyArray_TYPE(x)) < 0) "
        "{ PyMem_Free(label); return -1; }",
        "const npy_intp isz = PyArray_ITEMSIZE(x), xs = PyArray_STRIDE(x, PyArray_NDIM(x) - 1);",
        f"char *po = PyArray_BYTES(ST_ARR({outs[0]}));",
        "for (npy_intp r = 0; r < rows; ++r) memcpy(po + r * isz, st_row_ptr(x, r) + label[r] * xs, (size_t)isz);",
        "PyMem_Free(label);",
    ]


@register(PickClassGrad)
def pick_class_grad_kernel(node, ins, outs):
    out = node.outputs[0]
    if out.dtype not in NPY_TYPENUMS or node.inputs[0].dtype != out.dtype:
        return None
    nd = out.ndim
    return [
        f"PyArrayObject *v = ST_ARR({ins[0]}), *idx = ST_ARR({ins[1]});",
        f"const npy_int64 ncls = st_scalar_i64({ins[2]});",
        "char b1[160], b2[160];",
        "if (ncls < 0) ST_FAIL(PyExc_ValueError, \"PickClassGrad: the number of classes k = %lld is negative\", "
        "(long long)ncls);",
        "int same = PyArray_NDIM(idx) == PyArray_NDIM(v);",
        "for (int d = 0; same && d < PyArray_NDIM(v); ++d) same = PyArray_DIM(idx, d) == PyArray_DIM(v, d);",
        "if (!same) ST_FAIL(PyExc_ValueError, \"PickClassGrad: idx of shape %s must match v of shape %s\", "
        "st_shape_str(idx, b1, sizeof b1), st_shape_str(v, b2, sizeof b2));",
        f"npy_intp dims[{nd}];",
        f"for (int d = 0; d < {nd - 1}; ++d) dims[d] = PyArray_DIM(v, d);",
        f"dims[{nd - 1}] = (npy_intp)ncls;",
        f"if (st_prepare_output(&{outs[0]}, {nd}, dims, PyArray_TYPE(v)) < 0) return -1;",
        f"PyArrayObject *out = ST_ARR({outs[0]});",
    ] + _labels(ins[1], "out", "PickClassGrad", "idx", "") + [
        "const npy_intp isz = PyArray_ITEMSIZE(v);",
        "memset(PyArray_DATA(out), 0, (size_t)(PyArray_SIZE(out) * isz));",
        f"for (npy_intp r = 0; r < rows; ++r) memcpy(PyArray_BYTES(out) + (r * k + label[r]) * isz, "
        f"st_unravel_ptr(PyArray_BYTES(v), {nd - 1}, PyArray_DIMS(v), PyArray_STRIDES(v), r), (size_t)isz);",
        "PyMem_Free(label);",
    ]


@register(Argmax)
def argmax_kernel(node, ins, outs):
    op = node.op
    x = node.inputs[0]
    if x.dtype not in NPY_TYPENUMS:
        return None
    t = c_type(x.dtype)
    nd = x.ndim
    better = ">" if op.kind == "max" else "<"
    is_float = x.dtype.startswith("float")
    nan_first = "(v != v && best == best) || " if is_float else ""
    lines = [f"PyArrayObject *x0 = ST_ARR({ins[0]});", "char sbuf[160];",
             f"if (PyArray_SIZE(x0) == 0) ST_FAIL(PyExc_ValueError, \"{op}: attempt to take the arg{op.kind} of an "
             "empty array of shape %s\", st_shape_str(x0, sbuf, sizeof sbuf));"]
    if op.axis is None or nd <= 1:
        # flattened (C order): one row over a C-contiguous copy when needed
        lines += [
            "PyArrayObject *x = (PyArrayObject *)PyArray_GETCONTIGUOUS(x0);",
            "if (x == NULL) return -1;",
            "const npy_intp k = PyArray_SIZE(x), rows = 1, xs = PyArray_ITEMSIZE(x);",
            f"if (st_prepare_output(&{outs[0]}, 0, NULL, NPY_INT64) < 0) {{ Py_DECREF(x); return -1; }}",
        ]
        row = "PyArray_BYTES(x)"
    else:
        axis = op.axis % nd
        perm = [d for d in range(nd) if d != axis] + [axis]
        lines += [
            f"npy_intp perm_[{nd}] = {{{', '.join(map(str, perm))}}};",
            f"PyArray_Dims perm = {{perm_, {nd}}};",
            "PyArrayObject *x = (PyArrayObject *)PyArray_Transpose(x0, &perm);",
            "if (x == NULL) return -1;",
            f"const npy_intp k = PyArray_DIM(x, {nd - 1}), rows = st_rows(x), xs = PyArray_STRIDE(x, {nd - 1});",
            f"if (st_prepare_output(&{outs[0]}, {nd - 1}, PyArray_DIMS(x), NPY_INT64) < 0) {{ Py_DECREF(x); return -1; }}",
        ]
        row = "st_row_ptr(x, r)"
    lines += [
        f"npy_int64 *po = (npy_int64 *)PyArray_DATA(ST_ARR({outs[0]}));",
        "for (npy_intp r = 0; r < rows; ++r) {",
        f"    const char *px = {row};",
        f"    {t} best = *(const {t} *)px;",
        "    npy_int64 at = 0;",
        "    for (npy_intp j = 1; j < k; ++j) {",
        f"        const {t} v = *(const {t} *)(px + j * xs);",
        f"        if ({nan_first}v {better} best) {{ best = v; at = j; }}",
        "    }",
        "    po[r] = at;",
        "}",
        "Py_DECREF(x);",
    ]
    return lines
