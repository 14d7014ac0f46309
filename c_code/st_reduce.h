/* symtensor C runtime: the index space of a reduction (CAReduce, FusedReduce; symtensor/link/c/kernels.py). */
#ifndef ST_REDUCE_H
#define ST_REDUCE_H

#include "st_runtime.h"

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

#endif /* ST_REDUCE_H */
