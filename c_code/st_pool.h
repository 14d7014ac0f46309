/* symtensor C runtime: 2-d pooling over the last two axes (Pool, MaxPoolGrad, AveragePoolGrad and
 * DownsampleFactorMaxGradGrad).
 *
 * Used by symtensor/link/c/kernels_conv.py. Every axis but the last two is a "plane" index; planes are
 * independent, so OpenMP runs them in parallel when there is enough work (ST_FOR_ROWS; a plane's
 * overlapping windows stay on one thread, so the gradients' scatter-adds need no atomics). The windows
 * of each axis are precomputed as the range of real (unpadded) pixels [lo, hi) plus the divisor of the
 * average modes, exactly as the ops' perform does; 2 x 2 windows with stride 2 take a vectorized path.
 * Operands are made C-contiguous of the output dtype by the entry point.
 */
#ifndef ST_PL_T /* ------------------------------------------------------------ the dtype-free part */
#ifndef ST_POOL_H
#define ST_POOL_H

#include "st_runtime.h"
#include "st_index.h"

/* The entry point is called from every pooling node of a module: never inline it. */
#if defined(__GNUC__) || defined(__clang__)
#define ST_POOL_API static __attribute__((noinline))
#else
#define ST_POOL_API static
#endif

enum { ST_POOL_MAX = 0, ST_POOL_SUM = 1, ST_POOL_AVG_INC = 2, ST_POOL_AVG_EXC = 3 };
enum { ST_POOL_FWD = 0, ST_POOL_MAX_GRAD = 1, ST_POOL_AVG_GRAD = 2, ST_POOL_MAX_GRADGRAD = 3 };

typedef struct { int ws[2], st[2], pad[2], ignore_border, mode; } st_pool_params;

/* The windows of one axis: real pixels [lo[i], hi[i]) and the element count that divides averages. When
 * every window is whole and unpadded (window i is [i * step, i * step + ws)), whole is set. */
typedef struct { npy_intp n, *lo, *hi, *cnt, ws, step; int whole; } st_pool_axis;

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
    a->ws = ws;
    a->step = s;
    a->whole = pad == 0 && (a->n == 0 || (a->n - 1) * (npy_intp)s + ws <= len);
    for (npy_intp i = 0; i < a->n; ++i) {
        npy_intp start = i * s, end = start + ws < padded ? start + ws : padded;
        npy_intp lo = start - pad > 0 ? start - pad : 0, hi = end - pad < len ? end - pad : len;
        a->lo[i] = lo;
        a->hi[i] = hi;
        a->cnt[i] = inc_pad ? end - start : hi - lo;
    }
    return 0;
}

/* Which windows of axis `a` cover each of its `len` pixels: *slots tables of len entries (the most windows
 * covering one pixel), *owner[q * len + c] the q-th window covering pixel c, or a->n where fewer cover it.
 * Returns -1 when memory cannot be had. */
