"""Word-level LSTM language model: the small Penn-Treebank setup of Zaremba et al. (2014) on synthetic tokens.

    e_t = E[w_t]                                  embedding lookup (vocab x 200)
    z = x_t W + h U + b;  i, f, o = sigmoid, g = tanh of the four quarters of z (torch's gate order)
    c = f * c + i * g;  h = o * tanh(c)           two layers, 200 units, unrolled 20 steps (scan)
    loss = mean over the batch x steps tokens of -log softmax(h V + d)[next word]

Batch 20, weights uniform in [-0.1, 0.1], plain SGD with lr 1. Simplifications, identical in every
framework: the state starts at zero each step (no carry-over between batches), no dropout, no
gradient clipping, and the loss is the per-token mean. torch runs the recurrence with nn.LSTM
(weights copied in, its second bias frozen at zero) because that is what its users write.
"""

import symtensor.tensor as T
from symtensor.bench import data
from symtensor.bench.models import base

NEEDS = (("symtensor", "scan"),)


def names(cfg):
    layers = [(f"W{k}", f"U{k}", f"b{k}") for k in range(cfg["layers"])]
    return ["E"] + [n for layer in layers for n in layer] + ["V", "d"]


def init_params(cfg, rng):
    h, vocab, scale = cfg["hidden"], cfg["vocab"], cfg["init_scale"]
    out = {"E": data.uniform(rng, scale, (vocab, h))}
    for k in range(cfg["layers"]):
        out[f"W{k}"] = data.uniform(rng, scale, (h, 4 * h))
        out[f"U{k}"] = data.uniform(rng, scale, (h, 4 * h))
        out[f"b{k}"] = data.zeros(4 * h)
    out["V"], out["d"] = data.uniform(rng, scale, (h, vocab)), data.zeros(vocab)
    return out


def make_batch(cfg, rng):
    words = data.tokens(rng, cfg["batch"], cfg["steps"], cfg["vocab"])
    return {"x": words[:, :-1].copy(), "y": words[:, 1:].copy()}


def _symtensor_layer(scan, inputs, w, u, b, hidden, batch):
    """(steps, batch, hidden) outputs of one LSTM layer over (steps * batch, hidden) inputs."""
    steps = inputs.shape[0] // batch
    proj = (T.dot(inputs, w) + b).reshape((steps, batch, 4 * hidden))

    def step(z_x, h, c, u):
        z = z_x + T.dot(h, u)
        i = T.nnet.sigmoid(z[:, :hidden])
        f = T.nnet.sigmoid(z[:, hidden:2 * hidden])
        g = T.tanh(z[:, 2 * hidden:3 * hidden])
        o = T.nnet.sigmoid(z[:, 3 * hidden:])
        c = f * c + i * g
        return o * T.tanh(c), c

    zero = T.zeros((batch, hidden), dtype="float32")
    (hs, _cs), _updates = scan(step, sequences=[proj], outputs_info=[zero, zero], non_sequences=[u])
    return hs


def build_symtensor(cfg, params, batch, profile=False):
    scan = base.symtensor_op("symtensor", "scan")
    all_names = names(cfg)
    shared = dict(zip(all_names, base.symtensor_shared(params, all_names)))
    hidden, n = cfg["hidden"], cfg["batch"]
    x, y = T.imatrix("x"), T.imatrix("y")
    h = shared["E"][x.T.flatten()]                     # (steps * batch, hidden), time-major
    for k in range(cfg["layers"]):
        hs = _symtensor_layer(scan, h, shared[f"W{k}"], shared[f"U{k}"], shared[f"b{k}"], hidden, n)
        h = hs.reshape((hs.shape[0] * n, hidden))
    p = T.nnet.softmax(T.dot(h, shared["V"]) + shared["d"])
    loss = T.nnet.categorical_crossentropy(p, y.T.flatten()).mean()
    return base.symtensor_sgd("lstm", cfg, [x, y], loss, [shared[k] for k in all_names],
                              (batch["x"], batch["y"]), profile)


