/* symtensor C runtime: views, indexing and strided copies.
 *
 * Used by the kernels of symtensor/link/c/kernels_index.py (Subtensor,
 * IncSubtensor, AdvancedSubtensor1, AdvancedIncSubtensor1, Alloc, Join).
 * Errors name the op, what is wrong and the shapes involved, like the ops'
 * Python ``perform``.
 */
#ifndef ST_INDEX_H
#define ST_INDEX_H

#include "st_runtime.h"

/* "(2, 3)" for an array's shape, written into buf. */
static inline const char *st_shape_str(PyArrayObject *a, char *buf, size_t size)
{
    size_t used = 0;
    int nd = PyArray_NDIM(a);
    used += (size_t)snprintf(buf, size, "(");
    for (int d = 0; d < nd && used < size; ++d)
        used += (size_t)snprintf(buf + used, size - used, d ? ", %ld" : "%ld", (long)PyArray_DIM(a, d));
    if (used < size) snprintf(buf + used, size - used, nd == 1 ? ",)" : ")");
    return buf;
}

/* Same for a dims vector. */
static inline const char *st_dims_str(int nd, const npy_intp *dims, char *buf, size_t size)
{
    size_t used = (size_t)snprintf(buf, size, "(");
    for (int d = 0; d < nd && used < size; ++d)
        used += (size_t)snprintf(buf + used, size - used, d ? ", %ld" : "%ld", (long)dims[d]);
    if (used < size) snprintf(buf + used, size - used, nd == 1 ? ",)" : ")");
    return buf;
}

/* One element of an integer (or bool) array at p, as int64. */
static inline npy_int64 st_load_i64(const char *p, int typenum)
{
    switch (typenum) {
    case NPY_BOOL: return *(const npy_bool *)p != 0;
    case NPY_INT8: return *(const npy_int8 *)p;
    case NPY_UINT8: return *(const npy_uint8 *)p;
    case NPY_INT16: return *(const npy_int16 *)p;
    case NPY_UINT16: return *(const npy_uint16 *)p;
    case NPY_INT32: return *(const npy_int32 *)p;
    case NPY_UINT32: return *(const npy_uint32 *)p;
    case NPY_UINT64: return (npy_int64)*(const npy_uint64 *)p;
    default: return *(const npy_int64 *)p;
    }
}

/* The value of a 0-d integer array (an index, a length, an axis). */
static inline npy_int64 st_scalar_i64(PyObject *slot)
{
    PyArrayObject *a = ST_ARR(slot);
    return st_load_i64(PyArray_DATA(a), PyArray_TYPE(a));
}

/* Python's slice.indices(n) followed by len(range(...)). Returns -1 (ValueError) on a zero step. */
static inline int st_slice_indices(npy_intp n, int has_start, npy_int64 start, int has_stop, npy_int64 stop,
                                   int has_step, npy_int64 step, npy_intp *out_start, npy_intp *out_step,
                                   npy_intp *out_len)
{
    if (!has_step) step = 1;
    if (step == 0) {
        PyErr_SetString(PyExc_ValueError, "slice step cannot be zero");
        return -1;
    }
    npy_int64 lo, hi;
    if (step > 0) {
        if (!has_start) start = 0;
        else if (start < 0) { start += n; if (start < 0) start = 0; }
        else if (start > n) start = n;
        if (!has_stop) stop = n;
        else if (stop < 0) { stop += n; if (stop < 0) stop = 0; }
        else if (stop > n) stop = n;
        lo = start; hi = stop;
        *out_len = hi > lo ? (npy_intp)((hi - lo + step - 1) / step) : 0;
    } else {
        if (!has_start) start = n - 1;
        else if (start < 0) { start += n; if (start < 0) start = -1; }
        else if (start >= n) start = n - 1;
        if (!has_stop) stop = -1;
        else if (stop < 0) { stop += n; if (stop < 0) stop = -1; }
        else if (stop >= n) stop = n - 1;
        lo = stop; hi = start;
        *out_len = hi > lo ? (npy_intp)((hi - lo - step - 1) / (-step)) : 0;
    }
    *out_start = (npy_intp)start;
    *out_step = (npy_intp)step;
    return 0;
}

