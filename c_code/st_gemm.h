/* symtensor C runtime: a small packed matrix product for kernels that thread themselves.
 *
 * Used by c_code/st_conv.h. The convolution kernels split their work over OpenMP threads once per
 * call and run every matrix product of a thread on that thread. SciPy's BLAS cannot be used there:
 * its own thread pool serializes callers from several threads, and alternating between its pool
 * and OpenMP's (each spins a while after its work) costs more than the product on a small machine.
 *
 * C (m x n, row stride ldc) = A (m x k) . B (k x n) [+ C]. The operands are first copied whole into
 * zero-padded panels (the layout of BLIS / GotoBLAS: st_gemm_pack_a_all / st_gemm_pack_b_all read any
 * strides, so a transposition is a choice of strides, and a caller may also write the panels itself),
 * then a register-blocked micro-kernel of ST_GEMM_MR rows by two SIMD vectors multiplies them. Packing
 * whole operands lets a caller pack a matrix shared by many products (the filters) once per call; a
 * convolution may instead have one operand's elements gathered from an image by the micro-kernel itself
 * (st_gemm_micro_gather), which saves writing and re-reading its window matrix. GCC /
 * Clang vector extensions keep the kernel portable (with -march=native the vectors are AVX). Packed B
 * buffers must be 64-byte aligned.
 *
 * The per-dtype functions are instantiated for float32 (_f32) and float64 (_f64) by including this
 * header again with ST_GM_T defined.
 */
#ifndef ST_GM_T /* ------------------------------------------------------------ the dtype-free part */
#ifndef ST_GEMM_H
#define ST_GEMM_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#define ST_GEMM_MR 6
#define ST_GEMM_KC 256
#define ST_GEMM_MC 72
/* SIMD width: AVX registers where the compiler targets them, else 16 bytes (SSE2, NEON); vectors wider than
 * the target's registers would be split into slow scalar code */
#if defined(__AVX__)
#define ST_GEMM_VBYTES 32
#else
#define ST_GEMM_VBYTES 16
#endif

#define ST_GM_T float
#define ST_GM(name) name##_f32
#include "st_gemm.h"
#undef ST_GM_T
#undef ST_GM

#define ST_GM_T double
#define ST_GM(name) name##_f64
#include "st_gemm.h"
#undef ST_GM_T
#undef ST_GM

#endif /* ST_GEMM_H */
#else /* ------------------------------------------------------------ per-dtype part (ST_GM_T defined) */

typedef ST_GM_T ST_GM(st_gemm_vec) __attribute__((vector_size(ST_GEMM_VBYTES)));
#define ST_GM_V ST_GM(st_gemm_vec)
#define ST_GM_W ((npy_intp)(ST_GEMM_VBYTES / sizeof(ST_GM_T)))
#define ST_GM_NR (2 * ST_GM_W)

/* MR x NR tile of C (+)= the product of an A panel (kc x MR, MR contiguous) and a B panel (kc x NR). Only the
 * first mr rows and nr columns of the tile exist in C. */
