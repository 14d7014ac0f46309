"""The structure of an inner graph as a hashable value: ops holding a graph (Scan, OpFromGraph) compare by it.

Two inner graphs with the same input types, the same ops wired the same way and the
same constants are the same computation, so their ops are equal and merge.
"""

from symtensor.graph.basic import Constant, io_toposort


class GraphSignature:
    """The inner graph's structure (input types, ops, wiring, constants), hashed once."""

    __slots__ = ("key", "_hash")

    def __init__(self, inputs, outputs, owner="an inner graph"):
        ids = {v: ("in", k) for k, v in enumerate(inputs)}
        key = [tuple(v.type for v in inputs)]
        for n, node in enumerate(io_toposort(inputs, outputs)):
            args = []
            for i in node.inputs:
                if i in ids:
                    args.append(ids[i])
                elif isinstance(i, Constant):
                    args.append(("const",) + i.signature())
                else:
                    raise ValueError(f"{owner}: the inner graph reads {i} (type {i.type}), which is neither an "
                                     "inner input nor a constant; pass it as an input")
            key.append((node.op, tuple(args)))
            ids.update({o: ("node", n, k) for k, o in enumerate(node.outputs)})
        key.append(tuple(ids[o] if o in ids else ("const",) + o.signature() for o in outputs))
        self.key = tuple(key)
        self._hash = hash(self.key)

    def __eq__(self, other):
        return isinstance(other, GraphSignature) and self._hash == other._hash and self.key == other.key

    def __hash__(self):
        return self._hash

    def __repr__(self):
        return f"<inner graph {self._hash & 0xffffffff:08x}>"
