"""The IR: Variables, Constants and Apply nodes, and walks over graphs of them.

This module knows nothing about tensors: a Variable only carries a Type, and
an Apply ties an Op to its input and output Variables.
"""

import os
import sys
import traceback
from collections import deque

from symtensor.config import config

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Scratchpad:
    """Free-form annotations attached to a Variable (``var.tag``)."""

    def __repr__(self):
        return f"Scratchpad({self.__dict__})"


def user_trace(limit=None):
    """The innermost user-code frames (outside symtensor) as (file, line, func, text)."""
    limit = config.traceback__limit if limit is None else limit
    if limit <= 0:
        return []
    frames = []
    frame = sys._getframe(1)
    while frame is not None and len(frames) < limit:
        filename = frame.f_code.co_filename
        if not os.path.abspath(filename).startswith(_PACKAGE_DIR + os.sep):
            frames.append(frame)
        frame = frame.f_back
    out = []
    for frame in reversed(frames):
        summary = traceback.FrameSummary(frame.f_code.co_filename, frame.f_lineno, frame.f_code.co_name)
        out.append((summary.filename, summary.lineno, summary.name, summary.line or ""))
    return out


def format_trace(trace):
    return "".join(f'  File "{f}", line {n}, in {fn}\n    {text}\n' for f, n, fn, text in trace)


class Variable:
    """A symbolic value: the output ``index`` of Apply ``owner`` (or a graph input)."""

    # Set by symtensor.compile so that ``var.eval()`` works without this layer importing it.
    _evaluator = None

    def __init__(self, type, owner=None, index=None, name=None):
        self.type = type
        self.owner = owner
        self.index = index
        self.name = name
        self.tag = Scratchpad()
        self.tag.trace = user_trace()
        self.auto_name = f"auto_{Variable._next_id()}"

    _counter = 0

    @staticmethod
    def _next_id():
        Variable._counter += 1
        return Variable._counter

    def __str__(self):
        if self.name is not None:
            return self.name
        if self.owner is not None:
            op = self.owner.op
            return f"{op}.{self.index}"
        return f"<{self.type}>"

    def __repr__(self):
        return str(self)

    def clone(self):
        """A new, ownerless Variable of the same type and name."""
        cp = self.__class__(self.type, None, None, self.name)
        cp.tag = _copy_tag(self.tag)
        return cp

    def get_parents(self):
        return [self.owner] if self.owner is not None else []

    def eval(self, inputs_to_values=None):
        """Compile (and cache) a function of this variable's inputs and evaluate it."""
        inputs_to_values = inputs_to_values or {}
        return Variable._evaluator(self, inputs_to_values)

    def creation_site(self):
        return format_trace(getattr(self.tag, "trace", []))


def _copy_tag(tag):
    new = Scratchpad()
    new.__dict__.update(tag.__dict__)
    return new


class Constant(Variable):
    """A Variable with a fixed value; it cannot be an input of a function."""

    def __init__(self, type, data, name=None):
        super().__init__(type, None, None, name)
        self.data = type.filter(data)

    @property
    def value(self):
        return self.data

    def signature(self):
        return (self.type, self.type.value_signature(self.data))

    def equals(self, other):
        return isinstance(other, Constant) and self.signature() == other.signature()

    def __str__(self):
        if self.name is not None:
            return self.name
        text = str(self.data).replace("\n", " ")
        return text if len(text) <= 20 else text[:17] + "..."

    def clone(self):
        cp = self.__class__(self.type, self.data, self.name)
        cp.tag = _copy_tag(self.tag)
        return cp


class Apply:
    """One application of ``op`` to ``inputs``, producing ``outputs``."""

    def __init__(self, op, inputs, outputs):
        self.op = op
        self.inputs = list(inputs)
        for i, inp in enumerate(self.inputs):
            if not isinstance(inp, Variable):
                raise TypeError(f"{op}: input {i} is {type(inp).__name__}, not a Variable")
        self.outputs = []
        for i, out in enumerate(outputs):
            if not isinstance(out, Variable):
                raise TypeError(f"{op}: output {i} is {type(out).__name__}, not a Variable")
            if out.owner is None:
                out.owner, out.index = self, i
            elif out.owner is not self or out.index != i:
                raise ValueError(f"{op}: output {i} already belongs to another Apply")
            self.outputs.append(out)
        self.tag = Scratchpad()

    @property
    def nin(self):
        return len(self.inputs)

    @property
    def nout(self):
        return len(self.outputs)

    @property
    def out(self):
        """The default output (the only one, or ``op.default_output``)."""
        index = getattr(self.op, "default_output", None)
        if index is not None:
            return self.outputs[index]
        if len(self.outputs) == 1:
            return self.outputs[0]
        raise AttributeError(f"{self.op} has {len(self.outputs)} outputs and no default_output")

    default_output = out

    def get_parents(self):
        return list(self.inputs)

    def clone(self):
        """Same op and inputs, fresh outputs."""
        return Apply(self.op, self.inputs, [o.clone() for o in self.outputs])

    def clone_with_new_inputs(self, inputs, strict=True):
        """Re-apply the op to ``inputs``; with strict=False the op may re-type its outputs."""
        assert len(inputs) == len(self.inputs)
        if strict and all(a.type == b.type for a, b in zip(inputs, self.inputs)):
            new = self.clone()
            new.inputs = list(inputs)
            return new
        remake = self.op.make_node(*inputs)
        if strict:
            for old, newo in zip(self.outputs, remake.outputs):
                if old.type != newo.type:
                    raise TypeError(f"{self.op}: new inputs change output type {old.type} -> {newo.type}")
        return remake

    def __str__(self):
        return f"{self.op}({', '.join(str(i) for i in self.inputs)})"

    __repr__ = __str__


