"""The benchmark runner: CLI end to end, the loss check, skipping, compile-time processes, the report."""

import json
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

from symtensor.bench import report, runner, timing
from symtensor.bench.models import get

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _has(module):
    try:
        __import__(module)
    except ImportError:
        return False
    return True


@pytest.fixture
def pinned(monkeypatch, tmp_path):
    """One thread, already set in the environment (run() does not change this process's variables);
    results go to the test's tmp_path, not the default bench-results/ in the working directory."""
    for var in runner.THREAD_VARS:
        monkeypatch.setenv(var, "1")
    for var, value in runner.QUIET_VARS.items():
        monkeypatch.setenv(var, value)
    torch = sys.modules.get("torch")
    threads = torch.get_num_threads() if torch is not None else None
    yield ["--threads", "1", "--no-progress", "--no-compile-time", "--out", str(tmp_path)]
    if threads is not None:
        torch.set_num_threads(threads)


def _env(compiledir, **extra):
    env = dict(os.environ, SYMTENSOR_FLAGS=f"compiledir={compiledir}", **extra)
    env.update({var: "1" for var in runner.THREAD_VARS})  # already pinned: main() need not re-execute
    env.update(runner.QUIET_VARS)
    env["PYTHONPATH"] = REPO + os.pathsep + env.get("PYTHONPATH", "")
    return env


# ---------------------------------------------------------------- CLI end to end

