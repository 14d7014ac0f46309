"""AlexNet-style convnet: five relu convolutions (three followed by overlapping 3x3/2 max-pooling),
two relu fully connected layers and a softmax layer; no LRN, no dropout (the step is deterministic).

Paper size is the single-tower 224x224x3 network (64-192-384-256-256 channels, fc 4096-4096-1000,
batch 128), meant for a GPU; the small size keeps the structure on a 64x64x3 input with fewer
channels so that a CPU runs a step in well under a second. Convolutions are cross-correlations in
both frameworks (filter_flip=False). PyTensor has no conv2d: no PyTensor step.
"""

import symtensor.tensor as T
from symtensor.bench import data
from symtensor.bench.models import base

NEEDS = (("symtensor.tensor.nnet", "conv2d"), ("symtensor.tensor.signal.pool", "pool_2d"))
POOL_WS, POOL_STRIDE = 3, 2


def _conv_names(cfg):
    return [(f"K{k}", f"c{k}") for k in range(len(cfg["convs"]))]


def _fc_names(cfg):
    return [(f"W{k}", f"b{k}") for k in range(len(cfg["fc"]) + 1)]


def _flat(pairs):
    return [name for pair in pairs for name in pair]


def names(cfg):
    return _flat(_conv_names(cfg)) + _flat(_fc_names(cfg))


def feature_size(cfg):
    """Channels x height x width after the last convolution stage."""
    c, h, _w = cfg["image"]
    for n_out, k, stride, pad, pool in cfg["convs"]:
        c, h = n_out, (h + 2 * pad - k) // stride + 1
        if pool:
            h = (h - POOL_WS) // POOL_STRIDE + 1
    return c * h * h


def init_params(cfg, rng):
    out = {}
    n_in = cfg["image"][0]
    for (kname, cname), (n_out, k, _s, _p, _pool) in zip(_conv_names(cfg), cfg["convs"]):
        out[kname], out[cname] = data.conv_filters(rng, n_out, n_in, k, k), data.zeros(n_out)
        n_in = n_out
    sizes = [feature_size(cfg), *cfg["fc"], cfg["n_out"]]
    for (wname, bname), n_in, n_out in zip(_fc_names(cfg), sizes[:-1], sizes[1:]):
        out[wname], out[bname] = data.glorot(rng, n_in, n_out), data.zeros(n_out)
    return out


def make_batch(cfg, rng):
    return {"x": data.images(rng, cfg["batch"], *cfg["image"]), "y": data.labels(rng, cfg["batch"], cfg["n_out"])}


def build_symtensor(cfg, params, batch, profile=False):
    conv2d = base.symtensor_op("symtensor.tensor.nnet", "conv2d")
    pool_2d = base.symtensor_op("symtensor.tensor.signal.pool", "pool_2d")
    all_names = names(cfg)
    shared = dict(zip(all_names, base.symtensor_shared(params, all_names)))
    x, y = T.ftensor4("x"), T.ivector("y")
    h = x
    for (kname, cname), (_n, _k, stride, pad, pool) in zip(_conv_names(cfg), cfg["convs"]):
        conv = conv2d(h, shared[kname], filter_shape=params[kname].shape, border_mode=(pad, pad),
                      subsample=(stride, stride), filter_flip=False)
        h = T.nnet.relu(conv + shared[cname].dimshuffle("x", 0, "x", "x"))
        if pool:
            h = pool_2d(h, (POOL_WS, POOL_WS), ignore_border=True, stride=(POOL_STRIDE, POOL_STRIDE))
    h = h.flatten(2)
    fcs = _fc_names(cfg)
    for wname, bname in fcs[:-1]:
        h = T.nnet.relu(T.dot(h, shared[wname]) + shared[bname])
    wname, bname = fcs[-1]
    p = T.nnet.softmax(T.dot(h, shared[wname]) + shared[bname])
    loss = T.nnet.categorical_crossentropy(p, y).mean()
    return base.symtensor_sgd("alexnet", cfg, [x, y], loss, [shared[k] for k in all_names],
                              (batch["x"], batch["y"]), profile)


def build_torch(cfg, params, batch, device="cpu"):
    import torch  # optional extra: `import symtensor.bench` must work without torch
    functional = torch.nn.functional
    dev = base.torch_device(torch, device)
    all_names = names(cfg)
    tensors = base.torch_params(torch, params, all_names, dev)
    t = dict(zip(all_names, tensors))
    convs, fcs = _conv_names(cfg), _fc_names(cfg)

    def loss_fn(x, y):
        h = x
        for (kname, cname), (_n, _k, stride, pad, pool) in zip(convs, cfg["convs"]):
            h = torch.relu(functional.conv2d(h, t[kname], t[cname], stride=stride, padding=pad))
            if pool:
                h = functional.max_pool2d(h, POOL_WS, POOL_STRIDE)
        h = h.flatten(1)
        for wname, bname in fcs[:-1]:
            h = torch.relu(h @ t[wname] + t[bname])
        wname, bname = fcs[-1]
        return functional.cross_entropy(h @ t[wname] + t[bname], y)

    values = (torch.from_numpy(batch["x"]).to(dev), torch.from_numpy(batch["y"]).long().to(dev))
    return base.torch_sgd(torch, cfg, tensors, loss_fn, values)


# convs: (channels out, kernel, stride, padding, max-pool after)
MODEL = base.Model(
    name="alexnet",
    title="AlexNet-style convnet (5 conv, 3 pool, 3 fc)",
    sizes={"tiny": {"image": (3, 16, 16), "convs": [(4, 3, 2, 1, True), (6, 3, 1, 1, False), (6, 3, 1, 1, True)],
                    "fc": [8, 8], "n_out": 5, "batch": 2, "lr": 0.01},
           "small": {"image": (3, 64, 64), "convs": [(32, 5, 2, 2, True), (64, 5, 1, 2, True), (96, 3, 1, 1, False),
                                                     (64, 3, 1, 1, False), (64, 3, 1, 1, True)],
                     "fc": [512, 512], "n_out": 100, "batch": 32, "lr": 0.01},
           "paper": {"image": (3, 224, 224), "convs": [(64, 11, 4, 2, True), (192, 5, 1, 2, True),
                                                       (384, 3, 1, 1, False), (256, 3, 1, 1, False),
                                                       (256, 3, 1, 1, True)],
                     "fc": [4096, 4096], "n_out": 1000, "batch": 128, "lr": 0.01}},
    init_params=init_params,
    make_batch=make_batch,
    builders={"symtensor": build_symtensor, "torch": build_torch},
    needs=NEEDS,
    unsupported={"pytensor": "PyTensor has no conv2d"},
)
