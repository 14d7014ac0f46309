"""One SGD training step of a 2-layer LSTM language model (symtensor scan vs torch nn.LSTM).

    e_t = E[w_t]                                   embedding by advanced indexing (vocab 10000 x 200)
    z = x_t W + h U + b;  i, f, g, o = sigmoid, sigmoid, tanh, sigmoid of the quarters of z (torch's order)
    c = f * c + i * g;  h = o * tanh(c)            two layers of 200 units over 20 steps (symtensor: scan)
    loss = mean of -log softmax(h V + d)[next word] over the 20 x 20 tokens;  SGD, lr 1

Batch 20, float32, synthetic tokens, the states start at zero every step. symtensor runs with the C
linker (the loop runs in C); torch runs the recurrence with nn.LSTM (weights copied in, its second
bias frozen at zero) and autograd. The step-0 losses must agree to 1e-4 relative.

Run: python benchmarks/lstm_step.py [--json out.json] [--quick] [--profile]
"""

import benchutil  # noqa: F401  (first: pins thread counts before NumPy loads)

import numpy as np

import symtensor as st
import symtensor.tensor as T

TARGET = "lstm"
TITLE = "2-layer LSTM LM SGD step (vocab 10000, 200 hidden, 20 steps, batch 20, float32)"
VOCAB, HIDDEN, LAYERS, STEPS, BATCH, LR, SCALE = 10000, 200, 2, 20, 20, 1.0, 0.1
PAIRS = [("symtensor c", "torch nn.LSTM")]
NAMES = ["E"] + [f"{p}{k}" for k in range(LAYERS) for p in ("W", "U", "b")] + ["V", "d"]


def initial_weights(seed=0):
    rng = np.random.default_rng(seed)

    def uniform(*shape):
        return rng.uniform(-SCALE, SCALE, shape).astype("float32")

    out = {"E": uniform(VOCAB, HIDDEN)}
    for k in range(LAYERS):
        out[f"W{k}"], out[f"U{k}"] = uniform(HIDDEN, 4 * HIDDEN), uniform(HIDDEN, 4 * HIDDEN)
        out[f"b{k}"] = np.zeros(4 * HIDDEN, "float32")
    out["V"], out["d"] = uniform(HIDDEN, VOCAB), np.zeros(VOCAB, "float32")
    return out


def batch(seed=1):
    """(steps, batch) int32 inputs and next-word targets, time-major."""
    words = np.random.default_rng(seed).integers(0, VOCAB, (STEPS + 1, BATCH)).astype("int32")
    return words[:-1].copy(), words[1:].copy()


def lstm_layer(inputs, W, U, b):
    """(steps, batch, hidden) outputs of one layer; the input projection is one product outside the loop."""
    proj = T.dot(inputs, W) + b

    def step(z_x, h, c, U):
        z = z_x + T.dot(h, U)
        i = T.nnet.sigmoid(z[:, :HIDDEN])
        f = T.nnet.sigmoid(z[:, HIDDEN:2 * HIDDEN])
        g = T.tanh(z[:, 2 * HIDDEN:3 * HIDDEN])
        o = T.nnet.sigmoid(z[:, 3 * HIDDEN:])
        c = f * c + i * g
        return o * T.tanh(c), c

    zero = T.zeros((inputs.shape[1], HIDDEN), dtype="float32")
    (hs, _cs), _ = st.scan(step, sequences=proj, outputs_info=[zero, zero], non_sequences=U, name=f"lstm")
    return hs


def build_symtensor(weights, linker="c", profile=False):
    params = {k: st.shared(weights[k].copy(), name=k) for k in NAMES}
    x, y = T.imatrix("x"), T.imatrix("y")
    h = params["E"][x]                                  # (steps, batch, hidden)
    for k in range(LAYERS):
        h = lstm_layer(h, params[f"W{k}"], params[f"U{k}"], params[f"b{k}"])
    logits = T.dot(h.reshape((-1, HIDDEN)), params["V"]) + params["d"]
    loss = T.nnet.categorical_crossentropy(T.nnet.softmax(logits), y.flatten()).mean()
    trained = [params[k] for k in NAMES]
    grads = st.grad(loss, trained)
    updates = [(w, w - np.float32(LR) * g) for w, g in zip(trained, grads)]
    return st.function([x, y], loss, updates=updates, mode=st.Mode(linker=linker), profile=profile or None)


