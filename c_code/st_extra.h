/* symtensor C runtime: sorting, cumulative sums/products, repeat, split and float arange.
 *
 * Used by symtensor/link/c/kernels_extra.py. Sort and argsort are stable
 * merge sorts (ties keep their order; NaNs go last, as in NumPy), the same
 * order the ops' perform gives with kind='stable'. Work along an axis is done
 * one "lane" (a 1-d slice along the axis) at a time; inputs may be strided,
 * outputs are the C-contiguous arrays of st_prepare_output.
 *
 * The per-dtype lane functions are written once below and instantiated for
 * every dtype by including this header with ST_X_T (the element type),
 * ST_X_U (the type the cumulative arithmetic runs in: uint64 for integers,
 * so overflow wraps like NumPy's once truncated back to the dtype, with no
 * undefined signed overflow or int promotion) and ST_X(name) defined.
 */
#ifndef ST_X_T /* ------------------------------------------------------------ the dtype-free part */
#ifndef ST_EXTRA_H
#define ST_EXTRA_H

#include "st_runtime.h"
#include "st_index.h"

/* One lane: n elements at src (stride ss) -> dst (stride ds); flag and a workspace of the size asked for. */
typedef void (*st_lane_fn)(const char *src, npy_intp ss, char *dst, npy_intp ds, npy_intp n, int flag,
                           void *work);

/* An axis argument in [0, nd), or -1 with IndexError worded like the ops' perform. */
static inline int st_axis(npy_int64 axis, int nd, const char *opname)
{
    if (axis < -nd || axis >= nd) {
        PyErr_Format(PyExc_IndexError, "%s: axis %lld is out of range for %d-d tensors", opname, (long long)axis, nd);
        return -1;
    }
    return (int)(axis < 0 ? axis + nd : axis);
}

/* fn over every lane along `axis` of x, writing the lane at the same position of out (same shape as x
 * except possibly along axis, where out's length is passed to fn through n only when equal). */
static inline int st_for_lanes(PyArrayObject *x, PyArrayObject *out, int axis, st_lane_fn fn, int flag,
                               size_t work_per_elem)
{
    const int nd = PyArray_NDIM(x);
    const npy_intp n = PyArray_DIM(x, axis);
    npy_intp lanes = 1, dims[ST_MAX_NDIM], xs[ST_MAX_NDIM], os[ST_MAX_NDIM], idx[ST_MAX_NDIM] = {0};
    int m = 0;
    for (int d = 0; d < nd; ++d) {
        if (d == axis) continue;
        dims[m] = PyArray_DIM(x, d);
        xs[m] = PyArray_STRIDE(x, d);
        os[m] = PyArray_STRIDE(out, d);
        lanes *= dims[m++];
    }
    if (lanes == 0 || n == 0) return 0;
    void *work = NULL;
    if (work_per_elem) {
        work = PyMem_Malloc(work_per_elem * (size_t)n);
        if (work == NULL) { PyErr_NoMemory(); return -1; }
    }
    const npy_intp xa = PyArray_STRIDE(x, axis), oa = PyArray_STRIDE(out, axis);
    for (npy_intp l = 0; l < lanes; ++l) {
        const char *src = PyArray_BYTES(x);
        char *dst = PyArray_BYTES(out);
        for (int d = 0; d < m; ++d) { src += idx[d] * xs[d]; dst += idx[d] * os[d]; }
        fn(src, xa, dst, oa, n, flag, work);
        for (int d = m - 1; d >= 0; --d) { if (++idx[d] < dims[d]) break; idx[d] = 0; }
    }
    PyMem_Free(work);
    return 0;
}

/* ---- cumulative sums and products */

/* out = cumsum/cumprod of x (converted to typenum) along axis (axis < 0: of x flattened in C order). */
static inline int st_cum(PyObject **out_slot, PyObject *x_obj, int axis, int typenum, st_lane_fn fn, int mul)
{
    PyArrayObject *x = (PyArrayObject *)PyArray_FromAny(x_obj, PyArray_DescrFromType(typenum), 0, 0,
                                                        NPY_ARRAY_FORCECAST, NULL);
    if (x == NULL) return -1;
    if (axis < 0) {
        PyArrayObject *flat = (PyArrayObject *)PyArray_Ravel(x, NPY_CORDER);
        Py_DECREF(x);
        if (flat == NULL) return -1;
        x = flat;
        axis = 0;
    }
    int rc = st_prepare_output(out_slot, PyArray_NDIM(x), PyArray_DIMS(x), typenum);
    if (rc == 0) rc = st_for_lanes(x, ST_ARR(*out_slot), axis, fn, mul, 0);
    Py_DECREF(x);
    return rc;
}

