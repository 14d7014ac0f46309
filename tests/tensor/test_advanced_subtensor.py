"""Advanced indexing: integer and boolean arrays (AdvancedSubtensor1, AdvancedSubtensor), their
increments (AdvancedIncSubtensor1, AdvancedIncSubtensor) and ``take``.

``CASES`` is a table of indexes written with placeholders: ``A(k)`` is the
k-th symbolic index array (its value is given in the row), ``S(k)`` a
symbolic int scalar. NumPy, given the same index with the values filled in,
is the reference for getitem (``x[idx]``), set (``x[idx] = y``) and inc
(``np.add.at``, so repeated indices accumulate).
"""

import numpy as np
import pytest

import symtensor as st
import symtensor.tensor as T
from helpers import check_infer_shape, check_numpy, noncontiguous, rand
from symtensor.tensor.advanced_subtensor import (
    AdvancedIncSubtensor, AdvancedIncSubtensor1, AdvancedSubtensor, AdvancedSubtensor1, LastWriteMask)
from symtensor.tensor.type import TensorType


class A:
    """Placeholder for the k-th symbolic index (array or scalar)."""

    def __init__(self, k):
        self.k = k

    def __repr__(self):
        return f"A{self.k}"


def resolve(index, subs):
    def one(item):
        if isinstance(item, A):
            return subs[item.k]
        if isinstance(item, slice):
            return slice(one(item.start), one(item.stop), one(item.step))
        return item
    return tuple(one(i) for i in index) if isinstance(index, tuple) else one(index)


def _var(value, k):
    value = np.asarray(value)
    return TensorType(value.dtype, (False,) * value.ndim)(f"idx{k}")


I = np.array  # noqa: E741  (short for index values in the table)

# (id, x shape, index, values of the placeholders, expected op)
CASES = [
    ("vector", (5, 3), A(0), [I([0, 4, 4, -1])], AdvancedSubtensor1),
    ("vector_3d", (4, 2, 3), A(0), [I([3, 0], dtype="int32")], AdvancedSubtensor1),
    ("vector_uint8", (5,), A(0), [I([4, 1, 1], dtype="uint8")], AdvancedSubtensor1),
    ("vector_trailing_slice", (5, 3), (A(0), slice(None)), [I([1, 2])], AdvancedSubtensor1),
    ("const_list", (5, 3), [0, 2, 2, -5], [], AdvancedSubtensor1),
    ("const_ndarray", (5, 3), np.array([4, 1]), [], AdvancedSubtensor1),
    ("empty", (5, 3), A(0), [I([], dtype="int64")], AdvancedSubtensor1),
    ("matrix_index", (5, 3), A(0), [I([[0, 1], [4, 4]])], AdvancedSubtensor),
    ("two_vectors", (4, 3), (A(0), A(1)), [I([0, 1, 2, 3]), I([2, 0, 2, 1])], AdvancedSubtensor),
    ("repeated_pairs", (4, 3), (A(0), A(1)), [I([1, 1, 1]), I([2, 2, 0])], AdvancedSubtensor),
    ("vector_slice", (5, 4), (A(0), slice(1, None)), [I([3, 0, 3])], AdvancedSubtensor),
    ("slice_vector", (5, 4), (slice(None), A(0)), [I([-1, 0])], AdvancedSubtensor),
    ("rev_slice_vector", (5, 4), (slice(None, None, -2), A(0)), [I([2, 2])], AdvancedSubtensor),
    ("non_adjacent", (3, 4, 5), (A(0), slice(None), A(1)), [I([0, 2]), I([4, 1])], AdvancedSubtensor),
    ("int_non_adjacent", (3, 4, 5), (1, slice(None), A(0)), [I([1, 2, 0])], AdvancedSubtensor),
    ("int_adjacent", (3, 4, 5), (slice(None), 1, A(0)), [I([1, 2, 0])], AdvancedSubtensor),
    ("sym_int_vector", (3, 4), (A(0), A(1)), [I(2), I([0, 3])], AdvancedSubtensor),
    ("broadcast_arrays", (3, 4), (A(0), A(1)), [I([[0], [2]]), I([1, 3, 3])], AdvancedSubtensor),
    ("newaxis_first", (3, 4, 5), (None, A(0), 0), [I([1, 2])], AdvancedSubtensor),
    ("newaxis_between", (3, 4, 5), (A(0), None, A(1)), [I([1, 2]), I([0, 3])], AdvancedSubtensor),
    ("ellipsis", (2, 3, 4), (Ellipsis, A(0)), [I([3, 0])], AdvancedSubtensor),
    ("mask_full", (3, 4), A(0), [I([[True, False, True, True], [False] * 4, [True, False, False, True]])],
     AdvancedSubtensor),
    ("mask_rows", (3, 4), A(0), [I([True, False, True])], AdvancedSubtensor),
    ("mask_none", (3, 4), A(0), [I([False, False, False])], AdvancedSubtensor),
    ("mask_slice", (3, 4), (A(0), slice(1, None)), [I([False, True, True])], AdvancedSubtensor),
    ("slice_mask", (3, 4), (slice(None), A(0)), [I([True, False, False, True])], AdvancedSubtensor),
    ("mask_and_vector", (3, 4, 2), (A(0), A(1)), [I([[True, False, True, False]] * 3), I([1])],
     AdvancedSubtensor),
    ("const_mask_list", (3, 4), [True, False, True], [], AdvancedSubtensor),
]
IDS = [c[0] for c in CASES]


