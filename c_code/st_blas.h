/* BLAS through the function pointers SciPy exports (scipy.linalg.cython_blas):
 * no system BLAS and no -lblas. st_blas_load() fills the table once per module. */
#ifndef ST_BLAS_H
#define ST_BLAS_H

#include <dlfcn.h>
#include "st_runtime.h"
#include "st_gemm.h"
#ifdef _OPENMP
#include <omp.h>
#endif

/* multiply-adds from which st_gemm splits a product over the OpenMP threads */
#define ST_BLAS_SPLIT_WORK ((double)(1 << 21))

/* Set while a graph runs with BLAS on one thread (st_run_nodes in st_driver.h). */
static int st_blas_one_thread = 0;

typedef void (*st_gemm_d)(char *, char *, int *, int *, int *, double *, double *, int *, double *, int *,
                          double *, double *, int *);
typedef void (*st_gemm_s)(char *, char *, int *, int *, int *, float *, float *, int *, float *, int *,
                          float *, float *, int *);
typedef void (*st_gemv_d)(char *, int *, int *, double *, double *, int *, double *, int *, double *, double *,
                          int *);
typedef void (*st_gemv_s)(char *, int *, int *, float *, float *, int *, float *, int *, float *, float *, int *);
typedef double (*st_dot_d)(int *, double *, int *, double *, int *);
typedef float (*st_dot_s)(int *, float *, int *, float *, int *);
typedef void (*st_ger_d)(int *, int *, double *, double *, int *, double *, int *, double *, int *);
typedef void (*st_ger_s)(int *, int *, float *, float *, int *, float *, int *, float *, int *);

static struct {
    st_gemm_d dgemm; st_gemm_s sgemm; st_gemv_d dgemv; st_gemv_s sgemv;
    st_dot_d ddot; st_dot_s sdot; st_ger_d dger; st_ger_s sger;
    int loaded;
} st_blas;

static void *st_blas_pointer(PyObject *table, const char *name)
{
    PyObject *capsule = PyDict_GetItemString(table, name);  /* borrowed */
    if (capsule == NULL) {
        PyErr_Format(PyExc_ImportError, "scipy.linalg.cython_blas has no %s", name);
        return NULL;
    }
    return PyCapsule_GetPointer(capsule, PyCapsule_GetName(capsule));
}

static int st_blas_load(void)
{
    if (st_blas.loaded) return 0;
    PyObject *mod = PyImport_ImportModule("scipy.linalg.cython_blas");
    if (mod == NULL) return -1;
    PyObject *table = PyObject_GetAttrString(mod, "__pyx_capi__");
    Py_DECREF(mod);
    if (table == NULL) return -1;
    int ok = (st_blas.dgemm = (st_gemm_d)st_blas_pointer(table, "dgemm")) != NULL
          && (st_blas.sgemm = (st_gemm_s)st_blas_pointer(table, "sgemm")) != NULL
          && (st_blas.dgemv = (st_gemv_d)st_blas_pointer(table, "dgemv")) != NULL
          && (st_blas.sgemv = (st_gemv_s)st_blas_pointer(table, "sgemv")) != NULL
          && (st_blas.ddot = (st_dot_d)st_blas_pointer(table, "ddot")) != NULL
          && (st_blas.sdot = (st_dot_s)st_blas_pointer(table, "sdot")) != NULL
          && (st_blas.dger = (st_ger_d)st_blas_pointer(table, "dger")) != NULL
          && (st_blas.sger = (st_ger_s)st_blas_pointer(table, "sger")) != NULL;
    Py_DECREF(table);
    if (!ok) return -1;
    st_blas.loaded = 1;
    return 0;
}

typedef int (*st_blas_threads_fn)(int);

/* OpenBLAS's thread-count setter that returns the previous count (openblas_set_num_threads_local,
 * OpenBLAS >= 0.3.27), looked up beside the BLAS this table uses; NULL when that BLAS has none.
 * Its pthreads builds apply it to the whole process: callers hold the GIL and restore the count. */