/* A view of x's memory (new reference; its base is x, writeable when x is). */
static inline PyObject *st_view(PyArrayObject *x, int nd, npy_intp *dims, npy_intp *strides, char *data)
{
    PyArray_Descr *descr = PyArray_DESCR(x);
    Py_INCREF(descr);
    int flags = PyArray_ISWRITEABLE(x) ? NPY_ARRAY_WRITEABLE : 0;
    PyObject *v = PyArray_NewFromDescr(&PyArray_Type, descr, nd, dims, strides, data, flags, NULL);
    if (v == NULL) return NULL;
    Py_INCREF(x);
    if (PyArray_SetBaseObject((PyArrayObject *)v, (PyObject *)x) < 0) { Py_DECREF(v); return NULL; }
    return v;
}

/* One entry of a basic index: an integer (kind 0) or a slice (kind 1) with optional parts. */
typedef struct { int kind; int has[3]; npy_int64 v[3]; } st_index_entry;

/* x[entries] as a view (new reference), or NULL with IndexError/ValueError naming opname and x's shape. */
static inline PyObject *st_subtensor_view(PyArrayObject *x, int n, const st_index_entry *e, const char *opname)
{
    int nd = PyArray_NDIM(x), out_nd = 0;
    npy_intp dims[ST_MAX_NDIM], strides[ST_MAX_NDIM];
    char *data = PyArray_BYTES(x);
    char sbuf[160];
    if (n > nd) {
        PyErr_Format(PyExc_IndexError, "%s: too many indices (%d) for an array of shape %s", opname, n,
                     st_shape_str(x, sbuf, sizeof sbuf));
        return NULL;
    }
    for (int d = 0; d < n; ++d) {
        npy_intp len = PyArray_DIM(x, d), stride = PyArray_STRIDE(x, d);
        if (e[d].kind == 0) {
            npy_int64 i = e[d].v[0];
            if (i < -(npy_int64)len || i >= (npy_int64)len) {
                PyErr_Format(PyExc_IndexError, "%s: index %lld is out of bounds for axis %d with size %ld "
                             "(input shape %s)", opname, (long long)i, d, (long)len,
                             st_shape_str(x, sbuf, sizeof sbuf));
                return NULL;
            }
            if (i < 0) i += len;
            data += i * stride;
        } else {
            npy_intp start, step, count;
            if (st_slice_indices(len, e[d].has[0], e[d].v[0], e[d].has[1], e[d].v[1], e[d].has[2], e[d].v[2],
                                 &start, &step, &count) < 0) {
                PyErr_Format(PyExc_ValueError, "%s: slice step cannot be zero (axis %d, input shape %s)", opname,
                             d, st_shape_str(x, sbuf, sizeof sbuf));
                return NULL;
            }
            if (count > 0) data += start * stride;
            dims[out_nd] = count;
            strides[out_nd] = step * stride;
            ++out_nd;
        }
    }
    for (int d = n; d < nd; ++d) {
        dims[out_nd] = PyArray_DIM(x, d);
        strides[out_nd] = PyArray_STRIDE(x, d);
        ++out_nd;
    }
    return st_view(x, out_nd, dims, strides, data);
}

/* ---- strided loops: an inner function over one axis, driven over the others */

typedef void (*st_inner_fn)(char *dst, npy_intp ds, const char *src, npy_intp ss, npy_intp n);

#define ST_COPY_INNER(NAME, T) \
    static void NAME(char *d, npy_intp ds, const char *s, npy_intp ss, npy_intp n) { \
        if (ds == (npy_intp)sizeof(T) && ss == (npy_intp)sizeof(T)) { memcpy(d, s, (size_t)n * sizeof(T)); return; } \
        if (ss == 0) { const T v = *(const T *)s; for (npy_intp i = 0; i < n; ++i) *(T *)(d + i * ds) = v; return; } \
        for (npy_intp i = 0; i < n; ++i) *(T *)(d + i * ds) = *(const T *)(s + i * ss); }
ST_COPY_INNER(st_copy_1, npy_uint8)
ST_COPY_INNER(st_copy_2, npy_uint16)
ST_COPY_INNER(st_copy_4, npy_uint32)
ST_COPY_INNER(st_copy_8, npy_uint64)
#undef ST_COPY_INNER

#define ST_ADD_INNER(NAME, T, OP) \
    static void NAME(char *d, npy_intp ds, const char *s, npy_intp ss, npy_intp n) { \
        for (npy_intp i = 0; i < n; ++i) { T *p = (T *)(d + i * ds); *p = (T)(OP(*p, *(const T *)(s + i * ss))); } }