def build_torch(torch, weights):
    lstm = torch.nn.LSTM(HIDDEN, HIDDEN, num_layers=LAYERS)
    with torch.no_grad():
        for k in range(LAYERS):
            getattr(lstm, f"weight_ih_l{k}").copy_(torch.from_numpy(weights[f"W{k}"].T.copy()))
            getattr(lstm, f"weight_hh_l{k}").copy_(torch.from_numpy(weights[f"U{k}"].T.copy()))
            getattr(lstm, f"bias_ih_l{k}").copy_(torch.from_numpy(weights[f"b{k}"]))
            getattr(lstm, f"bias_hh_l{k}").zero_()
            getattr(lstm, f"bias_hh_l{k}").requires_grad_(False)
    emb, out_w, out_b = (torch.tensor(weights[k], requires_grad=True) for k in ("E", "V", "d"))
    trained = [emb] + [p for p in lstm.parameters() if p.requires_grad] + [out_w, out_b]
    functional = torch.nn.functional

    def step(x, y):
        hs, _ = lstm(functional.embedding(x, emb))
        loss = functional.cross_entropy(hs.reshape(-1, HIDDEN) @ out_w + out_b, y.reshape(-1))
        grads = torch.autograd.grad(loss, trained)
        with torch.no_grad():
            for w, g in zip(trained, grads):
                w.sub_(LR * g)
        return loss.detach()

    return step


def numpy_loss(weights, xv, yv):
    """float64 reference loss of the initial weights."""
    w = {k: v.astype("float64") for k, v in weights.items()}
    sig = lambda a: 1 / (1 + np.exp(-a))  # noqa: E731
    h_in = w["E"][xv]
    for k in range(LAYERS):
        h = np.zeros((BATCH, HIDDEN))
        c = np.zeros((BATCH, HIDDEN))
        outs = []
        for t in range(STEPS):
            z = h_in[t] @ w[f"W{k}"] + w[f"b{k}"] + h @ w[f"U{k}"]
            i, f, g, o = (z[:, j * HIDDEN:(j + 1) * HIDDEN] for j in range(4))
            c = sig(f) * c + sig(i) * np.tanh(g)
            h = sig(o) * np.tanh(c)
            outs.append(h)
        h_in = np.stack(outs)
    logits = h_in.reshape(-1, HIDDEN) @ w["V"] + w["d"]
    logits -= logits.max(axis=1, keepdims=True)
    logp = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    return float(-logp[np.arange(logits.shape[0]), yv.reshape(-1)].mean())


def build_candidates(notes):
    weights = initial_weights()
    xv, yv = batch()
    reference = numpy_loss(weights, xv, yv)
    candidates, first_losses = {}, {}

    def add(name, step):
        loss0 = float(step())
        first_losses[name] = loss0
        rel = abs(loss0 - reference) / abs(reference)
        if rel > 1e-4:
            notes.append(f"{name}: step-0 loss {loss0!r} differs from the float64 reference {reference!r} "
                         f"(relative {rel:.2g} > 1e-4); not timed")
            return
        candidates[name] = step

    f = build_symtensor(weights)
    add("symtensor c", lambda: f(xv, yv))
    torch = benchutil.load_torch(notes)
    if torch is not None:
        step = build_torch(torch, weights)
        xt, yt = torch.from_numpy(xv.astype("int64")), torch.from_numpy(yv.astype("int64"))
        add("torch nn.LSTM", lambda: step(xt, yt))
    if len(first_losses) == 2:
        a, b = first_losses["symtensor c"], first_losses["torch nn.LSTM"]
        rel = abs(a - b) / abs(b)
        notes.append(f"step-0 loss symtensor c {a:.7f} vs torch {b:.7f} (relative {rel:.1g}; float64 reference "
                     f"{reference:.7f})")
        if rel > 1e-4:
            notes.append("step-0 losses differ by more than 1e-4 relative: the two steps do not compute the same "
                         "thing; nothing timed")
            candidates.clear()
    return candidates, first_losses, reference


def profile_symtensor(n_calls=20):
    """Where a symtensor step spends its time (per node, per op class)."""
    xv, yv = batch()
    f = build_symtensor(initial_weights(), profile=True)
    for _ in range(n_calls):
        f(xv, yv)
    print(f.profile.summary())


def main():
    args = benchutil.parse_args(__doc__, extra=lambda p: p.add_argument(
        "--profile", action="store_true", help="print symtensor's per-node profile instead of timing"))
    if args.profile:
        return profile_symtensor()
    notes = []
    candidates, first_losses, reference = build_candidates(notes)
    stats = benchutil.compare(candidates, rounds=5 if args.quick else 30, warmup=3, sample_time=0.2)
    extra = {"step0_loss": first_losses, "step0_loss_float64_reference": reference}
    return benchutil.report(TARGET, TITLE, stats, PAIRS, notes, args, extra)


if __name__ == "__main__":
    main()
