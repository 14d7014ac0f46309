"""Elemwise (a scalar op lifted to tensors with broadcasting), DimShuffle and CAReduce."""

import numpy as np

import symtensor.tensor.basic as _basic
import symtensor.tensor.math as _math
from symtensor import scalar as ts
from symtensor.config import config
from symtensor.graph.basic import Apply, Constant
from symtensor.graph.null_type import DisconnectedType, NullType
from symtensor.graph.op import Op
from symtensor.tensor.type import TensorType


# ----------------------------------------------------------------- DimShuffle

class DimShuffle(Op):
    """Permute dimensions, add broadcastable ones ('x') and drop broadcastable ones.

    ``DimShuffle((False, True, False), (2, 0, 'x'))``: output dim 0 is input
    dim 2, output dim 1 is input dim 0, output dim 2 is a new length-1 axis;
    input dim 1 (broadcastable) is dropped. The output is a view.
    """

    __props__ = ("input_broadcastable", "new_order")
    view_map = {0: [0]}

    def __init__(self, input_broadcastable, new_order, inplace=True):
        self.input_broadcastable = tuple(bool(b) for b in input_broadcastable)
        self.new_order = tuple(o if o == "x" else int(o) for o in new_order)
        nd = len(self.input_broadcastable)
        seen = set()
        for o in self.new_order:
            if o == "x":
                continue
            if o < 0:
                raise ValueError(f"DimShuffle: negative axis {o} in pattern {new_order}; use 0..{nd - 1}")
            if o >= nd:
                raise ValueError(f"DimShuffle: axis {o} in pattern {new_order} does not exist in a {nd}-d input")
            if o in seen:
                raise ValueError(f"DimShuffle: axis {o} appears twice in pattern {new_order}")
            seen.add(o)
        self.drop = [i for i in range(nd) if i not in seen]
        for i in self.drop:
            if not self.input_broadcastable[i]:
                raise ValueError(f"DimShuffle: cannot drop dimension {i} of pattern {new_order}: it is not "
                                 "broadcastable (its length is not known to be 1)")
        self.shuffle = [o for o in self.new_order if o != "x"]
        self.augment = [i for i, o in enumerate(self.new_order) if o == "x"]

    def __str__(self):
        return "DimShuffle{" + ",".join(str(o) for o in self.new_order) + "}"

    def make_node(self, x):
        x = _basic.as_tensor_variable(x)
        if x.type.broadcastable != self.input_broadcastable:
            if len(x.type.broadcastable) != len(self.input_broadcastable):
                raise TypeError(f"{self}: expected a {len(self.input_broadcastable)}-d input, got {x.ndim}-d {x}")
            for want, got in zip(self.input_broadcastable, x.type.broadcastable):
                if want and not got:
                    raise TypeError(f"{self}: input broadcastable pattern {x.type.broadcastable} does not match "
                                    f"{self.input_broadcastable}")
        shape = tuple(1 if o == "x" else x.type.shape[o] for o in self.new_order)
        out = TensorType(x.type.dtype, shape=shape)()
        return Apply(self, [x], [out])

    def perform(self, node, inputs, output_storage):
        (x,) = inputs
        res = x.transpose(self.shuffle + self.drop)
        res = res.reshape([x.shape[o] if o != "x" else 1 for o in self.new_order]) if self.new_order else res.reshape(())
        output_storage[0][0] = res

    def infer_shape(self, fgraph, node, input_shapes):
        (ishape,) = input_shapes
        return [tuple(1 if o == "x" else ishape[o] for o in self.new_order)]

    def L_op(self, inputs, outputs, output_grads):
        (x,) = inputs
        (gz,) = output_grads
        if x.type.dtype in ts.discrete_dtypes:
            return [_basic.zeros_like(x, dtype=config.floatX)]
        gz = _basic.as_tensor_variable(gz)
        if self.augment:
            gz = gz.sum(axis=self.augment)  # now one axis per kept input axis, in output order
        pattern = [self.shuffle.index(a) if a in self.shuffle else "x" for a in range(x.ndim)]
        g = DimShuffle(gz.broadcastable, pattern)(gz)
        return [_basic.patternbroadcast(g, x.broadcastable)]

    def R_op(self, inputs, eval_points):
        if eval_points[0] is None:
            return [None]
        return [self(eval_points[0])]


