"""Random draw ops: ``(state, size, *params) -> (new_state, sample)``.

A draw is a pure function of its inputs: the state (see ``philox`` for its
layout) says where in the Philox stream the draw begins, and the draw returns
the state moved past the words it used. ``RandomStreams`` keeps each state in
a shared variable whose ``default_update`` is the new state, which is what
makes successive calls of a compiled function draw new numbers; scan threads
the same (state -> new state) pair through its iterations.

The draws are standard (uniform in (0, 1), standard normal, counts, indices);
``low + (high - low) * u`` and ``avg + std * z`` are built by the streams as
ordinary elementwise graphs, so gradients reach those parameters while the
draw itself is not differentiable: it passes an undefined gradient to its
float parameters (binomial p, choice and multinomial weights) and none to the
state and the size. Ops never constant-fold: equal inputs mean equal numbers,
but a draw is still computed when its function runs.
"""

import numpy as np

import symtensor.tensor.basic as _basic
from symtensor import scalar as ts
from symtensor.config import config
from symtensor.graph.basic import Apply
from symtensor.graph.null_type import disconnected, grad_undefined
from symtensor.graph.op import Op
from symtensor.tensor.random import philox, transforms
from symtensor.tensor.type import TensorType

_NUMERIC = ts.int_dtypes + ts.uint_dtypes + ts.float_dtypes + ("bool",)


def _name(op):
    return type(op).__name__


def as_state(op, state):
    state = _basic.as_tensor_variable(state)
    if state.dtype != "uint32" or state.ndim != 1:
        raise TypeError(f"{_name(op)}: state must be a uint32 vector of {philox.STATE_SIZE} words (a random state "
                        f"from RandomStreams or philox.seed_state), got {state} of type {state.type}")
    return state


def as_size(op, size):
    """``size`` as an int64 vector of known length (tuple of ints / integer scalars, or a vector such as x.shape)."""
    size = _basic.shape_vector(size, f"{_name(op)}: size")
    if size.type.shape[0] is None:
        raise TypeError(f"{_name(op)}: the length of size {size} must be known; pass a tuple, or ndim= to the "
                        "RandomStreams method")
    return size


def as_param(op, value, name, kinds, max_ndim=None):
    """A parameter as a tensor of one of ``kinds`` ('int', 'float') with at most ``max_ndim`` dimensions."""
    var = _basic.as_tensor_variable(value)
    allowed = ()
    if "int" in kinds:
        allowed += ts.int_dtypes + ts.uint_dtypes + ("bool",)
    if "float" in kinds:
        allowed += ts.float_dtypes + (() if "int" in kinds else ts.int_dtypes + ts.uint_dtypes)
    if var.dtype not in allowed:
        want = " or ".join({"int": "an integer", "float": "a real"}[k] for k in kinds)
        raise TypeError(f"{_name(op)}: {name} must be {want} tensor, got {var} of dtype {var.dtype}")
    if max_ndim is not None and var.ndim > max_ndim:
        raise TypeError(f"{_name(op)}: {name} has {var.ndim} dimensions, more than the {max_ndim} that the "
                        f"sample size allows; give a size with more entries")
    return var


def broadcast_param(op, value, shape, name, dtype):
    """A parameter's value broadcast to ``shape`` and flattened, as ``dtype``."""
    try:
        full = np.broadcast_to(np.asarray(value), shape)
    except ValueError:
        raise ValueError(f"{_name(op)}: {name} of shape {np.shape(value)} does not broadcast to the sample "
                         f"size {shape}") from None
    return np.ascontiguousarray(full, dtype=dtype).reshape(-1)


