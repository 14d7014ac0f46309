"""Philox4x32-10 in NumPy: the counter-based generator behind symtensor's random streams.

Counter-based means block ``b`` of random words is a pure function of a key
and the counter ``b``: any word of a draw can be computed on its own, so the
NumPy code here computes whole draws at once, and the C kernels
(``c_code/st_random.h``) and a future CUDA kernel produce exactly the same
words in whatever order suits them.

A random state is a uint32 vector of ``STATE_SIZE`` words (kept in a shared
variable by ``RandomStreams``)::

    state[0:2]  the Philox key, derived from the seed
    state[2:6]  the Philox counter of the next unused block:
                state[2:4] its 64-bit position (low word first), advanced by every draw
                state[4]   the substream: which random variable of a RandomStreams owns it
                state[5]   the lane: 0 for ordinary words; the j-th rejection retry reads lane j

Word ``w`` of a draw (in lane ``j``) is word ``w % 4`` of the block
Philox(key, (position + w // 4, substream, j)). A draw that used ``n`` words
returns the state advanced by ``ceil(n / 4)`` blocks.
"""

import numbers

import numpy as np

STATE_SIZE = 6

_M0, _M1 = np.uint64(0xD2511F53), np.uint64(0xCD9E8D57)   # round multipliers
_W0, _W1 = np.uint64(0x9E3779B9), np.uint64(0xBB67AE85)   # key schedule increments (Weyl sequence)
_LOW32 = np.uint64(0xFFFFFFFF)
_SHIFT32 = np.uint64(32)


def philox4x32(counter, key, rounds=10):
    """Philox4x32 of ``counter`` (..., 4) under ``key`` (..., 2), uint32 arrays that broadcast -> (..., 4) uint32."""
    counter = np.asarray(counter, dtype=np.uint32)
    key = np.asarray(key, dtype=np.uint32)
    c0, c1, c2, c3 = (counter[..., i].astype(np.uint64) for i in range(4))
    k0, k1 = (key[..., i].astype(np.uint64) for i in range(2))
    for r in range(rounds):
        if r:
            k0 = (k0 + _W0) & _LOW32
            k1 = (k1 + _W1) & _LOW32
        p0 = c0 * _M0          # 32 x 32 -> 64-bit products: exact in uint64
        p1 = c2 * _M1
        c0, c1, c2, c3 = (p1 >> _SHIFT32) ^ c1 ^ k0, p1 & _LOW32, (p0 >> _SHIFT32) ^ c3 ^ k1, p0 & _LOW32
    shape = np.broadcast_shapes(c0.shape, c1.shape, c2.shape, c3.shape)
    out = np.empty(shape + (4,), dtype=np.uint32)
    for i, c in enumerate((c0, c1, c2, c3)):
        out[..., i] = c
    return out


def check_state(state, opname="random"):
    """``state`` as a uint32 vector of STATE_SIZE words, or a ValueError/TypeError saying what is wrong."""
    state = np.asarray(state)
    if state.dtype != np.uint32:
        raise TypeError(f"{opname}: a random state must be a uint32 vector, got dtype {state.dtype}")
    if state.shape != (STATE_SIZE,):
        raise ValueError(f"{opname}: a random state must hold {STATE_SIZE} uint32 words (key, counter), "
                         f"got shape {state.shape}")
    return state


def _position(state):
    return (int(state[3]) << 32) | int(state[2])


def _blocks(state, blocks, lane):
    """The Philox blocks at the given (relative, uint64) block numbers of ``state``'s draw, in ``lane``."""
    pos = (blocks + np.uint64(_position(state)))  # wraps modulo 2**64 like the C code
    counter = np.empty(blocks.shape + (4,), dtype=np.uint32)
    counter[..., 0] = pos & _LOW32
    counter[..., 1] = pos >> _SHIFT32
    counter[..., 2] = state[4]
    counter[..., 3] = np.uint32((int(state[5]) + lane) & 0xFFFFFFFF)
    return philox4x32(counter, state[0:2])


def words(state, start, count, lane=0):
    """Words ``start .. start + count - 1`` of the draw that begins at ``state`` (uint32 vector)."""
    if count <= 0:
        return np.zeros(0, dtype=np.uint32)
    first, last = start // 4, (start + count - 1) // 4
    block = _blocks(state, np.arange(first, last + 1, dtype=np.uint64), lane)
    offset = start - 4 * first
    return block.reshape(-1)[offset:offset + count]


def words_at(state, indices, lane=0):
    """The words at arbitrary word numbers ``indices`` (an integer array) of the draw at ``state``."""
    indices = np.asarray(indices, dtype=np.uint64)
    block = _blocks(state, indices >> np.uint64(2), lane)
    return np.take_along_axis(block, (indices & np.uint64(3)).astype(np.intp)[..., None], axis=-1)[..., 0]


def advance(state, n_words):
    """A copy of ``state`` moved past a draw that used ``n_words`` words (whole blocks)."""
    pos = (_position(state) + (int(n_words) + 3) // 4) % (1 << 64)
    new = np.array(state, dtype=np.uint32, copy=True)
    new[2], new[3] = pos & 0xFFFFFFFF, pos >> 32
    return new


def _splitmix64(x):
    """One step of SplitMix64: spreads a seed's bits over a 64-bit key (different seeds, unrelated keys)."""
    mask = (1 << 64) - 1
    x = (x + 0x9E3779B97F4A7C15) & mask
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & mask
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & mask
    return x ^ (x >> 31)


def check_seed(seed):
    """``seed`` as a Python int in [0, 2**64), or TypeError/ValueError."""
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (numbers.Integral, np.integer)):
        raise TypeError(f"a random seed must be an integer, got {type(seed).__name__} {seed!r}")
    seed = int(seed)
    if not 0 <= seed < 1 << 64:
        raise ValueError(f"a random seed must be in [0, 2**64), got {seed}")
    return seed


def seed_state(seed, substream=0):
    """The initial state of substream ``substream`` (a random variable's number) under ``seed``."""
    key = _splitmix64(check_seed(seed))
    substream = int(substream)
    if not 0 <= substream < 1 << 32:
        raise ValueError(f"substream must be in [0, 2**32), got {substream}")
    return np.array([key & 0xFFFFFFFF, key >> 32, 0, 0, substream, 0], dtype=np.uint32)
