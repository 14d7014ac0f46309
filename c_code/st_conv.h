/* symtensor C runtime: 2-d convolution (AbstractConv2d and its two gradients) by im2col + BLAS gemm.
 *
 * Used by symtensor/link/c/kernels_conv.py. Images are (batch, channels, rows, cols), filters
 * (out_channels, channels / groups, krows, kcols), both C-contiguous here (the entry points copy
 * strided or other-dtype operands once). For a chunk of the batch and one group, im2col lays the
 * kernel-sized windows out as a K x (n * P) matrix (K = channels per group * krows * kcols, P = output
 * pixels per image), so each layer is one large gemm per chunk instead of one small gemm per image:
 *   forward        out_g (Og x nP)  = W_g (Og x K) . col (K x nP)
 *   grad weights   dW_g  (Og x K)  += top_g (Og x nP) . col^T
 *   grad inputs    col   (K x nP)   = W_g^T . top_g (Og x nP),  then col2im scatters col into d img
 * BLAS threads the gemms; OpenMP runs the window copies over (image, channel) planes. filter_flip
 * (true convolution) flips the kernel once into a scratch buffer. Scratch memory is one buffer per
 * module that grows to the largest request (the GIL serializes calls), so steady-state steps do not
 * allocate; requests above ST_CONV_KEEP_MAX bytes are allocated and freed per call.
 *
 * The per-dtype functions are instantiated for float32 (_f32) and float64 (_f64) by including this
 * header again with ST_CV_T defined.
 */
#ifndef ST_CV_T /* ------------------------------------------------------------ the dtype-free part */
#ifndef ST_CONV_H
#define ST_CONV_H

#include "st_runtime.h"
#include "st_blas.h"
#include "st_index.h"

/* gcc turns copy loops into memcpy/memset calls, which cost more than the loop for the short rows here */
#if defined(__GNUC__) && !defined(__clang__)
#define ST_CONV_NO_LIBCALLS __attribute__((optimize("no-tree-loop-distribute-patterns")))
#else
#define ST_CONV_NO_LIBCALLS
#endif

/* col buffers are sized for at most this many bytes per batch chunk (at least one image) */
#define ST_CONV_CHUNK_BYTES ((size_t)1 << 20)
#define ST_CONV_KEEP_MAX ((size_t)512 << 20)

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
} st_conv_geom;

static char *st_conv_keep = NULL;
static size_t st_conv_keep_size = 0;

static void *st_conv_alloc(size_t bytes)
{
    if (bytes == 0) bytes = 1;
    if (bytes <= st_conv_keep_size) return st_conv_keep;
    if (bytes > ST_CONV_KEEP_MAX) return malloc(bytes);
    free(st_conv_keep);
    st_conv_keep = (char *)malloc(bytes);
    st_conv_keep_size = st_conv_keep ? bytes : 0;
    return st_conv_keep;
}

static void st_conv_release(void *p)
{
    if (p != NULL && p != (void *)st_conv_keep) free(p);
}

