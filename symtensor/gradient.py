"""Symbolic differentiation: grad (reverse mode), Lop, Rop, jacobian, hessian, verify_grad.

``grad`` walks the graph from the cost back to the requested variables,
calling each Op's ``L_op`` with the gradients of its outputs and summing the
contributions that reach each variable.
"""

import warnings
from collections import OrderedDict

import numpy as np

from symtensor import scalar as ts
from symtensor.compile.function import function
from symtensor.config import config
from symtensor.graph.basic import Apply, Constant, Variable, ancestors, clone_replace, io_toposort
from symtensor.graph.null_type import DisconnectedType, NullType, is_disconnected, is_null
from symtensor.graph.null_type import grad_not_implemented, grad_undefined  # noqa: F401  (Theano's API)
from symtensor.graph.op import Op
from symtensor.tensor import basic as tb
from symtensor.tensor import math as tm
from symtensor.tensor.shape import symbolic_shape
from symtensor.tensor.type import TensorType


class DisconnectedInputError(ValueError):
    """grad was asked for the gradient with respect to a variable the cost does not depend on."""


class NullTypeGradError(TypeError):
    """A gradient that is undefined or not implemented reached a requested variable."""


class GradientError(AssertionError):
    """verify_grad found a symbolic gradient that disagrees with finite differences."""

    def __init__(self, arg, err_pos, shape, val1, val2, abs_err, rel_err, abs_tol, rel_tol):
        self.arg, self.err_pos, self.shape = arg, err_pos, shape
        self.val1, self.val2 = val1, val2
        self.abs_err, self.rel_err = abs_err, rel_err
        self.abs_tol, self.rel_tol = abs_tol, rel_tol
        super().__init__(
            f"verify_grad: the symbolic gradient of input {arg} (shape {shape}) disagrees with finite "
            f"differences at flat position {err_pos}: symbolic {val1!r} vs numeric {val2!r}; "
            f"abs error {abs_err:.3g} (tolerance {abs_tol:.3g}), rel error {rel_err:.3g} (tolerance {rel_tol:.3g})")


def _is_float(var):
    return getattr(var.type, "dtype", "float64") in ts.continuous_dtypes


def _is_discrete(var):
    return getattr(var.type, "dtype", None) in ts.discrete_dtypes


def _zeros_for(var):
    """The zero gradient of ``var``: its dtype when float, floatX for integers."""
    if isinstance(var.type, TensorType):
        return tb.zeros_like(var, dtype=var.dtype if _is_float(var) else config.floatX)
    return ts.basic.zero_grad_of(var)


def _as_grad_of(g, var):
    """Match a gradient's dtype and broadcastable pattern to its variable."""
    if not isinstance(var.type, TensorType) or is_null(g) or is_disconnected(g):
        return g
    g = tb.as_tensor_variable(g)
    if g.ndim != var.ndim:
        raise ValueError(f"gradient of {var} has {g.ndim} dimensions, the variable {var.ndim}")
    if _is_float(var) and g.dtype != var.dtype:
        g = tb.cast(g, var.dtype)
    if g.broadcastable != var.broadcastable:
        g = tb.patternbroadcast(g, var.broadcastable)
    return g


def _add_grads(terms):
    """Sum of the gradient contributions; None when there are none (disconnected)."""
    terms = [t for t in terms if not is_disconnected(t)]
    if not terms:
        return None
    for t in terms:
        if is_null(t):
            return t
    if len(terms) == 1:
        return terms[0]
    return tm.add(*terms)


def _call_l_op(node, out_grads):
    """The node's input gradients, with a clear error when its op has none."""
    filled = [_as_grad_of(g if g is not None else _zeros_for(o), o) for g, o in zip(out_grads, node.outputs)]
    try:
        in_grads = node.op.L_op(node.inputs, node.outputs, filled)
    except NotImplementedError as exc:
        raise NullTypeGradError(
            f"grad: the op {node.op} does not implement a gradient ({exc}); cannot differentiate through "
            f"{node}, created at:\n{node.outputs[0].creation_site()}") from None
    in_grads = list(in_grads)
    if len(in_grads) != len(node.inputs):
        raise ValueError(f"{node.op}.L_op returned {len(in_grads)} gradients for {len(node.inputs)} inputs")
    return in_grads