static int st_pool_owners(const st_pool_axis *a, npy_intp len, npy_intp **owner, int *slots)
{
    npy_intp most = 0;
    for (npy_intp c = 0, j0 = 0; c < len; ++c) {  /* windows start in order: covering ones form a run */
        while (j0 < a->n && a->hi[j0] <= c) ++j0;
        npy_intp k = 0;
        for (npy_intp j = j0; j < a->n && a->lo[j] <= c; ++j) k += c < a->hi[j];
        most = k > most ? k : most;
    }
    *slots = (int)most;
    *owner = (npy_intp *)malloc((size_t)(most * len > 0 ? most * len : 1) * sizeof(npy_intp));
    if (*owner == NULL) return -1;
    for (npy_intp c = 0, j0 = 0; c < len; ++c) {
        while (j0 < a->n && a->hi[j0] <= c) ++j0;
        npy_intp k = 0;
        for (npy_intp j = j0; j < a->n && a->lo[j] <= c; ++j)
            if (c < a->hi[j]) (*owner)[k++ * len + c] = j;
        for (; k < most; ++k) (*owner)[k * len + c] = a->n;
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
ST_POOL_API int st_pool2d(int kind, PyObject *x_slot, PyObject *maxout_slot, PyObject *a_slot, PyObject **out,
                          const st_pool_params *p, int typenum, const char *opname)
{
    PyArrayObject *x = st_pool_operand(x_slot, typenum);
    PyArrayObject *mo = maxout_slot ? st_pool_operand(maxout_slot, typenum) : NULL;
    PyArrayObject *a = a_slot ? st_pool_operand(a_slot, typenum) : NULL;
    st_pool_axis ra = {0, NULL, NULL, NULL, 0, 0, 0}, ca = {0, NULL, NULL, NULL, 0, 0, 0};
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
        const int pair = p->ws[0] == 2 && p->ws[1] == 2 && p->st[0] == 2 && p->st[1] == 2 && p->pad[0] == 0
                         && p->pad[1] == 0 && 2 * ra.n <= H && 2 * ca.n <= W;
        rc = typenum == NPY_FLOAT32 ? st_pool_run_f32(kind, p->mode, px, pm, pa, po, planes, H, W, &ra, &ca, pair)
                                    : st_pool_run_f64(kind, p->mode, px, pm, pa, po, planes, H, W, &ra, &ca, pair);
        if (rc < 0) PyErr_NoMemory();
    }
    free(ra.lo); free(ca.lo);
    Py_XDECREF(x); Py_XDECREF(mo); Py_XDECREF(a);
    return rc;
}

#endif /* ST_POOL_H */
#else /* ------------------------------------------------------------ per-dtype part (ST_PL_T defined) */

/* One plane (one index of the leading axes): x and the d x outputs are H x W, pooled operands OH x OW. */
static void ST_PL(st_pool_plane)(int kind, int mode, const ST_PL_T *x, const ST_PL_T *mo, const ST_PL_T *a,
                                 ST_PL_T *out, npy_intp W, const st_pool_axis *ra, const st_pool_axis *ca)
{
    const npy_intp OH = ra->n, OW = ca->n;
    const int average = mode == ST_POOL_AVG_INC || mode == ST_POOL_AVG_EXC;
    for (npy_intp i = 0; i < OH; ++i) {
        const npy_intp r0 = ra->lo[i], r1 = ra->hi[i];
        for (npy_intp j = 0; j < OW; ++j) {
            const npy_intp c0 = ca->lo[j], c1 = ca->hi[j], o = i * OW + j;
            const ST_PL_T div = average ? (ST_PL_T)(ra->cnt[i] * ca->cnt[j]) : (ST_PL_T)1;
            switch (kind) {
            case ST_POOL_FWD:
                if (mode == ST_POOL_MAX) {
                    ST_PL_T m = x[r0 * W + c0];
                    for (npy_intp r = r0; r < r1; ++r)
                        for (npy_intp c = c0; c < c1; ++c) {
                            const ST_PL_T v = x[r * W + c];
                            if (v > m || v != v) m = v;
                        }
                    out[o] = m;
                } else {
                    ST_PL_T s = 0;
                    for (npy_intp r = r0; r < r1; ++r)
                        for (npy_intp c = c0; c < c1; ++c) s += x[r * W + c];
                    out[o] = average ? s / div : s;
                }
                break;
            case ST_POOL_MAX_GRAD: {
                const ST_PL_T m = mo[o], g = a[o];
                for (npy_intp r = r0; r < r1; ++r)
                    for (npy_intp c = c0; c < c1; ++c)
                        if (x[r * W + c] == m) out[r * W + c] += g;
                break;
            }
            case ST_POOL_AVG_GRAD: {
                const ST_PL_T g = average ? a[o] / div : a[o];
                for (npy_intp r = r0; r < r1; ++r)
                    for (npy_intp c = c0; c < c1; ++c) out[r * W + c] += g;
                break;
            }
            default: { /* ST_POOL_MAX_GRADGRAD: a is ggx (H x W) */
                const ST_PL_T m = mo[o];
                ST_PL_T s = 0;
                for (npy_intp r = r0; r < r1; ++r)
                    for (npy_intp c = c0; c < c1; ++c)
                        if (x[r * W + c] == m) s += a[r * W + c];
                out[o] = s;
            }
            }
        }
    }
}

/* NaN-propagating max, written as a select so loops over it vectorize and never branch on the data. */
static inline ST_PL_T ST_PL(st_pool_nmax)(ST_PL_T m, ST_PL_T v)
{
    return (v > m || v != v) ? v : m;
}

/* Max pooling on one plane, any windows: the max is separable, so each output row first takes the
 * column-wise max of its window's rows (a contiguous, vectorized pass into tmp, W long), then each output
 * the max over its window's columns of tmp. Exact: a max does not round. */
static void ST_PL(st_pool_plane_max)(const ST_PL_T *restrict x, ST_PL_T *restrict out, ST_PL_T *restrict tmp, npy_intp W,
                                     const st_pool_axis *ra, const st_pool_axis *ca)
{
    const npy_intp OW = ca->n;
    for (npy_intp i = 0; i < ra->n; ++i) {
        const npy_intp r0 = ra->lo[i], r1 = ra->hi[i];
        const ST_PL_T *xr = x + r0 * W;
        for (npy_intp c = 0; c < W; ++c) tmp[c] = xr[c];
        for (npy_intp r = r0 + 1; r < r1; ++r) {
            xr = x + r * W;
            for (npy_intp c = 0; c < W; ++c) tmp[c] = ST_PL(st_pool_nmax)(tmp[c], xr[c]);
        }
        ST_PL_T *restrict o = out + i * OW;
        if (ca->whole) { /* column offset dc of every window at once: strided, but branch- and loop-free */
            const npy_intp s = ca->step;
            for (npy_intp j = 0; j < OW; ++j) o[j] = tmp[j * s];
            for (npy_intp dc = 1; dc < ca->ws; ++dc)
                for (npy_intp j = 0; j < OW; ++j) o[j] = ST_PL(st_pool_nmax)(o[j], tmp[j * s + dc]);
            continue;
        }
        for (npy_intp j = 0; j < OW; ++j) {
            const npy_intp c0 = ca->lo[j], c1 = ca->hi[j];
            ST_PL_T m = tmp[c0];
            for (npy_intp c = c0 + 1; c < c1; ++c) m = ST_PL(st_pool_nmax)(m, tmp[c]);
            o[j] = m;
        }
    }
}

/* The max-pooling gradient on one plane, any windows: every pixel equal to its window's max receives the
 * window's gradient (ties all receive it, as in perform); out is zeroed by the caller. Per output row, the
 * maxima and gradients of the windows covering each column are first spread along the row (owner: up to
 * `slots` windows per column, OW where none; mg: 2 (OW + 1) scratch, me / ge: slots x W each), so that the
 * window's rows are then updated by contiguous, vectorized loops. */
static void ST_PL(st_pool_plane_max_grad)(const ST_PL_T *restrict x, const ST_PL_T *restrict mo,
                                          const ST_PL_T *restrict a, ST_PL_T *restrict out, npy_intp W, npy_intp OW,
                                          const st_pool_axis *ra, const npy_intp *restrict owner, int slots,
                                          ST_PL_T *restrict mg, ST_PL_T *restrict me, ST_PL_T *restrict ge)
{
    ST_PL_T *m = mg, *g = mg + OW + 1;
    m[OW] = g[OW] = 0;  /* what a column no window covers sees */
    for (npy_intp i = 0; i < ra->n; ++i) {
        for (npy_intp j = 0; j < OW; ++j) {
            m[j] = mo[i * OW + j];
            g[j] = a[i * OW + j];
        }
        for (npy_intp e = 0; e < slots * W; ++e) {
            me[e] = m[owner[e]];
            ge[e] = g[owner[e]];
        }
        for (npy_intp r = ra->lo[i]; r < ra->hi[i]; ++r) {
            const ST_PL_T *xr = x + r * W, zero = 0;
            ST_PL_T *gr = out + r * W;
            for (int q = 0; q < slots; ++q) {
                const ST_PL_T *mq = me + q * W, *gq = ge + q * W;
                for (npy_intp c = 0; c < W; ++c) gr[c] += xr[c] == mq[c] ? gq[c] : zero;
            }
        }
    }
}

/* The common convnet case on one plane: 2 x 2 windows, stride 2, no padding, every window whole (rows and
 * columns past the last window are not pooled). Windows do not overlap, so the gradients store instead of
 * accumulating, and they write every pixel (zeros outside the windows). Straight loops the compiler vectorizes. */
static void ST_PL(st_pool_plane_2x2)(int kind, int mode, const ST_PL_T *x, const ST_PL_T *mo, const ST_PL_T *a,
                                     ST_PL_T *out, npy_intp H, npy_intp W, npy_intp OH, npy_intp OW)
{
    const ST_PL_T scale = mode == ST_POOL_SUM ? (ST_PL_T)1 : (ST_PL_T)0.25;
    for (npy_intp i = 0; i < OH; ++i) {
        const ST_PL_T *x0 = x + 2 * i * W, *x1 = x0 + W;
        if (kind == ST_POOL_FWD) {
            ST_PL_T *o = out + i * OW;
            if (mode == ST_POOL_MAX) {
                for (npy_intp j = 0; j < OW; ++j) {
                    ST_PL_T m = x0[2 * j];
                    const ST_PL_T b = x0[2 * j + 1], c = x1[2 * j], d = x1[2 * j + 1];
                    m = (b > m || b != b) ? b : m;
                    m = (c > m || c != c) ? c : m;
                    m = (d > m || d != d) ? d : m;
                    o[j] = m;
                }
            } else {
                for (npy_intp j = 0; j < OW; ++j)
                    o[j] = ((x0[2 * j] + x0[2 * j + 1]) + (x1[2 * j] + x1[2 * j + 1])) * scale;
            }
            continue;
        }
        ST_PL_T *g0 = out + 2 * i * W, *g1 = g0 + W;
        const ST_PL_T *gz = a + i * OW;
        if (kind == ST_POOL_MAX_GRAD) {
            const ST_PL_T *m = mo + i * OW;
            for (npy_intp j = 0; j < OW; ++j) {
                const ST_PL_T mj = m[j], gj = gz[j], zero = 0;
                g0[2 * j] = x0[2 * j] == mj ? gj : zero;
                g0[2 * j + 1] = x0[2 * j + 1] == mj ? gj : zero;
                g1[2 * j] = x1[2 * j] == mj ? gj : zero;
                g1[2 * j + 1] = x1[2 * j + 1] == mj ? gj : zero;
            }
        } else { /* ST_POOL_AVG_GRAD */
            for (npy_intp j = 0; j < OW; ++j) {
                const ST_PL_T gj = gz[j] * scale;
                g0[2 * j] = g0[2 * j + 1] = g1[2 * j] = g1[2 * j + 1] = gj;
            }
        }
        for (npy_intp c = 2 * OW; c < W; ++c) g0[c] = g1[c] = 0;
    }
    if (kind != ST_POOL_FWD)
        for (npy_intp e = 2 * OH * W; e < H * W; ++e) out[e] = 0;
}

static int ST_PL(st_pool_run)(int kind, int mode, const void *xv, const void *mv, const void *av, void *ov,
                               npy_intp planes, npy_intp H, npy_intp W, const st_pool_axis *ra, const st_pool_axis *ca,
                               int pair)
{
    const ST_PL_T *x = (const ST_PL_T *)xv, *mo = (const ST_PL_T *)mv, *a = (const ST_PL_T *)av;
    ST_PL_T *out = (ST_PL_T *)ov;
    const npy_intp HW = H * W, P = ra->n * ca->n;
    const int scatter = kind == ST_POOL_MAX_GRAD || kind == ST_POOL_AVG_GRAD;
    pair = pair && kind != ST_POOL_MAX_GRADGRAD;
    if (scatter && (!pair || P == 0)) memset(out, 0, (size_t)(planes * HW) * sizeof(ST_PL_T));
    if (P == 0 || planes == 0) return 0;
    /* per-plane strides of the operands: x is H x W; maxout is pooled; a is pooled except for ggx */
    const npy_intp sa = kind == ST_POOL_MAX_GRADGRAD ? HW : P, so = scatter ? HW : P;
    /* pooling is memory-bound: a second thread pays off only on large inputs (on a busy machine a parallel
     * region can wait milliseconds for its second thread) */
    if (mode == ST_POOL_MAX && !pair && (kind == ST_POOL_FWD || kind == ST_POOL_MAX_GRAD)) {
        /* branch-free max paths; a window of k pixels costs about k operations per output */
        const npy_intp win = (ra->hi[0] - ra->lo[0]) * (ca->hi[0] - ca->lo[0]);
        const int big = planes > 1 && planes * (HW + P * win) > 2 * (npy_intp)ST_OMP_THRESHOLD;
        npy_intp *owner = NULL;
        int slots = 0;
        if (kind == ST_POOL_MAX_GRAD && st_pool_owners(ca, W, &owner, &slots) < 0) return -1;
        /* per thread: the forward pass's column maxima (W); the gradient's spread rows (2 (OW + 1) + 2 slots W) */
        const npy_intp scratch = kind == ST_POOL_FWD ? W : 2 * (ca->n + 1) + 2 * (npy_intp)slots * W;
        int failed = 0;
#pragma omp parallel if (big) reduction(| : failed)
        {
            ST_PL_T *tmp = (ST_PL_T *)malloc((size_t)(scratch > 0 ? scratch : 1) * sizeof(ST_PL_T));
            if (tmp == NULL) failed = 1;
            else {
#pragma omp for
                for (npy_intp pl = 0; pl < planes; ++pl) {
                    if (kind == ST_POOL_FWD) ST_PL(st_pool_plane_max)(x + pl * HW, out + pl * P, tmp, W, ra, ca);
                    else ST_PL(st_pool_plane_max_grad)(x + pl * HW, mo + pl * P, a + pl * P, out + pl * HW, W, ca->n,
                                                      ra, owner, slots, tmp, tmp + 2 * (ca->n + 1),
                                                      tmp + 2 * (ca->n + 1) + (npy_intp)slots * W);
                }
            }
            free(tmp);
        }
        free(owner);
        return failed ? -1 : 0;
    }
    ST_FOR_ROWS(pl, planes, planes > 1 && planes * (HW > P ? HW : P) > 8 * (npy_intp)ST_OMP_THRESHOLD, {
        const ST_PL_T *xp = x + pl * HW, *mp = mo ? mo + pl * P : NULL, *ap = a ? a + pl * sa : NULL;
        if (pair) ST_PL(st_pool_plane_2x2)(kind, mode, xp, mp, ap, out + pl * so, H, W, ra->n, ca->n);
        else ST_PL(st_pool_plane)(kind, mode, xp, mp, ap, out + pl * so, W, ra, ca);
    });
    return 0;
}

#endif /* ST_PL_T */
