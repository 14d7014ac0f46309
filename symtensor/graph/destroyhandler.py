"""DestroyHandler: the FunctionGraph feature that makes in-place operations safe.

An op with ``destroy_map = {out: [in]}`` overwrites that input's storage; an
op with ``view_map`` returns an output sharing an input's storage. Storage is
identified by its *roots* (follow view_map back) and every variable viewing a
root belongs to the root's *alias set*. Overwriting any member of an alias
set overwrites all of them, so:

* an alias set may be destroyed by at most one node;
* it may not contain a protected variable (a constant, or an input the caller
  still owns) nor a graph output (the caller would get the new contents);
* a destroyer may not read its own destroyed storage through another input;
* every other reader of the alias set must run before the destroyer. These
  are the extra ordering edges that ``orderings()`` exposes to
  ``FunctionGraph.toposort``; a cycle among graph and ordering edges makes the
  graph inconsistent.

Cycle detection is incremental: a topological position is kept for every
node (respecting the ordering edges too). A change marks the nodes it
touched; ``validate`` checks only their edges, and repairs a violated edge
u -> v by moving the smaller of {ancestors of u placed after v} and
{descendants of v placed before u} past the other end (Pearce-Kelly style,
with fractional positions), so a rewrite costs about the size of the region
it reorders, not the size of the graph. Only attaching (and the rare
exhaustion of fractional positions) sorts the whole graph.
"""

from symtensor.graph.basic import Apply, Constant
from symtensor.graph.fgraph import AlreadyThere, Feature, InconsistencyError, Output


