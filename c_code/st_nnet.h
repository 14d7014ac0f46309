/* symtensor C runtime: softmax, log-softmax and the fused softmax cross-entropies.
 *
 * Used by symtensor/link/c/kernels_nnet.py. Every op works on the last axis
 * ("classes") of an array of any rank >= 1; the other axes are "rows",
 * numbered in C order. Rows are shifted by their max exactly like the ops'
 * perform (a row whose max is not finite is left unshifted), so results are
 * finite wherever the inputs are. Inputs may be strided; outputs are the
 * C-contiguous arrays of st_prepare_output.
 *
 * The per-dtype functions are written once below and instantiated for
 * float32 (suffix _f32) and float64 (_f64): this header includes itself with
 * ST_NN_T defined (the usual C "template" idiom).
 */
#ifndef ST_NN_T /* ------------------------------------------------------------ the dtype-free part */
#ifndef ST_NNET_H
#define ST_NNET_H

#include "st_runtime.h"
#include "st_math.h"
#include "st_index.h"

/* Address of element r (flat C-order number) of an nd region with the given dims and byte strides. */
static inline char *st_unravel_ptr(char *base, int nd, const npy_intp *dims, const npy_intp *strides, npy_intp r)
{
    for (int d = nd - 1; d >= 0; --d) {
        base += (r % dims[d]) * strides[d];
        r /= dims[d];
    }
    return base;
}

/* a converted to typenum (new reference; a itself when it already has that dtype). */
static inline PyArrayObject *st_as_type(PyObject *a, int typenum)
{
    return (PyArrayObject *)PyArray_FromAny(a, PyArray_DescrFromType(typenum), 0, 0, NPY_ARRAY_FORCECAST, NULL);
}

/* Number of rows of x (the product of all axes but the last). */
static inline npy_intp st_rows(PyArrayObject *x)
{
    npy_intp r = 1;
    for (int d = 0; d < PyArray_NDIM(x) - 1; ++d) r *= PyArray_DIM(x, d);
    return r;
}

/* labels (one class index per row of x) -> rows[], each checked to lie in [0, k).
 * ValueError, like perform, when the shape does not match x's rows or an index is out of range
 * (PickClass words the shape error as "the leading shape": pick_style). */
static inline int st_read_labels(PyArrayObject *lab, PyArrayObject *x, npy_intp k, npy_intp *rows,
                                 const char *opname, const char *labname, int pick_style)
{
    char b1[160], b2[160], b3[160];
    int nd = PyArray_NDIM(x) - 1, same = PyArray_NDIM(lab) == nd;
    for (int d = 0; same && d < nd; ++d) same = PyArray_DIM(lab, d) == PyArray_DIM(x, d);
    if (!same && pick_style) {
        PyErr_Format(PyExc_ValueError, "%s: %s of shape %s must equal the leading shape %s of x (shape %s)", opname,
                     labname, st_shape_str(lab, b1, sizeof b1), st_dims_str(nd, PyArray_DIMS(x), b3, sizeof b3),
                     st_shape_str(x, b2, sizeof b2));
        return -1;
    }
    if (!same) {
        PyErr_Format(PyExc_ValueError, "%s: %s of shape %s must have one entry per row of x (shape %s)", opname,
                     labname, st_shape_str(lab, b1, sizeof b1), st_shape_str(x, b2, sizeof b2));
        return -1;
    }
    const npy_intp n = st_rows(x);
    const int t = PyArray_TYPE(lab);
    for (npy_intp r = 0; r < n; ++r) {
        npy_int64 v = st_load_i64(st_unravel_ptr(PyArray_BYTES(lab), nd, PyArray_DIMS(lab), PyArray_STRIDES(lab), r), t);
        if (v < 0 || v >= (npy_int64)k) {
            PyErr_Format(PyExc_ValueError, "%s: class index %lld out of range [0, %ld) for %ld classes (%s shape %s, "
                         "x shape %s)", opname, (long long)v, (long)k, (long)k, labname,
                         st_shape_str(lab, b1, sizeof b1), st_shape_str(x, b2, sizeof b2));
            return -1;
        }
        rows[r] = (npy_intp)v;
    }
    return 0;
}

