"""The shipped benchmark models, by name (``symtensor-bench --model NAME``)."""

from symtensor.bench.models import alexnet, lenet, logreg, lstm_lm, mlp
from symtensor.bench.models.base import FRAMEWORKS, SIZES, Model, Step, Unavailable  # noqa: F401

REGISTRY = {m.name: m for m in (logreg.MODEL, mlp.MLP, mlp.MLP_DEEP, lenet.MODEL, alexnet.MODEL, lstm_lm.MODEL)}

#: what ``symtensor-bench`` runs with no --model: a few minutes on two cores at the small size
DEFAULT_MODELS = ("logreg", "mlp", "lenet", "lstm")


def get(name):
    try:
        return REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; models: {', '.join(REGISTRY)}") from None
