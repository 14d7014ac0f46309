"""Rewriter framework: node rewriters, graph walkers, an equilibrium driver and merging.

A *node rewriter* looks at one Apply node and returns replacements for its
outputs (a list, or a dict {old: new}) or None. A *graph rewriter* changes a
whole FunctionGraph; walkers and the equilibrium driver apply node rewriters
across a graph. Every replacement goes through ``fgraph.replace_validate`` so
features (e.g. the destroy handler) can veto it, and is recorded in the
graph's RewriteLog so users can see what fired.
"""

import time
from collections import defaultdict, deque

from symtensor.graph.basic import Constant, Variable
from symtensor.graph.fgraph import Feature, InconsistencyError
from symtensor.graph.op import Op


class RewriteLog(Feature):
    """Records which rewrites fired (per phase) and how long each phase took."""

    def __init__(self):
        self.fired = []  # (phase, rewriter name, op of the rewritten node)
        self.phase_times = {}
        self.phase = None

    def on_attach(self, fgraph):
        fgraph.rewrite_log = self

    def record(self, rewriter, node):
        self.fired.append((self.phase, getattr(rewriter, "name", str(rewriter)), str(node.op)))

    def counts(self):
        out = defaultdict(int)
        for _phase, name, _op in self.fired:
            out[name] += 1
        return dict(out)

    def summary(self):
        lines = ["Rewrite phases (seconds):"]
        lines += [f"  {name:<16} {t:.4f}" for name, t in self.phase_times.items()]
        lines.append("Rewrites applied (count):")
        lines += [f"  {name:<40} {n}" for name, n in sorted(self.counts().items(), key=lambda kv: -kv[1])]
        return "\n".join(lines)


def _log(fgraph):
    log = getattr(fgraph, "rewrite_log", None)
    if log is None:
        log = RewriteLog()
        fgraph.attach_feature(log)
    return log


class GraphRewriter:
    """Rewrites a whole FunctionGraph in ``apply``."""

    name = None

    def apply(self, fgraph):
        raise NotImplementedError

    def rewrite(self, fgraph):
        self.add_requirements(fgraph)
        return self.apply(fgraph)

    def add_requirements(self, fgraph):
        pass

    def __str__(self):
        return self.name or type(self).__name__


class NodeRewriter:
    """Rewrites one node: ``transform(fgraph, node)`` -> list / dict of replacements, or None."""

    name = None

    def tracks(self):
        """Op classes or instances this rewriter looks at (None: every node)."""
        return None

    def transform(self, fgraph, node):
        raise NotImplementedError

    def add_requirements(self, fgraph):
        pass

    def __str__(self):
        return self.name or type(self).__name__


class FromFunctionNodeRewriter(NodeRewriter):
    def __init__(self, fn, tracks, requirements=()):
        self.fn = fn
        self._tracks = tracks
        self.requirements = requirements
        self.name = fn.__name__
        self.__doc__ = fn.__doc__

    def tracks(self):
        return self._tracks

    def transform(self, fgraph, node):
        return self.fn(fgraph, node)

    def add_requirements(self, fgraph):
        for req in self.requirements:
            req(fgraph)

    def __call__(self, fgraph, node):
        return self.fn(fgraph, node)


def node_rewriter(tracks, requirements=()):
    """Decorator: ``@node_rewriter([Elemwise])`` turns ``fn(fgraph, node)`` into a NodeRewriter."""
    if tracks is not None:
        tracks = list(tracks)
        for t in tracks:
            if not (isinstance(t, Op) or (isinstance(t, type) and issubclass(t, Op))):
                raise TypeError(f"node_rewriter tracks Op classes or instances, got {t!r}")

    def decorate(fn):
        return FromFunctionNodeRewriter(fn, tracks, requirements)

    return decorate


def _matches(node, tracks):
    if tracks is None:
        return True
    for t in tracks:
        if isinstance(t, type):
            if isinstance(node.op, t):
                return True
        elif node.op == t:
            return True
    return False


