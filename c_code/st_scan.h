/* symtensor C runtime: the Scan loop.
 *
 * Used by symtensor/link/c/kernels_scan.py. The loop body is another compiled
 * module (the inner function); the node's data (ST_NODE_DATA) is the tuple
 * (c_api capsule of that module, its state capsule, a Python object whose
 * explain(exc, step) raises the report of a failing inner node). Every step
 * builds read-only views of the sequence rows and of the state rows its taps
 * read, calls the inner module's run() directly, and copies the new values
 * into the output buffers. Layout of inputs and outputs: see
 * symtensor/scan/info.py.
 *
 * A state's buffer holds lag + n rows (the initial rows first), or, when only
 * its last rows are used (store > 0), max(lag, min(store, lag + n)) rows
 * written circularly and put back in time order at the end.
 */
#ifndef ST_SCAN_H
#define ST_SCAN_H

#include "st_runtime.h"
#include "st_state.h"
#include "st_index.h"
#include "st_blas.h"

typedef struct {
    const char *name;              /* the op, for messages */
    int n_seqs, n_states, n_nitsot, n_shared, n_nonseqs, until;
    const int *n_taps;             /* per state */
    const int *taps;               /* every state's taps, concatenated (negative) */
    const npy_intp *store;         /* per state: 0 keeps every row, k > 0 the last k */
    const int *typenum;            /* per state, then per nit-sot output */
    const int *nit_ndim;           /* per nit-sot output: the rank of one step */
    const npy_intp *nit_shape;     /* the nit-sot outputs' static step shapes, concatenated; -1: unknown */
    const int *user_index;         /* per state, then nit-sot output: fn's output number (-1: hidden) */
} st_scan_desc;

/* A view of rows [r, r + n) of a, or of row r without its axis when drop is set. */
static PyObject *st_scan_rows(PyArrayObject *a, npy_intp r, npy_intp n, int drop, int writeable)
{
    int nd = PyArray_NDIM(a);
    npy_intp dims[ST_MAX_NDIM];
    for (int d = 0; d < nd; ++d) dims[d] = PyArray_DIM(a, d);
    dims[0] = n;
    PyArray_Descr *descr = PyArray_DESCR(a);
    Py_INCREF(descr);
    PyObject *v = PyArray_NewFromDescr(&PyArray_Type, descr, drop ? nd - 1 : nd, drop ? dims + 1 : dims,
                                       drop ? PyArray_STRIDES(a) + 1 : PyArray_STRIDES(a),
                                       PyArray_BYTES(a) + r * PyArray_STRIDE(a, 0),
                                       writeable ? NPY_ARRAY_WRITEABLE : 0, NULL);
    if (v == NULL) return NULL;
    Py_INCREF(a);
    if (PyArray_SetBaseObject((PyArrayObject *)v, (PyObject *)a) < 0) { Py_DECREF(v); return NULL; }
    PyArray_UpdateFlags((PyArrayObject *)v, NPY_ARRAY_UPDATE_ALL);
    return v;
}

/* Could a and b share bytes? (overlapping address ranges) */
static int st_scan_overlap(PyArrayObject *a, PyArrayObject *b)
{
    if (PyArray_SIZE(a) == 0 || PyArray_SIZE(b) == 0) return 0;
    char *lo[2], *hi[2];
    PyArrayObject *ab[2] = {a, b};
    for (int k = 0; k < 2; ++k) {
        lo[k] = hi[k] = PyArray_BYTES(ab[k]);
        for (int d = 0; d < PyArray_NDIM(ab[k]); ++d) {
            npy_intp extent = (PyArray_DIM(ab[k], d) - 1) * PyArray_STRIDE(ab[k], d);
            if (extent < 0) lo[k] += extent; else hi[k] += extent;
        }
        hi[k] += PyArray_ITEMSIZE(ab[k]);
    }
    return lo[0] < hi[1] && lo[1] < hi[0];
}

/* Does v have the shape of one row of buf? */
static int st_scan_row_shape(PyArrayObject *buf, PyArrayObject *v)
{
    if (PyArray_NDIM(v) != PyArray_NDIM(buf) - 1) return 0;
    for (int d = 0; d < PyArray_NDIM(v); ++d)
        if (PyArray_DIM(v, d) != PyArray_DIM(buf, d + 1)) return 0;
    return 1;
}