# -------------------------------------------------------------------- Elemwise

def _broadcast_shape(inputs, opname):
    """Static output shape of an elementwise op; clash of known lengths raises."""
    ndim = inputs[0].ndim
    shape = []
    for axis in range(ndim):
        lengths = {i.type.shape[axis] for i in inputs} - {None}
        non_one = lengths - {1}
        if len(non_one) > 1:
            raise ValueError(f"{opname}: inputs have incompatible static lengths {sorted(non_one)} on axis {axis}: "
                             + ", ".join(f"{i} {i.type.shape}" for i in inputs))
        if non_one:
            shape.append(non_one.pop())
        elif all(i.type.broadcastable[axis] for i in inputs):
            shape.append(1)
        else:
            shape.append(None)
    return tuple(shape)


class Elemwise(Op):
    """Apply ``scalar_op`` elementwise, with broadcasting along broadcastable axes."""

    __props__ = ("scalar_op", "inplace_pattern")

    def __init__(self, scalar_op, inplace_pattern=None, name=None):
        self.scalar_op = scalar_op
        self.inplace_pattern = tuple(sorted((inplace_pattern or {}).items()))
        self.destroy_map = {o: [i] for o, i in self.inplace_pattern}
        self.name = name

    def __str__(self):
        if self.name:
            return self.name
        extra = ",inplace" if self.inplace_pattern else ""
        return f"Elemwise{{{self.scalar_op}{extra}}}"

    def make_node(self, *inputs):
        nin = self.scalar_op.nin
        if nin >= 0 and len(inputs) != nin:
            raise TypeError(f"{self}: expected {nin} inputs, got {len(inputs)}")
        inputs = [_basic.as_tensor_variable(i) for i in inputs]
        ndim = max((i.ndim for i in inputs), default=0)
        inputs = [i if i.ndim == ndim else
                  DimShuffle(i.broadcastable, ["x"] * (ndim - i.ndim) + list(range(i.ndim)))(i)
                  for i in inputs]
        try:
            out_types = self.scalar_op.output_types([ts.ScalarType(i.type.dtype) for i in inputs])
        except TypeError as exc:
            raise TypeError(f"{self}: {exc} (input dtypes {[i.type.dtype for i in inputs]})") from None
        shape = _broadcast_shape(inputs, str(self))
        outputs = [TensorType(t.dtype, shape=shape)() for t in out_types]
        return Apply(self, inputs, outputs)

    def perform(self, node, inputs, output_storage):
        self._check_runtime_broadcast(node, inputs)
        results = self.scalar_op.compute(node, inputs)
        shape = np.broadcast_shapes(*[np.shape(x) for x in inputs]) if inputs else ()
        inplace = dict(self.inplace_pattern)
        for k, (store, res) in enumerate(zip(output_storage, results)):
            if res.shape != shape:
                res = np.broadcast_to(res, shape)
            target = inputs[inplace[k]] if k in inplace else None
            if (isinstance(target, np.ndarray) and target.flags.writeable and target.shape == res.shape
                    and target.dtype == res.dtype):
                np.copyto(target, res)  # in place (destroy_map): the result lives in the input's buffer
                res = target
            # outputs own their memory: never a view of an input or a read-only broadcast
            elif not res.flags.writeable or any(np.may_share_memory(res, x) for x in inputs):
                res = res.copy()
            store[0] = res

    def _check_runtime_broadcast(self, node, inputs):
        if len(inputs) < 2:
            return
        for axis in range(node.outputs[0].ndim):
            length = None
            for var, val in zip(node.inputs, inputs):
                if var.type.broadcastable[axis]:
                    continue
                n = val.shape[axis]
                if length is None:
                    length = n
                elif n != length:
                    shapes = ", ".join(f"{v.shape}" for v in inputs)
                    raise ValueError(f"{self}: input dimension mismatch on axis {axis} "
                                     f"(lengths {length} and {n}; input shapes {shapes}). Only axes marked "
                                     "broadcastable may be broadcast; use T.addbroadcast or dimshuffle('x', ...)")

    def infer_shape(self, fgraph, node, input_shapes):
        out = []
        for axis in range(node.outputs[0].ndim):
            dim = None
            for var, shp in zip(node.inputs, input_shapes):
                if not var.type.broadcastable[axis]:
                    dim = shp[axis]
                    break
            out.append(dim if dim is not None else 1)
        return [tuple(out)] * len(node.outputs)

    def L_op(self, inputs, outputs, output_grads):
        scalar_inputs = [ts.ScalarType(i.type.dtype)() for i in inputs]
        scalar_outputs = self.scalar_op.make_node(*scalar_inputs).outputs
        scalar_gouts = []
        for g, out in zip(output_grads, outputs):
            dtype = g.type.dtype if isinstance(g.type, TensorType) else out.type.dtype
            scalar_gouts.append(ts.ScalarType(dtype)())
        scalar_grads = self.scalar_op.L_op(scalar_inputs, scalar_outputs, scalar_gouts)
        mapping = dict(zip(scalar_inputs, inputs))
        mapping.update(zip(scalar_outputs, outputs))
        mapping.update(zip(scalar_gouts, output_grads))
        grads = []
        for x, sg in zip(inputs, scalar_grads):
            if isinstance(sg.type, (NullType, DisconnectedType)):
                grads.append(sg)
                continue
            g = _lift_scalar_graph(sg, mapping)
            grads.append(_reduce_to_input(g, x))
        return grads


