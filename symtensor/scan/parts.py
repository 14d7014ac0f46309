"""ScanParts: a Scan node taken apart into its groups, to be edited and rebuilt.

``scan()`` fills one to build the forward loop, the gradient fills one for the
backward loop, and each rewrite takes a node apart (``from_node``), edits the
groups (drops an output, adds a non-sequence, keeps fewer rows) and builds
the new node (``build``). Every group entry remembers the outer output it came
from (``origin``), so a rewrite can map old outputs to new ones.

This module knows nothing of the Scan class: ``build`` takes it as an argument
(which keeps the gradient and the op from importing each other).
"""

from dataclasses import dataclass, field

from symtensor.graph.basic import Variable, clone_replace
from symtensor.scan.info import ScanInfo


@dataclass
class Seq:
    outer: Variable
    inner: Variable


@dataclass
class State:
    init: Variable            # outer: (lag, ...) rows, row j = the value at time j - lag
    taps: tuple
    inner_taps: list          # one inner input per tap
    inner_out: Variable
    store: int = 0
    user_index: int = -1
    origin: Variable = None

    @property
    def lag(self):
        return -min(self.taps)


@dataclass
class NitSot:
    inner_out: Variable
    user_index: int = -1
    origin: Variable = None


@dataclass
class Shared:
    outer: Variable
    inner_in: Variable
    inner_out: Variable
    origin: Variable = None


@dataclass
class NonSeq:
    outer: Variable
    inner: Variable


@dataclass
class ScanParts:
    n_steps: Variable
    seqs: list = field(default_factory=list)
    states: list = field(default_factory=list)
    nitsots: list = field(default_factory=list)
    shared: list = field(default_factory=list)
    nonseqs: list = field(default_factory=list)
    cond: Variable = None
    truncate_gradient: int = -1
    name: str = None
    mode: object = None

    @classmethod
    def from_node(cls, node):
        """The groups of Scan node ``node`` (inner variables are the op's own)."""
        op, info = node.op, node.op.info
        ins, outs = op.inner_inputs, op.inner_outputs
        S, N = info.n_states, info.n_nitsot
        parts = cls(node.inputs[0], truncate_gradient=info.truncate_gradient, name=info.name, mode=info.mode)
        parts.seqs = [Seq(node.inputs[1 + k], ins[k]) for k in range(info.n_seqs)]
        for s, rng in enumerate(info.tap_input_ranges()):
            parts.states.append(State(node.inputs[info.init_outer_start + s], info.state_taps[s],
                                      [ins[i] for i in rng], outs[s], info.state_store[s], info.user_index[s],
                                      node.outputs[s]))
        parts.nitsots = [NitSot(outs[S + j], info.user_index[S + j], node.outputs[S + j]) for j in range(N)]
        parts.shared = [Shared(node.inputs[info.shared_outer_start + j], ins[info.shared_inner_start + j],
                               outs[S + N + j], node.outputs[S + N + j]) for j in range(info.n_shared)]
        parts.nonseqs = [NonSeq(node.inputs[info.nonseq_outer_start + j], ins[info.nonseq_inner_start + j])
                         for j in range(info.n_nonseqs)]
        parts.cond = outs[-1] if info.until else None
        return parts

    # -- the flat lists a Scan is made of
    def inner_inputs(self):
        return ([q.inner for q in self.seqs] + [v for st in self.states for v in st.inner_taps]
                + [sh.inner_in for sh in self.shared] + [ns.inner for ns in self.nonseqs])

    def inner_outputs(self):
        outs = ([st.inner_out for st in self.states] + [nt.inner_out for nt in self.nitsots]
                + [sh.inner_out for sh in self.shared])
        return outs + ([self.cond] if self.cond is not None else [])

    def outer_inputs(self):
        return ([self.n_steps] + [q.outer for q in self.seqs] + [st.init for st in self.states]
                + [sh.outer for sh in self.shared] + [ns.outer for ns in self.nonseqs])

    def origins(self):
        """The old outer output of each new output (None for new ones), in output order."""
        return ([st.origin for st in self.states] + [nt.origin for nt in self.nitsots]
                + [sh.origin for sh in self.shared])

    def info(self):
        return ScanInfo(n_seqs=len(self.seqs), state_taps=tuple(st.taps for st in self.states),
                        n_nitsot=len(self.nitsots), n_shared=len(self.shared), n_nonseqs=len(self.nonseqs),
                        until=self.cond is not None, state_store=tuple(st.store for st in self.states),
                        truncate_gradient=self.truncate_gradient, name=self.name, mode=self.mode,
                        user_index=tuple(st.user_index for st in self.states)
                        + tuple(nt.user_index for nt in self.nitsots))

    def build(self, op_class):
        """The outer outputs of a new ``op_class`` node made of these parts."""
        op = op_class(self.inner_inputs(), self.inner_outputs(), self.info())
        return op.make_node(*self.outer_inputs()).outputs

    def replacements(self, new_outputs):
        """{old outer output: new outer output} for the outputs that came from an old node."""
        return {old: new for old, new in zip(self.origins(), new_outputs) if old is not None}

    # -- edits
    def replace_inner(self, mapping):
        """Substitute inner variables (inputs or intermediate results) in every inner output."""
        if not mapping:
            return
        outs = clone_replace(self.inner_outputs(), mapping, strict=True)
        it = iter(outs)
        for st in self.states:
            st.inner_out = next(it)
        for nt in self.nitsots:
            nt.inner_out = next(it)
        for sh in self.shared:
            sh.inner_out = next(it)
        if self.cond is not None:
            self.cond = next(it)
