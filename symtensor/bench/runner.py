"""symtensor-bench: train the shipped models a few SGD steps in symtensor, PyTorch and PyTensor.

For each model every framework gets the same NumPy batch and initial weights (float32). The step-0
losses must agree to 1e-4 relative, or the run stops with exit status 3 and the losses: a faster
wrong step is not a result. Then the steps are timed (median after warm-up, interleaved rounds),
symtensor's compile time is measured cold and warm in new processes, and the results are printed
as a table, and written as JSON and a PNG bar chart into --out (default ``bench-results/``).

Exit status: 0 all good; 1 a framework failed to build or run a model (the others still ran);
2 bad arguments; 3 step-0 losses disagree.
"""

import argparse
import ctypes
import importlib
import os
import sys
import time
import traceback
import warnings

from symtensor.bench import report, timing
from symtensor.bench.models import DEFAULT_MODELS, FRAMEWORKS, REGISTRY, SIZES, Unavailable, get

try:
    from tqdm import tqdm
except ImportError:  # tqdm is in the bench extra; without it the run just has no progress bar
    tqdm = None

LOSS_RTOL = 1e-4
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")
#: set before any BLAS loads, unless the user set them: OpenBLAS's worker threads go to sleep right after their
#: work instead of spinning for about 0.1 s, so that one framework's idle BLAS threads (NumPy's, under
#: PyTensor) do not hold a core through the next framework's step; every framework runs as if alone
QUIET_VARS = {"OPENBLAS_THREAD_TIMEOUT": "4"}
EXIT_FAILED, EXIT_LOSS_MISMATCH = 1, 3
DEFAULT_OUT = "bench-results"
#: 1-minute load average per core above which timings with every core busy are unreliable
BUSY_LOAD_PER_CORE = 0.5


class LossMismatch(Exception):
    """Step-0 losses of one model differ between frameworks by more than LOSS_RTOL."""


def _list_arg(values, known, what):
    out = []
    for value in values or []:
        for item in value.split(","):
            item = item.strip()
            if not item:
                continue
            if item == "all" and what == "model":
                out.extend(k for k in known if k not in out)
                continue
            if item not in known:
                raise argparse.ArgumentTypeError(f"unknown {what} {item!r}; choose from {', '.join(known)}")
            if item not in out:
                out.append(item)
    return out


def parser():
    p = argparse.ArgumentParser(
        prog="symtensor-bench", description=__doc__.split("\n\n")[0],
        epilog=f"models: {', '.join(REGISTRY)} (default: {','.join(DEFAULT_MODELS)}; 'all' for every one)")
    p.add_argument("--model", action="append", metavar="NAME[,NAME]", help="model(s) to run; repeatable")
    p.add_argument("--size", choices=SIZES, default="small",
                   help="small (CPU-friendly, default), paper (the original papers' sizes) or tiny (tests)")
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    p.add_argument("--steps", type=int, default=20, help="timed training steps per framework (default 20)")
    p.add_argument("--warmup", type=int, default=3, help="untimed steps before timing (default 3)")
    p.add_argument("--frameworks", default=",".join(FRAMEWORKS),
                   help=f"comma list among {', '.join(FRAMEWORKS)} (default: all three)")
    p.add_argument("--out", metavar="DIR", default=DEFAULT_OUT,
                   help=f"write results.json and results.png into DIR (default {DEFAULT_OUT}; '' for none)")
    p.add_argument("--profile", action="store_true",
                   help="print symtensor's profile (per Op class and Apply node) of each training function")
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                   help="threads for every library (OpenMP, BLAS, torch); default: all cores")
    p.add_argument("--no-compile-time", dest="compile_time", action="store_false",
                   help="skip the cold/warm compile-time processes")
    p.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bar")
    return p


def parse_args(argv=None):
    p = parser()
    args = p.parse_args(argv)
    try:
        args.models = _list_arg(args.model, list(REGISTRY), "model") or list(DEFAULT_MODELS)
        args.frameworks = _list_arg([args.frameworks], list(FRAMEWORKS), "framework")
    except argparse.ArgumentTypeError as exc:
        p.error(str(exc))
    if not args.frameworks:
        p.error("--frameworks: name at least one framework")
    if args.steps < 1 or args.warmup < 0 or args.threads < 1:
        p.error("--steps and --threads must be at least 1, --warmup at least 0")
    return args


