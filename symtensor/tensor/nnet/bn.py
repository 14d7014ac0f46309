"""Batch normalization (Theano 1.0's ``T.nnet.bn``), written with elementwise ops and reductions.

The graphs below are plain arithmetic, so the fusion rewrites turn each
into a few fused loops and the gradient (through the batch mean and
variance too) comes from the ops' own gradients. Training mode normalizes
by the biased batch variance and updates the running variance with the
unbiased one (m / (m - 1) times it), as Theano does.
"""

import numbers

import numpy as np

import symtensor.tensor.basic as _basic
import symtensor.tensor.math as _math

_MIN_EPSILON = 1e-5


def batch_normalization(inputs, gamma, beta, mean, std, mode="low_mem"):
    """``(inputs - mean) / std * gamma + beta``, elementwise with broadcasting.

    'low_mem' and 'high_mem' are Theano's two ways of grouping the
    arithmetic (``(x - mean) / std * gamma`` and ``(x - mean) * (gamma / std)``);
    after fusion both run as one loop.
    """
    if mode not in ("low_mem", "high_mem"):
        raise ValueError(f'batch_normalization: mode must be either "low_mem" or "high_mem", got {mode!r}')
    inputs, gamma, beta, mean, std = (_basic.as_tensor_variable(v) for v in (inputs, gamma, beta, mean, std))
    if mode == "low_mem":
        return (inputs - mean) / std * gamma + beta
    return (inputs - mean) * (gamma / std) + beta


def _normalization_axes(axes, ndim, fname):
    if isinstance(axes, str):
        if axes == "per-activation":
            axes = (0,)
        elif axes == "spatial":
            axes = (0,) + tuple(range(2, ndim))
        else:
            raise ValueError(f"{fname}: axes must be 'per-activation', 'spatial' or a tuple of ints, got {axes!r}")
    elif isinstance(axes, (tuple, list, np.ndarray)):
        if not all(isinstance(a, (numbers.Integral, np.integer)) for a in axes):
            raise ValueError(f"{fname}: axes must be ints, got {axes!r}")
        axes = tuple(sorted(int(a) for a in axes))
    else:
        raise ValueError(f"{fname}: invalid axes {axes!r}")
    if not axes:
        raise ValueError(f"{fname}: there should be at least one normalization axis")
    if min(axes) < 0 or max(axes) >= ndim or len(set(axes)) != len(axes):
        raise ValueError(f"{fname}: axes must be distinct and in [0, {ndim}) for a {ndim}-d input, got {axes}")
    return axes


def _check_epsilon(epsilon, dtype, fname):
    if np.asarray(epsilon, dtype=dtype) < np.asarray(_MIN_EPSILON, dtype=dtype):
        raise ValueError(f"{fname}: epsilon must be at least 1e-5, got {epsilon}")


class _Params:
    """Parameters given with the input's rank (length 1 on the normalized axes) or without those axes."""

    def __init__(self, ndim, axes, fname):
        self.ndim, self.axes, self.fname = ndim, axes, fname
        self.kept = tuple(d for d in range(ndim) if d not in axes)
        self.full_rank = None

    def expand(self, value, name):
        value = _basic.as_tensor_variable(value)
        if value.ndim == self.ndim:
            rank_full = True
            value = _basic.addbroadcast(value, *self.axes)
        elif value.ndim == len(self.kept):
            rank_full = False
            pattern = ["x"] * self.ndim
            for i, d in enumerate(self.kept):
                pattern[d] = i
            value = value.dimshuffle(pattern)
        else:
            raise ValueError(f"{self.fname}: {name} must have {self.ndim} dimensions (length 1 on the axes "
                             f"{self.axes}) or {len(self.kept)} (those axes left out), got {value.ndim}")
        if self.full_rank is None:
            self.full_rank = rank_full
        elif self.full_rank != rank_full:
            raise ValueError(f"{self.fname}: all parameters must have the same number of dimensions")
        return value

    def shrink(self, value):
        """Back to the parameters' rank (the normalized axes dropped when they were given without them)."""
        return value if self.full_rank else value.dimshuffle(list(self.kept))


def batch_normalization_train(inputs, gamma, beta, axes="per-activation", epsilon=1e-4,
                              running_average_factor=0.1, running_mean=None, running_var=None):
    """Normalize ``inputs`` by its mean and variance over ``axes``, then scale by gamma and shift by beta.

    Returns ``(out, mean, invstd)``, plus ``(new_running_mean, new_running_var)``
    when ``running_mean`` and ``running_var`` are given. 'per-activation'
    normalizes over axis 0, 'spatial' over axis 0 and the axes after 1.
    """
    fname = "batch_normalization_train"
    inputs = _basic.as_tensor_variable(inputs)
    axes = _normalization_axes(axes, inputs.ndim, fname)
    if (running_mean is None) != (running_var is None):
        raise ValueError(f"{fname}: running_mean and running_var must either both be given or both be None")
    dtype = inputs.dtype
    _check_epsilon(epsilon, dtype, fname)
    params = _Params(inputs.ndim, axes, fname)
    gamma, beta = params.expand(gamma, "gamma"), params.expand(beta, "beta")
    mean = _math.mean(inputs, axis=axes, keepdims=True)
    var = _math.var(inputs, axis=axes, keepdims=True)
    invstd = _basic.constant(1, dtype=dtype) / _math.sqrt(var + _basic.constant(epsilon, dtype=dtype))
    out = (inputs - mean) * (gamma * invstd) + beta
    results = [out, params.shrink(mean), params.shrink(invstd)]
    if running_mean is not None:
        running_mean = params.expand(running_mean, "running_mean")
        running_var = params.expand(running_var, "running_var")
        factor = _basic.constant(running_average_factor, dtype=dtype)
        keep = _basic.constant(1 - running_average_factor, dtype=dtype)
        m = _basic.cast(_math.prod(_basic.stack_scalars_or_tensors([inputs.shape[a] for a in axes])), dtype)
        unbiased = var * (m / (m - _basic.constant(1, dtype=dtype)))
        new_mean = running_mean * keep + mean * factor
        new_var = running_var * keep + unbiased * factor
        results += [params.shrink(new_mean), params.shrink(new_var)]
    return tuple(results)


def batch_normalization_test(inputs, gamma, beta, mean, var, axes="per-activation", epsilon=1e-4):
    """``(inputs - mean) * gamma / sqrt(var + epsilon) + beta`` with given (e.g. running) statistics."""
    fname = "batch_normalization_test"
    inputs = _basic.as_tensor_variable(inputs)
    axes = _normalization_axes(axes, inputs.ndim, fname)
    dtype = inputs.dtype
    _check_epsilon(epsilon, dtype, fname)
    params = _Params(inputs.ndim, axes, fname)
    gamma, beta = params.expand(gamma, "gamma"), params.expand(beta, "beta")
    mean, var = params.expand(mean, "mean"), params.expand(var, "var")
    return (inputs - mean) * (gamma / _math.sqrt(var + _basic.constant(epsilon, dtype=dtype))) + beta
