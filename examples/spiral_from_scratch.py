"""The lecture's Tutorial 1, from scratch in NumPy: a linear softmax classifier, then a network with
one hidden layer of 100 ReLU units, on the three-arm spiral (cs231n, "Minimal neural network case
study").

Everything is written out as in the lecture: the forward pass, the softmax loss, the derivative
dL/dy = p − 1[j = t] (divided by N for the cost), the chain rule back through each layer, and the
gradient-descent update. The random numbers are drawn in the cs231n page's order from a generator
seeded with 0, so the printed losses are the page's.

Run it:  python examples/spiral_from_scratch.py
"""

from __future__ import annotations

import numpy as np

N = 100  # points per class
D = 2  # dimensionality
K = 3  # number of classes (arms)


def make_data(rng: np.random.RandomState) -> tuple[np.ndarray, np.ndarray]:
    """The spiral: for arm j, radius r in [0, 1] and angle t in [4j, 4(j+1)] plus noise."""
    X = np.zeros((N * K, D))
    y = np.zeros(N * K, dtype="uint8")
    for j in range(K):
        ix = range(N * j, N * (j + 1))
        r = np.linspace(0.0, 1, N)
        t = np.linspace(j * 4, (j + 1) * 4, N) + rng.randn(N) * 0.2
        X[ix] = np.c_[r * np.sin(t), r * np.cos(t)]
        y[ix] = j
    return X, y


def softmax_loss(scores: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """Class probabilities and the cost J = (1/N) Σ −log p_i(y_i)."""
    num_examples = scores.shape[0]
    exp_scores = np.exp(scores)  # as in the lecture (the scores stay small here)
    probs = exp_scores / np.sum(exp_scores, axis=1, keepdims=True)
    data_loss = np.sum(-np.log(probs[range(num_examples), y])) / num_examples
    return probs, data_loss


def train_linear(
    X: np.ndarray,
    y: np.ndarray,
    rng: np.random.RandomState,
    step_size: float = 1e-0,
    reg: float = 1e-3,
    iterations: int = 200,
    verbose: bool = False,
) -> dict:
    """Step one: y = x·W + b, trained by full-batch gradient descent."""
    W = 0.01 * rng.randn(D, K)
    b = np.zeros((1, K))
    num_examples = X.shape[0]
    losses = []
    for i in range(iterations):
        scores = np.dot(X, W) + b
        probs, data_loss = softmax_loss(scores, y)
        reg_loss = 0.5 * reg * np.sum(W * W)
        loss = data_loss + reg_loss
        losses.append(loss)
        if verbose and i % 10 == 0:
            print(f"iteration {i}: loss {loss:f}")
        # dL/dy_j = p_j − 1[j = t], and the cost divides by N
        dscores = probs
        dscores[range(num_examples), y] -= 1
        dscores /= num_examples
        dW = np.dot(X.T, dscores)
        db = np.sum(dscores, axis=0, keepdims=True)
        dW += reg * W  # the regularization gradient
        W += -step_size * dW
        b += -step_size * db
    predicted = np.argmax(np.dot(X, W) + b, axis=1)
    return {"W": W, "b": b, "losses": losses, "accuracy": float(np.mean(predicted == y))}


def train_two_layer(
    X: np.ndarray,
    y: np.ndarray,
    rng: np.random.RandomState,
    hidden: int = 100,
    step_size: float = 1e-0,
    reg: float = 1e-3,
    iterations: int = 10000,
    verbose: bool = False,
) -> dict:
    """Step two: h = ReLU(x·W1 + b1), y = h·W2 + b2, backpropagated by hand."""
    W = 0.01 * rng.randn(D, hidden)
    b = np.zeros((1, hidden))
    W2 = 0.01 * rng.randn(hidden, K)
    b2 = np.zeros((1, K))
    num_examples = X.shape[0]
    losses = []
    for i in range(iterations):
        hidden_layer = np.maximum(0, np.dot(X, W) + b)  # note, ReLU activation
        scores = np.dot(hidden_layer, W2) + b2
        probs, data_loss = softmax_loss(scores, y)
        reg_loss = 0.5 * reg * np.sum(W * W) + 0.5 * reg * np.sum(W2 * W2)
        loss = data_loss + reg_loss
        losses.append(loss)
        if verbose and i % 1000 == 0:
            print(f"iteration {i}: loss {loss:f}")
        # derivative w.r.t. the scores
        dscores = probs
        dscores[range(num_examples), y] -= 1
        dscores /= num_examples
        # first backprop into parameters W2 and b2
        dW2 = np.dot(hidden_layer.T, dscores)
        db2 = np.sum(dscores, axis=0, keepdims=True)
        # next backprop into the hidden layer
        dhidden = np.dot(dscores, W2.T)
        # backprop the ReLU non-linearity
        dhidden[hidden_layer <= 0] = 0
        # finally into W, b
        dW = np.dot(X.T, dhidden)
        db = np.sum(dhidden, axis=0, keepdims=True)
        dW2 += reg * W2
        dW += reg * W
        W += -step_size * dW
        b += -step_size * db
        W2 += -step_size * dW2
        b2 += -step_size * db2
    hidden_layer = np.maximum(0, np.dot(X, W) + b)
    predicted = np.argmax(np.dot(hidden_layer, W2) + b2, axis=1)
    return {
        "W": W,
        "b": b,
        "W2": W2,
        "b2": b2,
        "losses": losses,
        "accuracy": float(np.mean(predicted == y)),
    }


def run(seed: int = 0, reg: float = 1e-3, verbose: bool = False) -> dict:
    """Data, the linear classifier, then the two-layer network, drawing random numbers in the
    cs231n page's order from one generator."""
    rng = np.random.RandomState(seed)
    X, y = make_data(rng)
    linear = train_linear(X, y, rng, reg=reg, verbose=verbose)
    two_layer = train_two_layer(X, y, rng, reg=reg, verbose=verbose)
    return {"X": X, "y": y, "linear": linear, "two_layer": two_layer}


if __name__ == "__main__":
    results = run(verbose=True)
    print(f"linear classifier training accuracy: {results['linear']['accuracy']:.2f}")
    print(f"two-layer network training accuracy: {results['two_layer']['accuracy']:.2f}")