/* ---- repeat */

/* out = numpy.repeat(x, counts, axis) for C-contiguous x viewed as (outer, n, inner) around the axis
 * (axis < 0: x flattened). counts: a 0-d or 1-d integer array; `broadcast` says a 1-element vector
 * applies to every element. */
static inline int st_repeat(PyObject **out_slot, PyArrayObject *x, int axis, PyArrayObject *counts, int broadcast)
{
    const int nd = PyArray_NDIM(x);
    npy_intp outer = 1, inner = 1, n;
    if (axis < 0) {
        n = PyArray_SIZE(x);
    } else {
        n = PyArray_DIM(x, axis);
        for (int d = 0; d < axis; ++d) outer *= PyArray_DIM(x, d);
        for (int d = axis + 1; d < nd; ++d) inner *= PyArray_DIM(x, d);
    }
    const int scalar = PyArray_NDIM(counts) == 0 || broadcast;
    const npy_intp nc = PyArray_NDIM(counts) == 0 ? 1 : PyArray_DIM(counts, 0);
    const npy_intp cs = PyArray_NDIM(counts) == 0 ? 0 : PyArray_STRIDE(counts, 0);
    const int ct = PyArray_TYPE(counts);
    char b1[160], ax[24] = "None";
    if (axis >= 0) snprintf(ax, sizeof ax, "%d", axis);
    if (!scalar && nc != n)
        ST_FAIL(PyExc_ValueError, "repeat: %ld repeat counts given for an axis of length %ld (input shape %s, "
                "axis %s)", (long)nc, (long)n, st_shape_str(x, b1, sizeof b1), ax);
    npy_intp total = 0;
    for (npy_intp i = 0; i < nc; ++i) {
        npy_int64 c = st_load_i64(PyArray_BYTES(counts) + i * cs, ct);
        if (c < 0) {
            PyErr_Format(PyExc_ValueError, "repeat: repeat counts must be >= 0, got %lld at position %ld",
                         (long long)c, (long)i);
            return -1;
        }
        total += (npy_intp)c;
    }
    if (scalar) total *= n;
    npy_intp dims[ST_MAX_NDIM];
    int ond = 1;
    if (axis < 0) {
        dims[0] = total;
    } else {
        ond = nd;
        for (int d = 0; d < nd; ++d) dims[d] = PyArray_DIM(x, d);
        dims[axis] = total;
    }
    if (st_prepare_output(out_slot, ond, dims, PyArray_TYPE(x)) < 0) return -1;
    const size_t block = (size_t)(inner * PyArray_ITEMSIZE(x));
    const char *src = PyArray_BYTES(x);
    char *dst = PyArray_BYTES(ST_ARR(*out_slot));
    if (block == 0) return 0;
    for (npy_intp o = 0; o < outer; ++o) {
        for (npy_intp i = 0; i < n; ++i, src += block) {
            npy_int64 c = st_load_i64(PyArray_BYTES(counts) + (scalar ? 0 : i * cs), ct);
            for (npy_int64 r = 0; r < c; ++r, dst += block) memcpy(dst, src, block);
        }
    }
    return 0;
}

/* ---- split */