def _lift_scalar_graph(var, mapping):
    """Turn a graph of scalar ops into the same graph of Elemwise tensor ops."""
    if var in mapping:
        return mapping[var]
    if isinstance(var, Constant):
        res = _basic.constant(np.asarray(var.data), dtype=var.type.dtype)
    elif var.owner is None:
        raise ValueError(f"scalar gradient graph depends on an unknown input {var}")
    else:
        args = [_lift_scalar_graph(i, mapping) for i in var.owner.inputs]
        res = Elemwise(var.owner.op)(*args, return_list=True)[var.index]
    mapping[var] = res
    return res


def _reduce_to_input(g, x):
    """Sum a gradient over the axes along which ``x`` was broadcast, and match its dtype."""
    g = _basic.as_tensor_variable(g)
    if g.ndim < x.ndim:  # a gradient that does not involve the output gradient (e.g. a zero)
        g = _math.second(x, g)
    if g.ndim > x.ndim:
        g = g.sum(axis=list(range(g.ndim - x.ndim)))
    axes = [a for a in range(x.ndim) if x.broadcastable[a] and not g.broadcastable[a]]
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    if g.broadcastable != x.broadcastable:
        g = _basic.patternbroadcast(g, x.broadcastable)
    if x.type.dtype in ts.continuous_dtypes and g.type.dtype != x.type.dtype:
        g = _basic.cast(g, x.type.dtype)
    if x.type.dtype in ts.discrete_dtypes:
        g = _basic.zeros_like(x, dtype=config.floatX)
    if g.ndim == x.ndim and g.type.shape != x.type.shape and not all(
            gs is None or xs is None or gs == xs for gs, xs in zip(g.type.shape, x.type.shape)):
        raise ValueError(f"gradient shape {g.type.shape} does not match input shape {x.type.shape}")
    return g


# --------------------------------------------------------------------- CAReduce

_REDUCERS = {
    "add": np.sum, "mul": np.prod, "maximum": np.max, "minimum": np.min,
    "and_": np.all, "or_": np.any,
}

_ACC_DTYPE = {"bool": "int64", "int8": "int64", "int16": "int64", "int32": "int64", "int64": "int64",
              "uint8": "uint64", "uint16": "uint64", "uint32": "uint64", "uint64": "uint64",
              "float16": "float32", "float32": "float64", "float64": "float64",
              "complex64": "complex128", "complex128": "complex128"}


