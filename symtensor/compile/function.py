"""``function``: compile symbolic inputs and outputs (and updates) into a callable.

The pipeline: apply ``givens``, gather the default updates and the shared
variables the graph reads (they become implicit inputs), build a
FunctionGraph, hand it to the rewriter chosen by the mode, then to the
linker. A call checks its arguments, runs every node, and only then writes
the updates, so a failing call leaves every shared variable unchanged.
"""

import time
import warnings
import weakref
from collections.abc import Mapping

import numpy as np

import symtensor.tensor.basic as tb
from symtensor.compile.io import In, Out
from symtensor.compile.mode import get_mode, linker_for
from symtensor.compile.profiling import CallStats
from symtensor.compile.sharedvalue import SharedVariable
from symtensor.config import config
from symtensor.graph import fgraph as _fg
from symtensor.graph.basic import Constant, Variable, ancestors, clone_replace, format_trace, view_roots
from symtensor.graph.destroyhandler import DestroyHandler
from symtensor.graph.fgraph import FunctionGraph


class UnusedInputError(ValueError):
    """An input of ``function`` is not needed by any output or update."""


class MissingInputError(_fg.MissingInputError):
    """An output depends on a non-shared, non-constant variable that is not an input."""

    def __init__(self, message, variable=None):
        ValueError.__init__(self, message)
        self.variable = variable


_REWRITERS = {}


def register_rewriter(name, fn):
    """The rewriting layer registers ``fn(fgraph, mode)`` for an optimizer name (``Mode.optimizer``)."""
    _REWRITERS[name] = fn


# ------------------------------------------------------------------ updates

def _as_update_pairs(updates):
    """``updates`` as a list of (shared, expression) pairs.

    Any mapping is accepted: all update expressions are computed from the
    values before the call and written together afterwards, so their order
    cannot change the result (which is why a plain dict is fine here, where
    Theano warned).
    """
    if updates is None:
        return []
    if isinstance(updates, Mapping):
        pairs = list(updates.items())
    elif isinstance(updates, (list, tuple)):
        pairs = list(updates)
    else:
        raise TypeError(f"function: updates must be a list of (shared_variable, expression) pairs or a dict, "
                        f"got {type(updates).__name__}")
    out, seen = [], set()
    for k, pair in enumerate(pairs):
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise TypeError(f"update {k} must be a (shared_variable, new_expression) pair, got {pair!r}")
        var, expr = pair
        if not isinstance(var, SharedVariable):
            raise TypeError(f"update {k}: only shared variables can be updated, got {var!r} "
                            f"({type(var).__name__}); create it with symtensor.shared(value)")
        if var in seen:
            raise ValueError(f"update {k}: shared variable {var} is updated twice")
        seen.add(var)
        if not isinstance(expr, Variable):
            try:
                expr = tb.as_tensor_variable(expr)
            except TypeError:
                raise TypeError(f"update {k} of {var}: {expr!r} is not a symbolic expression") from None
        out.append((var, expr))
    return out


def _coerce_update(var, expr, k):
    """The update expression as a variable of exactly the shared variable's type."""
    if expr.type == var.type or var.type.convert_variable(expr) is not None:
        return expr
    vt, et = var.type, expr.type
    if hasattr(vt, "broadcastable") and hasattr(et, "broadcastable") and et.dtype == vt.dtype \
            and et.ndim == vt.ndim:
        converted = tb.patternbroadcast(expr, vt.broadcastable)
        if converted.type == vt or vt.is_super(converted.type):
            return converted
    if getattr(vt, "dtype", None) != getattr(et, "dtype", None) and getattr(vt, "ndim", -1) == getattr(et, "ndim", -2):
        hint = (f"the dtypes differ; cast the update, e.g. updates=[({var}, new_value.astype('{vt.dtype}'))] "
                f"(or symtensor.tensor.cast(new_value, '{vt.dtype}'))")
    elif getattr(vt, "ndim", None) != getattr(et, "ndim", None):
        hint = f"the number of dimensions differs ({getattr(vt, 'ndim', '?')} != {getattr(et, 'ndim', '?')})"
    else:
        hint = "the broadcastable pattern or static shape differs"
    raise TypeError(f"update {k}: the update of shared variable {var} (type {vt}) has type {et}; an update must "
                    f"have the same type as its shared variable: {hint}. The update expression was created at:\n"
                    f"{format_trace(getattr(expr.tag, 'trace', []))}")


