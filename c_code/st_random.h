/* symtensor C runtime: the Philox4x32-10 generator and the random variates of symtensor/tensor/random.
 *
 * Used by symtensor/link/c/kernels_random.py. Every function here reproduces
 * the NumPy code of symtensor/tensor/random (philox.py, transforms.py,
 * bitexact.py) bit for bit: the same words feed the same IEEE operations in
 * the same order. That is why this file
 *   - evaluates log and sin/cos with its own polynomials (libm and NumPy may
 *     differ in the last bit), with the coefficients written as exact hex
 *     doubles identical to bitexact.py;
 *   - turns off floating-point contraction (a fused multiply-add rounds once
 *     where NumPy rounds twice) for everything defined below, and keeps the
 *     arithmetic inside non-inlined entry points so that the setting cannot
 *     be lost by inlining into a caller compiled with contraction on.
 *
 * A random state is 6 uint32 words: the key (2) and the counter (4) of the
 * first block of the draw; see philox.py for the layout and the word order
 * of each variate.
 */
#ifndef ST_RANDOM_H
#define ST_RANDOM_H

#include "st_runtime.h"
#include "st_index.h"

#if defined(__clang__)
#define ST_RNG_EXACT _Pragma("clang fp contract(off)")
#define ST_RNG_API static __attribute__((noinline))
#elif defined(__GNUC__)
#define ST_RNG_EXACT
#define ST_RNG_API static __attribute__((noinline))
#pragma GCC push_options
#pragma GCC optimize("fp-contract=off")
#else
#define ST_RNG_EXACT
#define ST_RNG_API static
#endif

#define ST_RNG_STATE_SIZE 6

typedef struct {
    uint32_t key[2];
    uint32_t ctr[4];   /* position (2 words, low first), substream, lane */
} st_rng;

/* ------------------------------------------------------------------ Philox4x32-10 */

static inline void st_philox4x32_10(const uint32_t in[4], const uint32_t key_in[2], uint32_t out[4])
{
    uint32_t c0 = in[0], c1 = in[1], c2 = in[2], c3 = in[3], k0 = key_in[0], k1 = key_in[1];
    for (int r = 0; r < 10; ++r) {
        if (r) { k0 += 0x9E3779B9u; k1 += 0xBB67AE85u; }
        const uint64_t p0 = (uint64_t)0xD2511F53u * c0, p1 = (uint64_t)0xCD9E8D57u * c2;
        const uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ k0, n2 = (uint32_t)(p0 >> 32) ^ c3 ^ k1;
        c0 = n0; c1 = (uint32_t)p1; c2 = n2; c3 = (uint32_t)p0;
    }
    out[0] = c0; out[1] = c1; out[2] = c2; out[3] = c3;
}

/* Block b (counted from the start of the draw) in the given lane. */
static inline void st_rng_block(const st_rng *g, uint64_t b, uint32_t lane, uint32_t out[4])
{
    const uint64_t pos = (((uint64_t)g->ctr[1] << 32) | g->ctr[0]) + b;
    const uint32_t c[4] = {(uint32_t)pos, (uint32_t)(pos >> 32), g->ctr[2], g->ctr[3] + lane};
    st_philox4x32_10(c, g->key, out);
}

/* Sequential access to the words of a draw: keeps the last block. */
typedef struct {
    const st_rng *g;
    uint32_t lane;
    uint64_t block;
    uint32_t w[4];
} st_rng_reader;

static inline void st_rng_reader_init(st_rng_reader *r, const st_rng *g, uint32_t lane)
{
    r->g = g; r->lane = lane; r->block = UINT64_MAX;
}

static inline uint32_t st_rng_word(st_rng_reader *r, uint64_t i)
{
    const uint64_t b = i >> 2;
    if (b != r->block) { st_rng_block(r->g, b, r->lane, r->w); r->block = b; }
    return r->w[i & 3];
}

static inline uint64_t st_rng_u64(st_rng_reader *r, uint64_t i)  /* words i (low) and i + 1 (high) */
{
    const uint64_t lo = st_rng_word(r, i);
    return ((uint64_t)st_rng_word(r, i + 1) << 32) | lo;
}

/* ------------------------------------------------------------------ state and size in and out */