/* buf[r] = v (v has the row's shape). */
static int st_scan_store_row(PyArrayObject *buf, npy_intp r, PyArrayObject *v)
{
    if (PyArray_TYPE(v) == PyArray_TYPE(buf) && PyArray_IS_C_CONTIGUOUS(buf) && PyArray_IS_C_CONTIGUOUS(v)) {
        memmove(PyArray_BYTES(buf) + r * PyArray_STRIDE(buf, 0), PyArray_DATA(v), (size_t)PyArray_NBYTES(v));
        return 0;
    }
    PyObject *row = st_scan_rows(buf, r, 1, 1, 1);
    if (row == NULL) return -1;
    int rc = PyArray_CopyInto((PyArrayObject *)row, v);
    Py_DECREF(row);
    return rc;
}

/* dst rows [d0, d0 + n) = src rows [s0, s0 + n) */
static int st_scan_copy_rows(PyArrayObject *dst, npy_intp d0, PyArrayObject *src, npy_intp s0, npy_intp n)
{
    if (n <= 0) return 0;
    PyObject *a = st_scan_rows(dst, d0, n, 0, 1), *b = st_scan_rows(src, s0, n, 0, 0);
    int rc = (a && b) ? PyArray_CopyInto((PyArrayObject *)a, (PyArrayObject *)b) : -1;
    Py_XDECREF(a);
    Py_XDECREF(b);
    return rc;
}

/* How messages name output k (a state or a nit-sot output). */
static void st_scan_out_name(const st_scan_desc *d, int k, char *buf, size_t size)
{
    const char *kind = k < d->n_states ? "recurrent output" : "output";
    if (d->user_index[k] >= 0) snprintf(buf, size, "%s %d", kind, d->user_index[k]);
    else snprintf(buf, size, "hidden output %d", k);
}

/* An inner node failed at step t: let the Python side raise the inner node's report. */
static void st_scan_explain(PyObject *data, npy_intp t)
{
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (tb != NULL && value != NULL) PyException_SetTraceback(value, tb);
    PyObject *res = PyObject_CallMethod(PyTuple_GET_ITEM(data, 2), "explain", "On", value ? value : Py_None,
                                        (Py_ssize_t)t);
    if (res == NULL) {  /* explain raised the report */
        Py_XDECREF(type); Py_XDECREF(value); Py_XDECREF(tb);
        return;
    }
    Py_DECREF(res);
    PyErr_Restore(type, value, tb);
}

/* Time order: the last rows of a circular buffer that received `total` rows (new reference). */
static PyObject *st_scan_in_order(PyArrayObject *buf, npy_intp total)
{
    npy_intp size = PyArray_DIM(buf, 0);
    if (total < size) return st_scan_rows(buf, 0, total, 0, 1);
    npy_intp start = total % size;
    if (start == 0) { Py_INCREF(buf); return (PyObject *)buf; }
    PyObject *out = PyArray_EMPTY(PyArray_NDIM(buf), PyArray_DIMS(buf), PyArray_TYPE(buf), 0);
    if (out == NULL) return NULL;
    if (st_scan_copy_rows((PyArrayObject *)out, 0, buf, start, size - start) < 0
        || st_scan_copy_rows((PyArrayObject *)out, size - start, buf, 0, start) < 0) {
        Py_DECREF(out);
        return NULL;
    }
    return out;
}

