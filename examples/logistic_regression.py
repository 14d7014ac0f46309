"""Train a logistic regression classifier on synthetic data with symtensor.

Run: python examples/logistic_regression.py
"""

import numpy as np

import symtensor as st
import symtensor.tensor as T


def main(steps=100, seed=0):
    rng = np.random.default_rng(seed)
    n_in, n_classes, n = 5, 3, 300
    true_w = rng.normal(size=(n_in, n_classes))
    data = rng.normal(size=(n, n_in))
    labels = (data @ true_w).argmax(axis=1).astype("int32")

    x = T.dmatrix("x")
    y = T.ivector("y")
    w = st.shared(np.zeros((n_in, n_classes)), name="w")
    b = st.shared(np.zeros(n_classes), name="b")
    p = T.nnet.softmax(T.dot(x, w) + b)
    cost = -T.mean(T.log(p)[T.arange(y.shape[0]), y])
    gw, gb = st.grad(cost, [w, b])
    train = st.function([x, y], cost, updates=[(w, w - 0.5 * gw), (b, b - 0.5 * gb)])
    predict = st.function([x], T.argmax(p, axis=1))

    first = train(data, labels)
    for _ in range(steps - 1):
        last = train(data, labels)
    accuracy = float((predict(data) == labels).mean())
    print(f"loss {first:.4f} -> {last:.4f} after {steps} steps; training accuracy {accuracy:.2%}")
    return first, last, accuracy


if __name__ == "__main__":
    main()