def _build(case, dtype="float64"):
    _, shape, index, values, _ = case
    x = TensorType(dtype, (False,) * len(shape))("x")
    idx_vars = [_var(v, k) for k, v in enumerate(values)]
    return x, idx_vars, resolve(index, idx_vars)


@pytest.mark.parametrize("case", CASES, ids=IDS)
@pytest.mark.parametrize("dtype", ["float32", "float64", "int32"])
@pytest.mark.parametrize("layout", ["contiguous", "strided"])
def test_getitem_matches_numpy(case, dtype, layout, rng):
    _, shape, index, values, op_type = case
    x, idx_vars, sym_index = _build(case, dtype)
    out = x[sym_index]
    assert type(out.owner.op) is op_type
    assert out.dtype == dtype
    xv = rand(rng, shape, dtype, low=-5, high=5)
    if layout == "strided":
        xv = noncontiguous(xv)
    check_numpy([x] + idx_vars, out, lambda v, *i: v[resolve(index, i)], [xv] + values)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_getitem_infer_shape(case, rng):
    _, shape, _, values, _ = case
    x, idx_vars, sym_index = _build(case)
    check_infer_shape([x] + idx_vars, x[sym_index], [rand(rng, shape)] + values)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_getitem_grad(case, rng):
    _, shape, index, values, _ = case
    st.verify_grad(lambda v: v[resolve(index, values)], [rand(rng, shape)])


def _ref(index, set_instead_of_inc):
    def ref(xv, yv, *values):
        out = xv.copy()
        idx = resolve(index, values)
        if set_instead_of_inc:
            out[idx] = yv
        else:
            np.add.at(out, idx, yv)
        return out
    return ref


def _region_shape(case):
    _, shape, index, values, _ = case
    return np.zeros(shape)[resolve(index, values)].shape


@pytest.mark.parametrize("case", CASES, ids=IDS)
@pytest.mark.parametrize("set_instead_of_inc", [True, False], ids=["set", "inc"])
@pytest.mark.parametrize("dtype", ["float64", "int32"])
def test_set_inc_matches_numpy(case, set_instead_of_inc, dtype, rng):
    _, shape, index, values, op_type = case
    x, idx_vars, sym_index = _build(case, dtype)
    region = _region_shape(case)
    y = TensorType(dtype, (False,) * len(region))("y")
    fn = T.set_subtensor if set_instead_of_inc else T.inc_subtensor
    out = fn(x[sym_index], y)
    inc_type = AdvancedIncSubtensor1 if op_type is AdvancedSubtensor1 else AdvancedIncSubtensor
    assert type(out.owner.op) is inc_type and out.owner.op.set_instead_of_inc == set_instead_of_inc
    xv = noncontiguous(rand(rng, shape, dtype))
    check_numpy([x, y] + idx_vars, out, _ref(index, set_instead_of_inc), [xv, rand(rng, region, dtype)] + values)


@pytest.mark.parametrize("case", CASES, ids=IDS)
@pytest.mark.parametrize("set_instead_of_inc", [True, False], ids=["set", "inc"])
def test_set_inc_grads(case, set_instead_of_inc, rng):
    _, shape, index, values, _ = case
    fn = T.set_subtensor if set_instead_of_inc else T.inc_subtensor
    st.verify_grad(lambda a, b: fn(a[resolve(index, values)], b),
                   [rand(rng, shape), rand(rng, _region_shape(case))])


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_set_inc_infer_shape(case, rng):
    x, idx_vars, sym_index = _build(case)
    region = _region_shape(case)
    y = TensorType("float64", (False,) * len(region))("y")
    check_infer_shape([x, y] + idx_vars, T.inc_subtensor(x[sym_index], y),
                      [rand(rng, case[1]), rand(rng, region)] + case[3])