def _backprop(seeds, wrt, consider_constant=(), stop=()):
    """Map each requested variable to the sum of the gradients reaching it (None: none reach it).

    One topological walk over the graph: linear in its size. A node is
    differentiated only if some seeded gradient reaches one of its outputs
    and one of its inputs depends on a ``wrt`` (not through a constant).
    Outputs of integer dtype pass back zero gradients without calling L_op.
    Variables in ``stop`` collect their gradient but pass none further back
    (as inputs would); those in ``consider_constant`` collect none either.
    """
    stop = set(stop)
    blockers = set(consider_constant)
    seeded = list(OrderedDict((v, None) for v, _ in seeds))
    nodes = io_toposort((), seeded)
    depends = {w for w in wrt if w not in blockers}
    for node in nodes:
        if any(i in depends for i in node.inputs):
            depends.update(o for o in node.outputs if o not in blockers)
    contributions = {}
    for var, g in seeds:
        contributions.setdefault(var, []).append(g)
    for node in reversed(nodes):
        if not any(o in contributions and o not in stop for o in node.outputs):
            continue
        if not any(i in depends for i in node.inputs):
            continue
        out_grads = [None if o in stop else _add_grads(contributions.get(o, [])) for o in node.outputs]
        if all(g is None for g in out_grads):
            continue
        pattern = node.op.connection_pattern(node)
        null = next((g for g in out_grads if g is not None and is_null(g)), None)
        if null is not None:
            in_grads = [null] * len(node.inputs)
        elif all(_is_discrete(o) for o in node.outputs):
            in_grads = [_zeros_for(i) for i in node.inputs]
        else:
            in_grads = _call_l_op(node, out_grads)
        for i, (inp, g) in enumerate(zip(node.inputs, in_grads)):
            if inp not in depends or g is None or not any(pattern[i]):
                continue
            if not isinstance(g, Variable):
                g = tb.as_tensor_variable(g)
            if not is_null(g) and not is_disconnected(g):
                g = _as_grad_of(g, inp)
            contributions.setdefault(inp, []).append(g)
    return {w: _add_grads(contributions.get(w, [])) if w not in blockers else None for w in wrt}


