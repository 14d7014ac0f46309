"""The on-disk compile cache: keys, sharing, locking, recovery, safety and the CLI."""

import io
import json
import os
import shutil
import stat
import subprocess
import sys
import time

import pytest

import symtensor as st
from symtensor import cache as cli
from symtensor.link.c import cache, compiler

pytestmark = pytest.mark.skipif(shutil.which("gcc") is None and shutil.which("cc") is None,
                                reason="no C compiler (gcc or cc) on PATH")

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

SOURCE = r"""
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include "val.h"
/* TAG */
static PyObject *get(PyObject *self, PyObject *args) { return PyLong_FromLong(VAL); }
static PyMethodDef methods[] = {{"get", get, METH_NOARGS, NULL}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef def = {PyModuleDef_HEAD_INIT, "ST_MODULE_NAME", NULL, -1, methods};
PyMODINIT_FUNC PyInit_ST_MODULE_NAME(void) { return PyModule_Create(&def); }
"""


def source(tag):
    return SOURCE.replace("TAG", tag)


def header(value):
    return {"val.h": f"#define VAL {value}\n"}


def entries(root):
    return sorted(n for n in os.listdir(root) if len(n) == cache.KEY_LEN and os.path.isdir(os.path.join(root, n)))


# A fresh process that loads one module and reports what it did (as JSON on its last line).
WORKER = r"""
import json, os, sys, time, warnings
args = json.loads(sys.argv[1])
import symtensor as st
from symtensor.link.c import cache
if args.get("go"):
    open(args["ready"], "w").close()
    while not os.path.exists(args["go"]):
        time.sleep(0.002)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    with st.config.change_flags(compiledir=args["dir"], cxx=args["cxx"]):
        module = cache.get_module(args["source"], args["headers"])
print(json.dumps({"value": module.get(), "stats": cache.stats, "file": module.__file__,
                  "warnings": [str(w.message) for w in caught]}))
"""


def worker_args(root, cc, src, headers):
    return json.dumps({"dir": str(root), "cxx": cc.path, "source": src, "headers": headers})


def worker_env(**extra):
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("SYMTENSOR_FLAGS", None)
    env.update(extra)
    return env


