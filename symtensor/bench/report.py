"""Benchmark output: the environment record, the JSON file, the bar chart and the printed table.

``python -m symtensor.bench.report RESULTS.json`` prints the header and table of an earlier run again
(the README's results section is pasted from it).
"""

import argparse
import datetime
import importlib.metadata
import json
import os
import platform

import numpy as np

import symtensor

FRAMEWORK_COLORS = {"symtensor": "#1f77b4", "torch": "#ee4c2c", "pytensor": "#2ca02c"}


def package_version(dist):
    """The installed version of a distribution, or None."""
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def cpu_model():
    """The CPU's model name from /proc/cpuinfo (platform.processor() elsewhere)."""
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def environment(threads):
    """What the numbers depend on: date, machine, load, library versions, threads."""
    return {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "loadavg": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "threads": threads,
        "openblas_thread_timeout": os.environ.get("OPENBLAS_THREAD_TIMEOUT"),
        "versions": {"symtensor": symtensor.__version__, "numpy": np.__version__,
                     "torch": package_version("torch"), "pytensor": package_version("pytensor")},
    }


def write_json(results, path):
    with open(path, "w") as fh:
        json.dump(results, fh, indent=2, default=str)


def fmt_seconds(s):
    if s is None:
        return "-"
    if s >= 1:
        return f"{s:.2f} s"
    if s >= 1e-3:
        return f"{s * 1e3:.2f} ms"
    return f"{s * 1e6:.1f} us"


def fmt_ratio(r):
    """Two decimals, or two significant digits below 0.1 (so a tiny ratio does not print as 0.00)."""
    if r is None:
        return "-"
    return f"{r:.2f}" if r >= 0.1 else f"{r:.2g}"


def _median(entry, framework):
    fw = entry["frameworks"].get(framework, {})
    return fw.get("timing", {}).get("median_s") if fw.get("status") == "ok" else None


def ratio(entry, framework):
    """symtensor median / ``framework`` median, or None when either was not timed."""
    mine, theirs = _median(entry, "symtensor"), _median(entry, framework)
    return mine / theirs if mine is not None and theirs else None


def _cell(entry, framework, notes):
    fw = entry["frameworks"].get(framework)
    if fw is None:
        return "-"
    if fw["status"] == "ok":
        cell = fmt_seconds(fw["timing"]["median_s"])
        for text in fw.get("warnings", ()):
            notes.append(f"{entry['model']} / {framework}: warning: {text.splitlines()[0]}")
            cell += f" [{len(notes)}]"
        return cell
    notes.append(f"{entry['model']} / {framework}: {fw['status']}: {fw['reason']}")
    return f"{fw['status']} [{len(notes)}]"


def table(results):
    """A Markdown table (median step time, ratios, compile time, step-0 loss) and its numbered notes."""
    frameworks = results["settings"]["frameworks"]
    others = [f for f in frameworks if f != "symtensor"] if "symtensor" in frameworks else []
    head = ["model", *[f"{f} step" for f in frameworks], *[f"symtensor/{f}" for f in others],
            "compile cold", "compile warm", "step-0 loss"]
    rows, notes = [], []
    for entry in results["models"]:
        row = [entry["model"], *[_cell(entry, f, notes) for f in frameworks]]
        for f in others:
            r = ratio(entry, f)
            row.append(fmt_ratio(r))
        comp = entry.get("compile") or {}
        warm = comp.get("warm", {})
        warm_cell = fmt_seconds(warm.get("first_result_s"))
        if warm.get("c_modules_compiled"):
            notes.append(f"{entry['model']}: the warm compile missed the cache and compiled "
                         f"{warm['c_modules_compiled']} C module(s) (the cache key changed between the processes)")
            warm_cell += f" [{len(notes)}]"
        elif "error" in comp:
            notes.append(f"{entry['model']}: compile time not measured: {comp['error'].splitlines()[0]}")
            warm_cell = f"failed [{len(notes)}]"
        row += [fmt_seconds(comp.get("cold", {}).get("first_result_s")), warm_cell]
        losses = [fw["step0_loss"] for fw in entry["frameworks"].values() if "step0_loss" in fw]
        row.append(f"{losses[0]:.6f}" if losses else "-")
        rows.append(row)
    widths = [max(len(str(r[k])) for r in [head, *rows]) for k in range(len(head))]
    lines = ["| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " |" for r in [head, *rows]]
    lines.insert(1, "| " + " | ".join("-" * w for w in widths) + " |")
    return "\n".join(lines) + "".join(f"\n[{k}] {n}" for k, n in enumerate(notes, 1))


def header(results):
    env, cfg = results["environment"], results["settings"]
    load = env.get("loadavg")
    load = f", load {load[0]:.1f}" if load else ""
    return (f"{env['date']}  {env['cpu']} ({env['cores']} cores{load}), threads {env['threads']}, "
            f"device {cfg['device']}, size {cfg['size']}, {cfg['steps']} timed steps after {cfg['warmup']} "
            f"warm-up; median time per training step (forward + backward + SGD update); ratio = symtensor time "
            f"/ peer time (below 1: symtensor is faster); compile = symtensor's time to first result in a new "
            f"process, cold (empty compile directory) and warm (same directory again)")


def plot(results, path):
    """Bar chart of the median step time per model and framework (log scale), written to ``path``."""
    import matplotlib  # optional extra (plotting only): `import symtensor.bench` must work without it
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    frameworks = results["settings"]["frameworks"]
    models = [e["model"] for e in results["models"]]
    width = 0.8 / max(1, len(frameworks))
    fig, ax = plt.subplots(figsize=(max(6, 1.6 * len(models) + 2), 4.5))
    for k, fw in enumerate(frameworks):
        xs, ys = [], []
        for m, entry in enumerate(results["models"]):
            value = _median(entry, fw)
            if value is not None:
                xs.append(m + (k - (len(frameworks) - 1) / 2) * width)
                ys.append(value * 1e3)
        bars = ax.bar(xs, ys, width, label=fw, color=FRAMEWORK_COLORS.get(fw))
        ax.bar_label(bars, labels=[f"{y:.3g}" for y in ys], fontsize=7, padding=1)
    ax.set_xticks(range(len(models)), models)
    timed = [_median(e, fw) * 1e3 for e in results["models"] for fw in frameworks if _median(e, fw)]
    if timed:
        ax.set_yscale("log")
        ax.set_ylim(min(timed) / 3, max(timed) * 3)
    else:
        ax.text(0.5, 0.5, "nothing was timed", ha="center", transform=ax.transAxes)
    ax.set_ylabel("median ms per training step (log scale)")
    env = results["environment"]
    ax.set_title(f"{env['date'][:10]}, {env['cpu']}, {env['threads']} threads, size {results['settings']['size']}",
                 fontsize=9)
    if timed:
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m symtensor.bench.report",
                                     description="print the header and table of a symtensor-bench results.json")
    parser.add_argument("results", help="a results.json written by symtensor-bench --out")
    args = parser.parse_args(argv)
    with open(args.results) as fh:
        results = json.load(fh)
    print(header(results))
    print(table(results))


if __name__ == "__main__":
    main()