static st_blas_threads_fn st_blas_threads(void)
{
    static int looked = 0;
    static st_blas_threads_fn fn = NULL;
    if (looked) return fn;
    looked = 1;
    if (st_blas_load() < 0) { PyErr_Clear(); return NULL; }
    Dl_info info;
    if (dladdr((void *)st_blas.sgemm, &info) && info.dli_fname != NULL) {
        void *lib = dlopen(info.dli_fname, RTLD_LAZY | RTLD_NOLOAD);  /* searched with its dependencies */
        if (lib != NULL) {
            fn = (st_blas_threads_fn)dlsym(lib, "openblas_set_num_threads_local");
            dlclose(lib);
        }
    }
    return fn;
}

/* A 2-d operand as BLAS sees it: a column-major matrix, possibly transposed.
 * Row-major (C-contiguous) x of shape (r, c) is the column-major x^T. Returns a
 * new reference to a usable array (a copy only when the strides fit neither). */
static PyArrayObject *st_blas_operand(PyArrayObject *x, char *trans, int *ld)
{
    npy_intp item = PyArray_ITEMSIZE(x);
    npy_intp s0 = PyArray_STRIDE(x, 0), s1 = PyArray_STRIDE(x, 1);
    npy_intp r = PyArray_DIM(x, 0), c = PyArray_DIM(x, 1);
    if ((s1 == item || c == 1) && s0 % item == 0 && s0 / item >= (c > 1 ? c : 1) && s0 > 0) {
        *trans = 'N'; *ld = (int)(s0 / item); Py_INCREF(x); return x;   /* row-major: BLAS sees x^T */
    }
    if ((s0 == item || r == 1) && s1 % item == 0 && s1 / item >= (r > 1 ? r : 1) && s1 > 0) {
        *trans = 'T'; *ld = (int)(s1 / item); Py_INCREF(x); return x;   /* column-major */
    }
    PyArrayObject *copy = (PyArrayObject *)PyArray_NewCopy(x, NPY_CORDER);
    if (copy == NULL) return NULL;
    *trans = 'N'; *ld = (int)(c > 1 ? c : 1);
    return copy;
}

