/* The driver of a compiled function: state, the run entry points and the module table.
 *
 * The generated unit defines, before including this header:
 *   ST_NSLOTS, ST_NIN, ST_NOUT           slot count, graph inputs, graph outputs
 *   st_in_slots[ST_NIN], st_out_slots[ST_NOUT]
 *   int st_run_graph(st_state *st)       runs every node; on error sets st->failed, returns -1
 *   void st_clear_transient(st_state *st)
 * and includes st_state.h first. This header adds run(), call() (the checked fast
 * path used by Function.__call__), new_state(), set_call_spec() and friends.
 */
#ifndef ST_DRIVER_H
#define ST_DRIVER_H

/* Run the graph with BLAS on one thread: OpenMP's threads are the graph's only pool (st_gemm splits large
 * products over them). Two pools taking turns on the same cores cost more than either saves: each spins a
 * while after its work, on the cores the other then needs. Without OpenBLAS's thread setter BLAS keeps its
 * own threads and st_gemm does not split. */
static int st_run_nodes(st_state *st)
{
    st_blas_threads_fn set_threads = st_blas_threads();
    const int outer = st_blas_one_thread;
    const int before = set_threads ? set_threads(1) : 0;
    st_blas_one_thread = set_threads != NULL;
    const int rc = st_run_graph(st);
    st_blas_one_thread = outer;
    if (set_threads) set_threads(before);
    return rc;
}

/* ---------------------------------------------------------------- call spec */

static void st_spec_free(st_callspec *sp)
{
    if (sp == NULL) return;
    PyMem_Free(sp->in_typenum); PyMem_Free(sp->in_ndim); PyMem_Free(sp->in_shape);
    for (int k = 0; k < sp->n_shared; ++k) Py_XDECREF(sp->containers[k]);
    PyMem_Free(sp->containers);
    for (int k = 0; k < sp->n_updates; ++k) Py_XDECREF(sp->upd_container[k]);
    PyMem_Free(sp->upd_container); PyMem_Free(sp->upd_result);
    PyMem_Free(sp->borrow); PyMem_Free(sp->inplace_shared);
    PyMem_Free(sp);
}

static void st_state_free(PyObject *capsule)
{
    st_state *st = (st_state *)PyCapsule_GetPointer(capsule, "st_state");
    if (st == NULL) return;
    for (int k = 0; k < ST_NSLOTS; ++k) Py_CLEAR(st->slots[k]);
    Py_CLEAR(st->thunks);
    st_spec_free(st->spec);
    PyMem_Free(st->node_seconds);
    PyMem_Free(st);
}

/* profile(state) starts per-node timing; take_node_times(state) -> list of seconds, reset to 0 */
static PyObject *st_profile(PyObject *self, PyObject *cap)
{
    st_state *st = (st_state *)PyCapsule_GetPointer(cap, "st_state");
    if (st == NULL) return NULL;
    if (st->node_seconds == NULL) {
        st->node_seconds = (double *)PyMem_Calloc(ST_NNODES > 0 ? ST_NNODES : 1, sizeof(double));
        if (st->node_seconds == NULL) return PyErr_NoMemory();
    }
    Py_RETURN_NONE;
}

static PyObject *st_take_node_times(PyObject *self, PyObject *cap)
{
    st_state *st = (st_state *)PyCapsule_GetPointer(cap, "st_state");
    if (st == NULL) return NULL;
    PyObject *out = PyList_New(ST_NNODES);
    for (int k = 0; out && k < ST_NNODES; ++k) {
        PyList_SET_ITEM(out, k, PyFloat_FromDouble(st->node_seconds ? st->node_seconds[k] : 0.0));
        if (st->node_seconds) st->node_seconds[k] = 0.0;
    }
    return out;
}

static st_state *st_get_state(PyObject *capsule)
{
    return (st_state *)PyCapsule_GetPointer(capsule, "st_state");
}

