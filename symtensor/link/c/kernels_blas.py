"""C kernels for the BLAS-shaped ops: Dot (matrix and vector forms), Dot22, Gemm, Gemv, Ger, BatchedDot.

They call the OpenBLAS that SciPy ships through the function table of ``c_code/st_blas.h``;
the operands may have any strides (BLAS reads them in place when it can, else a copy).
Integer and mixed-dtype products return None and run through ``perform``.
"""

from symtensor.link.c.registry import register
from symtensor.link.c.scalar_c import NPY_TYPENUMS
from symtensor.tensor.blas import Dot22, Gemm, Gemv, Ger
from symtensor.tensor.math import BatchedDot, Dot

_FLOATS = ("float32", "float64")


#: rows up to which a product with a much longer second operand skips BLAS (st_gemm in c_code/st_blas.h reads
#: it as ST_GEMM_FEW_ROWS, defined by codegen)
FEW_ROWS = 32


def few_rows_product(node):
    """Whether ``node`` is a matrix product known (static shape) to have at most FEW_ROWS rows, such as a
    recurrent step's h . U inside scan. Only modules with one compile st_gemm_small (codegen defines
    ST_GEMM_FEW_ROWS), which reads the long operand in place instead of having BLAS copy it every call; it
    costs gcc about half a second per module, wasted where no product is that short."""
    if not isinstance(node.op, (Dot22, Gemm)):
        return False
    rows = node.outputs[0].type.shape[0]
    return rows is not None and rows <= FEW_ROWS


def _one_float_dtype(variables):
    dtypes = {v.type.dtype for v in variables}
    return len(dtypes) == 1 and next(iter(dtypes)) in _FLOATS


def _coefficient(var, slot):
    """A 0-d float input read as a C double, or None for other dtypes."""
    if var.type.dtype not in _FLOATS:
        return None
    return f"(double)(*(npy_{var.type.dtype} *)PyArray_DATA(ST_ARR({slot})))"


def _mismatch(op, condition, message, *dims):
    args = "".join(f", (long){d}" for d in dims)
    return f'if ({condition}) ST_FAIL(PyExc_ValueError, "{op}: {message}"{args});'


def _matmul_lines(a, b, out_slot, typenum, alpha="1.0", beta="0.0", accumulate_into=None):
    lines = ["if (st_blas_load() < 0) return -1;",
             f"PyArrayObject *a = ST_ARR({a}), *b = ST_ARR({b});",
             _mismatch("Dot", "PyArray_DIM(a, 1) != PyArray_DIM(b, 0)", "shapes (%ld, %ld) and (%ld, %ld) are not "
                       "aligned", "PyArray_DIM(a, 0)", "PyArray_DIM(a, 1)", "PyArray_DIM(b, 0)", "PyArray_DIM(b, 1)"),
             "npy_intp dims[2] = {PyArray_DIM(a, 0), PyArray_DIM(b, 1)};"]
    if accumulate_into is None:
        lines.append(f"if (st_prepare_output(&{out_slot}, 2, dims, {typenum}) < 0) return -1;")
    else:
        z, inplace = accumulate_into
        lines += [f"PyArrayObject *z = ST_ARR({z});",
                  _mismatch("Gemm", "PyArray_DIM(z, 0) != dims[0] || PyArray_DIM(z, 1) != dims[1]",
                            "z has shape (%ld, %ld), the product (%ld, %ld)", "PyArray_DIM(z, 0)",
                            "PyArray_DIM(z, 1)", "dims[0]", "dims[1]")]
        if inplace:
            lines.append('if (!PyArray_IS_C_CONTIGUOUS(z)) ST_FAIL(PyExc_ValueError, '
                         '"Gemm{inplace}: z must be C-contiguous");')
            lines.append(f"Py_INCREF({z}); st_set_slot(&{out_slot}, {z});")
        else:
            lines += [f"if (st_prepare_output(&{out_slot}, 2, dims, {typenum}) < 0) return -1;",
                      f"if (PyArray_CopyInto(ST_ARR({out_slot}), z) < 0) return -1;"]
    lines.append(f"return st_gemm(a, b, ST_ARR({out_slot}), {alpha}, {beta});")
    return lines


def _vector_dot_lines(node, ins, outs):
    """dot(matrix, vector), dot(vector, matrix) and dot(vector, vector) through gemv and dot."""
    x, y = node.inputs
    typenum = NPY_TYPENUMS[node.outputs[0].type.dtype]
    lines = ["if (st_blas_load() < 0) return -1;", f"PyArrayObject *x = ST_ARR({ins[0]}), *y = ST_ARR({ins[1]});"]
    inner_x = "PyArray_DIM(x, 1)" if x.ndim == 2 else "PyArray_DIM(x, 0)"
    lines.append(_mismatch("Dot", f"{inner_x} != PyArray_DIM(y, 0)", "the inputs' shapes are not aligned (%ld and "
                           "%ld along the summed axis)", inner_x, "PyArray_DIM(y, 0)"))
    if x.ndim == 1 and y.ndim == 1:
        return lines + [f"if (st_prepare_output(&{outs[0]}, 0, NULL, {typenum}) < 0) return -1;",
                        f"return st_blas_dot(x, y, ST_ARR({outs[0]}));"]
    matrix, vector, trans, rows = ("x", "y", 0, "PyArray_DIM(x, 0)") if x.ndim == 2 else \
        ("y", "x", 1, "PyArray_DIM(y, 1)")
    return lines + [f"npy_intp dims[1] = {{{rows}}};",
                    f"if (st_prepare_output(&{outs[0]}, 1, dims, {typenum}) < 0) return -1;",
                    f"return st_gemv({matrix}, {trans}, {vector}, ST_ARR({outs[0]}), 1.0, 0.0);"]


