"""In and Out: how a function's inputs and outputs are declared."""

from symtensor.graph.basic import Variable


class In:
    """A function input with options.

    name: keyword name (defaults to the variable's name); value: default used
    when the call omits it; mutable: the function may overwrite the array passed;
    strict: the value must already have the exact type; allow_downcast: accept a
    lossy conversion; borrow: the function may keep a reference to the value.
    """

    def __init__(self, variable, name=None, value=None, update=None, mutable=None, strict=False,
                 allow_downcast=None, autoname=True, implicit=None, borrow=None, shared=False):
        if not isinstance(variable, Variable):
            raise TypeError(f"In: expected a symbolic variable, got {type(variable).__name__} {variable!r}")
        self.variable = variable
        self.name = name if name is not None else (variable.name if autoname else None)
        self.value = value
        self.update = update
        self.mutable = bool(mutable)
        self.strict = strict
        self.allow_downcast = allow_downcast
        self.implicit = bool(implicit)
        self.borrow = bool(borrow) or self.mutable
        self.shared = shared

    @property
    def has_default(self):
        return self.value is not None

    def __repr__(self):
        return f"In({self.variable})"


class Out:
    """A function output; ``borrow=True`` lets the call return internal storage without a copy."""

    def __init__(self, variable, borrow=False):
        if not isinstance(variable, Variable):
            raise TypeError(f"Out: expected a symbolic variable, got {type(variable).__name__} {variable!r}")
        self.variable = variable
        self.borrow = borrow

    def __repr__(self):
        return f"Out({self.variable}, borrow={self.borrow})"
