/* symtensor C runtime: the index spaces of loops over strided operands (elementwise ops, reductions;
 * symtensor/link/c/kernels.py). Adjacent axes that are contiguous in every operand merge into one, so that
 * the inner loop runs as long as memory allows and a broadcast operand is read once per run. */
#ifndef ST_LOOPS_H
#define ST_LOOPS_H

#include "st_runtime.h"
#ifdef _OPENMP
#include <omp.h>
#endif

/* Merges the nd axes of a reduction's index space into as few as memory allows: adjacent axes that are both
 * reduced (ostr 0) or both kept, and contiguous in each of the nin inputs (byte strides s[k]) and in the
 * accumulator (element strides ostr), become one; length-1 axes are dropped. Fills lengths rd, accumulator
 * strides ro and input strides r[k] of the merged axes and returns their count, at least 1 (a single axis
 * of length 1 when nothing is left). (0, 2, 3) of a C-contiguous 4-d input becomes a (reduced, kept,
 * reduced) walk whose inner run is H * W long. */
static inline int st_reduce_merge_axes(int nd, const npy_intp *dims, const npy_intp *ostr, int nin,
                                       npy_intp (*s)[ST_MAX_NDIM], npy_intp *rd, npy_intp *ro,
                                       npy_intp (*r)[ST_MAX_NDIM])
{
    int m = 0;
    for (int d = 0; d < nd; ++d) {
        if (dims[d] == 1) continue;
        int merge = m > 0 && (ro[m - 1] == 0) == (ostr[d] == 0) && ro[m - 1] == ostr[d] * dims[d];
        for (int k = 0; merge && k < nin; ++k) merge = r[k][m - 1] == s[k][d] * dims[d];
        if (merge) {
            rd[m - 1] *= dims[d];
            ro[m - 1] = ostr[d];
            for (int k = 0; k < nin; ++k) r[k][m - 1] = s[k][d];
            continue;
        }
        rd[m] = dims[d];
        ro[m] = ostr[d];
        for (int k = 0; k < nin; ++k) r[k][m] = s[k][d];
        ++m;
    }
    if (m == 0) {
        rd[0] = 1;
        ro[0] = 0;
        for (int k = 0; k < nin; ++k) r[k][0] = 0;
        m = 1;
    }
    return m;
}

/* The index space of an elementwise loop: the nd axes of the output shape `dims` over narr operands arr[k],
 * merged as st_reduce_merge_axes does. An operand's stride is 0 on an axis where its length is 1 (it is
 * broadcast). `s` is scratch of narr rows. Fills the merged lengths ld, the byte strides ls[k] and each
 * operand's start base[k]; returns the number of merged axes (at least 1). */
static inline int st_elemwise_axes(int nd, const npy_intp *dims, int narr, PyArrayObject *const *arr,
                                   npy_intp (*s)[ST_MAX_NDIM], npy_intp *ld, npy_intp (*ls)[ST_MAX_NDIM], char **base)
{
    npy_intp whole[ST_MAX_NDIM], unused[ST_MAX_NDIM], run = 1;
    for (int d = nd - 1; d >= 0; --d) {  /* the output's own walk, C order: it never stops a merge */
        whole[d] = run;
        run *= dims[d];
    }
    for (int k = 0; k < narr; ++k) {
        base[k] = PyArray_BYTES(arr[k]);
        for (int d = 0; d < nd; ++d) s[k][d] = PyArray_DIM(arr[k], d) == 1 ? 0 : PyArray_STRIDE(arr[k], d);
    }
    return st_reduce_merge_axes(nd, dims, whole, narr, s, ld, unused, ls);
}

/* An elementwise loop's merged index space and how it is cut into work items (runs along the inner axis):
 * filled by st_elemwise_axes and st_elemwise_plan, read by the node's loop function. */
typedef struct {
    int m;                          /* merged axes */
    npy_intp ld[ST_MAX_NDIM];       /* their lengths */
    npy_intp (*ls)[ST_MAX_NDIM];    /* the operands' byte strides on them */
    char **base;                    /* the operands' starts */
    npy_intp inner, blk, per, items;  /* inner length, run length, runs per row, runs in all */
    int unit;                       /* every operand's inner stride is what the vectorized loop assumes */
} st_elemwise_space;

/* Runs of whole rows while there are enough rows to share among threads, else rows cut into about 16 pieces
 * of at least 4096 elements. */
static inline void st_elemwise_plan(st_elemwise_space *sp, npy_intp n)
{
    const npy_intp inner = sp->ld[sp->m - 1], outer = n / inner;
    npy_intp blk = inner;
    if (outer < 16) {
        blk = (inner + 15) / 16;
        blk = blk < 4096 ? 4096 : (blk + 63) / 64 * 64;
        blk = blk < inner ? blk : inner;
    }
    sp->inner = inner;
    sp->blk = blk;
    sp->per = (inner + blk - 1) / blk;
    sp->items = outer * sp->per;
}

/* The calling thread's share [*lo, *hi) of `items` inside a parallel region (all of them outside one). */
static inline void st_elemwise_share(npy_intp items, npy_intp *lo, npy_intp *hi)
{
#ifdef _OPENMP
    const npy_intp t = omp_get_thread_num(), nt = omp_get_num_threads();
#else
    const npy_intp t = 0, nt = 1;
#endif
    *lo = items * t / nt;
    *hi = items * (t + 1) / nt;
}

/* base[k] + the byte offset, in operand k, of the start of merged row `row` (over the m - 1 outer axes). */
static inline void st_elemwise_row(int m, const npy_intp *ld, int narr, npy_intp (*ls)[ST_MAX_NDIM],
                                   char *const *base, npy_intp row, char **at)
{
    for (int k = 0; k < narr; ++k) at[k] = base[k];
    for (int d = m - 2; d >= 0 && row > 0; --d) {
        const npy_intp i = row % ld[d];
        row /= ld[d];
        for (int k = 0; k < narr; ++k) at[k] += i * ls[k][d];
    }
}

#endif /* ST_LOOPS_H */
