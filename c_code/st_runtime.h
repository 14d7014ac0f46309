/* symtensor C runtime: what every generated module includes.
 *
 * A compiled function is one CPython extension module. Its driver keeps one
 * slot (a PyObject*) per variable of the graph and runs the node kernels in
 * order; kernels read their inputs from slots and put their outputs in slots.
 * Output buffers stay in their slots between calls and are reused when the
 * shape and dtype match and nobody else holds them (the memory plan).
 */
#ifndef ST_RUNTIME_H
#define ST_RUNTIME_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#include <numpy/arrayobject.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#define ST_MAX_NDIM 32

/* An array slot as a PyArrayObject (NULL when empty). */
#define ST_ARR(slot) ((PyArrayObject *)(slot))

/* for (npy_intp var = 0; var < count; ++var) { ... } on OpenMP threads only when `big`: entering an
 * OpenMP region costs about half a microsecond even when an if() clause keeps it serial, which is more
 * than the whole work of a small node. */
#define ST_FOR_ROWS(var, count, big, ...) do {                                         \
        if (big) {                                                                     \
            _Pragma("omp parallel for")                                                \
            for (npy_intp var = 0; var < (count); ++var) __VA_ARGS__                  \
        } else {                                                                       \
            for (npy_intp var = 0; var < (count); ++var) __VA_ARGS__                  \
        }                                                                              \
    } while (0)

/* Report an error from a kernel: sets a Python exception and returns -1. */
#define ST_FAIL(exc, ...) do { PyErr_Format(exc, __VA_ARGS__); return -1; } while (0)

/* Make *slot an array of the given shape and dtype, reusing its buffer when possible.
 * Reuse needs: same dtype and shape, C-contiguous, writeable, owned only by the slot. */
static inline int st_prepare_output(PyObject **slot, int ndim, const npy_intp *dims, int typenum)
{
    PyArrayObject *old = ST_ARR(*slot);
    if (old != NULL && Py_REFCNT(old) == 1 && PyArray_NDIM(old) == ndim && PyArray_TYPE(old) == typenum
        && PyArray_IS_C_CONTIGUOUS(old) && PyArray_ISWRITEABLE(old)
        && PyArray_BASE(old) == NULL) {
        int same = 1;
        for (int d = 0; d < ndim; ++d) {
            if (PyArray_DIMS(old)[d] != dims[d]) { same = 0; break; }
        }
        if (same) return 0;
    }
    PyObject *fresh = PyArray_EMPTY(ndim, (npy_intp *)dims, typenum, 0);
    if (fresh == NULL) return -1;
    Py_XSETREF(*slot, fresh);
    return 0;
}

/* Put a new reference in a slot (dropping what it held). */
static inline void st_set_slot(PyObject **slot, PyObject *value)
{
    Py_XSETREF(*slot, value);
}

/* Python's floor division and modulo for integers (C truncates toward zero). */
static inline int64_t st_floordiv_i64(int64_t a, int64_t b)
{
    if (b == 0) return 0;
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) q -= 1;
    return q;
}

static inline int64_t st_mod_i64(int64_t a, int64_t b)
{
    if (b == 0) return 0;
    int64_t r = a % b;
    if (r != 0 && ((r < 0) != (b < 0))) r += b;
    return r;
}

static inline double st_mod_f64(double a, double b)
{
    double r = fmod(a, b);
    if (r != 0 && ((r < 0) != (b < 0))) r += b;
    return r;
}

static inline int64_t st_pow_i64(int64_t base, int64_t exp)
{
    if (exp < 0) return (base == 1) ? 1 : (base == -1 ? ((exp & 1) ? -1 : 1) : 0);
    int64_t result = 1;
    while (exp) {
        if (exp & 1) result *= base;
        base *= base;
        exp >>= 1;
    }
    return result;
}

/* log(1 + exp(x)) without overflow. */
static inline double st_softplus(double x)
{
    if (x > 30.0) return x;
    if (x < -30.0) return exp(x);
    return log1p(exp(x));
}

static inline double st_sigmoid(double x)
{
    if (x >= 0) return 1.0 / (1.0 + exp(-x));
    double e = exp(x);
    return e / (1.0 + e);
}

static inline double st_sgn(double x)
{
    return (x != x) ? x : (double)((x > 0) - (x < 0));  /* NaN stays NaN */
}

/* Digamma (psi) by recurrence and asymptotic series. */
static inline double st_psi(double x)
{
    double result = 0.0;
    if (x <= 0 && floor(x) == x) return NAN;
    if (x < 0) {  /* reflection */
        return st_psi(1.0 - x) - M_PI / tan(M_PI * x);
    }
    while (x < 12.0) { result -= 1.0 / x; x += 1.0; }
    double f = 1.0 / (x * x);
    /* asymptotic series: log x - 1/(2x) - sum B_2k / (2k x^2k) */
    return result + log(x) - 0.5 / x
        - f * (1.0 / 12 - f * (1.0 / 120 - f * (1.0 / 252 - f * (1.0 / 240 - f * (1.0 / 132
        - f * (691.0 / 32760 - f * (1.0 / 12)))))));
}

/* Inverse error function: rational initial guess refined by two Newton steps. */
static inline double st_erfinv(double y)
{
    if (y <= -1.0) return (y == -1.0) ? -INFINITY : NAN;
    if (y >= 1.0) return (y == 1.0) ? INFINITY : NAN;
    double w = -log((1.0 - y) * (1.0 + y)), x;
    if (w < 5.0) {
        w -= 2.5;
        x = 2.81022636e-08;
        x = 3.43273939e-07 + x * w; x = -3.5233877e-06 + x * w; x = -4.39150654e-06 + x * w;
        x = 0.00021858087 + x * w; x = -0.00125372503 + x * w; x = -0.00417768164 + x * w;
        x = 0.246640727 + x * w; x = 1.50140941 + x * w;
    } else {
        w = sqrt(w) - 3.0;
        x = -0.000200214257;
        x = 0.000100950558 + x * w; x = 0.00134934322 + x * w; x = -0.00367342844 + x * w;
        x = 0.00573950773 + x * w; x = -0.0076224613 + x * w; x = 0.00943887047 + x * w;
        x = 1.00167406 + x * w; x = 2.83297682 + x * w;
    }
    x *= y;
    for (int k = 0; k < 2; ++k) {  /* Newton on erf(x) - y */
        double err = erf(x) - y;
        x -= err / (1.1283791670955126 * exp(-x * x));
    }
    return x;
}

static inline double st_erfcinv(double y) { return st_erfinv(1.0 - y); }

/* NumPy's maximum/minimum propagate NaN. */
static inline double st_max_f(double a, double b) { return (a >= b || a != a) ? a : b; }
static inline double st_min_f(double a, double b) { return (a <= b || a != a) ? a : b; }

#endif /* ST_RUNTIME_H */