/* The 6 words of a state array (any strides), checked like philox.check_state. */
static inline int st_rng_read_state(PyArrayObject *a, st_rng *g, const char *opname)
{
    char b1[160];
    if (PyArray_TYPE(a) != NPY_UINT32) {
        PyErr_Format(PyExc_TypeError, "%s: a random state must be a uint32 vector", opname);
        return -1;
    }
    if (PyArray_NDIM(a) != 1 || PyArray_DIM(a, 0) != ST_RNG_STATE_SIZE) {
        PyErr_Format(PyExc_ValueError, "%s: a random state must hold %d uint32 words (key, counter), got shape %s",
                     opname, ST_RNG_STATE_SIZE, st_shape_str(a, b1, sizeof b1));
        return -1;
    }
    uint32_t w[ST_RNG_STATE_SIZE];
    for (int i = 0; i < ST_RNG_STATE_SIZE; ++i) w[i] = *(const uint32_t *)PyArray_GETPTR1(a, i);
    g->key[0] = w[0]; g->key[1] = w[1];
    for (int i = 0; i < 4; ++i) g->ctr[i] = w[2 + i];
    return 0;
}

/* *slot = the state moved past a draw of n_words words (whole blocks). */
static inline int st_rng_write_state(PyObject **slot, const st_rng *g, uint64_t n_words)
{
    npy_intp dim = ST_RNG_STATE_SIZE;
    if (st_prepare_output(slot, 1, &dim, NPY_UINT32) < 0) return -1;
    uint32_t *o = (uint32_t *)PyArray_DATA(ST_ARR(*slot));
    const uint64_t pos = (((uint64_t)g->ctr[1] << 32) | g->ctr[0]) + n_words / 4 + (n_words % 4 != 0);
    o[0] = g->key[0]; o[1] = g->key[1];
    o[2] = (uint32_t)pos; o[3] = (uint32_t)(pos >> 32); o[4] = g->ctr[2]; o[5] = g->ctr[3];
    return 0;
}

/* The nd lengths of a size vector (int64 from make_node), each >= 0. */
static inline int st_rng_read_size(PyArrayObject *size, int nd, npy_intp *dims, const char *opname)
{
    char b1[160];
    for (int d = 0; d < nd; ++d) dims[d] = (npy_intp)st_load_i64(PyArray_GETPTR1(size, d), PyArray_TYPE(size));
    for (int d = 0; d < nd; ++d) {
        if (dims[d] < 0) {
            PyErr_Format(PyExc_ValueError, "%s: the sample size %s has a negative length", opname,
                         st_dims_str(nd, dims, b1, sizeof b1));
            return -1;
        }
    }
    return 0;
}

/* A parameter broadcast to dims as a new C-contiguous array of typenum (NULL with ValueError, like perform's
 * broadcast_param, when it does not broadcast). */
static inline PyArrayObject *st_rng_full_param(PyObject *param, int nd, const npy_intp *dims, int typenum,
                                               const char *opname, const char *name)
{
    PyArrayObject *p = ST_ARR(param);
    char b1[160], b2[160];
    const int pnd = PyArray_NDIM(p), off = nd - pnd;
    int fits = off >= 0;
    for (int k = 0; fits && k < pnd; ++k) fits = PyArray_DIM(p, k) == dims[off + k] || PyArray_DIM(p, k) == 1;
    if (!fits) {
        PyErr_Format(PyExc_ValueError, "%s: %s of shape %s does not broadcast to the sample size %s", opname, name,
                     st_shape_str(p, b1, sizeof b1), st_dims_str(nd, dims, b2, sizeof b2));
        return NULL;
    }
    PyArrayObject *full = (PyArrayObject *)PyArray_EMPTY(nd, (npy_intp *)dims, typenum, 0);
    if (full != NULL && PyArray_CopyInto(full, p) < 0) Py_CLEAR(full);
    return full;
}

/* ------------------------------------------------------------------ portable elementary functions */

static const double st_rng_log_c[11] = {
    0x1.0000000000000p+0, 0x1.5555555555555p-2, 0x1.999999999999ap-3, 0x1.2492492492492p-3,
    0x1.c71c71c71c71cp-4, 0x1.745d1745d1746p-4, 0x1.3b13b13b13b14p-4, 0x1.1111111111111p-4,
    0x1.e1e1e1e1e1e1ep-5, 0x1.af286bca1af28p-5, 0x1.8618618618618p-5};
static const double st_rng_sin_c[9] = {
    0x1.0000000000000p+0, -0x1.5555555555555p-3, 0x1.1111111111111p-7, -0x1.a01a01a01a01ap-13,
    0x1.71de3a556c734p-19, -0x1.ae64567f544e4p-26, 0x1.6124613a86d09p-33, -0x1.ae7f3e733b81fp-41,
    0x1.952c77030ad4ap-49};
static const double st_rng_cos_c[9] = {
    0x1.0000000000000p+0, -0x1.0000000000000p-1, 0x1.5555555555555p-5, -0x1.6c16c16c16c17p-10,
    0x1.a01a01a01a01ap-16, -0x1.27e4fb7789f5cp-22, 0x1.1eed8eff8d898p-29, -0x1.93974a8c07c9dp-37,
    0x1.ae7f3e733b81fp-45};
