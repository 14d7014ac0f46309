"""The rewrite pipeline: one ordered list of named phases, and the function that runs it.

Phases run in this order; each is selected by the mode's tags:
merge -> canonicalize -> stabilize -> specialize -> fusion -> inplace -> final_merge.
"""

from symtensor.compile.function import register_rewriter
from symtensor.graph.rewriting.basic import MergeRewriter
from symtensor.graph.rewriting.db import Phase, RewriteDatabase

PHASES = (
    ("merge", "sequential"),          # common subexpressions and equal constants
    ("canonicalize", "equilibrium"),  # normal forms, constant folding, no-op removal, shape answers
    ("stabilize", "equilibrium"),     # numerically stable forms (log1p, softplus, log_softmax...)
    ("specialize", "equilibrium"),    # cheaper forms (pow -> sqr, x*-1 -> neg, dot -> gemm...)
    ("fusion", "sequential"),         # elementwise chains -> one Composite Elemwise
    ("inplace", "sequential"),        # reuse input buffers where no one else needs them
    ("final_merge", "sequential"),
)

rewrite_db = RewriteDatabase()
for _name, _kind in PHASES:
    rewrite_db.add_phase(Phase(_name, _kind))

rewrite_db.register("merge", "merge", MergeRewriter(), "fast_run", "fast_compile", "merge")
rewrite_db.register("final_merge", "final_merge", MergeRewriter(), "fast_run", "fast_compile", "merge")


def register(phase, *tags, name=None):
    """Decorator registering a rewriter into ``phase`` with tags (default: fast_run)."""
    tags = tags or ("fast_run",)

    def decorate(rewriter):
        rewrite_db.register(phase, name or rewriter.name or type(rewriter).__name__, rewriter, *tags)
        return rewriter

    return decorate


def run_pipeline(fgraph, mode):
    """Rewrite ``fgraph`` in place with the phases and rewrites the mode selects."""
    base = {"fast_run": "fast_run", "fast_compile": "fast_compile"}[mode.optimizer]
    pipeline = rewrite_db.query({base, *mode.included}, set(mode.excluded))
    pipeline.rewrite(fgraph)
    return fgraph


register_rewriter("fast_run", run_pipeline)
register_rewriter("fast_compile", run_pipeline)
