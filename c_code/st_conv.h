/* symtensor C runtime: 2-d convolution (AbstractConv2d and its two gradients) as matrix products.
 *
 * Used by symtensor/link/c/kernels_conv.py. Images are (batch, channels, rows, cols), filters
 * (out_channels, channels / groups, krows, kcols), both C-contiguous here (the entry points copy
 * strided or other-dtype operands once). For one image and one group, let col be the kernel-sized windows
 * as a K x P matrix (K = channels per group * krows * kcols, P = output pixels); then
 *   forward        out_g (Og x P)  = W_g (Og x K) . col (K x P)
 *   grad weights   dW_g  (Og x K) += top_g (Og x P) . col^T
 *   grad inputs    col   (K x P)   = W_g^T . top_g (Og x P),  then col2im scatters col into d img
 * (with unit strides the input gradient is itself a forward convolution of top). col is mostly never
 * written: the forward pass and the weight gradient multiply transposed (out^T = col^T . W^T,
 * dW^T += col . top^T), so that the filters are the panels' width and col's elements are gathered from the
 * image inside st_gemm's micro-kernel (st_gemm_micro_gather: col[t][p] = image[kk[t] + pix[p]]). Where the
 * filters would fill panels badly (20 filters in 32 columns), im2col writes col straight into st_gemm's
 * packed panels instead. Windows that reach into the padding read a zero-bordered copy of the image.
 * The work is split over OpenMP threads once per call (one parallel region, so one synchronization): by
 * image, and by slices of output pixels when the batch is smaller than the thread count. Each thread
 * runs its products with st_gemm.h on its own scratch, not through SciPy's BLAS (see st_gemm.h for why);
 * the weight gradient sums fixed runs of items into partials, added up in order at the end. The filters
 * are packed once per call (flipped first for a true convolution). Scratch memory is one buffer per module
 * that grows to the largest request (the GIL serializes calls), so steady-state steps do not allocate;
 * requests above ST_CONV_KEEP_MAX bytes are allocated and freed per call.
 *
 * The per-dtype functions are instantiated for float32 (_f32) and float64 (_f64) by including this
 * header again with ST_CV_T defined.
 */
#ifndef ST_CV_T /* ------------------------------------------------------------ the dtype-free part */
#ifndef ST_CONV_H
#define ST_CONV_H

#include "st_runtime.h"
#include "st_index.h"
#include "st_gemm.h"
#ifdef _OPENMP
#include <omp.h>
#endif

/* gcc turns copy loops into memcpy/memset calls, which cost more than the loop for the short rows here */
#if defined(__GNUC__) && !defined(__clang__)
#define ST_CONV_NO_LIBCALLS __attribute__((optimize("no-tree-loop-distribute-patterns")))
#else
#define ST_CONV_NO_LIBCALLS
#endif

/* Entry points are called from every conv node of a module: never inline them (a module with many conv nodes
 * would otherwise compile one copy of the whole convolution per node). */
#if defined(__GNUC__) || defined(__clang__)
#define ST_CONV_API static __attribute__((noinline))
#else
#define ST_CONV_API static
#endif

#define ST_CONV_KEEP_MAX ((size_t)512 << 20)
/* The forward pass multiplies several small images at once, up to this many output pixels per product:
 * below a few hundred columns, st_gemm's panel padding and per-product costs dominate. */
#define ST_CONV_BATCH_PIXELS 256
/* multiply-adds below which a call stays on one thread (a parallel region costs a few microseconds) */
#define ST_CONV_PAR_WORK ((double)(1 << 19))
/* memory for the weight gradient's partial sums (beyond one per thread) */
#define ST_CONV_PARTS_BYTES ((size_t)32 << 20)
/* Runs of items per thread in the weight gradient: enough for a thread to take over the share of one that
 * lost its core, few enough that the partial sums (one d kern each) stay small */
#ifndef ST_CONV_PARTS_PER_THREAD
#define ST_CONV_PARTS_PER_THREAD 4
#endif

/* What the op fixes at code-generation time. mode: 0 explicit padding (pad = top, bottom, left, right),
 * 1 'full', 2 'half'. Shape hints: -1 where free. */
typedef struct {
    int mode, pad[4], sh, sw, dh, dw, groups, flip;
    npy_intp imshp[4], kshp[4];
} st_conv_params;

/* The geometry of one call. */
typedef struct {
    npy_intp B, C, H, W, O, kh, kw, OH, OW;
    npy_intp pt, pl;
    int sh, sw, dh, dw, G, flip;
    int interior;  /* every window lies inside the image (no padding is read) */
} st_conv_geom;

/* Bytes rounded up to whole cache lines (per-thread scratch areas start on their own line). */
static inline size_t st_conv_lines(size_t bytes)
{
    return (bytes + 63) & ~(size_t)63;
}

static char *st_conv_keep = NULL;       /* 64-byte aligned start of the kept buffer */
static void *st_conv_keep_raw = NULL;   /* what malloc returned for it */
static size_t st_conv_keep_size = 0;

/* 64-byte aligned scratch of at least `bytes`; give it back with st_conv_release. A block that is not the
 * kept buffer remembers malloc's pointer in the word before it. */
static void *st_conv_alloc(size_t bytes)
{
    bytes = st_conv_lines(bytes ? bytes : 1);
    if (bytes <= st_conv_keep_size) return st_conv_keep;
    if (bytes > ST_CONV_KEEP_MAX) {
        void *raw = malloc(bytes + 64 + sizeof(void *));
        if (raw == NULL) return NULL;
        char *p = (char *)(((uintptr_t)raw + sizeof(void *) + 63) & ~(uintptr_t)63);
        ((void **)p)[-1] = raw;
        return p;
    }
    free(st_conv_keep_raw);
    st_conv_keep_raw = malloc(bytes + 64);
    st_conv_keep = st_conv_keep_raw ? (char *)(((uintptr_t)st_conv_keep_raw + 63) & ~(uintptr_t)63) : NULL;
    st_conv_keep_size = st_conv_keep ? bytes : 0;
    return st_conv_keep;
}

static void st_conv_release(void *p)
{
    if (p != NULL && p != (void *)st_conv_keep) free(((void **)p)[-1]);
}

/* Offset tables (im2col's, and the gathering micro-kernel's): element (kk, pix) of the window matrix col
 * (K x P) is x[pix[pix] + kk[kk]], x being an image every window lies inside (the input itself, or its
 * zero-bordered copy: st_conv_padded_geom). */

/* How a call splits its work: `items` = batch x `slices` pieces (each image's output pixels cut into slices of
 * `chunk`, a multiple of `align`, when there are fewer images than threads), run on `threads` threads; one
 * thread when the work (multiply-adds) is small. With slicing off (align = 0), one item per image. A sum over
 * the items (the weight gradient) is taken in `parts` fixed runs of items. The forward pass may instead make
 * each item `images` whole images (st_conv2d_fwd). */
typedef struct { int threads; npy_intp slices, chunk, parts, images; } st_conv_plan;

/* How st_conv_pack_filters lays out each group's filters w_g (Og x K). */
enum { ST_CONV_FILTERS_A = 0, ST_CONV_FILTERS_A_T = 1, ST_CONV_FILTERS_B_T = 2 };

