"""Convnet SGD training steps: conv2d + pooling forward and backward, symtensor C vs torch eager.

    lenet    batch 128 of 1x28x28: conv 20@5x5 -> maxpool 2 -> tanh(+b) -> conv 50@5x5 -> maxpool 2 -> tanh(+b)
             -> dense 800-500 tanh -> dense 500-10 -> softmax cross-entropy
    alexnet  batch 32 of 3x64x64 (a reduced AlexNet): conv 64@11x11 stride 4 pad 2 -> relu -> maxpool 3 stride 2
             -> conv 192@5x5 pad 2 -> relu -> maxpool 3/2 -> conv 384@3x3 pad 1 -> relu -> conv 256@3x3 pad 1
             -> relu -> conv 256@3x3 pad 1 -> relu -> maxpool 3/2 -> dense 256-512 relu -> dense 512-10
             -> softmax cross-entropy

float32, plain SGD on every parameter (shared variables updated in place for
symtensor). symtensor uses Theano's conv2d (filter_flip=True, a true
convolution); torch gets the flipped filters, so both compute the same
function from the same initial weights, and the step-0 losses must agree to
1e-4 relative before anything is timed.

Run: python benchmarks/conv_step.py [--model lenet|alexnet|all] [--batch N] [--json out.json] [--quick]
(--batch overrides the batch size of every model, e.g. 64 for symtensor.bench's "small" LeNet.)
"""

import benchutil  # noqa: F401  (first: pins thread counts before NumPy loads)

import numpy as np

import symtensor as st
import symtensor.tensor as T
from symtensor.tensor.signal.pool import pool_2d

TARGET = "conv"
TITLE = "convnet SGD training steps (conv2d + pool forward and backward), float32"
LR = 0.01

# layer tables: ("conv", out_channels, kernel, stride, pad, pool (window, stride) or None, activation)
#               ("dense", out_features, activation)
MODELS = {
    "lenet": {"batch": 128, "input": (1, 28, 28), "classes": 10,
              "layers": [("conv", 20, 5, 1, 0, (2, 2), "tanh"), ("conv", 50, 5, 1, 0, (2, 2), "tanh"),
                         ("dense", 500, "tanh"), ("dense", 10, None)]},
    "alexnet": {"batch": 32, "input": (3, 64, 64), "classes": 10,
                "layers": [("conv", 64, 11, 4, 2, (3, 2), "relu"), ("conv", 192, 5, 1, 2, (3, 2), "relu"),
                           ("conv", 384, 3, 1, 1, None, "relu"), ("conv", 256, 3, 1, 1, None, "relu"),
                           ("conv", 256, 3, 1, 1, (3, 2), "relu"), ("dense", 512, "relu"), ("dense", 10, None)]},
}


def _pooled(n, window, stride):
    return (n - window) // stride + 1


def initial_weights(spec, seed=0):
    """Uniform fan-in scaled weights and zero biases, float32, in symtensor's layout."""
    rng = np.random.default_rng(seed)
    channels, rows, cols = spec["input"]
    weights = []
    for layer in spec["layers"]:
        if layer[0] == "conv":
            _, out, k, stride, pad, pool, _ = layer
            bound = np.sqrt(6.0 / (channels * k * k + out))
            weights.append(rng.uniform(-bound, bound, (out, channels, k, k)).astype("float32"))
            weights.append(np.zeros(out, "float32"))
            rows, cols = (rows + 2 * pad - k) // stride + 1, (cols + 2 * pad - k) // stride + 1
            if pool:
                rows, cols = _pooled(rows, *pool), _pooled(cols, *pool)
            channels = out
        else:
            fan_in = channels * rows * cols
            bound = np.sqrt(6.0 / (fan_in + layer[1]))
            weights.append(rng.uniform(-bound, bound, (fan_in, layer[1])).astype("float32"))
            weights.append(np.zeros(layer[1], "float32"))
            channels, rows, cols = layer[1], 1, 1
    return weights


def batch(spec, seed=1):
    rng = np.random.default_rng(seed)
    x = rng.random((spec["batch"],) + spec["input"], dtype=np.float32)
    return x, rng.integers(0, spec["classes"], spec["batch"]).astype("int32")


def _act(module, name, v):
    if name == "tanh":
        return module.tanh(v)
    if name == "relu":
        return module.relu(v) if module is not T else T.nnet.relu(v)
    return v