/* new_state(constants: dict slot -> array, thunks: list) -> capsule */
static PyObject *st_new_state(PyObject *self, PyObject *args)
{
    PyObject *constants, *thunks;
    if (!PyArg_ParseTuple(args, "O!O!", &PyDict_Type, &constants, &PyList_Type, &thunks)) return NULL;
    st_state *st = (st_state *)PyMem_Calloc(1, sizeof(st_state));
    if (st == NULL) return PyErr_NoMemory();
    Py_INCREF(thunks);
    st->thunks = thunks;
    st->failed = -1;
    PyObject *cap = PyCapsule_New(st, "st_state", st_state_free);
    if (cap == NULL) { Py_DECREF(thunks); PyMem_Free(st); return NULL; }
    PyObject *key, *value;
    Py_ssize_t pos = 0;
    while (PyDict_Next(constants, &pos, &key, &value)) {
        long k = PyLong_AsLong(key);
        if (k < 0 || k >= ST_NSLOTS) {
            PyErr_SetString(PyExc_IndexError, "constant slot out of range");
            Py_DECREF(cap);
            return NULL;
        }
        Py_INCREF(value);
        Py_XSETREF(st->slots[k], value);
    }
    return cap;
}

static int st_long_list(PyObject *seq, int n, int **out)
{
    *out = (int *)PyMem_Calloc(n > 0 ? n : 1, sizeof(int));
    if (*out == NULL) { PyErr_NoMemory(); return -1; }
    for (int k = 0; k < n; ++k) {
        long v = PyLong_AsLong(PyTuple_GET_ITEM(seq, k));
        if (v == -1 && PyErr_Occurred()) return -1;
        (*out)[k] = (int)v;
    }
    return 0;
}

/* set_call_spec(state, (in_specs, containers, inplace_shared, borrow, updates, single, trust))
 *   in_specs: tuple of (typenum, ndim, shape tuple with -1 for unknown) per user input
 *   containers: tuple of shared-value containers (graph inputs after the user inputs)
 *   inplace_shared: tuple of graph-input positions overwritten in place (copied when aliased)
 *   borrow: tuple of 0/1 per user output; updates: tuple of (container, result index) */
static PyObject *st_set_call_spec(PyObject *self, PyObject *args)
{
    PyObject *cap, *in_specs, *containers, *inplace, *borrow, *updates;
    int single, trust;
    if (!PyArg_ParseTuple(args, "O(O!O!O!O!O!pp)", &cap, &PyTuple_Type, &in_specs, &PyTuple_Type, &containers,
                          &PyTuple_Type, &inplace, &PyTuple_Type, &borrow, &PyTuple_Type, &updates,
                          &single, &trust))
        return NULL;
    st_state *st = st_get_state(cap);
    if (st == NULL) return NULL;
    st_callspec *sp = (st_callspec *)PyMem_Calloc(1, sizeof(st_callspec));
    if (sp == NULL) return PyErr_NoMemory();
    sp->n_in = (int)PyTuple_GET_SIZE(in_specs);
    sp->n_shared = (int)PyTuple_GET_SIZE(containers);
    sp->n_inplace_shared = (int)PyTuple_GET_SIZE(inplace);
    sp->n_user_out = (int)PyTuple_GET_SIZE(borrow);
    sp->n_updates = (int)PyTuple_GET_SIZE(updates);
    sp->single = single;
    sp->trust = trust;
    if (sp->n_in + sp->n_shared != ST_NIN || sp->n_user_out + sp->n_updates != ST_NOUT) {
        PyErr_SetString(PyExc_ValueError, "call spec does not match the compiled graph");
        st_spec_free(sp);
        return NULL;
    }
    sp->in_typenum = (int *)PyMem_Calloc(sp->n_in + 1, sizeof(int));
    sp->in_ndim = (int *)PyMem_Calloc(sp->n_in + 1, sizeof(int));
    sp->in_shape = (npy_intp *)PyMem_Calloc((size_t)(sp->n_in + 1) * ST_MAX_NDIM, sizeof(npy_intp));
    sp->containers = (PyObject **)PyMem_Calloc(sp->n_shared + 1, sizeof(PyObject *));
    sp->upd_container = (PyObject **)PyMem_Calloc(sp->n_updates + 1, sizeof(PyObject *));
    sp->upd_result = (int *)PyMem_Calloc(sp->n_updates + 1, sizeof(int));
    if (!sp->in_typenum || !sp->in_ndim || !sp->in_shape || !sp->containers || !sp->upd_container
        || !sp->upd_result) {
        st_spec_free(sp);
        return PyErr_NoMemory();
    }
    for (int k = 0; k < sp->n_in; ++k) {
        PyObject *spec = PyTuple_GET_ITEM(in_specs, k), *shape;
        if (!PyArg_ParseTuple(spec, "iiO!", &sp->in_typenum[k], &sp->in_ndim[k], &PyTuple_Type, &shape)
            || sp->in_ndim[k] > ST_MAX_NDIM || PyTuple_GET_SIZE(shape) != sp->in_ndim[k]) {
            if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "bad input spec");
            st_spec_free(sp);
            return NULL;
        }
        for (int d = 0; d < sp->in_ndim[k]; ++d)
            sp->in_shape[k * ST_MAX_NDIM + d] = (npy_intp)PyLong_AsLong(PyTuple_GET_ITEM(shape, d));
    }
    for (int k = 0; k < sp->n_shared; ++k) {
        sp->containers[k] = PyTuple_GET_ITEM(containers, k);
        Py_INCREF(sp->containers[k]);
    }
    for (int k = 0; k < sp->n_updates; ++k) {
        PyObject *pair = PyTuple_GET_ITEM(updates, k);
        if (!PyArg_ParseTuple(pair, "Oi", &sp->upd_container[k], &sp->upd_result[k])) {
            sp->upd_container[k] = NULL;
            st_spec_free(sp);
            return NULL;
        }
        Py_INCREF(sp->upd_container[k]);
    }
    if (st_long_list(inplace, sp->n_inplace_shared, &sp->inplace_shared) < 0
        || st_long_list(borrow, sp->n_user_out, &sp->borrow) < 0) {
        st_spec_free(sp);
        return NULL;
    }
    st_spec_free(st->spec);
    st->spec = sp;
    Py_RETURN_NONE;
}

