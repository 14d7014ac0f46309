"""``RandomStreams``: symbolic random variables whose state lives in shared variables (Theano's API).

How a random variable works, in one paragraph (compile.function and scan
rely on exactly this):

- each call such as ``srng.normal((3, 4))`` creates one shared variable, the
  *state* (a uint32 vector of 6 words, see ``symtensor.tensor.random.philox``),
  and one draw node ``(state, size, *params) -> (new_state, sample)``;
- ``state.default_update = new_state``: a function that computes the sample
  stores the new state after every call (so the next call draws new numbers)
  unless it is compiled with ``no_default_updates=True`` (then every call
  repeats the same numbers) or gives its own update for the state;
- the returned variable carries ``.rng`` (the state) and ``.update``
  (the ``(state, new_state)`` pair); ``srng.updates()`` lists all pairs;
- scan treats the state like any other shared variable with a default
  update: it threads ``state -> new_state`` through its iterations and
  writes the final state back.

The numbers come from the counter-based Philox4x32-10 generator: the same
seed gives the same numbers in every process and with every linker (the C
kernels equal the NumPy ``perform`` bit for bit), and the k-th random variable
of a stream reads its own substream (``philox.seed_state(seed, k)``).
``seed(s)`` resets every state of the stream to ``seed_state(s, k)``.
"""

import numbers
import secrets

import numpy as np

import symtensor.tensor.basic as _basic
import symtensor.tensor.math as _math
from symtensor import scalar as ts
from symtensor.compile.sharedvalue import shared
from symtensor.config import config
from symtensor.graph.basic import Variable
from symtensor.tensor.random import philox
from symtensor.tensor.random.op import (
    BinomialRV, ChoiceRV, IntegersRV, MultinomialRV, NormalRV, PermutationRV, UniformRV)
from symtensor.tensor.sort import argsort


def _is_constant(value, number):
    """Whether ``value`` is known (statically) to be the scalar ``number`` everywhere."""
    if isinstance(value, numbers.Number) and not isinstance(value, bool):
        return value == number
    try:
        return bool(np.all(_basic.get_scalar_constant_value(value) == number))
    except (_basic.NotScalarConstantError, TypeError):
        return False


def _float_dtype(dtype, *params):
    """The sample dtype of a real draw: ``dtype``, or floatX upcast with the parameters' (Theano's rule)."""
    if dtype is not None:
        dtype = config.floatX if dtype == "floatX" else np.dtype(dtype).name
        if dtype not in ts.float_dtypes:
            raise TypeError(f"the dtype of a real random draw must be a float dtype, got {dtype!r}")
        return dtype
    return ts.upcast(config.floatX, *[p.dtype for p in params if p.dtype in ts.float_dtypes])


def _broadcast_lengths(params, ndim):
    """The shape that ``params`` broadcast to, as a tuple of ints / int scalars, of ``ndim`` entries."""
    lengths = []
    for d in range(ndim):
        length = 1
        for p in params:
            k = d - (ndim - p.ndim)
            if k >= 0 and not p.broadcastable[k]:
                length = p.type.shape[k] if p.type.shape[k] is not None else p.shape[k]
                break
        lengths.append(length)
    return tuple(lengths)


def normalize_size(size, ndim, params, method):
    """A user's ``size`` (None, an int, a tuple of ints / int scalars, or an int vector such as x.shape)
    as something the draw ops accept, checked against ``ndim``. None: the shape the params broadcast to."""
    if size is None:
        nd = max([p.ndim for p in params], default=0)
        if ndim is not None:
            if ndim < nd:
                raise ValueError(f"{method}: ndim={ndim} is smaller than the {nd} dimensions of the parameters")
            nd = ndim
        return _broadcast_lengths(params, nd)
    if isinstance(size, Variable) and getattr(size.type, "ndim", None) == 1:
        length = size.type.shape[0]
        if length is None:
            if ndim is None:
                raise ValueError(f"{method}: the length of size {size} is not known; pass ndim=")
            return tuple(size[i] for i in range(ndim))
    elif isinstance(size, (numbers.Integral, np.integer, Variable)):
        size = (size,)
        length = 1
    elif isinstance(size, (list, tuple, np.ndarray)):
        size = tuple(size)
        length = len(size)
    else:
        raise TypeError(f"{method}: size must be None, an int, a tuple of ints / integer scalars or an integer "
                        f"vector, got {type(size).__name__} {size!r}")
    if ndim is not None and ndim != length:
        raise ValueError(f"{method}: ndim={ndim} does not match the {length} entries of size {size}")
    return size


