"""Theano-style programs: the way deep-learning code was written against Theano 1.0.

Shared parameters, gradient updates, givens-based minibatching over a shared
dataset, tied weights, regularisers, momentum state in extra shared
variables, early stopping through get_value/set_value, float32 end to end.
Where a training step has a closed form it is checked against NumPy.
"""

from collections import OrderedDict

import numpy as np
import pytest

import symtensor as st
import symtensor.tensor as T
from symtensor import function, shared


def _blobs(rng, n_per_class, n_in, n_classes, spread=0.6, dtype="float64"):
    centers = rng.randn(n_classes, n_in) * 3
    labels = np.repeat(np.arange(n_classes), n_per_class)
    data = centers[labels] + spread * rng.randn(len(labels), n_in)
    order = rng.permutation(len(labels))
    return data[order].astype(dtype), labels[order].astype("int32")


class HiddenLayer:
    def __init__(self, rng, inp, n_in, n_out, activation=T.tanh):
        bound = np.sqrt(6.0 / (n_in + n_out))
        w_values = np.asarray(rng.uniform(low=-bound, high=bound, size=(n_in, n_out)), dtype=st.config.floatX)
        if activation is T.nnet.sigmoid:
            w_values *= 4
        self.W = shared(value=w_values, name="W", borrow=True)
        self.b = shared(value=np.zeros((n_out,), dtype=st.config.floatX), name="b", borrow=True)
        self.output = activation(T.dot(inp, self.W) + self.b)
        self.params = [self.W, self.b]


class LogisticRegression:
    def __init__(self, inp, n_in, n_out):
        self.W = shared(np.zeros((n_in, n_out), dtype=st.config.floatX), name="W", borrow=True)
        self.b = shared(np.zeros((n_out,), dtype=st.config.floatX), name="b", borrow=True)
        self.p_y_given_x = T.nnet.softmax(T.dot(inp, self.W) + self.b)
        self.y_pred = T.argmax(self.p_y_given_x, axis=1)
        self.params = [self.W, self.b]

    def negative_log_likelihood(self, y):
        return -T.mean(T.log(self.p_y_given_x)[T.arange(y.shape[0]), y])

    def errors(self, y):
        if y.ndim != self.y_pred.ndim:
            raise TypeError("y should have the same shape as self.y_pred")
        return T.mean(T.neq(self.y_pred, y))


def shared_dataset(data_xy, borrow=True):
    """Keep a dataset in shared variables; labels are stored as floatX and cast back to int32."""
    data_x, data_y = data_xy
    shared_x = shared(np.asarray(data_x, dtype=st.config.floatX), borrow=borrow)
    shared_y = shared(np.asarray(data_y, dtype=st.config.floatX), borrow=borrow)
    return shared_x, T.cast(shared_y, "int32")


# ------------------------------------------------------------------ MLP + givens minibatches (float32)

@pytest.mark.parametrize("floatx", ["float32", "float64"])
def test_mlp_sgd_with_givens_minibatches(floatx):
    with st.change_flags(floatX=floatx):
        rng = np.random.RandomState(1234)
        data, labels = _blobs(rng, 40, 5, 3)
        train_x, train_y = shared_dataset((data[:90], labels[:90]))
        valid_x, valid_y = shared_dataset((data[90:], labels[90:]))
        batch_size = 10
        n_train_batches = train_x.get_value(borrow=True).shape[0] // batch_size

        index = T.lscalar("index")
        x = T.matrix("x")
        y = T.ivector("y")
        hidden = HiddenLayer(rng, x, 5, 8)
        logreg = LogisticRegression(hidden.output, 8, 3)
        params = hidden.params + logreg.params
        l2 = (hidden.W ** 2).sum() + (logreg.W ** 2).sum()
        cost = logreg.negative_log_likelihood(y) + 0.0001 * l2
        gparams = [T.grad(cost, p) for p in params]
        learning_rate = 0.1
        updates = [(p, p - learning_rate * g) for p, g in zip(params, gparams)]
        batch = slice(index * batch_size, (index + 1) * batch_size)
        train_model = function([index], cost, updates=updates, givens={x: train_x[batch], y: train_y[batch]})
        validate_model = function([], logreg.errors(y), givens={x: valid_x, y: valid_y})

        assert cost.dtype == floatx and all(g.dtype == floatx for g in gparams)
        initial_error = validate_model()
        losses = []
        for epoch in range(15):
            losses.append(np.mean([train_model(i) for i in range(n_train_batches)]))
        assert np.asarray(train_model(0)).dtype == floatx
        assert all(p.get_value().dtype == floatx for p in params)
        assert losses[-1] < 0.5 * losses[0]
        err = validate_model()
        assert err <= 0.1 < initial_error or err <= 0.1
        assert 0.0 <= float(err) <= 1.0


# ------------------------------------------------------------------ regularised logistic regression

