/* symtensor C runtime: 2-d pooling over the last two axes (Pool, MaxPoolGrad, AveragePoolGrad and
 * DownsampleFactorMaxGradGrad).
 *
 * Used by symtensor/link/c/kernels_conv.py. Every axis but the last two is a "plane" index; planes are
 * independent, so OpenMP runs them in parallel (a plane's overlapping windows stay on one thread, so the
 * gradients' scatter-adds need no atomics). The windows of each axis are precomputed as the range of
 * real (unpadded) pixels [lo, hi) plus the divisor of the average modes, exactly as the ops' perform
 * does. Operands are made C-contiguous of the output dtype by the entry point.
 */
#ifndef ST_PL_T /* ------------------------------------------------------------ the dtype-free part */
#ifndef ST_POOL_H
#define ST_POOL_H

#include "st_runtime.h"
#include "st_index.h"

enum { ST_POOL_MAX = 0, ST_POOL_SUM = 1, ST_POOL_AVG_INC = 2, ST_POOL_AVG_EXC = 3 };
enum { ST_POOL_FWD = 0, ST_POOL_MAX_GRAD = 1, ST_POOL_AVG_GRAD = 2, ST_POOL_MAX_GRADGRAD = 3 };

typedef struct { int ws[2], st[2], pad[2], ignore_border, mode; } st_pool_params;

/* The windows of one axis: real pixels [lo[i], hi[i]) and the element count that divides averages. */
typedef struct { npy_intp n, *lo, *hi, *cnt; } st_pool_axis;

/* Pooled length of one axis (Theano's formula; floor division of negative numerators clamps to 0). */
static inline npy_intp st_pool_out_len(npy_intp len, int ws, int s, int pad, int ignore_border)
{
    if (ignore_border) {
        npy_intp o = len + 2 * (npy_intp)pad - ws;
        return o >= 0 ? o / s + 1 : 0;
    }
    if (s >= ws) return len >= 1 ? (len - 1) / s + 1 : 0;
    npy_intp o = len - 1 - ws + s;
    return (o >= 0 ? o / s : 0) + 1;
}

static int st_pool_axis_init(st_pool_axis *a, npy_intp len, int ws, int s, int pad, int ignore_border, int inc_pad)
{
    a->n = st_pool_out_len(len, ws, s, pad, ignore_border);
    a->lo = (npy_intp *)malloc((size_t)(3 * (a->n > 0 ? a->n : 1)) * sizeof(npy_intp));
    if (a->lo == NULL) return -1;
    a->hi = a->lo + a->n;
    a->cnt = a->hi + a->n;
    const npy_intp padded = len + 2 * (npy_intp)pad;
    for (npy_intp i = 0; i < a->n; ++i) {
        npy_intp start = i * s, end = start + ws < padded ? start + ws : padded;
        npy_intp lo = start - pad > 0 ? start - pad : 0, hi = end - pad < len ? end - pad : len;
        a->lo[i] = lo;
        a->hi[i] = hi;
        a->cnt[i] = inc_pad ? end - start : hi - lo;
    }
    return 0;
}

/* Shapes: the leading axes of every operand equal x's; pooled operands end in (OH, OW), the others in
 * (H, W). Sets a ValueError naming the operand otherwise. */
static int st_pool_check(PyArrayObject *x, PyArrayObject *v, int pooled, npy_intp OH, npy_intp OW,
                         const char *opname, const char *name)
{
    char b1[160], b2[160];
    const int nd = PyArray_NDIM(x);
    int ok = PyArray_NDIM(v) == nd;
    for (int d = 0; ok && d < nd - 2; ++d) ok = PyArray_DIM(v, d) == PyArray_DIM(x, d);
    if (ok) ok = PyArray_DIM(v, nd - 2) == (pooled ? OH : PyArray_DIM(x, nd - 2))
              && PyArray_DIM(v, nd - 1) == (pooled ? OW : PyArray_DIM(x, nd - 1));
    if (!ok)
        PyErr_Format(PyExc_ValueError, "%s: %s has shape %s, which does not match x of shape %s (pooled to (%ld, %ld))",
                     opname, name, st_shape_str(v, b1, sizeof b1), st_shape_str(x, b2, sizeof b2), (long)OH, (long)OW);
    return ok ? 0 : -1;
}

