"""C kernels for the random draws (uniform, normal, binomial, integers, permutation).

The generator and the variates live in ``c_code/st_random.h`` and equal the
ops' NumPy ``perform`` bit for bit. A kernel reads the state and the size,
broadcasts the parameters to the size, draws into an int64 or float buffer,
casts it to the output dtype when they differ, and writes the advanced state.
ChoiceRV and MultinomialRV run through ``perform``.
"""

from symtensor.link.c.kernels_index import c_string
from symtensor.link.c.registry import register
from symtensor.link.c.scalar_c import NPY_TYPENUMS
from symtensor.tensor.random.op import BinomialRV, IntegersRV, NormalRV, PermutationRV, UniformRV


def _prologue(node, ins, nd):
    """Read the state into ``g`` and the size into ``dims`` (and ``n``, the number of elements)."""
    name = c_string(type(node.op).__name__)
    return [
        "st_rng g;",
        f"npy_intp dims[{nd + 1}];",
        f"if (st_rng_read_state(ST_ARR({ins[0]}), &g, {name}) < 0) return -1;",
        f"if (st_rng_read_size(ST_ARR({ins[1]}), {nd}, dims, {name}) < 0) return -1;",
        "npy_intp n = 1;",
        f"for (int d = 0; d < {nd}; ++d) n *= dims[d];",
    ]


@register(UniformRV, NormalRV)
def standard_kernel(node, ins, outs):
    dtype = node.outputs[1].dtype
    if dtype not in ("float32", "float64"):
        return None
    nd = node.outputs[1].ndim
    ctype = "npy_float32" if dtype == "float32" else "npy_float64"
    if isinstance(node.op, UniformRV):
        call = f"st_rand_uniform_{'f32' if dtype == 'float32' else 'f64'}(&g, n, data)"
    else:
        call = "st_rand_normal(&g, n, NULL, data)" if dtype == "float32" else "st_rand_normal(&g, n, data, NULL)"
    return _prologue(node, ins, nd) + [
        f"if (st_prepare_output(&{outs[1]}, {nd}, dims, {NPY_TYPENUMS[dtype]}) < 0) return -1;",
        f"{ctype} *data = ({ctype} *)PyArray_DATA(ST_ARR({outs[1]}));",
        f"const uint64_t used = {call};",
        f"if (st_rng_write_state(&{outs[0]}, &g, used) < 0) return -1;",
    ]


def _int64_sample(node, outs, out_nd, call, cleanup):
    """Draw into an int64 array (the output itself when it is int64), cast into the output, free ``cleanup``."""
    dtype = node.outputs[1].dtype
    if dtype not in NPY_TYPENUMS:
        return None
    direct = dtype == "int64"
    lines = [f"int rc = st_prepare_output(&{outs[1]}, {out_nd}, dims, {NPY_TYPENUMS[dtype]});"]
    if direct:
        lines.append(f"PyArrayObject *counts = ST_ARR({outs[1]});")
    else:
        lines.append(f"PyArrayObject *counts = rc < 0 ? NULL : (PyArrayObject *)PyArray_EMPTY({out_nd}, dims, "
                     "NPY_INT64, 0);")
        lines.append("if (counts == NULL) rc = -1;")
    lines.append(f"if (rc == 0) rc = {call};")
    if not direct:
        lines.append(f"if (rc == 0) rc = PyArray_CopyInto(ST_ARR({outs[1]}), counts);")
        lines.append("Py_XDECREF(counts);")
    lines.append(cleanup)
    lines.append("if (rc < 0) return -1;")
    return lines


@register(BinomialRV)
def binomial_kernel(node, ins, outs):
    nd = node.outputs[1].ndim
    name = c_string("BinomialRV")
    call = ("st_rand_binomial(&g, n, (const npy_int64 *)PyArray_DATA(pn), (const npy_float64 *)PyArray_DATA(pp), "
            f"(npy_int64 *)PyArray_DATA(counts), &used, {name})")
    body = _int64_sample(node, outs, nd, call, "Py_DECREF(pn); Py_DECREF(pp);")
    if body is None:
        return None
    return _prologue(node, ins, nd) + [
        f"PyArrayObject *pn = st_rng_full_param({ins[2]}, {nd}, dims, NPY_INT64, {name}, \"n\");",
        f"PyArrayObject *pp = pn == NULL ? NULL : st_rng_full_param({ins[3]}, {nd}, dims, NPY_FLOAT64, {name}, \"p\");",
        "if (pp == NULL) { Py_XDECREF(pn); return -1; }",
        "uint64_t used = 0;",
    ] + body + [f"if (st_rng_write_state(&{outs[0]}, &g, used) < 0) return -1;"]


@register(IntegersRV)
def integers_kernel(node, ins, outs):
    nd = node.outputs[1].ndim
    name = c_string("IntegersRV")
    call = ("st_rand_integers(&g, n, (const npy_int64 *)PyArray_DATA(lo), (const npy_int64 *)PyArray_DATA(hi), "
            f"(npy_int64 *)PyArray_DATA(counts), {name})")
    body = _int64_sample(node, outs, nd, call, "Py_DECREF(lo); Py_DECREF(hi);")
    if body is None:
        return None
    return _prologue(node, ins, nd) + [
        f"PyArrayObject *lo = st_rng_full_param({ins[2]}, {nd}, dims, NPY_INT64, {name}, \"low\");",
        f"PyArrayObject *hi = lo == NULL ? NULL : st_rng_full_param({ins[3]}, {nd}, dims, NPY_INT64, {name}, "
        "\"high\");",
        "if (hi == NULL) { Py_XDECREF(lo); return -1; }",
    ] + body + [f"if (st_rng_write_state(&{outs[0]}, &g, 2 * (uint64_t)n) < 0) return -1;"]


@register(PermutationRV)
def permutation_kernel(node, ins, outs):
    nd = node.outputs[1].ndim - 1
    call = "st_rand_permutation(&g, n, k, (npy_int64 *)PyArray_DATA(counts))"
    body = _int64_sample(node, outs, nd + 1, call, "")
    if body is None:
        return None
    return _prologue(node, ins, nd) + [
        f"const npy_int64 k = st_scalar_i64({ins[2]});",
        "if (k < 0) ST_FAIL(PyExc_ValueError, \"PermutationRV: n must be >= 0, got %lld\", (long long)k);",
        f"dims[{nd}] = (npy_intp)k;",
    ] + body + [f"if (st_rng_write_state(&{outs[0]}, &g, 2 * (uint64_t)n * (uint64_t)k) < 0) return -1;"]
