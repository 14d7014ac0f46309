"""How long the rewrite pipeline takes on big graphs (issue: bounded rewrite time).

Run: python benchmarks/rewrite_time.py [--nodes 10000]
Prints, for each graph, its node count before rewriting and the median time
per node of the whole pipeline (FunctionGraph build + all phases) over a few runs.
"""

import argparse
import statistics
import time

import numpy as np

import symtensor as st
import symtensor.tensor as T
import symtensor.tensor.rewriting  # noqa: F401  (registers the rewrites)
from symtensor.compile.mode import Mode
from symtensor.graph.basic import io_toposort
from symtensor.graph.fgraph import FunctionGraph
from symtensor.tensor.rewriting.pipeline import run_pipeline


def elementwise_chain(n_nodes):
    x = T.dmatrix("x")
    out = x
    ops = [T.tanh, lambda a: a * 1.0001, T.sin, lambda a: a + 0.5, T.sigmoid]
    for k in range(n_nodes):
        out = ops[k % len(ops)](out)
    return [x], [out]


def deep_mlp_gradient(n_layers):
    x = T.dmatrix("x")
    params = [st.shared(np.zeros((4, 4)), name=f"w{k}") for k in range(n_layers)]
    h = x
    for w in params:
        h = T.tanh(T.dot(h, w) + 0.1)
    cost = T.sqr(h).mean()
    grads = st.grad(cost, params)
    return [x] + params, [cost] + grads


def time_pipeline(inputs, outputs, repeats):
    n_nodes = len(io_toposort(inputs, outputs))
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fgraph = FunctionGraph(inputs, outputs)
        run_pipeline(fgraph, Mode(optimizer="fast_run"))
        times.append(time.perf_counter() - start)
    return n_nodes, len(fgraph.apply_nodes), statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--nodes", type=int, default=10000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    cases = {
        "elementwise chain": elementwise_chain(args.nodes),
        "deep MLP gradient": deep_mlp_gradient(max(1, args.nodes // 40)),
    }
    print(f"{'graph':<20} {'nodes in':>9} {'nodes out':>9} {'seconds':>8} {'us/node':>8}")
    for name, (inputs, outputs) in cases.items():
        n_in, n_out, seconds = time_pipeline(inputs, outputs, args.repeats)
        print(f"{name:<20} {n_in:>9} {n_out:>9} {seconds:>8.2f} {1e6 * seconds / n_in:>8.1f}")


if __name__ == "__main__":
    main()
