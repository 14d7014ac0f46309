"""The rewrite database: named rewrites registered into ordered phases, selected by tags.

The pipeline is one explicit list of phases (see ``symtensor.tensor.rewriting``);
each rewrite is registered into one phase with tags (``fast_run``,
``fast_compile``, its own name, ...). ``Mode.including``/``excluding`` name tags
or rewrite names.
"""

from symtensor.graph.rewriting.basic import (
    EquilibriumGraphRewriter, GraphRewriter, NodeRewriter, SequentialGraphRewriter)


class Phase:
    """One step of the pipeline: a set of node rewriters run to a fixed point, or graph rewriters in order."""

    def __init__(self, name, kind="equilibrium", max_use_ratio=10):
        if kind not in ("equilibrium", "sequential"):
            raise ValueError(f"phase kind must be 'equilibrium' or 'sequential', got {kind!r}")
        self.name = name
        self.kind = kind
        self.max_use_ratio = max_use_ratio
        self.entries = []  # (name, rewriter, tags)

    def register(self, name, rewriter, *tags):
        if any(n == name for n, _, _ in self.entries):
            raise ValueError(f"a rewrite named {name!r} is already registered in phase {self.name!r}")
        self.entries.append((name, rewriter, frozenset(tags) | {name}))

    def select(self, include, exclude):
        return [(n, r) for n, r, tags in self.entries if tags & include and not tags & exclude]

    def build(self, include, exclude):
        chosen = self.select(include, exclude)
        if not chosen:
            return None
        rewriters = [r for _, r in chosen]
        if self.kind == "equilibrium":
            node_rws = [r for r in rewriters if isinstance(r, NodeRewriter)]
            graph_rws = [r for r in rewriters if isinstance(r, GraphRewriter)]
            return EquilibriumGraphRewriter(node_rws, self.max_use_ratio, name=self.name, final_rewriters=graph_rws)
        return SequentialGraphRewriter(rewriters, name=self.name)


class RewriteDatabase:
    """Ordered phases; ``query(include, exclude)`` builds the pipeline for a mode."""

    def __init__(self):
        self.phases = []

    def add_phase(self, phase):
        if any(p.name == phase.name for p in self.phases):
            raise ValueError(f"phase {phase.name!r} exists")
        self.phases.append(phase)
        return phase

    def phase(self, name):
        for p in self.phases:
            if p.name == name:
                return p
        raise KeyError(f"no rewrite phase named {name!r}; phases: {[p.name for p in self.phases]}")

    def register(self, phase_name, name, rewriter, *tags):
        self.phase(phase_name).register(name, rewriter, *tags)
        return rewriter

    def names(self):
        return {n for p in self.phases for n, _, _ in p.entries} | {p.name for p in self.phases}

    def query(self, include, exclude=()):
        include, exclude = frozenset(include), frozenset(exclude)
        unknown = (include | exclude) - self.names() - self.tags()
        if unknown:
            raise ValueError(f"unknown rewrite names or tags {sorted(unknown)}; known: {sorted(self.names() | self.tags())}")
        steps = []
        for phase in self.phases:
            if phase.name in exclude:
                continue
            built = phase.build(include | ({phase.name} if phase.name in include else set()), exclude)
            if built is not None:
                steps.append(built)
        return SequentialGraphRewriter(steps, name="pipeline", record_phases=True)

    def tags(self):
        return {t for p in self.phases for _, _, tags in p.entries for t in tags}
