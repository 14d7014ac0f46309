"""FunctionGraph: a mutable graph between fixed inputs and outputs.

Rewrites change it through ``replace``; features (listeners) hear every
change through callbacks (``on_attach``, ``on_import``, ``on_prune``,
``on_change_input``, ``validate``) and can veto a change by raising from
``validate``.
"""

import heapq
from collections import Counter

from symtensor.graph.basic import Apply, Constant, Variable, clone_get_equiv, io_toposort


class InconsistencyError(Exception):
    """A feature rejected the graph (e.g. two ops destroying one input)."""


class AlreadyThere(Exception):
    """Raised by a feature's on_attach when an equivalent feature is already attached."""


class Output:
    """Marks a FunctionGraph output in a client list: ``(Output(i), i)``.

    Compares equal to another Output of the same index and to the string
    "output" (Theano's marker), so either can be passed to change_node_input.
    """

    def __init__(self, index):
        self.index = index

    def __eq__(self, other):
        if isinstance(other, Output):
            return other.index == self.index
        return other == "output"

    def __hash__(self):
        return hash(("output", self.index))

    def __repr__(self):
        return f"output[{self.index}]"


class Feature:
    """Base class of listeners attached to a FunctionGraph; all hooks optional.

    ``on_attach`` is called once; a feature that needs the nodes already in
    the graph reads ``fgraph.apply_nodes`` / ``fgraph.toposort()`` there.
    ``on_import`` is then called for every node that enters the graph,
    ``on_prune`` for every node that leaves it, ``on_change_input`` for every
    input (or output, node being an ``Output``) swapped, and ``validate``
    raises InconsistencyError to veto the current state.
    """

    def on_attach(self, fgraph):
        pass

    def on_detach(self, fgraph):
        pass

    def on_import(self, fgraph, node, reason):
        pass

    def on_prune(self, fgraph, node, reason):
        pass

    def on_change_input(self, fgraph, node, i, old, new, reason):
        pass

    def validate(self, fgraph):
        pass


def _is_output(node):
    return isinstance(node, Output) or (isinstance(node, str) and node == "output")


