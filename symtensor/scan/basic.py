"""``scan``: Theano's symbolic loop, built by calling a Python function once on symbolic slices.

``fn`` receives, in this order, the slices of every sequence (one per tap, in
the order of the taps given), the previous values of every recurrent output
(one per tap), and the non-sequences; it returns the step's outputs, and
optionally a dict of shared-variable updates and an ``until`` condition.
Shared variables and other outer variables that ``fn`` uses without passing
them are captured as non-sequences (unless ``strict=True``); shared variables
with an update (returned by ``fn`` or their ``default_update``, as random
streams have) are threaded through the steps and their final values are the
updates ``scan`` returns.
"""

import numbers
from collections import OrderedDict
from collections.abc import Mapping

import numpy as np

from symtensor.compile.sharedvalue import SharedVariable
from symtensor.graph.basic import Constant, Variable, ancestors, clone_replace, graph_inputs, io_toposort
from symtensor.scan.op import Scan
from symtensor.scan.parts import NitSot, NonSeq, ScanParts, Seq, Shared, State
from symtensor.tensor import basic as tb
from symtensor.tensor import math as tm
from symtensor.tensor.math import BatchedDot, Dot
from symtensor.tensor.type import TensorType

_INT_DTYPES = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32")


class until:  # noqa: N801 - Theano's name
    """Return ``until(condition)`` from fn (with its outputs) to stop after the step where it is true."""

    def __init__(self, condition):
        cond = tb.as_tensor_variable(condition)
        if cond.ndim != 0:
            raise TypeError(f"until: the condition must be a scalar, got {cond} with {cond.ndim} dimensions")
        self.condition = cond


class OrderedUpdates(OrderedDict):
    """shared variable -> new value, in insertion order (what scan returns; pass it to function's updates).

    Keys must be shared variables; merging two updates of one variable with different values is an error.
    """

    def __setitem__(self, key, value):
        if not isinstance(key, SharedVariable):
            raise TypeError(f"OrderedUpdates: keys must be shared variables, got {key!r} ({type(key).__name__})")
        super().__setitem__(key, value)

    def update(self, other=None, **kwargs):
        if other is None:
            return
        items = other.items() if isinstance(other, Mapping) else other
        for key, value in items:
            if key in self and self[key] is not value:
                raise KeyError(f"OrderedUpdates: two different updates of {key}")
            self[key] = value

    def __add__(self, other):
        out = OrderedUpdates()
        out.update(self)
        out.update(other)
        return out


# ---------------------------------------------------------------------- argument handling

def _as_list(x):
    if x is None:
        return []
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _as_var(x, what):
    if isinstance(x, Variable):
        return x
    try:
        return tb.as_tensor_variable(x)
    except TypeError:
        raise TypeError(f"scan: {what} must be a symbolic variable or a value, got {type(x).__name__} {x!r}") from None


def _int_list(taps, what):
    taps = [taps] if isinstance(taps, (numbers.Integral, np.integer)) else list(taps)
    if not taps or not all(isinstance(k, (numbers.Integral, np.integer)) for k in taps):
        raise TypeError(f"scan: the taps of {what} must be a non-empty list of integers, got {taps!r}")
    return [int(k) for k in taps]


def _sequence_spec(k, seq):
    """(variable, taps) of sequence k (a variable or {'input': x, 'taps': [...]})."""
    if isinstance(seq, Mapping):
        if "input" not in seq:
            raise ValueError(f"scan: sequence {k} is a dict without the 'input' key")
        taps = seq.get("taps")
        x = _as_var(seq["input"], f"sequence {k}")
        taps = [0] if taps is None else _int_list(taps, f"sequence {k}")
    else:
        x, taps = _as_var(seq, f"sequence {k}"), [0]
    if not isinstance(x.type, TensorType) or x.ndim < 1:
        raise TypeError(f"scan: sequence {k} ({x}) must be a tensor of at least one dimension (the steps), "
                        f"got type {x.type}")
    return x, taps


