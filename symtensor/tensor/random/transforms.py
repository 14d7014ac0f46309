"""Random variates from Philox words, vectorized in NumPy: the reference the C kernels must equal bit for bit.

Every function takes the random ``state`` at which its draw begins and
returns ``(values, n_words)``: the words used, so the caller can advance the
state past them (``philox.advance``). The word layouts, which the C code in
``c_code/st_random.h`` follows exactly:

- uniform float32: element i <- word i (23 bits): ``(2k + 1) * 2**-24``, in (0, 1)
- uniform float64: element i <- words 2i, 2i+1 as a 64-bit integer (52 bits): ``(2k + 1) * 2**-53``, in (0, 1)
- normal: elements 2m, 2m+1 <- block m: two float64 uniforms (words 4m..4m+3), Box-Muller with the
  portable log/sin/cos of ``bitexact``; computed in float64 and rounded once to the output dtype
- binomial: element i, trial j <- word i*W + j (W = the largest n): a success when
  ``(2w + 1) * 2**-33 < p``; n trials cost n words, so this suits the small n of masks and dropout
- integers in [low, high]: element i <- words 2i, 2i+1 as a 64-bit r; Lemire's multiply-shift
  ``(r * R) >> 64`` with R = high - low + 1, rejecting the few r that would bias it; a rejected
  element retries with the same words of lane 1, 2, ... (see ``philox``), so no draw overlaps another
- permutation: row r, position k <- the 64-bit key of words 2(r*n + k), 2(r*n + k) + 1; the
  permutation sorts the keys (ties by position, a stable sort)
"""

import numpy as np

from symtensor.tensor.random import bitexact
from symtensor.tensor.random import philox

_U64 = np.uint64
_LOW32 = _U64(0xFFFFFFFF)
#: words handled at once by the chunked transforms (bounds their temporary memory)
CHUNK_WORDS = 1 << 22


def _u64(lo, hi):
    return (hi.astype(_U64) << _U64(32)) | lo.astype(_U64)


def _pairs(state, n, lane=0, start=0):
    """n 64-bit integers from words start .. start + 2n - 1 (low word first)."""
    w = philox.words(state, start, 2 * n, lane)
    return _u64(w[0::2], w[1::2])


def uniform53(r):
    """Open-interval float64 uniforms ``(2k + 1) * 2**-53`` from the top 52 bits of 64-bit integers."""
    return ((r >> _U64(12)) * _U64(2) + _U64(1)).astype(np.float64) * 2.0 ** -53


def uniform(state, n, dtype):
    """n uniforms in (0, 1) of ``dtype`` (float16 is rounded from float32's 11-bit-exact grid)."""
    if dtype == "float64":
        return uniform53(_pairs(state, n)), 2 * n
    w = philox.words(state, 0, n)
    if dtype == "float16":
        k = (w >> np.uint32(22)).astype(np.float32)                 # 10 bits: (2k + 1) * 2**-11 is exact
        return ((k * 2 + 1) * np.float32(2.0 ** -11)).astype(np.float16), n
    k = (w >> np.uint32(9)).astype(np.float32)                      # 23 bits: exact in float32
    return (k * np.float32(2.0) + np.float32(1.0)) * np.float32(2.0 ** -24), n


def normal(state, n):
    """n standard normal float64 values (Box-Muller on pairs of 53-bit uniforms)."""
    m = (n + 1) // 2
    w = philox.words(state, 0, 4 * m).reshape(m, 4)
    u1 = uniform53(_u64(w[:, 0], w[:, 1]))
    u2 = uniform53(_u64(w[:, 2], w[:, 3]))
    radius = np.sqrt(-2.0 * bitexact.log(u1))
    cos, sin = bitexact.cos_sin_2pi(u2)
    z = np.empty((m, 2), dtype=np.float64)
    z[:, 0] = radius * cos
    z[:, 1] = radius * sin
    return z.reshape(-1)[:n], 4 * m


