"""``function``: compile symbolic inputs and outputs (and updates) into a callable.

The pipeline: apply ``givens``, gather the shared variables the graph reads
(they become implicit inputs), build a FunctionGraph, hand it to the
rewriter chosen by the mode, then to the linker.
"""

import time
import warnings
from collections import OrderedDict

import numpy as np

import symtensor.tensor.basic as tb
from symtensor.compile.io import In, Out
from symtensor.compile.mode import get_mode
from symtensor.compile.sharedvalue import SharedVariable
from symtensor.config import config
from symtensor.graph.basic import Constant, Variable, ancestors, clone_replace, format_trace
from symtensor.graph.fgraph import FunctionGraph
from symtensor.link.python import PythonLinker


class UnusedInputError(ValueError):
    """An input of ``function`` is not needed by any output or update."""


_REWRITERS = {}


def register_rewriter(name, fn):
    """The rewriting layer registers ``fn(fgraph, mode)`` for its optimizer names."""
    _REWRITERS[name] = fn


def _linker_for(mode):
    return PythonLinker()


def _as_update_pairs(updates):
    if updates is None:
        return []
    if isinstance(updates, dict):
        if not isinstance(updates, OrderedDict) and len(updates) > 1 and type(updates) is not dict:
            raise TypeError("updates must be a list of pairs or an ordered dict")
        pairs = list(updates.items())
    else:
        pairs = list(updates)
    out = []
    seen = set()
    for k, pair in enumerate(pairs):
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise TypeError(f"update {k} must be a (shared_variable, new_expression) pair, got {pair!r}")
        var, expr = pair
        if not isinstance(var, SharedVariable):
            raise TypeError(f"update {k}: only shared variables can be updated, got {var!r} "
                            f"({type(var).__name__})")
        if var in seen:
            raise ValueError(f"update {k}: shared variable {var} is updated twice")
        seen.add(var)
        out.append((var, expr))
    return out


def _coerce_update(var, expr, k):
    """The update expression as a variable of exactly the shared variable's type."""
    if not isinstance(expr, Variable):
        try:
            expr = tb.as_tensor_variable(expr)
        except TypeError:
            raise TypeError(f"update {k} of {var}: {expr!r} is not a symbolic expression") from None
    if expr.type == var.type:
        return expr
    converted = var.type.convert_variable(expr)
    if converted is None and hasattr(var.type, "broadcastable") and hasattr(expr.type, "broadcastable") \
            and expr.type.dtype == var.type.dtype and expr.type.ndim == var.type.ndim:
        converted = tb.patternbroadcast(expr, var.type.broadcastable)
        if converted.type != var.type and not var.type.is_super(converted.type):
            converted = None
    if converted is None:
        raise TypeError(f"update {k}: the update of shared variable {var} (type {var.type}) has type {expr.type}; "
                        "an update must have the same type as its shared variable "
                        f"(cast it with .astype('{getattr(var.type, 'dtype', '?')}')). The update expression was "
                        f"created at:\n{format_trace(getattr(expr.tag, 'trace', []))}")
    return converted


class FunctionMaker:
    """Builds the FunctionGraph and the runner for one ``function`` call; ``f.maker``."""

    def __init__(self, inputs, outputs, updates, mode, on_unused_input, profile):
        self.inputs = inputs
        self.mode = mode
        self.profile = profile
        self.expanded_inputs = inputs
        self.outputs = outputs
        self.updates = updates
        in_vars = [i.variable for i in inputs]
        out_vars = [o.variable for o in outputs] + [expr for _, expr in updates]
        seen = set(in_vars)
        shared_inputs = []
        for var in ancestors(out_vars, blockers=in_vars):
            if isinstance(var, SharedVariable) and var not in seen:
                seen.add(var)
                shared_inputs.append(var)
        for var, _ in updates:
            if var not in seen:
                seen.add(var)
                shared_inputs.append(var)
        self.shared_inputs = shared_inputs
        self._check_unused(in_vars, out_vars, on_unused_input)
        self._check_missing(in_vars + shared_inputs, out_vars)
        start = time.perf_counter()
        self.fgraph = FunctionGraph(in_vars + shared_inputs, out_vars, clone=True)
        rewrite = _REWRITERS.get(mode.optimizer) if mode.optimizer else None
        if rewrite is not None:
            rewrite(self.fgraph, mode)
        self.rewrite_time = time.perf_counter() - start
        start = time.perf_counter()
        self.linker = _linker_for(mode)
        self.run = self.linker.make_function(self.fgraph)
        self.link_time = time.perf_counter() - start

    @staticmethod
    def _check_unused(in_vars, out_vars, on_unused_input):
        used = set(ancestors(out_vars, blockers=in_vars))
        for k, var in enumerate(in_vars):
            if var in used:
                continue
            msg = (f"function input {k} ({var}) is not needed to compute the outputs or updates. "
                   "Pass on_unused_input='warn' or 'ignore' to allow it.")
            if on_unused_input == "raise":
                raise UnusedInputError(msg)
            if on_unused_input == "warn":
                warnings.warn(msg, stacklevel=4)

    @staticmethod
    def _check_missing(known, out_vars):
        known = set(known)
        for var in ancestors(out_vars, blockers=list(known)):
            if var.owner is None and var not in known and not isinstance(var, Constant):
                raise MissingInputError(
                    f"function needs the value of {var} (type {var.type}) to compute its outputs, but it is "
                    f"not one of the inputs. It was created at:\n{var.creation_site()}")


