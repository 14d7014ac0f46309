"""Mode: which rewrites run and which linker builds the callable."""

from symtensor.config import config


class Mode:
    """``Mode(linker='py', optimizer='fast_run')``; ``including``/``excluding`` adjust rewrite tags."""

    def __init__(self, linker=None, optimizer="default", included=(), excluded=()):
        self.linker = linker or "py"
        if optimizer == "default":
            optimizer = config.optimizer
        self.optimizer = None if optimizer in (None, "None", "none") else optimizer
        self.included = tuple(included)
        self.excluded = tuple(excluded)

    def including(self, *tags):
        return Mode(self.linker, self.optimizer, self.included + tags,
                    tuple(t for t in self.excluded if t not in tags))

    def excluding(self, *tags):
        return Mode(self.linker, self.optimizer, tuple(t for t in self.included if t not in tags),
                    self.excluded + tags)

    def requiring(self, *tags):
        return self.including(*tags)

    def __repr__(self):
        return (f"Mode(linker={self.linker!r}, optimizer={self.optimizer!r}, "
                f"included={self.included}, excluded={self.excluded})")


_PREDEFINED = {
    "FAST_RUN": lambda: Mode("py", "fast_run"),
    "FAST_COMPILE": lambda: Mode("py", "fast_compile"),
    "DebugMode": lambda: Mode("py", "fast_run"),
    "DEBUG_MODE": lambda: Mode("py", "fast_run"),
    "PYTHON": lambda: Mode("py", "fast_run"),
}


def get_mode(mode):
    if mode is None:
        mode = config.mode
    if isinstance(mode, Mode):
        return mode
    if isinstance(mode, str) and mode in _PREDEFINED:
        return _PREDEFINED[mode]()
    raise ValueError(f"unknown mode {mode!r}; use a Mode instance or one of {sorted(_PREDEFINED)}")
