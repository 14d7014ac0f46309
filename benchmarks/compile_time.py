"""Target 5: compile time of the MLP training step (mlp_step.py), cold and warm cache.

Every measurement is a new Python process:
- cold: an empty temporary compile directory (nothing cached on disk);
- warm: a new process reusing the directory a cold run filled.
The child reports the time to import the library, to build the graph and
compile the function (graph + grad + function()), and to run the first call;
"time to first result" is graph build + compile + first call (after import).
PyTensor (default mode, and its C "cvm" linker) is measured the same way with
its own temporary base_compiledir, for reference.

Run: python benchmarks/compile_time.py [--repeats 3] [--pytensor-repeats 1] [--no-pytensor] [--json out.json] [--quick]
"""

import benchutil  # noqa: F401  (first: pins thread counts before NumPy loads)

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

TARGET = "compile"
TITLE = "compile time of the MLP training step (new process each)"
HERE = os.path.abspath(__file__)
CHILD_TIMEOUT = 600


def child(framework, linker):
    """Runs in the measured process: prints one JSON line of timings."""
    start = time.perf_counter()
    import mlp_step
    weights = mlp_step.initial_weights()
    xv, yv = mlp_step.batch()
    if framework == "symtensor":
        import symtensor  # noqa: F401
        t_import = time.perf_counter()
        f = mlp_step.build_symtensor(weights, linker)
    else:
        import pytensor
        import pytensor.compile.mode as pmode
        t_import = time.perf_counter()
        mode = None if linker == "default" else pmode.Mode(linker=linker)
        f = mlp_step.build_pytensor(pytensor, weights, mode)
    t_compiled = time.perf_counter()
    loss = float(f(xv, yv))
    t_first = time.perf_counter()
    print(json.dumps({"import_s": t_import - start, "compile_s": t_compiled - t_import,
                      "first_call_s": t_first - t_compiled, "first_result_s": t_first - t_import,
                      "loss": loss}))


def run_child(framework, linker, compiledir):
    env = dict(os.environ)
    if framework == "symtensor":
        env["SYMTENSOR_FLAGS"] = f"compiledir={compiledir}"
    else:
        env["PYTENSOR_FLAGS"] = f"base_compiledir={compiledir}"
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, HERE, "--child", framework, linker], env=env, capture_output=True,
                          text=True, timeout=CHILD_TIMEOUT)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{framework} {linker} child failed:\n{proc.stderr[-2000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["process_wall_s"] = wall
    return result


def measure(framework, linker, cold_repeats, warm_repeats, notes):
    """{'cold': [runs], 'warm': [runs]}: each cold run in a fresh directory, warm runs reuse the last one."""
    runs = {"cold": [], "warm": []}
    tmp = tempfile.mkdtemp(prefix=f"bench-{framework}-")
    try:
        for k in range(cold_repeats):
            compiledir = os.path.join(tmp, f"cold{k}")
            os.makedirs(compiledir)
            runs["cold"].append(run_child(framework, linker, compiledir))
        for _ in range(warm_repeats):
            runs["warm"].append(run_child(framework, linker, compiledir))
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        notes.append(f"{framework} {linker}: {str(exc).strip().splitlines()[-1][:300]}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return runs


def positive_int(text):
    value = int(text)
    if value < 1:
        raise ValueError(f"expected a count of at least 1, got {value}")
    return value


def median_of(runs, key):
    return statistics.median(r[key] for r in runs) if runs else None


def main():
    def extra(p):
        p.add_argument("--child", nargs=2, metavar=("FRAMEWORK", "LINKER"),
                       help="internal: run one measured compile in this process")
        p.add_argument("--repeats", type=positive_int, default=3, help="processes per (framework, cache state)")
        p.add_argument("--pytensor-repeats", type=positive_int, default=1,
                       help="processes per PyTensor cold row (a cold PyTensor compile takes tens of seconds)")
        p.add_argument("--no-pytensor", action="store_true", help="skip PyTensor's cold/warm reference")

    args = benchutil.parse_args(__doc__, extra)
    if args.child:
        child(*args.child)
        return None
    notes = []
    repeats = 1 if args.quick else args.repeats
    configs = [("symtensor", "c"), ("symtensor", "py")]
    pytensor = None if args.no_pytensor else benchutil.load_pytensor(notes)
    if pytensor is not None:
        configs += [("pytensor", "default"), ("pytensor", "cvm")]
        notes.append(f"pytensor default mode uses {benchutil.pytensor_default_linker(pytensor)}")
    elif args.no_pytensor:
        notes.append("pytensor skipped (--no-pytensor)")
    stats, detail = {}, {}
    for framework, linker in configs:
        cold = repeats if framework == "symtensor" else min(repeats, args.pytensor_repeats)
        runs = measure(framework, linker, cold, repeats, notes)
        name = f"{framework} {linker}"
        detail[name] = runs
        for state in ("cold", "warm"):
            if runs[state]:
                stats[f"{name} {state}"] = median_of(runs[state], "first_result_s")
    pairs = [("symtensor c cold", "pytensor default cold"), ("symtensor c warm", "pytensor default warm"),
             ("symtensor c cold", "pytensor cvm cold"), ("symtensor c warm", "pytensor cvm warm"),
             ("symtensor c warm", "symtensor c cold")]
    pytensor_cold = f", {min(repeats, args.pytensor_repeats)} for PyTensor's cold rows" if pytensor else ""
    notes.append(f"time to first result = graph + grad + function() + first call, after import; median of "
                 f"{repeats} process(es) per row{pytensor_cold}")
    print_breakdown(detail)
    return benchutil.report(TARGET, TITLE, stats, pairs, notes, args, {"runs": detail})


def print_breakdown(detail):
    print("   median seconds: import | graph+compile | first call | first result | whole process")
    for name, runs in detail.items():
        for state in ("cold", "warm"):
            if runs[state]:
                cols = [median_of(runs[state], k) for k in ("import_s", "compile_s", "first_call_s",
                                                            "first_result_s", "process_wall_s")]
                print(f"   {name + ' ' + state:>28}  " + " | ".join(f"{c:7.3f}" for c in cols))


if __name__ == "__main__":
    main()