# --------------------------------------------------------------------- walks

def ancestors(outputs, blockers=None):
    """Every Variable that ``outputs`` depend on (outputs included), stopping at blockers."""
    blockers = set(blockers or ())
    seen, order = set(), []
    stack = list(reversed(list(outputs)))
    while stack:
        var = stack.pop()
        if var in seen:
            continue
        seen.add(var)
        order.append(var)
        if var.owner is not None and var not in blockers:
            stack.extend(reversed(var.owner.inputs))
    return order


def graph_inputs(outputs, blockers=None):
    """The ownerless Variables (or blockers) that ``outputs`` depend on."""
    blockers = set(blockers or ())
    return [v for v in ancestors(outputs, blockers) if v.owner is None or v in blockers]


def io_toposort(inputs, outputs):
    """Apply nodes between ``inputs`` and ``outputs``, each after those it depends on."""
    stop = set(inputs)
    order, done = [], set()
    for out in outputs:
        stack = [(out, False)]
        while stack:
            var, expanded = stack.pop()
            node = var.owner
            if node is None or var in stop or node in done:
                continue
            if expanded:
                done.add(node)
                order.append(node)
                continue
            stack.append((var, True))
            for inp in reversed(node.inputs):
                if inp.owner is not None and inp not in stop and inp.owner not in done:
                    stack.append((inp, False))
    return order


def applys_between(inputs, outputs):
    return io_toposort(inputs, outputs)


def vars_between(inputs, outputs):
    nodes = io_toposort(inputs, outputs)
    out = list(inputs)
    for node in nodes:
        out.extend(v for v in node.inputs if v not in out)
        out.extend(node.outputs)
    return out


def is_in_ancestors(node, target):
    """True when Apply ``target`` is an ancestor of (or is) Apply ``node``."""
    return any(v.owner is target for v in ancestors(node.outputs))


def clone_get_equiv(inputs, outputs, copy_inputs=True, memo=None):
    """Clone the graph from inputs to outputs; return the old -> new map."""
    memo = {} if memo is None else memo
    for inp in inputs:
        if inp not in memo:
            memo[inp] = inp.clone() if copy_inputs else inp
    for node in io_toposort(inputs, outputs):
        for inp in node.inputs:
            if inp not in memo:
                memo[inp] = inp.clone() if (copy_inputs and inp.owner is None and not isinstance(inp, Constant)) else inp
        new = node.clone_with_new_inputs([memo[i] for i in node.inputs], strict=False)
        memo[node] = new
        for old, newo in zip(node.outputs, new.outputs):
            memo[old] = newo
            newo.name = old.name
            newo.tag = _copy_tag(old.tag)
    for out in outputs:
        memo.setdefault(out, out.clone() if copy_inputs else out)
    return memo


def clone(inputs, outputs, copy_inputs=True):
    equiv = clone_get_equiv(inputs, outputs, copy_inputs)
    return [equiv[i] for i in inputs], [equiv[o] for o in outputs]


def clone_replace(output, replace=None, strict=True):
    """Copy of ``output``'s graph with ``replace`` ({old: new}) substituted."""
    replace = dict(replace or {})
    if isinstance(replace, (list, tuple)):
        replace = dict(replace)
    single = isinstance(output, Variable)
    outputs = [output] if single else list(output)
    memo = {}
    for old, new in replace.items():
        if strict and old.type != new.type and not old.type.is_super(new.type):
            raise TypeError(f"clone_replace: cannot replace {old} of type {old.type} by {new} of type {new.type}")
        memo[old] = new
    keep = graph_inputs(outputs, blockers=list(replace))
    for var in keep:
        memo.setdefault(var, var)
    for node in io_toposort(list(memo), outputs):
        new_inputs = [memo.get(i, i) for i in node.inputs]
        if all(a is b for a, b in zip(new_inputs, node.inputs)):
            for o in node.outputs:
                memo[o] = o
            continue
        new = node.clone_with_new_inputs(new_inputs, strict=False)
        for old, newo in zip(node.outputs, new.outputs):
            newo.name = old.name
            memo[old] = newo
    result = [memo.get(o, o) for o in outputs]
    return result[0] if single else result


def view_roots(var):
    """The variables whose storage ``var`` may view (via the ops' view_map)."""
    owner = var.owner
    if owner is None:
        return [var]
    view_map = getattr(owner.op, "view_map", {}) or {}
    if var.index in view_map:
        roots = []
        for i in view_map[var.index]:
            roots.extend(view_roots(owner.inputs[i]))
        return roots
    return [var]
