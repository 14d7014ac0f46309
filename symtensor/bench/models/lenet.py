"""LeNet-style convnet (Theano's deep-learning tutorial): two conv 5x5 + max-pool 2 + tanh stages, fc 500, fc 10.

    h1 = tanh(maxpool(conv(x, K1)) + c1)       28x28x1 -> 20 x 12x12
    h2 = tanh(maxpool(conv(h1, K2)) + c2)      -> 50 x 4x4
    h3 = tanh(flatten(h2) W3 + b3)             -> 500
    loss = mean NLL of softmax(h3 W4 + b4)     -> 10 classes

Convolutions are cross-correlations (symtensor's conv2d with filter_flip=False, torch's conv2d),
so the same NumPy filters give the same result. PyTensor has no conv2d: no PyTensor step.
"""

import symtensor.tensor as T
from symtensor.bench import data
from symtensor.bench.models import base

NEEDS = (("symtensor.tensor.nnet", "conv2d"), ("symtensor.tensor.signal.pool", "pool_2d"))
NAMES = ("K1", "c1", "K2", "c2", "W3", "b3", "W4", "b4")


def shapes(cfg):
    """Filter shapes and the flattened size after the second stage."""
    c, h, w = cfg["image"]
    (n1, k1), (n2, k2) = cfg["convs"]
    pool = cfg["pool"]
    h1, w1 = (h - k1 + 1) // pool, (w - k1 + 1) // pool
    h2, w2 = (h1 - k2 + 1) // pool, (w1 - k2 + 1) // pool
    return (n1, c, k1, k1), (n2, n1, k2, k2), n2 * h2 * w2


def init_params(cfg, rng):
    f1, f2, flat = shapes(cfg)
    return {"K1": data.conv_filters(rng, *f1), "c1": data.zeros(f1[0]),
            "K2": data.conv_filters(rng, *f2), "c2": data.zeros(f2[0]),
            "W3": data.glorot(rng, flat, cfg["hidden"]), "b3": data.zeros(cfg["hidden"]),
            "W4": data.glorot(rng, cfg["hidden"], cfg["n_out"]), "b4": data.zeros(cfg["n_out"])}


def make_batch(cfg, rng):
    return {"x": data.images(rng, cfg["batch"], *cfg["image"]), "y": data.labels(rng, cfg["batch"], cfg["n_out"])}


def build_symtensor(cfg, params, batch, profile=False):
    conv2d = base.symtensor_op("symtensor.tensor.nnet", "conv2d")
    pool_2d = base.symtensor_op("symtensor.tensor.signal.pool", "pool_2d")
    k1, c1, k2, c2, w3, b3, w4, b4 = shared = base.symtensor_shared(params, NAMES)
    x, y = T.ftensor4("x"), T.ivector("y")
    ws = (cfg["pool"], cfg["pool"])
    in_shape = (cfg["batch"], *cfg["image"])
    h = x
    for k, c in ((k1, c1), (k2, c2)):
        f_shape = params[k.name].shape
        conv = conv2d(h, k, input_shape=in_shape, filter_shape=f_shape, filter_flip=False)
        h = T.tanh(pool_2d(conv, ws, ignore_border=True) + c.dimshuffle("x", 0, "x", "x"))
        in_shape = None
    h = T.tanh(T.dot(h.flatten(2), w3) + b3)
    loss = T.nnet.categorical_crossentropy(T.nnet.softmax(T.dot(h, w4) + b4), y).mean()
    return base.symtensor_sgd("lenet", cfg, [x, y], loss, shared, (batch["x"], batch["y"]), profile)


def build_torch(cfg, params, batch, device="cpu"):
    import torch  # optional extra: `import symtensor.bench` must work without torch
    functional = torch.nn.functional
    dev = base.torch_device(torch, device)
    tensors = base.torch_params(torch, params, NAMES, dev)
    k1, c1, k2, c2, w3, b3, w4, b4 = tensors
    pool = cfg["pool"]

    def loss_fn(x, y):
        h = x
        for k, c in ((k1, c1), (k2, c2)):
            h = torch.tanh(functional.max_pool2d(functional.conv2d(h, k), pool) + c.view(1, -1, 1, 1))
        h = torch.tanh(h.flatten(1) @ w3 + b3)
        return functional.cross_entropy(h @ w4 + b4, y)

    values = (torch.from_numpy(batch["x"]).to(dev), torch.from_numpy(batch["y"]).long().to(dev))
    return base.torch_sgd(torch, cfg, tensors, loss_fn, values)


MODEL = base.Model(
    name="lenet",
    title="LeNet convnet 28x28x1: conv5x5x20, pool2, conv5x5x50, pool2, fc500, fc10",
    sizes={"tiny": {"image": (1, 12, 12), "convs": [(4, 3), (6, 2)], "pool": 2, "hidden": 16, "n_out": 5,
                    "batch": 4, "lr": 0.1},
           "small": {"image": (1, 28, 28), "convs": [(20, 5), (50, 5)], "pool": 2, "hidden": 500, "n_out": 10,
                     "batch": 64, "lr": 0.1},
           "paper": {"image": (1, 28, 28), "convs": [(20, 5), (50, 5)], "pool": 2, "hidden": 500, "n_out": 10,
                     "batch": 500, "lr": 0.1}},
    init_params=init_params,
    make_batch=make_batch,
    builders={"symtensor": build_symtensor, "torch": build_torch},
    needs=NEEDS,
    unsupported={"pytensor": "PyTensor has no conv2d"},
)