def _output_spec(k, info):
    """None for an output computed at each step, else (initial value, taps, has_time_axis)."""
    if info is None:
        return None
    if isinstance(info, Mapping):
        if info.get("return_steps") is not None:
            raise ValueError("scan: 'return_steps' is not supported; index the output instead (out[-1]): the "
                             "save-memory rewrite then keeps only the rows needed")
        init, taps = info.get("initial"), info.get("taps")
        if init is None:
            if taps:
                raise ValueError(f"scan: outputs_info[{k}] has taps {taps} but no 'initial' value")
            return None
        init = _as_var(init, f"the initial value of output {k}")
        taps = [-1] if taps is None else _int_list(taps, f"output {k}")
    else:
        init, taps = _as_var(info, f"the initial value of output {k}"), [-1]
    if any(t >= 0 for t in taps):
        raise ValueError(f"scan: output {k} has taps {taps}; the taps of an output must be negative (past values)")
    if not isinstance(init.type, TensorType):
        raise TypeError(f"scan: the initial value of output {k} must be a tensor, got {init} of type {init.type}")
    with_time_axis = taps != [-1]
    if with_time_axis and init.ndim < 1:
        raise TypeError(f"scan: output {k} has taps {taps}, so its initial value needs a leading axis of "
                        f"{-min(taps)} past values; got {init} with {init.ndim} dimensions")
    return init, taps, with_time_axis


def _n_steps_var(n_steps):
    """(variable or None, constant value or None); a negative constant means going backwards."""
    if n_steps is None:
        return None, None
    if isinstance(n_steps, (numbers.Integral, np.integer)) and not isinstance(n_steps, bool):
        return tb.constant(int(n_steps), dtype="int64"), int(n_steps)
    var = _as_var(n_steps, "n_steps")
    if var.ndim != 0 or var.dtype not in _INT_DTYPES:
        raise TypeError(f"scan: n_steps must be an integer scalar, got {var} of type {var.type}")
    try:
        return var, int(tb.get_scalar_constant_value(var))
    except tb.NotScalarConstantError:
        return var, None


def _is_updates(x):
    if isinstance(x, Mapping):
        return True
    return (isinstance(x, (list, tuple)) and len(x) > 0 and all(
        isinstance(p, (list, tuple)) and len(p) == 2 and isinstance(p[0], SharedVariable) for p in x))


def _is_outputs(x):
    if isinstance(x, (Variable, numbers.Number, np.ndarray)):
        return True
    return isinstance(x, (list, tuple)) and all(isinstance(v, (Variable, numbers.Number, np.ndarray)) for v in x)


def _parse_result(res):
    """fn's result as (outputs, updates, condition)."""
    if isinstance(res, until):
        return [], OrderedDict(), res.condition
    if _is_outputs(res):
        return _as_list(res) if not isinstance(res, np.ndarray) else [res], OrderedDict(), None
    if _is_updates(res):
        return [], OrderedDict(res.items() if isinstance(res, Mapping) else res), None
    if isinstance(res, (list, tuple)) and 2 <= len(res) <= 3:
        outputs, updates, cond = None, None, None
        for part in res:
            if isinstance(part, until) and cond is None:
                cond = part.condition
            elif _is_outputs(part) and outputs is None:
                outputs = _as_list(part) if not isinstance(part, np.ndarray) else [part]
            elif _is_updates(part) and updates is None:
                updates = OrderedDict(part.items() if isinstance(part, Mapping) else part)
            else:
                break
        else:
            return outputs or [], updates or OrderedDict(), cond
    raise TypeError("scan: fn must return its outputs (a variable or a list), optionally with a dict of shared "
                    f"variable updates and an until(condition), e.g. (outputs, updates, until(c)); got {res!r}")


# ---------------------------------------------------------------------- scan

