"""Target 2: dot of two 1024x1024 float32 matrices.

symtensor's C linker (BLAS sgemm through SciPy's function pointers) against
numpy.dot (NumPy's own BLAS), with torch.mm and symtensor's python linker
for reference, all in one run.

Run: python benchmarks/dot.py [--n 1024] [--json out.json] [--quick]
"""

import benchutil  # noqa: F401  (first: pins thread counts before NumPy loads)

import numpy as np

import symtensor as st
import symtensor.tensor as T

TARGET = "dot"
TITLE = "dot, float32 square matrices"
PAIRS = [("symtensor c", "numpy.dot"), ("symtensor c", "torch.mm"), ("symtensor c", "symtensor py")]


def build_candidates(n, notes):
    rng = np.random.default_rng(0)
    av = rng.standard_normal((n, n)).astype("float32")
    bv = rng.standard_normal((n, n)).astype("float32")
    expected = av.astype("float64") @ bv.astype("float64")
    candidates = {}

    def add(name, fn):
        value = np.asarray(fn())
        err = float(np.max(np.abs(value - expected)) / np.max(np.abs(expected)))
        if value.shape != expected.shape or value.dtype != np.float32 or err > 1e-4:
            notes.append(f"{name}: wrong result (dtype {value.dtype}, relative error {err:.3g}); not timed")
            return
        candidates[name] = fn

    a, b = T.fmatrix("a"), T.fmatrix("b")
    for linker in ("c", "py"):
        f = st.function([a, b], T.dot(a, b), mode=st.Mode(linker=linker))
        add(f"symtensor {linker}", lambda f=f: f(av, bv))
    add("numpy.dot", lambda: np.dot(av, bv))
    torch = benchutil.load_torch(notes)
    if torch is not None:
        at, bt = torch.from_numpy(av), torch.from_numpy(bv)
        add("torch.mm", lambda: torch.mm(at, bt))
    return candidates


def main():
    args = benchutil.parse_args(__doc__, lambda p: p.add_argument("--n", type=int, default=1024))
    notes = []
    candidates = build_candidates(args.n, notes)
    stats = benchutil.compare(candidates, rounds=5 if args.quick else 30, warmup=2, sample_time=0.05)
    return benchutil.report(TARGET, f"{TITLE}, {args.n}x{args.n}", stats, PAIRS, notes, args)


if __name__ == "__main__":
    main()