#define ST_RNG_LN2 0x1.62e42fefa39efp-1
#define ST_RNG_SQRT_HALF 0x1.6a09e667f3bcdp-1
#define ST_RNG_TWO_PI 0x1.921fb54442d18p+2

static inline double st_rng_horner(const double *c, int n, double z)
{
    ST_RNG_EXACT
    double acc = c[n - 1];
    for (int k = n - 2; k >= 0; --k) acc = acc * z + c[k];
    return acc;
}

/* bitexact.log for one positive normal double. */
static inline double st_rng_log(double u)
{
    ST_RNG_EXACT
    int e;
    double m = frexp(u, &e);
    if (m < ST_RNG_SQRT_HALF) { m = m + m; e -= 1; }
    const double f = m - 1.0, s = f / (f + 2.0);
    return (double)e * ST_RNG_LN2 + (s + s) * st_rng_horner(st_rng_log_c, 11, s * s);
}

/* bitexact.cos_sin_2pi for one t in [0, 1]. */
static inline void st_rng_cos_sin_2pi(double t, double *cos_out, double *sin_out)
{
    ST_RNG_EXACT
    const double q = rint(t * 4.0), x = (t - q * 0.25) * ST_RNG_TWO_PI, z = x * x;
    const double s = x * st_rng_horner(st_rng_sin_c, 9, z), c = st_rng_horner(st_rng_cos_c, 9, z);
    switch ((int64_t)q & 3) {
    case 0: *cos_out = c; *sin_out = s; break;
    case 1: *cos_out = -s; *sin_out = c; break;
    case 2: *cos_out = -c; *sin_out = -s; break;
    default: *cos_out = s; *sin_out = -c; break;
    }
}

static inline double st_rng_uniform53(uint64_t r)
{
    return (double)((r >> 12) * 2 + 1) * 0x1p-53;
}

/* ------------------------------------------------------------------ variates (transforms.py) */

ST_RNG_API uint64_t st_rand_uniform_f32(const st_rng *g, npy_intp n, npy_float32 *out)
{
    ST_RNG_EXACT
    st_rng_reader r;
    st_rng_reader_init(&r, g, 0);
    for (npy_intp i = 0; i < n; ++i) {
        const float k = (float)(st_rng_word(&r, (uint64_t)i) >> 9);
        out[i] = (k * 2.0f + 1.0f) * 0x1p-24f;
    }
    return (uint64_t)n;
}

ST_RNG_API uint64_t st_rand_uniform_f64(const st_rng *g, npy_intp n, npy_float64 *out)
{
    ST_RNG_EXACT
    st_rng_reader r;
    st_rng_reader_init(&r, g, 0);
    for (npy_intp i = 0; i < n; ++i) out[i] = st_rng_uniform53(st_rng_u64(&r, 2 * (uint64_t)i));
    return 2 * (uint64_t)n;
}

/* Box-Muller: block m gives elements 2m and 2m + 1; out64 or out32 receives them. */
ST_RNG_API uint64_t st_rand_normal(const st_rng *g, npy_intp n, npy_float64 *out64, npy_float32 *out32)
{
    ST_RNG_EXACT
    const npy_intp pairs = (n + 1) / 2;
    for (npy_intp m = 0; m < pairs; ++m) {
        uint32_t w[4];
        double c, s;
        st_rng_block(g, (uint64_t)m, 0, w);
        const double u1 = st_rng_uniform53(((uint64_t)w[1] << 32) | w[0]);
        const double u2 = st_rng_uniform53(((uint64_t)w[3] << 32) | w[2]);
        const double radius = sqrt(-2.0 * st_rng_log(u1));
        st_rng_cos_sin_2pi(u2, &c, &s);
        const double z[2] = {radius * c, radius * s};
        for (int j = 0; j < 2 && 2 * m + j < n; ++j) {
            if (out64) out64[2 * m + j] = z[j];
            else out32[2 * m + j] = (npy_float32)z[j];
        }
    }
    return 4 * (uint64_t)pairs;
}

/* Binomial counts; element i, trial j reads word i * W + j (W: the largest n). -1 with ValueError on a bad
 * parameter. */