def _apply_givens(givens, variables):
    """``variables`` with the ``givens`` substitutions made (a copy of their graph)."""
    if not givens:
        return list(variables)
    if isinstance(givens, Mapping):
        pairs = list(givens.items())
    elif isinstance(givens, (list, tuple)):
        pairs = list(givens)
    else:
        raise TypeError(f"givens must be a dict or a list of (variable, replacement) pairs, got {type(givens).__name__}")
    replace = {}
    for pair in pairs:
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise TypeError(f"givens: expected (variable, replacement) pairs, got {pair!r}")
        old, new = pair
        if not isinstance(old, Variable):
            raise TypeError(f"givens: keys must be symbolic variables, got {type(old).__name__} {old!r}")
        if isinstance(old, Constant):
            raise TypeError(f"givens: the constant {old} cannot be replaced")
        if not isinstance(new, Variable):
            try:
                new = tb.as_tensor_variable(new)
            except TypeError:
                raise TypeError(f"givens: the replacement of {old} must be a variable or a value, "
                                f"got {type(new).__name__}") from None
        if old.type != new.type:
            converted = old.type.convert_variable(new)
            if converted is None:
                hint = ""
                if getattr(old.type, "dtype", None) != getattr(new.type, "dtype", None):
                    hint = f"; cast the replacement with .astype('{old.type.dtype}')"
                raise TypeError(f"givens: cannot replace {old} (type {old.type}) by {new} (type {new.type}): "
                                f"the types must match{hint}")
            new = converted
        if old in replace:
            raise ValueError(f"givens: {old} is replaced twice")
        replace[old] = new
    return clone_replace(list(variables), replace, strict=False)


def _default_updates(outputs, updates, no_default_updates):
    """(shared, default_update) pairs for the shared variables the graph reads and nobody updates."""
    if no_default_updates is True:
        return []
    excluded = set(no_default_updates or ())
    updated = {var for var, _ in updates}
    pairs = []
    for var in ancestors(list(outputs) + [e for _, e in updates]):
        if (isinstance(var, SharedVariable) and getattr(var, "default_update", None) is not None
                and var not in updated and var not in excluded):
            pairs.append((var, var.default_update))
            updated.add(var)
    return pairs


# ------------------------------------------------------------------ maker

class FunctionMaker:
    """Builds the FunctionGraph and the runner for one ``function`` call (``f.maker``)."""

    def __init__(self, inputs, outputs, updates, mode, on_unused_input, profile, accept_inplace=False):
        self.inputs = inputs
        self.mode = mode
        self.profile = profile
        self.on_unused_input = on_unused_input
        self.accept_inplace = accept_inplace
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
        self.expanded_inputs = in_vars + shared_inputs
        self._check_unused(in_vars, out_vars, on_unused_input)
        self._check_missing(in_vars + shared_inputs, out_vars)
        start = time.perf_counter()
        self.fgraph = FunctionGraph(in_vars + shared_inputs, out_vars, clone=True)
        user_destroyed = set()
        for node in self.fgraph.apply_nodes:
            if getattr(node.op, "destroy_map", None):
                if not accept_inplace:
                    raise TypeError(f"function: the graph contains the in-place operation {node} (it overwrites "
                                    "an input); pass accept_inplace=True if that is intended")
                for ins in node.op.destroy_map.values():
                    for i in ins:
                        user_destroyed.update(view_roots(node.inputs[i]))
        # the destroy handler vetoes every rewrite that would overwrite what the caller still owns: inputs
        # not In(mutable=True) and shared variables this function does not update (an updated shared value
        # is dead after the call, so it may be overwritten in place). Inputs that the user's own in-place
        # ops destroy are not protected: the call copies them instead (see Function._copy_inputs).
        n_in = len(in_vars)
        updated = {var for var, _ in updates}
        self.updated_inputs = {k for k, var in enumerate(self.expanded_inputs) if var in updated}
        position = {var: k for k, var in enumerate(self.expanded_inputs)}
        #: {fgraph output index: fgraph input index} of the shared variable that output updates
        self.fgraph.update_mapping = {len(outputs) + j: position[var] for j, (var, _) in enumerate(updates)}
        protected = [self.fgraph.inputs[k] for k in range(len(self.expanded_inputs))
                     if not (k < n_in and inputs[k].mutable) and k not in self.updated_inputs
                     and self.fgraph.inputs[k] not in user_destroyed]
        self.fgraph.attach_feature(DestroyHandler(protected))
        self.fgraph.validate()
        rewrite = _REWRITERS.get(mode.optimizer) if mode.optimizer else None
        if rewrite is not None:
            rewrite(self.fgraph, mode)
            self.fgraph.validate()  # a rewrite that bypassed validation must not leave an unsafe in-place state
        self.rewrite_time = time.perf_counter() - start
        #: which rewrites fired and how long each phase took (None when rewriting is off)
        self.rewrite_log = getattr(self.fgraph, "rewrite_log", None)
        if self.rewrite_log is not None and config.optimizer_verbose:
            print(self.rewrite_log.summary())
        start = time.perf_counter()
        self.linker = linker_for(mode)
        if profile is not None:
            self.run = self.linker.make_function(self.fgraph, profile=profile)
        else:
            self.run = self.linker.make_function(self.fgraph)
        self.link_time = time.perf_counter() - start
        if profile is not None:
            profile.rewrite_time, profile.link_time = self.rewrite_time, self.link_time
            profile.compile_time = self.rewrite_time + self.link_time
            profile.rewrite_log = self.rewrite_log
        self.destroyed_inputs = self._destroyed_inputs()

    def _destroyed_inputs(self):
        """Positions of the fgraph inputs that some node overwrites (destroy_map)."""
        positions = {var: k for k, var in enumerate(self.fgraph.inputs)}
        out = set()
        for node in self.fgraph.apply_nodes:
            for in_idxs in (getattr(node.op, "destroy_map", None) or {}).values():
                for i in in_idxs:
                    for root in view_roots(node.inputs[i]):
                        if root in positions:
                            out.add(positions[root])
        return sorted(out)

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
                    f"not one of the inputs. It was created at:\n{var.creation_site()}", var)