def scan(fn, sequences=None, outputs_info=None, non_sequences=None, n_steps=None, truncate_gradient=-1,
         go_backwards=False, mode=None, name=None, profile=False, allow_gc=None, strict=False, return_list=False):
    """Loop ``fn`` over ``sequences``, feeding back the outputs that have an initial state.

    Returns ``(outputs, updates)``: one variable per output of fn (a list unless there is exactly one,
    or always with return_list=True) holding every step's value, and an OrderedUpdates to pass to
    ``function(..., updates=updates)``. See Theano 1.0's ``theano.scan`` for the full contract.
    ``profile`` and ``allow_gc`` are accepted for compatibility; the inner function is always compiled
    with the outer function's linker.
    """
    if not callable(fn):
        raise TypeError(f"scan: fn must be callable, got {type(fn).__name__}")
    n_var, n_const = _n_steps_var(n_steps)
    if n_const is not None and n_const < 0:
        go_backwards, n_var = not go_backwards, tb.constant(-n_const, dtype="int64")
    seq_specs = [_sequence_spec(k, s) for k, s in enumerate(_as_list(sequences))]
    out_specs = [_output_spec(k, o) for k, o in enumerate(_as_list(outputs_info))]
    given_nonseqs = [_as_var(v, f"non_sequences[{k}]") for k, v in enumerate(_as_list(non_sequences))]

    # -- sequences: one outer slice per tap (step t reads x[t + tap], t starting where every tap is valid)
    seq_slices, seq_inner = [], []
    for x, taps in seq_specs:
        lo, hi = min(min(taps), 0), max(max(taps), 0)
        for k in taps:
            sliced = x[k - lo:] if hi == k else x[k - lo:k - hi]
            seq_slices.append(sliced[::-1] if go_backwards else sliced)
            label = "t" if k == 0 else f"t{k:+d}"
            seq_inner.append(TensorType(x.dtype, shape=x.type.shape[1:])(f"{x.name}[{label}]" if x.name else None))
    if n_var is None:
        if not seq_slices:
            raise ValueError("scan: no sequences and no n_steps: give n_steps or at least one sequence")
        n_var = seq_slices[0].shape[0]
        for sl in seq_slices[1:]:
            n_var = tm.minimum(n_var, sl.shape[0])
        seq_outer = seq_slices if len(seq_slices) == 1 else [sl[:n_var] for sl in seq_slices]
    else:
        seq_outer = [sl[:n_var] for sl in seq_slices]

    # -- recurrent outputs: the inner variables of their taps
    state_taps = {}
    for u, spec in enumerate(out_specs):
        if spec is None:
            continue
        init, taps, with_time_axis = spec
        row_type = TensorType(init.dtype, shape=init.type.shape[1:] if with_time_axis else init.type.shape)
        state_taps[u] = [row_type(f"{init.name}[t{k:+d}]" if init.name else None) for k in taps]

    args = list(seq_inner) + [v for u in sorted(state_taps) for v in state_taps[u]] + given_nonseqs
    outputs, updates, cond = _parse_result(fn(*args))
    outputs = [_as_var(o, f"output {k} of fn") for k, o in enumerate(outputs)]
    if out_specs and len(outputs) != len(out_specs):
        raise ValueError(f"scan: fn returned {len(outputs)} outputs but outputs_info has {len(out_specs)} entries; "
                         "give one entry per output, None for an output that is not fed back (a map)")
    if not out_specs:
        out_specs = [None] * len(outputs)
    updates = _check_updates(updates)
    outputs, updates, cond, state_taps = _fit_state_types(outputs, updates, cond, out_specs, state_taps)

    # -- shared variables and other outer variables fn used: threaded, or captured as non-sequences
    inner_args = set(seq_inner) | {v for taps in state_taps.values() for v in taps}
    threaded = OrderedDict(updates)
    while True:
        exprs = outputs + list(threaded.values()) + ([cond] if cond is not None else [])
        free = [v for v in graph_inputs(exprs) if v not in inner_args and not isinstance(v, Constant)]
        defaults = [v for v in free if isinstance(v, SharedVariable) and v not in threaded
                    and getattr(v, "default_update", None) is not None]
        if not defaults:
            break
        for v in defaults:
            threaded[v] = _check_updates({v: v.default_update})[v]
    given = [v for v in dict.fromkeys(given_nonseqs) if not isinstance(v, Constant) and v not in threaded]
    captured = []
    for v in free:
        if v in threaded or v in given or v in captured:
            continue
        if strict:
            kind = "shared variable" if isinstance(v, SharedVariable) else "variable"
            raise ValueError(f"scan(strict=True): fn uses the {kind} {v} (type {v.type}), which is not in "
                             "non_sequences; pass it in non_sequences, or use strict=False to capture it")
        captured.append(v)
    replace = {v: v.type(f"{v.name}_inner" if v.name else None) for v in given + captured + list(threaded)}
    n_out = len(outputs)
    inner = clone_replace(outputs + list(threaded.values()) + ([cond] if cond is not None else []), replace)

    # -- the node
    parts = ScanParts(n_var, truncate_gradient=int(truncate_gradient), name=name, mode=mode)
    parts.seqs = [Seq(outer, v) for outer, v in zip(seq_outer, seq_inner)]
    for u, spec in enumerate(out_specs):
        if spec is None:
            parts.nitsots.append(NitSot(inner[u], u))
            continue
        init, taps, with_time_axis = spec
        outer_init = init[:-min(taps)] if with_time_axis else tb.shape_padleft(init)
        parts.states.append(State(outer_init, tuple(taps), state_taps[u], inner[u], user_index=u))
    parts.shared = [Shared(v, replace[v], out) for v, out in zip(threaded, inner[n_out:n_out + len(threaded)])]
    parts.nonseqs = [NonSeq(v, replace[v]) for v in given + captured]
    parts.cond = inner[-1] if cond is not None else None
    parts.nitsots += [NitSot(v) for v in _kept_for_gradient(parts)]
    raw = parts.build(Scan)

    results = [None] * n_out
    for s, st in enumerate(parts.states):
        results[st.user_index] = raw[s][st.lag:]
    for j, nt in enumerate(parts.nitsots):
        if nt.user_index >= 0:
            results[nt.user_index] = raw[len(parts.states) + j]
    new_values = OrderedUpdates()
    for j, sh in enumerate(parts.shared):
        new_values[sh.outer] = raw[len(parts.states) + len(parts.nitsots) + j]
    if return_list:
        return results, new_values
    if len(results) == 1:
        return results[0], new_values
    return (results or None), new_values


