"""The C backend: code generation (codegen), the compiler driver (compiler) and the compile cache (cache)."""

from symtensor.link.c.cache import (  # noqa: F401
    CompileError,
    CompilerUnavailable,
    SharedLibrary,
    UnsafeCacheDirError,
    compiler_available,
    get_module,
)
