"""The on-disk compile cache: one compiled module per key, shared by processes and graphs.

``get_module(source, headers)`` returns a loaded module for a C source and
compiles it only when no valid entry exists. The key hashes everything that
changes the binary (source, headers, toolchain, flags, CPU, NumPy, Python,
symtensor and this driver), so equal sources from different graphs share one
entry and nothing needs a hand-bumped version.

Layout of ``config.compiledir`` (mode 0700, ours, else refused)::

    <key>/          one entry: source.c, include/, <module>.so, entry.json
    <key>.lock      per-key flock: one process compiles, the others wait and load
    tmp-*/          builds in progress, published with an atomic rename
    failed-<key>/   the kept source of the last failed compile of a key
    probe-*.json    the compiler flags settled by probing (skips the probes next time)
"""

import contextlib
import hashlib
import importlib.machinery
import importlib.util
import json
import os
import re
import shutil
import stat
import sys
import tempfile
import time
import warnings

import cffi

try:
    import fcntl
except ImportError:  # not POSIX: no cross-process lock; the atomic rename still keeps entries whole
    fcntl = None

import symtensor as _st
from symtensor.config import config
from symtensor.link.c import compiler as _compiler
from symtensor.link.c.compiler import CompileError, CompilerUnavailable, compiler_available  # noqa: F401

MODULE_NAME_TOKEN = "ST_MODULE_NAME"
KINDS = ("python-extension", "shared-library")
META = "entry.json"
KEY_LEN = 40
_KEY_RE = re.compile(r"^[0-9a-f]{%d}$" % KEY_LEN)

# Counters for tests and profiling: compiles done, entries loaded from disk, broken entries rebuilt,
# times this process found a key locked by another compile and waited.
stats = {"compiles": 0, "loads": 0, "rebuilds": 0, "lock_waits": 0}

_loaded = {}  # entry path -> loaded python-extension module, or .so path of a shared library


class UnsafeCacheDirError(RuntimeError):
    """The compile cache directory could be written by someone else: never load code from it."""


class SharedLibrary:
    """A shared library loaded with cffi: declare functions with ``ffi.cdef`` then call ``lib.f``."""

    def __init__(self, ffi, lib, path, key):
        self.ffi = ffi
        self.lib = lib
        self.path = path
        self.key = key

    def __repr__(self):
        return f"SharedLibrary({self.path!r})"


# ---------------------------------------------------------------- the directory

def compiledir(create=True):
    """The cache directory (created with mode 0700), after checking nobody else can write it."""
    path = os.path.abspath(os.path.expanduser(config.compiledir))
    if not os.path.isdir(path):
        if not create:
            return path
        try:
            os.makedirs(path, mode=0o700)
            os.chmod(path, 0o700)
        except FileExistsError:
            pass
    check_dir_safe(path)
    return path


def check_dir_safe(path):
    """Raise UnsafeCacheDirError unless ``path`` is a directory we own that only we can write."""
    try:
        st = os.stat(path)
    except OSError as exc:
        raise UnsafeCacheDirError(f"symtensor compile cache {path!r} cannot be used: {exc}") from exc
    if not stat.S_ISDIR(st.st_mode):
        raise UnsafeCacheDirError(f"symtensor compile cache {path!r} is not a directory")
    if hasattr(os, "getuid") and st.st_uid != os.getuid():
        raise UnsafeCacheDirError(
            f"refusing to use symtensor compile cache {path!r}: it is owned by uid {st.st_uid}, not by you "
            f"(uid {os.getuid()}); loading code from it would run whatever its owner put there. "
            f"Set config.compiledir to a directory of your own.")
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise UnsafeCacheDirError(
            f"refusing to use symtensor compile cache {path!r}: it is writable by group or others "
            f"(mode {stat.S_IMODE(st.st_mode):04o}), so anyone could plant code in it. "
            f"Run `chmod 700 {path}` or set config.compiledir to a private directory.")


# ---------------------------------------------------------------- the key

def _driver_digest():
    """A hash of this driver's own code, so a change to how we compile invalidates old entries."""
    h = hashlib.sha256()
    for mod in (_compiler, sys.modules[__name__]):
        with open(mod.__file__, "rb") as f:
            h.update(f.read())
    return h.hexdigest()