def grad(cost, wrt, consider_constant=None, disconnected_inputs="raise", add_names=True,
         known_grads=None, return_disconnected="zero", null_gradients="raise"):
    """Symbolic gradient of scalar ``cost`` with respect to ``wrt`` (a variable or a list).

    ``known_grads`` ({variable: gradient}) seeds the walk from other variables,
    possibly with ``cost=None``. Inputs the cost does not depend on are handled
    as ``disconnected_inputs`` says ('raise', 'warn', 'ignore') and their gradient
    is ``return_disconnected`` ('zero', 'None' or 'Disconnected'). The gradient
    with respect to an integer variable is zero (of floatX). ``null_gradients``
    'raise' turns an undefined gradient reaching wrt into NullTypeGradError;
    'return' returns it.
    """
    if disconnected_inputs not in ("raise", "warn", "ignore"):
        raise ValueError(f"disconnected_inputs must be 'raise', 'warn' or 'ignore', got {disconnected_inputs!r}")
    if return_disconnected not in ("zero", "None", "Disconnected"):
        raise ValueError(f"return_disconnected must be 'zero', 'None' or 'Disconnected', got {return_disconnected!r}")
    if null_gradients not in ("raise", "return"):
        raise ValueError(f"null_gradients must be 'raise' or 'return', got {null_gradients!r}")
    single = not isinstance(wrt, (list, tuple))
    wrt_list = [wrt] if single else list(wrt)
    for w in wrt_list:
        if not isinstance(w, Variable):
            raise TypeError(f"grad: wrt must be symbolic variables, got {type(w).__name__} {w!r}")
    seeds = []
    if cost is not None:
        cost = tb.as_tensor_variable(cost) if not isinstance(cost, Variable) else cost
        if is_null(cost):
            raise ValueError("grad: cannot differentiate a cost of NullType")
        if getattr(cost.type, "ndim", 0) != 0:
            raise TypeError(f"grad: cost must be a scalar (0-d), got {cost} with {cost.ndim} dimensions; "
                            "sum or average it first, or use known_grads / Lop for a non-scalar output")
        seeds.append((cost, tb.ones_like(cost, dtype=cost.dtype if _is_float(cost) else config.floatX)))
    for var, g in (known_grads or {}).items():
        if not isinstance(var, Variable):
            raise TypeError(f"grad: known_grads keys must be Variables, got {var!r}")
        if not isinstance(g, Variable):
            g = tb.as_tensor_variable(g)
        if not is_null(g) and not is_disconnected(g):
            g = _as_grad_of(g, var)
        seeds.append((var, g))
    if not seeds:
        raise ValueError("grad: give a cost or known_grads")
    grads = _backprop(seeds, wrt_list, consider_constant or ())
    results = []
    for w in wrt_list:
        g = grads.get(w)
        if g is None:
            message = (f"grad: the cost does not depend on {w} (type {w.type}): it is not part of the cost's "
                       "graph, or is used only through non-differentiable ops or consider_constant. "
                       f"{w} was created at:\n{w.creation_site()}"
                       "Pass disconnected_inputs='ignore' to get a zero gradient.")
            if disconnected_inputs == "raise":
                raise DisconnectedInputError(message)
            if disconnected_inputs == "warn":
                warnings.warn(message, stacklevel=2)
            if return_disconnected == "zero":
                g = _zeros_for(w)
            elif return_disconnected == "Disconnected":
                g = DisconnectedType()()
        elif is_null(g):
            if null_gradients == "raise":
                raise NullTypeGradError(f"grad: cannot compute the gradient with respect to {w}: {g.type.why}")
        elif _is_discrete(w):
            g = _zeros_for(w)
        if g is not None and not is_null(g) and not is_disconnected(g):
            g = _as_grad_of(g, w)
            if add_names and w.name:
                g.name = f"(d{cost.name if cost is not None and cost.name else 'cost'}/d{w.name})"
        results.append(g)
    return results[0] if single else results


def subgraph_grad(wrt, end, start=None, cost=None, details=False):
    """Gradients of ``cost`` and/or of known gradients ``start`` with respect to ``wrt`` and ``end``,
    backpropagating no further than the ``end`` variables (Theano's ``theano.subgraph_grad``).

    Use it to backpropagate one part of a graph at a time (one layer of an MLP, or
    around a step that is not differentiable): the gradients returned for ``end``,
    zipped into a dict, are the ``start`` of the next call further down.

    ``start`` maps variables to their known gradients; ``cost`` is an optional
    scalar whose gradient is added (give at least one). Variables that neither
    reaches get zero gradients. Returns ``(wrt_grads, end_grads)``, and with
    ``details=True`` also the parts of wrt_grads that come from ``start`` and
    from ``cost`` (None for a part not given).
    """
    if not isinstance(wrt, (list, tuple)) or not isinstance(end, (list, tuple)):
        raise TypeError(f"subgraph_grad: wrt and end must be lists of variables, got {type(wrt).__name__} and "
                        f"{type(end).__name__}")
    for what, var in [("wrt", v) for v in wrt] + [("end", v) for v in end]:
        if not isinstance(var, Variable):
            raise TypeError(f"subgraph_grad: {what} must hold symbolic variables, got {type(var).__name__} {var!r}")
    if start is not None and not isinstance(start, dict):
        raise TypeError(f"subgraph_grad: start must be a dict {{variable: gradient}}, got {type(start).__name__}")
    if cost is None and not start:
        raise ValueError("subgraph_grad: give a cost, a start dict of known gradients, or both")
    params = list(OrderedDict.fromkeys(list(wrt) + list(end)))
    parts = {}
    if start:
        seeds = []
        for var, g in start.items():
            if not isinstance(var, Variable):
                raise TypeError(f"subgraph_grad: start keys must be Variables, got {var!r}")
            g = g if isinstance(g, Variable) else tb.as_tensor_variable(g)
            seeds.append((var, g if is_null(g) or is_disconnected(g) else _as_grad_of(g, var)))
        parts["start"] = _grads_up_to(seeds, params, end)
    if cost is not None:
        cost = cost if isinstance(cost, Variable) else tb.as_tensor_variable(cost)
        if getattr(cost.type, "ndim", 0) != 0:
            raise TypeError(f"subgraph_grad: cost must be a scalar (0-d), got {cost} with {cost.ndim} dimensions")
        seed = tb.ones_like(cost, dtype=cost.dtype if _is_float(cost) else config.floatX)
        parts["cost"] = _grads_up_to([(cost, seed)], params, end)
    total = {p: _add_grads([part[p] for part in parts.values()]) for p in params}
    wrt_grads = [total[w] for w in wrt]
    end_grads = [total[e] for e in end]
    if details:
        start_grads = [parts["start"][w] for w in wrt] if "start" in parts else None
        cost_grads = [parts["cost"][w] for w in wrt] if "cost" in parts else None
        return wrt_grads, end_grads, start_grads, cost_grads
    return wrt_grads, end_grads