/* A bias b over the classes of x: a 0-d scalar (stride 0) or a vector of length k. */
static inline int st_bias_stride(PyArrayObject *b, PyArrayObject *x, npy_intp *stride, const char *opname)
{
    char b1[160], b2[160];
    if (PyArray_NDIM(b) == 0) { *stride = 0; return 0; }
    const npy_intp k = PyArray_DIM(x, PyArray_NDIM(x) - 1);
    if (PyArray_NDIM(b) != 1 || PyArray_DIM(b, 0) != k) {
        PyErr_Format(PyExc_ValueError, "%s: b of shape %s must have one entry per class of x (shape %s)", opname,
                     st_shape_str(b, b1, sizeof b1), st_shape_str(x, b2, sizeof b2));
        return -1;
    }
    *stride = PyArray_STRIDE(b, 0);
    return 0;
}

#define ST_NN_T npy_float32
#define ST_NN(name) name##_f32
#define ST_NN_EXP(v) st_expf(v)
#include "st_nnet.h"
#undef ST_NN_T
#undef ST_NN
#undef ST_NN_EXP

#define ST_NN_T npy_float64
#define ST_NN(name) name##_f64
#define ST_NN_EXP(v) exp(v)
#include "st_nnet.h"
#undef ST_NN_T
#undef ST_NN
#undef ST_NN_EXP

#endif /* ST_NNET_H */
#else /* ------------------------------------------------------------ per-dtype part (ST_NN_T defined) */

/* The shift of a row (its max, or 0 when the max is not finite) and the index of its first max. */
static inline ST_NN_T ST_NN(st_row_shift)(const char *x, npy_intp xs, const char *b, npy_intp bs, npy_intp k,
                                          npy_intp *argmax)
{
    ST_NN_T m = (ST_NN_T)(-INFINITY);
    npy_intp am = 0;
    for (npy_intp j = 0; j < k; ++j) {
        ST_NN_T v = *(const ST_NN_T *)(x + j * xs);
        if (b) v += *(const ST_NN_T *)(b + j * bs);
        if (j == 0 || v > m || (v != v && m == m)) { m = v; am = j; }
    }
    if (argmax) *argmax = am;
    return isfinite(m) ? m : (ST_NN_T)0;
}

/* Fast path, for a contiguous row x and a bias b that is NULL, one value (bs == 0) or contiguous:
 * o[j] = x[j] + b[j], returning the row's max (vectorized; a non-finite max sends the row to the exact path). */
static inline ST_NN_T ST_NN(st_row_biased_max)(const ST_NN_T *x, const char *b, npy_intp bs, npy_intp k, ST_NN_T *o)
{
    ST_NN_T m = (ST_NN_T)(-INFINITY);
    if (b != NULL && bs != 0) {
        const ST_NN_T *bv = (const ST_NN_T *)b;
#pragma omp simd reduction(max:m)
        for (npy_intp j = 0; j < k; ++j) { const ST_NN_T v = x[j] + bv[j]; o[j] = v; m = v > m ? v : m; }
    } else {
        const ST_NN_T c = b != NULL ? *(const ST_NN_T *)b : (ST_NN_T)0;
#pragma omp simd reduction(max:m)
        for (npy_intp j = 0; j < k; ++j) { const ST_NN_T v = x[j] + c; o[j] = v; m = v > m ? v : m; }
    }
    return m;
}

/* Fast path: o[j] = exp(o[j] - m) (log_ = 0) or o[j] - m (log_ = 1), returning sum(exp(o[j] - m)). */
static inline double ST_NN(st_row_shift_exp)(ST_NN_T *o, npy_intp k, ST_NN_T m, int log_)
{
    double sum = 0;
    if (log_) {
#pragma omp simd reduction(+:sum)
        for (npy_intp j = 0; j < k; ++j) { o[j] -= m; sum += (double)ST_NN_EXP(o[j]); }
    } else {
#pragma omp simd reduction(+:sum)
        for (npy_intp j = 0; j < k; ++j) { const ST_NN_T e = ST_NN_EXP(o[j] - m); o[j] = e; sum += (double)e; }
    }
    return sum;
}

