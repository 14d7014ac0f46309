"""Lazy evaluation for the linkers: nodes needed only by the untaken branch of a lazy op are skipped.

An op is lazy when it defines ``lazy_branches(node) -> (cond_position, [input positions of branch 0,
of branch 1, ...])`` and ``select_branch(cond_value) -> branch index``. For each such node the schedule
finds the nodes whose results are used only through one branch's inputs (directly, or through other
such nodes), orders them after the condition is known, and puts a *gate* just before the first of them:
the gate reads the condition and marks the other branches' nodes as skipped for this call. Nested lazy
ops compose: a gate whose own lazy node was skipped does nothing. Graphs without lazy ops get the plain
order and no gates, so they pay nothing.
"""

from dataclasses import dataclass

from symtensor.graph.fgraph import toposort_with_orderings


@dataclass
class Gate:
    """Before step ``before`` run: if ``node`` (at step ``node_pos``) is not skipped, read the value of
    ``node.inputs[cond_position]`` and skip ``branch_steps[b]`` for every branch b not taken."""

    before: int
    node_pos: int
    node: object
    cond_position: int
    branch_steps: list

    def skipped_steps(self, cond_value):
        taken = self.node.op.select_branch(cond_value)
        return [s for b, steps in enumerate(self.branch_steps) if b != taken for s in steps]


def is_lazy(node):
    return hasattr(node.op, "lazy_branches")


def schedule(fgraph):
    """``(order, gates)``: the node order and the gates, sorted by the step they precede."""
    base = fgraph.toposort()
    lazy_nodes = [n for n in base if is_lazy(n)]
    if not lazy_nodes:
        return base, []
    exclusive = {n: _exclusive_nodes(fgraph, base, n) for n in lazy_nodes}
    # each branch-only node must come after the node computing its lazy node's condition
    extra = {}
    for n in lazy_nodes:
        cond_pos, _ = n.op.lazy_branches(n)
        cond_owner = n.inputs[cond_pos].owner
        if cond_owner is None:
            continue
        for nodes in exclusive[n]:
            for m in nodes:
                extra.setdefault(m, set()).add(cond_owner)
    ords = fgraph.orderings()
    for m, before in extra.items():
        ords.setdefault(m, set()).update(before)
    try:
        order = toposort_with_orderings(base, ords)
    except Exception:  # noqa: BLE001 - conflicting constraints: stay correct, just not lazy
        return base, []
    step = {n: k for k, n in enumerate(order)}
    gates = []
    for n in lazy_nodes:
        cond_pos, _ = n.op.lazy_branches(n)
        branch_steps = [sorted(step[m] for m in nodes) for nodes in exclusive[n]]
        gated = [s for steps in branch_steps for s in steps]
        if not gated:
            continue
        gates.append(Gate(min(gated), step[n], n, cond_pos, branch_steps))
    gates.sort(key=lambda g: g.before)
    return order, gates


def _exclusive_nodes(fgraph, order, lazy_node):
    """Per branch of ``lazy_node``: the nodes whose every use leads only into that branch's inputs."""
    _, branches = lazy_node.op.lazy_branches(lazy_node)
    ancestors_first = order[:order.index(lazy_node)]
    result = []
    for positions in branches:
        positions = set(positions)
        members = set()
        for node in reversed(ancestors_first):
            if _only_used_by(fgraph, node, lazy_node, positions, members):
                members.add(node)
        result.append(members)
    return result


def _only_used_by(fgraph, node, lazy_node, positions, members):
    for out in node.outputs:
        clients = fgraph.clients.get(out, [])
        if not clients:
            continue
        for client, i in clients:
            if client is lazy_node and i in positions:
                continue
            if client in members:
                continue
            return False
    return any(fgraph.clients.get(out) for out in node.outputs)
