"""The Op protocol: an immutable, hashable description of a computation.

Equality and hashing come from ``__props__`` so that two equal ops merge and
share compiled code.
"""

import inspect

from symtensor.config import config
from symtensor.graph.basic import Apply, Variable
from symtensor.graph.testvalue import compute_test_values, get_test_value  # noqa: F401  (Theano's gof.op API)


def _positional_params(fn):
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return None
    return sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params)


def _adapt_theano_signature(cls, name):
    """Ops written for Theano 1.0 define ``infer_shape(self, node, shapes)`` and
    ``do_constant_folding(self, node)``; wrap them into the ``(self, fgraph, node, ...)`` protocol."""
    fn = cls.__dict__.get(name)
    expected = {"infer_shape": 4, "do_constant_folding": 3}[name]
    if fn is None or _positional_params(fn) != expected - 1:
        return

    def adapted(self, fgraph, node, *rest):
        return fn(self, node, *rest)

    adapted.__doc__, adapted.__name__ = fn.__doc__, name
    setattr(cls, name, adapted)


class Op:
    __props__ = ()
    #: {output index: [input indices]} the output may be a view of
    view_map = {}
    #: {output index: [input indices]} the output overwrites
    destroy_map = {}
    default_output = None
    #: Theano's shortcut for simple ops: lists of input / output types used by the default make_node
    itypes = None
    otypes = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        _adapt_theano_signature(cls, "infer_shape")
        _adapt_theano_signature(cls, "do_constant_folding")

    def _props(self):
        return tuple(getattr(self, p) for p in self.__props__)

    def _props_dict(self):
        return {p: getattr(self, p) for p in self.__props__}

    def __eq__(self, other):
        return type(self) is type(other) and self._props() == other._props()

    def __hash__(self):
        return hash((type(self), self._props()))

    def __str__(self):
        if self.__props__:
            args = ", ".join(f"{p}={getattr(self, p)!r}" for p in self.__props__)
            return f"{type(self).__name__}{{{args}}}"
        return type(self).__name__

    __repr__ = __str__

    # -- graph building
    def make_node(self, *inputs):
        if self.itypes is None or self.otypes is None:
            raise NotImplementedError(f"{type(self).__name__}.make_node (or itypes and otypes)")
        if len(inputs) != len(self.itypes):
            raise TypeError(f"{type(self).__name__}: expected {len(self.itypes)} inputs, got {len(inputs)}")
        converted = []
        for k, (inp, itype) in enumerate(zip(inputs, self.itypes)):
            var = itype.filter_variable(inp) if hasattr(itype, "filter_variable") else inp
            if not isinstance(var, Variable) or not (var.type == itype or itype.is_super(var.type)):
                raise TypeError(f"{type(self).__name__}: input {k} must have type {itype}, got "
                                f"{getattr(var, 'type', type(var).__name__)}")
            converted.append(var)
        return Apply(self, converted, [t() for t in self.otypes])

    def __call__(self, *inputs, return_list=False, **kwargs):
        node = self.make_node(*inputs, **kwargs)
        if config.compute_test_value != "off":
            compute_test_values(node)
        if return_list:
            return list(node.outputs)
        if self.default_output is not None:
            return node.outputs[self.default_output]
        if len(node.outputs) == 1:
            return node.outputs[0]
        return list(node.outputs)

    # -- evaluation
    def perform(self, node, inputs, output_storage):
        """Compute outputs with NumPy: ``output_storage[i][0] = value``."""
        raise NotImplementedError(f"{type(self).__name__}.perform")

    def do_constant_folding(self, fgraph, node):
        return True

    # -- shapes
    def infer_shape(self, fgraph, node, input_shapes):
        raise NotImplementedError(f"{type(self).__name__}.infer_shape")

    # -- differentiation
    def L_op(self, inputs, outputs, output_grads):
        """Vector-Jacobian product; defaults to ``grad(inputs, output_grads)``."""
        return self.grad(inputs, output_grads)

    def grad(self, inputs, output_grads):
        raise NotImplementedError(f"{type(self).__name__} has no gradient")

    def R_op(self, inputs, eval_points):
        raise NotImplementedError(f"{type(self).__name__} has no R_op")

    def connection_pattern(self, node):
        """[input][output] booleans: is output j a function of input i?"""
        return [[True] * len(node.outputs) for _ in node.inputs]



class DataFirstOp(Op):
    """An op whose first ``n_data`` inputs are data and whose other inputs are indices or lengths.

    Only the data is differentiable, and the op is linear in it jointly, so its
    R-op applies the op to the tangents (zeros for data without one).
    """

    n_data = 1

    def connection_pattern(self, node):
        return [[True]] * self.n_data + [[False]] * (len(node.inputs) - self.n_data)

    def R_op(self, inputs, eval_points):
        tangents = eval_points[:self.n_data]
        if all(t is None for t in tangents):
            return [None]
        tangents = [x.zeros_like() if t is None else t for x, t in zip(inputs, tangents)]
        return [self(*tangents, *inputs[self.n_data:])]


__all__ = ["Op", "Apply", "Variable", "compute_test_values", "get_test_value"]
