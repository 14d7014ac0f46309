"""Helpers for the C tests: a fake compiler that logs its calls (the session compile cache is in tests/conftest.py)."""

import pathlib
import shutil
import types

import pytest

import symtensor as st


def _real_cc():
    return shutil.which("gcc") or shutil.which("cc")


def write_fake_cc(directory, name="fakecc", reject=(), fail_version=False):
    """A shell-script compiler that logs every call and forwards to the real one.

    ``reject``: flags it refuses (exit 1), like a compiler without OpenMP; compiles of a
    ``source.c`` sleep ``$ST_TEST_CC_SLEEP`` seconds first (to make compiles overlap).
    """
    log = pathlib.Path(directory) / f"{name}.log"
    lines = ["#!/bin/sh", f'echo "$*" >> "{log}"']
    if fail_version:
        lines.append('case "$*" in *--version*) echo "broken" >&2; exit 1;; esac')
    for flag in reject:
        lines.append(f'case " $* " in *" {flag} "*) echo "unrecognized option {flag}" >&2; exit 1;; esac')
    lines.append('case "$*" in *source.c*) sleep "${ST_TEST_CC_SLEEP:-0}";; esac')
    lines.append(f'exec "{_real_cc()}" "$@"')
    script = pathlib.Path(directory) / name
    script.write_text("\n".join(lines) + "\n")
    script.chmod(0o755)

    def calls():
        return log.read_text().splitlines() if log.exists() else []

    return types.SimpleNamespace(path=str(script), log=log, calls=calls,
                                 compiles=lambda: [c for c in calls() if "source.c" in c])


@pytest.fixture
def fake_cc(tmp_path):
    """A logging compiler wrapper (see write_fake_cc); its path is unique to the test."""
    return write_fake_cc(tmp_path)


@pytest.fixture
def compiledir(tmp_path):
    """A fresh private compile cache for one test (a subdirectory the cache creates itself)."""
    path = tmp_path / "compiledir"
    with st.config.change_flags(compiledir=str(path)):
        yield path


@pytest.fixture
def make_fake_cc(tmp_path):
    """write_fake_cc bound to the test's tmp_path: ``make_fake_cc(name=..., reject=(...))``."""
    return lambda **kw: write_fake_cc(tmp_path, **kw)
