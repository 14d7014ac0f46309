"""What a shipped model is: sizes, NumPy initial weights and batch, and one step builder per framework.

A model module defines its parameters once (NumPy, float32) and then the same
training step -- forward, backward, plain SGD update -- in each framework. The
runner loads those arrays into every framework, so the step-0 losses must agree.
"""

import importlib
from dataclasses import dataclass, field
from typing import Callable, Mapping

import numpy as np

import symtensor as st
from symtensor.bench.data import rng_for

FRAMEWORKS = ("symtensor", "torch", "pytensor")
SIZES = ("tiny", "small", "paper")


class Unavailable(Exception):
    """A step cannot be built here: a symtensor op is not written yet, a framework lacks an op, no device."""


def symtensor_op(module, name):
    """``module.name`` from symtensor, or Unavailable saying which op is missing (ops still being written)."""
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise Unavailable(f"symtensor has no {module}.{name} yet ({type(exc).__name__}: {exc})") from None


class Step:
    """One training step bound to its data: ``step()`` runs forward + backward + update, returns the loss.

    ``function`` is the compiled symtensor function when there is one (for ``--profile``).
    """

    def __init__(self, fn, args, function=None):
        self.fn = fn
        self.args = tuple(args)
        self.function = function

    def __call__(self):
        return float(self.fn(*self.args))


@dataclass(frozen=True)
class Model:
    """A benchmark model: hyper-parameters per size, NumPy initialisers and per-framework step builders.

    builders["symtensor"](cfg, params, batch, profile=False), builders["torch"](cfg, params, batch,
    device="cpu") and builders["pytensor"](cfg, params, batch) each return a Step.
    """

    name: str
    title: str
    sizes: Mapping[str, Mapping]
    init_params: Callable
    make_batch: Callable
    builders: Mapping[str, Callable]
    #: (module, attribute) of the symtensor ops the symtensor step needs beyond the basics
    needs: tuple = ()
    #: framework -> why it has no step for this model
    unsupported: Mapping[str, str] = field(default_factory=dict)

    def config(self, size):
        if size not in self.sizes:
            raise ValueError(f"model {self.name!r} has no size {size!r}; sizes: {sorted(self.sizes)}")
        return dict(self.sizes[size])

    def params(self, size):
        """{name: float32 array}: the initial weights, identical for every framework and process."""
        return self.init_params(self.config(size), rng_for(self.name, "params"))

    def batch(self, size):
        return self.make_batch(self.config(size), rng_for(self.name, "batch"))

    def missing_symtensor_ops(self):
        """Messages for the symtensor ops this model needs that cannot be imported (empty: all there)."""
        missing = []
        for module, name in self.needs:
            try:
                symtensor_op(module, name)
            except Unavailable as exc:
                missing.append(str(exc))
        return missing


def symtensor_sgd(model, cfg, inputs, loss, params, values, profile=False):
    """Step compiling ``loss`` with plain SGD updates ``p <- p - lr * dloss/dp`` on shared ``params``."""
    lr = np.float32(cfg["lr"])
    grads = st.grad(loss, params)
    updates = [(p, p - lr * g) for p, g in zip(params, grads)]
    f = st.function(inputs, loss, updates=updates, name=f"{model} train step", profile=profile)
    return Step(f, values, function=f)


def symtensor_shared(params, names):
    return [st.shared(params[k].copy(), name=k) for k in names]


def torch_sgd(torch, cfg, params, loss_fn, values):
    """Step in torch eager: autograd, then the update torch.optim.SGD makes on CPU (one add_ per parameter).

    No optimizer object: constructing one imports torch._dynamo (seconds), and the math is the same.
    """
    lr = cfg["lr"]

    def step(*args):
        loss = loss_fn(*args)
        grads = torch.autograd.grad(loss, params)
        with torch.no_grad():
            for p, g in zip(params, grads):
                p.add_(g, alpha=-lr)
        return loss.detach()

    return Step(step, values)


def torch_device(torch, device):
    if device == "cuda" and not torch.cuda.is_available():
        raise Unavailable("torch reports no CUDA device (torch.cuda.is_available() is False)")
    return torch.device(device)


def torch_params(torch, params, names, device):
    return [torch.tensor(params[k], device=device, requires_grad=True) for k in names]


def pytensor_sgd(pytensor, cfg, inputs, loss, params, values):
    """The symtensor step's twin in PyTensor (default mode)."""
    lr = np.float32(cfg["lr"])
    grads = pytensor.grad(loss, params)
    updates = [(p, p - lr * g) for p, g in zip(params, grads)]
    f = pytensor.function(inputs, loss, updates=updates)
    return Step(f, values, function=f)


def pytensor_nll(pt, logits, y):
    """Mean negative log-likelihood from logits (PyTensor has no categorical_crossentropy)."""
    logp = pt.special.log_softmax(logits, axis=-1)
    return -logp[pt.arange(y.shape[0]), y].mean()
