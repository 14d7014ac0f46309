"""config: SYMTENSOR_FLAGS / rc-file parsing (unknown flag or bad value is an error), change_flags."""

import importlib
import os
import subprocess
import sys

import pytest

import symtensor as st
import symtensor.tensor as T
from symtensor.config import Config, ConfigError, parse_flags

config_module = importlib.import_module("symtensor.config")  # st.config is the Config object
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_python(code, flags=None, rc=None):
    env = {k: v for k, v in os.environ.items() if k not in ("SYMTENSOR_FLAGS", "SYMTENSORRC")}
    env["PYTHONPATH"] = REPO + os.pathsep + env.get("PYTHONPATH", "")
    if flags is not None:
        env["SYMTENSOR_FLAGS"] = flags
    env["SYMTENSORRC"] = rc or os.path.join(REPO, "no-such-rc-file")
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)


def test_env_flags_apply_at_import():
    proc = run_python(
        "import symtensor as st, symtensor.tensor as T\n"
        "print(st.config.floatX, T.matrix().dtype, st.config.traceback.limit, st.config.optimizer)",
        flags="floatX=float32, traceback.limit=5,optimizer=None")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["float32", "float32", "5", "None"]


@pytest.mark.parametrize("flags, message", [
    ("floatX=float32,no_such_flag=1", "no flag 'no_such_flag' (from SYMTENSOR_FLAGS)"),
    ("floatX=float128", "bad value for config flag 'floatX' (from SYMTENSOR_FLAGS)"),
    ("floatX", "'floatX' is not of the form name=value"),
])
def test_bad_env_flags_fail_the_import(flags, message):
    proc = run_python("import symtensor", flags=flags)
    assert proc.returncode != 0
    assert message in proc.stderr
    assert "ConfigError" in proc.stderr


def test_rc_file_then_env_override(tmp_path):
    rc = tmp_path / "symtensorrc"
    rc.write_text("[global]\nfloatX = float32\non_unused_input = warn\n\n[traceback]\nlimit = 7\n")
    proc = run_python("import symtensor as st\nc = st.config\nprint(c.floatX, c.on_unused_input, c.traceback.limit)",
                      flags="on_unused_input=ignore", rc=str(rc))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["float32", "ignore", "7"]
    rc.write_text("[global]\nfloatx = float32\n")
    proc = run_python("import symtensor", rc=str(rc))
    assert proc.returncode != 0 and "no flag 'floatx'" in proc.stderr and str(rc) in proc.stderr


def test_parse_flags():
    assert parse_flags("a=1, b = x=y ,,") == {"a": "1", "b": "x=y"}
    assert parse_flags("") == {}
    with pytest.raises(ConfigError, match="not of the form name=value"):
        parse_flags("a=1,b")
    with pytest.raises(ConfigError, match="has no flag name"):
        parse_flags("=3")


def test_load_from_an_environment_mapping(tmp_path):
    cfg = Config()
    config_module._load(cfg, {"SYMTENSOR_FLAGS": "allow_gc=false,profile=1,exception_verbosity=high",
                              "SYMTENSORRC": str(tmp_path / "missing")})
    assert cfg.allow_gc is False and cfg.profile is True and cfg.exception_verbosity == "high"
    assert Config().allow_gc is True  # defaults are per instance, untouched


@pytest.mark.parametrize("name, value, pattern", [
    ("floatX", "float128", "expected one of"),
    ("allow_gc", "maybe", "expected a boolean"),
    ("traceback__limit", "many", "expected an integer"),
    ("traceback.limit", -1, "expected an integer >= 0"),
    ("compiledir", 3, "expected a string"),
])
def test_bad_values_raise(name, value, pattern):
    cfg = Config()
    before = cfg.flags()
    with pytest.raises(ConfigError, match=f"bad value for config flag '{name}': {pattern}"):
        setattr(cfg, name, value)
    assert cfg.flags() == before


def test_unknown_flag_on_get_and_set():
    cfg = Config()
    with pytest.raises(AttributeError, match="no flag 'floatx'"):
        cfg.floatx  # noqa: B018 - the attribute access is the test
    with pytest.raises(ConfigError, match="no flag 'floatx'"):
        cfg.floatx = "float32"
    assert issubclass(ConfigError, AttributeError) and issubclass(ConfigError, ValueError)
    assert not hasattr(cfg, "no_such_flag")


def test_dotted_sections_and_conversions():
    cfg = Config()
    cfg.traceback.limit = "4"
    assert cfg.traceback.limit == 4 and cfg.traceback__limit == 4
    cfg.optimizer = None
    assert cfg.optimizer == "None"
    cfg.allow_gc = "off"
    assert cfg.allow_gc is False
    assert "traceback.limit" in cfg.flags() and "floatX" in cfg.describe()


def test_change_flags_sets_and_restores():
    before = st.config.floatX
    with st.config.change_flags(floatX="float32", on_unused_input="ignore") as cfg:
        assert cfg is st.config
        assert T.matrix().dtype == "float32"
        x, y = T.vector(), T.vector()
        st.function([x, y], x * 2)  # unused input ignored
    assert st.config.floatX == before and st.config.on_unused_input == "raise"


def test_change_flags_restores_after_an_error_and_rejects_bad_flags():
    before = st.config.flags()
    with pytest.raises(RuntimeError):
        with st.config.change_flags(floatX="float32", allow_gc=False):
            raise RuntimeError("inside")
    assert st.config.flags() == before
    with pytest.raises(ConfigError, match="no flag 'flaotX' \\(from change_flags\\)"):
        with st.config.change_flags(allow_gc=False, flaotX="float32"):
            pass  # pragma: no cover - never entered
    assert st.config.flags() == before
