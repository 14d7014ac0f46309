"""Shared timing helpers for the benchmark scripts.

Import this module before NumPy: it pins the thread count of every library
(OpenMP, OpenBLAS, MKL, numba, torch) to the same number, because thread
pools read their environment variables once, when they load.

Timing is interleaved: each round times one batch of calls of every
candidate in turn (rotating the order), so load from other processes on a
shared machine hits all candidates alike. The headline is the median time
per call over the rounds, after warm-up.
"""

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time

THREADS = int(os.environ.get("BENCH_THREADS", "2"))
_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")
for _var in _THREAD_VARS:
    os.environ[_var] = str(THREADS)
# idle OpenBLAS threads sleep at once instead of spinning ~0.1 s into the next candidate's timing (as
# symtensor.bench.runner.QUIET_VARS; set here because NumPy must not be loaded yet)
os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")

import numpy as np  # noqa: E402  (after the thread variables, on purpose)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

from symtensor.bench.report import cpu_model, package_version  # noqa: E402  (the repository's symtensor)

THREAD_NOTE = (f"threads: {THREADS} everywhere (" + ", ".join(f"{v}={THREADS}" for v in _THREAD_VARS)
               + f", torch.set_num_threads({THREADS})); "
               + f"OPENBLAS_THREAD_TIMEOUT={os.environ['OPENBLAS_THREAD_TIMEOUT']}")


def parse_args(description, extra=None):
    """Common flags: --json PATH (write the result), --quick (few rounds, for a smoke run)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--json", metavar="PATH", help="write the result as JSON to PATH")
    parser.add_argument("--quick", action="store_true", help="few rounds: checks the script runs, numbers are rough")
    if extra is not None:
        extra(parser)
    return parser.parse_args()


# ---------------------------------------------------------------- peers

def load_torch(notes):
    """torch with the pinned thread count, or None (and a note) when it is not installed."""
    try:
        import torch
    except ImportError as exc:
        notes.append(f"torch not installed ({exc}); torch columns skipped (pip install torch==2.13.0)")
        return None
    torch.set_num_threads(THREADS)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass  # already set by an earlier parallel call
    return torch


def load_pytensor(notes):
    """pytensor, or None (and a note) when it is not installed or fails to import."""
    try:
        import pytensor
    except Exception as exc:  # noqa: BLE001 - any import failure means "peer missing"
        notes.append(f"pytensor not available ({type(exc).__name__}: {exc}); pytensor columns skipped")
        return None
    return pytensor


def pytensor_default_linker(pytensor):
    """The linker PyTensor's default mode resolves to (numba in 3.x, cvm before)."""
    import pytensor.compile.mode as pmode
    return type(pmode.get_default_mode().linker).__name__


# ---------------------------------------------------------------- timing

class Stats:
    """Seconds per call of one candidate: median and quartiles over the rounds."""

    def __init__(self, per_call, number):
        self.samples = sorted(per_call)
        self.number = number
        q = statistics.quantiles(self.samples, n=4) if len(self.samples) > 1 else [self.samples[0]] * 3
        self.q1, self.median, self.q3 = q[0], statistics.median(self.samples), q[2]

    def as_dict(self):
        return {"median_s": self.median, "q1_s": self.q1, "q3_s": self.q3, "min_s": self.samples[0],
                "rounds": len(self.samples), "calls_per_round": self.number}


def _batch_time(fn, number):
    start = time.perf_counter()
    for _ in range(number):
        fn()
    return time.perf_counter() - start


def calibrate(fn, sample_time):
    """Calls per round so that one round of ``fn`` lasts about ``sample_time`` seconds."""
    number = 1
    while True:
        elapsed = _batch_time(fn, number)
        if elapsed >= sample_time / 4 or number >= 1 << 20:
            return max(1, int(number * sample_time / max(elapsed, 1e-9)))
        number *= 4


def compare(candidates, rounds=30, warmup=3, sample_time=0.02):
    """{name: Stats}: interleaved median seconds per call of each zero-argument callable."""
    names = list(candidates)
    for name in names:  # warm-up: caches, first-call compilation, allocator
        for _ in range(warmup):
            candidates[name]()
    number = {name: calibrate(candidates[name], sample_time) for name in names}
    per_call = {name: [] for name in names}
    for r in range(rounds):
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:
            per_call[name].append(_batch_time(candidates[name], number[name]) / number[name])
    return {name: Stats(per_call[name], number[name]) for name in names}


# ---------------------------------------------------------------- output

def fmt_seconds(s):
    if s is None:
        return "-"
    if s >= 1:
        return f"{s:.3f} s"
    if s >= 1e-3:
        return f"{s * 1e3:.3f} ms"
    return f"{s * 1e6:.2f} us"


def ratios(stats, pairs):
    """[{subject, peer, ratio}] for each (subject, peer) pair present in ``stats``."""
    out = []
    for subject, peer in pairs:
        if subject in stats and peer in stats:
            s, p = _median(stats[subject]), _median(stats[peer])
            out.append({"subject": subject, "peer": peer, "ratio": s / p, "subject_s": s, "peer_s": p})
    return out


def _median(value):
    return value.median if isinstance(value, Stats) else value


def report(target, title, stats, pairs, notes, args, extra=None):
    """Print the ratios (headline) and the timings, and write JSON if asked; returns the result dict."""
    rows = ratios(stats, pairs)
    print(f"== {target}: {title}")
    print(f"   {THREAD_NOTE}")
    print("   ratio = symtensor time / peer time (below 1: symtensor is faster)")
    for row in rows:
        print(f"   {row['subject']:>28} / {row['peer']:<28} {row['ratio']:8.3f}   "
              f"({fmt_seconds(row['subject_s'])} vs {fmt_seconds(row['peer_s'])})")
    if any(isinstance(v, Stats) for v in stats.values()):
        print("   median per call [q1 .. q3], rounds x calls per round:")
    for name, st_ in stats.items():
        if isinstance(st_, Stats):
            print(f"   {name:>28}  {fmt_seconds(st_.median):>12}  [{fmt_seconds(st_.q1)} .. "
                  f"{fmt_seconds(st_.q3)}]  {len(st_.samples)} x {st_.number}")
        else:
            print(f"   {name:>28}  {fmt_seconds(st_):>12}")
    for note in notes:
        print(f"   note: {note}")
    result = {"target": target, "title": title, "ratios": rows,
              "timings": {k: (v.as_dict() if isinstance(v, Stats) else {"median_s": v}) for k, v in stats.items()},
              "notes": list(notes), "environment": environment()}
    if extra:
        result.update(extra)
    if args is not None and args.json:
        with open(args.json, "w") as fh:
            json.dump(result, fh, indent=2)
    return result


def _compiler():
    try:
        out = subprocess.run(["gcc", "--version"], capture_output=True, text=True, timeout=10).stdout
        return out.splitlines()[0] if out else None
    except (OSError, subprocess.SubprocessError):
        return None


def environment():
    """What the numbers depend on: machine, load, library versions, threads."""
    return {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu": cpu_model(),
        "cpu_count": os.cpu_count(),
        "loadavg": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "threads": THREADS,
        "numpy": np.__version__,
        "symtensor": package_version("symtensor"),
        "torch": package_version("torch"),
        "pytensor": package_version("pytensor"),
        "gcc": _compiler(),
    }