def run_worker(args, **env):
    proc = subprocess.run([sys.executable, "-c", WORKER, args], capture_output=True, text=True,
                          env=worker_env(**env), timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- hits and misses

def test_warm_load_in_a_new_process_does_not_run_the_compiler(fake_cc, compiledir):
    src = source("warm")
    with st.config.change_flags(cxx=fake_cc.path):
        assert cache.get_module(src, header(5)).get() == 5
    assert len(fake_cc.compiles()) == 1
    calls_before = len(fake_cc.calls())
    report = run_worker(worker_args(compiledir, fake_cc, src, header(5)))
    assert report["value"] == 5
    assert report["stats"]["compiles"] == 0 and report["stats"]["loads"] == 1 and not report["warnings"]
    # the new process only asked the compiler its version: no compile, no flag probes
    assert [c for c in fake_cc.calls()[calls_before:]] == ["--version"]
    assert entries(compiledir) == [os.path.basename(os.path.dirname(report["file"]))]


def test_identical_sources_share_one_entry(compiledir):
    src = source("shared")
    before = dict(cache.stats)
    first = cache.get_module(src, header(1))
    assert cache.get_module(src, header(1)) is first  # in-process memo
    cache.forget_loaded()
    assert cache.get_module(src, header(1)).get() == 1  # from disk
    assert cache.stats["compiles"] - before["compiles"] == 1
    assert cache.stats["loads"] - before["loads"] == 1
    assert len(entries(compiledir)) == 1


def test_changed_header_changes_the_key(compiledir, tmp_path):
    src = source("header")
    before = cache.stats["compiles"]
    assert cache.get_module(src, header(1)).get() == 1
    assert cache.get_module(src, header(2)).get() == 2
    # headers given as paths: their contents, not their names, are what counts
    path = tmp_path / "val.h"
    path.write_text("#define VAL 3\n")
    assert cache.get_module(src, [str(path)]).get() == 3
    path.write_text("#define VAL 4\n")
    assert cache.get_module(src, [path]).get() == 4
    path.write_text("#define VAL 3\n")
    assert cache.get_module(src, [path]).get() == 3  # back to a cached entry
    assert cache.stats["compiles"] - before == 4
    assert len(entries(compiledir)) == 4


def test_key_covers_kind_flags_and_toolchain():
    comp = compiler.find_compiler()
    compiler.settle_flags(comp)
    items = cache._read_headers(header(1))
    base = cache.module_key("int x;", items, (), "shared-library", comp)
    assert base == cache.module_key("int x;", cache._read_headers(header(1)), (), "shared-library", comp)
    assert len(base) == cache.KEY_LEN and all(c in "0123456789abcdef" for c in base)
    variants = {
        cache.module_key("int y;", items, (), "shared-library", comp),
        cache.module_key("int x;", cache._read_headers(header(2)), (), "shared-library", comp),
        cache.module_key("int x;", cache._read_headers({"other.h": "#define VAL 1\n"}), (), "shared-library", comp),
        cache.module_key("int x;", items, ("-DX",), "shared-library", comp),
        cache.module_key("int x;", items, (), "python-extension", comp),
    }
    with st.config.change_flags(gcc__cxxflags="-g"):
        variants.add(cache.module_key("int x;", items, (), "shared-library", comp))
    other = compiler.Compiler(comp.argv, comp.path, comp.version + " (patched)")
    other.__dict__["flags"] = comp.flags
    variants.add(cache.module_key("int x;", items, (), "shared-library", other))
    assert base not in variants and len(variants) == 7


def test_extra_flags_are_passed(compiledir):
    src = source("extra").replace('#include "val.h"', "")
    assert cache.get_module(src, {}, extra_flags=["-DVAL=11"]).get() == 11
    assert cache.get_module(src, {}, extra_flags=["-DVAL=12"]).get() == 12


# ---------------------------------------------------------------- concurrency

def test_two_processes_compile_one_key_once(make_fake_cc, compiledir, tmp_path):
    cc = make_fake_cc(name="slowcc")
    with st.config.change_flags(cxx=cc.path):
        compiler.settle_flags(compiler.find_compiler(), cache.compiledir())  # probe once, before the race
    src = source("race")
    go = tmp_path / "go"
    procs = []
    for i in range(2):
        args = json.loads(worker_args(compiledir, cc, src, header(9)))
        args.update(go=str(go), ready=str(tmp_path / f"ready{i}"))
        procs.append(subprocess.Popen([sys.executable, "-c", WORKER, json.dumps(args)], stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True, env=worker_env(ST_TEST_CC_SLEEP="1")))
    deadline = time.time() + 60
    while not all((tmp_path / f"ready{i}").exists() for i in range(2)):
        assert time.time() < deadline and all(p.poll() is None for p in procs), "workers did not start"
        time.sleep(0.01)
    go.touch()
    reports = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        reports.append(json.loads(out.strip().splitlines()[-1]))
    assert [r["value"] for r in reports] == [9, 9]
    assert sorted(r["stats"]["compiles"] for r in reports) == [0, 1]
    loser = next(r for r in reports if r["stats"]["compiles"] == 0)
    assert loser["stats"]["lock_waits"] == 1 and loser["stats"]["loads"] == 1  # it waited, then loaded
    assert len(cc.compiles()) == 1
    assert len(entries(compiledir)) == 1 and not [n for n in os.listdir(compiledir) if n.startswith("tmp-")]


def test_independent_keys_do_not_wait_for_each_other(compiledir):
    comp = compiler.find_compiler()
    root = cache.compiledir()
    compiler.settle_flags(comp, root)
    busy = cache.module_key(source("busy"), cache._read_headers(header(1)), (), "python-extension", comp)
    waits = cache.stats["lock_waits"]
    with cache._key_lock(root, busy):  # another compile of another key is in progress
        assert cache.get_module(source("free"), header(2)).get() == 2
    assert cache.stats["lock_waits"] == waits


# ---------------------------------------------------------------- broken entries

def _replace_file(path, data):
    """Give ``path`` new contents in a new inode: this process has the old one mapped (truncating it
    in place would crash the test process itself with SIGBUS)."""
    with open(path + ".new", "wb") as f:
        f.write(data)
    os.replace(path + ".new", path)


def _entry_so(root):
    (key,) = entries(root)
    entry = os.path.join(root, key)
    meta = json.load(open(os.path.join(entry, cache.META)))
    return entry, os.path.join(entry, meta["so"]), meta


def test_truncated_entry_is_rebuilt_with_a_warning(compiledir):
    src = source("truncated")
    cache.get_module(src, header(6))
    entry, so, _ = _entry_so(compiledir)
    _replace_file(so, open(so, "rb").read()[:100])
    cache.forget_loaded()
    before = dict(cache.stats)
    with pytest.warns(RuntimeWarning, match="broken .*truncated or corrupted.*rebuilding"):
        assert cache.get_module(src, header(6)).get() == 6
    assert cache.stats["compiles"] - before["compiles"] == 1 and cache.stats["rebuilds"] - before["rebuilds"] == 1
    _, so, meta = _entry_so(compiledir)
    assert os.path.getsize(so) == meta["size"] > 100


@pytest.mark.parametrize("damage", ["missing-meta", "garbage-meta"])
def test_entry_without_valid_metadata_is_rebuilt(compiledir, damage):
    src = source("meta-" + damage)
    cache.get_module(src, header(3))
    entry, _, _ = _entry_so(compiledir)
    meta_path = os.path.join(entry, cache.META)
    if damage == "missing-meta":
        os.remove(meta_path)
    else:
        open(meta_path, "w").write("{not json")
    cache.forget_loaded()
    with pytest.warns(RuntimeWarning, match=f"broken .*{cache.META} is (missing|unreadable)"):
        assert cache.get_module(src, header(3)).get() == 3


def test_entry_that_fails_to_load_is_rebuilt_in_a_new_process(fake_cc, compiledir):
    """A corrupted .so whose checksum was also rewritten still fails dlopen: rebuilt, not fatal."""
    src = source("undloadable")
    with st.config.change_flags(cxx=fake_cc.path):
        cache.get_module(src, header(8))
    entry, so, meta = _entry_so(compiledir)
    _replace_file(so, b"\x7fELF this is not a shared object" * 4)
    meta.update(size=os.path.getsize(so), sha256=cache._sha256_file(so))
    with open(os.path.join(entry, cache.META), "w") as f:
        json.dump(meta, f)
    report = run_worker(worker_args(compiledir, fake_cc, src, header(8)))
    assert report["value"] == 8
    assert report["stats"]["compiles"] == 1 and report["stats"]["rebuilds"] == 1
    assert len(report["warnings"]) == 1 and "fails to load" in report["warnings"][0]
    assert len(fake_cc.compiles()) == 2


def test_stale_temporary_builds_do_not_matter(compiledir):
    root = cache.compiledir()
    os.mkdir(os.path.join(root, "tmp-leftover"))  # a build whose process died
    assert cache.get_module(source("leftover"), header(4)).get() == 4
    assert cache.list_entries(root)[0]["kind"] == "python-extension"


# ---------------------------------------------------------------- a safe directory

def test_cache_directory_is_private(compiledir):
    cache.get_module(source("private"), header(1))
    assert stat.S_IMODE(os.stat(compiledir).st_mode) == 0o700
    (key,) = entries(compiledir)
    assert stat.S_IMODE(os.stat(os.path.join(compiledir, key)).st_mode) & 0o022 == 0


@pytest.mark.parametrize("mode", [0o770, 0o757, 0o777])
def test_writable_by_others_is_refused(compiledir, mode):
    cache.get_module(source("refused"), header(1))
    cache.forget_loaded()
    os.chmod(compiledir, mode)
    loads = cache.stats["loads"]
    with pytest.raises(cache.UnsafeCacheDirError, match=r"writable by group or others \(mode 0%o\)" % mode):
        cache.get_module(source("refused"), header(1))
    assert cache.stats["loads"] == loads  # nothing was loaded from it
    err = io.StringIO()
    assert cli.main(["list"], out=err) == 2


def test_owned_by_someone_else_is_refused(compiledir, monkeypatch):
    cache.compiledir()
    real_uid = os.getuid()
    monkeypatch.setattr(os, "getuid", lambda: real_uid + 1)
    with pytest.raises(cache.UnsafeCacheDirError, match=f"owned by uid {real_uid}, not by you"):
        cache.get_module(source("foreign"), header(1))


def test_a_file_is_not_a_cache_directory(tmp_path):
    path = tmp_path / "file"
    path.write_text("")
    with st.config.change_flags(compiledir=str(path)):
        with pytest.raises(cache.UnsafeCacheDirError, match="is not a directory"):
            cache.get_module(source("file"), header(1))


# ---------------------------------------------------------------- python -m symtensor.cache

def test_cli_list_size_clear(compiledir):
    out = io.StringIO()
    assert cli.main(["list"], out=out) == 0 and "no compiled modules" in out.getvalue()
    assert not compiledir.exists()  # listing does not create the directory
    cache.get_module(source("cli-a"), header(1))
    cache.get_module("int st_cli(void) { return 1; }\n", {}, kind="shared-library")
    (compiledir / "notes.txt").write_text("not ours")
    keys = entries(compiledir)

    out = io.StringIO()
    assert cli.main(["list"], out=out) == 0
    text = out.getvalue()
    assert "2 compiled module(s)" in text and all(k in text for k in keys)
    assert "python-extension" in text and "shared-library" in text and "KiB" in text and "0s" in text

    out = io.StringIO()
    assert cli.main(["size"], out=out) == 0
    total = cache.total_size()
    assert f"({total} bytes) in 2 compiled module(s)" in out.getvalue()
    assert total >= sum(e["size"] for e in cache.list_entries())

    out = io.StringIO()
    assert cli.main(["clear"], out=out) == 0
    assert "removed 2 compiled module(s)" in out.getvalue() and "kept the directory" in out.getvalue()
    assert compiledir.is_dir() and os.listdir(compiledir) == ["notes.txt"]  # only what we made is removed
    # the cleared cache works: the next call compiles again
    before = cache.stats["compiles"]
    assert cache.get_module(source("cli-a"), header(1)).get() == 1
    assert cache.stats["compiles"] == before + 1


def test_cli_runs_as_a_module(compiledir):
    cache.get_module(source("cli-module"), header(1))
    (key,) = entries(compiledir)
    env = worker_env(SYMTENSOR_FLAGS=f"compiledir={compiledir}")
    run = lambda *a: subprocess.run([sys.executable, "-m", "symtensor.cache", *a], capture_output=True,  # noqa: E731
                                    text=True, env=env, timeout=120)
    listed = run("list")
    assert listed.returncode == 0 and key in listed.stdout, listed.stderr
    cleared = run("--compiledir", str(compiledir), "clear")
    assert cleared.returncode == 0 and "removed 1 compiled module(s)" in cleared.stdout
    assert entries(compiledir) == []
    bad = run("frobnicate")
    assert bad.returncode == 2 and "invalid choice" in bad.stderr


def test_human_formats():
    assert cli.human_size(512) == "512 B" and cli.human_size(1536) == "1.5 KiB"
    assert cli.human_size(3 * 1024 ** 3) == "3.0 GiB"
    assert cli.human_age(5) == "5s" and cli.human_age(125) == "2m 5s" and cli.human_age(93784) == "1d 2h"