class RandomOp(Op):
    """Base of the draws. Subclasses set ``params`` and implement ``draw(state, shape, *param_values)``."""

    __props__ = ("dtype",)
    #: (name, kinds, trailing axes beyond size) per parameter input, after state and size
    params = ()
    #: the output dtypes this draw can produce
    dtypes = _NUMERIC

    def __init__(self, dtype="int64"):
        self.dtype = np.dtype(dtype).name
        if self.dtype not in self.dtypes:
            raise TypeError(f"{type(self).__name__}: unsupported dtype {self.dtype!r} (expected one of "
                            f"{', '.join(self.dtypes)})")

    def make_node(self, state, size, *params):
        state, size = as_state(self, state), as_size(self, size)
        if len(params) != len(self.params):
            raise TypeError(f"{_name(self)}: expected {len(self.params)} parameters "
                            f"({', '.join(p[0] for p in self.params)}), got {len(params)}")
        ndim = size.type.shape[0]
        params = [as_param(self, v, name, kinds, ndim + extra) for v, (name, kinds, extra) in zip(params, self.params)]
        static = tuple(_basic.static_lengths(size)) + self.extra_static_shape(params)
        sample = TensorType(self.dtype, shape=static)()
        return Apply(self, [state, size] + params, [state.type(), sample])

    def extra_static_shape(self, params):
        return ()

    def perform(self, node, inputs, output_storage):
        state = philox.check_state(inputs[0], _name(self))
        shape = tuple(int(s) for s in inputs[1])
        if any(s < 0 for s in shape):
            raise ValueError(f"{_name(self)}: the sample size {shape} has a negative length")
        sample, n_words = self.draw(state, shape, *inputs[2:])
        output_storage[0][0] = philox.advance(state, n_words)
        output_storage[1][0] = np.asarray(sample).astype(self.dtype, copy=False)

    def draw(self, state, shape, *params):
        raise NotImplementedError

    def extra_shape(self, node, input_shapes):
        return ()

    def infer_shape(self, fgraph, node, input_shapes):
        size = node.inputs[1]
        lengths = tuple(size[i] for i in range(size.type.shape[0]))
        return [input_shapes[0], lengths + tuple(self.extra_shape(node, input_shapes))]

    def do_constant_folding(self, fgraph, node):
        return False

    def connection_pattern(self, node):
        return [[True, True], [False, False]] + [[False, True]] * (len(node.inputs) - 2)

    def L_op(self, inputs, outputs, output_grads):
        grads = [disconnected(), disconnected()]
        for k, var in enumerate(inputs[2:], start=2):
            if var.dtype in ts.discrete_dtypes:
                grads.append(_basic.zeros_like(var, dtype=config.floatX))
            else:
                grads.append(grad_undefined(self, k, var, "random draws are not differentiable in their "
                                                          "parameters"))
        return grads


class UniformRV(RandomOp):
    """Uniform in the open interval (0, 1)."""

    dtypes = ts.float_dtypes

    def __init__(self, dtype="float64"):
        super().__init__(dtype)

    def draw(self, state, shape):
        values, n_words = transforms.uniform(state, int(np.prod(shape)), self.dtype)
        return values.reshape(shape), n_words


class NormalRV(RandomOp):
    """Standard normal (Box-Muller, computed in float64 and rounded to dtype)."""

    dtypes = ts.float_dtypes

    def __init__(self, dtype="float64"):
        super().__init__(dtype)

    def draw(self, state, shape):
        values, n_words = transforms.normal(state, int(np.prod(shape)))
        return values.reshape(shape), n_words


class BinomialRV(RandomOp):
    """Binomial(n, p) counts; n (integers) and p broadcast to size."""

    params = (("n", ("int",), 0), ("p", ("float",), 0))

    def draw(self, state, shape, n, p):
        trials = broadcast_param(self, n, shape, "n", np.int64)
        prob = broadcast_param(self, p, shape, "p", np.float64)
        values, n_words = transforms.binomial(state, trials, prob, _name(self))
        return values.reshape(shape), n_words


class IntegersRV(RandomOp):
    """Uniform integers in [low, high], both included (Theano's random_integers); low/high broadcast to size."""

    params = (("low", ("int",), 0), ("high", ("int",), 0))

    def draw(self, state, shape, low, high):
        lo = broadcast_param(self, low, shape, "low", np.int64)
        hi = broadcast_param(self, high, shape, "high", np.int64)
        values, n_words = transforms.integers(state, lo, hi, _name(self))
        return values.reshape(shape), n_words