def _grads_up_to(seeds, params, end):
    """{param: gradient} from ``seeds``, not propagated past ``end``; zero where none arrives."""
    grads = _backprop(seeds, params, stop=end)
    out = {}
    for p in params:
        g = grads.get(p)
        if g is not None and is_null(g):
            raise NullTypeGradError(f"subgraph_grad: cannot compute the gradient with respect to {p}: {g.type.why}")
        out[p] = _zeros_for(p) if g is None or _is_discrete(p) else _as_grad_of(g, p)
    return out


def Lop(f, wrt, eval_points, consider_constant=None, disconnected_inputs="raise"):
    """Vector-Jacobian product: ``eval_points`` (shaped like f) times df/dwrt."""
    f_list = f if isinstance(f, (list, tuple)) else [f]
    e_list = eval_points if isinstance(eval_points, (list, tuple)) else [eval_points]
    if len(f_list) != len(e_list):
        raise ValueError(f"Lop: {len(f_list)} expressions but {len(e_list)} eval_points")
    known = OrderedDict()
    for fi, ei in zip(f_list, e_list):
        ei = tb.as_tensor_variable(ei)
        if ei.ndim != fi.ndim:
            raise ValueError(f"Lop: the eval point for {fi} has {ei.ndim} dimensions, expected {fi.ndim}")
        known[fi] = ei
    return grad(None, wrt, consider_constant=consider_constant, known_grads=known,
                disconnected_inputs=disconnected_inputs)


