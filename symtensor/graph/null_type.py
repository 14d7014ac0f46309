"""NullType: the type of a gradient that does not exist.

Ops return ``grad_undefined(...)`` for inputs they cannot differentiate;
``symtensor.gradient.grad`` raises a clear error only if such a gradient
actually reaches a requested ``wrt``.
"""

from symtensor.graph.basic import Variable
from symtensor.graph.op import Op
from symtensor.graph.type import Type


class NullType(Type):
    def __init__(self, why="undefined"):
        self.why = why

    def filter(self, data, strict=False, allow_downcast=None):
        raise ValueError(f"no value can have a NullType ({self.why})")

    def __eq__(self, other):
        return type(self) is type(other)

    def __hash__(self):
        return hash(type(self))

    def __str__(self):
        return "NullType"


class DisconnectedType(Type):
    """Type of the gradient of an output an input does not influence."""

    def filter(self, data, strict=False, allow_downcast=None):
        raise ValueError("no value can have a DisconnectedType")

    def __eq__(self, other):
        return type(self) is type(other)

    def __hash__(self):
        return hash(type(self))

    def __str__(self):
        return "DisconnectedType"


def grad_undefined(op, index, x, comment=""):
    """A NullType variable explaining why ``op`` has no gradient for input ``index``."""
    why = f"the gradient of {op} with respect to its input {index} is undefined"
    if comment:
        why += f": {comment}"
    var = NullType(why)()
    return var


def grad_not_implemented(op, index, x, comment=""):
    why = f"the gradient of {op} with respect to its input {index} is not implemented"
    if comment:
        why += f": {comment}"
    return NullType(why)()


def disconnected():
    return DisconnectedType()()


def is_null(var):
    return isinstance(getattr(var, "type", None), NullType)


def is_disconnected(var):
    return isinstance(getattr(var, "type", None), DisconnectedType)


__all__ = ["NullType", "DisconnectedType", "grad_undefined", "grad_not_implemented", "disconnected",
           "is_null", "is_disconnected", "Op", "Variable"]