_DRIVER_DIGEST = []


def _read_headers(headers):
    """headers (dict name -> text, or paths) -> sorted [(name, bytes)]."""
    if headers is None:
        return []
    items = []
    if isinstance(headers, dict):
        for name, content in headers.items():
            if not isinstance(name, str) or os.path.isabs(name) or ".." in name.split("/") or not name:
                raise ValueError(f"get_module: header name {name!r} must be a relative path without '..'")
            items.append((name, content.encode() if isinstance(content, str) else bytes(content)))
    elif isinstance(headers, (str, bytes)):
        raise TypeError("get_module: headers must be a dict {name: text} or a list of paths, got a single string")
    else:
        for path in headers:
            path = os.fspath(path)
            try:
                with open(path, "rb") as f:
                    items.append((os.path.basename(path), f.read()))
            except OSError as exc:
                raise FileNotFoundError(f"get_module: cannot read header {path!r}: {exc}") from exc
    names = [n for n, _ in items]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise ValueError(f"get_module: several headers are named {sorted(dup)}")
    return sorted(items)


def module_key(source, header_items, extra_flags, kind, compiler):
    """The cache key: a hex digest of everything that changes the compiled module."""
    if not _DRIVER_DIGEST:
        _DRIVER_DIGEST.append(_driver_digest())
    h = hashlib.sha256()

    def feed(tag, data):
        data = data if isinstance(data, bytes) else data.encode("utf-8", "surrogateescape")
        h.update(f"{tag}:{len(data)}:".encode())
        h.update(data)

    feed("kind", kind)
    feed("source", source)
    for name, content in header_items:
        feed("header-name", name)
        feed("header", content)
    feed("extra-flags", "\0".join(extra_flags))
    feed("toolchain", _compiler.toolchain_fingerprint(compiler))
    feed("symtensor", f"{_st.__version__} {_DRIVER_DIGEST[0]}")
    return h.hexdigest()[:KEY_LEN]


def module_name(key):
    """The C identifier that replaces ST_MODULE_NAME (PyInit_<name>)."""
    return f"st_{key[:32]}"


# ---------------------------------------------------------------- locking, loading, building