def apply_replacements(fgraph, rewriter, node, result):
    """Install a node rewriter's result; returns True when the graph changed."""
    if result is None or result is False:
        return False
    if isinstance(result, dict):
        pairs = list(result.items())
    else:
        result = list(result)
        if len(result) != len(node.outputs):
            raise ValueError(f"rewriter {rewriter} returned {len(result)} replacements for {len(node.outputs)} outputs")
        pairs = list(zip(node.outputs, result))
    pairs = [(old, new) for old, new in pairs if new is not None and old is not new and old in fgraph.variables]
    if not pairs:
        return False
    for old, new in pairs:
        if not isinstance(new, Variable):
            raise TypeError(f"rewriter {rewriter} returned {new!r} for {old}, not a Variable")
        if old.type != new.type and not old.type.is_super(new.type):
            converted = old.type.convert_variable(new)
            if converted is None:
                raise TypeError(f"rewriter {rewriter} replaced {old} (type {old.type}) by {new} (type {new.type})")
    changes = []
    for old, new in pairs:
        for client, i in list(fgraph.clients.get(old, [])):
            fgraph.change_node_input(client, i, new, reason=str(rewriter))
            changes.append((client, i, old))
    try:
        fgraph.validate()
    except InconsistencyError:
        for client, i, old in reversed(changes):
            fgraph.change_node_input(client, i, old, reason="revert")
        return False
    _log(fgraph).record(rewriter, node)
    return True


class WalkingGraphRewriter(GraphRewriter):
    """Apply node rewriters once to every node, inputs first ('in_to_out') or outputs first."""

    def __init__(self, rewriters, order="in_to_out", name=None):
        self.rewriters = list(rewriters) if isinstance(rewriters, (list, tuple)) else [rewriters]
        if order not in ("in_to_out", "out_to_in"):
            raise ValueError(f"order must be 'in_to_out' or 'out_to_in', got {order!r}")
        self.order = order
        self.name = name or f"{order}({', '.join(str(r) for r in self.rewriters)})"

    def add_requirements(self, fgraph):
        for r in self.rewriters:
            r.add_requirements(fgraph)

    def apply(self, fgraph):
        nodes = fgraph.toposort()
        if self.order == "out_to_in":
            nodes.reverse()
        changed = False
        for node in nodes:
            if node not in fgraph.apply_nodes:
                continue
            for r in self.rewriters:
                if _matches(node, r.tracks()) and apply_replacements(fgraph, r, node, r.transform(fgraph, node)):
                    changed = True
                    break
        return changed


def in2out(*rewriters, name=None):
    return WalkingGraphRewriter(list(rewriters), "in_to_out", name)


def out2in(*rewriters, name=None):
    return WalkingGraphRewriter(list(rewriters), "out_to_in", name)


class _NewNodes(Feature):
    """Queues every node imported into the graph (the equilibrium driver's worklist)."""

    def __init__(self, queue):
        self.queue = queue

    def on_import(self, fgraph, node, reason):
        self.queue.append(node)

    def on_change_input(self, fgraph, node, i, old, new, reason):
        if hasattr(node, "op"):
            self.queue.append(node)