# ------------------------------------------------------------------ callable

class Function:
    """A compiled function. Call it with positional or keyword arguments."""

    def __init__(self, maker, output_keys, name, trust_input=False):
        self.maker = maker
        self.name = name
        self.trust_input = trust_input
        #: None: a single output; a list of names: a dict result; else: a list result
        self._output_keys = output_keys
        self._inputs = maker.inputs
        self._shared = maker.shared_inputs
        self._n_outputs = len(maker.outputs)
        self._borrow = [o.borrow for o in maker.outputs]
        self._update_vars = [var for var, _ in maker.updates]
        n_in = len(self._inputs)
        # destroyed inputs the caller still owns are copied before the run; updated shared variables
        # are overwritten in place (their old value is dead after the call) unless aliased elsewhere
        self._copy_inputs = [k for k in maker.destroyed_inputs
                             if not (k < n_in and self._inputs[k].mutable) and k not in maker.updated_inputs]
        self._inplace_shared = [k for k in maker.destroyed_inputs if k >= n_in and k in maker.updated_inputs]
        self._constants = [v.data for v in maker.fgraph.variables if isinstance(v, Constant)
                           and isinstance(getattr(v, "data", None), np.ndarray)]
        self._by_name = {}
        for k, inp in enumerate(self._inputs):
            if inp.name is not None:
                self._by_name[inp.name] = None if inp.name in self._by_name else k  # None: ambiguous
        self.profile = maker.profile
        self.defaults = [self._filter_one(k, inp.value) if inp.value is not None else None
                         for k, inp in enumerate(self._inputs)]
        self._fast, self._fast_state = self._make_fast_call() or (None, None)
        if self._fast is not None:
            # calls then run with no Python frame: the class's __call__ is the compiled entry point
            self.__class__ = _class_calling(self.maker.run.make_entry(weakref.ref(self)))

    def _make_fast_call(self):
        """The linker's checked fast entry point, when it has one and this function can use it.

        It takes exactly-typed positional arguments and does the whole call natively; anything
        else (keywords, conversions, profiling, bad arguments) takes the Python path below.
        """
        make = getattr(self.maker.run, "make_fast_call", None)
        if make is None or self.profile is not None or self._copy_inputs or isinstance(self._output_keys, list):
            return None
        if any(inp.strict for inp in self._inputs):
            return None
        n_out = self._n_outputs
        if self._output_keys is None and n_out != 1:
            return None
        return make([inp.variable.type for inp in self._inputs], [s.container for s in self._shared],
                    self._inplace_shared, self._borrow,
                    [(var.container, n_out + j) for j, var in enumerate(self._update_vars)],
                    self._output_keys is None, False)

    def _describe(self, k):
        inp = self._inputs[k]
        name = f' with name "{inp.name}"' if inp.name else ""
        fname = f' "{self.name}"' if self.name else ""
        return f"bad input argument{name} to symtensor function{fname} at index {k} (0-based)"

    def _bind(self, args, kwargs):
        n = len(self._inputs)
        fname = f" {self.name!r}" if self.name else ""
        if len(args) > n:
            raise TypeError(f"symtensor function{fname} takes {n} argument(s), got {len(args)}")
        values = list(args) + [_MISSING] * (n - len(args))
        for key, value in kwargs.items():
            k = self._by_name.get(key, _MISSING)
            if k is _MISSING:
                known = [i.name for i in self._inputs if i.name]
                raise TypeError(f"symtensor function{fname} got an unexpected keyword argument {key!r}; "
                                f"input names are {known}")
            if k is None:
                raise TypeError(f"keyword {key!r} is ambiguous: several inputs have that name")
            if values[k] is not _MISSING:
                raise TypeError(f"symtensor function{fname} got multiple values for input {key!r}")
            values[k] = value
        for k, value in enumerate(values):
            if value is _MISSING:
                if self.defaults[k] is None:
                    inp = self._inputs[k]
                    raise TypeError(f"symtensor function{fname}: missing required input {k}"
                                    f"{' (' + repr(inp.name) + ')' if inp.name else ''} of type "
                                    f"{inp.variable.type}")
                values[k] = _DEFAULT
        return values

    def _filter_one(self, k, value):
        inp = self._inputs[k]
        try:
            return inp.variable.type.filter(value, strict=inp.strict, allow_downcast=inp.allow_downcast)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{self._describe(k)}: {exc}") from None

    def _node_failed(self, exc):
        """Called by the compiled entry point when a node fails: raise the node's report."""
        self.maker.run.explain(exc)

    def _call_python(self, *args, **kwargs):
        """The call in Python: keyword binding, conversions and their errors, profiling, and the
        linkers without a native entry point."""
        if self.trust_input and not kwargs and len(args) == len(self._inputs):
            values = list(args)
        else:
            values = self._bind(args, kwargs)
            values = [self.defaults[k] if v is _DEFAULT else self._filter_one(k, v) for k, v in enumerate(values)]
        values.extend(s.container.value for s in self._shared)
        protected = [v for v in values if isinstance(v, np.ndarray)] + self._constants
        for k in self._copy_inputs:  # overwritten in place by some node: never the caller's (or a shared) array
            values[k] = values[k].copy()
        for k in self._inplace_shared:  # an updated shared array that is also passed elsewhere is not overwritten
            if _aliases(values[k], values[:k] + values[k + 1:]):
                values[k] = values[k].copy()
        start = time.perf_counter() if self.profile is not None else None
        results = self.maker.run(values)
        if self.profile is not None:
            self.profile.record_call(time.perf_counter() - start)
        outputs = results[:self._n_outputs]
        new_values = results[self._n_outputs:]
        # outputs never alias inputs, shared storage, constants or each other unless borrowed
        for i, value in enumerate(outputs):
            if not self._borrow[i] and isinstance(value, np.ndarray) and (
                    _aliases(value, protected) or _aliases(value, outputs[:i])):
                outputs[i] = value.copy()
        # every node ran: only now touch the shared variables
        for j, (var, value) in enumerate(zip(self._update_vars, new_values)):
            if isinstance(value, np.ndarray):
                own = var.container.value
                others = [v for v in protected if v is not own] + outputs + list(new_values[:j])
                if _aliases(value, others):
                    value = value.copy()
            var.container.value = value
        if self._output_keys is None:
            return outputs[0]
        if isinstance(self._output_keys, list):
            return dict(zip(self._output_keys, outputs))
        return outputs

    __call__ = _call_python

    def get_shared(self):
        """The shared variables this function reads or updates."""
        return list(self._shared)

    def copy(self, share_memory=False, swap=None, delete_updates=False, name=None, profile=None):
        """A new Function computing the same thing (Theano's ``Function.copy``).

        share_memory: share this function's compiled state (its work buffers) instead of building a
        fresh one; the two must then not run at the same time. swap: {shared variable: shared
        variable of the same type} read and updated by the copy instead. delete_updates: the copy
        computes the outputs but updates nothing. Shared variables not swapped stay shared.
        """
        name = self.name if name is None else name
        if swap or delete_updates or profile is not None:
            maker = _rebuilt_maker(self.maker, swap or {}, delete_updates, profile)
        elif share_memory:
            maker = self.maker
        else:
            maker = _rebuilt_maker(self.maker, {}, False, self.maker.profile)
        return Function(maker, self._output_keys, name, self.trust_input)

    def __reduce__(self):
        """Pickle the user's graph and options; unpickling compiles again (the C cache makes it fast).
        As in Theano, the unpickled function has its own copies of the shared variables."""
        m = self.maker
        return (_unpickle_function, (m.inputs, m.outputs, m.updates, m.mode, m.on_unused_input, m.accept_inplace,
                                     self._output_keys, self.name, self.trust_input))

    def free(self):
        """Nothing is kept between calls by the python linker."""

    def __repr__(self):
        return f"<symtensor.Function {self.name or ''} {len(self._inputs)} inputs, {self._n_outputs} outputs>"