/* out (m, n), C-contiguous, = alpha * a (m, k) . b (k, n) + beta * out. */
static int st_gemm(PyArrayObject *a, PyArrayObject *b, PyArrayObject *out, double alpha, double beta)
{
    int m = (int)PyArray_DIM(a, 0), k = (int)PyArray_DIM(a, 1), n = (int)PyArray_DIM(b, 1);
    if (m == 0 || n == 0) return 0;
    if (k == 0) {
        if (beta == 0) memset(PyArray_DATA(out), 0, (size_t)PyArray_NBYTES(out));
        return 0;
    }
    char ta, tb; int lda, ldb, ldc = n;
    PyArrayObject *A = st_blas_operand(a, &ta, &lda);
    if (A == NULL) return -1;
    PyArrayObject *B = st_blas_operand(b, &tb, &ldb);
    if (B == NULL) { Py_DECREF(A); return -1; }
    const int f64 = PyArray_TYPE(out) == NPY_FLOAT64;
    const size_t item = f64 ? sizeof(double) : sizeof(float);
    char *pa = PyArray_BYTES(A), *pb = PyArray_BYTES(B), *pc = PyArray_BYTES(out);
    int threads = 1;
#ifdef _OPENMP
    if (st_blas_one_thread && (double)m * (double)n * (double)k >= ST_BLAS_SPLIT_WORK) threads = omp_get_max_threads();
#endif
#ifdef ST_GEMM_FEW_ROWS
    /* ST_GEMM_FEW_ROWS: rows up to which a product with a much longer second operand skips BLAS. codegen
     * defines it (symtensor/link/c/kernels_blas.py FEW_ROWS) only for graphs that have such a product, since
     * st_gemm_small costs gcc time in every module that compiles it. */
    if (m <= ST_GEMM_FEW_ROWS && n >= 4 * m && k >= 16) {
        /* few rows times a long operand (a recurrent step's h . U): read it in place, as B (row-major) or, for a
         * column-major B, as the A of C^T = B^T A^T */
        const npy_intp rsa = ta == 'N' ? lda : 1, csa = ta == 'N' ? 1 : lda;
        int rc;
        if (f64)
            rc = tb == 'N' ? st_gemm_small_f64(m, n, k, alpha, (double *)pa, rsa, csa, (double *)pb, ldb, 1, beta,
                                               (double *)pc, n, 1, threads)
                           : st_gemm_small_f64(n, m, k, alpha, (double *)pb, ldb, 1, (double *)pa, csa, rsa, beta,
                                               (double *)pc, 1, n, threads);
        else
            rc = tb == 'N' ? st_gemm_small_f32(m, n, k, alpha, (float *)pa, rsa, csa, (float *)pb, ldb, 1, beta,
                                               (float *)pc, n, 1, threads)
                           : st_gemm_small_f32(n, m, k, alpha, (float *)pb, ldb, 1, (float *)pa, csa, rsa, beta,
                                               (float *)pc, 1, n, threads);
        Py_DECREF(A); Py_DECREF(B);
        if (rc < 0) PyErr_NoMemory();
        return rc;
    }
#endif
    /* Large products are cut into one slab of C per OpenMP thread, each computed by a single-threaded BLAS
     * call (the graph runs BLAS on one thread: st_run_nodes). Slabs are rows of C, or columns when C is
     * wide; each is at least 8 long. */
    int parts = threads;
    const int by_rows = m >= n, len = by_rows ? m : n;
    if (parts > len / 8) parts = len / 8 > 1 ? len / 8 : 1;
    #pragma omp parallel for num_threads(parts) schedule(static) if (parts > 1)
    for (int p = 0; p < parts; ++p) {
        const int lo = (int)((long)len * p / parts), hi = (int)((long)len * (p + 1) / parts);
        int mm = by_rows ? hi - lo : m, nn = by_rows ? n : hi - lo;
        /* row i of a: row-major (ta 'N') at i * lda, column-major at i; column j of b: row-major at j,
         * column-major (tb 'T') at j * ldb */
        char *a0 = pa + (by_rows ? (size_t)lo * (ta == 'N' ? (size_t)lda : 1) * item : 0);
        char *b0 = pb + (by_rows ? 0 : (size_t)lo * (tb == 'N' ? 1 : (size_t)ldb) * item);
        char *c0 = pc + (by_rows ? (size_t)lo * (size_t)ldc : (size_t)lo) * item;
        /* row-major C = A B  <=>  column-major C^T = B^T A^T */
        if (f64) {
            double al = alpha, be = beta;
            st_blas.dgemm(&tb, &ta, &nn, &mm, &k, &al, (double *)b0, &ldb, (double *)a0, &lda, &be, (double *)c0,
                          &ldc);
        } else {
            float al = (float)alpha, be = (float)beta;
            st_blas.sgemm(&tb, &ta, &nn, &mm, &k, &al, (float *)b0, &ldb, (float *)a0, &lda, &be, (float *)c0, &ldc);
        }
    }
    Py_DECREF(A); Py_DECREF(B);
    return 0;
}

/* A vector as BLAS reads it: a positive element stride (inc), else a contiguous copy. New reference. */
static PyArrayObject *st_blas_vector(PyArrayObject *v, int *inc)
{
    npy_intp item = PyArray_ITEMSIZE(v), s = PyArray_STRIDE(v, 0);
    if (PyArray_DIM(v, 0) <= 1) { *inc = 1; Py_INCREF(v); return v; }
    if (s > 0 && s % item == 0 && s / item <= INT_MAX) { *inc = (int)(s / item); Py_INCREF(v); return v; }
    PyArrayObject *copy = (PyArrayObject *)PyArray_NewCopy(v, NPY_CORDER);
    if (copy == NULL) return NULL;
    *inc = 1;
    return copy;
}