class EquilibriumGraphRewriter(GraphRewriter):
    """Apply node rewriters until none fires (a fixed point), with an iteration bound.

    Works from a queue: the graph's nodes first, then every node that a
    rewrite creates or changes, so the work is proportional to the changes.
    ``max_use_ratio`` bounds the number of rewrites at ratio * initial node count.
    """

    def __init__(self, rewriters, max_use_ratio=10, name=None, final_rewriters=()):
        self.rewriters = list(rewriters)
        self.max_use_ratio = max_use_ratio
        self.final_rewriters = list(final_rewriters)
        self.name = name or "equilibrium"

    def add_requirements(self, fgraph):
        for r in self.rewriters + self.final_rewriters:
            r.add_requirements(fgraph)

    def _by_op(self):
        table = defaultdict(list)
        generic = []
        for r in self.rewriters:
            tracks = r.tracks()
            if tracks is None:
                generic.append(r)
            else:
                for t in tracks:
                    table[t].append(r)
        return table, generic

    def _candidates(self, node, table, generic):
        found = list(table.get(type(node.op), ()))
        for cls in type(node.op).__mro__[1:]:
            found.extend(table.get(cls, ()))
        try:
            found.extend(table.get(node.op, ()))
        except TypeError:
            pass
        return found + generic

    def apply(self, fgraph):
        table, generic = self._by_op()
        queue = deque(fgraph.toposort())
        listener = _NewNodes(queue)
        fgraph.attach_feature(listener)
        budget = max(1000, int(self.max_use_ratio * max(len(fgraph.apply_nodes), 1)))
        used = 0
        changed = False
        try:
            while queue:
                node = queue.popleft()
                if node not in fgraph.apply_nodes:
                    continue
                for r in self._candidates(node, table, generic):
                    if node not in fgraph.apply_nodes:
                        break
                    if apply_replacements(fgraph, r, node, r.transform(fgraph, node)):
                        changed = True
                        used += 1
                        if used > budget:
                            raise RewriteLimitError(
                                f"{self.name}: more than {budget} rewrites; a rewrite probably undoes another")
                        break
                if not queue and self.final_rewriters:
                    for fr in self.final_rewriters:
                        if fr.apply(fgraph):
                            changed = True
                            queue.extend(fgraph.toposort())
        finally:
            fgraph.remove_feature(listener)
        return changed


class RewriteLimitError(RuntimeError):
    pass


class SequentialGraphRewriter(GraphRewriter):
    """Run graph rewriters in order, timing each as a phase."""

    def __init__(self, rewriters, name=None, record_phases=False):
        self.rewriters = list(rewriters)
        self.name = name or "sequence"
        #: the top-level pipeline records each step as a phase in the RewriteLog
        self.record_phases = record_phases

    def add_requirements(self, fgraph):
        for r in self.rewriters:
            r.add_requirements(fgraph)

    def apply(self, fgraph):
        log = _log(fgraph)
        changed = False
        for r in self.rewriters:
            if self.record_phases:
                log.phase = str(r)
            start = time.perf_counter()
            changed |= bool(r.apply(fgraph))
            if self.record_phases:
                log.phase_times[str(r)] = log.phase_times.get(str(r), 0.0) + time.perf_counter() - start
        return changed


# ------------------------------------------------------------------ merging

class MergeRewriter(GraphRewriter):
    """Merge equal constants and Apply nodes with the same op and inputs (common subexpressions)."""

    name = "merge"

    def apply(self, fgraph):
        changed = False
        constants = {}
        for var in list(fgraph.variables):
            if isinstance(var, Constant) and var in fgraph.variables:
                try:
                    sig = var.signature()
                    hash(sig)
                except TypeError:
                    continue
                keep = constants.setdefault(sig, var)
                if keep is not var and fgraph.clients.get(var):
                    fgraph.replace(var, keep, reason="merge")
                    changed = True
        seen = {}
        for node in fgraph.toposort():
            if node not in fgraph.apply_nodes:
                continue
            try:
                key = (node.op, tuple(id(i) for i in node.inputs))
                hash(key)
            except TypeError:
                continue
            other = seen.get(key)
            if other is None or other not in fgraph.apply_nodes:
                seen[key] = node
                continue
            if getattr(node.op, "destroy_map", None) or any(
                    _destroyed(fgraph, v) for v in node.outputs + other.outputs):
                continue  # two in-place clients would share (and both overwrite) one buffer
            # validated like any rewrite: after the in-place phase (final_merge), a merge can hand a buffer
            # that one node overwrites through a view to a reader that needs it afterwards
            if all(a.type == b.type for a, b in zip(node.outputs, other.outputs)) and \
                    apply_replacements(fgraph, self, node, other.outputs):
                changed = True
        return changed


def _destroyed(fgraph, var):
    """Some client overwrites ``var`` in place (its destroy_map names that input)."""
    for client, i in fgraph.clients.get(var, ()):
        destroy_map = getattr(getattr(client, "op", None), "destroy_map", None) or {}
        if any(i in ins for ins in destroy_map.values()):
            return True
    return False
