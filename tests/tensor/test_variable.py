"""TensorVariable's Python interface: constructors, operators, attributes and methods."""

import numpy as np
import pytest

import symtensor as st
import symtensor.tensor as T
from symtensor.tensor.type import TensorType

PREFIXES = {"b": "int8", "w": "int16", "i": "int32", "l": "int64", "f": "float32", "d": "float64",
            "c": "complex64"}
KINDS = {"scalar": 0, "vector": 1, "matrix": 2, "tensor3": 3, "tensor4": 4}


@pytest.mark.parametrize("prefix", sorted(PREFIXES))
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_prefixed_constructors(prefix, kind):
    var = getattr(T, prefix + kind)("v")
    assert var.dtype == PREFIXES[prefix]
    assert var.ndim == KINDS[kind]
    assert var.name == "v"
    assert isinstance(var, T.TensorVariable)


def test_unprefixed_constructors_follow_floatx():
    with st.config.change_flags(floatX="float32"):
        assert T.matrix().dtype == "float32"
        assert T.vector().dtype == "float32"
    with st.config.change_flags(floatX="float64"):
        assert T.tensor3().dtype == "float64"


def test_row_col_and_plural_constructors():
    assert T.row().broadcastable == (True, False)
    assert T.col().broadcastable == (False, True)
    a, b = T.dmatrices("a", "b")
    assert (a.name, b.name) == ("a", "b")
    xs = T.fvectors(3)
    assert len(xs) == 3 and all(x.dtype == "float32" for x in xs)


def test_tensortype_call_and_tensor_constructor():
    t = TensorType("float32", (False, True))
    v = t("v")
    assert v.broadcastable == (False, True)
    assert T.tensor("int64", (False,)).dtype == "int64"


def test_attributes_and_methods_evaluate_like_numpy(rng):
    x = T.dmatrix("x")
    val = rng.normal(size=(3, 4))
    exprs = {
        "T": (x.T, val.T), "neg": (-x, -val), "abs": (abs(x), np.abs(val)),
        "sum0": (x.sum(axis=0), val.sum(axis=0)), "mean": (x.mean(), val.mean()),
        "max1": (x.max(axis=1), val.max(axis=1)), "min": (x.min(), val.min()),
        "prod": (x.prod(axis=1, keepdims=True), val.prod(axis=1, keepdims=True)),
        "var": (x.var(axis=0), val.var(axis=0)), "std": (x.std(), val.std()),
        "argmax": (x.argmax(axis=1), val.argmax(axis=1)),
        "reshape": (x.reshape((4, 3)), val.reshape((4, 3))), "flatten": (x.flatten(), val.flatten()),
        "dimshuffle": (x.dimshuffle(1, "x", 0), val.T[:, None, :]),
        "astype": (x.astype("int32"), val.astype("int32")), "shape": (x.shape, np.array(val.shape)),
        "getitem": (x[1:, ::2], val[1:, ::2]), "pow": (x ** 2, val ** 2), "rsub": (1 - x, 1 - val),
        "rdiv": (2 / (x + 10), 2 / (val + 10)), "matmul": (x @ x.T, val @ val.T),
        "transpose": (x.transpose(1, 0), val.T), "clip": (x.clip(-0.5, 0.5), np.clip(val, -0.5, 0.5)),
    }
    f = st.function([x], [e for e, _ in exprs.values()])
    for (name, (_, want)), got in zip(exprs.items(), f(val)):
        np.testing.assert_allclose(got, want, err_msg=name)
        assert np.asarray(got).dtype == np.asarray(want).dtype or name in ("mean", "std", "var"), name


def test_comparison_operators_build_bool_graphs(rng):
    x = T.dvector("x")
    val = rng.normal(size=5)
    f = st.function([x], [x < 0, x <= 0, x > 0, x >= 0, T.eq(x, x), T.neq(x, 0)])
    want = [val < 0, val <= 0, val > 0, val >= 0, val == val, val != 0]
    for got, ref in zip(f(val), want):
        assert got.dtype == np.bool_
        np.testing.assert_array_equal(got, ref)


def test_symbolic_tensors_refuse_python_truth_iteration_and_assignment():
    x = T.dvector("x")
    with pytest.raises(TypeError, match="truth value"):
        bool(x > 0)
    with pytest.raises(TypeError, match="iterated"):
        iter(x)
    with pytest.raises(TypeError, match="set_subtensor"):
        x[0] = 1


def test_eval_and_ndim_dtype_properties():
    x = T.fmatrix("x")
    assert x.ndim == 2 and x.dtype == "float32" and x.broadcastable == (False, False)
    assert (x.sum() * 2).eval({x: np.ones((2, 3), "float32")}) == 12


def test_variable_remembers_where_it_was_created():
    x = T.dvector("x")
    y = x * 2  # this line is recorded
    filename, lineno, _func, text = y.tag.trace[-1]
    assert filename.endswith("test_variable.py")
    assert "this line is recorded" in text
