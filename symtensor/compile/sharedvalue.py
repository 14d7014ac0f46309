"""Shared variables: symbolic variables with a value that persists across function calls.

``shared(value)`` asks each registered constructor in turn (the tensor layer
registers one for arrays and numbers) to wrap the value.
"""

import copy

import numpy as np

from symtensor.graph.basic import Variable


class Container:
    """Holds the value of a shared variable; functions read and update it."""

    def __init__(self, type, value, strict=False, allow_downcast=None, name=None):
        self.type = type
        self.strict = strict
        self.allow_downcast = allow_downcast
        self.name = name
        self.value = self.filter(value)

    def filter(self, value):
        try:
            return self.type.filter(value, strict=self.strict, allow_downcast=self.allow_downcast)
        except (TypeError, ValueError) as exc:
            text = str(exc).replace("pass allow_input_downcast=True",
                                    "create the shared variable with allow_downcast=True")
            raise TypeError(f"shared variable {self.name or '<unnamed>'} of type {self.type}: {text}") from None

    def __repr__(self):
        return f"<{self.value!r}>"


class SharedVariable(Variable):
    """A graph input whose value lives in ``self.container`` and may be updated by functions."""

    def __init__(self, name, type, value, strict, allow_downcast=None, container=None):
        super().__init__(type, None, None, name)
        if container is not None:
            self.container = container
        else:
            self.container = Container(type, value, strict=strict, allow_downcast=allow_downcast, name=name)
        #: expression a function uses to update this variable when no update is given
        self.default_update = None

    def get_value(self, borrow=False, return_internal_type=False):
        """The current value (a copy unless ``borrow=True``)."""
        value = self.container.value
        return value if borrow else copy.deepcopy(value)

    def set_value(self, new_value, borrow=False):
        """Replace the value (checked against the type; copied unless ``borrow=True``)."""
        value = self.container.filter(new_value)
        if not borrow and value is new_value:
            value = copy.deepcopy(value)
        self.container.value = value

    def zero(self, borrow=False):
        value = self.container.value
        self.set_value(np.zeros_like(value) if isinstance(value, np.ndarray) else value * 0, borrow=True)

    def clone(self):
        cp = self.__class__(self.name, self.type, None, self.container.strict,
                            self.container.allow_downcast, container=self.container)
        cp.tag = copy.copy(self.tag)
        return cp

    @property
    def value(self):
        raise AttributeError("use get_value() / set_value() to read or write a shared variable")

    def __str__(self):
        return self.name if self.name is not None else f"<{self.type}>"


_constructors = []


def shared_constructor(ctor):
    """Register ``ctor(value, name, strict, allow_downcast, **kwargs)``; the newest is tried first."""
    _constructors.append(ctor)
    return ctor


def shared(value, name=None, strict=False, allow_downcast=None, **kwargs):
    """Wrap ``value`` in a SharedVariable of the matching type.

    ``borrow=True`` keeps a reference to ``value`` instead of a copy.
    """
    borrow = kwargs.pop("borrow", False)
    if isinstance(value, Variable):
        raise TypeError(f"shared: the value must be a concrete value, not the symbolic variable {value}")
    if not borrow:
        value = copy.deepcopy(value)
    for ctor in reversed(_constructors):
        try:
            var = ctor(value, name=name, strict=strict, allow_downcast=allow_downcast, **kwargs)
        except TypeError:
            continue
        return var
    raise TypeError(f"shared: no shared variable type for a value of type {type(value).__name__} "
                    f"with options {sorted(kwargs)}")
