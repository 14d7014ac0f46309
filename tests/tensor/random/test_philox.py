"""The NumPy Philox4x32-10: Random123's known-answer vectors, word addressing, state layout, seeding,
and the portable log / sin / cos that keep C and NumPy bit-identical."""

import math
from fractions import Fraction

import numpy as np
import pytest

from symtensor.tensor.random import bitexact, philox

# Random123 tests/kat_vectors: counter (4 words), key (2 words) -> output (4 words)
KAT = [
    (10, [0, 0, 0, 0], [0, 0], [0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8]),
    (10, [0xFFFFFFFF] * 4, [0xFFFFFFFF] * 2, [0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD]),
    (10, [0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344], [0xA4093822, 0x299F31D0],
     [0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1]),
    (7, [0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344], [0xA4093822, 0x299F31D0],
     [0x4DFCCABA, 0x190A87F0, 0xC47362BA, 0xB6B5242A]),
]


@pytest.mark.parametrize("rounds, counter, key, expected", KAT)
def test_known_answer_vectors(rounds, counter, key, expected):
    out = philox.philox4x32(np.array(counter, np.uint32), np.array(key, np.uint32), rounds=rounds)
    assert out.dtype == np.uint32
    assert [int(v) for v in out] == expected


def test_vectorized_over_counters_and_keys():
    counters = np.array([k[1] for k in KAT[:3]], np.uint32)
    keys = np.array([k[2] for k in KAT[:3]], np.uint32)
    np.testing.assert_array_equal(philox.philox4x32(counters, keys), np.array([k[3] for k in KAT[:3]], np.uint32))


def test_words_are_addressable_anywhere():
    state = philox.seed_state(5, 3)
    all_words = philox.words(state, 0, 40)
    assert all_words.dtype == np.uint32 and all_words.shape == (40,)
    np.testing.assert_array_equal(philox.words(state, 7, 13), all_words[7:20])
    np.testing.assert_array_equal(philox.words_at(state, [9, 0, 39, 9]), all_words[[9, 0, 39, 9]])
    assert philox.words(state, 3, 0).shape == (0,)
    # word w is word w % 4 of the block at counter (position + w // 4, substream, lane)
    block = philox.philox4x32(np.array([2, 0, 3, 0], np.uint32), state[:2])
    np.testing.assert_array_equal(all_words[8:12], block)
    # lanes are independent streams over the same positions
    lane1 = philox.words(state, 0, 40, lane=1)
    assert not np.array_equal(lane1, all_words)
    np.testing.assert_array_equal(philox.words_at(state, [5], lane=1), lane1[[5]])


def test_advance_moves_past_whole_blocks():
    state = philox.seed_state(1, 0)
    for used, blocks in [(0, 0), (1, 1), (4, 1), (5, 2), (12, 3)]:
        new = philox.advance(state, used)
        assert new[2] == blocks and new[3] == 0
        np.testing.assert_array_equal(np.delete(new, [2, 3]), np.delete(state, [2, 3]))
    # the next draw starts right after the words the last one used
    np.testing.assert_array_equal(philox.words(philox.advance(state, 5), 0, 8), philox.words(state, 8, 8))
    # the 64-bit position carries into the high word and wraps at 2**64
    state[2], state[3] = 0xFFFFFFFF, 0
    assert list(philox.advance(state, 4)[2:4]) == [0, 1]
    np.testing.assert_array_equal(philox.words(state, 4, 4), philox.words(philox.advance(state, 4), 0, 4))
    state[3] = 0xFFFFFFFF
    assert list(philox.advance(state, 4)[2:4]) == [0, 0]


def test_seed_state_layout_and_independence():
    a, b, c = philox.seed_state(42, 0), philox.seed_state(42, 1), philox.seed_state(43, 0)
    assert a.dtype == np.uint32 and a.shape == (philox.STATE_SIZE,)
    np.testing.assert_array_equal(a, philox.seed_state(42, 0))     # deterministic
    assert list(a[2:]) == [0, 0, 0, 0] and list(b[2:]) == [0, 0, 1, 0]
    np.testing.assert_array_equal(a[:2], b[:2])                     # one key per seed
    assert not np.array_equal(a[:2], c[:2])
    streams = [philox.words(s, 0, 64) for s in (a, b, c)]
    assert len({w.tobytes() for w in streams}) == 3
    # golden values: pin the seeding and the generator across versions and processes
    assert [int(w) for w in philox.words(philox.seed_state(0, 0), 0, 4)] == [
        0xA9E39636, 0x24CBD2FB, 0x7D5EC3BE, 0x40F0C400]
    assert [int(w) for w in philox.words(philox.seed_state(12345, 2), 4, 4)] == [
        0xEE157F57, 0xCDCD8B1A, 0xD8917183, 0x3FE28F1F]


def test_golden_key_of_seed_zero():
    # SplitMix64(0) = 0xE220A8397B1DCDAF: the key is its low and high words
    assert [int(v) for v in philox.seed_state(0, 0)[:2]] == [0x7B1DCDAF, 0xE220A839]


@pytest.mark.parametrize("seed, exc", [(-1, ValueError), (1 << 64, ValueError), (1.5, TypeError), ("3", TypeError),
                                       (True, TypeError)])
def test_bad_seeds(seed, exc):
    with pytest.raises(exc, match="seed"):
        philox.seed_state(seed)


def test_check_state():
    with pytest.raises(ValueError, match=r"6 uint32 words .* got shape \(5,\)"):
        philox.check_state(np.zeros(5, np.uint32))
    with pytest.raises(TypeError, match="uint32"):
        philox.check_state(np.zeros(6, np.int64))


# ------------------------------------------------------------------ portable elementary functions

def test_coefficients_are_the_correctly_rounded_taylor_coefficients():
    assert bitexact.LOG_COEFFS == tuple(float(Fraction(1, 2 * k + 1)) for k in range(11))
    assert bitexact.SIN_COEFFS == tuple(float(Fraction((-1) ** k, math.factorial(2 * k + 1))) for k in range(9))
    assert bitexact.COS_COEFFS == tuple(float(Fraction((-1) ** k, math.factorial(2 * k))) for k in range(9))
    assert (bitexact.LN2, bitexact.TWO_PI, bitexact.SQRT_HALF) == (math.log(2), 2 * math.pi, math.sqrt(0.5))


def test_log_is_accurate(rng):
    u = np.concatenate([rng.random(100000), [2.0 ** -53, 1 - 2.0 ** -53, 0.5, 1.0, bitexact.SQRT_HALF, 1e-300]])
    u = u[u > 0]
    want = np.log(u)
    got = bitexact.log(u)
    np.testing.assert_allclose(got, want, rtol=4 * 2.0 ** -52, atol=0)
    assert bitexact.log(np.array([1.0]))[0] == 0.0


def test_cos_sin_2pi_are_accurate(rng):
    t = np.concatenate([rng.random(100000), np.arange(9) / 8])
    c, s = bitexact.cos_sin_2pi(t)
    np.testing.assert_allclose(c, np.cos(2 * np.pi * t), rtol=0, atol=2e-15)
    np.testing.assert_allclose(s, np.sin(2 * np.pi * t), rtol=0, atol=2e-15)
    np.testing.assert_array_equal(bitexact.cos_sin_2pi(np.array([0.0, 0.25, 0.5]))[0], [1.0, 0.0, -1.0])
