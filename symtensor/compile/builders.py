"""OpFromGraph: an Op defined by a graph (Theano's ``theano.compile.builders.OpFromGraph``).

The inner graph is cloned once. Unless the op is inlined, ``perform`` runs it
as a compiled function, so a block reused many times is rewritten once. Its
gradient and R-op are inner graphs too, wrapped in OpFromGraphs of their own;
``inline=True`` makes a rewrite expand every application into the outer graph,
where it is rewritten together with its surroundings.

Shared variables read by the inner graph become hidden extra inputs of each
application (the outer node reads them; the inner function gets their values).
Two ops from graphs of the same structure are equal (a signature of the inner
graph), so their applications merge.
"""

import inspect

from symtensor.compile.function import MissingInputError, function
from symtensor.compile.sharedvalue import SharedVariable
from symtensor.config import config
from symtensor.gradient import Rop, grad
from symtensor.graph.basic import Apply, Constant, Variable, ancestors, clone_get_equiv, clone_replace, io_toposort
from symtensor.graph.null_type import DisconnectedType, is_disconnected, is_null
from symtensor.graph.op import Op
from symtensor.graph.rewriting.basic import node_rewriter
from symtensor.graph.signature import GraphSignature
from symtensor.scalar.basic import continuous_dtypes
from symtensor.tensor import basic as tb
from symtensor.tensor.rewriting.pipeline import register
from symtensor.tensor.shape import symbolic_shape
from symtensor.tensor.type import TensorType

__all__ = ["OpFromGraph"]

#: arguments of ``function`` that make no sense for an inner graph
_NOT_FOR_INNER = {"inputs", "outputs", "updates", "givens", "no_default_updates"}


def _freeze(value):
    """A hashable stand-in for an option (lists become tuples, dicts sorted item tuples)."""
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    return value


def _connection_pattern(inputs, outputs):
    """[input][output]: may the output depend on the input, following each inner op's connection_pattern."""
    reach = {v: {k} for k, v in enumerate(inputs)}
    for node in io_toposort(inputs, outputs):
        pattern = node.op.connection_pattern(node)
        for j, out in enumerate(node.outputs):
            reach[out] = set().union(*[reach.get(i, set()) for k, i in enumerate(node.inputs) if pattern[k][j]])
    return [[k in reach.get(o, set()) for o in outputs] for k in range(len(inputs))]


def _is_float(var):
    return getattr(var.type, "dtype", None) in continuous_dtypes


def _loose(type_):
    """A tensor type without static lengths (only the broadcast pattern), so any fitting value converts."""
    return TensorType(type_.dtype, type_.broadcastable) if isinstance(type_, TensorType) else type_


def _is_special(var):
    return isinstance(var, Variable) and (is_null(var) or is_disconnected(var))


