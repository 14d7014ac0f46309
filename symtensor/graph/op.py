"""The Op protocol: an immutable, hashable description of a computation.

Equality and hashing come from ``__props__`` so that two equal ops merge and
share compiled code.
"""

from symtensor.graph.basic import Apply, Variable


class Op:
    __props__ = ()
    #: {output index: [input indices]} the output may be a view of
    view_map = {}
    #: {output index: [input indices]} the output overwrites
    destroy_map = {}
    default_output = None

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
        raise NotImplementedError(f"{type(self).__name__}.make_node")

    def __call__(self, *inputs, return_list=False, **kwargs):
        node = self.make_node(*inputs, **kwargs)
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


def get_test_value(var):
    raise AttributeError("test values are not supported")


__all__ = ["Op", "Apply", "Variable"]