def _rebuilt_maker(maker, swap, delete_updates, profile):
    """A FunctionMaker for ``maker``'s user graph with shared variables swapped and updates maybe dropped."""
    for old, new in swap.items():
        if not isinstance(old, SharedVariable) or not isinstance(new, SharedVariable):
            raise TypeError(f"Function.copy: swap maps shared variables to shared variables, got {old!r}: {new!r}")
        if old.type != new.type:
            raise TypeError(f"Function.copy: cannot swap {old} (type {old.type}) for {new} of another type "
                            f"({new.type})")
    updates = [] if delete_updates else maker.updates
    n_out = len(maker.outputs)
    exprs = [o.variable for o in maker.outputs] + [e for _, e in updates]
    if swap:
        exprs = clone_replace(exprs, replace=swap)
    outs = [Out(v, o.borrow) for v, o in zip(exprs[:n_out], maker.outputs)]
    update_pairs = [(swap.get(var, var), e) for (var, _), e in zip(updates, exprs[n_out:])]
    if profile is True:
        profile = CallStats(None)
    # the original call checked its inputs; without its updates one may be unused, and stays an input
    return FunctionMaker(maker.inputs, outs, update_pairs, maker.mode, "ignore", profile or None,
                         maker.accept_inplace)


def _unpickle_function(inputs, outputs, updates, mode, on_unused_input, accept_inplace, output_keys, name,
                       trust_input):
    maker = FunctionMaker(inputs, outputs, updates, mode, on_unused_input, None, accept_inplace)
    return Function(maker, output_keys, name, trust_input)