@register(Dot)
def dot_kernel(node, ins, outs):
    x, y = node.inputs
    if not _one_float_dtype([x, y] + node.outputs) or x.ndim not in (1, 2) or y.ndim not in (1, 2):
        return None
    if x.ndim == 2 and y.ndim == 2:
        return _matmul_lines(ins[0], ins[1], outs[0], NPY_TYPENUMS[node.outputs[0].type.dtype])
    return _vector_dot_lines(node, ins, outs)


@register(Dot22)
def dot22_kernel(node, ins, outs):
    return dot_kernel(node, ins, outs)


@register(Gemm)
def gemm_kernel(node, ins, outs):
    z, alpha, x, y, beta = node.inputs
    alpha_c, beta_c = _coefficient(alpha, ins[1]), _coefficient(beta, ins[4])
    if not _one_float_dtype([z, x, y]) or alpha_c is None or beta_c is None:
        return None
    return _matmul_lines(ins[2], ins[3], outs[0], NPY_TYPENUMS[z.type.dtype], alpha_c, beta_c,
                         accumulate_into=(ins[0], node.op.inplace))


def _accumulator_lines(acc_slot, out_slot, inplace, ndim, dims, typenum):
    """Make the output the accumulator itself (in place) or a fresh copy of it."""
    if inplace:
        return [f"Py_INCREF({acc_slot}); st_set_slot(&{out_slot}, {acc_slot});"]
    return [f"npy_intp odims[{ndim}] = {{{dims}}};",
            f"if (st_prepare_output(&{out_slot}, {ndim}, odims, {typenum}) < 0) return -1;",
            f"if (PyArray_CopyInto(ST_ARR({out_slot}), ST_ARR({acc_slot})) < 0) return -1;"]


@register(Gemv)
def gemv_kernel(node, ins, outs):
    y, alpha, a, x, beta = node.inputs
    alpha_c, beta_c = _coefficient(alpha, ins[1]), _coefficient(beta, ins[4])
    if not _one_float_dtype([y, a, x]) or alpha_c is None or beta_c is None:
        return None
    lines = ["if (st_blas_load() < 0) return -1;",
             f"PyArrayObject *y = ST_ARR({ins[0]}), *a = ST_ARR({ins[2]}), *x = ST_ARR({ins[3]});",
             _mismatch(str(node.op), "PyArray_DIM(a, 1) != PyArray_DIM(x, 0)", "in dot(A, x), A has %ld columns and "
                       "x %ld rows", "PyArray_DIM(a, 1)", "PyArray_DIM(x, 0)"),
             _mismatch(str(node.op), "PyArray_DIM(y, 0) != PyArray_DIM(a, 0)", "y has %ld rows and dot(A, x) %ld",
                       "PyArray_DIM(y, 0)", "PyArray_DIM(a, 0)")]
    lines += _accumulator_lines(ins[0], outs[0], node.op.inplace, 1, "PyArray_DIM(y, 0)",
                                NPY_TYPENUMS[y.type.dtype])
    return lines + [f"return st_gemv(a, 0, x, ST_ARR({outs[0]}), {alpha_c}, {beta_c});"]


@register(Ger)
def ger_kernel(node, ins, outs):
    a, alpha, x, y = node.inputs
    alpha_c = _coefficient(alpha, ins[1])
    if not _one_float_dtype([a, x, y]) or alpha_c is None:
        return None
    lines = ["if (st_blas_load() < 0) return -1;",
             f"PyArrayObject *a = ST_ARR({ins[0]}), *x = ST_ARR({ins[2]}), *y = ST_ARR({ins[3]});",
             _mismatch(str(node.op), "PyArray_DIM(a, 0) != PyArray_DIM(x, 0) || PyArray_DIM(a, 1) != PyArray_DIM(y, 0)",
                       "A has shape (%ld, %ld), outer(x, y) (%ld, %ld)", "PyArray_DIM(a, 0)", "PyArray_DIM(a, 1)",
                       "PyArray_DIM(x, 0)", "PyArray_DIM(y, 0)")]
    lines += _accumulator_lines(ins[0], outs[0], node.op.inplace, 2, "PyArray_DIM(a, 0), PyArray_DIM(a, 1)",
                                NPY_TYPENUMS[a.type.dtype])
    return lines + [f"return st_ger(ST_ARR({outs[0]}), {alpha_c}, x, y);"]


@register(BatchedDot)
def batched_dot_kernel(node, ins, outs):
    x, y = node.inputs
    if x.ndim != 3 or y.ndim != 3 or not _one_float_dtype([x, y] + node.outputs):
        return None
    return ["if (st_blas_load() < 0) return -1;",
            f"PyArrayObject *x = ST_ARR({ins[0]}), *y = ST_ARR({ins[1]});",
            _mismatch("BatchedDot", "PyArray_DIM(x, 0) != PyArray_DIM(y, 0) || PyArray_DIM(x, 2) != PyArray_DIM(y, 1)",
                      "shapes (%ld, %ld, %ld) and (%ld, %ld, %ld) are not aligned", "PyArray_DIM(x, 0)",
                      "PyArray_DIM(x, 1)", "PyArray_DIM(x, 2)", "PyArray_DIM(y, 0)", "PyArray_DIM(y, 1)",
                      "PyArray_DIM(y, 2)"),
            "npy_intp dims[3] = {PyArray_DIM(x, 0), PyArray_DIM(x, 1), PyArray_DIM(y, 2)};",
            f"if (st_prepare_output(&{outs[0]}, 3, dims, {NPY_TYPENUMS[x.type.dtype]}) < 0) return -1;",
            f"return st_batched_gemm(x, y, ST_ARR({outs[0]}));"]
