"""FunctionGraph: a mutable graph between fixed inputs and outputs.

Rewrites change it through ``replace``; features (listeners) hear every
change through callbacks (``on_attach``, ``on_import``, ``on_prune``,
``on_change_input``, ``validate``) and can veto a change by raising from
``validate``.
"""

from symtensor.graph.basic import Apply, Constant, Variable, clone_get_equiv, io_toposort


class InconsistencyError(Exception):
    """A feature rejected the graph (e.g. two ops destroying one input)."""


class Output:
    """Marks a FunctionGraph output in a client list: ``(Output(i), i)``."""

    def __init__(self, index):
        self.index = index

    def __repr__(self):
        return f"output[{self.index}]"


class Feature:
    """Base class of listeners attached to a FunctionGraph; all hooks optional."""

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


class FunctionGraph:
    def __init__(self, inputs, outputs, features=None, clone=True):
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
        for inp in inputs:
            if inp.owner is not None:
                raise ValueError(f"FunctionGraph input {inp} is computed by {inp.owner.op}; inputs must be ownerless")
            self._add_input(inp)
        for i, out in enumerate(outputs):
            self._import_var(out, reason="init")
            self.outputs.append(out)
            self.clients[out].append((Output(i), i))
        for feature in features or ():
            self.attach_feature(feature)

    # -- construction
    def _add_input(self, var):
        self.inputs.append(var)
        self.variables.add(var)
        self.clients.setdefault(var, [])

    def add_input(self, var):
        if var not in self.inputs:
            self._add_input(var)

    def add_output(self, var, reason=None):
        self._import_var(var, reason)
        self.outputs.append(var)
        self.clients[var].append((Output(len(self.outputs) - 1), len(self.outputs) - 1))

    def _import_var(self, var, reason):
        if var in self.variables:
            return
        if var.owner is None:
            if not isinstance(var, Constant) and var not in self.inputs:
                raise MissingInputError(var)
            self.variables.add(var)
            self.clients.setdefault(var, [])
            return
        self._import_node(var.owner, reason)

    def _import_node(self, node, reason):
        for new in io_toposort([v for v in self.variables], node.outputs):
            if new in self.apply_nodes:
                continue
            for inp in new.inputs:
                if inp not in self.variables:
                    if inp.owner is None and not isinstance(inp, Constant) and inp not in self.inputs:
                        raise MissingInputError(inp)
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

    # -- removal
    def _prune_if_unused(self, var, reason):
        if self.clients.get(var) or var in self.outputs:
            return
        node = var.owner
        if node is None:
            if var not in self.inputs:
                self.variables.discard(var)
                self.clients.pop(var, None)
            return
        if node not in self.apply_nodes or any(self.clients.get(o) for o in node.outputs):
            return
        self.apply_nodes.discard(node)
        for out in node.outputs:
            self.variables.discard(out)
            self.clients.pop(out, None)
        self._callback("on_prune", node, reason)
        for i, inp in enumerate(node.inputs):
            self.clients[inp].remove((node, i))
            self._prune_if_unused(inp, reason)

    # -- changes
    def change_node_input(self, node, i, new_var, reason=None):
        if isinstance(node, Output):
            old = self.outputs[i]
            if old is new_var:
                return
            self._check_type(old, new_var)
            self._import_var(new_var, reason)
            self.outputs[i] = new_var
        else:
            old = node.inputs[i]
            if old is new_var:
                return
            self._check_type(old, new_var)
            self._import_var(new_var, reason)
            node.inputs[i] = new_var
        self.clients[old].remove((node, i))
        self.clients[new_var].append((node, i))
        self._callback("on_change_input", node, i, old, new_var, reason)
        self._prune_if_unused(old, reason)

    @staticmethod
    def _check_type(old, new):
        if old.type != new.type and not old.type.is_super(new.type):
            raise TypeError(f"cannot replace {old} (type {old.type}) by {new} (type {new.type})")

    def replace(self, var, new_var, reason=None, verbose=False):
        """Make every client of ``var`` use ``new_var`` instead."""
        if var not in self.variables:
            return
        if var is new_var:
            return
        self._check_type(var, new_var)
        for node, i in list(self.clients[var]):
            self.change_node_input(node, i, new_var, reason)

    def replace_all(self, pairs, reason=None):
        for var, new_var in pairs:
            self.replace(var, new_var, reason)

    def replace_validate(self, var, new_var, reason=None):
        """Replace, then validate; undo the change if a feature objects."""
        clients = list(self.clients.get(var, []))
        self.replace(var, new_var, reason)
        try:
            self.validate()
        except InconsistencyError:
            for node, i in clients:
                self.change_node_input(node, i, var, reason="revert")
            raise

    # -- features
    def attach_feature(self, feature):
        if feature in self._features:
            return
        self._features.append(feature)
        feature.on_attach(self)
        for node in self.toposort():
            feature.on_import(self, node, "attach")

    def remove_feature(self, feature):
        if feature in self._features:
            self._features.remove(feature)
            feature.on_detach(self)

    @property
    def features(self):
        return list(self._features)

    def _callback(self, name, *args):
        for feature in self._features:
            getattr(feature, name)(self, *args)

    def validate(self):
        for feature in self._features:
            feature.validate(self)
        return True

    # -- queries
    def toposort(self):
        return io_toposort(self.inputs, self.outputs)

    def get_clients(self, var):
        return self.clients.get(var, [])

    def check_integrity(self):
        nodes = set(io_toposort(self.inputs, self.outputs))
        if nodes != self.apply_nodes:
            raise AssertionError("apply_nodes out of sync with the graph")
        for node in nodes:
            for i, inp in enumerate(node.inputs):
                if (node, i) not in self.clients[inp]:
                    raise AssertionError(f"client list of {inp} misses {node}")

    def __str__(self):
        return f"FunctionGraph({', '.join(str(o) for o in self.outputs)})"

    def clone(self):
        return FunctionGraph(self.inputs, self.outputs, clone=True)


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


__all__ = ["FunctionGraph", "Feature", "InconsistencyError", "MissingInputError", "Output", "Apply"]