/* ---------------------------------------------------------------- memory overlap */

static inline void st_bounds(PyArrayObject *a, char **lo, char **hi)
{
    char *low = PyArray_BYTES(a), *high = PyArray_BYTES(a);
    for (int d = 0; d < PyArray_NDIM(a); ++d) {
        npy_intp extent = (PyArray_DIM(a, d) - 1) * PyArray_STRIDE(a, d);
        if (extent < 0) low += extent; else high += extent;
    }
    *lo = low;
    *hi = high + PyArray_ITEMSIZE(a);
}

/* May a and b share memory? (conservative: overlapping byte ranges) */
static inline int st_overlap(PyObject *a, PyObject *b)
{
    if (a == b) return 1;
    if (!PyArray_Check(a) || !PyArray_Check(b)) return 0;
    if (PyArray_SIZE((PyArrayObject *)a) == 0 || PyArray_SIZE((PyArrayObject *)b) == 0) return 0;
    char *alo, *ahi, *blo, *bhi;
    st_bounds((PyArrayObject *)a, &alo, &ahi);
    st_bounds((PyArrayObject *)b, &blo, &bhi);
    return alo < bhi && blo < ahi;
}

/* ---------------------------------------------------------------- entry points */

static void st_fill_inputs(st_state *st, PyObject *const *values)
{
    for (int k = 0; k < ST_NIN; ++k) {
        Py_INCREF(values[k]);
        Py_XSETREF(st->slots[st_in_slots[k]], values[k]);
    }
}

/* run(state, *inputs) -> tuple of every graph output (user outputs, then updates) */
static PyObject *st_run(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != ST_NIN + 1) {
        PyErr_Format(PyExc_TypeError, "the compiled graph takes %d input values, got %ld", ST_NIN, (long)nargs - 1);
        return NULL;
    }
    st_state *st = st_get_state(args[0]);
    if (st == NULL) return NULL;
    st->failed = -1;
    st_fill_inputs(st, args + 1);
    if (st_run_nodes(st) < 0) return NULL;
    PyObject *out = PyTuple_New(ST_NOUT);
    if (out == NULL) return NULL;
    for (int k = 0; k < ST_NOUT; ++k) {
        PyObject *v = st->slots[st_out_slots[k]];
        Py_INCREF(v);
        PyTuple_SET_ITEM(out, k, v);
    }
    st_clear_transient(st);
    return out;
}

/* The C entry of st_c_api_t: run() without the argument tuple, for other modules' C code. */
static int st_run_c(void *state, PyObject *const *inputs, PyObject **outputs)
{
    st_state *st = (st_state *)state;
    st->failed = -1;
    st_fill_inputs(st, inputs);
    if (st_run_nodes(st) < 0) return -1;
    for (int k = 0; k < ST_NOUT; ++k) {
        outputs[k] = st->slots[st_out_slots[k]];
        Py_INCREF(outputs[k]);
    }
    st_clear_transient(st);
    return 0;
}

