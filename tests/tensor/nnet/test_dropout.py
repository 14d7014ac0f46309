"""T.nnet.dropout: mask fraction, inverted scaling, gradient, shared axes, reproducibility."""

import numpy as np
import pytest

import symtensor as st
import symtensor.tensor as T
from symtensor.tensor.shared_randomstreams import RandomStreams


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_mask_fraction_and_scaling(dtype):
    x = T.matrix("x", dtype=dtype)
    out = T.nnet.dropout(x, p=0.3, srng=RandomStreams(1))
    assert out.dtype == dtype and out.type.shape == x.type.shape
    xv = np.ones((300, 400), dtype)
    v = st.function([x], out)(xv)
    dropped = v == 0
    n = dropped.size
    assert abs(dropped.mean() - 0.3) < 5 * np.sqrt(0.3 * 0.7 / n)
    np.testing.assert_allclose(v[~dropped], np.asarray(1 / 0.7, dtype), rtol=1e-6)
    assert abs(v.mean() - 1) < 0.01                            # the expectation is kept


def test_no_rescale_and_masks_change_between_calls():
    x = T.matrix("x")
    f = st.function([x], T.nnet.dropout(x, 0.5, srng=RandomStreams(2), rescale=False))
    xv = np.full((20, 30), 3.0, x.dtype)
    a, b = f(xv), f(xv)
    assert set(np.unique(a)) == {0.0, 3.0}
    assert not np.array_equal(a, b)
    g = st.function([x], T.nnet.dropout(x, 0.5, srng=RandomStreams(2), rescale=False))
    np.testing.assert_array_equal(g(xv), a)                    # same seed, same masks


def test_gradient_is_mask_over_keep_probability(rng):
    x = T.matrix("x")
    p = 0.4
    out = T.nnet.dropout(x, p, srng=RandomStreams(3))
    w = T.matrix("w")
    gx = st.grad((out * w).sum(), x)
    f = st.function([x, w], [out, gx])
    xv = (rng.random((8, 9)) + 0.5).astype(x.dtype)
    wv = rng.normal(size=(8, 9)).astype(x.dtype)
    ov, gv = f(xv, wv)
    mask = (ov != 0).astype(x.dtype)
    np.testing.assert_allclose(gv, wv * mask / (1 - p), rtol=1e-5)
    np.testing.assert_allclose(ov, xv * mask / (1 - p), rtol=1e-5)


def test_shared_axes_drop_whole_slices():
    x = T.tensor4("x")
    out = T.nnet.dropout(x, 0.5, srng=RandomStreams(4), shared_axes=(2, -1))
    v = st.function([x], out)(np.ones((3, 5, 4, 6), x.dtype))
    per_map = v.reshape(3, 5, -1)
    assert np.all((per_map == per_map[..., :1]))              # one decision per (sample, channel)
    assert 0 < (per_map[..., 0] == 0).mean() < 1
    with pytest.raises(ValueError, match="shared axis 4 is out of range"):
        T.nnet.dropout(x, 0.5, shared_axes=(4,))


def test_symbolic_p_and_default_stream():
    x = T.vector("x")
    p = T.scalar("p")
    f = st.function([x, p], T.nnet.dropout(x, p))
    xv = np.ones(10000, x.dtype)
    v = f(xv, 0.2)
    assert abs((v == 0).mean() - 0.2) < 0.02
    np.testing.assert_allclose(v[v != 0], 1 / 0.8, rtol=1e-6)
    np.testing.assert_array_equal(f(xv, 0.0), xv)


def test_edge_cases_and_errors():
    x = T.matrix("x")
    assert T.nnet.dropout(x, 0) is x
    for bad in (1, 1.5, -0.1):
        with pytest.raises(ValueError, match=r"p must be in \[0, 1\)"):
            T.nnet.dropout(x, bad)
    with pytest.raises(TypeError, match="float tensor"):
        T.nnet.dropout(T.imatrix(), 0.5)
    srng = RandomStreams(0)
    out = T.nnet.dropout(x, 0.5, rng=srng)
    assert len(srng.updates()) == 1 and out.ndim == 2
