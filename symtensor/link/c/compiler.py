"""The C compiler driver: find a compiler, settle its flags once, compile a source into a .so.

The compiler is ``config.cxx`` if set, else ``$CC``, else ``gcc``/``cc`` on PATH; a
compiler that was asked for but cannot be run is "no compiler" (never a silent
switch to another one). Flags are ``-O3 -fPIC -shared``, plus ``-fopenmp`` and
``-march=native`` when a probe compile shows the compiler accepts them.
Nothing is linked against a system BLAS.
"""

import functools
import hashlib
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tempfile

import numpy as np

from symtensor.config import config

BASE_FLAGS = ("-O3", "-fPIC", "-shared")
_PROBE_TIMEOUT = 60


class CompilerUnavailable(RuntimeError):
    """No working C compiler: the C linker warns once and uses the Python linker."""


class CompileError(RuntimeError):
    """The compiler rejected a source; carries its stderr and the kept source path."""

    def __init__(self, message, stderr="", source_path=None, command=None):
        super().__init__(message)
        self.stderr = stderr
        self.source_path = source_path
        self.command = command


class Compiler:
    """One resolved compiler: its argv prefix, absolute path and ``--version`` text."""

    def __init__(self, argv, path, version):
        self.argv = tuple(argv)
        self.path = path
        self.version = version

    def __repr__(self):
        return f"Compiler({' '.join(self.argv)!r})"

    @functools.cached_property
    def flags(self):
        """The flags every compile uses (probed once per process and compiler)."""
        return _probe_flags(self.argv, self.version)


def _requested_command():
    """The compiler command asked for (config.cxx, then $CC), or None to search PATH."""
    if config.cxx.strip():
        return config.cxx.strip(), "config.cxx"
    if os.environ.get("CC", "").strip():
        return os.environ["CC"].strip(), "$CC"
    return None, None


@functools.lru_cache(maxsize=None)
def _resolve(command):
    """argv for ``command`` (a shell-like string) -> Compiler, or the reason it cannot be used."""
    argv = shlex.split(command)
    if not argv:
        return None, "empty compiler command"
    path = shutil.which(argv[0])
    if path is None:
        return None, f"compiler {argv[0]!r} not found"
    argv[0] = path
    try:
        proc = subprocess.run(argv + ["--version"], capture_output=True, text=True, timeout=_PROBE_TIMEOUT)
    except (OSError, subprocess.SubprocessError) as exc:
        return None, f"cannot run {path} --version: {exc}"
    if proc.returncode != 0:
        return None, f"{path} --version exited with status {proc.returncode}: {proc.stderr.strip()[:200]}"
    return Compiler(argv, os.path.realpath(path), (proc.stdout + proc.stderr).strip()), None


def find_compiler():
    """The Compiler to use; raises CompilerUnavailable saying why there is none."""
    command, source = _requested_command()
    if command is not None:
        compiler, why = _resolve(command)
        if compiler is None:
            raise CompilerUnavailable(f"{why} (from {source})")
        return compiler
    reasons = []
    for name in ("gcc", "cc"):
        if shutil.which(name):
            compiler, why = _resolve(name)
            if compiler is not None:
                return compiler
            reasons.append(why)
    raise CompilerUnavailable("no C compiler found on PATH (looked for gcc, cc; set config.cxx or $CC)"
                              + (": " + "; ".join(reasons) if reasons else ""))


def compiler_available():
    """True when a C compiler can be run (cheap after the first call)."""
    try:
        find_compiler()
    except CompilerUnavailable:
        return False
    return True


_PROBE_SOURCE = """
#ifdef _OPENMP
#include <omp.h>
#endif
int st_probe(void) {
    int n = 0;
#ifdef _OPENMP
    #pragma omp parallel for reduction(+:n)
    for (int i = 0; i < 4; i++) n += omp_get_num_threads() > 0;
#endif
    return n;
}
"""


def _accepts(argv, flags):
    """Whether the compiler builds a tiny shared object with ``flags``."""
    with tempfile.TemporaryDirectory(prefix="symtensor-probe-") as tmp:
        src = os.path.join(tmp, "probe.c")
        with open(src, "w") as f:
            f.write(_PROBE_SOURCE)
        cmd = list(argv) + list(flags) + ["-o", os.path.join(tmp, "probe.so"), "-x", "c", src]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=_PROBE_TIMEOUT)
        except (OSError, subprocess.SubprocessError):
            return False
        return proc.returncode == 0 and os.path.exists(os.path.join(tmp, "probe.so"))