class MissingInputError(ValueError):
    """An output depends on a non-shared, non-constant variable that is not an input."""


class Function:
    """A compiled function. Call it with positional or keyword arguments."""

    def __init__(self, maker, single_output, name, trust_input=False):
        self.maker = maker
        self.name = name
        self.trust_input = trust_input
        self._single = single_output
        self._inputs = maker.inputs
        self._shared = maker.shared_inputs
        self._n_outputs = len(maker.outputs)
        self._borrow = [o.borrow for o in maker.outputs]
        self._update_vars = [var for var, _ in maker.updates]
        self._by_name = {}
        for k, inp in enumerate(self._inputs):
            if inp.name is not None:
                if inp.name in self._by_name:
                    self._by_name[inp.name] = None  # ambiguous
                else:
                    self._by_name[inp.name] = k
        self.profile = maker.profile
        self.defaults = [inp.value for inp in self._inputs]
        self.call_count = 0

    def _describe(self, k):
        inp = self._inputs[k]
        name = f' with name "{inp.name}"' if inp.name else ""
        fname = f' "{self.name}"' if self.name else ""
        return f"bad input argument{name} to symtensor function{fname} at index {k} (0-based)"

    def _bind(self, args, kwargs):
        n = len(self._inputs)
        if len(args) > n:
            raise TypeError(f"symtensor function{' ' + repr(self.name) if self.name else ''} takes {n} "
                            f"argument(s), got {len(args)}")
        values = list(args) + [_MISSING] * (n - len(args))
        for key, value in kwargs.items():
            k = self._by_name.get(key, _MISSING)
            if k is _MISSING:
                known = [i.name for i in self._inputs if i.name]
                raise TypeError(f"symtensor function got an unexpected keyword argument {key!r}; "
                                f"input names are {known}")
            if k is None:
                raise TypeError(f"keyword {key!r} is ambiguous: several inputs have that name")
            if values[k] is not _MISSING:
                raise TypeError(f"symtensor function got multiple values for input {key!r}")
            values[k] = value
        for k, value in enumerate(values):
            if value is _MISSING:
                if self.defaults[k] is None:
                    inp = self._inputs[k]
                    raise TypeError(f"missing required input {k}"
                                    f"{' (' + repr(inp.name) + ')' if inp.name else ''} of type {inp.variable.type}")
                values[k] = self.defaults[k]
        return values

    def _filter(self, values):
        out = []
        for k, (inp, value) in enumerate(zip(self._inputs, values)):
            try:
                filtered = inp.variable.type.filter(value, strict=inp.strict,
                                                    allow_downcast=inp.allow_downcast)
            except (TypeError, ValueError) as exc:
                raise TypeError(f"{self._describe(k)}: {exc}") from None
            if not inp.mutable and not inp.borrow and filtered is value:
                pass  # read-only use: perform never writes to its inputs without a destroy_map
            out.append(filtered)
        return out

    def __call__(self, *args, **kwargs):
        if self.trust_input and not kwargs:
            values = list(args)
        else:
            values = self._filter(self._bind(args, kwargs))
        values.extend(s.container.value for s in self._shared)
        start = time.perf_counter() if self.profile else None
        results = self.maker.run(values)
        if self.profile:
            self.profile.record_call(time.perf_counter() - start)
        self.call_count += 1
        outputs = results[:self._n_outputs]
        new_values = results[self._n_outputs:]
        # outputs never alias inputs, shared storage or each other unless borrowed
        for i, value in enumerate(outputs):
            if not self._borrow[i] and isinstance(value, np.ndarray) and (
                    any(value is v or _shares(value, v) for v in values)
                    or any(value is o or _shares(value, o) for o in outputs[:i])):
                outputs[i] = value.copy()
        # all checks passed and every node ran: only now touch the shared variables
        for var, value in zip(self._update_vars, new_values):
            if isinstance(value, np.ndarray) and any(_shares(value, o) for o in outputs):
                value = value.copy()
            var.container.value = value
        if self._single:
            return outputs[0]
        return outputs

    def copy(self):
        return Function(self.maker, self._single, self.name, self.trust_input)

    def free(self):
        """Nothing is cached between calls by the python linker."""

    def __repr__(self):
        return f"<symtensor.Function {self.name or ''} {len(self._inputs)} inputs, {self._n_outputs} outputs>"


def _shares(a, b):
    return isinstance(b, np.ndarray) and a.size > 0 and np.may_share_memory(a, b)


class _Missing:
    def __repr__(self):
        return "<missing>"


_MISSING = _Missing()