/* Both vectors of a product as BLAS reads them (new references), or -1 with neither. */
static int st_blas_vectors(PyArrayObject *x, PyArrayObject *y, PyArrayObject **X, int *incx, PyArrayObject **Y,
                           int *incy)
{
    *X = st_blas_vector(x, incx);
    if (*X == NULL) return -1;
    *Y = st_blas_vector(y, incy);
    if (*Y == NULL) { Py_CLEAR(*X); return -1; }
    return 0;
}

/* y *= beta (y = 0 when beta is 0, whatever y held) for a strided float vector. */
static void st_blas_scale(PyArrayObject *y, double beta)
{
    npy_intp n = PyArray_DIM(y, 0), s = PyArray_STRIDE(y, 0);
    char *p = PyArray_BYTES(y);
    int f64 = PyArray_TYPE(y) == NPY_FLOAT64;
    for (npy_intp i = 0; i < n; ++i, p += s) {
        if (f64) *(double *)p = beta == 0 ? 0.0 : beta * *(double *)p;
        else *(float *)p = beta == 0 ? 0.0f : (float)beta * *(float *)p;
    }
}

/* y = alpha * op(a) . x + beta * y, op(a) = a (trans_a = 0) or a^T (1); y is any 1-d float array of
 * the right length (written through a contiguous temporary when BLAS cannot address it). */
static int st_gemv(PyArrayObject *a, int trans_a, PyArrayObject *x, PyArrayObject *y, double alpha, double beta)
{
    npy_intp rows = PyArray_DIM(a, trans_a ? 1 : 0), inner = PyArray_DIM(a, trans_a ? 0 : 1);
    if (rows == 0) return 0;
    if (inner == 0) { st_blas_scale(y, beta); return 0; }  /* BLAS would return without scaling y */
    char ta; int lda, incx, incy;
    PyArrayObject *A = st_blas_operand(a, &ta, &lda);
    if (A == NULL) return -1;
    PyArrayObject *X, *Y;
    if (st_blas_vectors(x, y, &X, &incx, &Y, &incy) < 0) { Py_DECREF(A); return -1; }
    /* BLAS sees a column-major matrix: a^T (cols x rows) when ta is 'N', else a itself */
    int bm = (int)(ta == 'N' ? PyArray_DIM(a, 1) : PyArray_DIM(a, 0));
    int bn = (int)(ta == 'N' ? PyArray_DIM(a, 0) : PyArray_DIM(a, 1));
    char op = ((ta == 'N') != (trans_a != 0)) ? 'T' : 'N';
    if (PyArray_TYPE(y) == NPY_FLOAT64) {
        double al = alpha, be = beta;
        st_blas.dgemv(&op, &bm, &bn, &al, (double *)PyArray_DATA(A), &lda, (double *)PyArray_DATA(X), &incx, &be,
                      (double *)PyArray_DATA(Y), &incy);
    } else {
        float al = (float)alpha, be = (float)beta;
        st_blas.sgemv(&op, &bm, &bn, &al, (float *)PyArray_DATA(A), &lda, (float *)PyArray_DATA(X), &incx, &be,
                      (float *)PyArray_DATA(Y), &incy);
    }
    int rc = (Y != y) ? PyArray_CopyInto(y, Y) : 0;
    Py_DECREF(A); Py_DECREF(X); Py_DECREF(Y);
    return rc;
}

