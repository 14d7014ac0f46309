"""Target 1: a fused chain of elementwise ops on 1e6 float32.

    out = tanh(exp(-x*x) * 2 + 1) * 0.5 - sqrt(|x| + 1)

symtensor (C linker; python linker for reference) against NumPy, torch eager,
torch.compile and PyTensor's default mode, all in one run.

Run: python benchmarks/elemwise_chain.py [--size 1000000] [--json out.json] [--quick]
"""

import benchutil  # noqa: F401  (first: pins thread counts before NumPy loads)

import numpy as np

import symtensor as st
import symtensor.tensor as T

TARGET = "elemwise"
TITLE = "fused chain of elementwise ops, float32 vector"


def numpy_chain(x):
    return np.tanh(np.exp(-x * x) * 2 + 1) * 0.5 - np.sqrt(np.abs(x) + 1)


def symbolic_chain(lib_math, x):
    """The chain written once over a symbolic module (symtensor.tensor or pytensor.tensor)."""
    return lib_math.tanh(lib_math.exp(-x * x) * 2 + 1) * 0.5 - lib_math.sqrt(abs(x) + 1)


def build_candidates(size, notes):
    rng = np.random.default_rng(0)
    xv = rng.standard_normal(size).astype("float32")
    expected = numpy_chain(xv)
    candidates = {}

    def add(name, fn, result=None):
        value = np.asarray(fn() if result is None else result)
        err = float(np.max(np.abs(value.astype("float64") - expected)))
        if value.shape != expected.shape or err > 1e-5:
            notes.append(f"{name}: result differs from NumPy (max abs error {err:.3g}); not timed")
            return
        candidates[name] = fn

    x = T.fvector("x")
    y = symbolic_chain(T, x)
    for linker in ("c", "py"):
        f = st.function([x], y, mode=st.Mode(linker=linker))
        add(f"symtensor {linker}", lambda f=f: f(xv))
    f_trust = st.function([x], y, mode=st.Mode(linker="c"), trust_input=True)
    add("symtensor c trust_input", lambda: f_trust(xv))
    add("numpy", lambda: numpy_chain(xv))

    torch = benchutil.load_torch(notes)
    if torch is not None:
        xt = torch.from_numpy(xv)

        def torch_chain(t):
            return torch.tanh(torch.exp(-t * t) * 2 + 1) * 0.5 - torch.sqrt(torch.abs(t) + 1)

        add("torch eager", lambda: torch_chain(xt), torch_chain(xt).numpy())
        try:
            compiled = torch.compile(torch_chain)
            first = compiled(xt).numpy()
            add("torch.compile", lambda: compiled(xt), first)
        except Exception as exc:  # noqa: BLE001 - any failure of inductor on this machine
            notes.append(f"torch.compile skipped: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}")

    pytensor = benchutil.load_pytensor(notes)
    if pytensor is not None:
        import pytensor.tensor as pt
        px = pt.fvector("x")
        pf = pytensor.function([px], symbolic_chain(pt, px))
        notes.append(f"pytensor default mode uses {benchutil.pytensor_default_linker(pytensor)}")
        add("pytensor default", lambda: pf(xv))
        try:
            pfc = pytensor.function([px], symbolic_chain(pt, px), mode=pytensor.compile.mode.Mode(linker="cvm"))
            add("pytensor c (cvm)", lambda: pfc(xv))
        except Exception as exc:  # noqa: BLE001
            notes.append(f"pytensor cvm skipped: {type(exc).__name__}: {exc}")
    return candidates


PAIRS = [("symtensor c", "numpy"), ("symtensor c", "torch eager"), ("symtensor c", "torch.compile"),
         ("symtensor c", "pytensor default"), ("symtensor c", "pytensor c (cvm)"), ("symtensor c", "symtensor py")]


def main():
    args = benchutil.parse_args(__doc__, lambda p: p.add_argument("--size", type=int, default=1_000_000))
    notes = []
    candidates = build_candidates(args.size, notes)
    rounds = 5 if args.quick else 40
    stats = benchutil.compare(candidates, rounds=rounds, warmup=3, sample_time=0.03)
    return benchutil.report(TARGET, f"{TITLE}, n={args.size}", stats, PAIRS, notes, args)


if __name__ == "__main__":
    main()