class FunctionGraph:
    """Inputs, outputs and the Apply nodes between them, with client lists.

    ``clients[var]`` lists ``(node, i)`` for every use of var as input i of
    node, and ``(Output(k), k)`` when var is output k.
    """

    def __init__(self, inputs, outputs, features=None, clone=True):
        inputs, outputs = list(inputs), list(outputs)
        if len(set(inputs)) != len(inputs):
            raise ValueError("FunctionGraph: an input is given more than once")
        for inp in inputs:
            if not isinstance(inp, Variable):
                raise TypeError(f"FunctionGraph: input {inp!r} is not a Variable")
            if inp.owner is not None:
                raise ValueError(f"FunctionGraph input {inp} is computed by {inp.owner.op}; inputs must be ownerless")
        if clone:
            equiv = clone_get_equiv(inputs, outputs, copy_inputs=True)
            inputs = [equiv[i] for i in inputs]
            outputs = [equiv[o] for o in outputs]
            self.equiv = equiv
        else:
            self.equiv = None
        self.inputs = []
        self.outputs = []
        self.apply_nodes = set()
        self.variables = set()
        self.clients = {}
        self._features = []
        self._input_set = set()
        for inp in inputs:
            self._add_input(inp)
        for out in outputs:
            self.add_output(out, reason="init")
        for feature in features or ():
            self.attach_feature(feature)

    # -- construction
    def _add_input(self, var):
        self.inputs.append(var)
        self._input_set.add(var)
        self.variables.add(var)
        self.clients.setdefault(var, [])

    def add_input(self, var):
        if var.owner is not None:
            raise ValueError(f"FunctionGraph input {var} is computed by {var.owner.op}; inputs must be ownerless")
        if var not in self._input_set:
            self._add_input(var)

    def add_output(self, var, reason=None):
        self._import_var(var, reason)
        k = len(self.outputs)
        self.outputs.append(var)
        self.clients[var].append((Output(k), k))

    def _import_var(self, var, reason):
        if var in self.variables:
            return
        if var.owner is None:
            if not isinstance(var, Constant):
                raise MissingInputError(var)
            self.variables.add(var)
            self.clients.setdefault(var, [])
            return
        self._import_node(var.owner, reason)

    def _new_nodes(self, node):
        """Nodes that importing ``node`` brings in, inputs first; checks inputs before any change.

        The walk stops at variables already in the graph, so the cost is the
        size of what is new, not of the whole graph.
        """
        order, done = [], set()
        stack = [(node, False)]
        while stack:
            cur, expanded = stack.pop()
            if cur in done or cur in self.apply_nodes:
                continue
            if expanded:
                done.add(cur)
                order.append(cur)
                continue
            stack.append((cur, True))
            for inp in reversed(cur.inputs):
                if inp in self.variables:
                    continue
                if inp.owner is None:
                    if not isinstance(inp, Constant):
                        raise MissingInputError(inp)
                elif inp.owner not in done:
                    stack.append((inp.owner, False))
        return order

    def _import_node(self, node, reason):
        for new in self._new_nodes(node):
            for inp in new.inputs:
                if inp not in self.variables:
                    self.variables.add(inp)
                    self.clients.setdefault(inp, [])
            self.apply_nodes.add(new)
            for out in new.outputs:
                self.variables.add(out)
                self.clients.setdefault(out, [])
            for i, inp in enumerate(new.inputs):
                self.clients[inp].append((new, i))
            self._callback("on_import", new, reason)

    def import_node(self, node, reason=None):
        self._import_node(node, reason)

    def import_var(self, var, reason=None):
        self._import_var(var, reason)

    # -- removal
    def _prune_if_unused(self, var, reason):
        """Drop ``var``'s node, and recursively its unused inputs', once nothing uses it (iterative)."""
        stack = [var]
        while stack:
            var = stack.pop()
            if self.clients.get(var) or var in self._input_set:
                continue
            node = var.owner
            if node is None:
                self.variables.discard(var)
                self.clients.pop(var, None)
                continue
            if node not in self.apply_nodes or any(self.clients.get(o) for o in node.outputs):
                continue
            self.apply_nodes.discard(node)
            for out in node.outputs:
                self.variables.discard(out)
                self.clients.pop(out, None)
            self._callback("on_prune", node, reason)
            for i, inp in enumerate(node.inputs):
                self.clients[inp].remove((node, i))
                stack.append(inp)

    # -- changes
    def change_node_input(self, node, i, new_var, reason=None):
        """Make input i of ``node`` (or output i, for an Output / "output") be ``new_var``."""
        if _is_output(node):
            node = Output(i)
            old = self.outputs[i]
        else:
            if node not in self.apply_nodes:
                raise ValueError(f"change_node_input: {node} is not in this FunctionGraph")
            old = node.inputs[i]
        if old is new_var:
            return
        new_var = self._check_type(old, new_var)
        self._import_var(new_var, reason)
        if isinstance(node, Output):
            self.outputs[i] = new_var
        else:
            node.inputs[i] = new_var
        self.clients[old].remove((node, i))
        self.clients[new_var].append((node, i))
        self._callback("on_change_input", node, i, old, new_var, reason)
        self._prune_if_unused(old, reason)

    @staticmethod
    def _check_type(old, new):
        """``new`` as a valid replacement of ``old`` (converted if needed), else TypeError."""
        if not isinstance(new, Variable):
            raise TypeError(f"cannot replace {old} by {new!r}, which is not a Variable")
        if old.type == new.type or old.type.is_super(new.type):
            return new
        converted = old.type.convert_variable(new)
        if converted is None:
            raise TypeError(f"cannot replace {old} (type {old.type}) by {new} (type {new.type})")
        return converted

    def replace(self, var, new_var, reason=None, verbose=False):
        """Make every client of ``var`` use ``new_var`` instead (a no-op if var is not in the graph)."""
        if var not in self.variables or var is new_var:
            return
        new_var = self._check_type(var, new_var)
        for node, i in list(self.clients[var]):
            self.change_node_input(node, i, new_var, reason)

    def replace_all(self, pairs, reason=None):
        for var, new_var in pairs:
            self.replace(var, new_var, reason)

    def replace_all_validate(self, pairs, reason=None):
        """Replace every pair, then validate; undo all of them if a feature objects."""
        changes = []
        try:
            for var, new_var in pairs:
                if var not in self.variables or var is new_var:
                    continue
                new_var = self._check_type(var, new_var)
                for node, i in list(self.clients[var]):
                    self.change_node_input(node, i, new_var, reason)
                    changes.append((node, i, var))
            self.validate()
        except Exception:
            for node, i, var in reversed(changes):
                self.change_node_input(node, i, var, reason="revert")
            raise

    def replace_validate(self, var, new_var, reason=None):
        """Replace, then validate; undo the change (and re-raise) if a feature objects."""
        self.replace_all_validate([(var, new_var)], reason)

    # -- features
    def attach_feature(self, feature):
        """Attach ``feature`` and call its on_attach (not on_import for the nodes already there)."""
        if feature in self._features:
            return
        try:
            getattr(feature, "on_attach", _no_hook)(self)
        except AlreadyThere:
            return
        self._features.append(feature)

    def remove_feature(self, feature):
        if feature in self._features:
            self._features.remove(feature)
            getattr(feature, "on_detach", _no_hook)(self)

    @property
    def features(self):
        return list(self._features)

    def _callback(self, name, *args):
        for feature in list(self._features):
            getattr(feature, name, _no_hook)(self, *args)

    def validate(self):
        for feature in self._features:
            hook = getattr(feature, "validate", None)
            if hook is not None:
                hook(self)
        return True

    # -- queries
    def orderings(self):
        """{node: nodes that must run before it} beyond data dependencies, merged from the features
        that define ``orderings(fgraph)`` (the destroy handler: readers before the overwriting node)."""
        merged = {}
        for feature in self._features:
            hook = getattr(feature, "orderings", None)
            if hook is None:
                continue
            for node, before in hook(self).items():
                merged.setdefault(node, set()).update(before)
        return merged

    def toposort(self):
        """The nodes in an order that respects data dependencies and ``orderings()``.

        Nodes that features list in ``schedule_last(fgraph)`` are delayed as long as possible.
        """
        order = io_toposort(self.inputs, self.outputs)
        ords = self.orderings()
        last = set()
        for feature in self._features:
            hook = getattr(feature, "schedule_last", None)
            if hook is not None:
                last |= hook(self)
        if not ords and not last:
            return order
        return toposort_with_orderings(order, ords, last)

    def get_clients(self, var):
        return self.clients.get(var, [])

    def check_integrity(self):
        """Raise AssertionError naming the first inconsistency between the bookkeeping and the graph."""
        nodes = set(io_toposort(self.inputs, self.outputs))
        if nodes != self.apply_nodes:
            missing, extra = nodes - self.apply_nodes, self.apply_nodes - nodes
            raise AssertionError(f"apply_nodes out of sync with the graph: missing {missing}, unreachable {extra}")
        expected = {v: [] for v in self.inputs}
        for node in nodes:
            for i, inp in enumerate(node.inputs):
                if inp.owner is None and not isinstance(inp, Constant) and inp not in self._input_set:
                    raise AssertionError(f"{node} reads {inp}, which is not an input of the graph")
                expected.setdefault(inp, []).append((node, i))
            for out in node.outputs:
                expected.setdefault(out, [])
        for k, out in enumerate(self.outputs):
            expected.setdefault(out, []).append((Output(k), k))
        if set(expected) != self.variables:
            raise AssertionError(f"variables out of sync: missing {set(expected) - self.variables}, "
                                 f"extra {self.variables - set(expected)}")
        for var, uses in expected.items():
            have = self.clients.get(var)
            if have is None or Counter(map(_client_key, have)) != Counter(map(_client_key, uses)):
                raise AssertionError(f"client list of {var} is {have}, expected {uses}")
        if set(self.clients) != self.variables:
            raise AssertionError(f"client lists kept for variables not in the graph: {set(self.clients) - self.variables}")

    def __str__(self):
        return f"FunctionGraph({', '.join(str(o) for o in self.outputs)})"

    def clone_get_equiv(self):
        """A copy of this graph (without features) and the old -> new map."""
        equiv = clone_get_equiv(self.inputs, self.outputs, copy_inputs=True)
        return FunctionGraph([equiv[i] for i in self.inputs], [equiv[o] for o in self.outputs], clone=False), equiv

    def clone(self):
        return self.clone_get_equiv()[0]