#: erf(2 / sqrt(2)): the probability mass of a standard normal within 2 standard deviations
_MASS_WITHIN_TWO = 0.9544997361036416


def _truncated_standard_normal(u, dtype):
    """A standard normal truncated to [-2, 2] from a uniform draw u in (0, 1): the inverse of its CDF,
    sqrt(2) * erfinv(m * (2u - 1)) with m the mass within 2 standard deviations."""
    scaled = (u * 2 - 1) * _basic.constant(np.asarray(_MASS_WITHIN_TWO, dtype=dtype))
    return _basic.cast(_math.erfinv(scaled) * np.sqrt(2.0), dtype)


class RandomStreams:
    """A factory of random variables, each with its own substream of one seed (see the module docstring).

    ``seed=None`` picks a random seed (as Theano's RandomStreams does); pass an
    integer in [0, 2**64) for reproducible numbers.
    """

    def __init__(self, seed=None):
        self.default_instance_seed = None if seed is None else philox.check_seed(seed)
        self._seed = self._resolve(seed)
        #: (state, new_state) for every random variable made by this stream
        self.state_updates = []
        self._substream = []

    @staticmethod
    def _resolve(seed):
        return secrets.randbits(63) if seed is None else philox.check_seed(seed)

    # ------------------------------------------------------------ state management

    def updates(self):
        """The (state, new_state) pairs of every random variable, for ``function(updates=...)``."""
        return list(self.state_updates)

    def seed(self, seed=None):
        """Reset every state of this stream (and seed the variables made later) from ``seed``
        (None: the seed given to the constructor, or a fresh random one if that was None)."""
        self._seed = self._resolve(self.default_instance_seed if seed is None else seed)
        for (state, _), index in zip(self.state_updates, self._substream):
            state.set_value(philox.seed_state(self._seed, index), borrow=True)

    def __getitem__(self, state):
        """The current value of a state made by this stream (Theano's ``srng[var.rng]``)."""
        return state.get_value(borrow=True)

    def __setitem__(self, state, value):
        state.set_value(philox.check_state(np.asarray(value, dtype=np.uint32).copy()), borrow=True)

    def _new_state(self):
        index = len(self._substream)
        state = shared(philox.seed_state(self._seed, index), name=f"rng_state_{index}", borrow=True)
        self._substream.append(index)
        return state

    def gen(self, op, *args, **kwargs):
        """Apply a draw op (``RandomOp`` instance) to a new state of this stream: ``op(state, *args)``;
        returns the sample, whose state is updated by default."""
        state = self._new_state()
        new_state, sample = op(state, *args, return_list=True, **kwargs)
        return self._register(state, new_state, sample)

    def _register(self, state, new_state, out):
        state.default_update = new_state
        self.state_updates.append((state, new_state))
        out.rng = state
        out.update = (state, new_state)
        return out

    def _draw(self, op, size, *params):
        state = self._new_state()
        new_state, sample = op(state, size, *params, return_list=True)
        return state, new_state, sample

    # ------------------------------------------------------------ distributions

    def uniform(self, size=None, low=0.0, high=1.0, ndim=None, dtype=None, nstreams=None):
        """Uniform in the open interval (low, high) (up to the rounding of ``low + (high - low) * u``).

        The draw is a standard uniform ``u``; low and high enter as
        ``u * (high - low) + low``, so gradients reach them.
        """
        lo, hi = _basic.as_tensor_variable(low), _basic.as_tensor_variable(high)
        dtype = _float_dtype(dtype, lo, hi)
        size = normalize_size(size, ndim, [lo, hi], "uniform")
        state, new_state, u = self._draw(UniformRV(dtype), size)
        out = u
        if not (_is_constant(low, 0) and _is_constant(high, 1)):
            lo, hi = _basic.cast(lo, dtype), _basic.cast(hi, dtype)
            out = u * (hi - lo) + lo
        return self._register(state, new_state, out)

    def normal(self, size=None, avg=0.0, std=1.0, ndim=None, dtype=None, nstreams=None, truncate=False):
        """Normal with mean ``avg`` and standard deviation ``std``: ``z * std + avg`` on a standard draw z.

        ``truncate=True`` (Theano's MRG option) keeps z within 2 standard deviations: z is the exact
        truncated normal, drawn by inverting its CDF on a uniform draw, so its standard deviation is
        about 0.88 * std.
        """
        mu, sigma = _basic.as_tensor_variable(avg), _basic.as_tensor_variable(std)
        dtype = _float_dtype(dtype, mu, sigma)
        size = normalize_size(size, ndim, [mu, sigma], "normal")
        if truncate:
            state, new_state, u = self._draw(UniformRV(dtype), size)
            z = _truncated_standard_normal(u, dtype)
        else:
            state, new_state, z = self._draw(NormalRV(dtype), size)
        out = z
        if not (_is_constant(avg, 0) and _is_constant(std, 1)):
            mu, sigma = _basic.cast(mu, dtype), _basic.cast(sigma, dtype)
            out = z * sigma + mu
        return self._register(state, new_state, out)

    def binomial(self, size=None, n=1, p=0.5, ndim=None, dtype="int64", nstreams=None, prob=None):
        """Number of successes in n trials of probability p (``prob`` is Theano's old name for p)."""
        if prob is not None:
            p = prob
        n, p = _basic.as_tensor_variable(n), _basic.as_tensor_variable(p)
        size = normalize_size(size, ndim, [n, p], "binomial")
        return self._register(*self._draw(BinomialRV(dtype), size, n, p))

    def random_integers(self, size=None, low=0, high=1, ndim=None, dtype="int64"):
        """Uniform integers in [low, high], both ends included."""
        low, high = _basic.as_tensor_variable(low), _basic.as_tensor_variable(high)
        size = normalize_size(size, ndim, [low, high], "random_integers")
        return self._register(*self._draw(IntegersRV(dtype), size, low, high))

    def choice(self, size=None, a=2, replace=True, p=None, ndim=None, dtype="int64"):
        """Elements of ``a`` (a vector, or range(a) for an int), with or without replacement, uniformly or
        with probabilities ``p``; the result has shape ``size`` (a scalar when size is None)."""
        size = normalize_size((), ndim, [], "choice") if size is None else normalize_size(size, ndim, [], "choice")
        op = ChoiceRV(dtype, replace, weighted=p is not None)
        params = (a,) if p is None else (a, p)
        return self._register(*self._draw(op, size, *params))

    def permutation(self, size=None, n=1, ndim=None, dtype="int64"):
        """A permutation of range(n) for every index of ``size``: shape size + (n,) (a vector for size None)."""
        size = () if size is None else size
        size = normalize_size(size, ndim, [], "permutation")
        return self._register(*self._draw(PermutationRV(dtype), size, n))

    def multinomial(self, size=None, n=1, pvals=None, ndim=None, dtype="int64", nstreams=None):
        """Counts of n draws among the categories of ``pvals`` (last axis): shape size + (k,)
        (size None: the shape pvals' leading axes and n broadcast to)."""
        pvals = _basic.as_tensor_variable([0.5, 0.5] if pvals is None else pvals)
        n = _basic.as_tensor_variable(n)
        if pvals.ndim < 1:
            raise TypeError(f"multinomial: pvals must have at least 1 dimension, got {pvals}")
        leading = pvals[(slice(None),) * (pvals.ndim - 1) + (0,)]
        size = normalize_size(size, ndim, [n, leading], "multinomial")
        return self._register(*self._draw(MultinomialRV(dtype), size, n, pvals))