def _class_calling(entry):
    """A subclass of Function whose ``__call__`` is ``entry`` (a builtin: called without self)."""
    return type("Function", (Function,), {"__call__": entry, "__slots__": (), "__module__": Function.__module__})


def _aliases(value, others):
    return any(value is o or (isinstance(o, np.ndarray) and value.size > 0 and np.may_share_memory(value, o))
               for o in others)


class _Marker:
    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"<{self.name}>"


_MISSING = _Marker("missing")
_DEFAULT = _Marker("default")


# ------------------------------------------------------------------ function()

def _as_inputs(inputs, allow_input_downcast):
    if not isinstance(inputs, (list, tuple)):
        raise TypeError(f"function: inputs must be a list or tuple of variables, got {type(inputs).__name__}; "
                        "wrap a single input in a list: function([x], ...)")
    ins = []
    for k, inp in enumerate(inputs):
        if isinstance(inp, In):
            item = inp
        elif isinstance(inp, Variable):
            item = In(inp)
        else:
            raise TypeError(f"function: input {k} must be a symbolic variable or In, got {type(inp).__name__} {inp!r}")
        var = item.variable
        if isinstance(var, Constant):
            raise TypeError(f"function: input {k} ({var}) is a constant; constants cannot be inputs")
        if isinstance(var, SharedVariable):
            raise TypeError(f"function: input {k} ({var}) is a shared variable; shared variables are "
                            "implicit inputs and cannot be listed (use givens to replace one)")
        if var.owner is not None:
            raise TypeError(f"function: input {k} ({var}) is computed by {var.owner.op}; "
                            "inputs must be free variables (use givens to substitute a value for it)")
        if item.update is not None:
            raise TypeError(f"function: input {k} ({var}) has an update; keep state in a shared variable "
                            "and pass updates=[(shared, expression)] instead")
        if item.allow_downcast is None:
            item.allow_downcast = allow_input_downcast
        ins.append(item)
    for k, item in enumerate(ins):
        for j in range(k):
            if ins[j].variable is item.variable:
                raise ValueError(f"function: input {item.variable} appears twice (positions {j} and {k})")
    return ins


