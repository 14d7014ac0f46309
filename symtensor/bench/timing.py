"""Timing: median seconds per training step (interleaved rounds), and compile time in fresh processes.

Steps of the frameworks are timed in rounds: each round runs a block of steps of every framework in
turn, rotating the order, so load from other processes on a shared machine hits all of them alike.

Compile time is measured in new processes (``python -m symtensor.bench.timing --child MODEL SIZE``):
cold with a fresh, empty symtensor compile directory, warm with a new process reusing it. The child
reports "time to first result": graph construction + grad + function() + the first call, after
imports and after the NumPy weights and batch are made, and how many C modules it compiled and loaded
from the cache (a warm run that compiled any means the cache key changed between the two processes).
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from symtensor.bench.models import get
from symtensor.link.c import cache

CHILD_TIMEOUT_S = 900


def summarize(samples):
    """{median_s, q1_s, q3_s, min_s, steps} of per-step seconds."""
    ordered = sorted(samples)
    q1, _q2, q3 = statistics.quantiles(ordered, n=4) if len(ordered) > 1 else ordered * 3
    return {"median_s": statistics.median(ordered), "q1_s": q1, "q3_s": q3, "min_s": ordered[0],
            "steps": len(ordered)}


def time_steps(steps, n_steps, warmup, progress=None, rounds=None):
    """{framework: [seconds per step]} for each zero-argument ``steps[framework]``.

    ``warmup`` untimed steps each first; then ``n_steps`` timed steps each, in interleaved rounds
    of blocks (at most ``rounds`` rounds, default 10). ``progress(n)`` is told of every step run.
    """
    tick = progress or (lambda n: None)
    names = list(steps)
    for name in names:
        for _ in range(warmup):
            steps[name]()
            tick(1)
    rounds = max(1, min(rounds or 10, n_steps))
    blocks = [n_steps // rounds + (1 if r < n_steps % rounds else 0) for r in range(rounds)]
    samples = {name: [] for name in names}
    for r, block in enumerate(blocks):
        shift = r % len(names) if names else 0
        for name in names[shift:] + names[:shift]:
            step = steps[name]
            for _ in range(block):
                start = time.perf_counter()
                step()
                samples[name].append(time.perf_counter() - start)
                tick(1)
    return samples


# ---------------------------------------------------------------- compile time

def _child(model_name, size):
    """Runs in the measured process: build and compile symtensor's step, call it once, print JSON."""
    start = time.perf_counter()
    model = get(model_name)
    cfg, params, batch = model.config(size), model.params(size), model.batch(size)
    t_ready = time.perf_counter()
    step = model.builders["symtensor"](cfg, params, batch)
    t_compiled = time.perf_counter()
    loss = step()
    t_first = time.perf_counter()
    print(json.dumps({"data_s": t_ready - start, "compile_s": t_compiled - t_ready,
                      "first_call_s": t_first - t_compiled, "first_result_s": t_first - t_ready, "loss": loss,
                      "c_modules_compiled": cache.stats["compiles"], "c_modules_loaded": cache.stats["loads"]}))


def child_env(compiledir, environ=None):
    """The environment with symtensor's compile directory set (other SYMTENSOR_FLAGS kept)."""
    env = dict(os.environ if environ is None else environ)
    flags = env.get("SYMTENSOR_FLAGS", "")
    env["SYMTENSOR_FLAGS"] = f"{flags},compiledir={compiledir}" if flags else f"compiledir={compiledir}"
    return env


def run_child(model_name, size, compiledir):
    """One new process compiling the model's symtensor step with ``compiledir``; its timings + wall time."""
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "symtensor.bench.timing", "--child", model_name, size],
                          env=child_env(compiledir), capture_output=True, text=True, timeout=CHILD_TIMEOUT_S)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"compile-time child for {model_name} failed (exit {proc.returncode}):\n"
                           f"{proc.stderr[-3000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["process_wall_s"] = wall
    return result


def measure_compile(model_name, size, workdir=None):
    """{"cold": child result, "warm": child result}: cold in an empty compile directory, warm reusing it."""
    tmp = tempfile.mkdtemp(prefix=f"symtensor-bench-{model_name}-", dir=workdir)
    try:
        compiledir = os.path.join(tmp, "compiledir")
        os.makedirs(compiledir)
        cold = run_child(model_name, size, compiledir)
        warm = run_child(model_name, size, compiledir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {"cold": cold, "warm": warm}


def main(argv=None):
    parser = argparse.ArgumentParser(description="internal: one measured symtensor compile (see measure_compile)")
    parser.add_argument("--child", nargs=2, metavar=("MODEL", "SIZE"), required=True)
    args = parser.parse_args(argv)
    _child(*args.child)


if __name__ == "__main__":
    main()