class OpFromGraph(Op):
    """``OpFromGraph(inputs, outputs, inline=False, grad_overrides='default', rop_overrides='default',
    name=None, **kwargs)``: an Op computing ``outputs`` from ``inputs``, like ``function(inputs, outputs,
    **kwargs)`` (no updates or givens).

    ``grad_overrides`` replaces the gradient: 'default'; a callable ``(inputs, output_grads) -> list``
    (one gradient per input) or an OpFromGraph taking inputs + output_grads; a NullType (undefined) or
    DisconnectedType (zero) variable; or a list with one such entry (or a callable/OpFromGraph giving a
    single variable) per input. ``rop_overrides`` does the same for the R-op, with eval points in place
    of output gradients and one entry per output. Callables are called once, on placeholders.
    """

    __props__ = ("signature", "inline", "overrides", "options")

    def __init__(self, inputs, outputs, inline=False, grad_overrides="default", rop_overrides="default", name=None,
                 **kwargs):
        inputs, outputs = self._check_graph(inputs, outputs)
        unknown = set(kwargs) - (set(inspect.signature(function).parameters) - _NOT_FOR_INNER)
        if unknown:
            raise TypeError(f"OpFromGraph: unsupported keyword arguments {sorted(unknown)} (updates and givens are "
                            "not supported; other keywords are those of function)")
        free = [v for v in ancestors(outputs, blockers=inputs) if v.owner is None and v not in inputs
                and not isinstance(v, Constant)]
        missing = [v for v in free if not isinstance(v, SharedVariable)]
        if missing:
            raise MissingInputError(f"OpFromGraph: the outputs depend on {missing[0]} (type {missing[0].type}), which "
                                    f"is not one of the inputs. It was created at:\n{missing[0].creation_site()}",
                                    missing[0])
        #: shared variables the inner graph reads: every application passes them as extra inputs
        self.shared_inputs = free
        memo = {s: s.type(s.name) for s in free}
        equiv = clone_get_equiv(inputs + free, outputs, copy_inputs=True, copy_orphans=False, memo=memo)
        self.inner_inputs = [equiv[v] for v in inputs + free]
        self.inner_outputs = [equiv[v] for v in outputs]
        self.inline = bool(inline)
        self.name = name
        self.grad_overrides, self.rop_overrides = grad_overrides, rop_overrides
        self.kwargs = kwargs
        self.signature = GraphSignature(self.inner_inputs, self.inner_outputs, "OpFromGraph")
        self.overrides = (_freeze(grad_overrides), _freeze(rop_overrides))
        self.options = _freeze(kwargs)
        self._fn = None
        self._pattern = None
        self._grad = None  # (OpFromGraph or None, [per input: int index into its outputs, or a special variable])
        self._rop = None   # likewise, per output

    @staticmethod
    def _check_graph(inputs, outputs):
        if not isinstance(inputs, (list, tuple)):
            raise TypeError(f"OpFromGraph: inputs must be a list of variables, got {type(inputs).__name__}")
        if not isinstance(outputs, (list, tuple)):
            raise TypeError(f"OpFromGraph: outputs must be a list of variables, got {type(outputs).__name__}")
        for k, v in enumerate(inputs):
            if not isinstance(v, Variable):
                raise TypeError(f"OpFromGraph: input {k} must be a Variable, got {type(v).__name__} {v!r}")
            if isinstance(v, Constant):
                raise TypeError(f"OpFromGraph: input {k} ({v}) is a constant; constants belong inside the graph")
            if isinstance(v, SharedVariable):
                raise TypeError(f"OpFromGraph: input {k} ({v}) is a shared variable; leave it out of inputs, the "
                                "op passes the shared variables it reads by itself")
        if len(set(inputs)) != len(inputs):
            raise ValueError("OpFromGraph: an input is given more than once")
        for k, v in enumerate(outputs):
            if not isinstance(v, Variable):
                raise TypeError(f"OpFromGraph: output {k} must be a Variable, got {type(v).__name__} {v!r}")
        if not outputs:
            raise ValueError("OpFromGraph: give at least one output")
        return list(inputs), list(outputs)

    def __str__(self):
        return f"OpFromGraph{{{self.name}}}" if self.name else "OpFromGraph"

    __repr__ = __str__

    @property
    def n_inputs(self):
        """How many inputs a call takes (the shared variables are added by the op)."""
        return len(self.inner_inputs) - len(self.shared_inputs)

    # ------------------------------------------------------------------ graph building
    def make_node(self, *inputs):
        if len(inputs) != self.n_inputs:
            raise TypeError(f"{self}: expected {self.n_inputs} inputs, got {len(inputs)}")
        converted = []
        for k, (inner, value) in enumerate(zip(self.inner_inputs, inputs)):
            if not isinstance(value, Variable):
                try:
                    value = inner.type.filter_variable(value)
                except (AttributeError, TypeError, ValueError) as exc:
                    raise TypeError(f"{self}: input {k} {value!r} does not fit {inner.type}: {exc}") from None
            var = inner.type.convert_variable(value)
            if var is None:
                raise TypeError(f"{self}: input {k} ({value}) has type {value.type}, expected {inner.type}")
            converted.append(var)
        return Apply(self, converted + self.shared_inputs, [o.type() for o in self.inner_outputs])

    # ------------------------------------------------------------------ running
    def inner_function(self):
        """The inner graph compiled with ``function(inputs, outputs, **kwargs)`` (cached)."""
        if self._fn is None:
            options = dict(self.kwargs)
            options.setdefault("on_unused_input", "ignore")
            options.setdefault("name", str(self))
            self._fn = function(self.inner_inputs, list(self.inner_outputs), **options)
        return self._fn

    def perform(self, node, inputs, output_storage):
        results = self.inner_function()(*inputs)
        for cell, value in zip(output_storage, results):
            cell[0] = value

    # ------------------------------------------------------------------ shapes
    def infer_shape(self, fgraph, node, input_shapes):
        cache = {inner: tuple(shape) for inner, shape in zip(self.inner_inputs, input_shapes)
                 if shape is not None and isinstance(inner.type, TensorType)}
        mapping = dict(zip(self.inner_inputs, node.inputs))
        out = []
        for o in self.inner_outputs:
            shape = symbolic_shape(o, cache)
            out.append(None if shape is None else tuple(clone_replace(list(shape), mapping, strict=False)))
        return out

    # ------------------------------------------------------------------ derivatives
    def connection_pattern(self, node):
        if self._pattern is None:
            self._pattern = _connection_pattern(self.inner_inputs, self.inner_outputs)
        return [list(row) for row in self._pattern]

    def _output_grad_placeholders(self):
        """One gradient per output: its dtype when float, floatX otherwise (what grad passes for those)."""
        return [TensorType(o.dtype if _is_float(o) else config.floatX, o.broadcastable)(f"g_{o.name or k}")
                if isinstance(o.type, TensorType) else o.type(f"g_{o.name or k}")
                for k, o in enumerate(self.inner_outputs)]

    def _default_grads(self, output_grads):
        known = {}
        for o, g in zip(self.inner_outputs, output_grads):
            if _is_float(o):
                known[o] = known[o] + g if o in known else g
        if not known:
            return [DisconnectedType()() for _ in self.inner_inputs]
        return grad(None, self.inner_inputs, known_grads=known, disconnected_inputs="ignore",
                    return_disconnected="Disconnected", null_gradients="return")

    def _build_grad(self):
        gs = self._output_grad_placeholders()
        with config.change_flags(compute_test_value="off"):
            grads = _expand_overrides(self.grad_overrides, len(self.inner_inputs), self.inner_inputs, gs,
                                      self._default_grads, "grad_overrides", "input")
            return _pack(grads, self.inner_inputs + gs, self.inline, f"{self}.grad")

    def L_op(self, inputs, outputs, output_grads):
        if self._grad is None:
            self._grad = self._build_grad()
        op, layout = self._grad
        outs = op(*inputs, *output_grads, return_list=True) if op is not None else []
        return [outs[entry] if isinstance(entry, int) else entry for entry in layout]

    def _default_rops(self, eval_points):
        wrt = [(i, e) for i, e in zip(self.inner_inputs, eval_points) if _is_float(i)]
        floats = [o for o in self.inner_outputs if _is_float(o)]
        if not wrt or not floats:
            return [DisconnectedType()() for _ in self.inner_outputs]
        rops = iter(Rop(floats, [i for i, _ in wrt], [e for _, e in wrt], disconnected_outputs="ignore",
                        return_disconnected="Disconnected"))
        return [next(rops) if _is_float(o) else DisconnectedType()() for o in self.inner_outputs]

    def _build_rop(self):
        es = [_loose(i.type)(f"e_{i.name or k}") for k, i in enumerate(self.inner_inputs)]
        with config.change_flags(compute_test_value="off"):
            rops = _expand_overrides(self.rop_overrides, len(self.inner_outputs), self.inner_inputs, es,
                                     self._default_rops, "rop_overrides", "output")
            return _pack(rops, self.inner_inputs + es, self.inline, f"{self}.rop")

    def R_op(self, inputs, eval_points):
        if self._rop is None:
            self._rop = self._build_rop()
        op, layout = self._rop
        if all(e is None for e in eval_points):
            return [None] * len(self.inner_outputs)
        points = [tb.zeros_like(i) if e is None else tb.patternbroadcast(e, i.broadcastable)
                  if isinstance(i.type, TensorType) else e for i, e in zip(inputs, eval_points)]
        outs = op(*inputs, *points, return_list=True) if op is not None else []
        return [outs[entry] if isinstance(entry, int) else None for entry in layout]