static st_conv_plan st_conv_split(npy_intp batch, npy_intp pixels, npy_intp align, double work)
{
    st_conv_plan p = {1, 1, pixels, 1, 1};
#ifdef _OPENMP
    const int max = omp_get_max_threads();
    if (work < ST_CONV_PAR_WORK || max < 2 || batch < 1 || pixels < 1) return p;
    if (batch < max && align > 0) {
        const npy_intp want = (max + batch - 1) / batch, per = (pixels + want - 1) / want;
        p.chunk = (per + align - 1) / align * align;
        p.slices = (pixels + p.chunk - 1) / p.chunk;
    }
    const npy_intp items = batch * p.slices;
    p.threads = items < max ? (int)items : max;
    p.parts = items < ST_CONV_PARTS_PER_THREAD * (npy_intp)p.threads ? items : ST_CONV_PARTS_PER_THREAD * (npy_intp)p.threads;
#else
    (void)batch; (void)align; (void)work;
#endif
    return p;
}

/* Run fn(ctx, thread, threads) on up to nt threads (one parallel region); threads may be fewer than nt. */
typedef void (*st_conv_worker)(void *ctx, int thread, int threads);

static void st_conv_run(int nt, st_conv_worker fn, void *ctx)
{
#ifdef _OPENMP
    if (nt > 1) {
        #pragma omp parallel num_threads(nt)
        fn(ctx, omp_get_thread_num(), omp_get_num_threads());
        return;
    }
#endif
    fn(ctx, 0, 1);
}

/* The next item for the calling thread, or -1 when all `items` are taken. Items are handed out one at a time
 * from a shared counter rather than split evenly up front: on a busy machine one thread of a region can lose
 * its core for milliseconds, and the others then take over its share. */
static inline npy_intp st_conv_next(npy_intp *counter, npy_intp items)
{
    npy_intp i;
#ifdef _OPENMP
    #pragma omp atomic capture
#endif
    i = (*counter)++;
    return i < items ? i : -1;
}

/* Where tap e of a filter (ks taps per channel) lands in d kern: reversed within its channel when the op flips. */
static inline npy_intp st_conv_tap(npy_intp e, npy_intp ks, int flip)
{
    return flip ? e / ks * ks + ks - 1 - e % ks : e;
}

/* First output column j whose input column j * s + off lies at or after 0 (resp. at or after W). */
static inline npy_intp st_conv_first_col(npy_intp limit, npy_intp off, npy_intp s, npy_intp n)
{
    npy_intp need = limit - off;  /* j * s >= need */
    npy_intp j = need <= 0 ? 0 : (need + s - 1) / s;
    return j < n ? j : n;
}

/* Fill g from the parameters and the four image and filter dims; checks as the ops' perform does. */
static int st_conv_geometry(const st_conv_params *p, const npy_intp *img, const npy_intp *kern, st_conv_geom *g,
                            const char *opname)
{
    char b1[160], b2[160];
    for (int d = 0; d < 4; ++d) {
        if ((p->imshp[d] >= 0 && p->imshp[d] != img[d]) || (p->kshp[d] >= 0 && p->kshp[d] != kern[d])) {
            int is_img = p->imshp[d] >= 0 && p->imshp[d] != img[d];
            PyErr_Format(PyExc_ValueError, "%s: the %s has shape %s, but the %s shape given to conv2d says %ld on "
                         "axis %d", opname, is_img ? "input" : "filter",
                         st_dims_str(4, is_img ? img : kern, b1, sizeof b1), is_img ? "input" : "filter",
                         (long)(is_img ? p->imshp[d] : p->kshp[d]), d);
            return -1;
        }
    }
    g->B = img[0]; g->C = img[1]; g->H = img[2]; g->W = img[3];
    g->O = kern[0]; g->kh = kern[2]; g->kw = kern[3];
    g->sh = p->sh; g->sw = p->sw; g->dh = p->dh; g->dw = p->dw; g->G = p->groups; g->flip = p->flip;
    if (g->O % g->G || g->C != kern[1] * g->G) {
        PyErr_Format(PyExc_ValueError, "%s: input of shape %s and filters of shape %s do not match for "
                     "num_groups=%d (the input needs filters-per-group x groups channels and the filter count must "
                     "split into the groups)", opname, st_dims_str(4, img, b1, sizeof b1),
                     st_dims_str(4, kern, b2, sizeof b2), g->G);
        return -1;
    }
    const npy_intp span_h = (g->kh - 1) * g->dh + 1, span_w = (g->kw - 1) * g->dw + 1;
    npy_intp pt, pb, pl, pr;
    if (p->mode == 1) { pt = pb = span_h - 1; pl = pr = span_w - 1; }
    else if (p->mode == 2) { pt = pb = span_h / 2; pl = pr = span_w / 2; }
    else { pt = p->pad[0]; pb = p->pad[1]; pl = p->pad[2]; pr = p->pad[3]; }
    g->pt = pt; g->pl = pl;
    const npy_intp ph = g->H + pt + pb - span_h, pw = g->W + pl + pr - span_w;
    g->OH = ph >= 0 ? ph / g->sh + 1 : 0;
    g->OW = pw >= 0 ? pw / g->sw + 1 : 0;
    if (g->kh < 1 || g->kw < 1 || g->OH < 1 || g->OW < 1) {
        PyErr_Format(PyExc_ValueError, "%s: the kernel of spatial shape (%ld, %ld) (dilation (%d, %d)) does not fit "
                     "the padded image of spatial shape (%ld, %ld)", opname, (long)g->kh, (long)g->kw, g->dh, g->dw,
                     (long)g->H, (long)g->W);
        return -1;
    }
    g->interior = pt == 0 && pl == 0 && (g->OH - 1) * g->sh + span_h <= g->H && (g->OW - 1) * g->sw + span_w <= g->W;
    return 0;
}

/* The geometry of g's image copied into a zero-bordered buffer: the padding becomes real zero pixels (rows and
 * columns no window reaches are left out), so every window lies inside. */
static void st_conv_padded_geom(const st_conv_geom *g, st_conv_geom *gx)
{
    const npy_intp span_h = (g->kh - 1) * g->dh + 1, span_w = (g->kw - 1) * g->dw + 1;
    const npy_intp need_h = (g->OH - 1) * g->sh + span_h, need_w = (g->OW - 1) * g->sw + span_w;
    *gx = *g;
    gx->H = need_h;
    gx->W = need_w;
    gx->pt = gx->pl = 0;
    gx->interior = 1;
}

/* The offset tables of an interior geometry g: pixel pix = (i, j) of the output is the window's top-left
 * corner; tap kk = (c, u, v) the offset inside the window. */
static void st_conv_index_fill(const st_conv_geom *g, npy_intp *pix, npy_intp *kk)
{
    for (npy_intp i = 0; i < g->OH; ++i)
        for (npy_intp j = 0; j < g->OW; ++j) pix[i * g->OW + j] = i * g->sh * g->W + j * g->sw;
    const npy_intp Cg = g->C / g->G;
    for (npy_intp ch = 0; ch < Cg; ++ch)
        for (npy_intp u = 0; u < g->kh; ++u)
            for (npy_intp v = 0; v < g->kw; ++v)
                kk[(ch * g->kh + u) * g->kw + v] = (ch * g->H + u * g->dh) * g->W + v * g->dw;
}

