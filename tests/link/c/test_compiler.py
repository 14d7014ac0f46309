"""The compiler driver: which compiler, which flags, what a failure looks like."""

import os
import shutil

import numpy as np
import pytest

import symtensor as st
from symtensor.link.c import cache, compiler

pytestmark = pytest.mark.skipif(shutil.which("gcc") is None and shutil.which("cc") is None,
                                reason="no C compiler (gcc or cc) on PATH")

EXT_SOURCE = r"""
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#include <numpy/arrayobject.h>
/* TAG */
static PyObject *answer(PyObject *self, PyObject *args) { return PyLong_FromLong(VALUE); }
static PyObject *ndim(PyObject *self, PyObject *arg) {
    if (!PyArray_Check(arg)) { PyErr_SetString(PyExc_TypeError, "expected an array"); return NULL; }
    return PyLong_FromLong(PyArray_NDIM((PyArrayObject *)arg));
}
static PyMethodDef methods[] = {
    {"answer", answer, METH_NOARGS, NULL}, {"ndim", ndim, METH_O, NULL}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef def = {PyModuleDef_HEAD_INIT, "ST_MODULE_NAME", NULL, -1, methods};
PyMODINIT_FUNC PyInit_ST_MODULE_NAME(void) { import_array(); return PyModule_Create(&def); }
"""


def ext_source(tag, value=42):
    return EXT_SOURCE.replace("TAG", tag).replace("VALUE", str(value))


# ---------------------------------------------------------------- which compiler

def test_config_cxx_wins_over_cc(make_fake_cc, monkeypatch):
    a, b = make_fake_cc(name="cc_a"), make_fake_cc(name="cc_b")
    monkeypatch.setenv("CC", b.path)
    with st.config.change_flags(cxx=a.path):
        assert compiler.find_compiler().path == os.path.realpath(a.path)
    with st.config.change_flags(cxx=""):
        assert compiler.find_compiler().path == os.path.realpath(b.path)


def test_path_search_finds_gcc_or_cc(monkeypatch):
    monkeypatch.delenv("CC", raising=False)
    with st.config.change_flags(cxx=""):
        found = compiler.find_compiler()
    assert os.path.basename(found.path) and found.version
    assert found.path == os.path.realpath(shutil.which("gcc") or shutil.which("cc"))


@pytest.mark.parametrize("how", ["config.cxx", "$CC"])
def test_missing_compiler_is_unavailable(how, monkeypatch, compiledir):
    missing = str(compiledir.parent / "no-such-compiler")
    if how == "$CC":
        monkeypatch.setenv("CC", missing)
        flags = {"cxx": ""}
    else:
        flags = {"cxx": missing}
    with st.config.change_flags(**flags):
        assert compiler.compiler_available() is False
        source = r"\$CC" if how == "$CC" else r"config\.cxx"
        with pytest.raises(cache.CompilerUnavailable, match=rf"not found \(from {source}\)"):
            cache.get_module(ext_source("missing"), {})
    assert not compiledir.exists()  # nothing was created for a compiler that does not exist