/* The pieces of x along axis, of the given lengths, each copied into its own slot (*outs[k]). */
static inline int st_split(PyObject ***outs, int n_pieces, PyArrayObject *x, npy_int64 axis_value,
                           PyArrayObject *splits)
{
    const int nd = PyArray_NDIM(x);
    const int axis = st_axis(axis_value, nd, "Split");
    if (axis < 0) return -1;
    const npy_intp ns = PyArray_DIM(splits, 0), ss = PyArray_STRIDE(splits, 0);
    char list[400];
    size_t used = (size_t)snprintf(list, sizeof list, "[");
    npy_int64 total = 0, negative = 0;
    for (npy_intp k = 0; k < ns; ++k) {
        npy_int64 v = st_load_i64(PyArray_BYTES(splits) + k * ss, PyArray_TYPE(splits));
        total += v;
        negative |= v < 0;
        if (used < sizeof list) used += (size_t)snprintf(list + used, sizeof list - used, k ? ", %lld" : "%lld",
                                                         (long long)v);
    }
    if (used < sizeof list) snprintf(list + used, sizeof list - used, "]");
    char b1[160];
    if (ns != n_pieces)
        ST_FAIL(PyExc_ValueError, "Split: expected %d split lengths, got %ld (%s)", n_pieces, (long)ns, list);
    if (negative) ST_FAIL(PyExc_ValueError, "Split: split lengths must be >= 0, got %s", list);
    if (total != (npy_int64)PyArray_DIM(x, axis))
        ST_FAIL(PyExc_ValueError, "Split: the split lengths %s add up to %lld, but axis %d of the input (shape %s) "
                "has length %ld", list, (long long)total, axis, st_shape_str(x, b1, sizeof b1),
                (long)PyArray_DIM(x, axis));
    st_inner_fn copy = st_copy_fn((int)PyArray_ITEMSIZE(x));
    if (copy == NULL) ST_FAIL(PyExc_TypeError, "Split: unsupported dtype for C");
    npy_intp dims[ST_MAX_NDIM], start = 0;
    for (int d = 0; d < nd; ++d) dims[d] = PyArray_DIM(x, d);
    for (int k = 0; k < n_pieces; ++k) {
        dims[axis] = (npy_intp)st_load_i64(PyArray_BYTES(splits) + k * ss, PyArray_TYPE(splits));
        if (st_prepare_output(outs[k], nd, dims, PyArray_TYPE(x)) < 0) return -1;
        PyArrayObject *out = ST_ARR(*outs[k]);
        st_strided_apply(nd, dims, PyArray_BYTES(out), PyArray_STRIDES(out),
                         PyArray_BYTES(x) + start * PyArray_STRIDE(x, axis), PyArray_STRIDES(x), copy);
        start += dims[axis];
    }
    return 0;
}

/* ---- arange with a float dtype */

/* The value of a 0-d real array as a double (integers converted, like Python's float(int)). */
static inline double st_scalar_f64(PyObject *slot)
{
    PyArrayObject *a = ST_ARR(slot);
    switch (PyArray_TYPE(a)) {
    case NPY_FLOAT32: return (double)*(const npy_float32 *)PyArray_DATA(a);
    case NPY_FLOAT64: return *(const npy_float64 *)PyArray_DATA(a);
    case NPY_UINT64: return (double)*(const npy_uint64 *)PyArray_DATA(a);
    default: return (double)st_load_i64(PyArray_DATA(a), PyArray_TYPE(a));
    }
}

/* NumPy's length of arange(start, stop, step) counted in double precision (0 for an empty range). */
static inline int st_arange_length(double start, double stop, double step, npy_intp *length)
{
    if (step == 0.0) ST_FAIL(PyExc_ValueError, "ARange: step must not be zero");
    const double delta = stop - start, len = delta / step;
    if (len == 0.0 && delta != 0.0) { *length = signbit(len) ? 0 : 1; return 0; }  /* the quotient underflowed */
    const double c = ceil(len);
    if (!(c < (double)NPY_MAX_INTP)) {  /* also NaN */
        char buf[200];
        snprintf(buf, sizeof buf, "arange(%.17g, %.17g, %.17g)", start, stop, step);
        ST_FAIL(PyExc_ValueError, "ARange: cannot make %s: its length is not a finite array size", buf);
    }
    *length = c > 0 ? (npy_intp)c : 0;
    return 0;
}

/* out[0] = start, out[1] = start + step (rounded to the dtype), then out[i] = out[0] + i * (out[1] - out[0])
 * in the dtype's own arithmetic, unfused, exactly like NumPy's arange fill. */
#if defined(__clang__)
#define ST_NO_CONTRACT
#elif defined(__GNUC__)
#define ST_NO_CONTRACT __attribute__((optimize("fp-contract=off")))
#else
#define ST_NO_CONTRACT
#endif

#define ST_ARANGE_FILL(NAME, T)                                                               \
    static inline ST_NO_CONTRACT void NAME(T *p, npy_intp n, double start, double step)       \
    {                                                                                         \
        _Pragma("STDC FP_CONTRACT OFF")                                                       \
        if (n > 0) p[0] = (T)start;                                                           \
        if (n > 1) p[1] = (T)(start + step);                                                  \
        const T first = n > 0 ? p[0] : (T)0, delta = n > 1 ? (T)(p[1] - p[0]) : (T)0;         \
        for (npy_intp i = 2; i < n; ++i) p[i] = first + (T)i * delta;                         \
    }
#if !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunknown-pragmas"
#endif
ST_ARANGE_FILL(st_arange_fill_f32, npy_float32)
ST_ARANGE_FILL(st_arange_fill_f64, npy_float64)
#if !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#undef ST_ARANGE_FILL

/* ---- per-dtype lane functions */

/* a < b in NumPy's sort order: NaN after every number. */
#define ST_SORT_LT(a, b) ((a) < (b) || ((b) != (b) && (a) == (a)))