#define ST_PLUS(a, b) ((a) + (b))
#define ST_LOR(a, b) ((a) || (b))
ST_ADD_INNER(st_add_bool, npy_bool, ST_LOR)
ST_ADD_INNER(st_add_i8, npy_int8, ST_PLUS)
ST_ADD_INNER(st_add_u8, npy_uint8, ST_PLUS)
ST_ADD_INNER(st_add_i16, npy_int16, ST_PLUS)
ST_ADD_INNER(st_add_u16, npy_uint16, ST_PLUS)
ST_ADD_INNER(st_add_i32, npy_int32, ST_PLUS)
ST_ADD_INNER(st_add_u32, npy_uint32, ST_PLUS)
ST_ADD_INNER(st_add_i64, npy_int64, ST_PLUS)
ST_ADD_INNER(st_add_u64, npy_uint64, ST_PLUS)
ST_ADD_INNER(st_add_f32, npy_float32, ST_PLUS)
ST_ADD_INNER(st_add_f64, npy_float64, ST_PLUS)
#undef ST_ADD_INNER

/* Plain copy of elements of the given size (NULL for sizes without one). */
static inline st_inner_fn st_copy_fn(int itemsize)
{
    switch (itemsize) {
    case 1: return st_copy_1;
    case 2: return st_copy_2;
    case 4: return st_copy_4;
    case 8: return st_copy_8;
    default: return NULL;
    }
}

/* dst += src for a dtype (NULL for dtypes without one). */
static inline st_inner_fn st_add_fn(int typenum)
{
    switch (typenum) {
    case NPY_BOOL: return st_add_bool;
    case NPY_INT8: return st_add_i8;
    case NPY_UINT8: return st_add_u8;
    case NPY_INT16: return st_add_i16;
    case NPY_UINT16: return st_add_u16;
    case NPY_INT32: return st_add_i32;
    case NPY_UINT32: return st_add_u32;
    case NPY_INT64: return st_add_i64;
    case NPY_UINT64: return st_add_u64;
    case NPY_FLOAT32: return st_add_f32;
    case NPY_FLOAT64: return st_add_f64;
    default: return NULL;
    }
}

/* fn over every element of an nd region: dst and src pointers advance by their own strides. */
static inline void st_strided_apply(int nd, const npy_intp *dims, char *dst, const npy_intp *dstr,
                                    const char *src, const npy_intp *sstr, st_inner_fn fn)
{
    if (nd == 0) { fn(dst, 0, src, 0, 1); return; }
    npy_intp total = 1;
    for (int d = 0; d < nd; ++d) total *= dims[d];
    if (total == 0) return;
    const int last = nd - 1;
    const npy_intp inner = dims[last], outer = total / inner;
    npy_intp idx[ST_MAX_NDIM] = {0};
    for (npy_intp o = 0; o < outer; ++o) {
        char *pd = dst;
        const char *ps = src;
        for (int d = 0; d < last; ++d) { pd += idx[d] * dstr[d]; ps += idx[d] * sstr[d]; }
        fn(pd, dstr[last], ps, sstr[last], inner);
        for (int d = last - 1; d >= 0; --d) { if (++idx[d] < dims[d]) break; idx[d] = 0; }
    }
}

/* Strides that read the value y broadcast to a region of shape dims (y right-aligned, missing leading axes
 * repeated). Only the axes of y flagged in bcast (or any length-1 axis when bcast is NULL) may be broadcast;
 * otherwise a ValueError names both shapes. */
static inline int st_broadcast_value(PyArrayObject *y, int nd, const npy_intp *dims, const char *bcast,
                                     npy_intp *strides, const char *opname, const char *what, PyArrayObject *x)
{
    int ynd = PyArray_NDIM(y), off = nd - ynd;
    char b1[160], b2[160], b3[160], ctx[400] = "";
    if (x != NULL)  /* the indexed tensor: name it and the value, like perform */
        snprintf(ctx, sizeof ctx, " (x shape %s, value shape %s)", st_shape_str(x, b3, sizeof b3),
                 st_shape_str(y, b1, sizeof b1));
    if (off < 0) {
        PyErr_Format(PyExc_ValueError, "%s: the value of shape %s has more dimensions than the %s of shape %s%s",
                     opname, st_shape_str(y, b1, sizeof b1), what, st_dims_str(nd, dims, b2, sizeof b2), ctx);
        return -1;
    }
    for (int d = 0; d < off; ++d) strides[d] = 0;
    for (int k = 0; k < ynd; ++k) {
        npy_intp len = PyArray_DIM(y, k);
        int may = bcast == NULL ? 1 : bcast[k] == '1';
        if (len == dims[off + k]) {
            strides[off + k] = len == 1 ? 0 : PyArray_STRIDE(y, k);
        } else if (len == 1 && may) {
            strides[off + k] = 0;
        } else {
            PyErr_Format(PyExc_ValueError, "%s: the value of shape %s does not fit the %s of shape %s (axis %d of "
                         "the value %s)%s", opname, st_shape_str(y, b1, sizeof b1), what,
                         st_dims_str(nd, dims, b2, sizeof b2), k,
                         len == 1 ? "is not broadcastable; use T.addbroadcast or a value of the right shape"
                                  : "has the wrong length", ctx);
            return -1;
        }
    }
    return 0;
}