class MRG_RandomStreams(RandomStreams):
    """Theano's ``MRG_RandomStreams`` name over the same Philox streams; the default seed is 12345."""

    def __init__(self, seed=12345):
        super().__init__(seed)

    def choice(self, size=1, a=None, replace=True, p=None, ndim=None, dtype="int64", nstreams=None):
        """With ``a=None`` and ``p`` a matrix (Theano's MRG form): for every row of p, ``size`` column
        indices drawn without replacement with probabilities proportional to the row, shape (rows, size).
        Otherwise as ``RandomStreams.choice`` (a=None means range(len(p)), or range(2) without p)."""
        pm = None if p is None else _basic.as_tensor_variable(p)
        if a is not None or pm is None or pm.ndim != 2:
            if a is None:
                a = 2 if pm is None else pm.shape[0]
            return super().choice(size, a, replace, p, ndim, dtype)
        if replace:
            raise NotImplementedError("MRG_RandomStreams.choice with a matrix p draws without replacement only: pass "
                                      "replace=False, or use multinomial for draws with replacement")
        u = self.uniform(pm.shape, dtype=_float_dtype(None, pm))
        keys = _math.log(u) / pm  # Efraimidis-Spirakis: the largest log(u) / p win; p = 0 never does
        out = _basic.cast(argsort(-keys, axis=1)[:, :size], dtype)
        out.rng, out.update = u.rng, u.update
        return out