/* Fast path: the shifted row (log_ = 1) becomes log_softmax, the exponentials (log_ = 0) softmax. */
static inline void ST_NN(st_row_normalize)(ST_NN_T *o, npy_intp k, double sum, int log_)
{
    if (log_) {
        const ST_NN_T ls = (ST_NN_T)log(sum);
#pragma omp simd
        for (npy_intp j = 0; j < k; ++j) o[j] -= ls;
    } else {
        const ST_NN_T inv = (ST_NN_T)(1.0 / sum);
#pragma omp simd
        for (npy_intp j = 0; j < k; ++j) o[j] *= inv;
    }
}

/* Whether rows of x (and the bias) can take the fast path. */
static inline int ST_NN(st_rows_contiguous)(PyArrayObject *x, const char *b, npy_intp bs)
{
    const int nd = PyArray_NDIM(x);
    return PyArray_STRIDE(x, nd - 1) == (npy_intp)sizeof(ST_NN_T) && (b == NULL || bs == 0
                                                                        || bs == (npy_intp)sizeof(ST_NN_T));
}

/* out = softmax(x + b) (log_ = 0) or log_softmax(x + b) (log_ = 1) along the last axis. b may be NULL.
 * Rows whose values are all finite take a vectorized path; the others the exact one (same results). */
static inline void ST_NN(st_softmax)(PyArrayObject *x, PyArrayObject *b, npy_intp bs, PyArrayObject *out, int log_)
{
    const int nd = PyArray_NDIM(x);
    const npy_intp k = PyArray_DIM(x, nd - 1), xs = PyArray_STRIDE(x, nd - 1), rows = st_rows(x);
    const char *pb = b ? PyArray_BYTES(b) : NULL;
    ST_NN_T *po = (ST_NN_T *)PyArray_DATA(out);
    const int fast = ST_NN(st_rows_contiguous)(x, pb, bs);
    if (k == 0) return;
    ST_FOR_ROWS(r, rows, rows * k > ST_OMP_THRESHOLD, {
        const char *px = st_row_ptr(x, r);
        ST_NN_T *o = po + r * k;
        int done = 0;
        if (fast) {
            const ST_NN_T m = ST_NN(st_row_biased_max)((const ST_NN_T *)px, pb, bs, k, o);
            const double sum = isfinite(m) ? ST_NN(st_row_shift_exp)(o, k, m, log_) : NAN;
            if (isfinite(sum)) { ST_NN(st_row_normalize)(o, k, sum, log_); done = 1; }
        }
        if (!done) {
            const ST_NN_T m = ST_NN(st_row_shift)(px, xs, pb, bs, k, NULL);
            for (npy_intp j = 0; j < k; ++j) {
                ST_NN_T v = *(const ST_NN_T *)(px + j * xs);
                if (pb) v += *(const ST_NN_T *)(pb + j * bs);
                o[j] = v - m;
            }
            double sum = 0;
            for (npy_intp j = 0; j < k; ++j) sum += (double)ST_NN_EXP(o[j]);
            if (log_) {
                const ST_NN_T ls = (ST_NN_T)log(sum);
                for (npy_intp j = 0; j < k; ++j) o[j] -= ls;
            } else {
                for (npy_intp j = 0; j < k; ++j) o[j] = (ST_NN_T)((double)ST_NN_EXP(o[j]) / sum);
            }
        }
    });
}

/* out = sm * (dy - sum(dy * sm, last axis)); dy and sm have the same shape. */
static inline void ST_NN(st_softmax_grad)(PyArrayObject *dy, PyArrayObject *sm, PyArrayObject *out)
{
    const int nd = PyArray_NDIM(sm);
    const npy_intp k = PyArray_DIM(sm, nd - 1), rows = st_rows(sm);
    const npy_intp ds = PyArray_STRIDE(dy, nd - 1), ss = PyArray_STRIDE(sm, nd - 1);
    ST_NN_T *po = (ST_NN_T *)PyArray_DATA(out);
    if (k == 0) return;
    ST_FOR_ROWS(r, rows, rows * k > ST_OMP_THRESHOLD, {
        const char *pd = st_row_ptr(dy, r), *ps = st_row_ptr(sm, r);
        double dot = 0;
        for (npy_intp j = 0; j < k; ++j)
            dot += (double)*(const ST_NN_T *)(pd + j * ds) * (double)*(const ST_NN_T *)(ps + j * ss);
        const ST_NN_T d = (ST_NN_T)dot;
        ST_NN_T *o = po + r * k;
        for (npy_intp j = 0; j < k; ++j)
            o[j] = *(const ST_NN_T *)(ps + j * ss) * (*(const ST_NN_T *)(pd + j * ds) - d);
    });
}