/* The spatial lengths held by a shape vector (any integer dtype, 2 entries). */
static int st_conv_read_shape2(PyArrayObject *s, npy_intp *out, const char *opname)
{
    if (PyArray_NDIM(s) != 1 || PyArray_DIM(s, 0) != 2) {
        PyErr_Format(PyExc_ValueError, "%s: shape must hold 2 non-negative lengths, got %ld entries", opname,
                     (long)PyArray_SIZE(s));
        return -1;
    }
    for (int d = 0; d < 2; ++d) {
        npy_int64 v = st_load_i64(PyArray_BYTES(s) + d * PyArray_STRIDE(s, 0), PyArray_TYPE(s));
        if (v < 0) {
            PyErr_Format(PyExc_ValueError, "%s: shape must hold 2 non-negative lengths, got %lld", opname,
                         (long long)v);
            return -1;
        }
        out[d] = (npy_intp)v;
    }
    return 0;
}

/* A C-contiguous, aligned array of typenum holding slot's values (new reference). */
static inline PyArrayObject *st_conv_operand(PyObject *slot, int typenum)
{
    return (PyArrayObject *)PyArray_FromAny(slot, PyArray_DescrFromType(typenum), 0, 0,
                                            NPY_ARRAY_C_CONTIGUOUS | NPY_ARRAY_ALIGNED | NPY_ARRAY_FORCECAST, NULL);
}

static inline int st_conv_check_top(const st_conv_geom *g, PyArrayObject *top, const char *opname)
{
    char b1[160];
    if (PyArray_DIM(top, 0) != g->B || PyArray_DIM(top, 1) != g->O || PyArray_DIM(top, 2) != g->OH
        || PyArray_DIM(top, 3) != g->OW) {
        PyErr_Format(PyExc_ValueError, "%s: topgrad has shape %s, but the image (batch %ld, spatial (%ld, %ld)) and "
                     "the kernel (%ld filters, spatial (%ld, %ld)) give (%ld, %ld, %ld, %ld)", opname,
                     st_shape_str(top, b1, sizeof b1), (long)g->B, (long)g->H, (long)g->W, (long)g->O, (long)g->kh,
                     (long)g->kw, (long)g->B, (long)g->O, (long)g->OH, (long)g->OW);
        return -1;
    }
    return 0;
}

#define ST_CV_T npy_float32
#define ST_CV(name) name##_f32
#define ST_GM(name) name##_f32
#include "st_conv.h"
#undef ST_CV_T
#undef ST_CV
#undef ST_GM

#define ST_CV_T npy_float64
#define ST_CV(name) name##_f64
#define ST_GM(name) name##_f64
#include "st_conv.h"
#undef ST_CV_T
#undef ST_CV
#undef ST_GM

/* ---------------------------------------------------------------- the kernels' entry points */

/* out = AbstractConv2d(img, kern) */
ST_CONV_API int st_conv2d_forward(PyObject *img_slot, PyObject *kern_slot, PyObject **out, const st_conv_params *p,
                                  int typenum, const char *opname)
{
    PyArrayObject *x = st_conv_operand(img_slot, typenum), *w = st_conv_operand(kern_slot, typenum);
    int rc = (x == NULL || w == NULL) ? -1 : 0;
    st_conv_geom g;
    if (rc == 0) rc = st_conv_geometry(p, PyArray_DIMS(x), PyArray_DIMS(w), &g, opname);
    if (rc == 0) {
        npy_intp dims[4] = {g.B, g.O, g.OH, g.OW};
        rc = st_prepare_output(out, 4, dims, typenum);
    }
    if (rc == 0) {
        rc = typenum == NPY_FLOAT32
            ? st_conv2d_fwd_f32(PyArray_DATA(x), PyArray_DATA(w), PyArray_DATA(ST_ARR(*out)), &g)
            : st_conv2d_fwd_f64(PyArray_DATA(x), PyArray_DATA(w), PyArray_DATA(ST_ARR(*out)), &g);
        if (rc < 0) PyErr_NoMemory();
    }
    Py_XDECREF(x); Py_XDECREF(w);
    return rc;
}

/* out = AbstractConv2d_gradWeights(img, topgrad, kshape) */
ST_CONV_API int st_conv2d_grad_weights(PyObject *img_slot, PyObject *top_slot, PyObject *shape_slot, PyObject **out,
                                       const st_conv_params *p, int typenum, const char *opname)
{
    npy_intp ks[2];
    if (st_conv_read_shape2(ST_ARR(shape_slot), ks, opname) < 0) return -1;
    PyArrayObject *x = st_conv_operand(img_slot, typenum), *top = st_conv_operand(top_slot, typenum);
    int rc = (x == NULL || top == NULL) ? -1 : 0;
    st_conv_geom g;
    if (rc == 0 && (PyArray_DIM(x, 1) % p->groups || PyArray_DIM(top, 1) % p->groups)) {
        PyErr_Format(PyExc_ValueError, "%s: %ld channels and %ld filters must both split into num_groups=%d groups",
                     opname, (long)PyArray_DIM(x, 1), (long)PyArray_DIM(top, 1), p->groups);
        rc = -1;
    }
    if (rc == 0) {
        npy_intp kdims[4] = {PyArray_DIM(top, 1), PyArray_DIM(x, 1) / p->groups, ks[0], ks[1]};
        rc = st_conv_geometry(p, PyArray_DIMS(x), kdims, &g, opname);
        if (rc == 0) rc = st_conv_check_top(&g, top, opname);
        if (rc == 0) rc = st_prepare_output(out, 4, kdims, typenum);
    }
    if (rc == 0) {
        rc = typenum == NPY_FLOAT32
            ? st_conv2d_gradw_f32(PyArray_DATA(x), PyArray_DATA(top), PyArray_DATA(ST_ARR(*out)), &g)
            : st_conv2d_gradw_f64(PyArray_DATA(x), PyArray_DATA(top), PyArray_DATA(ST_ARR(*out)), &g);
        if (rc < 0) PyErr_NoMemory();
    }
    Py_XDECREF(x); Py_XDECREF(top);
    return rc;
}

/* out = AbstractConv2d_gradInputs(kern, topgrad, imshape) */
ST_CONV_API int st_conv2d_grad_inputs(PyObject *kern_slot, PyObject *top_slot, PyObject *shape_slot, PyObject **out,
                                      const st_conv_params *p, int typenum, const char *opname)
{
    npy_intp is[2];
    if (st_conv_read_shape2(ST_ARR(shape_slot), is, opname) < 0) return -1;
    PyArrayObject *w = st_conv_operand(kern_slot, typenum), *top = st_conv_operand(top_slot, typenum);
    int rc = (w == NULL || top == NULL) ? -1 : 0;
    st_conv_geom g;
    if (rc == 0) {
        npy_intp idims[4] = {PyArray_DIM(top, 0), PyArray_DIM(w, 1) * p->groups, is[0], is[1]};
        rc = st_conv_geometry(p, idims, PyArray_DIMS(w), &g, opname);
        if (rc == 0) rc = st_conv_check_top(&g, top, opname);
        if (rc == 0) rc = st_prepare_output(out, 4, idims, typenum);
    }
    if (rc == 0) {
        rc = typenum == NPY_FLOAT32
            ? st_conv2d_gradi_f32(PyArray_DATA(w), PyArray_DATA(top), PyArray_DATA(ST_ARR(*out)), &g)
            : st_conv2d_gradi_f64(PyArray_DATA(w), PyArray_DATA(top), PyArray_DATA(ST_ARR(*out)), &g);
        if (rc < 0) PyErr_NoMemory();
    }
    Py_XDECREF(w); Py_XDECREF(top);
    return rc;
}

