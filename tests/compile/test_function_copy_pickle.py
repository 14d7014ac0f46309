"""Function.copy (share_memory, swap, delete_updates, name) and pickling compiled functions."""

import pickle

import numpy as np
import pytest

import symtensor as st
import symtensor.tensor as T
from symtensor.compile.mode import Mode


@pytest.fixture(params=["py", "c"])
def mode(request):
    return Mode(linker=request.param)


def _accumulator(mode):
    state = st.shared(np.zeros(3), name="state")
    inc = T.dvector("inc")
    f = st.function([inc], state * 1, updates=[(state, state + inc)], mode=mode, name="acc")
    return f, state


def test_copy_builds_fresh_state_unless_share_memory(mode):
    f, state = _accumulator(mode)
    fresh, shared_mem = f.copy(), f.copy(share_memory=True)
    assert fresh.maker is not f.maker and shared_mem.maker is f.maker
    fresh(np.ones(3))
    shared_mem(np.ones(3))
    np.testing.assert_array_equal(state.get_value(), [2.0, 2.0, 2.0])  # both update the same shared variable


def test_copy_swap_reads_and_updates_the_new_variable(mode):
    f, state = _accumulator(mode)
    other = st.shared(np.full(3, 10.0), name="other")
    g = f.copy(swap={state: other}, name="acc2")
    np.testing.assert_array_equal(g(np.ones(3)), [10.0, 10.0, 10.0])
    np.testing.assert_array_equal(other.get_value(), [11.0, 11.0, 11.0])
    np.testing.assert_array_equal(state.get_value(), [0.0, 0.0, 0.0])
    assert g.name == "acc2" and f.name == "acc"


def test_copy_delete_updates_keeps_inputs_and_outputs(mode):
    f, state = _accumulator(mode)
    g = f.copy(delete_updates=True)
    np.testing.assert_array_equal(g(np.ones(3)), [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(state.get_value(), [0.0, 0.0, 0.0])


def test_copy_swap_checks_types():
    f, state = _accumulator(None)
    with pytest.raises(TypeError, match="another type"):
        f.copy(swap={state: st.shared(np.zeros((3, 3)))})
    with pytest.raises(TypeError, match="shared variables"):
        f.copy(swap={state: T.dvector()})


def test_pickled_function_computes_the_same_with_its_own_shared_copies(mode):
    f, state = _accumulator(mode)
    f(np.ones(3))
    g = pickle.loads(pickle.dumps(f))
    np.testing.assert_array_equal(g(np.ones(3)), [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(g(np.ones(3)), [2.0, 2.0, 2.0])
    np.testing.assert_array_equal(state.get_value(), [1.0, 1.0, 1.0])  # the original is untouched
    assert g.name == "acc"


def test_pickling_keeps_output_structure_and_trust_input():
    x = T.dscalar("x")
    f = st.function([x], {"double": x * 2, "square": x ** 2}, trust_input=False)
    g = pickle.loads(pickle.dumps(f))
    assert g(3.0) == {"double": 6.0, "square": 9.0}
    h = pickle.loads(pickle.dumps(st.function([x], [x + 1], trust_input=True)))
    assert h.trust_input and h(np.array(1.0)) == [2.0]