/* Images per chunk so that a K x (n * P) buffer of itemsize stays under ST_CONV_CHUNK_BYTES. */
static inline npy_intp st_conv_chunk(npy_intp B, npy_intp K, npy_intp P, size_t itemsize)
{
    size_t per = (size_t)(K > 0 ? K : 1) * (size_t)(P > 0 ? P : 1) * itemsize;
    npy_intp n = (npy_intp)(ST_CONV_CHUNK_BYTES / per);
    if (n < 1) n = 1;
    return n < B ? n : (B > 0 ? B : 1);
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
    return 0;
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
#define ST_CV_GEMM st_blas.sgemm
#include "st_conv.h"
#undef ST_CV_T
#undef ST_CV
#undef ST_CV_GEMM

#define ST_CV_T npy_float64
#define ST_CV(name) name##_f64
#define ST_CV_GEMM st_blas.dgemm
#include "st_conv.h"
#undef ST_CV_T
#undef ST_CV
#undef ST_CV_GEMM

/* ---------------------------------------------------------------- the kernels' entry points */

/* out = AbstractConv2d(img, kern) */
static int st_conv2d_forward(PyObject *img_slot, PyObject *kern_slot, PyObject **out, const st_conv_params *p,
                             int typenum, const char *opname)
{
    if (st_blas_load() < 0) return -1;
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
static int st_conv2d_grad_weights(PyObject *img_slot, PyObject *top_slot, PyObject *shape_slot, PyObject **out,
                                  const st_conv_params *p, int typenum, const char *opname)
{
    if (st_blas_load() < 0) return -1;
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
static int st_conv2d_grad_inputs(PyObject *kern_slot, PyObject *top_slot, PyObject *shape_slot, PyObject **out,
                                 const st_conv_params *p, int typenum, const char *opname)
{
    if (st_blas_load() < 0) return -1;
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

/* Row-major C (m x n, ldc) = alpha op(A) op(B) + beta C with op(A) m x k, op(B) k x n; ta / tb: the operand
 * is stored transposed. BLAS is column-major, so this computes C^T = op(B)^T op(A)^T. */
static void ST_CV(st_conv_gemm)(int ta, int tb, npy_intp m, npy_intp n, npy_intp k, ST_CV_T alpha, const ST_CV_T *A,
                                npy_intp lda, const ST_CV_T *B, npy_intp ldb, ST_CV_T beta, ST_CV_T *C, npy_intp ldc)
{
    if (m == 0 || n == 0) return;
    char ca = ta ? 'T' : 'N', cb = tb ? 'T' : 'N';
    int im = (int)m, in = (int)n, ik = (int)k, ia = (int)(lda > 0 ? lda : 1), ib = (int)(ldb > 0 ? ldb : 1);
    int ic = (int)(ldc > 0 ? ldc : 1);
    ST_CV_GEMM(&cb, &ca, &in, &im, &ik, &alpha, (ST_CV_T *)B, &ib, (ST_CV_T *)A, &ia, &beta, C, &ic);
}

/* col (K x NP, NP = total columns) gets the windows of n images starting at x (image stride xbs elements),
 * channels c0 .. c0 + Cg of each, at column offset b * P for image b. Rows and columns of a window that fall
 * in the padding are zeros; the copies are plain loops (rows are short: a library call per row costs more). */
static ST_CONV_NO_LIBCALLS void ST_CV(st_im2col)(const ST_CV_T *x, npy_intp xbs, npy_intp n, npy_intp Cg,
                                                 const st_conv_geom *g, ST_CV_T *col, npy_intp NP)
{
    const npy_intp H = g->H, W = g->W, OH = g->OH, OW = g->OW, kh = g->kh, kw = g->kw, P = OH * OW;
    const npy_intp sh = g->sh, sw = g->sw, dh = g->dh, dw = g->dw, pt = g->pt, pl = g->pl;
    const npy_intp total = n * Cg;
    #pragma omp parallel for schedule(static) if (total * kh * kw * P > ST_OMP_THRESHOLD && total > 1)
    for (npy_intp bc = 0; bc < total; ++bc) {
        const npy_intp b = bc / Cg, c = bc % Cg;
        const ST_CV_T *xc = x + b * xbs + c * H * W;
        for (npy_intp u = 0; u < kh; ++u) {
            const npy_intp ioff = u * dh - pt;
            const npy_intp ilo = st_conv_first_col(0, ioff, sh, OH), ihi = st_conv_first_col(H, ioff, sh, OH);
            for (npy_intp v = 0; v < kw; ++v) {
                ST_CV_T *row = col + ((c * kh + u) * kw + v) * NP + b * P;
                const npy_intp off = v * dw - pl;
                const npy_intp jlo = st_conv_first_col(0, off, sw, OW), jhi = st_conv_first_col(W, off, sw, OW);
                const npy_intp i1 = ihi > ilo ? ihi : ilo;
                for (npy_intp e = 0; e < ilo * OW; ++e) row[e] = 0;
                for (npy_intp i = ilo; i < i1; ++i) {
                    ST_CV_T *r = row + i * OW;
                    const ST_CV_T *xr = xc + (i * sh + ioff) * W + off;
                    npy_intp j = 0;
                    for (; j < jlo; ++j) r[j] = 0;
                    if (sw == 1) for (; j < jhi; ++j) r[j] = xr[j];
                    else for (; j < jhi; ++j) r[j] = xr[j * sw];
                    for (; j < OW; ++j) r[j] = 0;
                }
                for (npy_intp e = i1 * OW; e < P; ++e) row[e] = 0;
            }
        }
    }
}

/* The adjoint of st_im2col: dx (zeroed by the caller) += the windows in col. */
static void ST_CV(st_col2im)(const ST_CV_T *col, npy_intp NP, npy_intp n, npy_intp Cg, const st_conv_geom *g,
                             ST_CV_T *dx, npy_intp xbs)
{
    const npy_intp H = g->H, W = g->W, OH = g->OH, OW = g->OW, kh = g->kh, kw = g->kw, P = OH * OW;
    const npy_intp sh = g->sh, sw = g->sw, dh = g->dh, dw = g->dw, pt = g->pt, pl = g->pl;
    const npy_intp total = n * Cg;
    #pragma omp parallel for schedule(static) if (total * kh * kw * P > ST_OMP_THRESHOLD && total > 1)
    for (npy_intp bc = 0; bc < total; ++bc) {
        const npy_intp b = bc / Cg, c = bc % Cg;
        ST_CV_T *xc = dx + b * xbs + c * H * W;
        for (npy_intp u = 0; u < kh; ++u) {
            for (npy_intp v = 0; v < kw; ++v) {
                const ST_CV_T *row = col + ((c * kh + u) * kw + v) * NP + b * P;
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
    }
}

/* dst = the filters with both spatial axes reversed (O * Ck filters of kh x kw). */
static void ST_CV(st_conv_flip)(const ST_CV_T *src, ST_CV_T *dst, npy_intp filters, npy_intp kh, npy_intp kw)
{
    const npy_intp ks = kh * kw;
    for (npy_intp f = 0; f < filters; ++f)
        for (npy_intp e = 0; e < ks; ++e) dst[f * ks + e] = src[f * ks + ks - 1 - e];
}

/* Move the (n images x Og channels x P) block between the image layout (image stride O * P) and the
 * gemm layout (Og x nP). to_gemm = 1: image -> gemm. */
static void ST_CV(st_conv_regroup)(ST_CV_T *img, ST_CV_T *gem, npy_intp n, npy_intp Og, npy_intp O, npy_intp P,
                                   int to_gemm)
{
    const npy_intp total = n * Og, NP = n * P;
    #pragma omp parallel for schedule(static) if (total * P > ST_OMP_THRESHOLD && total > 1)
    for (npy_intp bo = 0; bo < total; ++bo) {
        const npy_intp b = bo / Og, o = bo % Og;
        ST_CV_T *pi = img + b * O * P + o * P, *pg = gem + o * NP + b * P;
        if (to_gemm) memcpy(pg, pi, (size_t)P * sizeof(ST_CV_T));
        else memcpy(pi, pg, (size_t)P * sizeof(ST_CV_T));
    }
}

/* y = conv(x, w). Returns -1 when scratch memory cannot be had (no exception set). */
static int ST_CV(st_conv2d_fwd)(const ST_CV_T *x, const ST_CV_T *w, ST_CV_T *y, const st_conv_geom *g)
{
    const npy_intp G = g->G, Cg = g->C / G, Og = g->O / G, K = Cg * g->kh * g->kw, P = g->OH * g->OW;
    const npy_intp nb = st_conv_chunk(g->B, K, P, sizeof(ST_CV_T)), xbs = g->C * g->H * g->W;
    if (g->B * g->O * P == 0) return 0;
    const size_t wsz = g->flip ? (size_t)(g->O * K) : 0, csz = (size_t)(K * nb * P), tsz = (size_t)(Og * nb * P);
    ST_CV_T *buf = (ST_CV_T *)st_conv_alloc((wsz + csz + tsz) * sizeof(ST_CV_T));
    if (buf == NULL) return -1;
    ST_CV_T *wf = g->flip ? buf : (ST_CV_T *)w, *col = buf + wsz, *tmp = col + csz;
    if (g->flip) ST_CV(st_conv_flip)(w, wf, g->O * Cg, g->kh, g->kw);
    for (npy_intp b0 = 0; b0 < g->B; b0 += nb) {
        const npy_intp n = g->B - b0 < nb ? g->B - b0 : nb, NP = n * P;
        for (npy_intp gr = 0; gr < G; ++gr) {
            ST_CV(st_im2col)(x + b0 * xbs + gr * Cg * g->H * g->W, xbs, n, Cg, g, col, NP);
            ST_CV(st_conv_gemm)(0, 0, Og, NP, K, 1, wf + gr * Og * K, K, col, NP, 0, tmp, NP);
            ST_CV(st_conv_regroup)(y + b0 * g->O * P + gr * Og * P, tmp, n, Og, g->O, P, 0);
        }
    }
    st_conv_release(buf);
    return 0;
}

/* dw = d cost / d w from x and top (d cost / d y). */
static int ST_CV(st_conv2d_gradw)(const ST_CV_T *x, const ST_CV_T *top, ST_CV_T *dw, const st_conv_geom *g)
{
    const npy_intp G = g->G, Cg = g->C / G, Og = g->O / G, K = Cg * g->kh * g->kw, P = g->OH * g->OW;
    const npy_intp nb = st_conv_chunk(g->B, K, P, sizeof(ST_CV_T)), xbs = g->C * g->H * g->W;
    if (g->O * K == 0) return 0;
    const size_t wsz = g->flip ? (size_t)(g->O * K) : 0, csz = (size_t)(K * nb * P), tsz = (size_t)(Og * nb * P);
    ST_CV_T *buf = (ST_CV_T *)st_conv_alloc((wsz + csz + tsz) * sizeof(ST_CV_T));
    if (buf == NULL) return -1;
    ST_CV_T *acc = g->flip ? buf : dw, *col = buf + wsz, *tmp = col + csz;
    memset(acc, 0, (size_t)(g->O * K) * sizeof(ST_CV_T));
    for (npy_intp b0 = 0; b0 < g->B; b0 += nb) {
        const npy_intp n = g->B - b0 < nb ? g->B - b0 : nb, NP = n * P;
        for (npy_intp gr = 0; gr < G; ++gr) {
            ST_CV(st_im2col)(x + b0 * xbs + gr * Cg * g->H * g->W, xbs, n, Cg, g, col, NP);
            ST_CV(st_conv_regroup)((ST_CV_T *)top + b0 * g->O * P + gr * Og * P, tmp, n, Og, g->O, P, 1);
            ST_CV(st_conv_gemm)(0, 1, Og, K, NP, 1, tmp, NP, col, NP, 1, acc + gr * Og * K, K);
        }
    }
    if (g->flip) ST_CV(st_conv_flip)(acc, dw, g->O * Cg, g->kh, g->kw);
    st_conv_release(buf);
    return 0;
}

/* dx = d cost / d x from w and top. */
static int ST_CV(st_conv2d_gradi)(const ST_CV_T *w, const ST_CV_T *top, ST_CV_T *dx, const st_conv_geom *g)
{
    const npy_intp G = g->G, Cg = g->C / G, Og = g->O / G, K = Cg * g->kh * g->kw, P = g->OH * g->OW;
    const npy_intp nb = st_conv_chunk(g->B, K, P, sizeof(ST_CV_T)), xbs = g->C * g->H * g->W;
    memset(dx, 0, (size_t)(g->B * xbs) * sizeof(ST_CV_T));
    if (g->B * xbs == 0 || Og * P == 0) return 0;
    const size_t wsz = g->flip ? (size_t)(g->O * K) : 0, csz = (size_t)(K * nb * P), tsz = (size_t)(Og * nb * P);
    ST_CV_T *buf = (ST_CV_T *)st_conv_alloc((wsz + csz + tsz) * sizeof(ST_CV_T));
    if (buf == NULL) return -1;
    ST_CV_T *wf = g->flip ? buf : (ST_CV_T *)w, *col = buf + wsz, *tmp = col + csz;
    if (g->flip) ST_CV(st_conv_flip)(w, wf, g->O * Cg, g->kh, g->kw);
    for (npy_intp b0 = 0; b0 < g->B; b0 += nb) {
        const npy_intp n = g->B - b0 < nb ? g->B - b0 : nb, NP = n * P;
        for (npy_intp gr = 0; gr < G; ++gr) {
            ST_CV(st_conv_regroup)((ST_CV_T *)top + b0 * g->O * P + gr * Og * P, tmp, n, Og, g->O, P, 1);
            ST_CV(st_conv_gemm)(1, 0, K, NP, Og, 1, wf + gr * Og * K, K, tmp, NP, 0, col, NP);
            ST_CV(st_col2im)(col, NP, n, Cg, g, dx + b0 * xbs + gr * Cg * g->H * g->W, xbs);
        }
    }
    st_conv_release(buf);
    return 0;
}

#endif /* ST_CV_T */