static inline void ST_GM(st_gemm_micro)(npy_intp kc, const ST_GM_T *restrict a, const ST_GM_T *restrict b,
                                        ST_GM_T *restrict c, npy_intp ldc, int accumulate, npy_intp mr, npy_intp nr)
{
    ST_GM_V acc[ST_GEMM_MR][2];
    for (int i = 0; i < ST_GEMM_MR; ++i) acc[i][0] = acc[i][1] = (ST_GM_V){0};
    for (npy_intp p = 0; p < kc; ++p) {
        const ST_GM_V b0 = *(const ST_GM_V *)(b + p * ST_GM_NR), b1 = *(const ST_GM_V *)(b + p * ST_GM_NR + ST_GM_W);
        const ST_GM_T *ap = a + p * ST_GEMM_MR;
        for (int i = 0; i < ST_GEMM_MR; ++i) {
            acc[i][0] += ap[i] * b0;
            acc[i][1] += ap[i] * b1;
        }
    }
    if (mr == ST_GEMM_MR && nr == ST_GM_NR) {
        for (int i = 0; i < ST_GEMM_MR; ++i) {
            ST_GM_T *ci = c + i * ldc;
            ST_GM_V c0 = acc[i][0], c1 = acc[i][1];
            if (accumulate) {
                ST_GM_V o0, o1;
                memcpy(&o0, ci, sizeof o0);
                memcpy(&o1, ci + ST_GM_W, sizeof o1);
                c0 += o0;
                c1 += o1;
            }
            memcpy(ci, &c0, sizeof c0);
            memcpy(ci + ST_GM_W, &c1, sizeof c1);
        }
        return;
    }
    ST_GM_T tile[ST_GEMM_MR][ST_GM_NR] __attribute__((aligned(64)));
    memcpy(tile, acc, sizeof tile);
    for (npy_intp i = 0; i < mr; ++i)
        for (npy_intp j = 0; j < nr; ++j) c[i * ldc + j] = accumulate ? c[i * ldc + j] + tile[i][j] : tile[i][j];
}

/* Copy rows [0, mc) x columns [0, kc) of A into MR-row panels, each kc x MR (zero rows past mc). */
static void ST_GM(st_gemm_pack_a)(npy_intp mc, npy_intp kc, const ST_GM_T *a, npy_intp rsa, npy_intp csa,
                                  ST_GM_T *restrict dst)
{
    for (npy_intp ir = 0; ir < mc; ir += ST_GEMM_MR) {
        const npy_intp rows = mc - ir < ST_GEMM_MR ? mc - ir : ST_GEMM_MR;
        if (rows == ST_GEMM_MR) {  /* a whole panel: a fixed-size inner loop the compiler unrolls */
            for (npy_intp p = 0; p < kc; ++p)
                for (int i = 0; i < ST_GEMM_MR; ++i) dst[p * ST_GEMM_MR + i] = a[(ir + i) * rsa + p * csa];
        } else {
            for (npy_intp p = 0; p < kc; ++p) {
                npy_intp i = 0;
                for (; i < rows; ++i) dst[p * ST_GEMM_MR + i] = a[(ir + i) * rsa + p * csa];
                for (; i < ST_GEMM_MR; ++i) dst[p * ST_GEMM_MR + i] = 0;
            }
        }
        dst += ST_GEMM_MR * kc;
    }
}

/* Copy rows [0, kc) x columns [0, nc) of B into NR-column panels, each kc x NR (zero columns past nc). */
static void ST_GM(st_gemm_pack_b)(npy_intp kc, npy_intp nc, const ST_GM_T *b, npy_intp rsb, npy_intp csb,
                                  ST_GM_T *restrict dst)
{
    for (npy_intp jr = 0; jr < nc; jr += ST_GM_NR) {
        const npy_intp cols = nc - jr < ST_GM_NR ? nc - jr : ST_GM_NR;
        if (csb == 1 && cols == ST_GM_NR) {
            for (npy_intp p = 0; p < kc; ++p) memcpy(dst + p * ST_GM_NR, b + p * rsb + jr, ST_GM_NR * sizeof(ST_GM_T));
        } else if (rsb == 1) {  /* B stored transposed: walk each column down */
            for (npy_intp j = 0; j < ST_GM_NR; ++j) {
                if (j < cols) {
                    const ST_GM_T *col = b + (jr + j) * csb;
                    for (npy_intp p = 0; p < kc; ++p) dst[p * ST_GM_NR + j] = col[p];
                } else {
                    for (npy_intp p = 0; p < kc; ++p) dst[p * ST_GM_NR + j] = 0;
                }
            }
        } else {
            for (npy_intp p = 0; p < kc; ++p) {
                npy_intp j = 0;
                for (; j < cols; ++j) dst[p * ST_GM_NR + j] = b[p * rsb + (jr + j) * csb];
                for (; j < ST_GM_NR; ++j) dst[p * ST_GM_NR + j] = 0;
            }
        }
        dst += ST_GM_NR * kc;
    }
}