def Rop(f, wrt, eval_points, disconnected_outputs="raise", return_disconnected="zero"):
    """Jacobian-vector product: df/dwrt times ``eval_points`` (shaped like wrt).

    Uses each Op's ``R_op``; an Op without one is handled through two L_ops
    (the R-op of f is the gradient of <L-op of f at u, v> with respect to u).
    """
    if disconnected_outputs not in ("raise", "warn", "ignore"):
        raise ValueError(f"disconnected_outputs must be 'raise', 'warn' or 'ignore', got {disconnected_outputs!r}")
    single_f = not isinstance(f, (list, tuple))
    f_list = [f] if single_f else list(f)
    wrt_list = wrt if isinstance(wrt, (list, tuple)) else [wrt]
    e_list = eval_points if isinstance(eval_points, (list, tuple)) else [eval_points]
    if len(wrt_list) != len(e_list):
        raise ValueError(f"Rop: {len(wrt_list)} wrt but {len(e_list)} eval_points")
    tangents = {}
    for w, e in zip(wrt_list, e_list):
        e = tb.as_tensor_variable(e)
        if isinstance(w.type, TensorType) and e.ndim != w.ndim:
            raise ValueError(f"Rop: the eval point for {w} has {e.ndim} dimensions, expected {w.ndim}")
        tangents[w] = e
    for node in io_toposort(list(tangents), f_list):
        evals = [tangents.get(i) if _is_float(i) else None for i in node.inputs]
        if all(e is None for e in evals):
            continue
        # As in Theano, the other float inputs of a differentiated node get a zero tangent, so the
        # result still refers to every input (function([W, V, x], Rop(dot(x, W), W, V)) is valid).
        evals = [tb.zeros_like(i) if e is None and _is_float(i) and isinstance(i.type, TensorType)
                 and not isinstance(i, Constant) else e for i, e in zip(node.inputs, evals)]
        try:
            outs = node.op.R_op(node.inputs, evals)
        except NotImplementedError:
            outs = _rop_by_two_lops(node, evals)
        for o, r in zip(node.outputs, outs):
            if r is not None and not is_disconnected(r) and _is_float(o):
                if is_null(r):
                    raise NullTypeGradError(f"Rop: the R-op of {node.op} is undefined: {r.type.why}")
                tangents[o] = _as_grad_of(r, o)
    results = []
    for fi in f_list:
        r = tangents.get(fi)
        if r is None:
            message = f"Rop: {fi} does not depend on any of {wrt_list}"
            if disconnected_outputs == "raise":
                raise DisconnectedInputError(message)
            if disconnected_outputs == "warn":
                warnings.warn(message, stacklevel=2)
            if return_disconnected == "zero":
                r = _zeros_for(fi)
            elif return_disconnected == "Disconnected":
                r = DisconnectedType()()
        results.append(r)
    return results[0] if single_f else results


def _rop_by_two_lops(node, evals):
    """R-op of one node from its L-op: J v = d/du <J^T u, v>, the L-op being linear in u."""
    outs = node.outputs
    us = [o.type() for o in outs]
    vjp = _call_l_op(node, us)
    terms = []
    for g, v, inp in zip(vjp, evals, node.inputs):
        if v is None or g is None or is_null(g) or is_disconnected(g) or not _is_float(inp):
            continue
        terms.append(tm.sum(tm.mul(g, v)))
    if not terms:
        return [None] * len(outs)
    inner = terms[0] if len(terms) == 1 else tm.add(*terms)
    jv = grad(inner, us, disconnected_inputs="ignore", return_disconnected="None")
    # u can only survive through shapes (zeros_like(u)...): bind it to the outputs
    return [None if r is None else clone_replace(r, dict(zip(us, outs)), strict=False) for r in jv]


# ------------------------------------------------------------------ jacobian

