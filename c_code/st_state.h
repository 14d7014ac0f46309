/* Per-function state of a compiled module: one slot per graph variable, the Python
 * callbacks for nodes without C, and the call spec of the checked fast path.
 * The generated unit defines ST_NSLOTS before including this header. */
#ifndef ST_STATE_H
#define ST_STATE_H

typedef struct {
    int n_in, n_shared, n_user_out, n_updates, n_inplace_shared;
    int single, trust;
    int *in_typenum, *in_ndim;
    npy_intp *in_shape;            /* n_in x ST_MAX_NDIM, -1 where the length is free */
    PyObject **containers;         /* shared-value containers, in graph-input order */
    int *inplace_shared;           /* graph-input positions overwritten in place */
    int *borrow;                   /* per user output */
    PyObject **upd_container;      /* per update: the container to write ... */
    int *upd_result;               /* ... and which graph output holds the new value */
} st_callspec;

typedef struct {
    PyObject *slots[ST_NSLOTS];
    PyObject *thunks;
    int failed;
    st_callspec *spec;
    double *node_seconds;          /* per-node time accumulated when profiling, else NULL */
} st_state;

/* What a compiled module offers other modules' C code (its c_api() capsule, named "symtensor.st_c_api"):
 * run(state, inputs, outputs) runs the whole graph on ST_NIN borrowed inputs and stores ST_NOUT new
 * references in outputs; -1 with a Python error when a node fails. A Scan's loop calls its inner
 * function this way at every step, without going through Python. */
typedef struct {
    int n_in, n_out;
    int (*run)(void *state, PyObject *const *inputs, PyObject **outputs);
} st_c_api_t;

#include <time.h>

static inline double st_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Run node k, timing it when the state profiles. */
#define ST_RUN_NODE(st, k, fn) do {                                              \
        double st_t0_ = (st)->node_seconds ? st_now() : 0.0;                      \
        if (fn(st) < 0) { (st)->failed = (k); return -1; }                       \
        if ((st)->node_seconds) (st)->node_seconds[k] += st_now() - st_t0_;      \
    } while (0)

#endif /* ST_STATE_H */