static inline PyArrayObject *st_pool_operand(PyObject *slot, int typenum)
{
    return (PyArrayObject *)PyArray_FromAny(slot, PyArray_DescrFromType(typenum), 0, 0,
                                            NPY_ARRAY_C_CONTIGUOUS | NPY_ARRAY_ALIGNED | NPY_ARRAY_FORCECAST, NULL);
}

#define ST_PL_T npy_float32
#define ST_PL(name) name##_f32
#include "st_pool.h"
#undef ST_PL_T
#undef ST_PL

#define ST_PL_T npy_float64
#define ST_PL(name) name##_f64
#include "st_pool.h"
#undef ST_PL_T
#undef ST_PL

/* One entry for the four ops. kind ST_POOL_FWD: out = pool(x); ST_POOL_MAX_GRAD: out = d x from (maxout, a = gz);
 * ST_POOL_AVG_GRAD: out = d x from (a = gz); ST_POOL_MAX_GRADGRAD: out = d gz from (maxout, a = ggx). */
static int st_pool2d(int kind, PyObject *x_slot, PyObject *maxout_slot, PyObject *a_slot, PyObject **out,
                     const st_pool_params *p, int typenum, const char *opname)
{
    PyArrayObject *x = st_pool_operand(x_slot, typenum);
    PyArrayObject *mo = maxout_slot ? st_pool_operand(maxout_slot, typenum) : NULL;
    PyArrayObject *a = a_slot ? st_pool_operand(a_slot, typenum) : NULL;
    st_pool_axis ra = {0, NULL, NULL, NULL}, ca = {0, NULL, NULL, NULL};
    int rc = (x == NULL || (maxout_slot && mo == NULL) || (a_slot && a == NULL)) ? -1 : 0;
    const int inc = p->mode == ST_POOL_AVG_INC;
    int nd = 0;
    npy_intp H = 0, W = 0, planes = 1;
    if (rc == 0) {
        nd = PyArray_NDIM(x);
        H = PyArray_DIM(x, nd - 2); W = PyArray_DIM(x, nd - 1);
        for (int d = 0; d < nd - 2; ++d) planes *= PyArray_DIM(x, d);
        rc = st_pool_axis_init(&ra, H, p->ws[0], p->st[0], p->pad[0], p->ignore_border, inc);
        if (rc == 0) rc = st_pool_axis_init(&ca, W, p->ws[1], p->st[1], p->pad[1], p->ignore_border, inc);
        if (rc < 0) PyErr_NoMemory();
    }
    if (rc == 0 && (H == 0 || W == 0) && ra.n > 0 && ca.n > 0) {
        char b1[160];
        PyErr_Format(PyExc_ValueError, "%s: pooling windows of an empty image (shape %s) would be empty", opname,
                     st_shape_str(x, b1, sizeof b1));
        rc = -1;
    }
    if (rc == 0 && mo) rc = st_pool_check(x, mo, 1, ra.n, ca.n, opname, "maxout");
    if (rc == 0 && a) rc = st_pool_check(x, a, kind != ST_POOL_MAX_GRADGRAD, ra.n, ca.n, opname,
                                         kind == ST_POOL_MAX_GRADGRAD ? "ggx" : "gz");
    if (rc == 0) {
        npy_intp dims[ST_MAX_NDIM];
        for (int d = 0; d < nd; ++d) dims[d] = PyArray_DIM(x, d);
        if (kind == ST_POOL_FWD || kind == ST_POOL_MAX_GRADGRAD) { dims[nd - 2] = ra.n; dims[nd - 1] = ca.n; }
        rc = st_prepare_output(out, nd, dims, typenum);
    }
    if (rc == 0) {
        void *px = PyArray_DATA(x), *pm = mo ? PyArray_DATA(mo) : NULL, *pa = a ? PyArray_DATA(a) : NULL;
        void *po = PyArray_DATA(ST_ARR(*out));
        if (typenum == NPY_FLOAT32) st_pool_run_f32(kind, p->mode, px, pm, pa, po, planes, H, W, &ra, &ca);
        else st_pool_run_f64(kind, p->mode, px, pm, pa, po, planes, H, W, &ra, &ca);
    }
    free(ra.lo); free(ca.lo);
    Py_XDECREF(x); Py_XDECREF(mo); Py_XDECREF(a);
    return rc;
}