class _MapGrad(Op):
    """Stack ``row(i)`` for i in range(n), evaluating an inner graph once per row.

    Inputs: n, then the values of ``inner_inputs`` (every free variable of the
    inner graph but ``index``: graph inputs and shared variables). ``row_shape``
    is the row's symbolic shape in terms of ``inner_inputs``. Used by jacobian
    and hessian until symbolic loops (scan) exist.
    """

    __props__ = ("key",)

    def __init__(self, index, inner_inputs, inner_output, row_shape, name="jacobian"):
        self.index = index
        self.inner_inputs = list(inner_inputs)
        self.inner_output = inner_output
        self.row_shape = list(row_shape)
        self.name = name
        self.key = id(self)
        self._order = None

    def __str__(self):
        return f"MapGrad{{{self.name}}}"

    def make_node(self, n, *outer):
        n = tb.as_tensor_variable(n)
        if n.ndim != 0 or not _is_discrete(n):
            raise TypeError(f"{self}: the row count must be an integer scalar, got {n} of type {n.type}")
        if len(outer) != len(self.inner_inputs):
            raise ValueError(f"{self}: expected {len(self.inner_inputs)} inner inputs, got {len(outer)}")
        outer = [tb.as_tensor_variable(v) if not isinstance(v, Variable) else v for v in outer]
        for k, (inner, v) in enumerate(zip(self.inner_inputs, outer)):
            if getattr(inner.type, "dtype", None) != getattr(v.type, "dtype", None) or \
                    getattr(inner.type, "ndim", None) != getattr(v.type, "ndim", None):
                raise TypeError(f"{self}: input {k} {v} has type {v.type}, expected {inner.type}")
        static_n = None
        if isinstance(n, Constant):
            static_n = int(n.data)
        out_type = TensorType(self.inner_output.dtype, shape=(static_n,) + self.inner_output.type.shape)
        return Apply(self, [n] + list(outer), [out_type()])

    def perform(self, node, inputs, output_storage):
        n, values = int(inputs[0]), inputs[1:]
        if self._order is None:
            self._order = io_toposort(self.inner_inputs + [self.index], [self.inner_output])
        env = dict(zip(self.inner_inputs, values))
        dtype = node.outputs[0].type.dtype
        rows = []
        for i in range(n):
            env[self.index] = np.asarray(i, dtype=self.index.dtype)
            rows.append(np.asarray(_evaluate(self._order, self.inner_output, env), dtype=dtype))
        if rows:
            out = np.stack(rows)
        else:
            shape_fn = _evaluate_shape(self, env)
            out = np.zeros((0,) + shape_fn, dtype=dtype)
        output_storage[0][0] = out

    def infer_shape(self, fgraph, node, input_shapes):
        mapping = dict(zip(self.inner_inputs, node.inputs[1:]))
        row = clone_replace(self.row_shape, mapping, strict=False) if self.row_shape else []
        return [(node.inputs[0],) + tuple(row)]

    def L_op(self, inputs, outputs, output_grads):
        """d/d(inputs) of sum_i <G[i], row(i)>: another map over i, summed over rows."""
        (g_out,) = output_grads
        g_inner = g_out.type()
        cost = tm.sum(tm.mul(g_inner[self.index], self.inner_output))
        result = [_zeros_for(inputs[0])]
        float_inner = [v for v in self.inner_inputs if _is_float(v)]
        grads = dict(zip(float_inner, grad(cost, float_inner, disconnected_inputs="ignore",
                                           return_disconnected="None"))) if float_inner else {}
        for inner, outer in zip(self.inner_inputs, inputs[1:]):
            g = grads.get(inner)
            if g is None:
                result.append(_zeros_for(outer) if not _is_float(outer) else DisconnectedType()())
                continue
            shape = symbolic_shape(inner)
            rows = _MapGrad(self.index, self.inner_inputs + [g_inner], g, shape, name=f"{self.name}_grad")(
                inputs[0], *inputs[1:], g_out)
            result.append(tm.sum(rows, axis=0))
        return result

    def connection_pattern(self, node):
        return [[False]] + [[True] for _ in node.inputs[1:]]


def _evaluate(order, output, env):
    """Evaluate a small inner graph with Op.perform (no compilation), nodes in ``order``."""
    values = dict(env)
    for node in order:
        ins = [values[i] if i in values else i.data for i in node.inputs]
        storage = [[None] for _ in node.outputs]
        node.op.perform(node, ins, storage)
        for o, s in zip(node.outputs, storage):
            values[o] = s[0]
    return values[output] if output in values else output.data


def _evaluate_shape(op, env):
    """The row shape of a MapGrad with no rows, from its symbolic row shape."""
    if not op.row_shape:
        return ()
    env = dict(env)
    env[op.index] = np.asarray(0, dtype=op.index.dtype)
    order = io_toposort(list(env), op.row_shape)
    return tuple(int(_evaluate(order, s, env)) for s in op.row_shape)


def _free_inputs(outputs, exclude):
    """Ownerless non-constant variables the outputs depend on (shared variables included)."""
    return [v for v in ancestors(outputs) if v.owner is None and not isinstance(v, Constant) and v not in exclude]