/* Elements of A (m x k) packed whole by st_gemm_pack_a_all, and of B (k x n) by st_gemm_pack_b_all. */
static inline npy_intp ST_GM(st_gemm_a_size)(npy_intp m, npy_intp k)
{
    return (m + ST_GEMM_MR - 1) / ST_GEMM_MR * ST_GEMM_MR * k;
}

static inline npy_intp ST_GM(st_gemm_b_size)(npy_intp k, npy_intp n)
{
    return k * ((n + ST_GM_NR - 1) / ST_GM_NR * ST_GM_NR);
}

/* All of A as st_gemm_packed reads it: for each block of ST_GEMM_KC columns (at pc * mpad), MR-row panels of
 * kc x MR. A block of MC rows at row ic of that block starts at ic * kc. */
static void ST_GM(st_gemm_pack_a_all)(npy_intp m, npy_intp k, const ST_GM_T *a, npy_intp rsa, npy_intp csa,
                                      ST_GM_T *dst)
{
    const npy_intp mpad = (m + ST_GEMM_MR - 1) / ST_GEMM_MR * ST_GEMM_MR;
    for (npy_intp pc = 0; pc < k; pc += ST_GEMM_KC)
        ST_GM(st_gemm_pack_a)(m, k - pc < ST_GEMM_KC ? k - pc : ST_GEMM_KC, a + pc * csa, rsa, csa, dst + pc * mpad);
}

/* All of B as st_gemm_packed reads it: for each block of ST_GEMM_KC rows (at pc * npad), NR-column panels of
 * kc x NR; the panel of column jr starts at jr * kc within its block. */
static void ST_GM(st_gemm_pack_b_all)(npy_intp k, npy_intp n, const ST_GM_T *b, npy_intp rsb, npy_intp csb,
                                      ST_GM_T *dst)
{
    const npy_intp npad = (n + ST_GM_NR - 1) / ST_GM_NR * ST_GM_NR;
    for (npy_intp pc = 0; pc < k; pc += ST_GEMM_KC)
        ST_GM(st_gemm_pack_b)(k - pc < ST_GEMM_KC ? k - pc : ST_GEMM_KC, n, b + pc * rsb, rsb, csb, dst + pc * npad);
}

/* C (m x n, row stride ldc) = A . B (accumulate = 0) or C += A . B, where A is rows [r0, r0 + m) of a matrix of
 * `rows` rows packed whole (pa; r0 a multiple of ST_GEMM_MR) and B is packed whole (pb), on the calling thread.
 * Blocks of MC rows of A stay in cache while the B panels of a block of kc rows stream by. */
static void ST_GM(st_gemm_packed_rows)(npy_intp r0, npy_intp m, npy_intp rows, npy_intp n, npy_intp k,
                                       const ST_GM_T *pa, const ST_GM_T *pb, ST_GM_T *c, npy_intp ldc, int accumulate)
{
    if (m <= 0 || n <= 0) return;
    if (k <= 0) {
        if (!accumulate)
            for (npy_intp i = 0; i < m; ++i) memset(c + i * ldc, 0, (size_t)n * sizeof(ST_GM_T));
        return;
    }
    const npy_intp mpad = (rows + ST_GEMM_MR - 1) / ST_GEMM_MR * ST_GEMM_MR;
    const npy_intp npad = (n + ST_GM_NR - 1) / ST_GM_NR * ST_GM_NR;
    for (npy_intp pc = 0; pc < k; pc += ST_GEMM_KC) {
        const npy_intp kc = k - pc < ST_GEMM_KC ? k - pc : ST_GEMM_KC;
        const int acc = accumulate || pc > 0;
        const ST_GM_T *pak = pa + pc * mpad + r0 * kc, *pbk = pb + pc * npad;
        for (npy_intp ic = 0; ic < m; ic += ST_GEMM_MC) {
            const npy_intp mc = m - ic < ST_GEMM_MC ? m - ic : ST_GEMM_MC;
            for (npy_intp jr = 0; jr < n; jr += ST_GM_NR) {
                const npy_intp nr = n - jr < ST_GM_NR ? n - jr : ST_GM_NR;
                for (npy_intp ir = 0; ir < mc; ir += ST_GEMM_MR) {
                    const npy_intp mr = mc - ir < ST_GEMM_MR ? mc - ir : ST_GEMM_MR;
                    ST_GM(st_gemm_micro)(kc, pak + (ic + ir) * kc, pbk + jr * kc, c + (ic + ir) * ldc + jr, ldc, acc,
                                         mr, nr);
                }
            }
        }
    }
}

