"""``as_op``: turn a NumPy function into an Op (Theano's ``theano.compile.ops.as_op``).

The quick way to put existing Python code in a graph: the function gets the
input arrays and returns the output array(s). Such an op has no gradient and,
unless ``infer_shape`` is given, its output shapes are only known by running it.
"""

import numpy as np

from symtensor.graph.op import Op


class FromFunctionOp(Op):
    """An Op whose ``perform`` calls a Python function; itypes/otypes give its signature."""

    __props__ = ("fn", "itypes", "otypes", "infer_shape_fn")

    def __init__(self, fn, itypes, otypes, infer_shape_fn=None):
        self.fn = fn
        self.itypes = tuple(itypes)
        self.otypes = tuple(otypes)
        self.infer_shape_fn = infer_shape_fn

    def __str__(self):
        return f"FromFunctionOp{{{getattr(self.fn, '__name__', self.fn)}}}"

    __repr__ = __str__

    def make_node(self, *inputs):
        """Inputs are converted to, and checked against, ``itypes`` (see Op.make_node)."""
        return super().make_node(*inputs)

    def perform(self, node, inputs, output_storage):
        outs = self.fn(*inputs)
        if not isinstance(outs, (list, tuple)):
            outs = (outs,)
        if len(outs) != len(self.otypes):
            raise ValueError(f"{self}: the function returned {len(outs)} outputs, expected {len(self.otypes)}")
        for storage, value, otype in zip(output_storage, outs, self.otypes):
            dtype = getattr(otype, "dtype", None)
            storage[0] = np.array(value, dtype=dtype) if dtype is not None else value

    def infer_shape(self, fgraph, node, input_shapes):
        if self.infer_shape_fn is None:
            raise NotImplementedError(f"{self} has no infer_shape")
        return self.infer_shape_fn(node, input_shapes)

    def grad(self, inputs, output_grads):
        raise NotImplementedError(f"{self} (made with as_op) has no gradient")


def as_op(itypes, otypes, infer_shape=None):
    """Decorator: ``@as_op(itypes=[T.dmatrix], otypes=[T.dvector])`` over ``def f(a): return ...``.

    ``infer_shape(node, input_shapes)``, if given, returns the output shapes.
    """
    itypes = list(itypes) if isinstance(itypes, (list, tuple)) else [itypes]
    otypes = list(otypes) if isinstance(otypes, (list, tuple)) else [otypes]
    if infer_shape is not None and not callable(infer_shape):
        raise TypeError("as_op: infer_shape must be callable(node, input_shapes)")

    def make_op(fn):
        return FromFunctionOp(fn, itypes, otypes, infer_shape)

    return make_op
