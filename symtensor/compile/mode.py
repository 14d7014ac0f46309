"""Mode: which rewrites run and which linker builds the callable.

Two registries are the seams to the later layers: the rewriting layer
registers a pipeline per optimizer name (``function.register_rewriter``) and
each backend registers a linker factory per linker name
(``register_linker``). A linker name that is known but whose backend is not
registered (yet) falls back to the python linker.
"""

from symtensor.config import config
from symtensor.link.python import PythonLinker

_LINKERS = {"py": PythonLinker}
#: names a backend may register later; until then they mean the python linker
_KNOWN_LINKERS = ("py", "c", "cvm", "c|py", "vm", "cuda")


def register_linker(name, factory):
    """``factory()`` returns a Linker (``make_function(fgraph, profile=None) -> run``)."""
    _LINKERS[name] = factory


def linker_for(mode):
    name = mode.linker
    if not isinstance(name, str):
        return name  # a Linker instance
    if name in _LINKERS:
        return _LINKERS[name]()
    if name in _KNOWN_LINKERS:
        return PythonLinker()
    raise ValueError(f"unknown linker {name!r}; registered linkers: {sorted(_LINKERS)}")


def _tags(text):
    return tuple(t for t in str(text or "").split(":") if t)


class Mode:
    """``Mode(linker=config.linker, optimizer=config.optimizer)``; ``including``/``excluding`` adjust rewrite tags."""

    def __init__(self, linker=None, optimizer="default", included=None, excluded=None):
        #: None: whatever config.linker says when a function is compiled (not when the Mode was made)
        self._linker = linker
        if optimizer == "default":
            optimizer = config.optimizer
        self.optimizer = None if optimizer in (None, "None", "none") else optimizer
        self.included = tuple(included) if included is not None else _tags(config.optimizer_including)
        self.excluded = tuple(excluded) if excluded is not None else _tags(config.optimizer_excluding)

    @property
    def linker(self):
        return self._linker if self._linker is not None else config.linker

    def including(self, *tags):
        return Mode(self._linker, self.optimizer, self.included + tags,
                    tuple(t for t in self.excluded if t not in tags))

    def excluding(self, *tags):
        return Mode(self._linker, self.optimizer, tuple(t for t in self.included if t not in tags),
                    self.excluded + tags)

    def requiring(self, *tags):
        return self.including(*tags)

    def clone(self, linker=None, optimizer="same"):
        return Mode(self._linker if linker is None else linker,
                    self.optimizer if optimizer == "same" else optimizer, self.included, self.excluded)

    def __eq__(self, other):
        return (isinstance(other, Mode) and (self.linker, self.optimizer, self.included, self.excluded)
                == (other.linker, other.optimizer, other.included, other.excluded))

    def __hash__(self):
        return hash((Mode, str(self.linker), self.optimizer, self.included, self.excluded))

    def __repr__(self):
        return (f"Mode(linker={self.linker!r}, optimizer={self.optimizer!r}, "
                f"included={self.included}, excluded={self.excluded})")


_PREDEFINED = {
    "Mode": lambda: Mode(None, "default"),            # config.linker and config.optimizer
    "FAST_RUN": lambda: Mode(None, "default"),
    "FAST_COMPILE": lambda: Mode("py", "fast_compile"),
    "DebugMode": lambda: Mode("py", "fast_run"),
    "DEBUG_MODE": lambda: Mode("py", "fast_run"),
    "PYTHON": lambda: Mode("py", "fast_run"),
}


def get_mode(mode):
    """A Mode from None (``config.mode``), a Mode, or one of the predefined names."""
    if mode is None:
        mode = config.mode
    if isinstance(mode, Mode):
        return mode
    if isinstance(mode, str) and mode in _PREDEFINED:
        return _PREDEFINED[mode]()
    raise ValueError(f"unknown mode {mode!r}; use a Mode instance or one of {sorted(_PREDEFINED)}")


def get_default_mode():
    """The Mode named by ``config.mode`` (Theano's ``compile.mode.get_default_mode``)."""
    return get_mode(None)