/* C (m x n, row stride ldc) = A . B (accumulate = 0) or C += A . B, from A and B packed whole (pa, pb). */
static inline void ST_GM(st_gemm_packed)(npy_intp m, npy_intp n, npy_intp k, const ST_GM_T *pa, const ST_GM_T *pb,
                                         ST_GM_T *c, npy_intp ldc, int accumulate)
{
    ST_GM(st_gemm_packed_rows)(0, m, m, n, k, pa, pb, c, ldc, accumulate);
}

/* Half a B panel row (one vector) read at any element alignment: B rows read in place. */
typedef ST_GM_T ST_GM(st_gemm_uvec) __attribute__((vector_size(ST_GEMM_VBYTES), aligned(sizeof(ST_GM_T)), may_alias));

/* The MR x NR tile A . B with both operands read through strides: element i of A's column p at a[i ai + p ap],
 * row p of the B panel (NR elements, contiguous) at b + p bp. Packed panels are (ai, ap) = (1, MR), bp = NR;
 * a matrix read in place is (its row stride, 1) for A, its row stride for B. */
static inline void ST_GM(st_gemm_micro_strided)(npy_intp kc, const ST_GM_T *restrict a, npy_intp ai, npy_intp ap,
                                                const ST_GM_T *restrict b, npy_intp bp,
                                                ST_GM_T tile[ST_GEMM_MR][ST_GM_NR])
{
    ST_GM_V acc[ST_GEMM_MR][2];
    for (int i = 0; i < ST_GEMM_MR; ++i) acc[i][0] = acc[i][1] = (ST_GM_V){0};
    for (npy_intp p = 0; p < kc; ++p) {
        const ST_GM(st_gemm_uvec) *bv = (const ST_GM(st_gemm_uvec) *)(b + p * bp);
        const ST_GM_V b0 = bv[0], b1 = bv[1];
        const ST_GM_T *ac = a + p * ap;
        for (int i = 0; i < ST_GEMM_MR; ++i) {
            acc[i][0] += ac[i * ai] * b0;
            acc[i][1] += ac[i * ai] * b1;
        }
    }
    memcpy(tile, acc, sizeof(acc));
}

/* Store (accumulate: add) lanes [0, n) of one tile row half to c. */
static inline void ST_GM(st_gemm_store_half)(ST_GM_T *c, ST_GM_V v, int n, int accumulate)
{
    if (n == ST_GM_W) {
        if (accumulate) {
            ST_GM_V o;
            memcpy(&o, c, sizeof o);
            v += o;
        }
        memcpy(c, &v, sizeof v);
        return;
    }
    ST_GM_T lanes[ST_GM_W];
    memcpy(lanes, &v, sizeof lanes);
    for (int l = 0; l < n; ++l) c[l] = accumulate ? c[l] + lanes[l] : lanes[l];
}

