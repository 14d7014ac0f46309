"""Synthetic data and initial weights, generated once in NumPy and loaded into every framework.

Everything is float32 (labels and tokens int32) and seeded from the model's name, so a
model's batch and weights are the same in every framework, every run and every process
(the compile-time child rebuilds them bit for bit). Nothing is downloaded.
"""

import zlib

import numpy as np

FLOAT = "float32"


def rng_for(model_name, what):
    """A NumPy Generator seeded from (model, purpose): 'params' and 'batch' streams stay independent."""
    return np.random.default_rng(zlib.crc32(f"{model_name}/{what}".encode()))


def glorot(rng, fan_in, fan_out, shape=None):
    """Glorot/Xavier-uniform weights of ``shape`` (default ``(fan_in, fan_out)``)."""
    bound = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-bound, bound, shape or (fan_in, fan_out)).astype(FLOAT)


def conv_filters(rng, n_out, n_in, kh, kw):
    """Glorot-uniform filters (n_out, n_in, kh, kw), fan-in/out counted over the receptive field."""
    return glorot(rng, n_in * kh * kw, n_out * kh * kw, (n_out, n_in, kh, kw))


def uniform(rng, scale, shape):
    """Uniform in [-scale, scale] (Zaremba et al.'s LSTM initialisation)."""
    return rng.uniform(-scale, scale, shape).astype(FLOAT)


def zeros(*shape):
    return np.zeros(shape, FLOAT)


def images(rng, n, *shape):
    """``n`` random inputs in [0, 1) of ``shape`` (a flat vector, or C x H x W images)."""
    return rng.random((n, *shape), dtype=np.float32)


def labels(rng, n, n_classes):
    return rng.integers(0, n_classes, n).astype("int32")


def tokens(rng, batch, steps, vocab):
    """A (batch, steps + 1) int32 array: inputs are ``[:, :-1]``, next-word targets ``[:, 1:]``."""
    return rng.integers(0, vocab, (batch, steps + 1)).astype("int32")
