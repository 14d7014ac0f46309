"""Multinomial logistic regression on MNIST-shaped inputs: p = softmax(x W + b), mean NLL, SGD."""

import symtensor.tensor as T
from symtensor.bench import data
from symtensor.bench.models import base

NAMES = ("W", "b")


def init_params(cfg, rng):
    return {"W": data.glorot(rng, cfg["n_in"], cfg["n_out"]), "b": data.zeros(cfg["n_out"])}


def make_batch(cfg, rng):
    return {"x": data.images(rng, cfg["batch"], cfg["n_in"]), "y": data.labels(rng, cfg["batch"], cfg["n_out"])}


def build_symtensor(cfg, params, batch, profile=False):
    w, b = base.symtensor_shared(params, NAMES)
    x, y = T.fmatrix("x"), T.ivector("y")
    p = T.nnet.softmax(T.dot(x, w) + b)
    loss = T.nnet.categorical_crossentropy(p, y).mean()
    return base.symtensor_sgd("logreg", cfg, [x, y], loss, [w, b], (batch["x"], batch["y"]), profile)


def build_torch(cfg, params, batch, device="cpu"):
    import torch  # optional extra: `import symtensor.bench` must work without torch
    dev = base.torch_device(torch, device)
    w, b = base.torch_params(torch, params, NAMES, dev)

    def loss_fn(x, y):
        return torch.nn.functional.cross_entropy(x @ w + b, y)

    values = (torch.from_numpy(batch["x"]).to(dev), torch.from_numpy(batch["y"]).long().to(dev))
    return base.torch_sgd(torch, cfg, [w, b], loss_fn, values)


def build_pytensor(cfg, params, batch):
    import pytensor  # optional extra: `import symtensor.bench` must work without pytensor
    import pytensor.tensor as pt
    w, b = [pytensor.shared(params[k].copy(), name=k) for k in NAMES]
    x, y = pt.fmatrix("x"), pt.ivector("y")
    loss = base.pytensor_nll(pt, pt.dot(x, w) + b, y)
    return base.pytensor_sgd(pytensor, cfg, [x, y], loss, [w, b], (batch["x"], batch["y"]))


MODEL = base.Model(
    name="logreg",
    title="logistic regression 784-10",
    sizes={"tiny": {"n_in": 20, "n_out": 5, "batch": 8, "lr": 0.1},
           "small": {"n_in": 784, "n_out": 10, "batch": 128, "lr": 0.1},
           "paper": {"n_in": 784, "n_out": 10, "batch": 600, "lr": 0.13}},
    init_params=init_params,
    make_batch=make_batch,
    builders={"symtensor": build_symtensor, "torch": build_torch, "pytensor": build_pytensor},
)