static const st_c_api_t st_c_api_table = {ST_NIN, ST_NOUT, st_run_c};

/* c_api() -> capsule "symtensor.st_c_api" of an st_c_api_t (pass the state capsule's pointer to run) */
static PyObject *st_c_api(PyObject *self, PyObject *unused)
{
    return PyCapsule_New((void *)&st_c_api_table, "symtensor.st_c_api", NULL);
}

/* An argument the fast path accepts as is: an ndarray of exactly the input's type, or a
 * Python float/int for a 0-d float64/int64 input. Anything else goes to the Python path. */
static PyObject *st_accept(st_callspec *sp, int k, PyObject *v)
{
    int ndim = sp->in_ndim[k], typenum = sp->in_typenum[k];
    if (PyArray_CheckExact(v)) {
        PyArrayObject *a = (PyArrayObject *)v;
        if (PyArray_TYPE(a) != typenum || PyArray_NDIM(a) != ndim) return NULL;
        for (int d = 0; d < ndim; ++d) {
            npy_intp want = sp->in_shape[k * ST_MAX_NDIM + d];
            if (want >= 0 && PyArray_DIM(a, d) != want) return NULL;
        }
        Py_INCREF(v);
        return v;
    }
    if (ndim == 0 && typenum == NPY_FLOAT64 && PyFloat_CheckExact(v)) {
        PyObject *a = PyArray_SimpleNew(0, NULL, NPY_FLOAT64);
        if (a != NULL) *(npy_float64 *)PyArray_DATA((PyArrayObject *)a) = PyFloat_AS_DOUBLE(v);
        return a;
    }
    if (ndim == 0 && typenum == NPY_INT64 && PyLong_CheckExact(v)) {
        long long x = PyLong_AsLongLong(v);
        if (x == -1 && PyErr_Occurred()) { PyErr_Clear(); return NULL; }  /* too big: Python path says so */
        PyObject *a = PyArray_SimpleNew(0, NULL, NPY_INT64);
        if (a != NULL) *(npy_int64 *)PyArray_DATA((PyArrayObject *)a) = (npy_int64)x;
        return a;
    }
    return NULL;
}

/* The whole checked call in C, args being the user's arguments. Returns NotImplemented when an
 * argument needs the Python path (conversion, keyword binding, a clear error message). */