#endif /* ST_CONV_H */
#else /* ------------------------------------------------------------ per-dtype part (ST_CV_T defined) */

#define ST_CV_NR ((npy_intp)(2 * ST_GEMM_VBYTES / sizeof(ST_CV_T)))  /* st_gemm.h's panel width */
#define ST_CV_PAD(n) (((n) + ST_CV_NR - 1) / ST_CV_NR * ST_CV_NR)
/* half a panel row (one SIMD vector), read and written at any element alignment */
typedef ST_CV_T ST_CV(st_conv_half) __attribute__((vector_size(ST_GEMM_VBYTES), aligned(sizeof(ST_CV_T)), may_alias));

/* im2col straight into st_gemm's packed layout (so that no plain window matrix is written and copied again):
 * a packed operand of `rows` x `cols` (st_gemm_pack_b_all's layout) whose element (row, col) is
 * x[rt[row] + ct[col]], rows and cols being pixels or filter taps (st_conv_index_fill's tables, both
 * increasing). The forward pass packs col (rows = taps), the weight gradient col^T (rows = pixels). Every
 * window lies inside x, and `limit` elements from x may be read.
 *
 * A panel row of NR lanes reads a few runs of consecutive elements (output pixels of one row, or the taps of
 * one filter row). Each run is copied as a whole vector of NR elements starting at its lane: the part past the
 * run's end lands on lanes (or the next panel row) that later copies overwrite, in order. So `dst` needs NR
 * elements of slack past its end, and a panel takes this path only when its reads stay within `limit`. */
static ST_CONV_NO_LIBCALLS void ST_CV(st_im2col_packed)(const ST_CV_T *x, npy_intp limit, const npy_intp *rt,
                                                        npy_intp rows, const npy_intp *ct, npy_intp cols,
                                                        ST_CV_T *dst)
{
    const npy_intp NR = ST_CV_NR, cpad = ST_CV_PAD(cols);
    for (npy_intp pc = 0; pc < rows; pc += ST_GEMM_KC) {
        const npy_intp kc = rows - pc < ST_GEMM_KC ? rows - pc : ST_GEMM_KC, reach = rt[pc + kc - 1];
        for (npy_intp q = 0; q < cols; q += NR) {
            ST_CV_T *blk = dst + pc * cpad + q * kc;
            const npy_intp *lo = ct + q;
            const npy_intp lanes = cols - q < NR ? cols - q : NR;
            npy_intp start[ST_CV_NR];  /* the first lane of each run */
            int runs = 0;
            for (npy_intp l = 0; l < lanes; ++l)
                if (l == 0 || lo[l] != lo[l - 1] + 1) start[runs++] = l;
            const int contiguous = lanes == NR && runs == 1;
            const int by_runs = lanes == NR && runs > 1 && runs <= NR / 4 && reach + lo[start[runs - 1]] + NR <= limit;
            for (npy_intp r = pc; r < pc + kc; ++r) {
                const ST_CV_T *base = x + rt[r];
                ST_CV_T *d = blk + (r - pc) * NR;
                if (contiguous) {
                    base += lo[0];
                    for (npy_intp l = 0; l < NR; ++l) d[l] = base[l];
                } else if (by_runs) {
                    for (int k = 0; k < runs; ++k) {
                        const ST_CV(st_conv_half) *from = (const ST_CV(st_conv_half) *)(base + lo[start[k]]);
                        ST_CV(st_conv_half) *to = (ST_CV(st_conv_half) *)(d + start[k]);
                        const ST_CV(st_conv_half) a = from[0], b = from[1];
                        to[0] = a;
                        to[1] = b;
                    }
                } else if (lanes == NR) {
                    for (npy_intp l = 0; l < NR; ++l) d[l] = base[lo[l]];
                } else {
                    for (npy_intp l = 0; l < lanes; ++l) d[l] = base[lo[l]];
                    for (npy_intp l = lanes; l < NR; ++l) d[l] = 0;
                }
            }
        }
    }
}

/* The adjoint of im2col for taps [t0, t1): dx (one image's channels, zeroed by the caller) += the windows in
 * col (t1 - t0 rows of P, tap t0 first). */
static void ST_CV(st_col2im)(const ST_CV_T *col, npy_intp t0, npy_intp t1, const st_conv_geom *g, ST_CV_T *dx)
{
    const npy_intp H = g->H, W = g->W, OH = g->OH, OW = g->OW, kh = g->kh, kw = g->kw, P = OH * OW;
    const npy_intp sh = g->sh, sw = g->sw, dh = g->dh, dw = g->dw, pt = g->pt, pl = g->pl;
    for (npy_intp e = t0; e < t1; ++e) {
        const npy_intp c = e / (kh * kw), u = e / kw % kh, v = e % kw;
        ST_CV_T *xc = dx + c * H * W;
        const ST_CV_T *row = col + (e - t0) * P;
        const npy_intp off = v * dw - pl;
        const npy_intp jlo = st_conv_first_col(0, off, sw, OW), jhi = st_conv_first_col(W, off, sw, OW);
        for (npy_intp i = 0; i < OH; ++i) {
            const npy_intp ih = i * sh + u * dh - pt;
            if (ih < 0 || ih >= H) continue;
            const ST_CV_T *r = row + i * OW;
            ST_CV_T *xr = xc + ih * W + off;
            if (sw == 1) {
                #pragma omp simd
                for (npy_intp j = jlo; j < jhi; ++j) xr[j] += r[j];
            } else {
                for (npy_intp j = jlo; j < jhi; ++j) xr[j * sw] += r[j];
            }
        }
    }
}

/* dst = the filters with both spatial axes reversed (O * Ck filters of kh x kw). */
static void ST_CV(st_conv_flip)(const ST_CV_T *src, ST_CV_T *dst, npy_intp filters, npy_intp kh, npy_intp kw)
{
    const npy_intp ks = kh * kw;
    for (npy_intp f = 0; f < filters; ++f)
        for (npy_intp e = 0; e < ks; ++e) dst[f * ks + e] = src[f * ks + ks - 1 - e];
}

/* What the threads of one call share. */
typedef struct {
    const ST_CV_T *x, *top;       /* the image and d cost / d y, where the op has them */
    const ST_CV_T *pw;            /* the filters of each group, packed as st_gemm's A (forward, grad inputs) */
    npy_intp pw_size;             /* elements of one group's packed filters */
    ST_CV_T *out;                 /* y, d img, or the per-thread partial sums of d kern */
    const st_conv_geom *g;
    st_conv_geom gx;              /* what im2col reads: g, or g's image zero-padded (st_conv_padded_geom) */
    npy_intp *pix, *kk;           /* im2col's offset tables, over gx (forward, weight gradient) */
    st_conv_plan plan;
    npy_intp *next;               /* the shared item counter (st_conv_next) */
    char *scratch;                /* thread t's area starts at scratch + t * per_thread */
    size_t per_thread, first;     /* bytes per thread; bytes of the first of its two buffers */
    size_t padded;                /* offset of the thread's padded image in its area (0: im2col reads x) */
    ST_CV_T *result;              /* the weight gradient's d kern, which its partial sums (out) add up to */
    int gather;                   /* the product gathers the windows from the image (no im2col) */
} ST_CV(st_conv_job);

/* Work per useful multiply-add of a product of `rows` x `cols` tiles (rows rounded up to ST_GEMM_MR, columns
 * to ST_CV_NR). */