def _platform_flags():
    if sys.platform == "darwin":
        return ("-undefined", "dynamic_lookup")
    return ()


@functools.lru_cache(maxsize=None)
def _probe_flags(argv, version):
    """BASE_FLAGS plus -fopenmp and -march=native where the compiler accepts them."""
    flags = list(BASE_FLAGS) + list(_platform_flags())
    for extra in (("-fopenmp",), ("-march=native",)):
        if _accepts(argv, flags + list(extra)):
            flags.extend(extra)
    return tuple(flags)


def settle_flags(compiler, store_dir=None):
    """``compiler.flags``, read from (or saved to) ``store_dir`` so later processes skip the probes."""
    if "flags" in compiler.__dict__ or store_dir is None:
        return compiler.flags
    try:
        st = os.stat(compiler.path)
        stamp = f"{st.st_mtime_ns} {st.st_size}"
    except OSError:
        stamp = ""
    digest = hashlib.sha256("\0".join(
        [*compiler.argv, compiler.version, stamp, cpu_features(), " ".join(BASE_FLAGS)]).encode()).hexdigest()
    path = os.path.join(store_dir, f"probe-{digest[:32]}.json")
    try:
        with open(path) as f:
            flags = json.load(f)["flags"]
        if isinstance(flags, list) and all(isinstance(x, str) for x in flags):
            compiler.__dict__["flags"] = tuple(flags)
            return compiler.flags
    except (OSError, ValueError, KeyError, TypeError):
        pass
    flags = compiler.flags
    try:
        fd, tmp = tempfile.mkstemp(dir=store_dir, prefix="tmp-probe-")
        with os.fdopen(fd, "w") as f:
            json.dump({"compiler": compiler.path, "flags": list(flags)}, f)
        os.replace(tmp, path)
    except OSError:
        pass
    return flags


def user_flags():
    """Extra flags from ``config.gcc.cxxflags``."""
    return tuple(shlex.split(config.gcc__cxxflags))


def python_include_dirs():
    """Include dirs for a CPython extension that uses the NumPy C API."""
    dirs = [sysconfig.get_paths()["include"], sysconfig.get_paths().get("platinclude"), np.get_include()]
    out = []
    for d in dirs:
        if d and d not in out:
            out.append(d)
    return out


@functools.lru_cache(maxsize=None)
def cpu_features():
    """A string naming this CPU's instruction set extensions (part of every cache key)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                name, _, value = line.partition(":")
                if name.strip() in ("flags", "Features"):
                    return " ".join(sorted(value.split()))
    except OSError:
        pass
    return f"{platform.machine()} {platform.processor()}"


def toolchain_fingerprint(compiler):
    """Everything about the toolchain that changes the produced binary, as a hash."""
    return _fingerprint(compiler, compiler.flags, user_flags())


@functools.lru_cache(maxsize=64)
def _fingerprint(compiler, flags, extra):
    parts = [
        compiler.path, " ".join(compiler.argv[1:]), compiler.version,
        " ".join(flags), " ".join(extra),
        cpu_features(),
        f"numpy {np.__version__} {np.get_include()}",
        f"python {sys.version} {sys.implementation.cache_tag} {sysconfig.get_config_var('EXT_SUFFIX')}",
        " ".join(python_include_dirs()),
    ]
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode("utf-8", "surrogateescape"))
        h.update(b"\0")
    return h.hexdigest()


def compile_shared(compiler, source_path, output_path, include_dirs=(), extra_flags=()):
    """Compile ``source_path`` into the shared object ``output_path``; CompileError on failure."""
    cmd = (list(compiler.argv) + list(compiler.flags) + list(user_flags()) + list(extra_flags)
           + [f"-I{d}" for d in include_dirs]
           + ["-o", output_path, "-x", "c", source_path, "-x", "none", "-lm"])
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True)
    except OSError as exc:
        raise CompilerUnavailable(f"cannot run {compiler.path}: {exc}") from exc
    if proc.returncode != 0 or not os.path.exists(output_path):
        stderr = (proc.stderr or "") + (proc.stdout or "")
        raise CompileError(
            f"C compilation failed (exit status {proc.returncode}); source kept at {source_path}\n"
            f"command: {shlex.join(cmd)}\n{stderr.strip()}",
            stderr=stderr, source_path=source_path, command=cmd)
    return cmd