static PyObject *st_call_impl(st_state *st, PyObject *const *args, Py_ssize_t nargs)
{
    st_callspec *sp = st->spec;
    st->failed = -1;
    if (sp == NULL || nargs != sp->n_in) Py_RETURN_NOTIMPLEMENTED;
    PyObject *values[ST_NIN > 0 ? ST_NIN : 1];
    int n_filled = 0;
    for (int k = 0; k < sp->n_in; ++k, ++n_filled) {
        PyObject *v = sp->trust ? (Py_INCREF(args[k]), args[k]) : st_accept(sp, k, args[k]);
        if (v == NULL) {
            for (int j = 0; j < n_filled; ++j) Py_DECREF(values[j]);
            if (PyErr_Occurred()) return NULL;
            Py_RETURN_NOTIMPLEMENTED;
        }
        values[k] = v;
    }
    for (int k = 0; k < sp->n_shared; ++k, ++n_filled) {
        PyObject *v = PyObject_GetAttrString(sp->containers[k], "value");
        if (v == NULL) { for (int j = 0; j < n_filled; ++j) Py_DECREF(values[j]); return NULL; }
        values[sp->n_in + k] = v;
    }
    /* a shared array overwritten in place must not also be another argument */
    for (int j = 0; j < sp->n_inplace_shared; ++j) {
        int k = sp->inplace_shared[j];
        for (int i = 0; i < ST_NIN; ++i) {
            if (i != k && st_overlap(values[k], values[i])) {
                PyObject *copy = PyArray_NewCopy((PyArrayObject *)values[k], NPY_CORDER);
                if (copy == NULL) { for (int m = 0; m < ST_NIN; ++m) Py_DECREF(values[m]); return NULL; }
                Py_SETREF(values[k], copy);
                break;
            }
        }
    }
    st->failed = -1;
    st_fill_inputs(st, values);
    int status = st_run_nodes(st);
    if (status < 0) {
        for (int k = 0; k < ST_NIN; ++k) Py_DECREF(values[k]);
        return NULL;   /* Function.__call__ re-raises with the failing node's report */
    }
    PyObject *results[ST_NOUT > 0 ? ST_NOUT : 1];
    for (int k = 0; k < ST_NOUT; ++k) {
        results[k] = st->slots[st_out_slots[k]];
        Py_INCREF(results[k]);
    }
    st_clear_transient(st);
    int ok = 1;
    /* outputs never alias inputs, shared values, constants or earlier outputs unless borrowed */
    for (int k = 0; k < sp->n_user_out && ok; ++k) {
        if (sp->borrow[k] || !PyArray_Check(results[k])) continue;
        int alias = 0;
        for (int i = 0; i < ST_NIN && !alias; ++i) alias = st_overlap(results[k], values[i]);
        for (int s = 0; s < ST_NSLOTS && !alias; ++s)
            alias = st_is_constant_slot(s) && st->slots[s] && st_overlap(results[k], st->slots[s]);
        for (int j = 0; j < k && !alias; ++j) alias = st_overlap(results[k], results[j]);
        if (alias) {
            PyObject *copy = PyArray_NewCopy((PyArrayObject *)results[k], NPY_CORDER);
            if (copy == NULL) ok = 0; else Py_SETREF(results[k], copy);
        }
    }
    /* new shared values: a private buffer each (its own old value may be reused) */
    for (int u = 0; u < sp->n_updates && ok; ++u) {
        int r = sp->upd_result[u];
        PyObject *v = results[r];
        if (!PyArray_Check(v)) continue;
        PyObject *old = PyObject_GetAttrString(sp->upd_container[u], "value");
        if (old == NULL) { ok = 0; break; }
        int alias = 0;
        for (int i = 0; i < ST_NIN && !alias; ++i) alias = values[i] != old && st_overlap(v, values[i]);
        for (int j = 0; j < ST_NOUT && !alias; ++j) alias = j != r && (j < sp->n_user_out || j < r)
                                                               && st_overlap(v, results[j]);
        Py_DECREF(old);
        if (alias) {
            PyObject *copy = PyArray_NewCopy((PyArrayObject *)v, NPY_CORDER);
            if (copy == NULL) ok = 0; else Py_SETREF(results[r], copy);
        }
    }
    for (int u = 0; u < sp->n_updates && ok; ++u)
        if (PyObject_SetAttrString(sp->upd_container[u], "value", results[sp->upd_result[u]]) < 0) ok = 0;
    for (int k = 0; k < ST_NIN; ++k) Py_DECREF(values[k]);
    PyObject *ret = NULL;
    if (ok) {
        if (sp->single) {
            ret = results[0];
            Py_INCREF(ret);
        } else {
            ret = PyList_New(sp->n_user_out);
            for (int k = 0; ret && k < sp->n_user_out; ++k) { Py_INCREF(results[k]); PyList_SET_ITEM(ret, k, results[k]); }
        }
    }
    for (int k = 0; k < ST_NOUT; ++k) Py_DECREF(results[k]);
    return ret;
}

/* call(state, *args): st_call_impl for Python callers that hold the state. */
static PyObject *st_call(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    st_state *st = nargs > 0 ? st_get_state(args[0]) : NULL;
    if (st == NULL) return NULL;
    return st_call_impl(st, args + 1, nargs - 1);
}

/* Call method `name` of the Function behind an entry (held weakly: the Function holds the entry). */
static PyObject *st_owner_method(PyObject *owner_ref, const char *name, PyObject *const *args, size_t nargsf,
                                 PyObject *kwnames)
{
    PyObject *owner = PyObject_CallNoArgs(owner_ref);
    if (owner == NULL || owner == Py_None) {
        Py_XDECREF(owner);
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_ReferenceError, "the compiled function is gone");
        return NULL;
    }
    PyObject *method = PyObject_GetAttrString(owner, name);
    Py_DECREF(owner);
    if (method == NULL) return NULL;
    PyObject *res = PyObject_Vectorcall(method, args, nargsf, kwnames);
    Py_DECREF(method);
    return res;
}

/* A Function's __call__ (self is the tuple (state, weakref to the Function)): the fast path in C,
 * with no Python frame. Keywords and arguments that need converting go to Function._call_python;
 * a node failure goes to Function._node_failed, which raises the report naming the node (else the
 * original error is re-raised). */