def function(inputs, outputs=None, mode=None, updates=None, givens=None, no_default_updates=False,
             accept_inplace=False, name=None, rebuild_strict=True, allow_input_downcast=None, profile=None,
             on_unused_input=None, trust_input=False):
    """Compile a callable computing ``outputs`` from ``inputs``, then applying ``updates``.

    inputs: list of Variables or In. outputs: a Variable, a list (or None). updates: list of
    (shared_variable, expression) pairs (or an ordered dict). givens: pairs (variable, replacement)
    substituted before compiling.
    """
    if not isinstance(inputs, (list, tuple)):
        raise TypeError(f"function: inputs must be a list or tuple of variables, got {type(inputs).__name__}; "
                        "wrap a single input in a list: function([x], ...)")
    on_unused_input = on_unused_input or config.on_unused_input
    if on_unused_input not in ("raise", "warn", "ignore"):
        raise ValueError(f"on_unused_input must be 'raise', 'warn' or 'ignore', got {on_unused_input!r}")
    mode = get_mode(mode)
    ins = []
    for k, inp in enumerate(inputs):
        if isinstance(inp, In):
            item = inp
        elif isinstance(inp, Variable):
            item = In(inp)
        else:
            raise TypeError(f"function: input {k} must be a symbolic variable or In, got {type(inp).__name__} {inp!r}")
        if isinstance(item.variable, Constant):
            raise TypeError(f"function: input {k} ({item.variable}) is a constant; constants cannot be inputs")
        if isinstance(item.variable, SharedVariable) and not isinstance(inp, In):
            raise TypeError(f"function: input {k} ({item.variable}) is a shared variable; shared variables are "
                            "implicit inputs and cannot be listed (use givens to replace one)")
        if item.variable.owner is not None:
            raise TypeError(f"function: input {k} ({item.variable}) is computed by {item.variable.owner.op}; "
                            "inputs must be free variables (use givens to substitute a value for it)")
        if item.allow_downcast is None:
            item.allow_downcast = allow_input_downcast
        ins.append(item)
    if len({id(i.variable) for i in ins}) != len(ins):
        raise ValueError("function: the same variable appears twice among the inputs")
    single = outputs is not None and not isinstance(outputs, (list, tuple))
    out_list = [] if outputs is None else ([outputs] if single else list(outputs))
    outs = []
    for k, out in enumerate(out_list):
        if isinstance(out, Out):
            outs.append(out)
        elif isinstance(out, Variable):
            outs.append(Out(out))
        else:
            try:
                outs.append(Out(tb.as_tensor_variable(out)))
            except TypeError:
                raise TypeError(f"function: output {k} must be a symbolic variable, got {type(out).__name__}") from None
    update_pairs = _as_update_pairs(updates)
    if not no_default_updates:
        updated = {v for v, _ in update_pairs}
        for var in ancestors([o.variable for o in outs] + [e for _, e in update_pairs if isinstance(e, Variable)]):
            if isinstance(var, SharedVariable) and var.default_update is not None and var not in updated:
                update_pairs.append((var, var.default_update))
                updated.add(var)
    update_pairs = [(var, _coerce_update(var, expr, k)) for k, (var, expr) in enumerate(update_pairs)]
    if givens:
        pairs = list(givens.items()) if isinstance(givens, dict) else list(givens)
        replace = {}
        for old, new in pairs:
            if not isinstance(old, Variable):
                raise TypeError(f"givens: keys must be symbolic variables, got {old!r}")
            if not isinstance(new, Variable):
                new = tb.as_tensor_variable(new)
            if old.type != new.type:
                converted = old.type.convert_variable(new)
                if converted is None:
                    raise TypeError(f"givens: cannot replace {old} (type {old.type}) by {new} (type {new.type}); "
                                    "the types must match")
                new = converted
            replace[old] = new
        new_outs = clone_replace([o.variable for o in outs] + [e for _, e in update_pairs], replace, strict=False)
        outs = [Out(v, o.borrow) for v, o in zip(new_outs[:len(outs)], outs)]
        update_pairs = [(var, e) for (var, _), e in zip(update_pairs, new_outs[len(outs):])]
    prof = None
    if profile or (profile is None and config.profile):
        prof = CallStats(name)
    maker = FunctionMaker(ins, outs, update_pairs, mode, on_unused_input, prof)
    return Function(maker, single, name, trust_input)


class CallStats:
    """Call counts and times of a function (``profile=True``)."""

    def __init__(self, name):
        self.name = name
        self.calls = 0
        self.total_time = 0.0

    def record_call(self, seconds):
        self.calls += 1
        self.total_time += seconds

    def summary(self):
        return f"Function {self.name or '<unnamed>'}: {self.calls} calls, {self.total_time:.6f} s"


# ``var.eval()`` support: compile once per (variable, inputs) and cache
_eval_cache = {}


def _evaluate(var, inputs_to_values):
    keys = list(inputs_to_values)
    cache_key = (var, tuple(keys))
    fn = _eval_cache.get(cache_key)
    if fn is None:
        fn = function(keys, var, on_unused_input="ignore")
        _eval_cache[cache_key] = fn
    return fn(*[inputs_to_values[k] for k in keys])


Variable._evaluator = staticmethod(_evaluate)