static inline double ST_CV(st_conv_tiles)(npy_intp rows, npy_intp cols)
{
    const npy_intp mr = ST_GEMM_MR, nr = ST_CV_NR;
    return (double)((rows + mr - 1) / mr * mr) / (double)rows * (double)((cols + nr - 1) / nr * nr) / (double)cols;
}

/* Whether a product of `many` x `few` (pixels x filters, taps x filters) is cheaper gathered, with `few` as the
 * panels' width, than through im2col with the roles swapped: im2col's copy costs about a tenth of its product. */
static inline int ST_CV(st_conv_gather_pays)(npy_intp many, npy_intp few)
{
    return ST_CV(st_conv_tiles)(many, few) <= 1.1 * ST_CV(st_conv_tiles)(few, many);
}

/* The six rows st_gemm_micro_gather reads from the image: base + table[i0 + r] for the mr that exist (the
 * first again for the others, which are read but not stored). */
static inline void ST_CV(st_conv_rows)(const ST_CV_T *base, const npy_intp *table, npy_intp i0, npy_intp mr,
                                       const ST_CV_T **row)
{
    for (npy_intp r = 0; r < ST_GEMM_MR; ++r) row[r] = base + table[i0 + (r < mr ? r : 0)];
}

/* C (Og x n, row stride ldc) = w_g . the windows of n output pixels, as C^T = col^T (n x K) . w_g^T (K x Og):
 * rows of six pixels, whose window elements (pixel p, tap t at src[pix[p] + kk[t]]) the micro-kernel gathers
 * from the image (no im2col copy), times panels of filters (pb: ST_CONV_FILTERS_B_T). Any strides. */
static void ST_CV(st_conv_gathered)(npy_intp Og, npy_intp K, const ST_CV_T *pb, const npy_intp *kk, const ST_CV_T *src,
                                    const npy_intp *pix, npy_intp n, ST_CV_T *c, npy_intp ldc)
{
    const npy_intp NR = ST_CV_NR;
    for (npy_intp jr = 0; jr < Og; jr += NR)
        for (npy_intp ir = 0; ir < n; ir += ST_GEMM_MR) {
            const npy_intp mr = n - ir < ST_GEMM_MR ? n - ir : ST_GEMM_MR;
            const ST_CV_T *row[ST_GEMM_MR];
            ST_CV(st_conv_rows)(src, pix, ir, mr, row);
            ST_GM(st_gemm_micro_gather)(K, row, kk, pb + jr * K, c + jr * ldc + ir, ldc, 0, mr,
                                        Og - jr < NR ? Og - jr : NR, 1);
        }
}

static inline ST_CV_T *ST_CV(st_conv_area)(const ST_CV(st_conv_job) *j, int t, ST_CV_T **second)
{
    char *area = j->scratch + (size_t)t * j->per_thread;
    *second = (ST_CV_T *)(area + j->first);
    return (ST_CV_T *)area;
}

/* The channels of `nb` consecutive images (one group) as im2col reads them: x itself when no window reaches
 * the padding, else copies into the thread's zero-bordered buffers (one after the other), so that im2col
 * never tests bounds. Borders are zeroed once, by st_conv_pad_init; each copy rewrites only the image's own
 * pixels. *limit: the elements that may be read from the result (to the end of the input, or of the buffers
 * and their slack). */
static const ST_CV_T *ST_CV(st_conv_source)(const ST_CV(st_conv_job) *j, int t, const ST_CV_T *x, npy_intp nb,
                                            npy_intp *limit)
{
    const st_conv_geom *g = j->g, *gx = &j->gx;
    const npy_intp Cg = g->C / g->G, xbs = g->C * g->H * g->W, padimg = Cg * gx->H * gx->W;
    if (j->padded == 0) {
        *limit = g->B * xbs - (npy_intp)(x - j->x);
        return x;
    }
    ST_CV_T *buf = (ST_CV_T *)(j->scratch + (size_t)t * j->per_thread + j->padded);
    const npy_intp rows = g->H < gx->H - g->pt ? g->H : gx->H - g->pt;
    const npy_intp cols = g->W < gx->W - g->pl ? g->W : gx->W - g->pl;
    for (npy_intp k = 0; k < nb; ++k)
        for (npy_intp c = 0; c < Cg && cols > 0; ++c)
            for (npy_intp r = 0; r < rows; ++r)
                memcpy(buf + k * padimg + (c * gx->H + r + g->pt) * gx->W + g->pl, x + k * xbs + (c * g->H + r) * g->W,
                       (size_t)cols * sizeof(ST_CV_T));
    *limit = nb * padimg + ST_CV_NR;
    return buf;
}

static void ST_CV(st_conv_pad_init)(const ST_CV(st_conv_job) *j, int t)
{
    if (j->padded)
        memset(j->scratch + (size_t)t * j->per_thread + j->padded, 0,
               (size_t)(j->plan.images * (j->g->C / j->g->G) * j->gx.H * j->gx.W) * sizeof(ST_CV_T));
}

static void ST_CV(st_conv_fwd_worker)(void *ctx, int t, int nt)
{
    (void)nt;
    const ST_CV(st_conv_job) *j = (const ST_CV(st_conv_job) *)ctx;
    const st_conv_geom *g = j->g;
    const npy_intp G = g->G, Cg = g->C / G, Og = g->O / G, K = Cg * g->kh * g->kw, P = g->OH * g->OW;
    const npy_intp xbs = g->C * g->H * g->W, cs = Cg * g->H * g->W, S = j->plan.slices, per = j->plan.images;
    const npy_intp mpad = (Og + ST_GEMM_MR - 1) / ST_GEMM_MR * ST_GEMM_MR;
    const npy_intp items = per > 1 ? (g->B + per - 1) / per : g->B * S;
    ST_CV_T *tmp, *pb = ST_CV(st_conv_area)(j, t, &tmp);
    ST_CV(st_conv_pad_init)(j, t);
    for (npy_intp i; (i = st_conv_next(j->next, items)) >= 0;) {
        npy_intp b = i * per, nb = g->B - b < per ? g->B - b : per, p0 = 0, n = nb * P;
        if (per == 1) {  /* one image, or one slice of its pixels */
            b = i / S; nb = 1; p0 = i % S * j->plan.chunk;
            n = P - p0 < j->plan.chunk ? P - p0 : j->plan.chunk;
        }
        const npy_intp *pix = j->pix + p0;  /* over nb images: st_conv_scratch extends the table */
        for (npy_intp gr = 0; gr < G; ++gr) {  /* y_g[:, p0:p0+n] = w_g . col[:, p0:p0+n] */
            npy_intp limit;
            const ST_CV_T *src = ST_CV(st_conv_source)(j, t, j->x + b * xbs + gr * cs, nb, &limit);
            /* several images: their products land in tmp (Og x n), then each image's columns are copied out */
            ST_CV_T *c = nb > 1 ? tmp : j->out + (b * g->O + gr * Og) * P + p0;
            if (j->gather) {
                ST_CV(st_conv_gathered)(Og, K, j->pw + gr * j->pw_size, j->kk, src, pix, n, c, nb > 1 ? n : P);
            } else {  /* one block of ST_GEMM_KC taps at a time: its windows stay in cache for the product */
                for (npy_intp pc = 0; pc < K; pc += ST_GEMM_KC) {
                    const npy_intp kc = K - pc < ST_GEMM_KC ? K - pc : ST_GEMM_KC;
                    ST_CV(st_im2col_packed)(src, limit, j->kk + pc, kc, pix, n, pb);
                    ST_GM(st_gemm_packed)(Og, n, kc, j->pw + gr * j->pw_size + pc * mpad, pb, c, nb > 1 ? n : P,
                                          pc > 0);
                }
            }
            for (npy_intp k = 0; nb > 1 && k < nb; ++k)
                for (npy_intp o = 0; o < Og; ++o)
                    memcpy(j->out + ((b + k) * g->O + gr * Og + o) * P, tmp + o * n + k * P, (size_t)P * sizeof(ST_CV_T));
        }
    }
}

