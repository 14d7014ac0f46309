"""log and sin/cos built only from correctly rounded IEEE operations, so NumPy and C agree bit for bit.

``np.log`` and libm's ``log`` may differ in the last bit (NumPy ships its own
SIMD versions), which would make a Box-Muller normal computed by the C kernel
differ from the op's ``perform``. These versions use only +, -, *, /, sqrt,
frexp and rint, each of which rounds the same way everywhere, evaluated in a
fixed order; ``c_code/st_random.h`` performs the same operations in the same
order (with floating-point contraction disabled, so no fused multiply-add
changes a rounding). The coefficients are Taylor coefficients written below
as exact hexadecimal doubles, the same text as in the C header.

Accuracy is a few units in the last place, plenty for random variates.
"""

import numpy as np

#: 1 / (2k + 1), k = 0..10: log(m) = 2 s (1 + s^2/3 + s^4/5 + ...) with s = (m - 1) / (m + 1)
LOG_COEFFS = tuple(float.fromhex(h) for h in (
    "0x1.0000000000000p+0", "0x1.5555555555555p-2", "0x1.999999999999ap-3", "0x1.2492492492492p-3",
    "0x1.c71c71c71c71cp-4", "0x1.745d1745d1746p-4", "0x1.3b13b13b13b14p-4", "0x1.1111111111111p-4",
    "0x1.e1e1e1e1e1e1ep-5", "0x1.af286bca1af28p-5", "0x1.8618618618618p-5"))
#: (-1)^k / (2k + 1)!, k = 0..8 (sine) and (-1)^k / (2k)!, k = 0..8 (cosine)
SIN_COEFFS = tuple(float.fromhex(h) for h in (
    "0x1.0000000000000p+0", "-0x1.5555555555555p-3", "0x1.1111111111111p-7", "-0x1.a01a01a01a01ap-13",
    "0x1.71de3a556c734p-19", "-0x1.ae64567f544e4p-26", "0x1.6124613a86d09p-33", "-0x1.ae7f3e733b81fp-41",
    "0x1.952c77030ad4ap-49"))
COS_COEFFS = tuple(float.fromhex(h) for h in (
    "0x1.0000000000000p+0", "-0x1.0000000000000p-1", "0x1.5555555555555p-5", "-0x1.6c16c16c16c17p-10",
    "0x1.a01a01a01a01ap-16", "-0x1.27e4fb7789f5cp-22", "0x1.1eed8eff8d898p-29", "-0x1.93974a8c07c9dp-37",
    "0x1.ae7f3e733b81fp-45"))
LN2 = float.fromhex("0x1.62e42fefa39efp-1")
SQRT_HALF = float.fromhex("0x1.6a09e667f3bcdp-1")
TWO_PI = float.fromhex("0x1.921fb54442d18p+2")


def _horner(coeffs, z):
    acc = np.full_like(z, coeffs[-1])
    for c in reversed(coeffs[:-1]):
        acc = acc * z + c
    return acc


def log(u):
    """Natural log of positive, finite, normal float64 values ``u`` (an array)."""
    m, e = np.frexp(u)                     # u = m * 2**e, m in [0.5, 1)
    low = m < SQRT_HALF
    m = np.where(low, m + m, m)            # now m in [sqrt(1/2), sqrt(2))
    e = np.where(low, e - 1, e).astype(np.float64)
    f = m - 1.0
    s = f / (f + 2.0)
    return e * LN2 + (s + s) * _horner(LOG_COEFFS, s * s)


def cos_sin_2pi(t):
    """(cos(2 pi t), sin(2 pi t)) for float64 values ``t`` in [0, 1] (an array)."""
    q = np.rint(t * 4.0)                   # the nearest quarter turn
    x = (t - q * 0.25) * TWO_PI            # t - q/4 is exact; |x| <= pi/4
    z = x * x
    s = x * _horner(SIN_COEFFS, z)
    c = _horner(COS_COEFFS, z)
    quadrant = q.astype(np.int64) & 3
    cos = np.choose(quadrant, (c, -s, -c, s))
    sin = np.choose(quadrant, (s, c, -s, -c))
    return cos, sin