/* Run the loop. in: the node's input values; out: its output slots. */
static int st_scan_run(const st_scan_desc *d, PyObject *data, PyObject *const *in, PyObject **const *out)
{
    const int S = d->n_states, N = d->n_nitsot, H = d->n_shared;
    char b1[160], b2[160], b3[64];
    if (data == NULL || !PyTuple_Check(data) || PyTuple_GET_SIZE(data) != 3) {
        PyErr_Format(PyExc_RuntimeError, "%s: the compiled inner function is missing", d->name);
        return -1;
    }
    const st_c_api_t *api = (const st_c_api_t *)PyCapsule_GetPointer(PyTuple_GET_ITEM(data, 0), "symtensor.st_c_api");
    void *inner = api ? PyCapsule_GetPointer(PyTuple_GET_ITEM(data, 1), "st_state") : NULL;
    if (inner == NULL) return -1;
    int n_tap_in = 0;
    for (int s = 0; s < S; ++s) n_tap_in += d->n_taps[s];
    const int n_views = d->n_seqs + n_tap_in;
    const int n_in = n_views + H + d->n_nonseqs, n_out = S + N + H + d->until;
    if (api->n_in != n_in || api->n_out != n_out) {
        PyErr_Format(PyExc_RuntimeError, "%s: the inner function has %d inputs and %d outputs, expected %d and %d",
                     d->name, api->n_in, api->n_out, n_in, n_out);
        return -1;
    }
    npy_intp n = PyArray_PyIntAsIntp(in[0]);
    if (n == -1 && PyErr_Occurred()) return -1;
    if (n < 0) ST_FAIL(PyExc_ValueError, "%s: the number of steps is negative (%ld)", d->name, (long)n);
    PyObject *const *seqs = in + 1, *const *inits = seqs + d->n_seqs, *const *shared0 = inits + S;
    PyObject *const *nonseqs = shared0 + H;
    for (int q = 0; q < d->n_seqs; ++q) {
        if (!PyArray_Check(seqs[q]) || PyArray_NDIM(ST_ARR(seqs[q])) < 1)
            ST_FAIL(PyExc_TypeError, "%s: sequence %d is not an array with a step axis", d->name, q);
        if (PyArray_DIM(ST_ARR(seqs[q]), 0) < n)
            ST_FAIL(PyExc_ValueError, "%s: sequence %d has %ld steps, fewer than the %ld steps to run", d->name, q,
                    (long)PyArray_DIM(ST_ARR(seqs[q]), 0), (long)n);
    }
    /* one block: args[n_in], res[n_out], bufs[S], nits[N], cur[H]; and lag[S] */
    PyObject **block = (PyObject **)PyMem_Calloc((size_t)(n_in + n_out + S + N + H) + 1, sizeof(PyObject *));
    npy_intp *lag = (npy_intp *)PyMem_Calloc((size_t)S + 1, sizeof(npy_intp));
    if (block == NULL || lag == NULL) { PyMem_Free(block); PyMem_Free(lag); PyErr_NoMemory(); return -1; }
    PyObject **args = block, **res = args + n_in, **bufs = res + n_out, **nits = bufs + S, **cur = nits + N;
    int status = -1, n_views_made = 0;
    npy_intp n_run = n;

    const int *tap = d->taps;
    for (int s = 0; s < S; tap += d->n_taps[s], ++s) {
        lag[s] = 0;
        for (int k = 0; k < d->n_taps[s]; ++k) if (-tap[k] > lag[s]) lag[s] = -tap[k];
        PyArrayObject *init = ST_ARR(inits[s]);
        if (!PyArray_Check(inits[s]) || PyArray_NDIM(init) < 1 || PyArray_DIM(init, 0) < lag[s]) {
            st_scan_out_name(d, s, b3, sizeof b3);
            PyErr_Format(PyExc_ValueError, "%s: the initial value of %s needs %ld rows (one per past step its taps "
                         "read), got %s", d->name, b3, (long)lag[s],
                         PyArray_Check(inits[s]) ? st_shape_str(init, b1, sizeof b1) : "a non-array");
            goto done;
        }
        npy_intp dims[ST_MAX_NDIM];
        for (int k = 0; k < PyArray_NDIM(init); ++k) dims[k] = PyArray_DIM(init, k);
        npy_intp rows = lag[s] + n;
        if (d->store[s] > 0) rows = d->store[s] < rows ? (d->store[s] > lag[s] ? d->store[s] : lag[s]) : rows;
        dims[0] = rows;
        if (st_prepare_output(out[s], PyArray_NDIM(init), dims, d->typenum[s]) < 0) goto done;
        bufs[s] = *out[s];
        if (st_scan_copy_rows(ST_ARR(bufs[s]), 0, init, 0, lag[s]) < 0) goto done;
    }
    for (int j = 0; j < H; ++j) { cur[j] = shared0[j]; Py_INCREF(cur[j]); }

    for (npy_intp t = 0; t < n; ++t) {
        int k = 0;
        for (int q = 0; q < d->n_seqs; ++q, ++k) {
            args[k] = st_scan_rows(ST_ARR(seqs[q]), t, 1, 1, 0);
            if (args[k] == NULL) goto done;
            n_views_made = k + 1;
        }
        tap = d->taps;
        for (int s = 0; s < S; tap += d->n_taps[s], ++s) {
            npy_intp size = PyArray_DIM(ST_ARR(bufs[s]), 0);
            for (int i = 0; i < d->n_taps[s]; ++i, ++k) {
                args[k] = st_scan_rows(ST_ARR(bufs[s]), (lag[s] + t + tap[i]) % size, 1, 1, 0);
                if (args[k] == NULL) goto done;
                n_views_made = k + 1;
            }
        }
        for (int j = 0; j < H; ++j) args[k++] = cur[j];
        for (int j = 0; j < d->n_nonseqs; ++j) args[k++] = nonseqs[j];
        int rc = api->run(inner, args, res);
        for (int v = 0; v < n_views_made; ++v) Py_CLEAR(args[v]);
        n_views_made = 0;
        if (rc < 0) { st_scan_explain(data, t); goto done; }
        for (int o = 0; o < S + N; ++o) {
            if (!PyArray_Check(res[o])) {
                st_scan_out_name(d, o, b3, sizeof b3);
                PyErr_Format(PyExc_TypeError, "%s: %s is not an array at step %ld", d->name, b3, (long)t);
                goto done;
            }
            /* a value viewing a state's rows must be read before any row is overwritten */
            for (int s = 0; s < S; ++s) {
                if (st_scan_overlap(ST_ARR(res[o]), ST_ARR(bufs[s]))) {
                    PyObject *copy = PyArray_NewCopy(ST_ARR(res[o]), NPY_CORDER);
                    if (copy == NULL) goto done;
                    Py_SETREF(res[o], copy);
                    break;
                }
            }
        }
        for (int s = 0; s < S; ++s) {
            PyArrayObject *buf = ST_ARR(bufs[s]), *v = ST_ARR(res[s]);
            if (!st_scan_row_shape(buf, v)) {
                st_scan_out_name(d, s, b3, sizeof b3);
                PyErr_Format(PyExc_ValueError, "%s: %s has shape %s at step %ld, but its initial state has shape %s; "
                             "fn must return values of the initial state's shape", d->name, b3,
                             st_shape_str(v, b1, sizeof b1), (long)t,
                             st_dims_str(PyArray_NDIM(buf) - 1, PyArray_DIMS(buf) + 1, b2, sizeof b2));
                goto done;
            }
            if (st_scan_store_row(buf, (lag[s] + t) % PyArray_DIM(buf, 0), v) < 0) goto done;
        }
        for (int j = 0; j < N; ++j) {
            PyArrayObject *v = ST_ARR(res[S + j]);
            if (t == 0) {
                npy_intp dims[ST_MAX_NDIM];
                dims[0] = n;
                for (int a = 0; a < PyArray_NDIM(v); ++a) dims[a + 1] = PyArray_DIM(v, a);
                if (st_prepare_output(out[S + j], PyArray_NDIM(v) + 1, dims, d->typenum[S + j]) < 0) goto done;
                nits[j] = *out[S + j];
            } else if (!st_scan_row_shape(ST_ARR(nits[j]), v)) {
                st_scan_out_name(d, S + j, b3, sizeof b3);
                PyErr_Format(PyExc_ValueError, "%s: %s has shape %s at step %ld but %s at step 0; every step must "
                             "return the same shape", d->name, b3, st_shape_str(v, b1, sizeof b1), (long)t,
                             st_dims_str(PyArray_NDIM(ST_ARR(nits[j])) - 1, PyArray_DIMS(ST_ARR(nits[j])) + 1,
                                         b2, sizeof b2));
                goto done;
            }
            if (st_scan_store_row(ST_ARR(nits[j]), t, v) < 0) goto done;
        }
        for (int j = 0; j < H; ++j) {
            Py_SETREF(cur[j], res[S + N + j]);
            res[S + N + j] = NULL;
        }
        int stop = 0;
        if (d->until) {
            stop = PyObject_IsTrue(res[n_out - 1]);
            if (stop < 0) goto done;
        }
        for (int o = 0; o < n_out; ++o) Py_CLEAR(res[o]);
        if (stop) { n_run = t + 1; break; }
    }

    for (int s = 0; s < S; ++s) {
        PyObject *ordered = st_scan_in_order(ST_ARR(bufs[s]), lag[s] + n_run);
        if (ordered == NULL) goto done;
        st_set_slot(out[s], ordered);
    }
    for (int j = 0; j < N; ++j) {
        PyObject *v;
        if (nits[j] == NULL) {  /* no step ran: the static step shape, unknown lengths 0 */
            const npy_intp *shape = d->nit_shape;
            for (int i = 0; i < j; ++i) shape += d->nit_ndim[i];
            npy_intp dims[ST_MAX_NDIM];
            dims[0] = 0;
            for (int a = 0; a < d->nit_ndim[j]; ++a) dims[a + 1] = shape[a] < 0 ? 0 : shape[a];
            v = PyArray_ZEROS(d->nit_ndim[j] + 1, dims, d->typenum[S + j], 0);
        } else if (n_run < n) {
            v = st_scan_rows(ST_ARR(nits[j]), 0, n_run, 0, 1);
        } else {
            continue;
        }
        if (v == NULL) goto done;
        st_set_slot(out[S + j], v);
    }
    for (int j = 0; j < H; ++j) {
        st_set_slot(out[S + N + j], cur[j]);
        cur[j] = NULL;
    }
    status = 0;
done:
    for (int v = 0; v < n_views_made; ++v) Py_XDECREF(args[v]);
    for (int o = 0; o < n_out; ++o) Py_XDECREF(res[o]);
    for (int j = 0; j < H; ++j) Py_XDECREF(cur[j]);
    PyMem_Free(block);
    PyMem_Free(lag);
    return status;
}

#endif /* ST_SCAN_H */
