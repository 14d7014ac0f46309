"""T.nnet.confusion_matrix against a NumPy count."""

import numpy as np
import pytest

import symtensor as st
import symtensor.tensor as T
from helpers import check_infer_shape
from symtensor.tensor.type import TensorType


def reference(actual, pred):
    order = np.unique(np.concatenate([actual, pred]))
    conf = np.array([[np.sum((actual == i) & (pred == j)) for j in order] for i in order], dtype="int64")
    return conf.reshape(len(order), len(order)), order


def test_the_documented_example():
    x, y = T.vector(), T.vector()
    conf, order = st.function([x, y], T.nnet.confusion_matrix(x, y))([2, 0, 2, 2, 0, 1], [0, 0, 2, 2, 0, 2])
    np.testing.assert_array_equal(conf, [[2, 0, 0], [0, 0, 1], [1, 0, 2]])
    np.testing.assert_array_equal(order, [0.0, 1.0, 2.0])
    assert conf.dtype == "int64" and order.dtype == st.config.floatX


@pytest.mark.parametrize("dtypes", [("int32", "int32"), ("int32", "int64"), ("float64", "float64")])
@pytest.mark.parametrize("n", [0, 1, 7, 50])
def test_matches_numpy(rng, dtypes, n):
    a, b = TensorType(dtypes[0], (False,))("a"), TensorType(dtypes[1], (False,))("b")
    conf, order = T.nnet.confusion_matrix(a, b)
    assert conf.dtype == "int64" and conf.ndim == 2 and order.dtype == np.result_type(*dtypes).name
    av = rng.integers(-2, 5, size=n).astype(dtypes[0])
    bv = rng.integers(0, 8, size=n).astype(dtypes[1])
    got_conf, got_order = st.function([a, b], [conf, order])(av, bv)
    want_conf, want_order = reference(av, bv)
    np.testing.assert_array_equal(got_order, want_order)
    np.testing.assert_array_equal(got_conf, want_conf)
    assert got_conf.sum() == n
    check_infer_shape([a, b], [conf, order], [av, bv])


def test_labels_seen_in_one_vector_only_get_rows_and_columns():
    a, b = T.ivector(), T.ivector()
    conf, order = st.function([a, b], T.nnet.confusion_matrix(a, b))(np.array([3, 3], "int32"),
                                                                        np.array([1, 9], "int32"))
    np.testing.assert_array_equal(order, [1, 3, 9])
    np.testing.assert_array_equal(conf, [[0, 0, 0], [1, 0, 1], [0, 0, 0]])


def test_inputs_must_be_vectors():
    with pytest.raises(ValueError, match="actual must be a vector"):
        T.nnet.confusion_matrix(T.imatrix(), T.ivector())
    with pytest.raises(ValueError, match="pred must be a vector"):
        T.nnet.confusion_matrix(T.ivector(), T.iscalar())
