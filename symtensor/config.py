"""Configuration flags.

Values come, in increasing priority, from the defaults below, the file
``~/.symtensorrc`` (``[global]`` section, ``name = value`` lines) and the
environment variable ``SYMTENSOR_FLAGS="floatX=float32,optimizer=None"``.
A flag that does not exist is an error, never a silent no-op.
"""

import configparser
import os


def _choice(*allowed):
    def check(value):
        if value not in allowed:
            raise ValueError(f"expected one of {allowed}, got {value!r}")
        return value

    return check


def _bool(value):
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"expected a boolean, got {value!r}")


def _default_compiledir():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "symtensor")


# name -> (default, converter, help)
_FLAGS = {
    "floatX": ("float64", _choice("float64", "float32", "float16"),
               "dtype of T.matrix() & co. and of Python float constants"),
    "device": ("cpu", _choice("cpu", "cuda"), "where shared variables live"),
    "mode": ("FAST_RUN", _choice("FAST_RUN", "FAST_COMPILE", "DebugMode"), "default compile mode"),
    "linker": ("py", _choice("py", "c", "cvm", "c|py", "vm"), "default linker"),
    "optimizer": ("fast_run", _choice("fast_run", "fast_compile", "None", "none"),
                  "default rewrite pipeline"),
    "compiledir": (_default_compiledir(), str, "directory of the on-disk compile cache"),
    "on_unused_input": ("raise", _choice("raise", "warn", "ignore"),
                        "what function() does with an input that no output needs"),
    "compute_test_value": ("off", _choice("off", "ignore", "warn", "raise"), "unused; Theano compatibility"),
    "profile": (False, _bool, "profile every compiled function"),
    "traceback__limit": (3, int, "how many user frames a Variable remembers"),
    "exception_verbosity": ("low", _choice("low", "high"), "detail of runtime error reports"),
    "warn_float64": ("ignore", _choice("ignore", "warn", "raise"), "unused; Theano compatibility"),
}


class Config:
    """Attribute access to the flags; setting an unknown flag raises."""

    def __init__(self):
        object.__setattr__(self, "_values", {})
        for name, (default, _conv, _help) in _FLAGS.items():
            self._values[name] = default

    def __getattr__(self, name):
        values = object.__getattribute__(self, "_values")
        key = name.replace(".", "__")
        if key in values:
            return values[key]
        raise AttributeError(f"symtensor.config has no flag {name!r}; known flags: {sorted(values)}")

    def __setattr__(self, name, value):
        key = name.replace(".", "__")
        if key not in _FLAGS:
            raise AttributeError(f"symtensor.config has no flag {name!r}; known flags: {sorted(_FLAGS)}")
        try:
            self._values[key] = _FLAGS[key][1](value)
        except ValueError as exc:
            raise ValueError(f"bad value for config flag {name!r}: {exc}") from None

    def change_flags(self, **flags):
        """Context manager setting flags temporarily (``with config.change_flags(floatX='float32')``)."""
        return _ChangeFlags(self, flags)

    def flags(self):
        return dict(self._values)


class _ChangeFlags:
    def __init__(self, config, flags):
        self.config = config
        self.flags = flags
        self.saved = {}

    def __enter__(self):
        for name, value in self.flags.items():
            self.saved[name] = getattr(self.config, name)
            setattr(self.config, name, value)
        return self.config

    def __exit__(self, *exc):
        for name, value in self.saved.items():
            setattr(self.config, name, value)
        return False


def parse_flags(text):
    """``"a=1,b=2"`` -> ``{"a": "1", "b": "2"}``; raises on malformed items."""
    out = {}
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        if "=" not in item:
            raise ValueError(f"SYMTENSOR_FLAGS item {item!r} is not of the form name=value")
        name, value = item.split("=", 1)
        out[name.strip()] = value.strip()
    return out


def _load(config):
    rc = os.environ.get("SYMTENSORRC", os.path.join(os.path.expanduser("~"), ".symtensorrc"))
    if os.path.isfile(rc):
        parser = configparser.ConfigParser()
        parser.optionxform = str
        parser.read(rc)
        for section in parser.sections():
            for name, value in parser.items(section):
                key = name if section == "global" else f"{section}__{name}"
                setattr(config, key, value)
    for name, value in parse_flags(os.environ.get("SYMTENSOR_FLAGS", "")).items():
        setattr(config, name, value)


config = Config()
_load(config)