def jacobian(expression, wrt, consider_constant=None, disconnected_inputs="raise"):
    """d expression[i] / d wrt, shaped expression.shape + wrt.shape; a list of wrt gives a list.

    A scalar expression gives its gradient; an expression of more than one
    dimension is flattened first. The number of rows may be symbolic.
    """
    expression = tb.as_tensor_variable(expression)
    single = not isinstance(wrt, (list, tuple))
    wrt_list = [wrt] if single else list(wrt)
    if expression.ndim == 0:
        res = grad(expression, wrt_list, consider_constant, disconnected_inputs)
        return res[0] if single else res
    if expression.ndim != 1:
        expression = expression.flatten()
    index = TensorType("int64", ())("jacobian_row")
    results = []
    for w in wrt_list:
        row = grad(expression[index], w, consider_constant, disconnected_inputs)
        shape = symbolic_shape(w)
        free = _free_inputs([row, w] + list(shape), exclude={index})
        n = expression.shape[0]
        if expression.type.shape[0] is not None:
            n = tb.constant(expression.type.shape[0], dtype="int64")
        results.append(_MapGrad(index, free, row, shape)(n, *free))
    return results[0] if single else results


def hessian(cost, wrt, consider_constant=None, disconnected_inputs="raise"):
    """Matrix of second derivatives of scalar ``cost`` with respect to each vector in ``wrt``."""
    cost = tb.as_tensor_variable(cost)
    if cost.ndim != 0:
        raise TypeError(f"hessian: cost must be a scalar, got {cost} with {cost.ndim} dimensions")
    single = not isinstance(wrt, (list, tuple))
    wrt_list = [wrt] if single else list(wrt)
    out = []
    for w in wrt_list:
        if getattr(w, "ndim", None) != 1:
            raise TypeError(f"hessian: wrt must be vectors, got {w} with {getattr(w, 'ndim', '?')} dimensions")
        g = grad(cost, w, consider_constant, disconnected_inputs)
        out.append(jacobian(g, w, consider_constant, disconnected_inputs))
    return out[0] if single else out


# ------------------------------------------------------------------ gradient modifiers

class _GradModifier(Op):
    """Identity in the forward pass; changes the gradient in the backward pass."""

    view_map = {0: [0]}

    def make_node(self, x):
        x = tb.as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = inputs[0]

    def infer_shape(self, fgraph, node, input_shapes):
        return input_shapes


class ZeroGrad(_GradModifier):
    def L_op(self, inputs, outputs, output_grads):
        return [_zeros_for(inputs[0])]

    def R_op(self, inputs, eval_points):
        return [None if eval_points[0] is None else _zeros_for(inputs[0])]


class DisconnectedGrad(_GradModifier):
    def L_op(self, inputs, outputs, output_grads):
        return [DisconnectedType()()]

    def connection_pattern(self, node):
        return [[False]]


class UndefinedGrad(_GradModifier):
    def L_op(self, inputs, outputs, output_grads):
        return [NullType("undefined_grad was applied to this variable")()]


class GradClip(_GradModifier):
    __props__ = ("lower", "upper")

    def __init__(self, lower, upper):
        if lower > upper:
            raise ValueError(f"grad_clip: lower bound {lower} is above upper bound {upper}")
        self.lower, self.upper = float(lower), float(upper)

    def L_op(self, inputs, outputs, output_grads):
        return [tm.clip(output_grads[0], self.lower, self.upper)]


class GradScale(_GradModifier):
    __props__ = ("multiplier",)

    def __init__(self, multiplier):
        self.multiplier = float(multiplier)

    def L_op(self, inputs, outputs, output_grads):
        return [tm.mul(output_grads[0], self.multiplier)]


def zero_grad(x):
    """x in the forward pass; its gradient is zero."""
    return ZeroGrad()(x)


def disconnected_grad(x):
    """x in the forward pass; gradients do not flow through it (as if it were an input)."""
    return DisconnectedGrad()(x)


def undefined_grad(x):
    return UndefinedGrad()(x)


def grad_clip(x, lower_bound, upper_bound):
    return GradClip(lower_bound, upper_bound)(x)


def grad_scale(x, multiplier):
    return GradScale(multiplier)(x)


consider_constant = disconnected_grad


# ------------------------------------------------------------------ verify_grad