def _expand_overrides(spec, n, inputs, extra, default, what, per):
    """The ``n`` results (gradients per input, or R-ops per output) that override ``spec`` gives.

    ``inputs`` and ``extra`` (output gradients or eval points) are the placeholders the results
    are built on; ``default(extra)`` gives the results without overrides.
    """
    if isinstance(spec, str) and spec == "default":
        return default(extra)
    if isinstance(spec, Variable):
        if not _is_special(spec):
            raise TypeError(f"OpFromGraph: a {what} variable must be of NullType or DisconnectedType, got {spec}")
        return [spec] * n
    if isinstance(spec, OpFromGraph) or callable(spec):
        results = spec(*inputs, *extra, return_list=True) if isinstance(spec, OpFromGraph) else spec(inputs, extra)
        if not isinstance(results, (list, tuple)) or len(results) != n:
            raise ValueError(f"OpFromGraph: {what} must give {n} results (one per {per}), got {results!r}")
        return list(results)
    if not isinstance(spec, (list, tuple)):
        raise TypeError(f"OpFromGraph: {what} must be 'default', a callable, an OpFromGraph, a NullType or "
                        f"DisconnectedType variable, or a list of those; got {spec!r}")
    if len(spec) > n:
        raise ValueError(f"OpFromGraph: {what} has {len(spec)} entries for {n} {per}s")
    entries = list(spec) + ["default"] * (n - len(spec))
    defaults = default(extra) if any(isinstance(e, str) and e == "default" for e in entries) else None
    results = []
    for k, entry in enumerate(entries):
        if isinstance(entry, str) and entry == "default":
            results.append(defaults[k])
        elif isinstance(entry, Variable):
            if not _is_special(entry):
                raise TypeError(f"OpFromGraph: {what}[{k}] must be of NullType or DisconnectedType, got {entry}")
            results.append(entry)
        elif isinstance(entry, OpFromGraph):
            results.append(entry(*inputs, *extra))
        elif callable(entry):
            results.append(entry(inputs, extra))
        else:
            raise TypeError(f"OpFromGraph: {what}[{k}] must be 'default', a callable, an OpFromGraph or a NullType "
                            f"/ DisconnectedType variable, got {entry!r}")
    return results


def _pack(results, inputs, inline, name):
    """One OpFromGraph computing the real results from ``inputs``, and where each result lies:
    an output index, or the NullType / DisconnectedType variable itself."""
    real, layout = [], []
    for r in results:
        if isinstance(r, Variable) and _is_special(r):
            layout.append(r)
        else:
            layout.append(len(real))
            real.append(tb.as_tensor_variable(r) if not isinstance(r, Variable) else r)
    if not real:
        return None, layout
    return OpFromGraph(inputs, real, inline=inline, name=name), layout


@register("canonicalize", "fast_run", "fast_compile", name="inline_op_from_graph")
@node_rewriter([OpFromGraph])
def inline_op_from_graph(fgraph, node):
    """An OpFromGraph made with inline=True is replaced by a copy of its inner graph."""
    op = node.op
    if not op.inline:
        return None
    return clone_replace(op.inner_outputs, dict(zip(op.inner_inputs, node.inputs)), strict=False)
