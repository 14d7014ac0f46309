"""Target 3: per-call overhead of a compiled 3-op scalar function.

    out = exp(x * y) + x        (x, y: float64 scalars)

The work is negligible, so the time per call is the cost of crossing the
function boundary: argument binding and type checking, the linker's driver
and returning the result. Measured: symtensor C with input checking (Python
floats in), with trust_input=True (0-d float64 arrays in), the python linker,
PyTensor (default mode, with and without trust_input) and torch eager on 0-d
tensors.

Run: python benchmarks/call_overhead.py [--json out.json] [--quick]
"""

import benchutil  # noqa: F401  (first: pins thread counts before NumPy loads)

import math

import numpy as np

import symtensor as st
import symtensor.tensor as T

TARGET = "overhead"
TITLE = "per-call overhead, 3-op dscalar function exp(x*y)+x"
PAIRS = [("symtensor c checked", "pytensor checked"), ("symtensor c trust_input", "pytensor trust_input"),
         ("symtensor c trust_input", "torch eager 0-d"), ("symtensor c checked", "torch eager 0-d"),
         ("symtensor c checked", "symtensor py checked")]
XV, YV = 0.5, 1.25


def build_candidates(notes):
    expected = math.exp(XV * YV) + XV
    xa, ya = np.asarray(XV), np.asarray(YV)
    candidates = {}

    def add(name, fn):
        value = float(fn())
        if abs(value - expected) > 1e-12 * abs(expected):
            notes.append(f"{name}: wrong result {value!r} (expected {expected!r}); not timed")
            return
        candidates[name] = fn

    x, y = T.dscalar("x"), T.dscalar("y")
    out = T.exp(x * y) + x
    for linker in ("c", "py"):
        f = st.function([x, y], out, mode=st.Mode(linker=linker))
        add(f"symtensor {linker} checked", lambda f=f: f(XV, YV))
        ft = st.function([x, y], out, mode=st.Mode(linker=linker), trust_input=True)
        add(f"symtensor {linker} trust_input", lambda ft=ft: ft(xa, ya))

    pytensor = benchutil.load_pytensor(notes)
    if pytensor is not None:
        import pytensor.tensor as pt
        px, py_ = pt.dscalar("x"), pt.dscalar("y")
        pout = pt.exp(px * py_) + px
        pf = pytensor.function([px, py_], pout)
        add("pytensor checked", lambda: pf(XV, YV))
        pft = pytensor.function([px, py_], pout)
        pft.trust_input = True
        add("pytensor trust_input", lambda: pft(xa, ya))
        notes.append(f"pytensor default mode uses {benchutil.pytensor_default_linker(pytensor)}")

    torch = benchutil.load_torch(notes)
    if torch is not None:
        xt, yt = torch.tensor(XV, dtype=torch.float64), torch.tensor(YV, dtype=torch.float64)
        add("torch eager 0-d", lambda: torch.exp(xt * yt) + xt)
    return candidates


def main():
    args = benchutil.parse_args(__doc__)
    notes = []
    candidates = build_candidates(notes)
    stats = benchutil.compare(candidates, rounds=7 if args.quick else 50, warmup=200, sample_time=0.02)
    return benchutil.report(TARGET, TITLE, stats, PAIRS, notes, args)


if __name__ == "__main__":
    main()