def build_symtensor(spec, weights, linker="c"):
    params = [st.shared(w.copy(), name=f"p{k}") for k, w in enumerate(weights)]
    x, y = T.ftensor4("x"), T.ivector("y")
    h, k = x, 0
    for layer in spec["layers"]:
        w, b = params[k], params[k + 1]
        k += 2
        if layer[0] == "conv":
            _, _, _, stride, pad, pool, act = layer
            h = T.nnet.conv2d(h, w, border_mode=pad, subsample=(stride, stride))
            if pool:
                h = pool_2d(h, ws=(pool[0],) * 2, stride=(pool[1],) * 2, ignore_border=True)
            h = _act(T, act, h + b.dimshuffle("x", 0, "x", "x"))
        else:
            h = _act(T, layer[2], T.dot(h.flatten(2), w) + b)
    loss = T.nnet.categorical_crossentropy(T.nnet.softmax(h), y).mean()
    grads = st.grad(loss, params)
    updates = [(p, p - np.float32(LR) * g) for p, g in zip(params, grads)]
    return st.function([x, y], loss, updates=updates, mode=st.Mode(linker=linker))


def build_torch(torch, spec, weights):
    """``step(x, y) -> loss`` in torch eager with the flipped filters (torch correlates)."""
    functional = torch.nn.functional
    params = [torch.tensor(np.ascontiguousarray(w[:, :, ::-1, ::-1]) if w.ndim == 4 else w, requires_grad=True)
              for w in weights]

    def step(x, y):
        h, k = x, 0
        for layer in spec["layers"]:
            w, b = params[k], params[k + 1]
            k += 2
            if layer[0] == "conv":
                _, _, _, stride, pad, pool, act = layer
                h = functional.conv2d(h, w, stride=stride, padding=pad)
                if pool:
                    h = functional.max_pool2d(h, pool[0], pool[1])
                h = _act(torch, act, h + b.view(1, -1, 1, 1))
            else:
                h = _act(torch, layer[2], h.flatten(1) @ w + b)
        loss = functional.cross_entropy(h, y)
        grads = torch.autograd.grad(loss, params)
        with torch.no_grad():
            for p, g in zip(params, grads):
                p.sub_(LR * g)
        return loss.detach()

    return step


def build_candidates(model, notes, batch_size=None):
    spec = dict(MODELS[model], batch=batch_size or MODELS[model]["batch"])
    notes.append(f"{model}: batch {spec['batch']} of {'x'.join(map(str, spec['input']))}")
    weights = initial_weights(spec)
    xv, yv = batch(spec)
    candidates, first = {}, {}
    f = build_symtensor(spec, weights)
    first[f"{model} symtensor c"] = float(f(xv, yv))
    candidates[f"{model} symtensor c"] = lambda: f(xv, yv)
    torch = benchutil.load_torch(notes)
    if torch is not None:
        xt, yt = torch.from_numpy(xv), torch.from_numpy(yv.astype("int64"))
        step = build_torch(torch, spec, weights)
        first[f"{model} torch eager"] = float(step(xt, yt))
        a, b = first[f"{model} symtensor c"], first[f"{model} torch eager"]
        rel = abs(a - b) / abs(b)
        notes.append(f"{model}: step-0 loss symtensor {a:.7f} vs torch {b:.7f}: relative {rel:.2g} "
                     f"({'OK' if rel <= 1e-4 else 'MISMATCH, torch not timed'}, tol 1e-4)")
        if rel <= 1e-4:
            candidates[f"{model} torch eager"] = lambda: step(xt, yt)
    return candidates, first


def main():
    def extra(parser):
        parser.add_argument("--model", default="all", choices=sorted(MODELS) + ["all"],
                            help="which network (default: all)")
        parser.add_argument("--batch", type=int, default=None, help="batch size (default: each model's own)")

    args = benchutil.parse_args(__doc__, extra=extra)
    models = sorted(MODELS) if args.model == "all" else [args.model]
    notes, candidates, first, pairs = [], {}, {}, []
    for model in models:
        c, f = build_candidates(model, notes, args.batch)
        candidates.update(c)
        first.update(f)
        pairs.append((f"{model} symtensor c", f"{model} torch eager"))
    stats = benchutil.compare(candidates, rounds=5 if args.quick else 20, warmup=3, sample_time=0.2)
    return benchutil.report(TARGET, TITLE, stats, pairs, notes, args, {"step0_loss": first})


if __name__ == "__main__":
    main()
