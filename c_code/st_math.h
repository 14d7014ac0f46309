/* Branch-free single-precision math that compilers vectorize inside `omp simd` loops.
 *
 * libm's expf/logf/tanhf are opaque calls that stop vectorization; these
 * inline versions use range reduction plus minimax polynomials (errors of a
 * few ulp) and select special values (inf, nan, 0) with comparisons instead
 * of branches, so a loop over them becomes SIMD code.
 */
#ifndef ST_MATH_H
#define ST_MATH_H

#include <math.h>
#include <stdint.h>
#include <string.h>

static inline float st_bits_to_float(int32_t i) { float f; memcpy(&f, &i, 4); return f; }
static inline int32_t st_float_to_bits(float f) { int32_t i; memcpy(&i, &f, 4); return i; }

/* e**x: x = n*ln2 + r with |r| <= ln2/2, exp(r) by a degree-6 polynomial, times 2**n
 * (applied as two factors so subnormal and overflowing results come out right). */
static inline float st_expf(float x)
{
    float xc = x > 89.0f ? 89.0f : x;
    xc = xc < -104.0f ? -104.0f : xc;
    /* round to nearest with the 1.5 * 2**23 trick: no libm call, so the loop vectorizes */
    float n = (xc * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
    float r = xc - n * 0.693359375f + n * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    float e = p * (r * r) + r + 1.0f;
    int32_t ni = (int32_t)n;
    int32_t n1 = ni >> 1, n2 = ni - n1;
    float result = e * st_bits_to_float((n1 + 127) << 23) * st_bits_to_float((n2 + 127) << 23);
    return x != x ? x : result;
}

/* natural log: x = m * 2**e with m in [sqrt(1/2), sqrt(2)), log(m) by a degree-9 polynomial. */
static inline float st_logf(float x)
{
    int sub = x < 1.17549435e-38f;                   /* subnormal: scale up by 2**23 first */
    float xs = sub ? x * 8388608.0f : x;
    int32_t bits = st_float_to_bits(xs);
    int32_t e = ((bits >> 23) & 0xff) - 126;
    float m = st_bits_to_float((bits & 0x007fffff) | 0x3f000000);  /* in [0.5, 1) */
    int small = m < 0.707106781186547524f;
    e = small ? e - 1 : e;
    m = small ? m + m - 1.0f : m - 1.0f;
    float z = m * m;
    float p = 7.0376836292e-2f;
    p = p * m - 1.1514610310e-1f;
    p = p * m + 1.1676998740e-1f;
    p = p * m - 1.2420140846e-1f;
    p = p * m + 1.4249322787e-1f;
    p = p * m - 1.6668057665e-1f;
    p = p * m + 2.0000714765e-1f;
    p = p * m - 2.4999993993e-1f;
    p = p * m + 3.3333331174e-1f;
    float fe = (float)e - (sub ? 23.0f : 0.0f);
    float y = m * z * p - 2.12194440e-4f * fe - 0.5f * z;
    float result = m + y + 0.693359375f * fe;
    result = x == 0.0f ? -INFINITY : result;
    result = x < 0.0f ? NAN : result;
    result = x == INFINITY ? INFINITY : result;
    return x != x ? x : result;
}

/* tanh: an odd polynomial near 0, 1 - 2 / (exp(2|x|) + 1) elsewhere. */
static inline float st_tanhf(float x)
{
    float ax = fabsf(x);
    float z = x * x;
    float p = -5.70498872745e-3f;
    p = p * z + 2.06390887954e-2f;
    p = p * z - 5.37397155531e-2f;
    p = p * z + 1.33314422036e-1f;
    p = p * z - 3.33332819422e-1f;
    float near0 = x + x * z * p;
    float e = st_expf(2.0f * (ax < 44.0f ? ax : 44.0f));
    float far = 1.0f - 2.0f / (e + 1.0f);
    far = x < 0 ? -far : far;
    float result = ax < 0.625f ? near0 : far;
    return x != x ? x : result;
}

static inline float st_sigmoidf(float x)
{
    float e = st_expf(-fabsf(x));
    float pos = 1.0f / (1.0f + e);
    return x >= 0 ? pos : e * pos;
}

/* log(1 + y), exact for small y: the rounding of 1 + y is corrected. */
static inline float st_log1pf(float y)
{
    float u = 1.0f + y;
    float d = u - 1.0f;
    float corrected = st_logf(u) * (y / (d == 0.0f ? 1.0f : d));
    corrected = y == INFINITY ? y : corrected;
    return d == 0.0f ? y : corrected;
}

static inline float st_softplusf(float x)
{
    float m = x > 0 ? x : 0.0f;
    return m + st_log1pf(st_expf(-fabsf(x)));
}

#endif /* ST_MATH_H */