def binomial(state, trials, p, opname="binomial"):
    """Binomial(trials[i], p[i]) counts (int64) for flat int64 ``trials`` and float64 ``p``."""
    n = trials.size
    if n and trials.min() < 0:
        raise ValueError(f"{opname}: the number of trials n must be >= 0, got {trials.min()}")
    if n and not np.all((p >= 0) & (p <= 1)):
        bad = p[~((p >= 0) & (p <= 1))][0]
        raise ValueError(f"{opname}: the probability p must be in [0, 1], got {bad}")
    width = int(trials.max()) if n else 0
    out = np.zeros(n, dtype=np.int64)
    if width == 0:
        return out, 0
    step = max(1, CHUNK_WORDS // width)
    lanes = np.arange(width)
    for i0 in range(0, n, step):
        i1 = min(n, i0 + step)
        w = philox.words(state, i0 * width, (i1 - i0) * width).reshape(i1 - i0, width)
        u = (w.astype(np.float64) * 2.0 + 1.0) * 2.0 ** -33
        hit = (u < p[i0:i1, None]) & (lanes < trials[i0:i1, None])
        out[i0:i1] = hit.sum(axis=1)
    return out, n * width


def _mul_hi_lo(a, b):
    """The 128-bit products of uint64 arrays as (high, low) uint64 halves."""
    a_lo, a_hi, b_lo, b_hi = a & _LOW32, a >> _U64(32), b & _LOW32, b >> _U64(32)
    ll, lh, hl, hh = a_lo * b_lo, a_lo * b_hi, a_hi * b_lo, a_hi * b_hi
    mid = (ll >> _U64(32)) + (lh & _LOW32) + (hl & _LOW32)
    hi = hh + (lh >> _U64(32)) + (hl >> _U64(32)) + (mid >> _U64(32))
    lo = (mid << _U64(32)) | (ll & _LOW32)
    return hi, lo


def integers(state, low, high, opname="random_integers"):
    """Uniform integers in [low[i], high[i]] (flat int64 arrays, inclusive), without modulo bias."""
    n = low.size
    if n and np.any(high < low):
        k = int(np.argmax(high < low))
        raise ValueError(f"{opname}: low must be <= high, got low={low[k]} > high={high[k]}")
    span = (high.astype(_U64) - low.astype(_U64)) + _U64(1)   # 0 stands for the full 2**64 range
    full = span == 0
    safe = np.where(full, _U64(1), span)
    threshold = (_U64(0) - safe) % safe                         # 2**64 mod span: the biased low products
    r = _pairs(state, n)
    offset = np.empty(n, dtype=_U64)
    todo = np.arange(n)
    lane = 0
    while todo.size:
        hi, lo = _mul_hi_lo(r, safe[todo])
        ok = full[todo] | (lo >= threshold[todo])
        offset[todo[ok]] = np.where(full[todo[ok]], r[ok], hi[ok])
        todo = todo[~ok]
        lane += 1
        if todo.size:
            idx = todo.astype(_U64) * _U64(2)
            r = _u64(philox.words_at(state, idx, lane), philox.words_at(state, idx + _U64(1), lane))
    return (low.astype(_U64) + offset).view(np.int64), 2 * n


def permutation(state, rows, n):
    """``rows`` independent permutations of range(n), shape (rows, n), int64."""
    keys = _pairs(state, rows * n).reshape(rows, n)
    return np.argsort(keys, axis=-1, kind="stable").astype(np.int64), 2 * rows * n


def _last_positive(p):
    """Per row of ``p`` (rows, k): the index of the last positive weight (searches never go past it)."""
    return p.shape[-1] - 1 - np.argmax(p[..., ::-1] > 0, axis=-1)


def _check_weights(p, opname, what="p"):
    if p.size and not np.all(p >= 0):
        raise ValueError(f"{opname}: the probabilities {what} must be >= 0, got {p[~(p >= 0)][0]}")
    total = p.sum(axis=-1)
    if np.any(total <= 0) or not np.all(np.isfinite(total)):
        raise ValueError(f"{opname}: the probabilities {what} must have a positive, finite sum")


def categorical(u, p):
    """Category drawn by each uniform of ``u`` (rows, m) from the weights of its row of ``p`` (rows, k)
    (inverse CDF; the weights need not be normalized; a weight of 0 is never drawn)."""
    cdf = np.cumsum(p, axis=-1)
    x = u * cdf[:, -1:]
    cat = np.zeros(u.shape, dtype=np.int64)
    for j in range(p.shape[-1] - 1):  # count the CDF steps at or below x
        cat += cdf[:, j:j + 1] <= x
    return np.minimum(cat, _last_positive(p)[:, None])


def multinomial(state, trials, pvals, opname="multinomial"):
    """Counts (rows, k) of trials[r] categorical draws from each row of ``pvals`` (rows, k)."""
    rows, k = pvals.shape
    if trials.size and trials.min() < 0:
        raise ValueError(f"{opname}: the number of trials n must be >= 0, got {trials.min()}")
    counts = np.zeros((rows, k), dtype=np.int64)
    width = int(trials.max()) if trials.size else 0
    if width == 0 or k == 0:
        return counts, 0
    _check_weights(pvals, opname, "pvals")
    step = max(1, CHUNK_WORDS // (2 * width * max(k, 1)))
    for r0 in range(0, rows, step):
        r1 = min(rows, r0 + step)
        u = uniform53(_pairs(state, (r1 - r0) * width, start=2 * r0 * width)).reshape(r1 - r0, width)
        cat = categorical(u, pvals[r0:r1])
        valid = np.arange(width) < trials[r0:r1, None]
        row = np.broadcast_to(np.arange(r0, r1)[:, None], cat.shape)
        np.add.at(counts, (row[valid], cat[valid]), 1)
    return counts, 2 * rows * width


def choice(state, count, population, replace, p, opname="choice"):
    """``count`` indices into range(population): with or without replacement, uniform or weighted by p."""
    if population < 0 or (population == 0 and count):
        raise ValueError(f"{opname}: cannot choose from an empty population (a = {population})")
    if p is not None:
        if p.shape != (population,):
            raise ValueError(f"{opname}: p must have one probability per element of a ({population}), "
                             f"got shape {p.shape}")
        _check_weights(p, opname)
    if replace:
        if p is None:
            return integers(state, np.zeros(count, np.int64), np.full(count, population - 1, np.int64), opname)
        u = uniform53(_pairs(state, count))
        return categorical(u[None, :], p[None, :])[0], 2 * count
    available = population if p is None else int(np.count_nonzero(p))
    if count > available:
        raise ValueError(f"{opname}: cannot take {count} samples without replacement from {available} "
                         "(nonzero-probability) elements")
    r = _pairs(state, population)
    if p is None:
        order = np.argsort(r, kind="stable")
    else:  # Efraimidis-Spirakis: the largest log(u) / p_i win
        with np.errstate(divide="ignore"):
            keys = bitexact.log(uniform53(r)) / p
        order = np.argsort(-keys, kind="stable")
    return order[:count].astype(np.int64), 2 * population