/* The MR x NR tile of a product whose A is gathered in place (an implicit-GEMM convolution, st_conv.h):
 * A[i][p] = row[i][idx[p]], where row[i] is the image at one output pixel's window (forward pass; idx: the
 * taps' offsets) or at one tap's offset (weight gradient; idx: the pixels' windows). C (+)= A (mr rows, kc
 * columns) . B panel (kc x NR, packed: the filters, or d out transposed). Only the
 * first mr rows and nr columns of the tile exist in C, at c[i ldc + j] (c[j ldc + i] when transposed); row[i] for
 * i >= mr must still be readable. */
static inline void ST_GM(st_gemm_micro_gather)(npy_intp kc, const ST_GM_T *const *row, const npy_intp *restrict idx,
                                               const ST_GM_T *restrict b, ST_GM_T *c, npy_intp ldc, int accumulate,
                                               npy_intp mr, npy_intp nr, int transposed)
{
    _Static_assert(ST_GEMM_MR == 6, "st_gemm_micro_gather reads six rows");
    const ST_GM_T *r0 = row[0], *r1 = row[1], *r2 = row[2], *r3 = row[3], *r4 = row[4], *r5 = row[5];
    ST_GM_V acc[ST_GEMM_MR][2];
    for (int i = 0; i < ST_GEMM_MR; ++i) acc[i][0] = acc[i][1] = (ST_GM_V){0};
    for (npy_intp p = 0; p < kc; ++p) {
        const npy_intp q = idx[p];
        const ST_GM_V b0 = *(const ST_GM_V *)(b + p * ST_GM_NR), b1 = *(const ST_GM_V *)(b + p * ST_GM_NR + ST_GM_W);
        const ST_GM_T a[ST_GEMM_MR] = {r0[q], r1[q], r2[q], r3[q], r4[q], r5[q]};
        for (int i = 0; i < ST_GEMM_MR; ++i) {
            acc[i][0] += a[i] * b0;
            acc[i][1] += a[i] * b1;
        }
    }
    if (transposed) {  /* element (i, j) of the tile at c[j ldc + i] */
        ST_GM_T tile[ST_GEMM_MR][ST_GM_NR];
        memcpy(tile, acc, sizeof tile);
        for (npy_intp jj = 0; jj < nr; ++jj)
            for (npy_intp i = 0; i < mr; ++i)
                c[jj * ldc + i] = accumulate ? c[jj * ldc + i] + tile[i][jj] : tile[i][jj];
        return;
    }
    for (npy_intp i = 0; i < mr; ++i) {
        ST_GM(st_gemm_store_half)(c + i * ldc, acc[i][0], nr < ST_GM_W ? (int)nr : (int)ST_GM_W, accumulate);
        if (nr > ST_GM_W) ST_GM(st_gemm_store_half)(c + i * ldc + ST_GM_W, acc[i][1], (int)(nr - ST_GM_W), accumulate);
    }
}

/* C (m x n, element (i, j) at c[i rsc + j csc]) = alpha A . B + beta C (beta 0: C is not read), for a product
 * with few rows (a recurrent step: h . U), reading its large operand in place: BLAS would copy (pack) all of it
 * on every call, which costs more than the multiply when m is a few dozen. A (m x k) is read in place when its
 * rows are contiguous (csa == 1), B (k x n) when its rows are (csb == 1); at least one must be, and the other
 * is packed whole (it is the small one). Panels of the in-place operand are split over `threads` OpenMP
 * threads. Returns -1 when memory cannot be had. */