#define ST_X_T npy_bool
#define ST_X_U npy_uint64
#define ST_X(name) name##_bool
#include "st_extra.h"
#define ST_X_T npy_int8
#define ST_X_U npy_uint64
#define ST_X(name) name##_i8
#include "st_extra.h"
#define ST_X_T npy_uint8
#define ST_X_U npy_uint64
#define ST_X(name) name##_u8
#include "st_extra.h"
#define ST_X_T npy_int16
#define ST_X_U npy_uint64
#define ST_X(name) name##_i16
#include "st_extra.h"
#define ST_X_T npy_uint16
#define ST_X_U npy_uint64
#define ST_X(name) name##_u16
#include "st_extra.h"
#define ST_X_T npy_int32
#define ST_X_U npy_uint64
#define ST_X(name) name##_i32
#include "st_extra.h"
#define ST_X_T npy_uint32
#define ST_X_U npy_uint64
#define ST_X(name) name##_u32
#include "st_extra.h"
#define ST_X_T npy_int64
#define ST_X_U npy_uint64
#define ST_X(name) name##_i64
#include "st_extra.h"
#define ST_X_T npy_uint64
#define ST_X_U npy_uint64
#define ST_X(name) name##_u64
#include "st_extra.h"
#define ST_X_T npy_float32
#define ST_X_U npy_float32
#define ST_X(name) name##_f32
#include "st_extra.h"
#define ST_X_T npy_float64
#define ST_X_U npy_float64
#define ST_X(name) name##_f64
#include "st_extra.h"

#endif /* ST_EXTRA_H */
#else /* ------------------------------------------------------------ per-dtype part (ST_X_T defined) */

typedef struct { ST_X_T v; npy_int64 i; } ST_X(st_keyed);

/* Stable sort of a lane: flag 0 writes the sorted values (dst of the same dtype), flag 1 the int64 positions
 * that sort it. work holds 2 * n keyed elements: insertion-sorted runs of 16, then bottom-up merges. */
static inline void ST_X(st_sort_lane)(const char *src, npy_intp ss, char *dst, npy_intp ds, npy_intp n, int flag,
                               void *work)
{
    ST_X(st_keyed) *a = (ST_X(st_keyed) *)work, *b = a + n;
    for (npy_intp i = 0; i < n; ++i) { a[i].v = *(const ST_X_T *)(src + i * ss); a[i].i = i; }
    const npy_intp run = 16;
    for (npy_intp lo = 0; lo < n; lo += run) {
        const npy_intp hi = lo + run < n ? lo + run : n;
        for (npy_intp i = lo + 1; i < hi; ++i) {
            ST_X(st_keyed) key = a[i];
            npy_intp j = i;
            while (j > lo && ST_SORT_LT(key.v, a[j - 1].v)) { a[j] = a[j - 1]; --j; }
            a[j] = key;
        }
    }
    for (npy_intp width = run; width < n; width *= 2) {
        for (npy_intp lo = 0; lo < n; lo += 2 * width) {
            const npy_intp mid = lo + width < n ? lo + width : n, hi = lo + 2 * width < n ? lo + 2 * width : n;
            npy_intp i = lo, j = mid, k = lo;
            while (i < mid && j < hi) b[k++] = ST_SORT_LT(a[j].v, a[i].v) ? a[j++] : a[i++];
            while (i < mid) b[k++] = a[i++];
            while (j < hi) b[k++] = a[j++];
        }
        ST_X(st_keyed) *t = a; a = b; b = t;
    }
    if (flag)
        for (npy_intp i = 0; i < n; ++i) *(npy_int64 *)(dst + i * ds) = a[i].i;
    else
        for (npy_intp i = 0; i < n; ++i) *(ST_X_T *)(dst + i * ds) = a[i].v;
}

/* Cumulative sum (flag 0) or product (flag 1) of a lane, accumulated in ST_X_U and stored as ST_X_T. */
static inline void ST_X(st_cum_lane)(const char *src, npy_intp ss, char *dst, npy_intp ds, npy_intp n, int flag,
                              void *work)
{
    (void)work;
    ST_X_U acc = (ST_X_U)(*(const ST_X_T *)src);
    *(ST_X_T *)dst = (ST_X_T)acc;
    for (npy_intp i = 1; i < n; ++i) {
        const ST_X_U v = (ST_X_U)(*(const ST_X_T *)(src + i * ss));
        acc = flag ? (ST_X_U)(acc * v) : (ST_X_U)(acc + v);
        *(ST_X_T *)(dst + i * ds) = (ST_X_T)acc;
    }
}

#undef ST_X_T
#undef ST_X_U
#undef ST_X
#endif