def test_empty_path_means_no_compiler(tmp_path, monkeypatch):
    monkeypatch.delenv("CC", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with st.config.change_flags(cxx=""):
        assert compiler.compiler_available() is False
        with pytest.raises(cache.CompilerUnavailable, match="no C compiler found on PATH"):
            compiler.find_compiler()


def test_compiler_whose_version_fails_is_unavailable(make_fake_cc):
    broken = make_fake_cc(name="broken", fail_version=True)
    with st.config.change_flags(cxx=broken.path):
        assert compiler.compiler_available() is False
        with pytest.raises(cache.CompilerUnavailable, match="--version exited with status 1"):
            compiler.find_compiler()


# ---------------------------------------------------------------- flags

def test_default_flags():
    flags = compiler.find_compiler().flags
    assert flags[:3] == ("-O3", "-fPIC", "-shared")
    assert "-lblas" not in flags
    if os.path.basename(compiler.find_compiler().path).startswith("gcc"):
        assert "-fopenmp" in flags  # gcc has OpenMP


@pytest.mark.parametrize("rejected", ["-fopenmp", "-march=native"])
def test_rejected_optional_flag_is_dropped(make_fake_cc, compiledir, rejected):
    cc = make_fake_cc(name="no" + rejected.strip("-").replace("=", "_"), reject=(rejected,))
    with st.config.change_flags(cxx=cc.path):
        comp = compiler.find_compiler()
        assert rejected not in comp.flags and comp.flags[:3] == ("-O3", "-fPIC", "-shared")
        module = cache.get_module(ext_source("dropped-" + rejected), {})
    assert module.answer() == 42
    compile_line = cc.compiles()[-1]
    assert rejected not in compile_line.split() and "-lblas" not in compile_line


def test_probed_flags_are_saved_for_the_next_process(make_fake_cc, compiledir):
    cc = make_fake_cc(name="probed")
    with st.config.change_flags(cxx=cc.path):
        comp = compiler.find_compiler()
        root = cache.compiledir()
        flags = compiler.settle_flags(comp, root)
        probes = [c for c in cc.calls() if "probe.c" in c]
        assert len(probes) == 2  # -fopenmp and -march=native, once each
        saved = [n for n in os.listdir(root) if n.startswith("probe-")]
        assert len(saved) == 1
        # a fresh Compiler object (as in a new process) reads them back without probing
        fresh = compiler.Compiler(comp.argv, comp.path, comp.version)
        assert compiler.settle_flags(fresh, root) == flags
    assert len([c for c in cc.calls() if "probe.c" in c]) == 2


def test_user_cxxflags_reach_the_compiler_and_the_key(fake_cc, compiledir):
    with st.config.change_flags(cxx=fake_cc.path):
        comp = compiler.find_compiler()
        compiler.settle_flags(comp)
        plain = compiler.toolchain_fingerprint(comp)
        with st.config.change_flags(gcc__cxxflags="-DVALUE=7 -g0"):
            assert compiler.toolchain_fingerprint(comp) != plain
            module = cache.get_module(EXT_SOURCE.replace("TAG", "cxxflags"), {})
    assert module.answer() == 7
    assert "-DVALUE=7" in fake_cc.compiles()[-1].split()


def test_cpu_features_are_known():
    features = compiler.cpu_features()
    assert isinstance(features, str) and features.strip()


# ---------------------------------------------------------------- compiling

def test_python_extension_with_numpy(compiledir):
    module = cache.get_module(ext_source("numpy"), {})
    assert module.answer() == 42 and module.ndim(np.zeros((2, 3, 4))) == 3
    entry = os.path.dirname(module.__file__)
    key = os.path.basename(entry)
    assert os.path.dirname(entry) == str(compiledir) and len(key) == cache.KEY_LEN
    assert module.__name__ == cache.module_name(key)
    kept = open(os.path.join(entry, "source.c")).read()
    assert "ST_MODULE_NAME" not in kept and f"PyInit_{module.__name__}" in kept


def test_shared_library_through_cffi(compiledir):
    lib = cache.get_module("double st_twice(double x) { return 2.0 * x; }\n", {}, kind="shared-library",
                           cdef="double st_twice(double);")
    assert lib.lib.st_twice(1.25) == 2.5
    again = cache.get_module("double st_twice(double x) { return 2.0 * x; }\n", {}, kind="shared-library")
    again.ffi.cdef("double st_twice(double);")  # each call gets its own ffi to declare into
    assert again.lib.st_twice(4.0) == 8.0 and again.path == lib.path


def test_openmp_kernel_runs(compiledir):
    if "-fopenmp" not in compiler.find_compiler().flags:
        pytest.skip("this compiler has no OpenMP")
    src = ("#include <omp.h>\nint st_threads(void) { int n = 0;\n"
           "#pragma omp parallel\n{\n#pragma omp atomic\nn++;\n}\nreturn n; }\n")
    lib = cache.get_module(src, {}, kind="shared-library", cdef="int st_threads(void);")
    assert lib.lib.st_threads() >= 1


def test_compile_error_has_stderr_and_kept_source(compiledir):
    bad = "int st_bad(void) { return undeclared_thing; }\n"
    with pytest.raises(cache.CompileError, match="undeclared_thing") as info:
        cache.get_module(bad, {}, kind="shared-library")
    err = info.value
    assert "error" in err.stderr and "undeclared_thing" in err.stderr
    assert os.path.isfile(err.source_path) and open(err.source_path).read() == bad
    assert err.source_path in str(err)
    # nothing was published and no temporary build is left behind
    names = os.listdir(compiledir)
    assert not [n for n in names if len(n) == cache.KEY_LEN] and not [n for n in names if n.startswith("tmp-")]


def test_bad_arguments(compiledir):
    with pytest.raises(ValueError, match="kind must be one of"):
        cache.get_module("int x;", {}, kind="static")
    with pytest.raises(TypeError, match="source must be a str"):
        cache.get_module(b"int x;", {})
    with pytest.raises(TypeError, match="extra_flags must be a sequence"):
        cache.get_module("int x;", {}, extra_flags="-O0")
    with pytest.raises(ValueError, match="relative path"):
        cache.get_module("int x;", {"../evil.h": ""})
    with pytest.raises(FileNotFoundError, match="cannot read header"):
        cache.get_module("int x;", [str(compiledir.parent / "missing.h")])