def _as_outputs(outputs):
    """(list of Out, output_keys): keys None for a single output, a name list for a dict."""
    if outputs is None:
        return [], ()
    if isinstance(outputs, Mapping):
        keys = list(outputs)
        for key in keys:
            if not isinstance(key, str):
                raise TypeError(f"function: the keys of an outputs dict must be strings, got {key!r}")
        items, output_keys = [outputs[k] for k in keys], keys
    elif isinstance(outputs, (list, tuple)):
        items, output_keys = list(outputs), ()
    else:
        items, output_keys = [outputs], None
    outs = []
    for k, out in enumerate(items):
        if isinstance(out, Out):
            outs.append(out)
        elif isinstance(out, Variable):
            outs.append(Out(out))
        else:
            try:
                outs.append(Out(tb.as_tensor_variable(out)))
            except TypeError:
                raise TypeError(f"function: output {k} must be a symbolic variable, got {type(out).__name__}") from None
    return outs, output_keys


def function(inputs, outputs=None, mode=None, updates=None, givens=None, no_default_updates=False,
             accept_inplace=False, name=None, rebuild_strict=True, allow_input_downcast=None, profile=None,
             on_unused_input=None, trust_input=False):
    """Compile a callable computing ``outputs`` from ``inputs``, then applying ``updates``.

    inputs: list of Variables or In. outputs: a Variable (the call returns one value), a list
    (returns a list), a dict of name -> Variable (returns a dict) or None. updates: (shared, expression)
    pairs or a dict; all are computed from the pre-call values and written after every node ran.
    givens: (variable, replacement) pairs substituted before compiling. no_default_updates: True, or a
    list of shared variables whose ``default_update`` is not applied. allow_input_downcast: True lets
    arguments lose precision; None (default) only lets Python floats become floatX/float32.
    """
    on_unused_input = on_unused_input or config.on_unused_input
    if on_unused_input not in ("raise", "warn", "ignore"):
        raise ValueError(f"on_unused_input must be 'raise', 'warn' or 'ignore', got {on_unused_input!r}")
    mode = get_mode(mode)
    ins = _as_inputs(inputs, allow_input_downcast)
    outs, output_keys = _as_outputs(outputs)
    update_pairs = _as_update_pairs(updates)
    n_out = len(outs)
    replaced = _apply_givens(givens, [o.variable for o in outs] + [e for _, e in update_pairs])
    outs = [Out(v, o.borrow) for v, o in zip(replaced[:n_out], outs)]
    update_pairs = [(var, e) for (var, _), e in zip(update_pairs, replaced[n_out:])]
    defaults = _default_updates([o.variable for o in outs], update_pairs, no_default_updates)
    if defaults:
        exprs = _apply_givens(givens, [e for _, e in defaults])
        update_pairs += [(var, e) for (var, _), e in zip(defaults, exprs)]
    update_pairs = [(var, _coerce_update(var, expr, k)) for k, (var, expr) in enumerate(update_pairs)]
    prof = None
    if profile or (profile is None and config.profile):
        prof = profile if isinstance(profile, CallStats) else CallStats(name)
    maker = FunctionMaker(ins, outs, update_pairs, mode, on_unused_input, prof, accept_inplace)
    return Function(maker, output_keys, name, trust_input)


# ------------------------------------------------------------------ Variable.eval

def _evaluate(var, inputs_to_values):
    """``var.eval({x: value})``: compile once per set of inputs (cached on the variable), then call."""
    if not isinstance(inputs_to_values, Mapping):
        raise TypeError(f"eval: expected a dict {{variable: value}}, got {type(inputs_to_values).__name__}")
    keys = list(inputs_to_values)
    for key in keys:
        if not isinstance(key, Variable):
            raise TypeError(f"eval: the keys must be symbolic variables, got {type(key).__name__} {key!r}")
    cache = var.__dict__.setdefault("_eval_cache", {})
    cache_key = tuple(keys)
    fn = cache.get(cache_key)
    if fn is None:
        fn = function(keys, var, on_unused_input="ignore")
        cache[cache_key] = fn
    return fn(*[inputs_to_values[k] for k in keys])


Variable._evaluator = staticmethod(_evaluate)