#: inner results worth storing at every step rather than recomputing in the backward loop
_COSTLY = (Dot, BatchedDot, Scan)


def _kept_for_gradient(parts):
    """Per-step inner values stored as hidden outputs, which the gradient reads instead of recomputing:
    the values of shared states the outputs depend on (a random state: the backward loop must see the
    same draws) and the results of costly ops (products, inner loops) that change from step to step.
    The prune rewrite drops them again when no gradient uses them."""
    outs = [st.inner_out for st in parts.states] + [nt.inner_out for nt in parts.nitsots]
    read = set(ancestors(outs))
    kept = [sh.inner_in for sh in parts.shared if sh.inner_in in read and isinstance(sh.inner_in.type, TensorType)]
    varying = {q.inner for q in parts.seqs} | {v for st in parts.states for v in st.inner_taps}
    varying |= {sh.inner_in for sh in parts.shared}
    inputs = parts.inner_inputs()
    for node in io_toposort(inputs, outs):
        if any(i in varying for i in node.inputs):
            varying.update(node.outputs)
            if isinstance(node.op, _COSTLY):
                kept += [o for o in node.outputs if isinstance(o.type, TensorType) and o not in outs and o not in kept]
    return kept


def _check_updates(updates):
    """fn's updates as {shared variable: tensor of the shared variable's type}."""
    out = OrderedDict()
    for var, expr in updates.items():
        if not isinstance(var, SharedVariable):
            raise TypeError(f"scan: fn returned an update of {var!r}, which is not a shared variable")
        expr = _as_var(expr, f"the update of {var}")
        if not (expr.type == var.type or var.type.is_super(expr.type)):
            if isinstance(var.type, TensorType) and expr.dtype == var.dtype and expr.ndim == var.ndim:
                expr = tb.patternbroadcast(expr, var.type.broadcastable)
            if not var.type.is_super(expr.type):
                raise TypeError(f"scan: the update of shared variable {var} (type {var.type}) has type {expr.type}; "
                                f"it must keep the shared variable's type (cast it with .astype('{var.dtype}'))"
                                if isinstance(var.type, TensorType) else
                                f"scan: the update of {var} has type {expr.type}, expected {var.type}")
        out[var] = expr
    return out