def test_broadcast_values(rng):
    x, iv, s = T.dmatrix("x"), T.lvector("iv"), T.dscalar("s")
    xv, ivv = rng.normal(size=(4, 3)), np.array([0, 2, 0])
    r, q = T.dvector("r"), T.drow("q")
    f = st.function([x, iv, s, r, q],
                    [T.inc_subtensor(x[iv], s), T.set_subtensor(x[iv, 1:], r), T.inc_subtensor(x[:, iv], q)])
    rv, qv = rng.normal(size=2), rng.normal(size=(1, 3))
    a, b, c = f(xv, ivv, 2.0, rv, qv)
    want = xv.copy()
    np.add.at(want, ivv, 2.0)
    np.testing.assert_allclose(a, want)
    want = xv.copy()
    want[ivv, 1:] = rv
    np.testing.assert_allclose(b, want)
    want = xv.copy()
    np.add.at(want, (slice(None), ivv), qv)
    np.testing.assert_allclose(c, want)
    st.verify_grad(lambda a, v: T.inc_subtensor(a[ivv, 1:], v), [xv, rng.normal(size=2)])
    st.verify_grad(lambda a, v: T.inc_subtensor(a[ivv], v.sum()), [xv, rng.normal(size=2)])


# ------------------------------------------------------------------ the idioms that models rely on

def test_classifier_log_likelihood_idiom(rng):
    """``-T.mean(T.log(p)[T.arange(n), y])`` and its gradient, as in every Theano classifier."""
    p, rows, y = T.dmatrix("p"), T.lvector("rows"), T.ivector("y")
    nll = -T.mean(T.log(p)[rows, y])
    g = st.grad(nll, p)
    pv = rng.uniform(0.1, 1.0, size=(5, 3))
    yv = np.array([2, 0, 1, 1, 2], dtype="int32")
    cost, grad = st.function([p, rows, y], [nll, g])(pv, np.arange(5), yv)
    np.testing.assert_allclose(cost, -np.mean(np.log(pv[np.arange(5), yv])))
    want = np.zeros_like(pv)
    want[np.arange(5), yv] = -1.0 / (5 * pv[np.arange(5), yv])
    np.testing.assert_allclose(grad, want)
    st.verify_grad(lambda q: -T.mean(T.log(q)[np.arange(5), yv]), [pv])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_classifier_idiom_with_arange(dtype, rng):
    p, y = TensorType(dtype, (False, False))("p"), T.ivector("y")
    picked = T.log(p)[T.arange(y.shape[0]), y]
    assert isinstance(picked.owner.op, AdvancedSubtensor) and picked.dtype == dtype
    nll = -T.mean(picked)
    pv = rng.uniform(0.1, 1.0, size=(4, 3)).astype(dtype)
    yv = np.array([1, 0, 2, 1], dtype="int32")
    cost, grad = st.function([p, y], [nll, st.grad(nll, p)])(pv, yv)
    np.testing.assert_allclose(cost, -np.mean(np.log(pv[np.arange(4), yv])), rtol=1e-5)
    want = np.zeros_like(pv)
    want[np.arange(4), yv] = -1.0 / (4 * pv[np.arange(4), yv])
    assert grad.dtype == dtype
    np.testing.assert_allclose(grad, want, rtol=1e-5)


def test_repeated_indices_accumulate_in_the_gradient():
    x, iv = T.dvector("x"), T.lvector("iv")
    g = st.grad(x[iv].sum(), x)
    np.testing.assert_array_equal(st.function([x, iv], g)(np.zeros(4), [0, 0, 3, 0, -1]), [3, 0, 0, 2])
    m = T.dmatrix("m")
    g2 = st.grad(m[[1, 1], [2, 2]].sum() + m[[0, 0]].sum(), m)
    np.testing.assert_array_equal(st.function([m], g2)(np.zeros((2, 3))), [[2, 2, 2], [0, 0, 2]])


