"""Compiling graphs into callables: function, In/Out, shared variables, modes."""

from symtensor.compile.function import (Function, FunctionMaker, MissingInputError, UnusedInputError,  # noqa: F401
                                        function, register_rewriter)
from symtensor.compile.io import In, Out  # noqa: F401
from symtensor.compile.mode import Mode, get_default_mode, get_mode, register_linker  # noqa: F401
from symtensor.compile.profiling import CallStats  # noqa: F401
from symtensor.compile.sharedvalue import SharedVariable, shared, shared_constructor  # noqa: F401
from symtensor.compile.ops import as_op  # noqa: F401