@contextlib.contextmanager
def _key_lock(root, key):
    """Exclusive per-key lock (flock on ``<key>.lock``); released by the kernel if we die."""
    if fcntl is None:
        yield
        return
    fd = os.open(os.path.join(root, key + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            stats["lock_waits"] += 1
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _check_entry(entry, kind, name):
    """(meta, None) for an entry that looks intact, else (None, why it is broken)."""
    try:
        with open(os.path.join(entry, META)) as f:
            meta = json.load(f)
    except FileNotFoundError:
        return None, f"{META} is missing"
    except (OSError, ValueError) as exc:
        return None, f"{META} is unreadable ({exc})"
    if not isinstance(meta, dict) or meta.get("kind") != kind or meta.get("module") != name:
        return None, f"{META} describes another module"
    so = os.path.join(entry, str(meta.get("so", "")))
    try:
        st = os.stat(so)
    except OSError:
        return None, "the shared object is missing"
    if hasattr(os, "getuid") and st.st_uid != os.getuid():
        return None, "the shared object is owned by another user"
    if st.st_size != meta.get("size") or _sha256_file(so) != meta.get("sha256"):
        return None, "the shared object does not match its recorded size and checksum (truncated or corrupted)"
    return meta, None


def _dlopen(ffi, path):
    """dlopen resolving every symbol now, and never unloading: an OpenMP kernel's thread pool
    (libgomp, pulled in by the library) must outlive the cffi object, or exiting crashes."""
    return ffi.dlopen(path, ffi.RTLD_NOW | getattr(ffi, "RTLD_NODELETE", 0))


def _load(entry, meta, key, cdef=None):
    so = os.path.join(entry, meta["so"])
    if meta["kind"] == "shared-library":
        ffi = cffi.FFI()
        if cdef:
            ffi.cdef(cdef)
        return SharedLibrary(ffi, _dlopen(ffi, so), so, key)
    name = meta["module"]
    loader = importlib.machinery.ExtensionFileLoader(name, so)
    spec = importlib.util.spec_from_file_location(name, so, loader=loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def _try_load(entry, key, kind, name, cdef, repair):
    """Load an intact entry, or return None; with ``repair``, a broken entry is deleted with a warning."""
    if not os.path.isdir(entry):
        return None
    meta, why = _check_entry(entry, kind, name)
    if meta is not None:
        try:
            module = _load(entry, meta, key, cdef)
        except (ImportError, OSError) as exc:
            why = f"it fails to load: {exc}"
        else:
            stats["loads"] += 1
            return module
    if repair:
        warnings.warn(f"symtensor: compile cache entry {entry} is broken ({why}); deleting and rebuilding it",
                      RuntimeWarning, stacklevel=4)
        _remove(entry)
        stats["rebuilds"] += 1
    return None


def _remove(path):
    """Delete a directory so that it disappears at once (rename first, then remove)."""
    parent = os.path.dirname(path)
    try:
        dead = tempfile.mkdtemp(prefix="tmp-dead-", dir=parent)
        os.rename(path, os.path.join(dead, "x"))
        shutil.rmtree(dead, ignore_errors=True)
    except OSError:
        shutil.rmtree(path, ignore_errors=True)


def _build(root, entry, key, kind, name, source, header_items, extra_flags, compiler):
    """Compile into ``tmp-*`` inside the cache, then publish it as ``<key>`` with one rename."""
    tmp = tempfile.mkdtemp(prefix="tmp-", dir=root)
    try:
        include = os.path.join(tmp, "include")
        os.mkdir(include, 0o700)
        for hname, content in header_items:
            hpath = os.path.join(include, hname)
            os.makedirs(os.path.dirname(hpath), exist_ok=True)
            with open(hpath, "wb") as f:
                f.write(content)
        src = os.path.join(tmp, "source.c")
        with open(src, "w") as f:
            f.write(source.replace(MODULE_NAME_TOKEN, name))
        so_name = name + ".so"
        so = os.path.join(tmp, so_name)
        include_dirs = [include] + _compiler.python_include_dirs()
        try:
            cmd = _compiler.compile_shared(compiler, src, so, include_dirs, extra_flags)
        except CompileError as exc:
            raise _keep_failed(root, key, tmp, exc) from None
        stats["compiles"] += 1
        meta = {
            "key": key, "kind": kind, "module": name, "so": so_name,
            "size": os.path.getsize(so), "sha256": _sha256_file(so), "created": time.time(),
            "compiler": compiler.path, "command": [c.replace(tmp, "<entry>") for c in cmd],
            "python": sys.version.split()[0], "symtensor": _st.__version__,
        }
        with open(os.path.join(tmp, META), "w") as f:
            json.dump(meta, f, indent=1)
            f.flush()
            os.fsync(f.fileno())
        try:
            os.rename(tmp, entry)
        except OSError:
            # published meanwhile by a process that did not see our lock (e.g. flock-less NFS)
            published, _why = _check_entry(entry, kind, name)
            if published is None:
                raise
            return published
        tmp = None
        return meta
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


def _keep_failed(root, key, tmp, exc):
    """Move a failed build to ``failed-<key>`` and return the CompileError naming the kept source."""
    kept = os.path.join(root, f"failed-{key}")
    if os.path.exists(kept):
        _remove(kept)
    try:
        os.rename(tmp, kept)
    except OSError:
        return exc
    src = os.path.join(kept, "source.c")
    message = str(exc).replace(tmp, kept)
    return CompileError(message, stderr=exc.stderr.replace(tmp, kept), source_path=src, command=exc.command)


def get_module(source, headers=(), extra_flags=(), kind="python-extension", cdef=None):
    """A loaded module for the C ``source``, compiled only when the cache has no valid entry.

    ``headers``: every header the source includes, as {name: text} or a list of paths (their
    contents are part of the key). Every ``ST_MODULE_NAME`` in the source is replaced by a name
    derived from the key, so a python extension defines ``PyInit_ST_MODULE_NAME``.
    kind "python-extension" returns the imported module; "shared-library" returns a
    SharedLibrary whose ``ffi`` takes declarations (``cdef``, or later ``ffi.cdef``).
    Raises CompilerUnavailable (no compiler), CompileError, UnsafeCacheDirError.
    """
    if kind not in KINDS:
        raise ValueError(f"get_module: kind must be one of {KINDS}, got {kind!r}")
    if not isinstance(source, str):
        raise TypeError(f"get_module: source must be a str, got {type(source).__name__}")
    if isinstance(extra_flags, str):
        raise TypeError("get_module: extra_flags must be a sequence of flags, not one string")
    extra_flags = tuple(str(f) for f in extra_flags)
    compiler = _compiler.find_compiler()
    root = compiledir()
    _compiler.settle_flags(compiler, root)
    header_items = _read_headers(headers)
    key = module_key(source, header_items, extra_flags, kind, compiler)
    name = module_name(key)
    entry = os.path.join(root, key)

    known = _loaded.get(entry)
    if known is not None:
        if kind == "python-extension":
            return known
        ffi = cffi.FFI()
        if cdef:
            ffi.cdef(cdef)
        return SharedLibrary(ffi, _dlopen(ffi, known), known, key)

    module = _try_load(entry, key, kind, name, cdef, repair=False)
    if module is None:
        with _key_lock(root, key):
            module = _try_load(entry, key, kind, name, cdef, repair=True)
            if module is None:
                meta = _build(root, entry, key, kind, name, source, header_items, extra_flags, compiler)
                try:
                    module = _load(entry, meta, key, cdef)
                except (ImportError, OSError) as exc:
                    raise CompileError(f"the module compiled from {os.path.join(entry, 'source.c')} "
                                       f"does not load: {exc}", source_path=os.path.join(entry, "source.c")) from exc
    _loaded[entry] = module.path if kind == "shared-library" else module
    return module


# ---------------------------------------------------------------- maintenance (python -m symtensor.cache)

def _tree_size(path):
    if not os.path.isdir(path) or os.path.islink(path):
        return os.lstat(path).st_size
    total = 0
    for dirpath, _dirs, files in os.walk(path):
        for fname in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(dirpath, fname)).st_size
    return total


def _ours(name):
    """Whether a name inside the cache directory is something this module created."""
    return (bool(_KEY_RE.match(name)) or name.startswith(("tmp-", "failed-", "probe-"))
            or (name.endswith(".lock") and bool(_KEY_RE.match(name[:-5]))))


def list_entries(root=None):
    """[{key, kind, size, created, age, path}] for the published entries, oldest first."""
    root = compiledir(create=False) if root is None else root
    if not os.path.isdir(root):
        return []
    out = []
    now = time.time()
    for name in os.listdir(root):
        path = os.path.join(root, name)
        if not _KEY_RE.match(name) or not os.path.isdir(path):
            continue
        try:
            with open(os.path.join(path, META)) as f:
                meta = json.load(f)
        except (OSError, ValueError):
            meta = {}
        created = meta.get("created") if isinstance(meta, dict) else None
        if not isinstance(created, (int, float)):
            created = os.stat(path).st_mtime
        out.append({"key": name, "kind": meta.get("kind", "?") if isinstance(meta, dict) else "?",
                    "size": _tree_size(path), "created": created, "age": max(0.0, now - created), "path": path})
    return sorted(out, key=lambda e: e["created"])


def total_size(root=None):
    """Bytes used by everything this cache created in ``root``."""
    root = compiledir(create=False) if root is None else root
    if not os.path.isdir(root):
        return 0
    return sum(_tree_size(os.path.join(root, n)) for n in os.listdir(root) if _ours(n))


def clear(root=None):
    """Remove every entry (and locks, temporary and failed builds); keep the directory. -> (entries, bytes)."""
    root = compiledir(create=False) if root is None else root
    if not os.path.isdir(root):
        return 0, 0
    n_entries, freed = 0, 0
    for name in os.listdir(root):
        if not _ours(name):
            continue
        path = os.path.join(root, name)
        with contextlib.suppress(OSError):
            freed += _tree_size(path)
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path)
                n_entries += bool(_KEY_RE.match(name))
            else:
                os.unlink(path)
    for path in list(_loaded):
        if os.path.dirname(path) == root:
            del _loaded[path]
    return n_entries, freed


def forget_loaded():
    """Drop the in-process memo of loaded modules (tests use it to exercise the disk path)."""
    _loaded.clear()