def test_cli_runs_logreg_and_writes_json_png_and_table(tmp_path, session_compiledir):
    frameworks = "symtensor,torch" if _has("torch") else "symtensor"
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "symtensor.bench", "--model", "logreg", "--size", "tiny", "--steps", "2",
         "--warmup", "1", "--frameworks", frameworks, "--threads", "1", "--no-compile-time", "--out", str(out)],
        env=_env(session_compiledir), capture_output=True, text=True, timeout=300, cwd=REPO)
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads((out / "results.json").read_text())
    assert (out / "results.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    env = results["environment"]
    assert env["cores"] == os.cpu_count() and env["cpu"] and env["threads"] == 1 and env["date"]
    assert set(env["versions"]) == {"symtensor", "torch", "pytensor", "numpy"}
    assert results["settings"]["threads_pinned_before_import"] is True
    (entry,) = results["models"]
    assert entry["model"] == "logreg" and entry["size"] == "tiny"
    for fw in frameworks.split(","):
        timing_ = entry["frameworks"][fw]["timing"]
        assert entry["frameworks"][fw]["status"] == "ok" and timing_["steps"] == 2 and timing_["median_s"] > 0
    assert "| logreg" in proc.stdout and "symtensor step" in proc.stdout
    if "torch" in frameworks:
        assert "symtensor/torch" in proc.stdout
        assert entry["step0_max_relative_difference"] <= 1e-4
    assert "step" in proc.stderr  # the progress bar (tqdm) on stderr


def test_pin_threads_quiets_idle_blas_threads_unless_the_user_chose():
    env = {}
    assert runner.pin_threads(2, env)
    assert env["OPENBLAS_THREAD_TIMEOUT"] == "4" and env["OMP_NUM_THREADS"] == "2"
    assert not runner.pin_threads(2, env)  # already pinned: nothing to re-execute for
    mine = {var: "2" for var in runner.THREAD_VARS}
    mine["OPENBLAS_THREAD_TIMEOUT"] = "10"
    assert not runner.pin_threads(2, mine) and mine["OPENBLAS_THREAD_TIMEOUT"] == "10"


def test_main_pins_threads_then_reexecutes_once(monkeypatch):
    for var in runner.THREAD_VARS:
        monkeypatch.setenv(var, "7")
    for var in runner.QUIET_VARS:
        monkeypatch.delenv(var, raising=False)  # set by main(), removed again after the test
    monkeypatch.setenv("SYMTENSOR_BENCH_REEXEC", "")  # restored (removed) after the test
    calls = []

    def fake_execv(path, argv):
        calls.append(argv)
        raise SystemExit(0)

    monkeypatch.setattr(runner.os, "execv", fake_execv)
    with pytest.raises(SystemExit):
        runner.main(["--threads", "3", "--model", "logreg"])
    assert calls == [[sys.executable, "-m", "symtensor.bench", "--threads", "3", "--model", "logreg"]]
    assert all(os.environ[var] == "3" for var in runner.THREAD_VARS)
    assert all(os.environ[var] == value for var, value in runner.QUIET_VARS.items())
    monkeypatch.setattr(runner, "run", lambda argv: 0)
    with pytest.raises(SystemExit) as info:  # the re-executed process: variables already match, it runs
        runner.main(["--threads", "3", "--model", "logreg"])
    assert info.value.code == 0 and len(calls) == 1


def test_default_run_lists_the_default_models(pinned):
    args = runner.parse_args([])
    assert args.models == ["logreg", "mlp", "lenet", "lstm"] and args.size == "small"
    assert args.frameworks == ["symtensor", "torch", "pytensor"]
    args = runner.parse_args(["--model", "mlp,logreg", "--model", "mlp", "--frameworks", "torch,symtensor"])
    assert args.models == ["mlp", "logreg"] and args.frameworks == ["torch", "symtensor"]
    assert len(runner.parse_args(["--model", "all"]).models) == 6


def test_busy_machine_note():
    assert runner.busy_note(2, loadavg=0.3, cores=2) is None
    assert runner.busy_note(1, loadavg=5.0, cores=2) is None  # one thread does not wait on preempted peers
    note = runner.busy_note(2, loadavg=3.6, cores=2)
    assert "machine is busy (load average 3.6 on 2 cores)" in note and "--threads 1" in note
    assert runner.parse_args([]).out == "bench-results"


@pytest.mark.parametrize("argv, message", [
    (["--model", "resnet"], "unknown model 'resnet'"),
    (["--frameworks", "jax"], "unknown framework 'jax'"),
    (["--steps", "0"], "--steps"),
])
def test_bad_arguments_exit_2_with_a_message(argv, message, capsys):
    with pytest.raises(SystemExit) as info:
        runner.parse_args(argv)
    assert info.value.code == 2 and message in capsys.readouterr().err


def test_cuda_without_a_gpu_exits_2_naming_the_problem(pinned, monkeypatch, capsys):
    monkeypatch.setattr(runner, "cuda_problem", lambda: "the CUDA driver reports no GPU")
    status = runner.run(["--model", "logreg", "--size", "tiny", "--device", "cuda", *pinned])
    captured = capsys.readouterr()
    assert status == 2 and captured.out == ""
    assert "--device cuda: the CUDA driver reports no GPU; use --device cpu" in captured.err


def test_cuda_problem_asks_the_driver():
    problem = runner.cuda_problem()
    if os.path.exists("/dev/nvidia0"):
        assert problem is None or "GPU" in problem
    else:  # no GPU on this machine: the real check must say so (this is what the CLI prints)
        assert problem is not None and ("no CUDA driver" in problem or "no GPU" in problem
                                        or "no usable GPU" in problem)


def test_cuda_without_a_symtensor_cuda_backend_is_a_clear_error(pinned, monkeypatch, capsys):
    monkeypatch.setattr(runner, "cuda_problem", lambda: None)  # as if there were a GPU
    status = runner.run(["--model", "logreg", "--size", "tiny", "--device", "cuda", "--frameworks", "symtensor",
                         *pinned])
    err = capsys.readouterr().err
    assert status == 2
    assert "symtensor's CUDA backend is not available yet" in err


# ---------------------------------------------------------------- the loss check

def test_loss_mismatch_fails_loudly_with_the_losses(pinned, monkeypatch, capsys, tmp_path):
    pytest.importorskip("torch")
    model = get("logreg")
    honest = model.builders["torch"]

    def perturbed(cfg, params, batch, device="cpu"):
        w = params["W"].copy()
        w[0, 0] += np.float32(1.0)  # one weight off
        params = dict(params, W=w)
        return honest(cfg, params, batch, device=device)

    monkeypatch.setitem(model.builders, "torch", perturbed)
    status = runner.run(["--model", "logreg", "--size", "tiny", "--steps", "2", "--frameworks", "symtensor,torch",
                         "--out", str(tmp_path), *pinned])
    captured = capsys.readouterr()
    assert status == runner.EXIT_LOSS_MISMATCH == 3
    assert "FAILED: step-0 loss mismatch on model 'logreg'" in captured.err
    assert "symtensor=" in captured.err and "torch=" in captured.err and "exceeds 0.0001" in captured.err
    assert not (tmp_path / "results.json").exists()  # nothing is reported from a wrong step


def test_check_losses_tolerance():
    assert runner.check_losses("m", "tiny", {"a": 2.0, "b": 2.0 * (1 + 5e-5), "c": 2.0}) < 1e-4
    with pytest.raises(runner.LossMismatch, match=r"a=2, b=2.001.*between a and b"):
        runner.check_losses("m", "tiny", {"a": 2.0, "b": 2.001})
    assert runner.check_losses("m", "tiny", {"only": 1.0}) == 0.0


# ---------------------------------------------------------------- skipping

def test_model_with_a_missing_symtensor_op_is_skipped_not_crashed(pinned, monkeypatch, capsys, tmp_path):
    model = get("logreg")
    fake = type(model)(**{**model.__dict__, "needs": (("symtensor", "no_such_op"),)})
    monkeypatch.setitem(runner.REGISTRY, "logreg", fake)
    monkeypatch.setattr(runner, "get", lambda name: runner.REGISTRY[name])
    status = runner.run(["--model", "logreg", "--size", "tiny", "--steps", "2", "--frameworks", "symtensor",
                         "--out", str(tmp_path), *pinned])
    captured = capsys.readouterr()
    out = captured.out
    assert status == runner.EXIT_FAILED  # the only framework asked for did not run: nothing was measured
    assert "nothing ran: every framework was skipped or failed" in captured.err
    entry = json.loads((tmp_path / "results.json").read_text())["models"][0]
    assert entry["frameworks"]["symtensor"]["status"] == "skipped"
    assert "symtensor has no symtensor.no_such_op yet" in entry["frameworks"]["symtensor"]["reason"]
    assert "skipped [1]" in out and "[1] logreg / symtensor: skipped: symtensor has no symtensor.no_such_op" in out


def test_framework_that_fails_to_build_is_reported_and_the_run_exits_1(pinned, monkeypatch, capsys):
    model = get("logreg")

    def broken(cfg, params, batch, profile=False):
        raise RuntimeError("kaboom")

    monkeypatch.setitem(model.builders, "symtensor", broken)
    status = runner.run(["--model", "logreg", "--size", "tiny", "--steps", "1", "--frameworks", "symtensor",
                         *pinned])
    out = capsys.readouterr().out
    assert status == runner.EXIT_FAILED
    assert "failed [1]" in out and "RuntimeError: kaboom" in out


def test_symtensor_warnings_while_building_are_noted(pinned, monkeypatch, capsys):
    model = get("logreg")
    honest = model.builders["symtensor"]

    def warns(cfg, params, batch, profile=False):
        warnings.warn("symtensor: the C code of this function did not compile; running it with the Python linker")
        return honest(cfg, params, batch, profile=profile)

    monkeypatch.setitem(model.builders, "symtensor", warns)
    status = runner.run(["--model", "logreg", "--size", "tiny", "--steps", "1", "--frameworks", "symtensor",
                         *pinned])
    out = capsys.readouterr().out
    assert status == 0
    assert "logreg/symtensor: warning: symtensor: the C code of this function did not compile" in out
    assert "[1] logreg / symtensor: warning: symtensor: the C code" in out


def test_skip_reasons_for_unsupported_and_missing_frameworks():
    args = runner.parse_args(["--device", "cpu"])
    reason = runner.skip_reason(get("lenet"), "pytensor", {"pytensor": object()}, args)
    assert reason == "PyTensor has no conv2d"
    missing = runner.skip_reason(get("mlp"), "torch", {"torch": "torch is not installed"}, args)
    assert missing == "torch is not installed"
    assert runner.skip_reason(get("mlp"), "symtensor", {"symtensor": object()}, args) is None


def test_import_without_torch_or_pytensor():
    script = ("import sys\n"
              "sys.modules['torch'] = None; sys.modules['pytensor'] = None  # makes their import fail\n"
              "import symtensor.bench, symtensor.bench.runner as r\n"
              "print(r.load_framework('torch', 1))\n"
              "print(sorted(symtensor.bench.REGISTRY))\n")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    assert "torch is not installed or fails to import" in proc.stdout and "'logreg'" in proc.stdout


# ---------------------------------------------------------------- profile and timing

def test_profile_prints_symtensor_profile_of_the_training_function(pinned, capsys):
    status = runner.run(["--model", "logreg", "--size", "tiny", "--steps", "2", "--warmup", "1",
                         "--frameworks", "symtensor", "--profile", *pinned])
    out = capsys.readouterr().out
    assert status == 0
    assert "Function profiling: logreg train step: 3 calls" in out  # warm-up + timed steps
    assert "Class (time per Op class)" in out and "Apply (time per Apply node" in out


def test_time_steps_interleaves_and_counts_every_step():
    calls = []
    steps = {"a": lambda: calls.append("a"), "b": lambda: calls.append("b")}
    ticks = []
    samples = timing.time_steps(steps, n_steps=4, warmup=1, progress=ticks.append, rounds=2)
    assert [len(samples["a"]), len(samples["b"])] == [4, 4]
    assert calls == ["a", "b"] + ["a", "a", "b", "b"] + ["b", "b", "a", "a"]  # warm-up, then rotating rounds
    assert sum(ticks) == 10
    stats = timing.summarize([3.0, 1.0, 2.0])
    assert stats["median_s"] == 2.0 and stats["min_s"] == 1.0 and stats["steps"] == 3


def test_compile_time_measurement_returns_numbers(monkeypatch, session_compiledir):
    # the python linker keeps this fast; the C compile is measured in the slow test below
    monkeypatch.setenv("SYMTENSOR_FLAGS", "linker=py")
    monkeypatch.setenv("PYTHONPATH", REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
    result = timing.measure_compile("logreg", "tiny")
    model = get("logreg")
    expected = model.builders["symtensor"](model.config("tiny"), model.params("tiny"), model.batch("tiny"))()
    for state in ("cold", "warm"):
        run = result[state]
        assert run["first_result_s"] > 0 and run["compile_s"] > 0 and run["process_wall_s"] > run["first_result_s"]
        assert run["first_result_s"] == pytest.approx(run["compile_s"] + run["first_call_s"])
        assert run["loss"] == pytest.approx(expected, rel=1e-6)
        assert run["c_modules_compiled"] == 0  # the python linker compiles no C


def test_child_env_keeps_other_flags():
    env = timing.child_env("/tmp/x", {"SYMTENSOR_FLAGS": "floatX=float32"})
    assert env["SYMTENSOR_FLAGS"] == "floatX=float32,compiledir=/tmp/x"
    assert timing.child_env("/d", {})["SYMTENSOR_FLAGS"] == "compiledir=/d"


@pytest.mark.slow
def test_cold_c_compile_takes_longer_than_warm(monkeypatch):
    monkeypatch.setenv("PYTHONPATH", REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
    result = timing.measure_compile("logreg", "tiny")
    assert result["cold"]["first_result_s"] > 2 * result["warm"]["first_result_s"]
    assert result["cold"]["c_modules_compiled"] > 0 and result["warm"]["c_modules_compiled"] == 0
    assert result["warm"]["c_modules_loaded"] > 0


# ---------------------------------------------------------------- report

def _results():
    ok = {"status": "ok", "step0_loss": 2.5, "timing": {"median_s": 0.002}}
    return {"environment": {"date": "2026-11-25T10:00:00+00:00", "cpu": "Test CPU", "cores": 2, "threads": 2},
            "settings": {"size": "small", "steps": 5, "warmup": 1, "device": "cpu",
                         "frameworks": ["symtensor", "torch", "pytensor"]},
            "models": [{"model": "mlp", "frameworks": {"symtensor": {**ok, "timing": {"median_s": 0.001}},
                                                       "torch": ok, "pytensor": {**ok, "timing": {"median_s": 0.004}}},
                        "compile": {"cold": {"first_result_s": 3.5}, "warm": {"first_result_s": 0.12}}},
                       {"model": "lenet", "frameworks": {"symtensor": ok, "torch": ok,
                                                         "pytensor": {"status": "skipped",
                                                                      "reason": "PyTensor has no conv2d"}}}]}


def test_table_gives_ratios_compile_times_and_skip_notes():
    results = _results()
    text = report.table(results)
    lines = text.splitlines()
    assert lines[0].split("|")[1:-1] == [c.ljust(len(c)) for c in lines[0].split("|")[1:-1]]
    mlp = [c.strip() for c in lines[2].split("|")[1:-1]]
    assert mlp == ["mlp", "1.00 ms", "2.00 ms", "4.00 ms", "0.50", "0.25", "3.50 s", "120.00 ms", "2.500000"]
    lenet = [c.strip() for c in lines[3].split("|")[1:-1]]
    assert lenet[3] == "skipped [1]" and lenet[4:6] == ["1.00", "-"]
    assert lines[-1] == "[1] lenet / pytensor: skipped: PyTensor has no conv2d"
    assert report.ratio(results["models"][0], "torch") == 0.5
    results["models"][0]["compile"]["warm"]["c_modules_compiled"] = 3
    results["models"][1]["compile"] = {"error": "RuntimeError: child failed\ntraceback"}
    text = report.table(results)
    assert "120.00 ms [1]" in text  # notes are numbered row by row
    assert "[1] mlp: the warm compile missed the cache and compiled 3 C module(s)" in text
    assert "failed [3]" in text and "[3] lenet: compile time not measured: RuntimeError: child failed" in text
    assert [report.fmt_ratio(r) for r in (None, 2.0, 0.1, 0.00216)] == ["-", "2.00", "0.10", "0.0022"]
    assert "Test CPU (2 cores), threads 2" in report.header(results)
    results["environment"]["loadavg"] = [1.52, 1.0, 0.5]
    assert "Test CPU (2 cores, load 1.5), threads 2" in report.header(results)


def test_plot_writes_a_png(tmp_path):
    path = tmp_path / "chart.png"
    report.plot(_results(), str(path))
    assert path.read_bytes()[:4] == b"\x89PNG" and path.stat().st_size > 5000


def test_report_cli_reprints_a_results_file(tmp_path, capsys):
    path = tmp_path / "results.json"
    report.write_json(_results(), str(path))
    report.main([str(path)])
    out = capsys.readouterr().out
    assert out.startswith("2026-11-25T10:00:00+00:00  Test CPU (2 cores)")
    assert out.splitlines()[1:] == report.table(_results()).splitlines()