def build_torch(cfg, params, batch, device="cpu"):
    import torch  # optional extra: `import symtensor.bench` must work without torch
    dev = base.torch_device(torch, device)
    hidden = cfg["hidden"]
    lstm = torch.nn.LSTM(hidden, hidden, num_layers=cfg["layers"]).to(dev)
    with torch.no_grad():
        for k in range(cfg["layers"]):
            getattr(lstm, f"weight_ih_l{k}").copy_(torch.from_numpy(params[f"W{k}"].T.copy()))
            getattr(lstm, f"weight_hh_l{k}").copy_(torch.from_numpy(params[f"U{k}"].T.copy()))
            getattr(lstm, f"bias_ih_l{k}").copy_(torch.from_numpy(params[f"b{k}"]))
            getattr(lstm, f"bias_hh_l{k}").zero_()
            getattr(lstm, f"bias_hh_l{k}").requires_grad_(False)  # one bias per gate, as in the other frameworks
    emb, out_w, out_b = base.torch_params(torch, params, ("E", "V", "d"), dev)
    functional = torch.nn.functional

    def loss_fn(x, y):
        hs, _state = lstm(functional.embedding(x.t(), emb))      # (steps, batch, hidden)
        logits = hs.reshape(-1, hidden) @ out_w + out_b
        return functional.cross_entropy(logits, y.t().reshape(-1))

    trained = [emb] + [p for p in lstm.parameters() if p.requires_grad] + [out_w, out_b]
    values = (torch.from_numpy(batch["x"]).long().to(dev), torch.from_numpy(batch["y"]).long().to(dev))
    return base.torch_sgd(torch, cfg, trained, loss_fn, values)


def _pytensor_layer(pytensor, pt, inputs, w, u, b, hidden, batch):
    steps = inputs.shape[0] // batch
    proj = (pt.dot(inputs, w) + b).reshape((steps, batch, 4 * hidden))

    def step(z_x, h, c, u):
        z = z_x + pt.dot(h, u)
        i = pt.sigmoid(z[:, :hidden])
        f = pt.sigmoid(z[:, hidden:2 * hidden])
        g = pt.tanh(z[:, 2 * hidden:3 * hidden])
        o = pt.sigmoid(z[:, 3 * hidden:])
        c = f * c + i * g
        return o * pt.tanh(c), c

    zero = pt.zeros((batch, hidden), dtype="float32")
    hs, _cs = pytensor.scan(step, sequences=[proj], outputs_info=[zero, zero], non_sequences=[u],
                            return_updates=False)
    return hs


def build_pytensor(cfg, params, batch):
    import pytensor  # optional extra: `import symtensor.bench` must work without pytensor
    import pytensor.tensor as pt
    all_names = names(cfg)
    shared = {k: pytensor.shared(params[k].copy(), name=k) for k in all_names}
    hidden, n = cfg["hidden"], cfg["batch"]
    x, y = pt.imatrix("x"), pt.imatrix("y")
    h = shared["E"][x.T.flatten()]
    for k in range(cfg["layers"]):
        hs = _pytensor_layer(pytensor, pt, h, shared[f"W{k}"], shared[f"U{k}"], shared[f"b{k}"], hidden, n)
        h = hs.reshape((hs.shape[0] * n, hidden))
    loss = base.pytensor_nll(pt, pt.dot(h, shared["V"]) + shared["d"], y.T.flatten())
    return base.pytensor_sgd(pytensor, cfg, [x, y], loss, [shared[k] for k in all_names],
                             (batch["x"], batch["y"]))


_ZAREMBA_SMALL = {"vocab": 10000, "hidden": 200, "layers": 2, "steps": 20, "batch": 20, "init_scale": 0.1,
                  "lr": 1.0}

MODEL = base.Model(
    name="lstm",
    title="LSTM LM 2x200, 20 steps, vocab 10000",
    sizes={"tiny": {"vocab": 50, "hidden": 8, "layers": 2, "steps": 4, "batch": 3, "init_scale": 0.1, "lr": 1.0},
           "small": dict(_ZAREMBA_SMALL),
           "paper": dict(_ZAREMBA_SMALL)},
    init_params=init_params,
    make_batch=make_batch,
    builders={"symtensor": build_symtensor, "torch": build_torch, "pytensor": build_pytensor},
    needs=NEEDS,
)