def test_l1_l2_regularised_logistic_regression_matches_numpy():
    rng = np.random.RandomState(0)
    data, labels = _blobs(rng, 15, 4, 3)
    x = T.dmatrix("x")
    y = T.ivector("y")
    clf = LogisticRegression(x, 4, 3)
    clf.W.set_value(rng.randn(4, 3) * 0.1)
    l1 = abs(clf.W).sum()
    l2_sqr = (clf.W ** 2).sum()
    l1_reg, l2_reg, lr = 0.001, 0.01, 0.5
    cost = clf.negative_log_likelihood(y) + l1_reg * l1 + l2_reg * l2_sqr
    g_W, g_b = T.grad(cost=cost, wrt=[clf.W, clf.b])
    train = function([x, y], cost, updates=[(clf.W, clf.W - lr * g_W), (clf.b, clf.b - lr * g_b)])

    W, b = clf.W.get_value(), clf.b.get_value()
    onehot = np.eye(3)[labels]
    for _ in range(25):
        out = train(data, labels)
        logits = data @ W + b
        p = np.exp(logits - logits.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        ref_cost = -np.log(p[np.arange(len(labels)), labels]).mean() + l1_reg * np.abs(W).sum() \
            + l2_reg * (W ** 2).sum()
        np.testing.assert_allclose(out, ref_cost, rtol=1e-10)
        d = (p - onehot) / len(labels)
        W, b = W - lr * (data.T @ d + l1_reg * np.sign(W) + 2 * l2_reg * W), b - lr * d.sum(0)
    np.testing.assert_allclose(clf.W.get_value(), W, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(clf.b.get_value(), b, rtol=1e-9, atol=1e-12)
    predict = function([x], clf.y_pred)
    assert predict(data).dtype == np.int64
    assert (predict(data) == labels).mean() > 0.9
    with pytest.raises(TypeError):
        clf.errors(T.imatrix())


# ------------------------------------------------------------------ denoising autoencoder (tied weights)

class DenoisingAutoencoder:
    def __init__(self, rng, inp, mask, n_visible, n_hidden):
        bound = 4 * np.sqrt(6.0 / (n_hidden + n_visible))
        self.W = shared(rng.uniform(-bound, bound, (n_visible, n_hidden)), name="W", borrow=True)
        self.b = shared(np.zeros(n_hidden), name="b", borrow=True)
        self.b_prime = shared(np.zeros(n_visible), name="b_prime", borrow=True)
        self.W_prime = self.W.T  # tied weights
        self.x = inp
        self.mask = mask
        self.params = [self.W, self.b, self.b_prime]

    def get_hidden_values(self, inp):
        return T.nnet.sigmoid(T.dot(inp, self.W) + self.b)

    def get_reconstructed_input(self, hidden):
        return T.nnet.sigmoid(T.dot(hidden, self.W_prime) + self.b_prime)

    def get_cost_updates(self, learning_rate):
        tilde_x = self.x * self.mask  # corruption: the mask comes from NumPy (RandomStreams is not used)
        z = self.get_reconstructed_input(self.get_hidden_values(tilde_x))
        L = -T.sum(self.x * T.log(z) + (1 - self.x) * T.log(1 - z), axis=1)
        cost = T.mean(L)
        gparams = T.grad(cost, self.params)
        updates = [(p, p - learning_rate * g) for p, g in zip(self.params, gparams)]
        return cost, updates


def test_denoising_autoencoder_with_tied_weights():
    rng = np.random.RandomState(123)
    prototypes = (rng.rand(3, 12) > 0.5).astype("float64")
    data = prototypes[rng.randint(0, 3, 60)]
    x = T.dmatrix("x")
    mask = T.dmatrix("mask")
    da = DenoisingAutoencoder(rng, x, mask, 12, 6)
    cost, updates = da.get_cost_updates(learning_rate=0.1)
    train_da = function([x, mask], cost, updates=updates)
    costs = []
    for epoch in range(40):
        corruption = rng.binomial(1, 0.7, size=data.shape).astype("float64")
        costs.append(train_da(data, corruption))
    assert np.isfinite(costs).all()
    assert costs[-1] < costs[0] * 0.8
    # the gradient of the tied W collects both uses (encoder and decoder)
    small_mask = np.ones((4, 12))
    sample = data[:4]

    def cost_of_w(w):
        h = T.nnet.sigmoid(T.dot(sample * small_mask, w) + da.b)
        z = T.nnet.sigmoid(T.dot(h, w.T) + da.b_prime)
        return T.mean(-T.sum(sample * T.log(z) + (1 - sample) * T.log(1 - z), axis=1))

    st.verify_grad(cost_of_w, [da.W.get_value()], rng=rng)


# ------------------------------------------------------------------ momentum and adaptive updates

def sgd_momentum(cost, params, learning_rate, momentum):
    updates = OrderedDict()
    for param in params:
        velocity = shared(np.zeros_like(param.get_value(borrow=True)), broadcastable=param.broadcastable)
        new_velocity = momentum * velocity - learning_rate * T.grad(cost, param)
        updates[velocity] = new_velocity
        updates[param] = param + new_velocity
    return updates


def test_momentum_updates_with_extra_shared_state_match_numpy():
    rng = np.random.RandomState(3)
    A = rng.randn(20, 4)
    target = rng.randn(20)
    x = T.dmatrix("x")
    t = T.dvector("t")
    w = shared(np.zeros(4), name="w")
    b = shared(0.0, name="b")
    lr = shared(np.float64(0.05), name="lr")  # a learning rate that the program decays
    cost = T.mean((T.dot(x, w) + b - t) ** 2)
    updates = sgd_momentum(cost, [w, b], lr, 0.9)
    assert len(updates) == 4
    step = function([x, t], cost, updates=updates)

    w_ref, b_ref, vw, vb, lr_ref = np.zeros(4), 0.0, np.zeros(4), 0.0, 0.05
    for epoch in range(30):
        out = step(A, target)
        r = A @ w_ref + b_ref - target
        np.testing.assert_allclose(out, np.mean(r ** 2), rtol=1e-10)
        gw, gb = 2 * A.T @ r / len(r), 2 * r.mean()
        vw, vb = 0.9 * vw - lr_ref * gw, 0.9 * vb - lr_ref * gb
        w_ref, b_ref = w_ref + vw, b_ref + vb
        if epoch % 10 == 9:
            lr.set_value(lr.get_value() * 0.5)
            lr_ref *= 0.5
    np.testing.assert_allclose(w.get_value(), w_ref, rtol=1e-9)
    np.testing.assert_allclose(b.get_value(), b_ref, rtol=1e-9)


def test_rmsprop_style_accumulators():
    x = T.dvector("x")
    w = shared(np.array([3.0, -2.0]), name="w")
    cost = T.sum((w - x) ** 2)
    g = T.grad(cost, w)
    acc = shared(np.zeros(2), name="acc")
    new_acc = 0.9 * acc + 0.1 * g ** 2
    step = function([x], cost, updates=[(acc, new_acc), (w, w - 0.1 * g / T.sqrt(new_acc + 1e-6))])
    first = step([0.0, 0.0])
    for _ in range(50):
        last = step([0.0, 0.0])
    assert last < first * 0.1
    assert (acc.get_value() > 0).all()


# ------------------------------------------------------------------ early stopping

def test_early_stopping_reads_and_restores_shared_values():
    rng = np.random.RandomState(7)
    data, labels = _blobs(rng, 20, 3, 2, spread=2.5)
    train_x, train_y = data[:30], labels[:30]
    valid_x, valid_y = data[30:], labels[30:]
    x = T.dmatrix("x")
    y = T.ivector("y")
    clf = LogisticRegression(x, 3, 2)
    cost = clf.negative_log_likelihood(y)
    updates = [(p, p - 0.5 * T.grad(cost, p)) for p in clf.params]
    train = function([x, y], cost, updates=updates)
    valid_loss = function([x, y], cost)

    best_loss, best_params, best_epoch = np.inf, None, -1
    patience, epoch = 5, 0
    while epoch < 200 and epoch - best_epoch <= patience:
        train(train_x, train_y)
        loss = float(valid_loss(valid_x, valid_y))
        if loss < best_loss:
            best_loss, best_epoch = loss, epoch
            best_params = [p.get_value() for p in clf.params]  # copies
        epoch += 1
    assert best_params is not None
    # the snapshot is a copy: training moved the live parameters on
    assert not all(np.array_equal(p.get_value(), v) for p, v in zip(clf.params, best_params)) \
        or epoch - best_epoch <= 1
    for p, value in zip(clf.params, best_params):
        p.set_value(value)
    assert float(valid_loss(valid_x, valid_y)) == pytest.approx(best_loss, rel=1e-12)


# ------------------------------------------------------------------ misc idioms

def test_function_with_givens_and_updates_on_a_learning_rate_schedule():
    """A shared index into a shared dataset, advanced by a default update."""
    data = shared(np.arange(12.0).reshape(6, 2), name="data")
    pos = shared(np.int64(0), name="pos")
    pos.default_update = (pos + 1) % 3
    x = T.dmatrix("x")
    batch_sum = function([], x.sum(), givens={x: data[pos * 2:(pos + 1) * 2]})
    sums = [float(batch_sum()) for _ in range(4)]
    assert sums == [6.0, 22.0, 38.0, 6.0]


def test_theano_clone_replaces_a_subgraph():
    x = T.dvector("x")
    y = T.dvector("y")
    out = (x ** 2).sum()
    swapped = st.clone(out, replace={x: y * 2})
    assert function([y], swapped)([1.0, 2.0]) == 20.0