class DestroyHandler(Feature):
    """Track views and destroyers of a FunctionGraph and veto unsafe in-place states.

    protected: the graph inputs that must never be overwritten (None: every
    graph input). Constants are always protected.
    """

    def __init__(self, protected=None):
        self.protected = None if protected is None else set(protected)
        self.fgraph = None

    # ------------------------------------------------------------ attach
    def on_attach(self, fgraph):
        if getattr(fgraph, "destroy_handler", None) is not None:
            raise AlreadyThere()
        self.fgraph = fgraph
        fgraph.destroy_handler = self
        self.view_of = {}        # view variable -> the variables it views
        self.views = {}          # variable -> the variables that view it directly
        self.destroyers = set()  # nodes with a destroy_map
        self.destroyed_by = {}   # variable -> nodes that destroy it directly
        self.pos = {}            # node -> position in a valid (ordering-aware) topological order
        self._next = 0.0
        self._touched = set()
        self._stale = True
        for node in fgraph.toposort():
            self._add_node(node)

    def on_detach(self, fgraph):
        if getattr(fgraph, "destroy_handler", None) is self:
            del fgraph.destroy_handler
        self.fgraph = None

    # ------------------------------------------------------------ bookkeeping
    def _add_node(self, node):
        for o, ins in (node.op.view_map or {}).items():
            out = node.outputs[o]
            self.view_of[out] = [node.inputs[i] for i in ins]
            for i in ins:
                self.views.setdefault(node.inputs[i], set()).add(out)
        if node.op.destroy_map:
            self.destroyers.add(node)
            for i in _destroyed_indices(node):
                self.destroyed_by.setdefault(node.inputs[i], set()).add(node)
        self.pos[node] = self._next
        self._next += 1.0
        self._touched.add(node)

    def on_import(self, fgraph, node, reason):
        self._add_node(node)

    def on_prune(self, fgraph, node, reason):
        for o, ins in (node.op.view_map or {}).items():
            out = node.outputs[o]
            self.view_of.pop(out, None)
            for i in ins:
                _discard(self.views, node.inputs[i], out)
        for out in node.outputs:
            self.views.pop(out, None)
        if node in self.destroyers:
            self.destroyers.discard(node)
            for i in _destroyed_indices(node):
                _discard(self.destroyed_by, node.inputs[i], node)
        self.pos.pop(node, None)
        self._touched.discard(node)

    def on_change_input(self, fgraph, node, i, old, new, reason):
        if isinstance(node, Output):  # a new graph output: its storage may no longer be destroyed
            self._touch_aliases(new)
            return
        for o, ins in (node.op.view_map or {}).items():
            if i in ins:
                out = node.outputs[o]
                self.view_of[out] = [node.inputs[j] for j in ins]
                if old not in self.view_of[out]:
                    _discard(self.views, old, out)
                self.views.setdefault(new, set()).add(out)
                self._touch_aliases(new)  # the view's readers and destroyers now share new's storage
        if node in self.destroyers and i in _destroyed_indices(node):
            if not any(node.inputs[j] is old for j in _destroyed_indices(node)):
                _discard(self.destroyed_by, old, node)
            self.destroyed_by.setdefault(new, set()).add(node)
        self._touched.add(node)

    def _touch_aliases(self, var):
        if not self.destroyers:
            return
        for a in self.alias_set(var):
            self._touched.update(self.destroyed_by.get(a, ()))
            self._touched.update(c for c, _ in self.fgraph.clients.get(a, ()) if isinstance(c, Apply))

    # ------------------------------------------------------------ queries
    def roots(self, var):
        """The variables owning the storage ``var`` may share (itself when it is no view)."""
        out, stack, seen = [], [var], set()
        while stack:
            v = stack.pop()
            if v in seen:
                continue
            seen.add(v)
            src = self.view_of.get(v)
            if src:
                stack.extend(src)
            else:
                out.append(v)
        return out

    def alias_set(self, var):
        """Every variable sharing storage with ``var``'s roots: the roots and all their views."""
        result, stack = set(), self.roots(var)
        while stack:
            v = stack.pop()
            if v not in result:
                result.add(v)
                stack.extend(self.views.get(v, ()))
        return result

    def destroyers_of(self, var):
        """The nodes that overwrite ``var``'s storage."""
        return {d for a in self.alias_set(var) for d in self.destroyed_by.get(a, ())}

    def is_protected(self, var):
        if isinstance(var, Constant):
            return True
        if self.protected is None:
            return var in self.fgraph._input_set
        return var in self.protected

    def can_destroy(self, var):
        """Cheap pre-check for rewriters: False when ``var``'s storage is protected or is a graph output."""
        for a in self.alias_set(var):
            if (a.owner is None and self.is_protected(a)) or any(
                    isinstance(c, Output) for c, _ in self.fgraph.clients.get(a, ())):
                return False
        return True

    def _readers(self, destroyer):
        """The other nodes that read storage ``destroyer`` overwrites: they must run before it."""
        out = []
        for i in _destroyed_indices(destroyer):
            for a in self.alias_set(destroyer.inputs[i]):
                out.extend(c for c, _ in self.fgraph.clients.get(a, ())
                           if isinstance(c, Apply) and c is not destroyer)
        return out

    def orderings(self, fgraph=None):
        """{destroyer: set of nodes that must run before it} (beyond the data dependencies)."""
        out = {}
        for d in self.destroyers:
            readers = self._readers(d)
            if readers:
                out[d] = set(readers)
        return out

    def schedule_last(self, fgraph=None):
        """Destroyers of graph inputs (updated shared variables, mutable inputs): run them as late
        as possible so that an error elsewhere usually stops the call before that storage changes."""
        out = set()
        for d in self.destroyers:
            if any(r.owner is None and not isinstance(r, Constant)
                   for i in _destroyed_indices(d) for r in self.roots(d.inputs[i])):
                out.add(d)
        return out

    def _succ(self, node):
        clients = self.fgraph.clients
        out = [c for o in node.outputs for c, _ in clients.get(o, ()) if isinstance(c, Apply)]
        if self.destroyed_by:
            for inp in node.inputs:
                for a in self.alias_set(inp):
                    out.extend(d for d in self.destroyed_by.get(a, ()) if d is not node)
        return out

    def _pred(self, node):
        out = [i.owner for i in node.inputs if i.owner is not None]
        if node in self.destroyers:
            out.extend(self._readers(node))
        return out

    # ------------------------------------------------------------ validation
    def _check_destroyer(self, node):
        fgraph = self.fgraph
        idxs = _destroyed_indices(node)
        for i in idxs:
            var = node.inputs[i]
            for r in self.roots(var):
                if r.owner is None and self.is_protected(r):
                    what = "a constant" if isinstance(r, Constant) else "a protected input (pass In(x, mutable=True) " \
                        "to allow it)"
                    raise InconsistencyError(f"{node} would overwrite {r}, {what}")
            aliases = self.alias_set(var)
            for a in aliases:
                others = self.destroyed_by.get(a, set()) - {node}
                if others:
                    raise InconsistencyError(f"{a} is destroyed by two nodes: {node} and {next(iter(others))}")
                if any(isinstance(c, Output) for c, _ in fgraph.clients.get(a, ())):
                    raise InconsistencyError(f"{node} would overwrite {a}, which is an output of the graph")
            for j, other in enumerate(node.inputs):
                if j != i and other in aliases:
                    raise InconsistencyError(f"{node} overwrites input {i} ({var}) while also reading its "
                                             f"storage as input {j} ({other})")

    def validate(self, fgraph):
        touched = [n for n in self._touched if n in fgraph.apply_nodes]
        self._touched.clear()
        try:
            for node in touched:
                if node in self.destroyers:
                    self._check_destroyer(node)
            if self._stale:
                self._rebuild()
                return True
            pos = self.pos
            for node in touched:
                for s in self._succ(node):
                    if pos[node] >= pos[s]:
                        self._repair(node, s)
                for p in self._pred(node):
                    if pos[p] >= pos[node]:
                        self._repair(p, node)
                if self._stale:  # a repair ran out of room: renumber (and check) everything
                    self._rebuild()
                    break
        except InconsistencyError:
            # the caller reverts the change; look at these nodes again next time
            self._touched.update(n for n in touched if n in fgraph.apply_nodes)
            raise
        return True

    def _rebuild(self):
        """Check every destroyer and recompute the positions from scratch (Kahn's algorithm)."""
        nodes = self.fgraph.apply_nodes
        for d in self.destroyers:
            self._check_destroyer(d)
        succ = {n: self._succ(n) for n in nodes}
        indeg = dict.fromkeys(nodes, 0)
        for outs in succ.values():
            for s in outs:
                indeg[s] += 1
        ready = [n for n, k in indeg.items() if k == 0]
        order = []
        while ready:
            n = ready.pop()
            order.append(n)
            for s in succ[n]:
                indeg[s] -= 1
                if indeg[s] == 0:
                    ready.append(s)
        if len(order) != len(nodes):
            stuck = [n for n, k in indeg.items() if k > 0 and n in self.destroyers][:1] or ["a node"]
            raise InconsistencyError(f"the in-place operations need an impossible order (a cycle): {stuck[0]} "
                                     "overwrites storage that a node depending on its result still reads")
        self.pos = {n: float(k) for k, n in enumerate(order)}
        self._next = float(len(order))
        self._touched.clear()
        self._stale = False

    def _repair(self, u, v):
        """Restore ``pos[u] < pos[v]`` for the edge u -> v, or raise if the edge closes a cycle."""
        pos = self.pos
        lo, hi = pos[v], pos[u]
        back = _search(u, self._pred, lambda n: pos[n] > lo, v)
        fwd = _search(v, self._succ, lambda n: pos[n] < hi, u)
        # run both searches in lockstep; the first to finish decides (its size bounds the work)
        while True:
            done = next(back, None)
            if done is not None:
                side, found = "back", done
                break
            done = next(fwd, None)
            if done is not None:
                side, found = "fwd", done
                break
        hit, region = found
        if hit:  # nothing was moved yet: the positions stay valid without this edge
            raise InconsistencyError(f"{v} overwrites storage that {u} reads, but {u} needs the result of {v} "
                                     "(the in-place order would be a cycle)")
        moved = sorted(region, key=pos.__getitem__)
        inside = set(region)
        if side == "back":  # ancestors of u placed after v: move them just below v
            floor = max((pos[p] for n in moved for p in self._pred(n) if p not in inside), default=lo - 1.0)
            self._place(moved, floor, lo)
        else:  # descendants of v placed before u: move them just above u
            ceil = min((pos[s] for n in moved for s in self._succ(n) if s not in inside), default=None)
            self._place(moved, hi, hi + len(moved) + 1.0 if ceil is None else ceil)

    def _place(self, nodes, lo, hi):
        """Give ``nodes`` (in order) positions strictly between lo and hi; mark stale if none fit."""
        step = (hi - lo) / (len(nodes) + 1)
        new = [lo + step * (k + 1) for k in range(len(nodes))]
        if not (lo < new[0] and new[-1] < hi and all(a < b for a, b in zip(new, new[1:]))):
            self._stale = True  # fractional positions exhausted: renumber from scratch
            return
        for n, p in zip(nodes, new):
            self.pos[n] = p
        self._next = max(self._next, new[-1] + 1.0)

    # ------------------------------------------------------------ order for the linker
    def check_order(self, order):
        """Assert that ``order`` respects data dependencies and the orderings (used by tests)."""
        where = {n: k for k, n in enumerate(order)}
        for n in order:
            for p in self._pred(n):
                assert where[p] < where[n], f"{p} must run before {n}"


def _search(start, step, within, target):
    """Generator: DFS from ``start`` over ``step`` restricted to nodes ``within``; yields None per
    visited node, then (reached target?, visited set)."""
    seen = {start}
    stack = [start]
    while stack:
        n = stack.pop()
        for m in step(n):
            if m is target:
                yield (True, seen)
                return
            if m not in seen and within(m):
                seen.add(m)
                stack.append(m)
        yield None
    yield (False, seen)


def _destroyed_indices(node):
    return sorted({i for ins in node.op.destroy_map.values() for i in ins})


def _discard(table, key, item):
    bucket = table.get(key)
    if bucket is not None:
        bucket.discard(item)
        if not bucket:
            del table[key]


__all__ = ["DestroyHandler"]
