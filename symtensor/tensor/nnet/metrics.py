"""Metrics on predictions: the confusion matrix (Theano's ``T.nnet.confusion_matrix``).

Built from existing ops (sort, nonzero, comparisons, dot), so shapes infer
and every backend runs it without an op of its own.
"""

import symtensor.tensor.basic as _basic
import symtensor.tensor.math as _math
from symtensor.tensor.extra_ops import flatnonzero
from symtensor.tensor.join import concatenate
from symtensor.tensor.sort import sort

__all__ = ["confusion_matrix"]


def _distinct_sorted(x):
    """The distinct values of vector ``x`` in increasing order (as numpy.unique)."""
    ordered = sort(x)
    n = ordered.shape[0]
    first = _basic.ones((_math.minimum(n, 1),), dtype="bool")  # the first value is new; nothing is for n == 0
    new = concatenate([first, _math.neq(ordered[1:], ordered[:-1])])
    return ordered[flatnonzero(new)]


def confusion_matrix(actual, pred):
    """``[conf_mat, order]`` for vectors of actual and predicted labels.

    ``order`` holds the labels seen in either vector, sorted; ``conf_mat[i, j]``
    (int64) counts the positions whose actual label is ``order[i]`` and whose
    predicted label is ``order[j]``: rows are actual, columns predicted.
    """
    actual = _basic.as_tensor_variable(actual)
    pred = _basic.as_tensor_variable(pred)
    if actual.ndim != 1:
        raise ValueError(f"confusion_matrix: actual must be a vector, got {actual} with {actual.ndim} dimensions")
    if pred.ndim != 1:
        raise ValueError(f"confusion_matrix: pred must be a vector, got {pred} with {pred.ndim} dimensions")
    order = _distinct_sorted(concatenate([actual, pred]))
    one_hot_actual = _basic.cast(_math.eq(actual.dimshuffle(0, "x"), order), "int64")
    one_hot_pred = _basic.cast(_math.eq(pred.dimshuffle(0, "x"), order), "int64")
    return [_math.dot(one_hot_actual.T, one_hot_pred), order]