/* dst (a region of an array) = or += the value y broadcast to it. y must have dst's dtype. */
static inline int st_assign_region(PyArrayObject *dst, PyArrayObject *y, int accumulate, const char *bcast,
                                   const char *opname, const char *what, PyArrayObject *x)
{
    int nd = PyArray_NDIM(dst);
    npy_intp ystr[ST_MAX_NDIM];
    if (st_broadcast_value(y, nd, PyArray_DIMS(dst), bcast, ystr, opname, what, x) < 0) return -1;
    st_inner_fn fn = accumulate ? st_add_fn(PyArray_TYPE(dst)) : st_copy_fn((int)PyArray_ITEMSIZE(dst));
    if (fn == NULL || PyArray_TYPE(y) != PyArray_TYPE(dst)) {
        PyErr_Format(PyExc_TypeError, "%s: unsupported dtypes for a C assignment", opname);
        return -1;
    }
    st_strided_apply(nd, PyArray_DIMS(dst), PyArray_BYTES(dst), PyArray_STRIDES(dst), PyArray_BYTES(y), ystr, fn);
    return 0;
}

/* *slot = x (inplace) or a private copy of x (reusing the slot's buffer when it can). A read-only x is
 * copied even in place (a view of a constant, a user's read-only buffer). */
static inline int st_inplace_or_copy(PyObject **slot, PyArrayObject *x, int inplace)
{
    if (inplace && PyArray_ISWRITEABLE(x)) {
        Py_INCREF(x);
        st_set_slot(slot, (PyObject *)x);
        return 0;
    }
    if (st_prepare_output(slot, PyArray_NDIM(x), PyArray_DIMS(x), PyArray_TYPE(x)) < 0) return -1;
    PyArrayObject *out = ST_ARR(*slot);
    st_inner_fn fn = st_copy_fn((int)PyArray_ITEMSIZE(x));
    if (fn == NULL) return PyArray_CopyInto(out, x);
    st_strided_apply(PyArray_NDIM(x), PyArray_DIMS(x), PyArray_BYTES(out), PyArray_STRIDES(out),
                     PyArray_BYTES(x), PyArray_STRIDES(x), fn);
    return 0;
}

/* Byte offsets into x of x[idx_0, ..., idx_{k-1}] for k integer vectors (broadcast together: equal lengths
 * or length 1), bounds-checked with negative indices counted from the end. Sets *m to the common length;
 * the caller frees *offsets with PyMem_Free. */
static inline int st_coord_offsets(PyArrayObject *x, int k, PyArrayObject **idx, npy_intp *m, npy_intp **offsets,
                                   const char *opname)
{
    char b1[160], b2[320];
    npy_intp len = 1;
    for (int j = 0; j < k; ++j) {
        npy_intp lj = PyArray_DIM(idx[j], 0);
        if (lj != 1 && len != 1 && lj != len) {
            size_t used = 0;
            for (int i = 0; i < k && used < sizeof b2; ++i)
                used += (size_t)snprintf(b2 + used, sizeof b2 - used, " (%ld,)", (long)PyArray_DIM(idx[i], 0));
            PyErr_Format(PyExc_IndexError, "%s: shape mismatch: indexing arrays could not be broadcast together "
                         "with shapes%s (x shape %s)", opname, b2, st_shape_str(x, b1, sizeof b1));
            return -1;
        }
        if (lj != 1) len = lj;
    }
    npy_intp *off = (npy_intp *)PyMem_Calloc((size_t)(len > 0 ? len : 1), sizeof(npy_intp));
    if (off == NULL) { PyErr_NoMemory(); return -1; }
    for (int j = 0; j < k; ++j) {
        const npy_intp n = PyArray_DIM(x, j), stride = PyArray_STRIDE(x, j);
        const npy_intp lj = PyArray_DIM(idx[j], 0), s = lj == 1 ? 0 : PyArray_STRIDE(idx[j], 0);
        const int t = PyArray_TYPE(idx[j]);
        const char *p = PyArray_BYTES(idx[j]);
        for (npy_intp i = 0; i < len; ++i) {
            npy_int64 r = st_load_i64(p + i * s, t);
            if (r < -(npy_int64)n || r >= (npy_int64)n) {
                PyErr_Format(PyExc_IndexError, "%s: index %lld is out of bounds for axis %d with size %ld "
                             "(x shape %s, index array of shape (%ld,))", opname, (long long)r, j, (long)n,
                             st_shape_str(x, b1, sizeof b1), (long)lj);
                PyMem_Free(off);
                return -1;
            }
            off[i] += (npy_intp)(r < 0 ? r + n : r) * stride;
        }
    }
    *m = len;
    *offsets = off;
    return 0;
}

