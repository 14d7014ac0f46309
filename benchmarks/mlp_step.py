"""Target 4: one SGD training step of an MLP 784-500-10.

    h = tanh(x W1 + b1);  p = softmax(h W2 + b2);  loss = mean(-log p[y])
    W <- W - lr * dloss/dW  for W1, b1, W2, b2 (shared weights, updated in place)

Batch 128, float32. symtensor (C linker; python linker for reference)
against torch eager (same math, same initial weights, plain SGD written out)
and PyTensor's default mode. The step-0 losses must agree to 1e-4 relative.
The build_* functions are shared with compile_time.py.

Run: python benchmarks/mlp_step.py [--json out.json] [--quick]
"""

import benchutil  # noqa: F401  (first: pins thread counts before NumPy loads)

import numpy as np

import symtensor as st
import symtensor.tensor as T

TARGET = "mlp"
TITLE = "MLP 784-500-10 SGD training step, batch 128, float32"
N_IN, N_HID, N_OUT, BATCH, LR = 784, 500, 10, 128, 0.1
PAIRS = [("symtensor c", "torch eager"), ("symtensor c", "pytensor default"), ("symtensor c", "pytensor c (cvm)"),
         ("symtensor c", "symtensor py")]


def initial_weights(seed=0):
    """Glorot-uniform weights and zero biases, float32, identical for every framework."""
    rng = np.random.default_rng(seed)

    def glorot(n_in, n_out):
        bound = np.sqrt(6.0 / (n_in + n_out))
        return rng.uniform(-bound, bound, (n_in, n_out)).astype("float32")

    return {"W1": glorot(N_IN, N_HID), "b1": np.zeros(N_HID, "float32"),
            "W2": glorot(N_HID, N_OUT), "b2": np.zeros(N_OUT, "float32")}


def batch(seed=1):
    rng = np.random.default_rng(seed)
    return rng.random((BATCH, N_IN), dtype=np.float32), rng.integers(0, N_OUT, BATCH).astype("int32")


def build_symtensor(weights, linker="c"):
    """``train(x, y) -> loss`` with SGD updates on symtensor shared variables."""
    params = [st.shared(weights[k].copy(), name=k) for k in ("W1", "b1", "W2", "b2")]
    w1, b1, w2, b2 = params
    x, y = T.fmatrix("x"), T.ivector("y")
    h = T.tanh(T.dot(x, w1) + b1)
    p = T.nnet.softmax(T.dot(h, w2) + b2)
    loss = T.nnet.categorical_crossentropy(p, y).mean()
    grads = st.grad(loss, params)
    updates = [(w, w - np.float32(LR) * g) for w, g in zip(params, grads)]
    return st.function([x, y], loss, updates=updates, mode=st.Mode(linker=linker))


def build_pytensor(pytensor, weights, mode=None):
    """The same step in PyTensor (no categorical_crossentropy there: log_softmax and indexing)."""
    import pytensor.tensor as pt
    params = [pytensor.shared(weights[k].copy(), name=k) for k in ("W1", "b1", "W2", "b2")]
    w1, b1, w2, b2 = params
    x, y = pt.fmatrix("x"), pt.ivector("y")
    h = pt.tanh(pt.dot(x, w1) + b1)
    logp = pt.special.log_softmax(pt.dot(h, w2) + b2, axis=-1)
    loss = -logp[pt.arange(y.shape[0]), y].mean()
    grads = pytensor.grad(loss, params)
    updates = [(w, w - np.float32(LR) * g) for w, g in zip(params, grads)]
    return pytensor.function([x, y], loss, updates=updates, mode=mode)


def build_torch(torch, weights):
    """``step(x, y) -> loss`` in torch eager; plain SGD with autograd.grad (no optimizer object)."""
    params = [torch.tensor(weights[k], requires_grad=True) for k in ("W1", "b1", "W2", "b2")]
    w1, b1, w2, b2 = params
    functional = torch.nn.functional

    def step(x, y):
        h = torch.tanh(x @ w1 + b1)
        loss = functional.cross_entropy(h @ w2 + b2, y)
        grads = torch.autograd.grad(loss, params)
        with torch.no_grad():
            for w, g in zip(params, grads):
                w.sub_(LR * g)
        return loss.detach()

    return step


def numpy_loss(weights, xv, yv):
    """float64 reference loss of the initial weights."""
    w = {k: v.astype("float64") for k, v in weights.items()}
    logits = np.tanh(xv @ w["W1"] + w["b1"]) @ w["W2"] + w["b2"]
    logits -= logits.max(axis=1, keepdims=True)
    logp = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    return float(-logp[np.arange(len(yv)), yv].mean())


def build_candidates(notes):
    weights = initial_weights()
    xv, yv = batch()
    reference = numpy_loss(weights, xv, yv)
    candidates, first_losses = {}, {}

    def add(name, step):
        loss0 = float(step())  # step 0: loss of the initial weights
        first_losses[name] = loss0
        rel = abs(loss0 - reference) / abs(reference)
        if rel > 1e-4:
            notes.append(f"{name}: step-0 loss {loss0!r} differs from the float64 reference {reference!r} "
                         f"(relative {rel:.2g} > 1e-4); not timed")
            return
        candidates[name] = step

    for linker in ("c", "py"):
        f = build_symtensor(weights, linker)
        add(f"symtensor {linker}", lambda f=f: f(xv, yv))
    torch = benchutil.load_torch(notes)
    if torch is not None:
        xt, yt = torch.from_numpy(xv), torch.from_numpy(yv.astype("int64"))
        step = build_torch(torch, weights)
        add("torch eager", lambda: step(xt, yt))
    pytensor = benchutil.load_pytensor(notes)
    if pytensor is not None:
        pf = build_pytensor(pytensor, weights)
        add("pytensor default", lambda: pf(xv, yv))
        notes.append(f"pytensor default mode uses {benchutil.pytensor_default_linker(pytensor)}")
        try:
            pfc = build_pytensor(pytensor, weights, mode=pytensor.compile.mode.Mode(linker="cvm"))
            add("pytensor c (cvm)", lambda: pfc(xv, yv))
        except Exception as exc:  # noqa: BLE001
            notes.append(f"pytensor cvm skipped: {type(exc).__name__}: {exc}")
    if "symtensor c" in first_losses and "torch eager" in first_losses:
        a, b = first_losses["symtensor c"], first_losses["torch eager"]
        rel = abs(a - b) / abs(b)
        status = "OK" if rel <= 1e-4 else "MISMATCH"
        notes.append(f"step-0 loss symtensor c {a:.7f} vs torch {b:.7f}: relative {rel:.2g} ({status}, tol 1e-4)")
    return candidates, first_losses, reference


def main():
    args = benchutil.parse_args(__doc__)
    notes = []
    candidates, first_losses, reference = build_candidates(notes)
    stats = benchutil.compare(candidates, rounds=5 if args.quick else 30, warmup=3, sample_time=0.05)
    extra = {"step0_loss": first_losses, "step0_loss_float64_reference": reference}
    return benchutil.report(TARGET, TITLE, stats, PAIRS, notes, args, extra)


if __name__ == "__main__":
    main()