# ---------------------------------------------------------------- frameworks and devices

def load_framework(name, threads):
    """The framework's module, or a string saying why it is not available here."""
    if name == "symtensor":
        return sys.modules["symtensor"]
    try:
        module = importlib.import_module(name)
    except Exception as exc:  # noqa: BLE001 - any import failure means "not installed here"
        return f"{name} is not installed or fails to import ({type(exc).__name__}: {exc}); pip install symtensor[bench]"
    if name == "torch":
        module.set_num_threads(threads)
        try:
            module.set_num_interop_threads(1)
        except RuntimeError:
            pass  # already set: torch ran a parallel region before
    return module


def cuda_problem():
    """Why this machine cannot run CUDA (None when the driver reports at least one GPU).

    Asks the CUDA driver itself (libcuda), so the answer does not depend on which frameworks are
    installed or on how they were built.
    """
    try:
        libcuda = ctypes.CDLL("libcuda.so.1")
    except OSError:
        return "no CUDA driver on this machine (libcuda.so.1 cannot be loaded), so no GPU to run on"
    status = libcuda.cuInit(0)
    if status != 0:
        return f"the CUDA driver finds no usable GPU (cuInit returned error {status})"
    count = ctypes.c_int(0)
    status = libcuda.cuDeviceGetCount(ctypes.byref(count))
    if status != 0 or count.value < 1:
        return f"the CUDA driver reports no GPU (cuDeviceGetCount: error {status}, {count.value} devices)"
    return None


def device_problem(framework, device):
    """Why ``framework`` cannot run on ``device`` (None when it can)."""
    if device == "cpu":
        return None
    if framework == "symtensor":
        try:
            importlib.import_module("symtensor.link.cuda")
        except ImportError:
            return ("symtensor's CUDA backend is not available yet (no symtensor.link.cuda); "
                    "use --device cpu, or --frameworks torch to time torch alone on the GPU")
        return None
    if framework == "pytensor":
        return "PyTensor has no CUDA backend of its own"
    return None


def pin_threads(threads, environ=None):
    """Set the thread variables (and QUIET_VARS where unset); True when they changed (libraries already loaded
    read them too late)."""
    environ = os.environ if environ is None else environ
    changed = False
    for var in THREAD_VARS:
        if environ.get(var) != str(threads):
            environ[var] = str(threads)
            changed = True
    for var, value in QUIET_VARS.items():
        if var not in environ:
            environ[var] = value
            changed = True
    return changed


def busy_note(threads, loadavg=None, cores=None):
    """A warning when other processes already keep the cores busy (None when the machine is quiet).

    Worker threads of OpenMP and BLAS wait for each other at every parallel region; when another
    process holds one of the cores, every framework's step time swells by orders of magnitude.
    """
    if loadavg is None:
        if not hasattr(os, "getloadavg"):
            return None
        loadavg = os.getloadavg()[0]
    cores = cores or os.cpu_count() or 1
    if threads < 2 or loadavg <= BUSY_LOAD_PER_CORE * cores:
        return None
    return (f"note: the machine is busy (load average {loadavg:.1f} on {cores} cores) before the run: with "
            f"{threads} threads per framework, step times will be dominated by waiting for preempted threads; "
            "--threads 1 is steadier on a shared machine")


# ---------------------------------------------------------------- one model

def relative_difference(a, b):
    scale = max(abs(a), abs(b))
    return abs(a - b) / scale if scale > 0 else 0.0


