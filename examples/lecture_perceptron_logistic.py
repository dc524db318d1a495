# %% [markdown]
# # The perceptron and the sigmoid: logistic regression is exact for Gaussian classes
#
# The lecture's first neuron: a weighted sum z = wᵀx + b followed by an activation. With the
# *step* activation it is Rosenblatt's perceptron; with the *sigmoid* σ(z) = 1 / (1 + e^{−z}) it
# gives a probability. For two Gaussian classes with a shared covariance Σ, Bayes' theorem gives
# P(y=1 | x) = σ(wᵀx + b) **exactly**, with
#
# w = Σ⁻¹(μ₁ − μ₀),  b = −½ μ₁ᵀΣ⁻¹μ₁ + ½ μ₀ᵀΣ⁻¹μ₀ + log(π₁/π₀).
#
# Here we train a `Dense(1, activation="sigmoid")` with binary cross-entropy and check that it
# learns these w and b.
#
# Run it:  python examples/lecture_perceptron_logistic.py

# %%
import numpy as np

import neuralnet as nn
from neuralnet import layers

nn.utils.set_random_seed(0)
mu0, mu1 = np.array([-1.0, 0.0]), np.array([1.0, 0.5])
sigma = np.array([[1.0, 0.4], [0.4, 0.8]])
n_per_class = 20_000  # equal priors: π₁ = π₀, so log(π₁/π₀) = 0
x, y = nn.datasets.make_gaussian_classes(n_per_class, means=(mu0, mu1), covariance=sigma, seed=0)
x = x.astype(np.float32)
print("data:", x.shape, "labels:", np.bincount(y))

# %% [markdown]
# ## The analytic answer
# From the true means and covariance the data were drawn with.

# %%
sigma_inv = np.linalg.inv(sigma)
w_true = sigma_inv @ (mu1 - mu0)
b_true = -0.5 * mu1 @ sigma_inv @ mu1 + 0.5 * mu0 @ sigma_inv @ mu0 + np.log(1.0)
print("analytic  w =", np.round(w_true, 4), " b =", round(b_true, 4))

# %% [markdown]
# ## The perceptron: step activation
# With `activation="step"` the neuron outputs 1 where wᵀx + b > 0, else 0. The step has no useful
# gradient, so it is not trained by backpropagation; here it gets the analytic weights (the Bayes
# decision rule), and then Rosenblatt's learning rule w ← w + η (t − o) x learns weights of its own.

# %%
perceptron = nn.Sequential([layers.Input((2,)), layers.Dense(1, activation="step")])
perceptron.layers[-1].set_weights([w_true.reshape(2, 1), np.array([b_true])])
bayes_accuracy = np.mean(perceptron.predict(x, verbose=0)[:, 0] == y)
print(f"perceptron with the analytic weights (Bayes rule): accuracy {bayes_accuracy:.4f}")

w_p, b_p, rng = np.zeros(2), 0.0, np.random.default_rng(0)
for epoch in range(5):
    for i in rng.permutation(len(x))[:2000]:
        out = float(x[i] @ w_p + b_p > 0)
        w_p, b_p = w_p + 0.1 * (y[i] - out) * x[i], b_p + 0.1 * (y[i] - out)
rule_accuracy = np.mean((x @ w_p + b_p > 0) == y)
print(
    f"perceptron learning rule: w = {np.round(w_p, 3)}, b = {b_p:.3f}, accuracy {rule_accuracy:.4f}"
)

# %% [markdown]
# ## Logistic regression: sigmoid + binary cross-entropy
# Full-batch Adam on the (convex) cross-entropy, so the weights converge to the maximum-likelihood
# solution for this sample.

# %%
model = nn.Sequential([layers.Input((2,)), layers.Dense(1, activation="sigmoid")])
model.compile(optimizer=nn.optimizers.Adam(learning_rate=0.05), loss="binary_crossentropy")
history = model.fit(x, y, batch_size=len(x), epochs=300, verbose=0)
kernel, bias = model.layers[-1].get_weights()
w_learned, b_learned = kernel[:, 0].astype(np.float64), float(bias[0])
print(f"final loss {history.history['loss'][-1]:.5f}")
print("learned   w =", np.round(w_learned, 4), " b =", round(b_learned, 4))

# %% [markdown]
# ## How close must they be? (the tolerance)
# The network sees a finite sample, so even a perfectly trained model lands on the *sample's*
# maximum-likelihood estimate, not on the true w and b. Two checks separate the two errors:
#
# 1. **Optimisation**: the exact maximum-likelihood estimate of this sample, found with Newton's
#    method in NumPy, must agree with the trained weights to 0.01 (float32 Adam after 300 full-batch
#    steps).
# 2. **Statistics**: the estimate scatters around the truth with covariance (N·I)⁻¹, where I is
#    the Fisher information per sample, I = E[p(1−p) x̃x̃ᵀ] with x̃ = (x, 1). Each learned parameter
#    must lie within 4 standard errors of the analytic value (a 4σ band is missed by chance with
#    probability < 1e-4 per parameter). With N = 40,000 the standard errors are about 0.02.
#
# We also print the plug-in (LDA) estimate, the same formula with the sample means and the pooled
# sample covariance.

# %%
x_tilde = np.c_[x.astype(np.float64), np.ones(len(x))]
theta = np.zeros(3)
for _ in range(25):  # Newton's method (iteratively reweighted least squares)
    p = 1 / (1 + np.exp(-x_tilde @ theta))
    gradient = x_tilde.T @ (p - y)
    hessian = (x_tilde * (p * (1 - p))[:, None]).T @ x_tilde
    theta -= np.linalg.solve(hessian, gradient)
p_true = 1 / (1 + np.exp(-x_tilde @ np.r_[w_true, b_true]))
fisher = (x_tilde * (p_true * (1 - p_true))[:, None]).T @ x_tilde  # = N · I
standard_error = np.sqrt(np.diag(np.linalg.inv(fisher)))

m0, m1 = x[y == 0].mean(0), x[y == 1].mean(0)
pooled = 0.5 * (np.cov(x[y == 0].T) + np.cov(x[y == 1].T))
w_lda = np.linalg.solve(pooled, m1 - m0)
b_lda = -0.5 * m1 @ np.linalg.solve(pooled, m1) + 0.5 * m0 @ np.linalg.solve(pooled, m0)

learned, analytic = np.r_[w_learned, b_learned], np.r_[w_true, b_true]
print(f"{'':>12} {'w1':>9} {'w2':>9} {'b':>9}")
for name, values in [("analytic", analytic), ("trained", learned), ("Newton MLE", theta),
                     ("plug-in LDA", np.r_[w_lda, b_lda]), ("std. error", standard_error)]:  # fmt: skip
    print(f"{name:>12} " + " ".join(f"{v:9.4f}" for v in values))
print("trained − analytic, in standard errors:", np.round((learned - analytic) / standard_error, 2))
assert np.max(np.abs(learned - theta)) < 0.01, (
    "training did not reach the maximum-likelihood weights"
)
assert np.all(np.abs(learned - analytic) < 4 * standard_error), (
    "learned w, b differ from Σ⁻¹(μ₁−μ₀)"
)
print("OK: the sigmoid neuron learned w = Σ⁻¹(μ₁ − μ₀) and the analytic b.")