/* Fused loss: nll[r] = -log_softmax(x + b)[r, label[r]], sm = softmax(x + b), am[r] = argmax(x + b)[r].
 * Rows whose values are all finite take the vectorized path; the others the exact one. */
static inline void ST_NN(st_xent_softmax)(PyArrayObject *x, PyArrayObject *b, npy_intp bs, const npy_intp *label,
                                          PyArrayObject *nll, PyArrayObject *sm, PyArrayObject *am)
{
    const int nd = PyArray_NDIM(x);
    const npy_intp k = PyArray_DIM(x, nd - 1), xs = PyArray_STRIDE(x, nd - 1), rows = st_rows(x);
    const char *pb = PyArray_BYTES(b);
    ST_NN_T *pn = (ST_NN_T *)PyArray_DATA(nll), *ps = (ST_NN_T *)PyArray_DATA(sm);
    npy_int64 *pa = (npy_int64 *)PyArray_DATA(am);
    const int fast = ST_NN(st_rows_contiguous)(x, pb, bs);
    ST_FOR_ROWS(r, rows, rows * k > ST_OMP_THRESHOLD, {
        const char *px = st_row_ptr(x, r);
        ST_NN_T *o = ps + r * k;
        int done = 0;
        if (fast) {
            const ST_NN_T m = ST_NN(st_row_biased_max)((const ST_NN_T *)px, pb, bs, k, o);
            if (isfinite(m)) {
                npy_intp amax = 0;
                while (o[amax] != m) ++amax;  /* the first max (no NaN in the row when the sum is finite) */
                const ST_NN_T picked = o[label[r]] - m;
                const double sum = ST_NN(st_row_shift_exp)(o, k, m, 0);
                if (isfinite(sum)) {
                    pn[r] = -(picked - (ST_NN_T)log(sum));
                    ST_NN(st_row_normalize)(o, k, sum, 0);
                    pa[r] = (npy_int64)amax;
                    done = 1;
                }
            }
        }
        if (!done) {
            npy_intp amax = 0;
            const ST_NN_T m = ST_NN(st_row_shift)(px, xs, pb, bs, k, &amax);
            for (npy_intp j = 0; j < k; ++j)
                o[j] = *(const ST_NN_T *)(px + j * xs) + *(const ST_NN_T *)(pb + j * bs) - m;
            double sum = 0;
            for (npy_intp j = 0; j < k; ++j) sum += (double)ST_NN_EXP(o[j]);
            const ST_NN_T ls = (ST_NN_T)log(sum);
            pn[r] = -(o[label[r]] - ls);
            for (npy_intp j = 0; j < k; ++j) o[j] = (ST_NN_T)((double)ST_NN_EXP(o[j]) / sum);
            pa[r] = (npy_int64)amax;
        }
    });
}

/* Gradient of the fused loss: out = sm * dy[r] with dy[r] subtracted at the label. dy is read through
 * dstr (byte strides over sm's row axes; 0 where dy is broadcast). */
static inline void ST_NN(st_xent_dx)(PyArrayObject *dy, const npy_intp *dstr, PyArrayObject *sm, const npy_intp *label,
                                     PyArrayObject *out)
{
    const int nd = PyArray_NDIM(sm);
    const npy_intp k = PyArray_DIM(sm, nd - 1), ss = PyArray_STRIDE(sm, nd - 1), rows = st_rows(sm);
    ST_NN_T *po = (ST_NN_T *)PyArray_DATA(out);
    ST_FOR_ROWS(r, rows, rows * k > ST_OMP_THRESHOLD, {
        const ST_NN_T d = *(const ST_NN_T *)st_unravel_ptr(PyArray_BYTES(dy), nd - 1, PyArray_DIMS(sm), dstr, r);
        const char *ps = st_row_ptr(sm, r);
        ST_NN_T *o = po + r * k;
        if (ss == (npy_intp)sizeof(ST_NN_T)) {
            const ST_NN_T *sv = (const ST_NN_T *)ps;
            _Pragma("omp simd")
            for (npy_intp j = 0; j < k; ++j) o[j] = sv[j] * d;
        } else {
            for (npy_intp j = 0; j < k; ++j) o[j] = *(const ST_NN_T *)(ps + j * ss) * d;
        }
        o[label[r]] -= d;
    });
}