/* d kern = the sum of the parts' partial sums, in part order, each thread adding up its share of the filters
 * once every part is done. A partial holds each group's d kern as its product left it: Og x K through im2col,
 * transposed (K taps x Og filters) when gathered; the taps are flipped back where the op convolves. */
static void ST_CV(st_conv_gradw_sum)(const ST_CV(st_conv_job) *j, int t, int nt, ST_CV_T *sum)
{
    const st_conv_geom *g = j->g;
    const npy_intp ks = g->kh * g->kw, Og = g->O / g->G, K = g->C / g->G * ks, OK = g->O * K, parts = j->plan.parts;
#ifdef _OPENMP
    if (nt > 1) {
        #pragma omp barrier
    }
#endif
    /* runs of the partials' contiguous axis (a filter's taps, or a tap's filters when gathered), summed over
     * the parts in order (into `sum`, len elements of the thread's scratch), then written to d kern (flipped) */
    const npy_intp rows = j->gather ? g->G * K : g->O, len = j->gather ? Og : K;
    for (npy_intp r = rows * t / nt; r < rows * (t + 1) / nt; ++r) {
        const ST_CV_T *src = j->out + r * len;
        for (npy_intp e = 0; e < len; ++e) sum[e] = src[e];
        for (npy_intp part = 1; part < parts; ++part)
            for (npy_intp e = 0; e < len; ++e) sum[e] += src[part * OK + e];
        if (j->gather) {  /* row r = tap e of group gr; element o = filter gr Og + o */
            const npy_intp gr = r / K, e = r % K, to = st_conv_tap(e, ks, g->flip);
            for (npy_intp o = 0; o < Og; ++o) j->result[(gr * Og + o) * K + to] = sum[o];
        } else {          /* row r = filter r; element e = its tap e */
            for (npy_intp e = 0; e < K; ++e) j->result[r * K + st_conv_tap(e, ks, g->flip)] = sum[e];
        }
    }
}

/* The items (image, pixel slice) are cut into `parts` fixed runs, each summed into its own partial d kern in
 * a fixed order, whichever thread takes it: the result does not depend on how the threads were scheduled.
 * Gathered, an item adds d kern_g^T (K x Og) += col (K x n) . top_g^T (n x Og): the window matrix col is never
 * written, its elements are read from the image by st_gemm_micro_gather (tap t, pixel p at x[kk[t] + pix[p]]),
 * and only top_g^T is packed (Og x n elements, where col has K x n). Else d kern_g (Og x K) += top_g . col^T,
 * col^T from im2col. */
static void ST_CV(st_conv_gradw_worker)(void *ctx, int t, int nt)
{
    const ST_CV(st_conv_job) *j = (const ST_CV(st_conv_job) *)ctx;
    const st_conv_geom *g = j->g;
    const npy_intp G = g->G, Cg = g->C / G, Og = g->O / G, K = Cg * g->kh * g->kw, P = g->OH * g->OW;
    const npy_intp xbs = g->C * g->H * g->W, cs = Cg * g->H * g->W, S = j->plan.slices, items = g->B * S;
    const npy_intp parts = j->plan.parts, NR = ST_CV_NR, npad = ST_CV_PAD(Og);
    ST_CV_T *cols_buf, *pb = ST_CV(st_conv_area)(j, t, &cols_buf);  /* pb: top_g^T, or top_g as im2col's A */
    ST_CV(st_conv_pad_init)(j, t);
    for (npy_intp part; (part = st_conv_next(j->next, parts)) >= 0;) {
        ST_CV_T *acc = j->out + (size_t)part * (size_t)(g->O * K);  /* written by the part's first item */
        const npy_intp first = items * part / parts;
        for (npy_intp i = first; i < items * (part + 1) / parts; ++i) {
            const npy_intp b = i / S, p0 = i % S * j->plan.chunk;
            const npy_intp n = P - p0 < j->plan.chunk ? P - p0 : j->plan.chunk;
            const npy_intp *pix = j->pix + p0;
            for (npy_intp gr = 0; gr < G; ++gr) {
                npy_intp limit;
                const ST_CV_T *src = ST_CV(st_conv_source)(j, t, j->x + b * xbs + gr * cs, 1, &limit);
                ST_CV_T *accg = acc + gr * K * Og;
                if (!j->gather) {
                    ST_GM(st_gemm_pack_a_all)(Og, n, j->top + (b * g->O + gr * Og) * P + p0, P, 1, pb);
                    /* taps in blocks of about 64K elements of windows, which stay in cache for the product */
                    npy_intp qc = ((npy_intp)65536 / n) / NR * NR;
                    if (qc < NR) qc = NR;
                    for (npy_intp q0 = 0; q0 < K; q0 += qc) {
                        const npy_intp cols = K - q0 < qc ? K - q0 : qc;
                        ST_CV(st_im2col_packed)(src, limit, pix, n, j->kk + q0, cols, cols_buf);
                        ST_GM(st_gemm_packed)(Og, cols, n, pb, cols_buf, accg + q0, K, i > first);
                    }
                    continue;
                }
                ST_GM(st_gemm_pack_b_all)(n, Og, j->top + (b * g->O + gr * Og) * P + p0, 1, P, pb);
                for (npy_intp pc = 0; pc < n; pc += ST_GEMM_KC) {  /* blocks of pixels: B panels stay in cache */
                    const npy_intp kc = n - pc < ST_GEMM_KC ? n - pc : ST_GEMM_KC;
                    const int accumulate = i > first || pc > 0;
                    for (npy_intp jr = 0; jr < Og; jr += NR) {
                        const ST_CV_T *bp = pb + pc * npad + jr * kc;
                        for (npy_intp ir = 0; ir < K; ir += ST_GEMM_MR) {
                            const npy_intp mr = K - ir < ST_GEMM_MR ? K - ir : ST_GEMM_MR;
                            const ST_CV_T *row[ST_GEMM_MR];
                            ST_CV(st_conv_rows)(src, j->kk, ir, mr, row);
                            ST_GM(st_gemm_micro_gather)(kc, row, pix + pc, bp, accg + ir * Og + jr, Og, accumulate, mr,
                                                        Og - jr < NR ? Og - jr : NR, 0);
                        }
                    }
                }
            }
        }
    }
    ST_CV(st_conv_gradw_sum)(j, t, nt, j->gather ? pb : cols_buf);  /* both at least as long as a run */
}

/* Taps per block of the input gradient's window matrix: about 64K elements, a whole number of st_gemm rows. */
static inline npy_intp ST_CV(st_conv_gradi_block)(npy_intp K, npy_intp P)
{
    npy_intp rb = (npy_intp)65536 / (P > 0 ? P : 1) / ST_GEMM_MR * ST_GEMM_MR;
    if (rb < ST_GEMM_MR) rb = ST_GEMM_MR;
    return rb < K ? rb : K;
}