def test_set_with_repeated_indices_keeps_the_last_write_and_its_gradient(rng):
    x, iv, y = T.dvector("x"), T.lvector("iv"), T.dvector("y")
    out = T.set_subtensor(x[iv], y)
    gy = st.grad((out * T.constant(np.arange(1.0, 5.0))).sum(), y)
    got, g = st.function([x, iv, y], [out, gy])(np.zeros(4), [3, 1, 3, 1, 0], np.arange(10.0, 15.0))
    np.testing.assert_array_equal(got, [14, 13, 0, 12])
    np.testing.assert_array_equal(g, [0, 0, 4, 2, 1])
    m = T.dmatrix("m")
    check_infer_shape([m, iv], LastWriteMask((("slice", None, None, None), "?"))(m, iv),
                      [np.zeros((2, 3)), np.array([0, 0, 2])])


def test_embedding_lookup_and_update(rng):
    w, words = T.dmatrix("w"), T.imatrix("words")
    emb = w[words.flatten()].reshape((words.shape[0], words.shape[1] * w.shape[1]))
    cost = T.sum(emb ** 2)
    new_w = T.inc_subtensor(w[words.flatten()], -0.1 * st.grad(cost, emb).reshape((-1, 2)))
    wv, wordsv = rng.normal(size=(6, 2)), np.array([[0, 5], [5, 5]], dtype="int32")
    got = st.function([w, words], new_w)(wv, wordsv)
    want = wv.copy()
    np.add.at(want, wordsv.ravel(), -0.2 * wv[wordsv.ravel()])
    np.testing.assert_allclose(got, want)


def test_sparse_update_of_a_shared_variable():
    w, idx = st.shared(np.zeros((4, 2)), name="w"), T.lvector("idx")
    f = st.function([idx], [], updates=[(w, T.inc_subtensor(w[idx], -0.5 * w[idx] - 1.0))])
    f([0, 0, 3])
    np.testing.assert_array_equal(w.get_value(), [[-2, -2], [0, 0], [0, 0], [-1, -1]])


def test_list_of_symbolic_scalars_is_an_index_vector():
    x, i, j = T.dmatrix("x"), T.lscalar("i"), T.iscalar("j")
    out = x[[i, j]]
    assert isinstance(out.owner.op, AdvancedSubtensor1)
    xv = np.arange(12.0).reshape(3, 4)
    np.testing.assert_array_equal(st.function([x, i, j], out)(xv, 2, -3), xv[[2, -3]])


def test_mask_from_the_indexed_tensor(rng):
    x = T.dmatrix("x")
    xv = rng.normal(size=(3, 4))
    f = st.function([x], [x[x > 0], T.set_subtensor(x[x < 0], 0), T.inc_subtensor(x[T.gt(x, 0)], 1.0)])
    a, b, c = f(xv)
    np.testing.assert_allclose(a, xv[xv > 0])
    np.testing.assert_allclose(b, np.maximum(xv, 0))
    np.testing.assert_allclose(c, np.where(xv > 0, xv + 1, xv))
    check_infer_shape([x], x[x > 0], [xv])
    st.verify_grad(lambda v: T.set_subtensor(v[v < 0], 0.0), [xv])


def test_static_shapes():
    x = TensorType("float64", shape=(5, 3, 4))("x")
    iv, im = T.lvector("iv"), T.lmatrix("im")
    assert x[iv].type.shape == (None, 3, 4)
    assert x[[0, 1]].type.shape == (2, 3, 4)
    assert x[im, 1:].type.shape == (None, None, 2, 4)
    assert x[:, [0, 1], [[1], [2], [3]]].type.shape == (5, 3, 2)
    assert x[[0, 1], :, [1, 1]].type.shape == (2, 3)
    assert x[np.ones((5, 3), bool)].type.shape == (15, 4)
    assert x[None, iv, 0].type.shape == (1, None, 4)
    assert x[[0, 0], None, [1, 1]].type.shape == (2, 1, 4)


def test_ops_merge_and_print():
    x, iv = T.matrix("x"), T.lvector("iv")
    assert x[iv, 1:].owner.op == x[iv, 1:].owner.op
    assert x[iv, 1:].owner.op != x[iv, 2:].owner.op
    assert str(x[iv, 1:].owner.op) == "AdvancedSubtensor{?, 1:}"
    assert str(x[None, iv].owner.op) == "AdvancedSubtensor{newaxis, ?}"
    assert x[iv].owner.op == T.advanced_subtensor1
    assert AdvancedIncSubtensor1(inplace=True).destroy_map == {0: [0]}