def _scalar_param(op, value, name):
    value = np.asarray(value)
    if value.ndim != 0:
        raise ValueError(f"{_name(op)}: {name} must be a scalar, got shape {value.shape}")
    return int(value)


class PermutationRV(RandomOp):
    """A random permutation of range(n) for every index of size: the sample has shape size + (n,)."""

    params = (("n", ("int",), 0),)

    def make_node(self, state, size, n):
        n = _basic.as_tensor_variable(n)
        if n.ndim != 0:
            raise TypeError(f"{_name(self)}: n must be an integer scalar, got {n} of type {n.type}")
        return super().make_node(state, size, n)

    def extra_static_shape(self, params):
        return (_basic.static_lengths([params[0]])[0],)

    def extra_shape(self, node, input_shapes):
        return (node.inputs[2],)

    def draw(self, state, shape, n):
        n = _scalar_param(self, n, "n")
        if n < 0:
            raise ValueError(f"{_name(self)}: n must be >= 0, got {n}")
        rows = int(np.prod(shape))
        values, n_words = transforms.permutation(state, rows, n)
        return values.reshape(shape + (n,)), n_words


class ChoiceRV(RandomOp):
    """Elements of ``a`` (a vector, or range(a) for an integer scalar) drawn with or without replacement,
    uniformly or with probabilities ``p`` (then ``ChoiceRV(..., weighted=True)`` takes p as a third input)."""

    __props__ = ("dtype", "replace", "weighted")

    def __init__(self, dtype="int64", replace=True, weighted=False):
        super().__init__(dtype)
        self.replace = bool(replace)
        self.weighted = bool(weighted)

    def make_node(self, state, size, a, p=None):
        a = _basic.as_tensor_variable(a)
        if a.ndim > 1 or (a.ndim == 0 and a.dtype not in ts.int_dtypes + ts.uint_dtypes):
            raise TypeError(f"{_name(self)}: a must be an integer scalar (choose from range(a)) or a vector, "
                            f"got {a} of type {a.type}")
        if (p is not None) != self.weighted:
            raise TypeError(f"{_name(self)}: p must be given exactly when the op is weighted (weighted="
                            f"{self.weighted})")
        params = [a]
        if p is not None:
            p = as_param(self, p, "p", ("float",))
            if p.ndim != 1:
                raise TypeError(f"{_name(self)}: p must be a vector of probabilities, got {p} of type {p.type}")
            params.append(p)
        state, size = as_state(self, state), as_size(self, size)
        sample = TensorType(self.dtype, shape=_basic.static_lengths(size))()
        return Apply(self, [state, size] + params, [state.type(), sample])

    def draw(self, state, shape, a, p=None):
        a = np.asarray(a)
        population = int(a) if a.ndim == 0 else a.shape[0]
        if p is not None:
            p = np.asarray(p, dtype=np.float64)
        idx, n_words = transforms.choice(state, int(np.prod(shape)), population, self.replace, p, _name(self))
        values = idx if a.ndim == 0 else a[idx]
        return values.reshape(shape), n_words


class MultinomialRV(RandomOp):
    """Counts of n categorical draws with probabilities pvals (..., k): the sample has shape size + (k,)."""

    params = (("n", ("int",), 0), ("pvals", ("float",), 1))

    def make_node(self, state, size, n, pvals):
        pvals = _basic.as_tensor_variable(pvals)
        if pvals.ndim < 1:
            raise TypeError(f"{_name(self)}: pvals must have at least 1 dimension (the categories, last), "
                            f"got {pvals} of type {pvals.type}")
        return super().make_node(state, size, n, pvals)

    def extra_static_shape(self, params):
        return (params[1].type.shape[-1],)

    def extra_shape(self, node, input_shapes):
        return (input_shapes[3][-1],)

    def draw(self, state, shape, n, pvals):
        pvals = np.asarray(pvals, dtype=np.float64)
        k = pvals.shape[-1]
        trials = broadcast_param(self, n, shape, "n", np.int64)
        p = broadcast_param(self, pvals, shape + (k,), "pvals", np.float64).reshape(-1, k)
        values, n_words = transforms.multinomial(state, trials, p, _name(self))
        return values.reshape(shape + (k,)), n_words