class CAReduce(Op):
    """Reduce along ``axis`` (a tuple, or None for all) with an associative scalar op."""

    __props__ = ("scalar_op", "axis", "dtype", "acc_dtype")

    def __init__(self, scalar_op, axis=None, dtype=None, acc_dtype=None):
        if scalar_op.name not in _REDUCERS:
            raise ValueError(f"CAReduce: no reduction for scalar op {scalar_op}")
        self.scalar_op = scalar_op
        self.axis = None if axis is None else tuple(sorted(set(int(a) for a in axis)))
        self.dtype = dtype
        self.acc_dtype = acc_dtype

    def __str__(self):
        names = {"add": "Sum", "mul": "Prod", "maximum": "Max", "minimum": "Min", "and_": "All", "or_": "Any"}
        name = names[self.scalar_op.name]
        return f"{name}{{axis={list(self.axis) if self.axis is not None else None}}}"

    def _out_dtype(self, dtype):
        if self.dtype is not None:
            return self.dtype
        if self.scalar_op.name in ("and_", "or_"):
            return "bool"
        if self.scalar_op.name in ("add", "mul"):
            return {"bool": "int64", "int8": "int64", "int16": "int64", "int32": "int64",
                    "uint8": "uint64", "uint16": "uint64", "uint32": "uint64"}.get(dtype, dtype)
        return dtype

    def make_node(self, x):
        x = _basic.as_tensor_variable(x)
        axis = self.axis if self.axis is not None else tuple(range(x.ndim))
        for a in axis:
            if a < 0 or a >= x.ndim:
                raise ValueError(f"{self}: axis {a} out of range for a {x.ndim}-d input {x}")
        op = self
        if self.axis is None:
            op = CAReduce(self.scalar_op, axis, self.dtype, self.acc_dtype)
        shape = tuple(s for i, s in enumerate(x.type.shape) if i not in axis)
        out = TensorType(self._out_dtype(x.type.dtype), shape=shape)()
        return Apply(op, [x], [out])

    def perform(self, node, inputs, output_storage):
        (x,) = inputs
        out_dtype = node.outputs[0].type.dtype
        reducer = _REDUCERS[self.scalar_op.name]
        if self.scalar_op.name in ("maximum", "minimum") and 0 in [x.shape[a] for a in self.axis]:
            raise ValueError(f"{self}: cannot reduce an empty axis of an input of shape {x.shape} "
                             "(maximum/minimum have no identity)")
        if self.scalar_op.name in ("add", "mul"):
            acc = self.acc_dtype or _ACC_DTYPE.get(x.dtype.name, x.dtype.name)  # keys are names, not np.dtype
            res = reducer(x, axis=self.axis, dtype=acc)
        else:
            res = reducer(x, axis=self.axis)
        output_storage[0][0] = np.asarray(res, dtype=out_dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        (shp,) = input_shapes
        return [tuple(s for i, s in enumerate(shp) if i not in self.axis)]

    def L_op(self, inputs, outputs, output_grads):
        (x,) = inputs
        (out,) = outputs
        (gz,) = output_grads
        if x.type.dtype in ts.discrete_dtypes or self.scalar_op.name in ("and_", "or_"):
            return [_basic.zeros_like(x, dtype=config.floatX)]
        pattern = []
        k = 0
        for i in range(x.ndim):
            if i in self.axis:
                pattern.append("x")
            else:
                pattern.append(k)
                k += 1
        gz_b = DimShuffle(gz.broadcastable, pattern)(gz) if pattern != list(range(x.ndim)) else gz
        out_b = DimShuffle(out.broadcastable, pattern)(out) if pattern != list(range(x.ndim)) else out
        name = self.scalar_op.name
        if name == "add":
            g = _basic.alloc_like(gz_b, x)
        elif name in ("maximum", "minimum"):
            g = gz_b * _basic.cast(_math.eq(out_b, x), gz.type.dtype)
        else:  # prod: correct with zeros in the input
            g = _math.prod_grad(x, self.axis, gz_b, out_b)
        return [_basic.cast(g, x.type.dtype)]