def test_rop(rng):
    x, v, iv = T.dmatrix("x"), T.dmatrix("v"), T.lvector("iv")
    r = st.Rop([x[iv], x[iv, iv]], x, v)
    vv = rng.normal(size=(3, 3))
    a, b = st.function([x, v, iv], r, on_unused_input="ignore")(vv, vv, [2, 0])
    np.testing.assert_allclose(a, vv[[2, 0]])
    np.testing.assert_allclose(b, vv[[2, 0], [2, 0]])


def test_module_functions(rng):
    x, y, iv = T.dmatrix("x"), T.dmatrix("y"), T.lvector("iv")
    xv, yv = rng.normal(size=(3, 2)), rng.normal(size=(2, 2))
    f = st.function([x, y, iv], [T.advanced_subtensor1(x, iv), T.advanced_inc_subtensor1(x, y, iv),
                                 T.advanced_set_subtensor1(x, y, iv), T.advanced_subtensor(x, iv, 0),
                                 T.advanced_inc_subtensor(x, y[0], iv, 1)])
    a, b, c, d, e = f(xv, yv, [1, 1])
    np.testing.assert_allclose(a, xv[[1, 1]])
    np.testing.assert_allclose(b, xv + [[0, 0], yv[0] + yv[1], [0, 0]])
    np.testing.assert_allclose(c[1], yv[1])
    np.testing.assert_allclose(d, xv[[1, 1], 0])
    want = xv.copy()
    np.add.at(want, ([1, 1], 1), yv[0])
    np.testing.assert_allclose(e, want)


# ------------------------------------------------------------------ dtypes of values

def test_value_dtype_rules():
    x, iv = T.fmatrix("x"), T.lvector("iv")
    assert T.set_subtensor(x[iv], T.bmatrix("b")).dtype == "float32"
    assert T.inc_subtensor(x[iv, iv], 0.5).dtype == "float32"
    with pytest.raises(TypeError, match="without loss of precision"):
        T.inc_subtensor(x[iv], T.dmatrix("d"))
    with pytest.raises(TypeError, match="without loss of precision"):
        T.set_subtensor(T.imatrix("i")[iv, 0], 0.5)


# ------------------------------------------------------------------ errors

@pytest.mark.parametrize("index", [[1.0, 2.0], np.array([0.5]), (slice(None), [1.5])], ids=["list", "ndarray", "2nd"])
def test_float_index_arrays_are_rejected(index):
    with pytest.raises(TypeError, match="integer or boolean dtype"):
        T.matrix("x")[index]


def test_symbolic_float_index_array_is_rejected():
    with pytest.raises(TypeError, match="integer or boolean dtype"):
        T.matrix("x")[T.dvector("f")]
    with pytest.raises(TypeError, match="integer vector"):
        T.advanced_subtensor1(T.matrix("x"), T.lmatrix("m"))


def test_boolean_scalar_index_is_rejected():
    with pytest.raises(TypeError, match="boolean scalar"):
        T.matrix("x")[True]
    with pytest.raises(TypeError, match="boolean scalar"):
        T.matrix("x")[T.gt(T.scalar("s"), 0)]


def test_too_many_indices():
    with pytest.raises(IndexError, match="too many indices"):
        T.matrix("x")[T.btensor3("m") > 0]
    with pytest.raises(IndexError, match="too many indices"):
        T.matrix("x")[[0], [1], [2]]
    with pytest.raises(IndexError, match="too many indices"):
        T.matrix("x")[np.ones((2, 2), bool), 0]


def test_constant_indices_out_of_bounds_at_build_time():
    x = TensorType("float64", shape=(3, 4))("x")
    with pytest.raises(IndexError, match="index 3 is out of bounds for axis 0 with length 3"):
        x[[0, 3]]
    with pytest.raises(IndexError, match="index -5 is out of bounds for axis 1 with length 4"):
        x[T.lvector("iv"), [-5, 0]]
    with pytest.raises(IndexError, match="out of bounds for axis 1"):
        x[[0], 4]
    with pytest.raises(IndexError, match="boolean index of static shape"):
        x[np.ones(4, bool)]
    with pytest.raises(IndexError, match="cannot be broadcast"):
        x[[0, 1], [0, 1, 2]]


