"""Fully connected networks: MLP 784-500-10 (tanh) and a deep 784-4x1024-10 (relu); softmax NLL, SGD."""

import symtensor.tensor as T
from symtensor.bench import data
from symtensor.bench.models import base


def _names(cfg):
    return [f"{kind}{k}" for k in range(len(cfg["hidden"]) + 1) for kind in ("W", "b")]


def init_params(cfg, rng):
    sizes = [cfg["n_in"], *cfg["hidden"], cfg["n_out"]]
    out = {}
    for k, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        out[f"W{k}"] = data.glorot(rng, n_in, n_out)
        out[f"b{k}"] = data.zeros(n_out)
    return out


def make_batch(cfg, rng):
    return {"x": data.images(rng, cfg["batch"], cfg["n_in"]), "y": data.labels(rng, cfg["batch"], cfg["n_out"])}


def _layers(params):
    return list(zip(params[0::2], params[1::2]))


def build_symtensor(cfg, params, batch, profile=False):
    shared = base.symtensor_shared(params, _names(cfg))
    act = {"tanh": T.tanh, "relu": T.nnet.relu}[cfg["activation"]]
    x, y = T.fmatrix("x"), T.ivector("y")
    h = x
    layers = _layers(shared)
    for w, b in layers[:-1]:
        h = act(T.dot(h, w) + b)
    w, b = layers[-1]
    loss = T.nnet.categorical_crossentropy(T.nnet.softmax(T.dot(h, w) + b), y).mean()
    return base.symtensor_sgd(cfg["name"], cfg, [x, y], loss, shared, (batch["x"], batch["y"]), profile)


def build_torch(cfg, params, batch, device="cpu"):
    import torch  # optional extra: `import symtensor.bench` must work without torch
    dev = base.torch_device(torch, device)
    tensors = base.torch_params(torch, params, _names(cfg), dev)
    act = {"tanh": torch.tanh, "relu": torch.relu}[cfg["activation"]]
    layers = _layers(tensors)

    def loss_fn(x, y):
        h = x
        for w, b in layers[:-1]:
            h = act(h @ w + b)
        w, b = layers[-1]
        return torch.nn.functional.cross_entropy(h @ w + b, y)

    values = (torch.from_numpy(batch["x"]).to(dev), torch.from_numpy(batch["y"]).long().to(dev))
    return base.torch_sgd(torch, cfg, tensors, loss_fn, values)


def build_pytensor(cfg, params, batch):
    import pytensor  # optional extra: `import symtensor.bench` must work without pytensor
    import pytensor.tensor as pt
    shared = [pytensor.shared(params[k].copy(), name=k) for k in _names(cfg)]
    act = {"tanh": pt.tanh, "relu": lambda v: pt.maximum(v, 0)}[cfg["activation"]]
    x, y = pt.fmatrix("x"), pt.ivector("y")
    h = x
    layers = _layers(shared)
    for w, b in layers[:-1]:
        h = act(pt.dot(h, w) + b)
    w, b = layers[-1]
    loss = base.pytensor_nll(pt, pt.dot(h, w) + b, y)
    return base.pytensor_sgd(pytensor, cfg, [x, y], loss, shared, (batch["x"], batch["y"]))


def _model(name, title, sizes):
    return base.Model(
        name=name, title=title,
        sizes={size: dict(cfg, name=name) for size, cfg in sizes.items()},
        init_params=init_params, make_batch=make_batch,
        builders={"symtensor": build_symtensor, "torch": build_torch, "pytensor": build_pytensor})


MLP = _model("mlp", "MLP 784-500-10, tanh", {
    "tiny": {"n_in": 20, "hidden": [16], "n_out": 5, "batch": 8, "activation": "tanh", "lr": 0.1},
    "small": {"n_in": 784, "hidden": [500], "n_out": 10, "batch": 128, "activation": "tanh", "lr": 0.1},
    "paper": {"n_in": 784, "hidden": [500], "n_out": 10, "batch": 20, "activation": "tanh", "lr": 0.01},
})

MLP_DEEP = _model("mlp_deep", "deep MLP 784-4x1024-10, relu", {
    "tiny": {"n_in": 20, "hidden": [16, 16, 16], "n_out": 5, "batch": 8, "activation": "relu", "lr": 0.1},
    "small": {"n_in": 784, "hidden": [1024] * 4, "n_out": 10, "batch": 128, "activation": "relu", "lr": 0.01},
    "paper": {"n_in": 784, "hidden": [1024] * 4, "n_out": 10, "batch": 256, "activation": "relu", "lr": 0.01},
})
