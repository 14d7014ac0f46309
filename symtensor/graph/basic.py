"""The IR: Variables, Constants and Apply nodes, and walks over graphs of them.

This module knows nothing about tensors: a Variable only carries a Type, and
an Apply ties an Op to its input and output Variables.
"""

import linecache
import os
import sys

from symtensor.config import config

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Scratchpad:
    """Free-form annotations attached to a Variable (``var.tag``)."""

    def __repr__(self):
        return f"Scratchpad({self.__dict__})"


_IN_PACKAGE = {}


def _is_package_file(filename):
    """Cached: is ``filename`` part of symtensor (abspath per frame is the cost of tracing)."""
    hit = _IN_PACKAGE.get(filename)
    if hit is None:
        hit = _IN_PACKAGE[filename] = os.path.abspath(filename).startswith(_PACKAGE_DIR + os.sep)
    return hit


def user_trace(limit=None):
    """The innermost user-code frames (outside symtensor) as (file, line, func, text), outermost first."""
    limit = config.traceback__limit if limit is None else limit
    if limit <= 0:
        return []
    frames = []
    known = _IN_PACKAGE.get
    frame = sys._getframe(1)
    while frame is not None:
        code = frame.f_code
        inside = known(code.co_filename)
        if inside is None:
            inside = _is_package_file(code.co_filename)
        if not inside:
            frames.append((code.co_filename, frame.f_lineno, code.co_name))
            if len(frames) >= limit:
                break
        frame = frame.f_back
    return [(f, n, fn, linecache.getline(f, n).strip()) for f, n, fn in reversed(frames)]


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
        self.tag.trace = user_trace() if not _untraced_depth else []
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
        cp = _untraced(lambda: self.__class__(self.type, None, None, self.name))
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


_untraced_depth = 0


def _untraced(make):
    """Call ``make()`` without recording creation traces (clones copy the original's trace)."""
    global _untraced_depth
    _untraced_depth += 1
    try:
        return make()
    finally:
        _untraced_depth -= 1


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
        cp = _untraced(lambda: self.__class__(self.type, self.data, self.name))
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
        """Re-apply the op to ``inputs``.

        Inputs of the same types just get a copy of this node. Otherwise, with
        strict=True each input must convert to the old input's type (else
        TypeError); with strict=False the op's make_node re-types the outputs.
        """
        inputs = list(inputs)
        if len(inputs) != len(self.inputs):
            raise ValueError(f"{self.op}: {len(inputs)} new inputs for {len(self.inputs)} old ones")
        if strict:
            for k, (new, old) in enumerate(zip(inputs, self.inputs)):
                if new.type != old.type:
                    converted = old.type.convert_variable(new)
                    if converted is None:
                        raise TypeError(f"{self.op}: new input {k} {new} has type {new.type}, "
                                        f"which cannot replace {old} of type {old.type}")
                    inputs[k] = converted
        if all(a.type == b.type for a, b in zip(inputs, self.inputs)):
            new = self.clone()
            new.inputs = inputs
            return new
        return self.op.make_node(*inputs)

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


#: Theano's name (``theano.gof.graph.inputs``)
inputs = graph_inputs


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
    """Every Variable on a path from ``inputs`` to ``outputs`` (both included)."""
    nodes = io_toposort(inputs, outputs)
    out, seen = [], set()
    for var in list(inputs) + [v for node in nodes for v in node.inputs + node.outputs] + list(outputs):
        if var not in seen:
            seen.add(var)
            out.append(var)
    return out


def is_in_ancestors(node, target):
    """True when Apply ``target`` is an ancestor of (or is) Apply ``node``."""
    return any(v.owner is target for v in ancestors(node.outputs))


def clone_get_equiv(inputs, outputs, copy_inputs=True, copy_orphans=None, memo=None):
    """Clone the graph from inputs to outputs; return the old -> new map (Variables and Applys).

    ``copy_inputs`` copies the given inputs; ``copy_orphans`` (default: same as
    copy_inputs) copies other ownerless non-constant variables. Constants are
    immutable and always shared.
    """
    copy_orphans = copy_inputs if copy_orphans is None else copy_orphans
    memo = {} if memo is None else memo
    for inp in inputs:
        if inp not in memo:
            memo[inp] = inp.clone() if copy_inputs else inp

    def orphan(var):
        if var not in memo:
            memo[var] = var.clone() if copy_orphans and not isinstance(var, Constant) else var
        return memo[var]

    for node in io_toposort(inputs, outputs):
        new_inputs = [memo[i] if i in memo else orphan(i) for i in node.inputs]
        new = node.clone_with_new_inputs(new_inputs, strict=False)
        memo[node] = new
        for old, newo in zip(node.outputs, new.outputs):
            memo[old] = newo
            newo.name = old.name
            newo.tag = _copy_tag(old.tag)
    for out in outputs:
        if out not in memo:
            orphan(out)
    return memo


def clone(inputs, outputs, copy_inputs=True, copy_orphans=None):
    """Copies of ``inputs`` and ``outputs`` joined by a copy of the graph between them."""
    equiv = clone_get_equiv(inputs, outputs, copy_inputs, copy_orphans)
    return [equiv[i] for i in inputs], [equiv[o] for o in outputs]


def clone_replace(output, replace=None, strict=True, share_inputs=True):
    """Copy of ``output``'s graph (a variable or a list) with ``replace`` substituted.

    ``replace`` is a dict or a list of (old, new) pairs; old may be a graph
    input or an inner variable. With strict=True a replacement must have (or
    convert to) the type of what it replaces, else TypeError; with
    strict=False the ops downstream re-type their outputs. The graph inputs
    are shared unless share_inputs=False.
    """
    if replace is None:
        pairs = []
    elif isinstance(replace, dict):
        pairs = list(replace.items())
    else:
        pairs = list(replace)
    single = isinstance(output, Variable)
    outputs = [output] if single else list(output)
    memo = {}
    for old, new in pairs:
        if not isinstance(old, Variable) or not isinstance(new, Variable):
            raise TypeError(f"clone_replace: replace must map Variables to Variables, got {old!r} -> {new!r}")
        if old.type != new.type:
            converted = old.type.convert_variable(new)
            if converted is not None:
                new = converted
            elif strict:
                raise TypeError(f"clone_replace: cannot replace {old} of type {old.type} by {new} of type "
                                f"{new.type}; pass strict=False to let the graph re-type itself")
        memo[old] = new

    def leaf(var):
        if var not in memo:
            memo[var] = var if share_inputs or isinstance(var, Constant) else var.clone()
        return memo[var]

    for node in io_toposort(list(memo), outputs):
        new = node.clone_with_new_inputs([memo[i] if i in memo else leaf(i) for i in node.inputs], strict=False)
        for old, newo in zip(node.outputs, new.outputs):
            newo.name = old.name
            newo.tag = _copy_tag(old.tag)
            memo[old] = newo
    result = [memo[o] if o in memo else leaf(o) for o in outputs]
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
