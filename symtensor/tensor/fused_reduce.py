"""FusedReduce: a reduction of an elementwise expression, computed without materializing it.

``FusedReduce(reduce_op, axis, composite)(a, b, ...)`` equals
``CAReduce(reduce_op, axis)(Elemwise(composite)(a, b, ...))``. The fusion
phase builds it when a reduction's input is a fused elementwise node that
nothing else reads; the C backend then evaluates the expression inside the
reduction loop (one pass, no temporary array). Its gradient is the gradient
of the unfused form.
"""

import numpy as np

import symtensor.tensor.basic as _basic
from symtensor import scalar as ts
from symtensor.graph.basic import Apply
from symtensor.graph.op import Op
from symtensor.scalar.composite import Composite
from symtensor.tensor.elemwise import CAReduce, Elemwise


class FusedReduce(Op):
    __props__ = ("scalar_op", "axis", "dtype", "acc_dtype", "composite")

    def __init__(self, scalar_op, axis, composite, dtype=None, acc_dtype=None):
        if not isinstance(composite, Composite) or composite.nout != 1:
            raise TypeError("FusedReduce needs a single-output Composite")
        self.scalar_op = scalar_op
        self.axis = tuple(axis)
        self.dtype = dtype
        self.acc_dtype = acc_dtype
        self.composite = composite

    def __str__(self):
        return f"FusedReduce{{{CAReduce(self.scalar_op, self.axis, self.dtype, self.acc_dtype)}, {self.composite}}}"

    def unfused(self, *inputs):
        """The same value built from CAReduce and Elemwise (used for gradients and shapes)."""
        return CAReduce(self.scalar_op, self.axis, self.dtype, self.acc_dtype)(Elemwise(self.composite)(*inputs))

    def make_node(self, *inputs):
        inputs = [_basic.as_tensor_variable(i) for i in inputs]
        reference = self.unfused(*inputs)
        return Apply(self, reference.owner.inputs[0].owner.inputs, [reference.type()])

    def perform(self, node, inputs, output_storage):
        elem = Elemwise(self.composite)
        inner = elem.make_node(*node.inputs)
        values = [[None]]
        elem.perform(inner, inputs, values)
        reduce_op = CAReduce(self.scalar_op, self.axis, self.dtype, self.acc_dtype)
        reduce_node = reduce_op.make_node(inner.outputs[0])
        reduce_node.op.perform(reduce_node, [values[0][0]], output_storage)

    def infer_shape(self, fgraph, node, input_shapes):
        shape = Elemwise(self.composite).infer_shape(fgraph, Elemwise(self.composite).make_node(*node.inputs),
                                                      input_shapes)[0]
        return [tuple(s for i, s in enumerate(shape) if i not in self.axis)]

    def L_op(self, inputs, outputs, output_grads):
        elem = Elemwise(self.composite)
        elem_out = elem(*inputs)
        reduce_op = CAReduce(self.scalar_op, self.axis, self.dtype, self.acc_dtype)
        g_elem = reduce_op.L_op([elem_out], [reduce_op(elem_out)], output_grads)[0]
        return elem.L_op(list(inputs), [elem_out], [g_elem])


def fusable(reduce_node, var, n_clients):
    """The Composite a reduction can absorb from its input ``var``, or None."""
    node = var.owner
    if (node is None or not isinstance(node.op, Elemwise) or len(node.outputs) != 1 or node.op.destroy_map
            or n_clients != 1 or not isinstance(reduce_node.op, CAReduce)
            or reduce_node.op.scalar_op.name not in ("add", "mul", "maximum", "minimum")
            or any(i.ndim != var.ndim for i in node.inputs) or np.dtype(var.dtype).kind not in "biuf"):
        return None
    op = node.op.scalar_op
    if isinstance(op, Composite):
        return op if op.nout == 1 else None
    if op.nout != 1:
        return None
    scalars = [ts.ScalarType(i.dtype)() for i in node.inputs]
    return Composite(scalars, [op(*scalars)])
