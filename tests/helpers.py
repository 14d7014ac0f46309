"""Shared test helpers: compare ops to NumPy, check infer_shape, make awkward inputs."""

import numpy as np

import symtensor as st
from symtensor.compile.mode import Mode
from symtensor.graph.basic import ancestors
from symtensor.tensor.shape import symbolic_shape

FLOAT_DTYPES = ("float32", "float64")
INT_DTYPES = ("int8", "int32", "int64")


def tolerance(dtype):
    return 1e-4 if dtype in ("float32", "float16", "complex64") else 1e-10


def rand(rng, shape, dtype="float64", low=-2.0, high=2.0):
    """Random values of ``dtype``; integers drawn from [low, high]."""
    if np.dtype(dtype).kind in "iu":
        return rng.integers(int(low), int(high) + 1, size=shape).astype(dtype)
    if np.dtype(dtype).kind == "b":
        return rng.random(shape) > 0.5
    return rng.uniform(low, high, size=shape).astype(dtype)


def noncontiguous(arr):
    """A strided (every other element along each axis) view holding the same values."""
    big = np.zeros(tuple(2 * s for s in arr.shape), dtype=arr.dtype)
    view = big[tuple(slice(None, None, 2) for _ in arr.shape)]
    view[...] = arr
    assert arr.ndim == 0 or not view.flags.c_contiguous or arr.size <= 1
    return view


def check_numpy(inputs, output, reference, values, rtol=None, atol=None):
    """Compile ``output`` of ``inputs``, evaluate at ``values`` and compare with ``reference(*values)``."""
    f = st.function(inputs, output, on_unused_input="ignore")
    got = f(*values)
    want = reference(*values)
    got_arr, want_arr = np.asarray(got), np.asarray(want)
    assert got_arr.shape == want_arr.shape, f"shape {got_arr.shape} != numpy's {want_arr.shape}"
    dtype = str(output.dtype)
    tol = tolerance(dtype)
    np.testing.assert_allclose(got_arr, want_arr, rtol=rtol or tol, atol=atol or tol, equal_nan=True)
    return got


def check_infer_shape(inputs, outputs, values):
    """The shapes built by infer_shape equal the computed shapes, and computing them
    does not evaluate the outputs' own nodes."""
    outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    shape_vars = []
    for out in outputs:
        shp = symbolic_shape(out)
        assert len(shp) == out.ndim
        shape_vars.extend(shp)
        needed = {v.owner for v in ancestors(list(shp)) if v.owner is not None}
        assert out.owner not in needed, f"infer_shape of {out.owner.op} needs the node itself"
    f_shape = st.function(inputs, shape_vars, on_unused_input="ignore") if shape_vars else None
    f_out = st.function(inputs, outputs, on_unused_input="ignore")
    actual = [np.shape(v) for v in f_out(*values)]
    inferred = [int(v) for v in f_shape(*values)] if f_shape else []
    k = 0
    for out, shp in zip(outputs, actual):
        assert tuple(inferred[k:k + len(shp)]) == shp, \
            f"infer_shape of {out.owner.op} gave {inferred[k:k + len(shp)]}, real shape {shp}"
        k += len(shp)


# ------------------------------------------------------------------ C linker vs python linker

def compile_c_and_py(inputs, outputs):
    """The same graph compiled with the C linker and with the python linker (the reference)."""
    return (st.function(inputs, outputs, mode=Mode(linker="c", optimizer="fast_run"), on_unused_input="ignore"),
            st.function(inputs, outputs, mode=Mode(linker="py", optimizer="fast_run"), on_unused_input="ignore"))


def assert_same_results(fc, fp, *values, rtol=None):
    """Equal dtypes, shapes and values; floats to their precision (float32 also when upcast later)."""
    got, want = fc(*values), fp(*values)
    if not isinstance(got, list):
        got, want = [got], [want]
    for g, w in zip(got, want):
        g, w = np.asarray(g), np.asarray(w)
        assert g.dtype == w.dtype and g.shape == w.shape
        tol = rtol if rtol is not None else {"float32": 2e-5, "float64": 1e-12}.get(g.dtype.name, 0)
        np.testing.assert_allclose(g, w, rtol=tol, atol=tol * 1e-2, equal_nan=True)


def c_op_names(f):
    """Names of the op classes that ran as C; fails if some node fell back to Python."""
    plan = f.maker.run.plan
    assert not plan.python_nodes, f"python fallbacks: {list(plan.python_nodes.values())}"
    return {type(n.op).__name__ for n in plan.order}
