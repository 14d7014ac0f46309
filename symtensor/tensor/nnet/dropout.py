"""Dropout: zero each entry with probability p; "inverted" scaling by 1 / (1 - p) keeps the expectation.

The mask is a Bernoulli draw of keep probability ``1 - p`` in x's dtype from a
``RandomStreams``, so it changes on every call of a compiled function (its
state has a default update) and ``x * mask / (1 - p)`` differentiates like any
product: the gradient with respect to x is ``mask / (1 - p)``. At test time
use x itself (or a function compiled without the dropout graph).
"""

import numbers

import symtensor.tensor.basic as _basic
from symtensor import scalar as ts
from symtensor.tensor.shared_randomstreams import RandomStreams

#: the stream used when no ``srng`` is given (a fixed seed: the same program draws the same masks)
default_srng = RandomStreams(seed=20170822)


def dropout(x, p=0.5, srng=None, rescale=True, shared_axes=(), rng=None):
    """``x`` with each entry zeroed with probability ``p`` (a number in [0, 1) or a symbolic scalar).

    rescale: divide the kept entries by ``1 - p`` (inverted dropout), so the
    expected output is x. shared_axes: axes along which one mask value is
    shared (e.g. (2, 3) drops whole feature maps of a 4-d input). srng (or
    rng): the RandomStreams to draw the mask from (default: ``default_srng``).
    """
    x = _basic.as_tensor_variable(x)
    if x.dtype not in ts.float_dtypes:
        raise TypeError(f"dropout: x must be a float tensor, got {x} of dtype {x.dtype}")
    if isinstance(p, numbers.Real):
        if not 0 <= p < 1:
            raise ValueError(f"dropout: the drop probability p must be in [0, 1), got {p}")
        if p == 0:
            return x
    srng = srng if srng is not None else (rng if rng is not None else default_srng)
    axes = set()
    for a in shared_axes:
        if not -x.ndim <= a < x.ndim:
            raise ValueError(f"dropout: shared axis {a} is out of range for the {x.ndim}-d {x}")
        axes.add(a % x.ndim)
    shape = tuple(1 if d in axes else (x.type.shape[d] if x.type.shape[d] is not None else x.shape[d])
                  for d in range(x.ndim))
    keep = 1 - p if isinstance(p, numbers.Real) else 1 - _basic.as_tensor_variable(p)
    mask = srng.binomial(shape, n=1, p=keep, dtype=x.dtype)
    out = x * mask
    return out / _basic.cast(keep, x.dtype) if rescale else out
