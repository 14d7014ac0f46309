"""Configuration flags.

Values come, in increasing priority, from the defaults below, the file
``~/.symtensorrc`` (or ``$SYMTENSORRC``; ``[global]`` section, ``name = value``
lines, other sections give dotted names) and the environment variable
``SYMTENSOR_FLAGS="floatX=float32,optimizer=None,traceback.limit=5"``.
A flag that does not exist, or a value a flag does not accept, is an error
naming its source, never a silent no-op.
"""

import configparser
import contextlib
import os


class ConfigError(AttributeError, ValueError):
    """An unknown flag or a bad value (an AttributeError for ``config.x = ...``, a ValueError for parsing)."""


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
    raise ValueError(f"expected a boolean (true/false, 1/0, yes/no, on/off), got {value!r}")


def _int(minimum=None):
    def check(value):
        if isinstance(value, bool):
            raise ValueError(f"expected an integer, got {value!r}")
        try:
            number = int(str(value).strip()) if not isinstance(value, int) else value
        except ValueError:
            raise ValueError(f"expected an integer, got {value!r}") from None
        if minimum is not None and number < minimum:
            raise ValueError(f"expected an integer >= {minimum}, got {number}")
        return number

    return check


def _str(value):
    if not isinstance(value, str):
        raise ValueError(f"expected a string, got {type(value).__name__} {value!r}")
    return value


def _default_compiledir():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "symtensor")


# name -> (default, converter, help); dotted names are stored with "__" (traceback.limit -> traceback__limit)
_FLAGS = {
    "floatX": ("float64", _choice("float64", "float32", "float16"),
               "dtype of T.matrix() & co. and of Python float constants"),
    "device": ("cpu", _choice("cpu", "cuda"), "where shared variables live"),
    "mode": ("FAST_RUN", _choice("FAST_RUN", "FAST_COMPILE", "Mode", "DebugMode", "DEBUG_MODE", "PYTHON"),
             "default compile mode"),
    "linker": ("c", _choice("py", "c", "cvm", "c|py", "vm"),
               "default linker: 'c' compiles each function to native code (the Python linker when no C "
               "compiler works), 'py' runs every node's NumPy perform"),
    "optimizer": ("fast_run", lambda v: _choice("fast_run", "fast_compile", "None")("None" if v in (None, "none") else v),
                  "default rewrite pipeline"),
    "optimizer_including": ("", _str, "colon-separated rewrite tags added to every mode"),
    "optimizer_excluding": ("", _str, "colon-separated rewrite tags removed from every mode"),
    "optimizer_verbose": (False, _bool, "print each rewrite that fires"),
    "compiledir": (_default_compiledir(), _str, "directory of the on-disk compile cache"),
    "cxx": ("", _str, "C++ compiler command for the C backend ('' = look for one)"),
    "gcc__cxxflags": ("", _str, "extra flags for the C compiler"),
    "allow_gc": (True, _bool, "free intermediate results as soon as no later node needs them"),
    "on_unused_input": ("raise", _choice("raise", "warn", "ignore"),
                        "what function() does with an input that no output needs"),
    "compute_test_value": ("off", _choice("off", "ignore", "warn", "raise", "pdb"),
                           "run each op on its inputs' tag.test_value while the graph is built, so errors surface "
                           "at the line that builds the node; a missing test value is skipped ('ignore'), warned "
                           "about ('warn'), an error ('raise') or opens the debugger ('pdb')"),
    "profile": (False, _bool, "profile every compiled function"),
    "traceback__limit": (3, _int(0), "how many user frames a Variable remembers"),
    "exception_verbosity": ("low", _choice("low", "high"), "detail of runtime error reports"),
    "warn_float64": ("ignore", _choice("ignore", "warn", "raise"), "unused; Theano compatibility"),
}


def _key(name):
    return name.replace(".", "__")


class _Section:
    """``config.traceback.limit``: attribute access to the flags sharing a dotted prefix."""

    def __init__(self, config, prefix):
        object.__setattr__(self, "_config", config)
        object.__setattr__(self, "_prefix", prefix)

    def __getattr__(self, name):
        return getattr(self._config, f"{self._prefix}__{name}")

    def __setattr__(self, name, value):
        setattr(self._config, f"{self._prefix}__{name}", value)


class Config:
    """Attribute access to the flags; reading or setting an unknown flag raises."""

    def __init__(self):
        object.__setattr__(self, "_values", {name: default for name, (default, _c, _h) in _FLAGS.items()})

    def __getattr__(self, name):
        values = object.__getattribute__(self, "_values")
        key = _key(name)
        if key in values:
            return values[key]
        if any(k.startswith(key + "__") for k in values):
            return _Section(self, key)
        raise AttributeError(f"symtensor.config has no flag {name!r}; known flags: {self._known()}")

    def __setattr__(self, name, value):
        self._set(name, value, source=None)

    def _set(self, name, value, source):
        where = f" (from {source})" if source else ""
        key = _key(name)
        if key not in _FLAGS:
            raise ConfigError(f"symtensor.config has no flag {name!r}{where}; known flags: {self._known()}")
        try:
            self._values[key] = _FLAGS[key][1](value)
        except ValueError as exc:
            raise ConfigError(f"bad value for config flag {name!r}{where}: {exc}") from None

    @staticmethod
    def _known():
        return sorted(k.replace("__", ".") for k in _FLAGS)

    @contextlib.contextmanager
    def change_flags(self, **flags):
        """Set flags for the duration of a ``with`` block (restored even if the block raises)."""
        saved = {}
        try:
            for name, value in flags.items():
                key = _key(name)
                current = self._values.get(key)
                self._set(name, value, source="change_flags")
                saved[key] = current
            yield self
        finally:
            for key, value in saved.items():
                self._values[key] = value

    def flags(self):
        """{flag name: current value}."""
        return {k.replace("__", "."): v for k, v in self._values.items()}

    def describe(self):
        """One line per flag: name, value, help."""
        return "\n".join(f"{k.replace('__', '.')} = {self._values[k]!r}    # {h}" for k, (_d, _c, h) in _FLAGS.items())

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(_FLAGS))


def parse_flags(text, source="SYMTENSOR_FLAGS"):
    """``"a=1,b=2"`` -> ``{"a": "1", "b": "2"}``; a malformed item raises ConfigError."""
    out = {}
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        if "=" not in item:
            raise ConfigError(f"{source} item {item!r} is not of the form name=value")
        name, value = item.split("=", 1)
        name = name.strip()
        if not name:
            raise ConfigError(f"{source} item {item!r} has no flag name")
        out[name] = value.strip()
    return out


def _load(config, environ=None):
    environ = os.environ if environ is None else environ
    rc = environ.get("SYMTENSORRC", os.path.join(os.path.expanduser("~"), ".symtensorrc"))
    if os.path.isfile(rc):
        parser = configparser.ConfigParser()
        parser.optionxform = str
        parser.read(rc)
        for section in parser.sections():
            for name, value in parser.items(section):
                key = name if section == "global" else f"{section}__{name}"
                config._set(key, value, source=rc)
    for name, value in parse_flags(environ.get("SYMTENSOR_FLAGS", "")).items():
        config._set(name, value, source="SYMTENSOR_FLAGS")


config = Config()
_load(config)