/* out = x[idx_0, ..., idx_{k-1}] (AdvancedSubtensor1 with k = 1, AdvancedSubtensor with coordinate vectors):
 * shape (m,) + x.shape[k:]. */
static inline int st_take_coords(PyObject **out_slot, PyArrayObject *x, int k, PyArrayObject **idx,
                                 const char *opname)
{
    const int nd = PyArray_NDIM(x), tail = nd - k;
    npy_intp m, *off;
    if (st_coord_offsets(x, k, idx, &m, &off, opname) < 0) return -1;
    npy_intp dims[ST_MAX_NDIM];
    dims[0] = m;
    npy_intp row_elems = 1;
    for (int d = 0; d < tail; ++d) { dims[1 + d] = PyArray_DIM(x, k + d); row_elems *= dims[1 + d]; }
    if (st_prepare_output(out_slot, 1 + tail, dims, PyArray_TYPE(x)) < 0) { PyMem_Free(off); return -1; }
    PyArrayObject *out = ST_ARR(*out_slot);
    const npy_intp isz = PyArray_ITEMSIZE(x);
    /* the trailing axes of x are one contiguous block when their strides are C order */
    int block = 1;
    npy_intp expect = isz;
    for (int d = nd - 1; d >= k; --d) {
        if (PyArray_DIM(x, d) != 1 && PyArray_STRIDE(x, d) != expect) block = 0;
        expect *= PyArray_DIM(x, d);
    }
    st_inner_fn copy = st_copy_fn((int)isz);
    if (copy == NULL) { PyMem_Free(off); PyErr_Format(PyExc_TypeError, "%s: unsupported dtype", opname); return -1; }
    for (npy_intp i = 0; i < m; ++i) {
        const char *src = PyArray_BYTES(x) + off[i];
        char *dst = PyArray_BYTES(out) + i * row_elems * isz;
        if (block) memcpy(dst, src, (size_t)(row_elems * isz));
        else st_strided_apply(tail, dims + 1, dst, PyArray_STRIDES(out) + 1, src, PyArray_STRIDES(x) + k, copy);
    }
    PyMem_Free(off);
    return 0;
}

/* out = x with out[idx...] += y (repeats accumulate, like np.add.at) or = y (last write wins); y is
 * broadcast to (m,) + x.shape[k:] where only the axes flagged in bcast may be broadcast. */
static inline int st_inc_coords(PyObject **out_slot, PyArrayObject *x, PyArrayObject *y, int k, PyArrayObject **idx,
                                int inplace, int set, const char *bcast, const char *opname)
{
    const int nd = PyArray_NDIM(x), tail = nd - k;
    npy_intp m, *off;
    if (st_coord_offsets(x, k, idx, &m, &off, opname) < 0) return -1;
    npy_intp dims[ST_MAX_NDIM], ystr[ST_MAX_NDIM];
    dims[0] = m;
    for (int d = 0; d < tail; ++d) dims[1 + d] = PyArray_DIM(x, k + d);
    st_inner_fn fn = set ? st_copy_fn((int)PyArray_ITEMSIZE(x)) : st_add_fn(PyArray_TYPE(x));
    if (fn == NULL || PyArray_TYPE(y) != PyArray_TYPE(x)) {
        PyMem_Free(off);
        PyErr_Format(PyExc_TypeError, "%s: unsupported dtypes for a C assignment", opname);
        return -1;
    }
    if (st_broadcast_value(y, 1 + tail, dims, bcast, ystr, opname, "indexed region", x) < 0
        || st_inplace_or_copy(out_slot, x, inplace) < 0) {
        PyMem_Free(off);
        return -1;
    }
    PyArrayObject *out = ST_ARR(*out_slot);
    /* out has x's shape; its strides may differ from x's (a copy), so recompute the offsets for out */
    if ((PyObject *)out != (PyObject *)x) {
        PyMem_Free(off);
        if (st_coord_offsets(out, k, idx, &m, &off, opname) < 0) return -1;
    }
    for (npy_intp i = 0; i < m; ++i) {
        st_strided_apply(tail, dims + 1, PyArray_BYTES(out) + off[i], PyArray_STRIDES(out) + k,
                         PyArray_BYTES(y) + i * ystr[0], ystr + 1, fn);
    }
    PyMem_Free(off);
    return 0;
}

