"""Run every issue-5 benchmark, print one table of ratios, write all results as JSON.

Each target runs in its own process (python benchmarks/<target>.py --json ...),
with the same pinned thread count; inside a target every peer is measured in
the same run, interleaved.

Run: python benchmarks/run_all.py --out results.json [--quick] [--threads 2] [--only elemwise,dot]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPTS = {  # target -> script, in the order they run and print
    "elemwise": "elemwise_chain.py",
    "dot": "dot.py",
    "overhead": "call_overhead.py",
    "mlp": "mlp_step.py",
    "compile": "compile_time.py",
}


def run_target(name, quick, threads):
    env = dict(os.environ, BENCH_THREADS=str(threads))
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        path = os.path.join(tmp, f"{name}.json")
        cmd = [sys.executable, os.path.join(HERE, SCRIPTS[name]), "--json", path] + (["--quick"] if quick else [])
        start = time.perf_counter()
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
        elapsed = time.perf_counter() - start
        sys.stdout.write(proc.stdout)
        if proc.returncode != 0 or not os.path.exists(path):
            sys.stdout.write(proc.stderr[-3000:])
            return {"target": name, "error": f"exit code {proc.returncode}", "stderr": proc.stderr[-3000:]}
        with open(path) as fh:
            result = json.load(fh)
    result["script_seconds"] = elapsed
    return result


def fmt(s):
    if s >= 1:
        return f"{s:.3f} s"
    if s >= 1e-3:
        return f"{s * 1e3:.3f} ms"
    return f"{s * 1e6:.2f} us"


def print_table(results):
    print()
    print("ratio = symtensor time / peer time (below 1: symtensor is faster); medians")
    print(f"| {'target':<9} | {'symtensor':<24} | {'peer':<22} | {'ratio':>7} | {'symtensor':>11} | {'peer':>11} |")
    print(f"|{'-' * 11}|{'-' * 26}|{'-' * 24}|{'-' * 9}|{'-' * 13}|{'-' * 13}|")
    for result in results:
        if "error" in result:
            print(f"| {result['target']:<9} | FAILED: {result['error']}")
            continue
        for row in result["ratios"]:
            print(f"| {result['target']:<9} | {row['subject']:<24} | {row['peer']:<22} | {row['ratio']:7.3f} | "
                  f"{fmt(row['subject_s']):>11} | {fmt(row['peer_s']):>11} |")
    for result in results:
        for note in result.get("notes", []):
            print(f"note [{result['target']}]: {note}")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", required=True, metavar="PATH", help="where to write the JSON results")
    parser.add_argument("--quick", action="store_true", help="few rounds: checks everything runs")
    parser.add_argument("--threads", type=int, default=2, help="thread count for every library (default 2)")
    parser.add_argument("--only", default=",".join(SCRIPTS), help="comma-separated targets: " + ",".join(SCRIPTS))
    args = parser.parse_args()
    targets = [t for t in args.only.split(",") if t]
    unknown = [t for t in targets if t not in SCRIPTS]
    if unknown:
        parser.error(f"unknown target(s) {unknown}; known: {list(SCRIPTS)}")
    results = []
    for name in targets:
        results.append(run_target(name, args.quick, args.threads))
    print_table(results)
    environment = next((r["environment"] for r in results if "environment" in r), None)
    with open(args.out, "w") as fh:
        json.dump({"threads": args.threads, "quick": args.quick, "environment": environment,
                   "loadavg_end": os.getloadavg(), "results": results}, fh, indent=2)
    print(f"results written to {args.out}")
    return 1 if any("error" in r for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
