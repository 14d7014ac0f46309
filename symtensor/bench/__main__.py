"""``python -m symtensor.bench``: the benchmark runner (same as the ``symtensor-bench`` command)."""

from symtensor.bench.runner import main

if __name__ == "__main__":
    main()