@pytest.mark.parametrize("make", [
    lambda x, iv: x[iv],
    lambda x, iv: x[iv, 1:],
    lambda x, iv: T.inc_subtensor(x[iv], 1.0),
    lambda x, iv: T.set_subtensor(x[1:, iv], 1.0),
], ids=["getitem1", "getitem", "inc1", "set"])
def test_indices_out_of_bounds_at_run_time(make, rng):
    x, iv = T.dmatrix("x"), T.lvector("iv")
    f = st.function([x, iv], make(x, iv))
    f(rng.normal(size=(3, 4)), [-3, 2])
    with pytest.raises(IndexError, match=r"out of bounds.*x shape \(3, 4\)"):
        f(rng.normal(size=(3, 4)), [0, 4])


def test_run_time_shape_mismatches(rng):
    x, iv, jv, m = T.dmatrix("x"), T.lvector("iv"), T.lvector("jv"), T.bvector("m")
    f = st.function([x, iv, jv], x[iv, jv])
    with pytest.raises(IndexError, match="shape mismatch"):
        f(rng.normal(size=(3, 4)), [0, 1], [0, 1, 2])
    g = st.function([x, m], x[T.neq(m, 0)])
    with pytest.raises(IndexError, match=r"boolean index.*x shape \(3, 4\)"):
        g(rng.normal(size=(3, 4)), np.ones(2, "int8"))
    y = T.dmatrix("y")
    h = st.function([x, iv, y], T.inc_subtensor(x[iv], y))
    with pytest.raises(ValueError, match=r"value of shape \(2, 3\) does not fit the indexed region of shape \(2, 4\)"):
        h(rng.normal(size=(3, 4)), [0, 1], rng.normal(size=(2, 3)))
    k = st.function([x, iv, jv, y], T.set_subtensor(x[iv, jv], y[0]))
    with pytest.raises(ValueError, match=r"does not fit the indexed region of shape \(3,\)"):
        k(rng.normal(size=(3, 4)), [0, 1, 2], [0, 1, 2], rng.normal(size=(1, 2)))


def test_value_with_too_many_dimensions():
    with pytest.raises(TypeError, match="more than"):
        T.set_subtensor(T.matrix("x")[T.lvector("iv")], T.tensor3("y"))
    with pytest.raises(TypeError, match="more than"):
        T.inc_subtensor(T.matrix("x")[T.lvector("iv"), 0], T.matrix("y"))


# ------------------------------------------------------------------ take

TAKE = [
    ("flat", (3, 4), [0, 11, -1], None),
    ("flat_matrix", (3, 4), [[0, 1], [5, 6]], None),
    ("axis0", (3, 4), [2, 0, 2], 0),
    ("axis1", (3, 4), [3, -4], 1),
    ("neg_axis", (2, 3, 4), [[1], [0]], -1),
    ("scalar", (3, 4), 1, 1),
    ("scalar_flat", (3, 4), 7, None),
    ("vector_input", (6,), [5, 0], 0),
]


@pytest.mark.parametrize("shape, indices, axis", [c[1:] for c in TAKE], ids=[c[0] for c in TAKE])
def test_take_matches_numpy(shape, indices, axis, rng):
    a = TensorType("float64", (False,) * len(shape))("a")
    iv = TensorType("int64", (False,) * np.ndim(indices))("iv")
    out = T.take(a, iv, axis=axis)
    av = rng.normal(size=shape)
    check_numpy([a, iv], out, lambda v, i: np.take(v, i, axis=axis), [av, np.array(indices)])
    check_infer_shape([a, iv], out, [av, np.array(indices)])
    st.verify_grad(lambda v: T.take(v, np.array(indices), axis=axis), [av])


@pytest.mark.parametrize("mode", ["wrap", "clip"])
def test_take_modes(mode, rng):
    a, iv = T.dmatrix("a"), T.lvector("iv")
    av, ivv = rng.normal(size=(3, 4)), np.array([-7, 5, 1, 12])
    check_numpy([a, iv], T.take(a, iv, axis=1, mode=mode), lambda v, i: np.take(v, i, axis=1, mode=mode), [av, ivv])
    check_numpy([a, iv], T.take(a, iv, mode=mode), lambda v, i: np.take(v, i, mode=mode), [av, ivv])


def test_take_errors():
    a = T.matrix("a")
    with pytest.raises(TypeError, match="indices must be integers"):
        T.take(a, T.dvector("f"))
    with pytest.raises(ValueError, match="axis 2 is out of range"):
        T.take(a, [0], axis=2)
    with pytest.raises(ValueError, match="mode must be"):
        T.take(a, [0], mode="bogus")