static int ST_GM(st_gemm_small)(npy_intp m, npy_intp n, npy_intp k, double alpha, const ST_GM_T *a, npy_intp rsa,
                                npy_intp csa, const ST_GM_T *b, npy_intp rsb, npy_intp csb, double beta, ST_GM_T *c,
                                npy_intp rsc, npy_intp csc, int threads)
{
    const int b_direct = csb == 1;  /* else A is read in place (csa == 1) */
    const npy_intp mpan = (m + ST_GEMM_MR - 1) / ST_GEMM_MR, npan = (n + ST_GM_NR - 1) / ST_GM_NR;
    /* the packed operand (whole), then one partial panel per thread for the in-place operand's last panel */
    const npy_intp packed = b_direct ? mpan * ST_GEMM_MR * k : npan * ST_GM_NR * k;
    const npy_intp edge = (b_direct ? ST_GM_NR : ST_GEMM_MR) * k;
    if (threads < 1) threads = 1;
    ST_GM_T *buf = (ST_GM_T *)malloc((size_t)(packed + threads * edge + ST_GM_NR) * sizeof(ST_GM_T));
    if (buf == NULL) return -1;
    if (b_direct) ST_GM(st_gemm_pack_a)(m, k, a, rsa, csa, buf);
    else ST_GM(st_gemm_pack_b)(k, n, b, rsb, csb, buf);
    const npy_intp outer = b_direct ? npan : mpan, inner = b_direct ? mpan : npan;
    #pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1)
    for (npy_intp o = 0; o < outer; ++o) {
        int t = 0;
#ifdef _OPENMP
        t = omp_get_thread_num();
#endif
        ST_GM_T *own = buf + packed + t * edge;
        ST_GM_T tile[ST_GEMM_MR][ST_GM_NR] __attribute__((aligned(64)));
        /* the in-place operand's panel o: read in place when whole, else packed into the thread's buffer */
        const npy_intp r0 = b_direct ? 0 : o * ST_GEMM_MR, c0 = b_direct ? o * ST_GM_NR : 0;
        const npy_intp len = b_direct ? (n - c0 < ST_GM_NR ? n - c0 : ST_GM_NR) : (m - r0 < ST_GEMM_MR ? m - r0 : ST_GEMM_MR);
        const ST_GM_T *direct;
        npy_intp dstride;
        if (b_direct && len == ST_GM_NR) { direct = b + c0; dstride = rsb; }
        else if (b_direct) { ST_GM(st_gemm_pack_b)(k, len, b + c0, rsb, csb, own); direct = own; dstride = ST_GM_NR; }
        else if (len == ST_GEMM_MR) { direct = a + r0 * rsa; dstride = rsa; }
        else { ST_GM(st_gemm_pack_a)(len, k, a + r0 * rsa, rsa, csa, own); direct = own; dstride = 0; }
        for (npy_intp q = 0; q < inner; ++q) {
            const npy_intp i0 = b_direct ? q * ST_GEMM_MR : r0, j0 = b_direct ? c0 : q * ST_GM_NR;
            const npy_intp mr = m - i0 < ST_GEMM_MR ? m - i0 : ST_GEMM_MR, nr = n - j0 < ST_GM_NR ? n - j0 : ST_GM_NR;
            if (b_direct)
                ST_GM(st_gemm_micro_strided)(k, buf + q * ST_GEMM_MR * k, 1, ST_GEMM_MR, direct, dstride, tile);
            else if (dstride)
                ST_GM(st_gemm_micro_strided)(k, direct, dstride, 1, buf + q * ST_GM_NR * k, ST_GM_NR, tile);
            else
                ST_GM(st_gemm_micro_strided)(k, direct, 1, ST_GEMM_MR, buf + q * ST_GM_NR * k, ST_GM_NR, tile);
            for (npy_intp i = 0; i < mr; ++i)
                for (npy_intp j = 0; j < nr; ++j) {
                    ST_GM_T *cij = c + (i0 + i) * rsc + (j0 + j) * csc;
                    *cij = (ST_GM_T)alpha * tile[i][j] + (beta != 0 ? (ST_GM_T)beta * *cij : (ST_GM_T)0);
                }
        }
    }
    free(buf);
    return 0;
}

#undef ST_GM_V
#undef ST_GM_W
#undef ST_GM_NR

#endif /* ST_GM_T */