static void ST_CV(st_conv_gradi_worker)(void *ctx, int t, int nt)
{
    (void)nt;
    const ST_CV(st_conv_job) *j = (const ST_CV(st_conv_job) *)ctx;
    const st_conv_geom *g = j->g;
    const npy_intp G = g->G, Cg = g->C / G, Og = g->O / G, K = Cg * g->kh * g->kw, P = g->OH * g->OW;
    const npy_intp xbs = g->C * g->H * g->W, cs = Cg * g->H * g->W;
    ST_CV_T *col, *pb = ST_CV(st_conv_area)(j, t, &col);
    const npy_intp rb = ST_CV(st_conv_gradi_block)(K, P);
    for (npy_intp b; (b = st_conv_next(j->next, g->B)) >= 0;) {  /* one item per image */
        memset(j->out + b * xbs, 0, (size_t)xbs * sizeof(ST_CV_T));
        for (npy_intp gr = 0; gr < G; ++gr) {
            /* col (K x P) = W_g^T (K x Og) . top_g (Og x P), then scattered back onto the image; in blocks of rb
             * taps, so that each block of col is still in cache when it is scattered */
            ST_GM(st_gemm_pack_b_all)(Og, P, j->top + (b * g->O + gr * Og) * P, P, 1, pb);
            for (npy_intp r0 = 0; r0 < K; r0 += rb) {
                const npy_intp m = K - r0 < rb ? K - r0 : rb;
                ST_GM(st_gemm_packed_rows)(r0, m, K, P, Og, j->pw + gr * j->pw_size, pb, col, P, 0);
                ST_CV(st_col2im)(col, r0, r0 + m, g, j->out + b * xbs + gr * cs);
            }
        }
    }
}

/* The scratch of one call: `shared` elements first, then im2col's index tables when `tables` (the pixel table
 * covering j->plan.images images), then per thread two buffers of `first` and `second` elements (and the
 * zero-bordered images where im2col needs them), each part on its own cache lines. Fills the job's scratch
 * fields (and the tables); NULL when memory cannot be had. */
static ST_CV_T *ST_CV(st_conv_scratch)(ST_CV(st_conv_job) *j, int nt, size_t shared, int tables, size_t first,
                                       size_t second)
{
    const st_conv_geom *g = j->g;
    const npy_intp P = g->OH * g->OW, K = g->C / g->G * g->kh * g->kw;
    const size_t head = st_conv_lines(shared * sizeof(ST_CV_T));
    const npy_intp images = j->plan.images;
    const size_t index = tables ? st_conv_lines((size_t)(images * P + K) * sizeof(npy_intp)) : 0;
    j->gx = *g;
    if (tables && !g->interior) st_conv_padded_geom(g, &j->gx);
    const npy_intp padimg = g->C / g->G * j->gx.H * j->gx.W;
    j->first = st_conv_lines(first * sizeof(ST_CV_T));
    j->per_thread = j->first + st_conv_lines(second * sizeof(ST_CV_T));
    j->padded = 0;
    if (tables && !g->interior) {
        j->padded = j->per_thread;
        j->per_thread += st_conv_lines((size_t)(images * padimg + ST_CV_NR) * sizeof(ST_CV_T));
    }
    char *buf = (char *)st_conv_alloc(head + index + (size_t)nt * j->per_thread);
    if (buf == NULL) return NULL;
    if (tables) {
        j->pix = (npy_intp *)(buf + head);
        j->kk = j->pix + images * P;
        st_conv_index_fill(&j->gx, j->pix, j->kk);
        /* image k of an item: its copy follows the previous one (padded), or it is the next image of x */
        const npy_intp stride = j->padded ? padimg : g->C * g->H * g->W;
        for (npy_intp k = 1; k < images; ++k)
            for (npy_intp p = 0; p < P; ++p) j->pix[k * P + p] = j->pix[p] + k * stride;
    }
    j->scratch = buf + head + index;
    return (ST_CV_T *)buf;
}

static inline npy_intp ST_CV(st_conv_filters_size)(const st_conv_geom *g, int layout)
{
    const npy_intp Og = g->O / g->G, K = g->C / g->G * g->kh * g->kw;
    const npy_intp elems = layout == ST_CONV_FILTERS_A ? ST_GM(st_gemm_a_size)(Og, K)
                           : layout == ST_CONV_FILTERS_A_T ? ST_GM(st_gemm_a_size)(K, Og)
                                                           : K * ST_CV_PAD(Og);
    return (npy_intp)(st_conv_lines((size_t)elems * sizeof(ST_CV_T)) / sizeof(ST_CV_T));
}

/* Pack each group's filters (flipped first where the op convolves): as st_gemm's A, w_g (Og x K) for the forward
 * pass read in runs (ST_CONV_FILTERS_A), w_g^T (K x Og) for the input gradient (ST_CONV_FILTERS_A_T); as one
 * block of B panels of w_g^T (K x Og, panel j at j K) for the forward pass that gathers (ST_CONV_FILTERS_B_T).
 * `tmp` holds O * K elements. Returns the packed size per group. */
static npy_intp ST_CV(st_conv_pack_filters)(const ST_CV_T *w, const st_conv_geom *g, int layout, ST_CV_T *tmp,
                                           ST_CV_T *dst)
{
    const npy_intp Og = g->O / g->G, K = g->C / g->G * g->kh * g->kw;
    const npy_intp size = ST_CV(st_conv_filters_size)(g, layout);
    if (g->flip) {
        ST_CV(st_conv_flip)(w, tmp, g->O * (g->C / g->G), g->kh, g->kw);
        w = tmp;
    }
    for (npy_intp gr = 0; gr < g->G; ++gr) {
        if (layout == ST_CONV_FILTERS_A_T) ST_GM(st_gemm_pack_a_all)(K, Og, w + gr * Og * K, 1, K, dst + gr * size);
        else if (layout == ST_CONV_FILTERS_A) ST_GM(st_gemm_pack_a_all)(Og, K, w + gr * Og * K, K, 1, dst + gr * size);
        else ST_GM(st_gemm_pack_b)(K, Og, w + gr * Og * K, 1, K, dst + gr * size);
    }
    return size;
}

/* y = conv(x, w). Returns -1 when scratch memory cannot be had (no exception set). */
static int ST_CV(st_conv2d_fwd)(const ST_CV_T *x, const ST_CV_T *w, ST_CV_T *y, const st_conv_geom *g)
{
    const npy_intp Og = g->O / g->G, K = g->C / g->G * g->kh * g->kw, P = g->OH * g->OW;
    if (g->B * g->O * P == 0) return 0;
    st_conv_plan plan = st_conv_split(g->B, P, ST_CV_NR, (double)g->B * (double)g->O * (double)P * (double)K);
    const int nt = plan.threads;
    /* small images: several per product, while every thread still gets four items or more */
    while (plan.slices == 1 && plan.images * 2 * P <= ST_CONV_BATCH_PIXELS && g->B >= plan.images * 8 * nt)
        plan.images *= 2;
    const npy_intp n = plan.images * P;
    npy_intp next = 0;
    ST_CV(st_conv_job) j = {x, NULL, NULL, 0, y, g, *g, NULL, NULL, plan, &next, NULL, 0, 0, 0};
    /* pixels as the product's rows and filters as its panels, windows gathered from the image; or the other
     * way round through im2col, where the filters fill panels badly (20 of 32 columns) */
    const npy_intp chunk = plan.slices > 1 ? plan.chunk : n;
    j.gather = ST_CV(st_conv_gather_pays)(chunk, Og);
    const int layout = j.gather ? ST_CONV_FILTERS_B_T : ST_CONV_FILTERS_A;
    const size_t packed = (size_t)(g->G * ST_CV(st_conv_filters_size)(g, layout));
    ST_CV_T *head = ST_CV(st_conv_scratch)(&j, nt, packed + (size_t)(g->O * K), 1,
                                           j.gather ? 1 : (size_t)ST_GM(st_gemm_b_size)(K, n) + ST_CV_NR,
                                           plan.images > 1 ? (size_t)(Og * n) : 0);
    if (head == NULL) return -1;
    j.pw = head;
    j.pw_size = ST_CV(st_conv_pack_filters)(w, g, layout, head + packed, head);
    st_conv_run(nt, ST_CV(st_conv_fwd_worker), &j);
    st_conv_release(head);
    return 0;
}

