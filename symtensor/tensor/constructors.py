"""Variable constructors: ``scalar``..``tensor7`` with Theano's b/w/i/l/f/d/c/z dtype prefixes."""

from symtensor.config import config
from symtensor.tensor.type import TensorType

_PREFIXES = {"b": "int8", "w": "int16", "i": "int32", "l": "int64", "f": "float32", "d": "float64",
             "c": "complex64", "z": "complex128"}

_PATTERNS = {"scalar": (), "vector": (False,), "matrix": (False, False), "row": (True, False),
             "col": (False, True), "tensor3": (False,) * 3, "tensor4": (False,) * 4, "tensor5": (False,) * 5,
             "tensor6": (False,) * 6, "tensor7": (False,) * 7}

_PLURALS = {"scalar": "scalars", "vector": "vectors", "matrix": "matrices", "row": "rows", "col": "cols",
            "tensor3": "tensor3s", "tensor4": "tensor4s", "tensor5": "tensor5s", "tensor6": "tensor6s",
            "tensor7": "tensor7s"}


def tensor(dtype=None, broadcastable=None, name=None, shape=None):
    """A symbolic tensor of ``dtype`` (default floatX) with the given broadcastable pattern or shape."""
    dtype = dtype or config.floatX
    if broadcastable is None and shape is None:
        raise TypeError("tensor() needs a broadcastable pattern or a shape")
    return TensorType(dtype, broadcastable, shape=shape)(name)


def _make(kind, dtype):
    pattern = _PATTERNS[kind]

    def constructor(name=None, dtype=dtype):
        return TensorType(dtype or config.floatX, pattern)(name)

    def plural(*names, dtype=dtype):
        """As Theano's: ``dscalars(3)`` (unnamed), ``dscalars('x', 'y')``, ``dscalars('xyz')`` (one variable
        per character; a one-character string gives the variable itself); also ``dscalars('w1, w2')``."""
        if len(names) == 1 and isinstance(names[0], int):
            return [constructor(None, dtype) for _ in range(names[0])]
        if len(names) == 1 and isinstance(names[0], str):
            if "," in names[0]:
                return [constructor(n.strip(), dtype) for n in names[0].split(",")]
            if len(names[0]) == 1:
                return constructor(names[0], dtype)
            names = tuple(names[0])
        return [constructor(n, dtype) for n in names]

    constructor.__doc__ = f"A symbolic {kind} ({'floatX' if dtype is None else dtype}, broadcastable {pattern})."
    return constructor, plural


__all__ = ["tensor"]
for _kind in _PATTERNS:
    for _prefix, _dtype in [("", None)] + list(_PREFIXES.items()):
        _one, _many = _make(_kind, _dtype)
        # As in Theano, the dtype-prefixed names (dmatrix, ivector...) are TensorType instances, so
        # ``x.type == T.dmatrix`` holds and they can be Op itypes/otypes; calling one makes a variable.
        globals()[_prefix + _kind] = _one if _dtype is None else TensorType(_dtype, _PATTERNS[_kind])
        globals()[_prefix + _PLURALS[_kind]] = _many
        __all__ += [_prefix + _kind, _prefix + _PLURALS[_kind]]