#endif /* ST_POOL_H */
#else /* ------------------------------------------------------------ per-dtype part (ST_PL_T defined) */

static void ST_PL(st_pool_run)(int kind, int mode, const void *xv, const void *mv, const void *av, void *ov,
                               npy_intp planes, npy_intp H, npy_intp W, const st_pool_axis *ra, const st_pool_axis *ca)
{
    const ST_PL_T *x = (const ST_PL_T *)xv, *mo = (const ST_PL_T *)mv, *a = (const ST_PL_T *)av;
    ST_PL_T *out = (ST_PL_T *)ov;
    const npy_intp OH = ra->n, OW = ca->n, HW = H * W, P = OH * OW;
    if (kind == ST_POOL_MAX_GRAD || kind == ST_POOL_AVG_GRAD) memset(out, 0, (size_t)(planes * HW) * sizeof(ST_PL_T));
    if (P == 0 || planes == 0) return;
    #pragma omp parallel for schedule(static) if (planes * (HW > P ? HW : P) > ST_OMP_THRESHOLD && planes > 1)
    for (npy_intp pl = 0; pl < planes; ++pl) {
        const ST_PL_T *xp = x + pl * HW;
        for (npy_intp i = 0; i < OH; ++i) {
            const npy_intp r0 = ra->lo[i], r1 = ra->hi[i];
            for (npy_intp j = 0; j < OW; ++j) {
                const npy_intp c0 = ca->lo[j], c1 = ca->hi[j], o = pl * P + i * OW + j;
                if (kind == ST_POOL_FWD && mode == ST_POOL_MAX) {
                    ST_PL_T m = xp[r0 * W + c0];
                    for (npy_intp r = r0; r < r1; ++r)
                        for (npy_intp c = c0; c < c1; ++c) {
                            const ST_PL_T v = xp[r * W + c];
                            if (v > m || v != v) m = v;
                        }
                    out[o] = m;
                } else if (kind == ST_POOL_FWD) {
                    ST_PL_T s = 0;
                    for (npy_intp r = r0; r < r1; ++r)
                        for (npy_intp c = c0; c < c1; ++c) s += xp[r * W + c];
                    out[o] = mode == ST_POOL_SUM ? s : s / (ST_PL_T)(ra->cnt[i] * ca->cnt[j]);
                } else if (kind == ST_POOL_MAX_GRAD) {
                    const ST_PL_T m = mo[o], g = a[o];
                    ST_PL_T *gp = out + pl * HW;
                    for (npy_intp r = r0; r < r1; ++r)
                        for (npy_intp c = c0; c < c1; ++c)
                            if (xp[r * W + c] == m) gp[r * W + c] += g;
                } else if (kind == ST_POOL_AVG_GRAD) {
                    const ST_PL_T g = mode == ST_POOL_SUM ? a[o] : a[o] / (ST_PL_T)(ra->cnt[i] * ca->cnt[j]);
                    ST_PL_T *gp = out + pl * HW;
                    for (npy_intp r = r0; r < r1; ++r)
                        for (npy_intp c = c0; c < c1; ++c) gp[r * W + c] += g;
                } else { /* ST_POOL_MAX_GRADGRAD */
                    const ST_PL_T m = mo[o];
                    const ST_PL_T *gg = a + pl * HW;
                    ST_PL_T s = 0;
                    for (npy_intp r = r0; r < r1; ++r)
                        for (npy_intp c = c0; c < c1; ++c)
                            if (xp[r * W + c] == m) s += gg[r * W + c];
                    out[o] = s;
                }
            }
        }
    }
}

#endif /* ST_PL_T */