def check_losses(model, size, losses):
    """Raise LossMismatch (with every loss) if any two step-0 losses differ by more than LOSS_RTOL."""
    names = list(losses)
    worst = (0.0, None, None)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            rel = relative_difference(losses[a], losses[b])
            if rel > worst[0]:
                worst = (rel, a, b)
    if worst[0] > LOSS_RTOL:
        listed = ", ".join(f"{k}={v:.8g}" for k, v in losses.items())
        raise LossMismatch(f"step-0 loss mismatch on model {model!r} (size {size}): {listed}; relative "
                           f"difference {worst[0]:.3g} between {worst[1]} and {worst[2]} exceeds {LOSS_RTOL:g}. "
                           "The frameworks do not compute the same training step; nothing was timed.")
    return worst[0]


def _build_kwargs(framework, args, profile=False):
    if framework == "torch":
        return {"device": args.device}
    if framework == "symtensor" and profile:
        return {"profile": True}
    return {}


def skip_reason(model, framework, loaded, args):
    if isinstance(loaded.get(framework), str):
        return loaded[framework]
    if framework in model.unsupported:
        return model.unsupported[framework]
    if framework not in model.builders:
        return f"no {framework} step for {model.name}"
    problem = device_problem(framework, args.device)
    if problem:
        return problem
    if framework == "symtensor":
        missing = model.missing_symtensor_ops()
        if missing:
            return "; ".join(missing)
    return None


def build_step(model, fw, cfg, params, batch, loaded, args):
    """(result entry, Step or None): builds the framework's step and runs step 0 (its loss is the check)."""
    reason = skip_reason(model, fw, loaded, args)
    if reason is not None:
        return {"status": "skipped", "reason": reason}, None
    start = time.perf_counter()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            step = model.builders[fw](cfg, params, batch, **_build_kwargs(fw, args))
            loss0 = step()
    except Unavailable as exc:
        return {"status": "skipped", "reason": str(exc)}, None
    except Exception as exc:  # noqa: BLE001 - one framework's failure is reported, the others still run
        return {"status": "failed", "reason": f"{type(exc).__name__}: {exc}",
                "traceback": traceback.format_exc()}, None
    result = {"status": "ok", "step0_loss": loss0, "setup_s": time.perf_counter() - start}
    # symtensor's own warnings go in the report: one says a function fell back to the Python linker (a
    # slower step). Other warnings are shown as they would have been.
    mine = []
    for w in caught:
        if fw == "symtensor" and str(w.message).startswith("symtensor"):
            mine.append(str(w.message))
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    if mine:
        result["warnings"] = mine
    return result, step


def bench_model(model, args, loaded, bar, say):
    """The result entry of one model: per-framework status, step-0 loss, timing; compile time."""
    cfg, params, batch = model.config(args.size), model.params(args.size), model.batch(args.size)
    entry = {"model": model.name, "title": model.title, "size": args.size, "config": cfg, "frameworks": {}}
    steps = {}
    for fw in args.frameworks:
        bar.set_description(f"{model.name}/{fw} build")
        result, step = build_step(model, fw, cfg, params, batch, loaded, args)
        entry["frameworks"][fw] = result
        if step is not None:
            steps[fw] = step
            for text in result.get("warnings", ()):
                say(f"{model.name}/{fw}: warning: {text}")
            continue
        say(f"{model.name}/{fw}: {result['status']}: {result.get('traceback') or result['reason']}")
        bar.update(args.warmup + args.steps)
    losses = {fw: r["step0_loss"] for fw, r in entry["frameworks"].items() if r["status"] == "ok"}
    entry["step0_max_relative_difference"] = check_losses(model.name, args.size, losses)
    bar.set_description(f"{model.name} timing")
    samples = timing.time_steps(steps, args.steps, args.warmup, progress=bar.update)
    for fw, values in samples.items():
        entry["frameworks"][fw]["timing"] = timing.summarize(values)
    if args.compile_time and "symtensor" in steps:
        bar.set_description(f"{model.name} compile time")
        try:
            entry["compile"] = timing.measure_compile(model.name, args.size)
        except Exception as exc:  # noqa: BLE001 - reported; the step timings still stand
            entry["compile"] = {"error": f"{type(exc).__name__}: {exc}"}
            say(f"{model.name}: compile-time measurement failed: {exc}")
    if args.profile and "symtensor" in steps:
        bar.set_description(f"{model.name} profile")
        entry["profile"] = profile_model(model, cfg, params, batch, args)
        say(entry["profile"])
    return entry