/* The row (all axes but the last) with flat C-order number r of an array: its address. */
static inline char *st_row_ptr(PyArrayObject *a, npy_intp r)
{
    char *p = PyArray_BYTES(a);
    for (int d = PyArray_NDIM(a) - 2; d >= 0; --d) {
        const npy_intp len = PyArray_DIM(a, d);
        p += (r % len) * PyArray_STRIDE(a, d);
        r /= len;
    }
    return p;
}

/* out = concatenate(tensors, axis) in dtype typenum (Join). */
static inline int st_join(PyObject **out_slot, npy_int64 axis, int n, PyObject **tensors, int typenum,
                          const char *opname)
{
    PyArrayObject *t0 = ST_ARR(tensors[0]);
    const int nd = PyArray_NDIM(t0);
    if (axis < -nd || axis >= nd) {
        PyErr_Format(PyExc_IndexError, "%s: axis %lld is out of range for %d-d tensors", opname, (long long)axis, nd);
        return -1;
    }
    const int a = (int)(axis < 0 ? axis + nd : axis);
    npy_intp dims[ST_MAX_NDIM];
    for (int d = 0; d < nd; ++d) dims[d] = PyArray_DIM(t0, d);
    dims[a] = 0;
    for (int i = 0; i < n; ++i) {
        PyArrayObject *t = ST_ARR(tensors[i]);
        int bad = 0;
        for (int d = 0; d < nd; ++d) if (d != a && PyArray_DIM(t, d) != PyArray_DIM(t0, d)) bad = 1;
        if (bad) {
            char buf[640];
            size_t used = (size_t)snprintf(buf, sizeof buf, "[");
            for (int j = 0; j < n && used < sizeof buf; ++j) {
                char one[160];
                used += (size_t)snprintf(buf + used, sizeof buf - used, j ? ", %s" : "%s",
                                         st_shape_str(ST_ARR(tensors[j]), one, sizeof one));
            }
            if (used < sizeof buf) snprintf(buf + used, sizeof buf - used, "]");
            PyErr_Format(PyExc_ValueError, "%s: the tensors must have the same length on every axis but the join "
                         "axis %d; got shapes %s", opname, a, buf);
            return -1;
        }
        dims[a] += PyArray_DIM(t, a);
    }
    if (st_prepare_output(out_slot, nd, dims, typenum) < 0) return -1;
    PyArrayObject *out = ST_ARR(*out_slot);
    npy_intp start = 0;
    for (int i = 0; i < n; ++i) {
        PyArrayObject *t = ST_ARR(tensors[i]);
        const npy_intp len = PyArray_DIM(t, a);
        if (len > 0 && PyArray_SIZE(t) > 0) {
            char *dst = PyArray_BYTES(out) + start * PyArray_STRIDE(out, a);
            st_inner_fn copy = st_copy_fn((int)PyArray_ITEMSIZE(out));
            if (PyArray_TYPE(t) == typenum && copy != NULL) {
                st_strided_apply(nd, PyArray_DIMS(t), dst, PyArray_STRIDES(out), PyArray_BYTES(t),
                                 PyArray_STRIDES(t), copy);
            } else {
                PyObject *view = st_view(out, nd, PyArray_DIMS(t), PyArray_STRIDES(out), dst);
                if (view == NULL) return -1;
                int rc = PyArray_CopyInto((PyArrayObject *)view, t);
                Py_DECREF(view);
                if (rc < 0) return -1;
            }
        }
        start += len;
    }
    return 0;
}

#endif /* ST_INDEX_H */