/* a += alpha * outer(x, y) in place, for any 2-d float a (through a copy when BLAS cannot address it). */
static int st_ger(PyArrayObject *a, double alpha, PyArrayObject *x, PyArrayObject *y)
{
    int m = (int)PyArray_DIM(a, 0), n = (int)PyArray_DIM(a, 1);
    if (m == 0 || n == 0 || alpha == 0) return 0;
    char ta; int lda, incx, incy;
    PyArrayObject *A = st_blas_operand(a, &ta, &lda);
    if (A == NULL) return -1;
    PyArrayObject *X, *Y;
    if (st_blas_vectors(x, y, &X, &incx, &Y, &incy) < 0) { Py_DECREF(A); return -1; }
    /* row-major a is the column-major a^T: a^T += alpha * outer(y, x) */
    PyArrayObject *U = ta == 'N' ? Y : X, *V = ta == 'N' ? X : Y;
    int bm = ta == 'N' ? n : m, bn = ta == 'N' ? m : n, incu = ta == 'N' ? incy : incx, incv = ta == 'N' ? incx : incy;
    if (PyArray_TYPE(a) == NPY_FLOAT64) {
        double al = alpha;
        st_blas.dger(&bm, &bn, &al, (double *)PyArray_DATA(U), &incu, (double *)PyArray_DATA(V), &incv,
                     (double *)PyArray_DATA(A), &lda);
    } else {
        float al = (float)alpha;
        st_blas.sger(&bm, &bn, &al, (float *)PyArray_DATA(U), &incu, (float *)PyArray_DATA(V), &incv,
                     (float *)PyArray_DATA(A), &lda);
    }
    int rc = (A != a) ? PyArray_CopyInto(a, A) : 0;
    Py_DECREF(A); Py_DECREF(X); Py_DECREF(Y);
    return rc;
}

/* out (0-d) = x . y for float vectors of one length. */
static int st_blas_dot(PyArrayObject *x, PyArrayObject *y, PyArrayObject *out)
{
    int n = (int)PyArray_DIM(x, 0), incx, incy;
    PyArrayObject *X, *Y;
    if (st_blas_vectors(x, y, &X, &incx, &Y, &incy) < 0) return -1;
    if (PyArray_TYPE(out) == NPY_FLOAT64)
        *(double *)PyArray_DATA(out) = n ? st_blas.ddot(&n, (double *)PyArray_DATA(X), &incx,
                                                        (double *)PyArray_DATA(Y), &incy) : 0.0;
    else
        *(float *)PyArray_DATA(out) = n ? st_blas.sdot(&n, (float *)PyArray_DATA(X), &incx,
                                                       (float *)PyArray_DATA(Y), &incy) : 0.0f;
    Py_DECREF(X); Py_DECREF(Y);
    return 0;
}

/* The 2-d view a[i] of a 3-d array (a new reference). */
static PyArrayObject *st_blas_item(PyArrayObject *a, npy_intp i)
{
    PyArray_Descr *descr = PyArray_DESCR(a);
    Py_INCREF(descr);
    PyObject *view = PyArray_NewFromDescr(&PyArray_Type, descr, 2, PyArray_DIMS(a) + 1, PyArray_STRIDES(a) + 1,
                                          PyArray_BYTES(a) + i * PyArray_STRIDE(a, 0), 0, NULL);
    if (view == NULL) return NULL;
    Py_INCREF(a);
    if (PyArray_SetBaseObject((PyArrayObject *)view, (PyObject *)a) < 0) { Py_DECREF(view); return NULL; }
    return (PyArrayObject *)view;
}

/* out[i] = a[i] . b[i] for 3-d float arrays; out is C-contiguous of shape (batch, m, n). */
static int st_batched_gemm(PyArrayObject *a, PyArrayObject *b, PyArrayObject *out)
{
    for (npy_intp i = 0; i < PyArray_DIM(a, 0); ++i) {
        PyArrayObject *ai = st_blas_item(a, i), *bi = ai ? st_blas_item(b, i) : NULL;
        PyArrayObject *oi = bi ? st_blas_item(out, i) : NULL;
        int rc = oi ? st_gemm(ai, bi, oi, 1.0, 0.0) : -1;
        Py_XDECREF(ai); Py_XDECREF(bi); Py_XDECREF(oi);
        if (rc < 0) return -1;
    }
    return 0;
}

#endif /* ST_BLAS_H */