def _fit_state_types(outputs, updates, cond, out_specs, state_taps):
    """Check each fed-back output against its initial value; widen a state's static shape when fn's
    output is less precise than the initial value (e.g. a known length becomes unknown)."""
    for _ in range(8):
        widen = {}
        for u, spec in enumerate(out_specs):
            if spec is None:
                continue
            init, taps, _ = spec
            row_type, out = state_taps[u][0].type, outputs[u]
            if not isinstance(out.type, TensorType) or out.dtype != row_type.dtype:
                raise TypeError(f"scan: output {u} of fn has dtype {getattr(out, 'dtype', out.type)} but its initial "
                                f"state {init} has dtype {row_type.dtype}; a recurrent output must keep its dtype "
                                f"(cast the initial state with .astype(...) or fn's output with "
                                f".astype('{row_type.dtype}'); an upcast often comes from a float64 constant)")
            if out.ndim != row_type.ndim:
                raise ValueError(f"scan: output {u} of fn has {out.ndim} dimensions (type {out.type}) but its initial "
                                 f"state has {row_type.ndim} (shape {row_type.shape}); they must have the same shape")
            for a, b in zip(row_type.shape, out.type.shape):
                if a is not None and b is not None and a != b:
                    raise ValueError(f"scan: output {u} of fn has shape {out.type.shape} but its initial state has "
                                     f"shape {row_type.shape}; they must have the same shape")
            if not row_type.is_super(out.type):
                wide = TensorType(row_type.dtype, shape=tuple(a if a == b else None
                                                              for a, b in zip(row_type.shape, out.type.shape)))
                widen[u] = [wide(v.name) for v in state_taps[u]]
        if not widen:
            return outputs, updates, cond, state_taps
        mapping = {old: new for u, news in widen.items() for old, new in zip(state_taps[u], news)}
        exprs = outputs + list(updates.values()) + ([cond] if cond is not None else [])
        exprs = clone_replace(exprs, mapping, strict=False)
        outputs = exprs[:len(outputs)]
        updates = OrderedDict(zip(updates, exprs[len(outputs):len(outputs) + len(updates)]))
        cond = exprs[-1] if cond is not None else None
        state_taps.update(widen)
    raise TypeError("scan: could not find a state type that fits fn's outputs")


# ---------------------------------------------------------------------- map, reduce, folds

def map(fn, sequences, non_sequences=None, truncate_gradient=-1, go_backwards=False, mode=None,  # noqa: A001
        name=None):
    """``fn`` applied to each step of the sequences (a scan without recurrent outputs)."""
    return scan(fn, sequences=sequences, outputs_info=None, non_sequences=non_sequences,
                truncate_gradient=truncate_gradient, go_backwards=go_backwards, mode=mode, name=name)


def reduce(fn, sequences, outputs_info, non_sequences=None, go_backwards=False, mode=None, name=None):
    """The last value of each output of scan(fn, ...) (only the last rows are kept)."""
    outs, updates = scan(fn, sequences=sequences, outputs_info=outputs_info, non_sequences=non_sequences,
                         go_backwards=go_backwards, mode=mode, name=name, return_list=True)
    last = [o[-1] for o in outs]
    return (last[0] if len(last) == 1 else last), updates


def foldl(fn, sequences, outputs_info, non_sequences=None, mode=None, name=None):
    """reduce from the first step to the last."""
    return reduce(fn, sequences, outputs_info, non_sequences, go_backwards=False, mode=mode, name=name)


def foldr(fn, sequences, outputs_info, non_sequences=None, mode=None, name=None):
    """reduce from the last step to the first."""
    return reduce(fn, sequences, outputs_info, non_sequences, go_backwards=True, mode=mode, name=name)
