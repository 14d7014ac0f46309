"""The shipped models: identical data and weights, and symtensor's training step agrees with torch's."""

import numpy as np
import pytest

import symtensor as st
from symtensor.bench import data
from symtensor.bench.models import DEFAULT_MODELS, REGISTRY, Step, Unavailable, base, get

MODELS = list(REGISTRY)


def _symtensor_ready(model):
    missing = model.missing_symtensor_ops()
    if missing:
        pytest.skip(f"{model.name}: symtensor op not written yet: {'; '.join(missing)}")


def _losses(step, n):
    return [step() for _ in range(n)]


def test_registry_has_the_shipped_models_and_a_default_set():
    assert {"logreg", "mlp", "mlp_deep", "lenet", "alexnet", "lstm"} <= set(REGISTRY)
    assert set(DEFAULT_MODELS) <= set(REGISTRY)
    with pytest.raises(ValueError, match="unknown model 'nope'"):
        get("nope")
    with pytest.raises(ValueError, match="has no size 'huge'"):
        get("mlp").config("huge")


@pytest.mark.parametrize("name", MODELS)
def test_weights_and_batch_are_float32_and_deterministic(name):
    model = get(name)
    for size in ("tiny", "small"):
        first, again = model.params(size), model.params(size)
        assert list(first) == list(again)
        for key, value in first.items():
            assert value.dtype == np.float32, key
            np.testing.assert_array_equal(value, again[key])
        batch = model.batch(size)
        for key, value in batch.items():
            assert value.dtype in (np.float32, np.int32), key
            np.testing.assert_array_equal(value, model.batch(size)[key])


def test_paper_sizes_are_the_published_shapes():
    lstm = get("lstm").config("paper")
    assert (lstm["vocab"], lstm["hidden"], lstm["layers"], lstm["steps"], lstm["batch"]) == (10000, 200, 2, 20, 20)
    lenet = get("lenet").config("paper")
    assert lenet["image"] == (1, 28, 28) and lenet["convs"] == [(20, 5), (50, 5)] and lenet["hidden"] == 500
    alexnet = get("alexnet")
    cfg = alexnet.config("paper")
    assert cfg["image"] == (3, 224, 224) and cfg["fc"] == [4096, 4096] and cfg["n_out"] == 1000
    assert alexnet.params("tiny")["W0"].shape[0] == 6  # flattened features of the tiny net: 6 x 1 x 1
    from symtensor.bench.models import alexnet as alexnet_module
    assert alexnet_module.feature_size(cfg) == 256 * 6 * 6
    assert get("mlp").params("small")["W0"].shape == (784, 500)


def test_data_streams_differ_per_model_and_purpose():
    a, b = data.rng_for("mlp", "params").random(3), data.rng_for("mlp", "batch").random(3)
    c = data.rng_for("logreg", "params").random(3)
    assert not np.allclose(a, b) and not np.allclose(a, c)
    np.testing.assert_array_equal(a, data.rng_for("mlp", "params").random(3))
    words = data.tokens(np.random.default_rng(0), 2, 5, 7)
    assert words.shape == (2, 6) and words.max() < 7


@pytest.mark.parametrize("name", MODELS)
def test_symtensor_step_matches_torch_for_two_steps(name):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    model = get(name)
    _symtensor_ready(model)
    cfg, params, batch = model.config("tiny"), model.params("tiny"), model.batch("tiny")
    mine = _losses(model.builders["symtensor"](cfg, params, batch), 3)
    theirs = _losses(model.builders["torch"](cfg, params, batch), 3)
    # step 0 is the loss of the shared initial weights; steps 1 and 2 follow identical SGD updates
    np.testing.assert_allclose(mine, theirs, rtol=1e-4)
    assert mine[0] != mine[2]  # the updates changed the weights


@pytest.mark.parametrize("name", ["logreg", "mlp"])
def test_compiled_c_step_matches_torch(name):
    torch = pytest.importorskip("torch")
    model = get(name)
    cfg, params, batch = model.config("tiny"), model.params("tiny"), model.batch("tiny")
    with st.config.change_flags(linker="c"):
        step = model.builders["symtensor"](cfg, params, batch)
    assert type(step.function.maker.run).__name__ == "CRunner"
    np.testing.assert_allclose(_losses(step, 2), _losses(model.builders["torch"](cfg, params, batch), 2), rtol=1e-4)


def test_symtensor_step_trains_shared_copies_of_the_numpy_weights():
    model = get("logreg")
    cfg, params, batch = model.config("tiny"), model.params("tiny"), model.batch("tiny")
    before = {k: v.copy() for k, v in params.items()}
    step = model.builders["symtensor"](cfg, params, batch)
    assert isinstance(step, Step)
    step()
    for k in params:  # the arrays given to the builder are the shared starting point, never trained in place
        np.testing.assert_array_equal(params[k], before[k])
    shared = {v.name: v for v in step.function.maker.shared_inputs}
    assert set(shared) == {"W", "b"}
    assert not np.array_equal(shared["W"].get_value(), params["W"])


def test_convnets_and_lstm_declare_the_symtensor_ops_they_need():
    assert ("symtensor.tensor.nnet", "conv2d") in get("lenet").needs
    assert ("symtensor.tensor.signal.pool", "pool_2d") in get("alexnet").needs
    assert ("symtensor", "scan") in get("lstm").needs
    assert "conv2d" in get("lenet").unsupported["pytensor"]
    with pytest.raises(Unavailable, match="symtensor has no symtensor.nope_module.f yet"):
        base.symtensor_op("symtensor.nope_module", "f")


@pytest.mark.slow
@pytest.mark.parametrize("name", ["logreg", "mlp"])
def test_pytensor_step_matches_symtensor(name):
    pytensor = pytest.importorskip("pytensor")  # noqa: F841 - the builder imports it; a cold numba compile is slow
    model = get(name)
    cfg, params, batch = model.config("tiny"), model.params("tiny"), model.batch("tiny")
    np.testing.assert_allclose(_losses(model.builders["pytensor"](cfg, params, batch), 2),
                               _losses(model.builders["symtensor"](cfg, params, batch), 2), rtol=1e-4)
