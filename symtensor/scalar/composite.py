"""Composite: a graph of scalar ops used as one scalar op.

Fusion turns a chain of Elemwise nodes into one Elemwise over a Composite, so
the C backend can emit one loop for the whole chain. Two Composites with the
same inner graph (same ops wired the same way) are equal.
"""

from symtensor.graph.basic import Constant, clone_get_equiv, io_toposort
from symtensor.scalar.basic import ScalarOp, ScalarType, continuous_dtypes


class Composite(ScalarOp):
    """``Composite(inputs, outputs)``: inputs are ScalarVariables, outputs scalar expressions of them."""

    __props__ = ("signature",)

    def __init__(self, inputs, outputs):
        equiv = clone_get_equiv(inputs, outputs, copy_inputs=True)
        self.inputs = [equiv[i] for i in inputs]
        self.outputs = [equiv[o] for o in outputs]
        self.nodes = io_toposort(self.inputs, self.outputs)
        self.nin = len(self.inputs)
        self.nout = len(self.outputs)
        self.signature = self._signature()
        self.name = "Composite{" + self._describe() + "}"
        self.output_types_preference = None

    def _signature(self):
        ids = {v: ("in", k) for k, v in enumerate(self.inputs)}
        sig = [tuple(i.type.dtype for i in self.inputs)]
        for n, node in enumerate(self.nodes):
            args = []
            for i in node.inputs:
                if i in ids:
                    args.append(ids[i])
                elif isinstance(i, Constant):
                    args.append(("const", i.type.dtype, i.data.tobytes()))
                else:
                    raise ValueError(f"Composite: {i} is neither an input nor computed inside")
            sig.append((node.op, tuple(args)))
            for k, o in enumerate(node.outputs):
                ids[o] = ("node", n, k)
        sig.append(tuple(ids[o] if o in ids else ("const", o.type.dtype, o.data.tobytes()) for o in self.outputs))
        return tuple(sig)

    def _describe(self, limit=12):
        """A readable name: the expression for small graphs, a node count for big ones."""
        if len(self.nodes) > limit:
            return f"{len(self.nodes)} scalar ops"
        text = {v: f"i{k}" for k, v in enumerate(self.inputs)}
        for node in self.nodes:
            args = ", ".join(text.get(i, str(getattr(i, "data", i))) for i in node.inputs)
            for o in node.outputs:
                text[o] = f"{node.op}({args})"
        return ", ".join(text.get(o, str(getattr(o, "data", o))) for o in self.outputs)

    def __str__(self):
        return self.name

    def __hash__(self):
        return hash((Composite, self.signature))

    def output_types(self, types):
        if [t.dtype for t in types] != [i.type.dtype for i in self.inputs]:
            raise TypeError(f"{self}: expected input dtypes {[i.type.dtype for i in self.inputs]}, "
                            f"got {[t.dtype for t in types]}")
        return tuple(ScalarType(o.type.dtype) for o in self.outputs)

    def impl(self, *values):
        env = dict(zip(self.inputs, values))
        for node in self.nodes:
            args = [env[i] if i in env else i.data for i in node.inputs]
            for o, v in zip(node.outputs, node.op.compute(node, args)):
                env[o] = v
        results = [env[o] if o in env else o.data for o in self.outputs]
        return results[0] if self.nout == 1 else tuple(results)

    cast_inputs = False  # the inner ops cast their own inputs

    def grad(self, inputs, output_grads):
        """Reverse mode over the inner graph, re-built on the given inputs."""
        equiv = dict(zip(self.inputs, inputs))
        for node in self.nodes:
            new = node.op.make_node(*[equiv.get(i, i) for i in node.inputs])
            for o, n in zip(node.outputs, new.outputs):
                equiv[o] = n
        grads = {}
        for o, g in zip(self.outputs, output_grads):
            grads[equiv.get(o, o)] = g
        for node in reversed(self.nodes):
            outs = [equiv[o] for o in node.outputs]
            if not any(o in grads for o in outs):
                continue
            gouts = [grads.get(o) for o in outs]
            gouts = [g if g is not None else o.zeros_like() for g, o in zip(gouts, outs)]
            new_inputs = [equiv.get(i, i) for i in node.inputs]
            for i, g in zip(new_inputs, node.op.L_op(new_inputs, outs, gouts)):
                if isinstance(i, Constant) or i.type.dtype not in continuous_dtypes:
                    continue
                grads[i] = g if i not in grads else grads[i] + g
        return [grads.get(i, i.zeros_like()) for i in inputs]