/* dw = d cost / d w from x and top (d cost / d y). */
static int ST_CV(st_conv2d_gradw)(const ST_CV_T *x, const ST_CV_T *top, ST_CV_T *dw, const st_conv_geom *g)
{
    const npy_intp Og = g->O / g->G, K = g->C / g->G * g->kh * g->kw, P = g->OH * g->OW, OK = g->O * K;
    if (OK == 0) return 0;
    st_conv_plan plan = st_conv_split(g->B, P, ST_CV_NR, (double)g->B * (double)OK * (double)P);
    const int nt = plan.threads;
    /* many short runs balance a busy machine's threads best; their partial sums are capped in memory */
    const npy_intp cap = (npy_intp)(ST_CONV_PARTS_BYTES / ((size_t)OK * sizeof(ST_CV_T)));
    npy_intp parts = plan.parts < cap ? plan.parts : cap;
    if (parts < nt) parts = plan.parts < nt ? plan.parts : nt;  /* one per thread at least */
    plan.parts = parts;
    npy_intp next = 0;
    ST_CV(st_conv_job) j = {x, top, NULL, 0, NULL, g, *g, NULL, NULL, plan, &next, NULL, 0, 0, 0};
    /* taps as the product's rows and filters as its panels, windows gathered; or through im2col where the
     * filters fill panels badly */
    j.gather = ST_CV(st_conv_gather_pays)(K, Og);
    ST_CV_T *head = ST_CV(st_conv_scratch)(&j, nt, (size_t)(parts * OK), 1,
                                           j.gather ? (size_t)ST_GM(st_gemm_b_size)(P, Og)
                                                    : (size_t)ST_GM(st_gemm_a_size)(Og, P),
                                           j.gather ? 0 : (size_t)ST_GM(st_gemm_b_size)(P, K) + ST_CV_NR);
    if (head == NULL) return -1;
    j.out = head;
    j.result = dw;
    if (g->B * P > 0) st_conv_run(nt, ST_CV(st_conv_gradw_worker), &j);
    else memset(dw, 0, (size_t)OK * sizeof(ST_CV_T));
    st_conv_release(head);
    return 0;
}

/* With unit strides the input gradient is itself a convolution: of top (O channels, OH x OW) with the filters'
 * channels swapped within each group and their taps reversed, padded by span - 1 - pad on each side. The
 * forward pass then does the work: one im2col of top and products whose inner length is Og * kh * kw, where
 * col2im's products have only Og and scatter every tap back. Returns 1 when it does not apply (the caller
 * takes the col2im path), -1 without memory, 0 when done. */
static int ST_CV(st_conv2d_gradi_as_forward)(const ST_CV_T *w, const ST_CV_T *top, ST_CV_T *dx, const st_conv_geom *g)
{
    const npy_intp span_h = (g->kh - 1) * g->dh + 1, span_w = (g->kw - 1) * g->dw + 1;
    const npy_intp pb = g->OH - 1 + span_h - g->H - g->pt, pr = g->OW - 1 + span_w - g->W - g->pl;
    st_conv_geom t = *g;
    t.C = g->O; t.H = g->OH; t.W = g->OW; t.O = g->C; t.OH = g->H; t.OW = g->W;
    t.pt = span_h - 1 - g->pt; t.pl = span_w - 1 - g->pl;
    t.flip = !g->flip;
    if (g->sh != 1 || g->sw != 1 || t.pt < 0 || t.pl < 0 || span_h - 1 - pb < 0 || span_w - 1 - pr < 0) return 1;
    t.interior = t.pt == 0 && t.pl == 0 && t.OH - 1 + span_h <= t.H && t.OW - 1 + span_w <= t.W;
    const npy_intp G = g->G, Og = g->O / G, Cg = g->C / G, taps = g->kh * g->kw;
    ST_CV_T *swapped = (ST_CV_T *)malloc((size_t)(g->O * Cg * taps > 0 ? g->O * Cg * taps : 1) * sizeof(ST_CV_T));
    if (swapped == NULL) return -1;
    for (npy_intp gr = 0; gr < G; ++gr)  /* swapped[gr Cg + c, o] = w[gr Og + o, c] */
        for (npy_intp c = 0; c < Cg; ++c)
            for (npy_intp o = 0; o < Og; ++o)
                memcpy(swapped + ((gr * Cg + c) * Og + o) * taps, w + ((gr * Og + o) * Cg + c) * taps,
                       (size_t)taps * sizeof(ST_CV_T));
    const int rc = ST_CV(st_conv2d_fwd)(top, swapped, dx, &t);
    free(swapped);
    return rc;
}

/* dx = d cost / d x from w and top. */
static int ST_CV(st_conv2d_gradi)(const ST_CV_T *w, const ST_CV_T *top, ST_CV_T *dx, const st_conv_geom *g)
{
    const npy_intp Og = g->O / g->G, K = g->C / g->G * g->kh * g->kw, P = g->OH * g->OW;
    if (g->B * g->C * g->H * g->W == 0) return 0;
    const int direct = ST_CV(st_conv2d_gradi_as_forward)(w, top, dx, g);
    if (direct <= 0) return direct;
    const st_conv_plan plan = st_conv_split(g->B, P, 0, (double)g->B * (double)g->O * (double)P * (double)K);
    const int nt = plan.threads;
    npy_intp next = 0;
    const size_t packed = (size_t)g->G * (st_conv_lines((size_t)ST_GM(st_gemm_a_size)(K, Og) * sizeof(ST_CV_T))
                                          / sizeof(ST_CV_T));
    ST_CV(st_conv_job) j = {NULL, top, NULL, 0, dx, g, *g, NULL, NULL, plan, &next, NULL, 0, 0, 0};
    ST_CV_T *head = ST_CV(st_conv_scratch)(&j, nt, packed + (size_t)(g->O * K), 0,
                                           (size_t)ST_GM(st_gemm_b_size)(Og, P),
                                           (size_t)(ST_CV(st_conv_gradi_block)(K, P) * P));
    if (head == NULL) return -1;
    j.pw = head;
    j.pw_size = ST_CV(st_conv_pack_filters)(w, g, ST_CONV_FILTERS_A_T, head + packed, head);
    st_conv_run(nt, ST_CV(st_conv_gradi_worker), &j);
    st_conv_release(head);
    return 0;
}

#undef ST_CV_NR
#undef ST_CV_PAD

#endif /* ST_CV_T */