ST_RNG_API int st_rand_binomial(const st_rng *g, npy_intp n, const npy_int64 *trials, const npy_float64 *p,
                                npy_int64 *out, uint64_t *used, const char *opname)
{
    ST_RNG_EXACT
    npy_int64 width = 0, least = 0;
    for (npy_intp i = 0; i < n; ++i) {
        if (trials[i] > width) width = trials[i];
        if (trials[i] < least) least = trials[i];
    }
    if (least < 0) {
        PyErr_Format(PyExc_ValueError, "%s: the number of trials n must be >= 0, got %lld", opname, (long long)least);
        return -1;
    }
    for (npy_intp i = 0; i < n; ++i) {
        if (!(p[i] >= 0 && p[i] <= 1)) {
            PyObject *bad = PyFloat_FromDouble(p[i]);
            if (bad != NULL)
                PyErr_Format(PyExc_ValueError, "%s: the probability p must be in [0, 1], got %R", opname, bad);
            Py_XDECREF(bad);
            return -1;
        }
    }
    st_rng_reader r;
    st_rng_reader_init(&r, g, 0);
    for (npy_intp i = 0; i < n; ++i) {
        npy_int64 hits = 0;
        const uint64_t base = (uint64_t)i * (uint64_t)width;
        for (npy_int64 j = 0; j < trials[i]; ++j) {
            const double u = ((double)st_rng_word(&r, base + (uint64_t)j) * 2.0 + 1.0) * 0x1p-33;
            hits += u < p[i];
        }
        out[i] = hits;
    }
    *used = (uint64_t)n * (uint64_t)width;
    return 0;
}

/* The high and low halves of the 128-bit product a * b (as transforms._mul_hi_lo). */
static inline uint64_t st_rng_mul_hi_lo(uint64_t a, uint64_t b, uint64_t *lo)
{
    const uint64_t m = 0xFFFFFFFFu, a_lo = a & m, a_hi = a >> 32, b_lo = b & m, b_hi = b >> 32;
    const uint64_t ll = a_lo * b_lo, lh = a_lo * b_hi, hl = a_hi * b_lo, hh = a_hi * b_hi;
    const uint64_t mid = (ll >> 32) + (lh & m) + (hl & m);
    *lo = (mid << 32) | (ll & m);
    return hh + (lh >> 32) + (hl >> 32) + (mid >> 32);
}

/* Integers in [low, high] by Lemire's multiply-shift; a rejected element retries in lanes 1, 2, ... */
ST_RNG_API int st_rand_integers(const st_rng *g, npy_intp n, const npy_int64 *low, const npy_int64 *high,
                                npy_int64 *out, const char *opname)
{
    for (npy_intp i = 0; i < n; ++i) {
        if (high[i] < low[i]) {
            PyErr_Format(PyExc_ValueError, "%s: low must be <= high, got low=%lld > high=%lld", opname,
                         (long long)low[i], (long long)high[i]);
            return -1;
        }
    }
    st_rng_reader r;
    st_rng_reader_init(&r, g, 0);
    for (npy_intp i = 0; i < n; ++i) {
        const uint64_t span = (uint64_t)high[i] - (uint64_t)low[i] + 1;
        uint64_t x = st_rng_u64(&r, 2 * (uint64_t)i), offset;
        if (span == 0) {
            offset = x;
        } else {
            const uint64_t threshold = (0 - span) % span;
            for (uint32_t lane = 1;; ++lane) {
                uint64_t lo;
                const uint64_t hi = st_rng_mul_hi_lo(x, span, &lo);
                if (lo >= threshold) { offset = hi; break; }
                uint32_t w[4];
                st_rng_block(g, (uint64_t)i >> 1, lane, w);
                x = ((uint64_t)w[2 * (i & 1) + 1] << 32) | w[2 * (i & 1)];
            }
        }
        out[i] = (npy_int64)((uint64_t)low[i] + offset);
    }
    return 0;
}

typedef struct { uint64_t key; npy_int64 index; } st_rng_keyed;

static int st_rng_keyed_cmp(const void *a, const void *b)
{
    const st_rng_keyed *x = (const st_rng_keyed *)a, *y = (const st_rng_keyed *)b;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return (x->index > y->index) - (x->index < y->index);
}

/* rows permutations of range(n): row r sorts the 64-bit keys of words 2(r n + k), 2(r n + k) + 1. */
ST_RNG_API int st_rand_permutation(const st_rng *g, npy_intp rows, npy_intp n, npy_int64 *out)
{
    st_rng_keyed *tmp = (st_rng_keyed *)PyMem_Malloc((size_t)(n > 0 ? n : 1) * sizeof(st_rng_keyed));
    if (tmp == NULL) { PyErr_NoMemory(); return -1; }
    st_rng_reader r;
    st_rng_reader_init(&r, g, 0);
    for (npy_intp row = 0; row < rows; ++row) {
        for (npy_intp k = 0; k < n; ++k) {
            tmp[k].key = st_rng_u64(&r, 2 * (uint64_t)(row * n + k));
            tmp[k].index = k;
        }
        qsort(tmp, (size_t)n, sizeof(st_rng_keyed), st_rng_keyed_cmp);
        for (npy_intp k = 0; k < n; ++k) out[row * n + k] = tmp[k].index;
    }
    PyMem_Free(tmp);
    return 0;
}

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC pop_options
#endif

#endif /* ST_RANDOM_H */