def numeric_grad(f, pt, eps):
    """Central finite differences of scalar f at the arrays ``pt``."""
    grads = []
    for k, x in enumerate(pt):
        g = np.zeros(x.shape, dtype="float64")
        flat = x.reshape(-1)
        for j in range(flat.size):
            orig = flat[j]
            flat[j] = orig + eps
            fp = float(f(*pt))
            flat[j] = orig - eps
            fm = float(f(*pt))
            flat[j] = orig
            g.reshape(-1)[j] = (fp - fm) / (2 * eps)
        grads.append(g)
    return grads


def verify_grad(fun, pt, n_tests=2, rng=None, eps=None, out_type=None, abs_tol=None, rel_tol=None,
                mode=None, cast_to_output_type=False, no_debug_ref=True):
    """Check the symbolic gradient of ``fun`` at ``pt`` (a list of arrays) against finite differences.

    The output of ``fun`` is projected on a random direction so that every
    output element is checked. Raises GradientError on mismatch.
    """
    if rng is None:
        rng = np.random.default_rng(42)
    elif isinstance(rng, np.random.RandomState):
        rng = np.random.default_rng(rng.randint(2 ** 31))
    if not isinstance(pt, (list, tuple)):
        raise TypeError(f"verify_grad: pt must be a list of arrays (one per input of fun), got {type(pt).__name__}")
    pt = [np.array(p) for p in pt]
    for i, p in enumerate(pt):
        if p.dtype.kind not in "fc":
            raise TypeError(f"verify_grad: point {i} has dtype {p.dtype}; only float inputs can be checked")
    low_precision = any(p.dtype.name in ("float16", "float32") for p in pt)
    eps = eps or (1e-3 if low_precision else 1e-6)
    abs_tol = abs_tol if abs_tol is not None else (3e-2 if low_precision else 1e-4)
    rel_tol = rel_tol if rel_tol is not None else (3e-2 if low_precision else 1e-4)
    inputs = [TensorType(p.dtype, (False,) * p.ndim)(f"input_{i}") for i, p in enumerate(pt)]
    output = fun(*inputs)
    if isinstance(output, (list, tuple)):
        raise TypeError("verify_grad: fun must return a single variable")
    output = tb.as_tensor_variable(output)
    f_out = function(inputs, output, mode=mode, on_unused_input="ignore")
    out_value = np.asarray(f_out(*[p.copy() for p in pt]))
    for _ in range(n_tests):
        proj = rng.random(out_value.shape).astype(output.dtype) + 0.5
        proj_var = tb.constant(proj) if out_value.ndim else tb.constant(np.asarray(proj, dtype=output.dtype))
        cost = tm.sum(tm.mul(output, proj_var))
        cost_fn = function(inputs, cost, mode=mode, on_unused_input="ignore")
        sym = grad(cost, inputs, disconnected_inputs="ignore")
        grad_fn = function(inputs, sym, mode=mode, on_unused_input="ignore")
        analytic = [np.asarray(g, dtype="float64") for g in grad_fn(*[p.copy() for p in pt])]
        work = [p.astype("float64").astype(p.dtype) for p in pt]
        numeric = numeric_grad(cost_fn, work, eps)
        for i, (a, n) in enumerate(zip(analytic, numeric)):
            if a.shape != n.shape:
                raise GradientError(i, 0, n.shape, f"array of shape {a.shape}", f"array of shape {n.shape}",
                                    np.inf, np.inf, abs_tol, rel_tol)
            abs_err = np.abs(a - n)
            rel_err = abs_err / np.maximum(np.abs(a) + np.abs(n), 1e-8)
            bad = (abs_err > abs_tol) & (rel_err > rel_tol)
            if np.any(bad):
                pos = int(np.argmax(np.where(bad, abs_err, -1).reshape(-1))) if a.size else 0
                raise GradientError(i, pos, a.shape, a.reshape(-1)[pos], n.reshape(-1)[pos],
                                    float(abs_err.reshape(-1)[pos]), float(rel_err.reshape(-1)[pos]),
                                    abs_tol, rel_tol)


verify_grad.E_grad = GradientError