static PyObject *st_entry(PyObject *self, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    st_state *st = st_get_state(PyTuple_GET_ITEM(self, 0));
    PyObject *owner_ref = PyTuple_GET_ITEM(self, 1);
    if (st == NULL) return NULL;
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    if (kwnames != NULL && PyTuple_GET_SIZE(kwnames) > 0)
        return st_owner_method(owner_ref, "_call_python", args, nargsf, kwnames);
    PyObject *res = st_call_impl(st, args, nargs);
    if (res == Py_NotImplemented) {
        Py_DECREF(res);
        return st_owner_method(owner_ref, "_call_python", args, nargsf, NULL);
    }
    if (res == NULL && st->failed >= 0) {
        PyObject *type, *value, *tb;
        PyErr_Fetch(&type, &value, &tb);
        PyErr_NormalizeException(&type, &value, &tb);
        if (tb != NULL && value != NULL) PyException_SetTraceback(value, tb);
        PyObject *arg = value ? value : Py_None;
        PyObject *ok = st_owner_method(owner_ref, "_node_failed", &arg, 1, NULL);
        if (ok == NULL) {  /* the report, raised from the original error */
            Py_XDECREF(type); Py_XDECREF(value); Py_XDECREF(tb);
            return NULL;
        }
        Py_DECREF(ok);
        PyErr_Restore(type, value, tb);
    }
    return res;
}

static PyMethodDef st_entry_def = {"compiled_call", (PyCFunction)(void (*)(void))st_entry,
                                   METH_FASTCALL | METH_KEYWORDS, "the compiled function's call"};

/* entry(state, owner_weakref) -> a callable doing the whole call (a Function's __call__). */
static PyObject *st_make_entry(PyObject *self, PyObject *args)
{
    PyObject *cap, *owner_ref;
    if (!PyArg_ParseTuple(args, "OO", &cap, &owner_ref)) return NULL;
    if (st_get_state(cap) == NULL) return NULL;
    PyObject *bound = PyTuple_Pack(2, cap, owner_ref);
    if (bound == NULL) return NULL;
    PyObject *fn = PyCFunction_New(&st_entry_def, bound);
    Py_DECREF(bound);
    return fn;
}

static PyObject *st_failed_node(PyObject *self, PyObject *cap)
{
    st_state *st = st_get_state(cap);
    return st ? PyLong_FromLong(st->failed) : NULL;
}

static PyObject *st_get_slot(PyObject *self, PyObject *args)
{
    PyObject *cap;
    long k;
    if (!PyArg_ParseTuple(args, "Ol", &cap, &k)) return NULL;
    st_state *st = st_get_state(cap);
    if (st == NULL) return NULL;
    if (k < 0 || k >= ST_NSLOTS) { PyErr_SetString(PyExc_IndexError, "slot out of range"); return NULL; }
    PyObject *v = st->slots[k] ? st->slots[k] : Py_None;
    Py_INCREF(v);
    return v;
}

static PyObject *st_clear(PyObject *self, PyObject *cap)
{
    st_state *st = st_get_state(cap);
    if (st == NULL) return NULL;
    st_clear_transient(st);
    for (int k = 0; k < ST_NIN; ++k) Py_CLEAR(st->slots[st_in_slots[k]]);
    Py_RETURN_NONE;
}

static PyMethodDef st_methods[] = {
    {"run", (PyCFunction)(void (*)(void))st_run, METH_FASTCALL, "run(state, *inputs) -> every graph output"},
    {"call", (PyCFunction)(void (*)(void))st_call, METH_FASTCALL, "call(state, *args): the checked fast path"},
    {"c_api", st_c_api, METH_NOARGS, "capsule of the C entry other modules' C code calls"},
    {"entry", st_make_entry, METH_VARARGS, "entry(state, owner_weakref) -> the Function's __call__"},
    {"new_state", st_new_state, METH_VARARGS, "new_state(constants, thunks) -> state"},
    {"set_call_spec", st_set_call_spec, METH_VARARGS, "set_call_spec(state, spec)"},
    {"failed_node", st_failed_node, METH_O, "position of the node that failed, or -1"},
    {"get_slot", st_get_slot, METH_VARARGS, "get_slot(state, k) -> value"},
    {"clear", st_clear, METH_O, "drop the per-call slots"},
    {"profile", st_profile, METH_O, "time every node from now on"},
    {"take_node_times", st_take_node_times, METH_O, "seconds per node since the last take"},
    {NULL, NULL, 0, NULL},
};

#endif /* ST_DRIVER_H */