def _no_hook(*args):
    pass


def _client_key(client):
    node, i = client
    return ("output", node.index, i) if isinstance(node, Output) else (id(node), i)


def toposort_with_orderings(nodes_in_order, orderings, last=()):
    """``nodes_in_order`` (a valid data-dependency order) re-sorted to also respect ``orderings``
    ({node: nodes that must precede it}); nodes in ``last`` are delayed as long as possible."""
    index = {n: k for k, n in enumerate(nodes_in_order)}
    succ = {n: [] for n in nodes_in_order}
    indeg = dict.fromkeys(nodes_in_order, 0)
    for n in nodes_in_order:
        preds = {i.owner for i in n.inputs if i.owner in index}
        preds.update(p for p in orderings.get(n, ()) if p in index and p is not n)
        indeg[n] = len(preds)
        for p in preds:
            succ[p].append(n)
    heap = [(n in last, index[n]) for n in nodes_in_order if indeg[n] == 0]
    heapq.heapify(heap)
    order = []
    while heap:
        _, k = heapq.heappop(heap)
        n = nodes_in_order[k]
        order.append(n)
        for s in succ[n]:
            indeg[s] -= 1
            if indeg[s] == 0:
                heapq.heappush(heap, (s in last, index[s]))
    if len(order) != len(nodes_in_order):
        raise InconsistencyError("the graph's ordering constraints contain a cycle")
    return order


class MissingInputError(ValueError):
    """An output depends on a Variable that is not one of the function's inputs."""

    def __init__(self, var):
        from_text = var.creation_site() if isinstance(var, Variable) else ""
        msg = (f"the graph needs the value of {var} (type {var.type}), which is not among the inputs "
               "and is not a constant or shared variable")
        if from_text:
            msg += f"; it was created at:\n{from_text}"
        super().__init__(msg)
        self.variable = var


__all__ = ["FunctionGraph", "Feature", "AlreadyThere", "InconsistencyError", "MissingInputError", "Output", "Apply"]
