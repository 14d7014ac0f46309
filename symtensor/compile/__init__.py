"""Compiling graphs into callables: function, In/Out, shared variables, modes."""

from symtensor.compile.function import Function, FunctionMaker, MissingInputError, UnusedInputError, function  # noqa: F401
from symtensor.compile.io import In, Out  # noqa: F401
from symtensor.compile.mode import Mode, get_mode  # noqa: F401
from symtensor.compile.sharedvalue import SharedVariable, shared, shared_constructor  # noqa: F401