def profile_model(model, cfg, params, batch, args):
    """symtensor's profile summary of the model's training function over warm-up + timed steps."""
    step = model.builders["symtensor"](cfg, params, batch, profile=True)
    for _ in range(args.warmup + args.steps):
        step()
    return step.function.profile.summary()


# ---------------------------------------------------------------- the run

class _NoBar:
    def update(self, n=1):
        pass

    def set_description(self, text):
        pass

    def close(self):
        pass


def run(argv=None):
    """Run the benchmark in this process; returns the exit status (see the module docstring)."""
    args = parse_args(argv)
    if args.device == "cuda":
        problem = cuda_problem()
        if problem:
            print(f"symtensor-bench: --device cuda: {problem}; use --device cpu", file=sys.stderr)
            return 2
    import_threads_ok = not pin_threads(args.threads)
    loaded = {fw: load_framework(fw, args.threads) for fw in args.frameworks}
    runnable = [fw for fw in args.frameworks if not device_problem(fw, args.device)]
    for fw in args.frameworks:
        if fw not in runnable:
            print(f"symtensor-bench: {fw} skipped: {device_problem(fw, args.device)}", file=sys.stderr)
    if not runnable:
        print(f"symtensor-bench: no framework among {', '.join(args.frameworks)} can run on {args.device}",
              file=sys.stderr)
        return 2
    models = [get(name) for name in args.models]
    results = {"environment": report.environment(args.threads),
               "settings": {"size": args.size, "steps": args.steps, "warmup": args.warmup, "device": args.device,
                            "frameworks": args.frameworks, "threads_pinned_before_import": import_threads_ok,
                            "loss_rtol": LOSS_RTOL},
               "models": []}
    total = len(models) * len(args.frameworks) * (args.warmup + args.steps)
    bar = tqdm(total=total, unit="step", file=sys.stderr) if tqdm is not None and args.progress else _NoBar()
    say = tqdm.write if tqdm is not None and args.progress else print
    busy = busy_note(args.threads)
    if busy:
        say(busy)
    if not import_threads_ok:
        say(f"note: thread variables set to {args.threads} after NumPy/SciPy loaded; use `symtensor-bench` or "
            "`python -m symtensor.bench` (they pin them before any import)")
    status = 0
    try:
        for model in models:
            entry = bench_model(model, args, loaded, bar, say)
            results["models"].append(entry)
            if any(fw["status"] == "failed" for fw in entry["frameworks"].values()):
                status = EXIT_FAILED
    except LossMismatch as exc:
        bar.close()
        print(f"\nsymtensor-bench: FAILED: {exc}", file=sys.stderr)
        return EXIT_LOSS_MISMATCH
    bar.close()
    if not any(fw["status"] == "ok" for e in results["models"] for fw in e["frameworks"].values()):
        print("symtensor-bench: nothing ran: every framework was skipped or failed (see the notes below)",
              file=sys.stderr)
        status = EXIT_FAILED
    print(report.header(results))
    print(report.table(results))
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        report.write_json(results, os.path.join(args.out, "results.json"))
        report.plot(results, os.path.join(args.out, "results.png"))
        print(f"wrote {os.path.join(args.out, 'results.json')} and results.png")
    return status


def main(argv=None):
    """Console entry point: pin the thread count before NumPy loads (re-executing once), then run."""
    argv = sys.argv[1:] if argv is None else list(argv)
    threads = _threads_from(argv)
    if threads is not None and pin_threads(threads) and not os.environ.get("SYMTENSOR_BENCH_REEXEC"):
        os.environ["SYMTENSOR_BENCH_REEXEC"] = "1"
        sys.stdout.flush()
        os.execv(sys.executable, [sys.executable, "-m", "symtensor.bench", *argv])
    sys.exit(run(argv))


def _threads_from(argv):
    """The --threads value in ``argv`` (default: all cores); None when it does not parse (run() says why)."""
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    try:
        known, _rest = p.parse_known_args(argv)
    except SystemExit:
        return None
    return known.threads