/* Dense fused loss: nll[r] = -sum_j t[r, j] * log_softmax(x)[r, j] (a term with t == 0 counts 0 even where
 * log_softmax is -inf), sm = softmax(x). t is read through tstr (byte strides over x's axes, 0 where t is
 * broadcast). */
static inline void ST_NN(st_xent_dense)(PyArrayObject *x, PyArrayObject *t, const npy_intp *tstr, PyArrayObject *nll,
                                        PyArrayObject *sm)
{
    const int nd = PyArray_NDIM(x);
    const npy_intp k = PyArray_DIM(x, nd - 1), xs = PyArray_STRIDE(x, nd - 1), ts = tstr[nd - 1], rows = st_rows(x);
    ST_NN_T *pn = (ST_NN_T *)PyArray_DATA(nll), *ps = (ST_NN_T *)PyArray_DATA(sm);
    ST_FOR_ROWS(r, rows, rows * k > ST_OMP_THRESHOLD, {
        const char *px = st_row_ptr(x, r);
        const char *pt = st_unravel_ptr(PyArray_BYTES(t), nd - 1, PyArray_DIMS(x), tstr, r);
        ST_NN_T *o = ps + r * k;
        const ST_NN_T m = ST_NN(st_row_shift)(px, xs, NULL, 0, k, NULL);
        for (npy_intp j = 0; j < k; ++j) o[j] = *(const ST_NN_T *)(px + j * xs) - m;
        double sum = 0;
        for (npy_intp j = 0; j < k; ++j) sum += (double)ST_NN_EXP(o[j]);
        const ST_NN_T ls = (ST_NN_T)log(sum);
        double acc = 0;
        for (npy_intp j = 0; j < k; ++j) {
            const ST_NN_T tv = *(const ST_NN_T *)(pt + j * ts);
            if (tv != 0) acc += (double)(tv * (o[j] - ls));
        }
        pn[r] = (ST_NN_T)(-acc);
        for (npy_intp j = 0; j < k; ++j) o[j] = (ST_NN_T)((double)ST_NN_EXP(o[j]) / sum);
    });
}

/* Gradient of the dense loss: out = (sm * sum(t, last axis) - t) * dy[r]; dy read through dstr (over sm's
 * row axes) and t through tstr (over sm's axes), 0 where broadcast. */
static inline void ST_NN(st_xent_dense_dx)(PyArrayObject *dy, const npy_intp *dstr, PyArrayObject *sm,
                                           PyArrayObject *t, const npy_intp *tstr, PyArrayObject *out)
{
    const int nd = PyArray_NDIM(sm);
    const npy_intp k = PyArray_DIM(sm, nd - 1), ss = PyArray_STRIDE(sm, nd - 1), ts = tstr[nd - 1];
    const npy_intp rows = st_rows(sm);
    ST_NN_T *po = (ST_NN_T *)PyArray_DATA(out);
    ST_FOR_ROWS(r, rows, rows * k > ST_OMP_THRESHOLD, {
        const ST_NN_T d = *(const ST_NN_T *)st_unravel_ptr(PyArray_BYTES(dy), nd - 1, PyArray_DIMS(sm), dstr, r);
        const char *pt = st_unravel_ptr(PyArray_BYTES(t), nd - 1, PyArray_DIMS(sm), tstr, r);
        const char *ps = st_row_ptr(sm, r);
        ST_NN_T total = 0;
        for (npy_intp j = 0; j < k; ++j) total += *(const ST_NN_T *)(pt + j * ts);
        ST_NN_T *o = po + r * k;
        for (npy_intp j = 0; j < k; ++j)
            o[j] = (*(const ST_NN_T *)(ps + j * ss) * total - *(const ST_NN_T *)(pt + j * ts)) * d;
    });
}

#endif /* ST_NN_T */
