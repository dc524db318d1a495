"""Tests of neuralnet.metrics: scikit-learn on the whole data, Keras 3 numbers, names and state.

The Keras constants (`KERAS_*`) were computed with Keras 3.15.1 (JAX backend, float32) on exactly
the data built below (same generators, same batches, same sample weights); Keras itself is not
imported here. Keras works in float32, hence `rtol=2e-6` against them.
"""

import itertools

import numpy as np
import pytest
from sklearn import metrics as skm

from neuralnet import losses, metrics
from neuralnet.training.compile_utils import resolve_metric

KERAS_RTOL = 2e-6

# -------------------------------------------------------------------------------------------------
# Data: the same generators fed Keras for the constants below.

CUTS = (0.0, 0.003, 0.11, 0.112, 0.45, 0.8, 1.0)  # uneven batches, one of them a single sample


def batches(n):
    edges = sorted({round(c * n) for c in CUTS})
    return list(itertools.pairwise(edges))


def binary_data(seed=0, n=613):
    rng = np.random.default_rng(seed)
    y_true = (rng.random(n) < 0.4).astype(np.float32)
    y_pred = np.clip(rng.normal(0.35 + 0.3 * y_true, 0.22), 0, 1).astype(np.float32)
    sample_weight = rng.uniform(0.2, 2.0, n).astype(np.float32)
    return y_true, y_pred, sample_weight


def multiclass_data(seed=1, n=517, c=5):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, c, n)
    logits = rng.normal(size=(n, c)) + 1.2 * np.eye(c)[labels]
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs = (e / e.sum(axis=1, keepdims=True)).astype(np.float32)
    sample_weight = rng.uniform(0.2, 2.0, n).astype(np.float32)
    return labels, np.eye(c, dtype=np.float32)[labels], probs, sample_weight


def multilabel_data(seed=2, n=400):
    rng = np.random.default_rng(seed)
    y_true = (rng.random((n, 4)) < np.array([0.2, 0.4, 0.5, 0.7])).astype(np.float32)
    y_pred = np.clip(rng.normal(0.3 + 0.35 * y_true, 0.25), 0, 1).astype(np.float32)
    sample_weight = rng.uniform(0.2, 2.0, n).astype(np.float32)
    return y_true, y_pred, sample_weight


def feed(metric, y_true, y_pred, sample_weight=None):
    """Update `metric` batch by batch over the uneven `batches`, return its result."""
    for a, b in batches(len(y_true)):
        metric.update_state(
            y_true[a:b], y_pred[a:b], None if sample_weight is None else sample_weight[a:b]
        )
    return metric.result()


def logit(p):
    p = np.clip(p, 1e-3, 1 - 1e-3)
    return np.log(p / (1 - p)).astype(np.float32)


# -------------------------------------------------------------------------------------------------
# 1. Against scikit-learn on the whole data: accumulated result == whole-data value.


def test_binary_accuracy_matches_sklearn_over_uneven_weighted_batches():
    y, p, w = binary_data()
    expected = skm.accuracy_score(y, p > 0.5, sample_weight=w)
    assert feed(metrics.BinaryAccuracy(), y, p, w) == pytest.approx(expected, rel=1e-12)
    # (N,) labels against (N, 1) predictions pair sample with sample.
    assert feed(metrics.BinaryAccuracy(), y, p[:, None], w) == pytest.approx(expected, rel=1e-12)


def test_categorical_and_sparse_accuracy_match_sklearn():
    labels, onehot, probs, w = multiclass_data()
    expected = skm.accuracy_score(labels, probs.argmax(axis=1), sample_weight=w)
    assert feed(metrics.CategoricalAccuracy(), onehot, probs, w) == pytest.approx(expected)
    assert feed(metrics.SparseCategoricalAccuracy(), labels, probs, w) == pytest.approx(expected)
    col = labels[:, None]
    assert feed(metrics.SparseCategoricalAccuracy(), col, probs, w) == pytest.approx(expected)


@pytest.mark.parametrize("k", [1, 2, 4])
def test_top_k_accuracies_match_sklearn(k):
    labels, onehot, probs, w = multiclass_data()
    expected = skm.top_k_accuracy_score(labels, probs, k=k, sample_weight=w, labels=range(5))
    assert feed(metrics.TopKCategoricalAccuracy(k=k), onehot, probs, w) == pytest.approx(expected)
    assert feed(metrics.SparseTopKCategoricalAccuracy(k=k), labels, probs, w) == pytest.approx(
        expected
    )


def test_precision_recall_and_confusion_counts_match_sklearn():
    y, p, w = binary_data()
    predicted = p > 0.5
    assert feed(metrics.Precision(), y, p, w) == pytest.approx(
        skm.precision_score(y, predicted, sample_weight=w)
    )
    assert feed(metrics.Recall(), y, p, w) == pytest.approx(
        skm.recall_score(y, predicted, sample_weight=w)
    )
    tn, fp, fn, tp = skm.confusion_matrix(y, predicted, sample_weight=w).ravel()
    for cls, expected in [
        (metrics.TruePositives, tp),
        (metrics.FalsePositives, fp),
        (metrics.TrueNegatives, tn),
        (metrics.FalseNegatives, fn),
    ]:
        assert feed(cls(), y, p, w) == pytest.approx(expected, rel=1e-10)


def test_precision_and_recall_give_one_value_per_threshold_in_the_given_order():
    y, p, w = binary_data()
    thresholds = [0.7, 0.2, 0.5]
    precision = feed(metrics.Precision(thresholds=thresholds), y, p, w)
    recall = feed(metrics.Recall(thresholds=thresholds), y, p, w)
    np.testing.assert_allclose(
        precision, [skm.precision_score(y, p > t, sample_weight=w) for t in thresholds]
    )
    np.testing.assert_allclose(
        recall, [skm.recall_score(y, p > t, sample_weight=w) for t in thresholds]
    )


def test_precision_recall_class_id_and_top_k_match_sklearn():
    labels, _, probs, w = multiclass_data()
    expected = skm.precision_score(labels == 2, probs[:, 2] > 0.5, sample_weight=w)
    onehot = np.eye(5)[labels]
    assert feed(metrics.Precision(class_id=2), onehot, probs, w) == pytest.approx(expected)
    y, p, mw = multilabel_data()
    in_top_2 = np.zeros_like(y)
    np.put_along_axis(in_top_2, np.argsort(-p, axis=1)[:, :2], 1, axis=1)
    for cls, score in [
        (metrics.Precision, skm.precision_score),
        (metrics.Recall, skm.recall_score),
    ]:
        expected = score(y, in_top_2, average="micro", sample_weight=mw)
        assert feed(cls(top_k=2), y, p, mw) == pytest.approx(expected)


@pytest.mark.parametrize("average", [None, "micro", "macro", "weighted"])
def test_f1_and_fbeta_with_threshold_match_sklearn(average):
    y, p, w = multilabel_data()
    expected = skm.f1_score(y, p > 0.5, average=average, sample_weight=w, zero_division=0)
    result = feed(metrics.F1Score(average=average, threshold=0.5), y, p, w)
    np.testing.assert_allclose(result, expected, atol=1e-6)  # Keras's ε in three denominators
    expected = skm.fbeta_score(y, p > 0.4, beta=2.0, average=average, sample_weight=w)
    result = feed(metrics.FBetaScore(average=average, beta=2.0, threshold=0.4), y, p, w)
    np.testing.assert_allclose(result, expected, atol=1e-6)


@pytest.mark.parametrize("average", [None, "micro", "macro", "weighted"])
def test_f1_without_threshold_scores_the_argmax_like_sklearn(average):
    labels, onehot, probs, w = multiclass_data()
    expected = skm.f1_score(labels, probs.argmax(axis=1), average=average, sample_weight=w)
    result = feed(metrics.F1Score(average=average), onehot, probs, w)
    np.testing.assert_allclose(result, expected, atol=1e-6)


def keras_bucket(p, num_thresholds=200):
    """The operating point of Keras's AUC that a score falls in: how many of the thresholds
    `-ε, 1/(n-1), ..., (n-2)/(n-1), 1+ε` it exceeds (computed as Keras does, in float32)."""
    scaled = np.clip(p, 0, 1).astype(np.float32) * np.float32(num_thresholds - 1)
    return np.maximum(np.ceil(scaled), 1)


def test_roc_auc_is_sklearns_auc_of_the_200_bucket_scores_and_close_to_the_exact_one():
    y, p, w = binary_data()
    auc = feed(metrics.AUC(), y, p, w)
    # Keras's trapezoids through the 200 operating points are exactly the ROC AUC of the scores
    # replaced by their bucket (pairs in one bucket count as ties, 1/2).
    bucket = keras_bucket(p)
    assert auc == pytest.approx(skm.roc_auc_score(y, bucket, sample_weight=w), abs=1e-9)
    # So it differs from the exact AUC only through the (positive, negative) pairs that share a
    # bucket, each off by at most 1/2: |AUC_keras − AUC_exact| <= ½·Σ_b W⁺_b·W⁻_b / (W⁺·W⁻).
    same_bucket = sum(
        w[(bucket == b) & (y == 1)].sum() * w[(bucket == b) & (y == 0)].sum()
        for b in np.unique(bucket)
    )
    bound = 0.5 * same_bucket / (w[y == 1].sum() * w[y == 0].sum())
    assert bound < 0.01
    assert abs(auc - skm.roc_auc_score(y, p, sample_weight=w)) <= bound


def test_multi_label_roc_auc_is_the_mean_of_the_label_aucs():
    y, p, w = multilabel_data()
    auc = feed(metrics.AUC(multi_label=True), y, p, w)
    expected = skm.roc_auc_score(y, keras_bucket(p), average="macro", sample_weight=w)
    assert auc == pytest.approx(expected, abs=1e-9)


def test_pr_auc_is_within_the_discretisation_bound_of_sklearns_average_precision():
    y, p, w = binary_data()
    auc = metrics.AUC(curve="PR")
    result = feed(auc, y, p, w)
    # Bucket b holds the scores between thresholds b-1 and b. Over its recall interval
    # (r_b, r_{b-1}] Keras interpolates a precision between its two end points, and sklearn's
    # average precision uses the precisions of the exact operating points inside the bucket; both
    # lie within the range of those precisions (end points included), so the two areas differ by
    # at most Σ_b (r_{b-1} − r_b)·(max − min of the precisions in bucket b).
    variables = auc.variables
    tp, fp = variables["true_positives"], variables["false_positives"]
    coarse_recall = tp / (tp + variables["false_negatives"])
    coarse_precision = np.where(tp + fp > 0, tp / np.maximum(tp + fp, 1e-300), np.nan)
    precision, _, scores = skm.precision_recall_curve(y, p, sample_weight=w)
    fine_bucket = keras_bucket(scores)
    bound = 0.0
    for b in range(1, 200):
        step = coarse_recall[b - 1] - coarse_recall[b]
        if step > 0:
            inside = precision[:-1][fine_bucket == b]
            values = np.concatenate([inside, coarse_precision[b - 1 : b + 1]])
            bound += step * (np.nanmax(values) - np.nanmin(values))
    assert bound < 0.01
    assert abs(result - skm.average_precision_score(y, p, sample_weight=w)) <= bound


def test_result_is_exact_over_samples_not_a_mean_of_batch_means():
    metric = metrics.BinaryAccuracy()
    metric.update_state([1], [0.9])  # batch accuracy 1
    metric.update_state([1, 1, 1], [0.1, 0.1, 0.1])  # batch accuracy 0
    assert metric.result() == 0.25  # not (1 + 0) / 2
    precision = metrics.Precision()
    precision.update_state([1], [0.9])
    precision.update_state([0, 0, 0], [0.9, 0.9, 0.9])
    assert precision.result() == 0.25


# -------------------------------------------------------------------------------------------------
# 2. Keras 3 numbers.

KERAS_CONFUSION = {  # binary_data(), batches as `feed`, with sample weights unless said
    "auc_roc": 0.8427599668502808,
    "auc_pr": 0.7614150643348694,
    "auc_roc_minoring": 0.840823233127594,
    "auc_roc_majoring": 0.8446967005729675,
    "auc_pr_majoring": 0.7642414569854736,
    "auc_prgain": 0.7861713171005249,
    "auc_roc_7": 0.82826828956604,
    "auc_roc_thresholds": 0.8162946701049805,
    "auc_pr_thresholds": 0.7066333293914795,
    "auc_roc_logits": 0.8427599668502808,
    "auc_roc_unweighted": 0.8340576887130737,
    "precision": 0.6824947595596313,
    "recall": 0.7493969202041626,
    "precision_list": [0.8440660834312439, 0.42364978790283203, 0.6824947595596313],
    "recall_even": [0.99748694896698, 0.7493968605995178, 0.0],
    "tp": 179.8260040283203,
    "fp": 83.65731811523438,
    "tn": 335.1048583984375,
    "fn_list": [13.046841621398926, 97.47669982910156],
}
KERAS_MULTILABEL = {  # multilabel_data()
    "ml_auc_multi": 0.8286688923835754,
    "ml_auc_multi_pr_lw": 0.8126335740089417,
    "ml_auc_flat_lw": 0.830723762512207,
    "ml_precision_top2": 0.6701006293296814,
    "ml_recall_top2": 0.7347850203514099,
    "ml_precision_class2": 0.7601796388626099,
    "ml_recall_top2_class1_t": 0.6868795156478882,
    "ml_f1_None": [0.558156430721283, 0.6775097250938416, 0.7372514009475708, 0.813132107257843],
    "ml_f1_micro": 0.7266698479652405,
    "ml_f1_macro": 0.6965124011039734,
    "ml_f1_weighted": 0.73575758934021,
    "ml_fbeta2_macro": 0.7347697019577026,
}
KERAS_MULTICLASS = {  # multiclass_data(), one-hot labels, F-scores of the arg-max
    "mc_f1_None": [
        0.5929503440856934,
        0.5195724964141846,
        0.5089635848999023,
        0.5835781693458557,
        0.5466170907020569,
    ],
    "mc_f1_micro": 0.5511698126792908,
    "mc_f1_macro": 0.5503363013267517,
    "mc_f1_weighted": 0.5507339239120483,
    "mc_fbeta05_weighted": 0.5521191358566284,
}

CONFUSION_CASES = {
    "auc_roc": lambda: metrics.AUC(),
    "auc_pr": lambda: metrics.AUC(curve="PR"),
    "auc_roc_minoring": lambda: metrics.AUC(summation_method="minoring"),
    "auc_roc_majoring": lambda: metrics.AUC(summation_method="majoring"),
    "auc_pr_majoring": lambda: metrics.AUC(curve="PR", summation_method="majoring"),
    "auc_prgain": lambda: metrics.AUC(curve="PRGAIN"),
    "auc_roc_7": lambda: metrics.AUC(num_thresholds=7),
    "auc_roc_thresholds": lambda: metrics.AUC(thresholds=[0.8, 0.1, 0.35, 0.5]),
    "auc_pr_thresholds": lambda: metrics.AUC(curve="PR", thresholds=[0.8, 0.1, 0.35, 0.5]),
    "precision": lambda: metrics.Precision(),
    "recall": lambda: metrics.Recall(),
    "precision_list": lambda: metrics.Precision(thresholds=[0.7, 0.2, 0.5]),
    "recall_even": lambda: metrics.Recall(thresholds=[0.0, 0.5, 1.0]),  # Keras's bucket path
    "tp": lambda: metrics.TruePositives(),
    "fp": lambda: metrics.FalsePositives(),
    "tn": lambda: metrics.TrueNegatives(),
    "fn_list": lambda: metrics.FalseNegatives(thresholds=[0.3, 0.6]),
}
MULTILABEL_CASES = {
    "ml_auc_multi": lambda: metrics.AUC(multi_label=True),
    "ml_auc_multi_pr_lw": lambda: metrics.AUC(
        multi_label=True, curve="PR", label_weights=[1, 2, 0.5, 3]
    ),
    "ml_auc_flat_lw": lambda: metrics.AUC(label_weights=[1, 2, 0.5, 3]),
    "ml_precision_top2": lambda: metrics.Precision(top_k=2),
    "ml_recall_top2": lambda: metrics.Recall(top_k=2),
    "ml_precision_class2": lambda: metrics.Precision(class_id=2),
    "ml_recall_top2_class1_t": lambda: metrics.Recall(top_k=2, class_id=1, thresholds=0.4),
    "ml_f1_None": lambda: metrics.F1Score(threshold=0.5),
    "ml_f1_micro": lambda: metrics.F1Score(average="micro", threshold=0.5),
    "ml_f1_macro": lambda: metrics.F1Score(average="macro", threshold=0.5),
    "ml_f1_weighted": lambda: metrics.F1Score(average="weighted", threshold=0.5),
    "ml_fbeta2_macro": lambda: metrics.FBetaScore(average="macro", beta=2.0, threshold=0.45),
}
MULTICLASS_CASES = {
    "mc_f1_None": lambda: metrics.F1Score(),
    "mc_f1_micro": lambda: metrics.F1Score(average="micro"),
    "mc_f1_macro": lambda: metrics.F1Score(average="macro"),
    "mc_f1_weighted": lambda: metrics.F1Score(average="weighted"),
    "mc_fbeta05_weighted": lambda: metrics.FBetaScore(average="weighted", beta=0.5),
}


@pytest.mark.parametrize("case", sorted(CONFUSION_CASES))
def test_confusion_metrics_match_keras_on_binary_data(case):
    y, p, w = binary_data()
    result = feed(CONFUSION_CASES[case](), y, p, w)
    np.testing.assert_allclose(result, KERAS_CONFUSION[case], rtol=KERAS_RTOL)


def test_auc_variants_match_keras_from_logits_and_without_weights():
    y, p, w = binary_data()
    result = feed(metrics.AUC(from_logits=True), y, logit(p), w)
    assert result == pytest.approx(KERAS_CONFUSION["auc_roc_logits"], rel=KERAS_RTOL)
    result = feed(metrics.AUC(), y, p)
    assert result == pytest.approx(KERAS_CONFUSION["auc_roc_unweighted"], rel=KERAS_RTOL)


@pytest.mark.parametrize("case", sorted(MULTILABEL_CASES))
def test_confusion_and_f_metrics_match_keras_on_multilabel_data(case):
    y, p, w = multilabel_data()
    result = feed(MULTILABEL_CASES[case](), y, p, w)
    np.testing.assert_allclose(result, KERAS_MULTILABEL[case], rtol=KERAS_RTOL)


@pytest.mark.parametrize("case", sorted(MULTICLASS_CASES))
def test_f_scores_match_keras_on_multiclass_data(case):
    _, onehot, probs, w = multiclass_data()
    result = feed(MULTICLASS_CASES[case](), onehot, probs, w)
    np.testing.assert_allclose(result, KERAS_MULTICLASS[case], rtol=KERAS_RTOL)


def test_f1_without_threshold_counts_every_tied_maximum_and_no_zero_row_like_keras():
    y_true = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 1, 0]], np.float32)
    y_pred = np.array([[0.4, 0.4, 0.2], [0, 0, 0], [0.1, 0.3, 0.3], [0.2, 0.5, 0.3]], np.float32)
    result = metrics.F1Score()(y_true, y_pred)
    np.testing.assert_allclose(result, [0.9999998, 0.39999995, 0.9999998], rtol=KERAS_RTOL)
    micro = metrics.F1Score(average="micro")(y_true, y_pred, sample_weight=[1, 2, 3, 4])
    assert micro == pytest.approx(0.7272726893424988, rel=KERAS_RTOL)


def test_keras_docstring_examples():
    auc = metrics.AUC(num_thresholds=3)
    assert auc([0, 0, 1, 1], [0, 0.5, 0.3, 0.9]) == pytest.approx(0.75)
    auc.reset_state()
    assert auc([0, 0, 1, 1], [0, 0.5, 0.3, 0.9], sample_weight=[1, 0, 0, 1]) == 1.0
    assert metrics.Precision(top_k=2)([0, 0, 1, 1], [1, 1, 1, 1]) == 0.0
    assert metrics.Precision(top_k=4)([0, 0, 1, 1], [1, 1, 1, 1]) == 0.5
    fbeta = metrics.FBetaScore(beta=2.0, threshold=0.5)
    y_true = np.array([[1, 1, 1], [1, 0, 0], [1, 1, 0]])
    y_pred = np.array([[0.2, 0.6, 0.7], [0.2, 0.6, 0.6], [0.6, 0.8, 0.0]], np.float32)
    np.testing.assert_allclose(fbeta(y_true, y_pred), [0.3846154, 0.90909094, 0.8333334], rtol=1e-6)


# The accuracy family (reference §3.2), hand-made edge cases.
BINARY_TRUE = np.array([1, 0, 1, 0, 1, 1], np.float32)
BINARY_PRED = np.array([[0.5], [0.5], [0.51], [0.49], [0.7], [0.2]], np.float32)
BINARY_WEIGHT = np.array([1.0, 2.0, 0.5, 1.0, 3.0, 1.5], np.float32)
TIED_SCORES = np.array(
    [[0.2, 0.2, 0.2, 0.4], [0.25, 0.25, 0.25, 0.25], [0.1, 0.5, 0.3, 0.1], [0.3, 0.3, 0.2, 0.2]],
    np.float32,
)
TIED_LABELS = np.array([0, 2, 3, 2])
ARGMAX_TIES = np.array(
    [[0.4, 0.4, 0.2], [0.1, 0.45, 0.45], [0.3, 0.3, 0.4], [0.5, 0.2, 0.3]], np.float32
)
ARGMAX_LABELS = np.array([1, 1, 2, 0])


def test_binary_accuracy_is_strict_at_the_threshold_like_keras():
    # 0.5 is class 0: the first sample (label 1) is a miss, the second (label 0) a hit.
    metric = metrics.BinaryAccuracy()
    metric.update_state(BINARY_TRUE[:2], BINARY_PRED[:2])
    metric.update_state(BINARY_TRUE[2:], BINARY_PRED[2:])
    assert metric.result() == pytest.approx(0.6666666865348816, rel=KERAS_RTOL)
    metric = metrics.BinaryAccuracy()
    metric.update_state(BINARY_TRUE[:1], BINARY_PRED[:1], BINARY_WEIGHT[:1])
    metric.update_state(BINARY_TRUE[1:], BINARY_PRED[1:], BINARY_WEIGHT[1:])
    assert metric.result() == pytest.approx(0.7222222089767456, rel=KERAS_RTOL)
    result = metrics.BinaryAccuracy(threshold=0.7)(BINARY_TRUE, BINARY_PRED)
    assert result == pytest.approx(0.3333333432674408, rel=KERAS_RTOL)


def test_binary_accuracy_takes_per_sample_and_per_entry_weights_like_keras():
    y_true = np.array([[1, 0, 1], [0, 0, 1]], np.float32)
    y_pred = np.array([[0.6, 0.5, 0.4], [0.1, 0.9, 0.8]], np.float32)
    per_entry = np.array([[1, 2, 3], [0, 1, 1]], np.float32)
    assert metrics.BinaryAccuracy()(y_true, y_pred, per_entry) == pytest.approx(0.5)
    per_sample = metrics.BinaryAccuracy()(y_true, y_pred, np.array([2, 1], np.float32))
    assert per_sample == pytest.approx(0.6666666865348816, rel=KERAS_RTOL)


def test_top_k_counts_ties_as_hits_and_k_at_least_classes_always_hits():
    onehot = np.eye(4, dtype=np.float32)[TIED_LABELS]
    assert metrics.TopKCategoricalAccuracy(k=1)(onehot, TIED_SCORES) == 0.25  # all-equal row hits
    assert metrics.TopKCategoricalAccuracy(k=2)(onehot, TIED_SCORES) == 0.5
    weighted = metrics.TopKCategoricalAccuracy(k=2)(onehot, TIED_SCORES, [1, 2, 3, 4])
    assert weighted == pytest.approx(0.30000001192092896, rel=KERAS_RTOL)
    three_classes = np.array([[0.1, 0.2, 0.7]] * 3, np.float32)
    assert metrics.TopKCategoricalAccuracy()(np.eye(3), three_classes) == 1.0  # default k=5
    assert metrics.SparseTopKCategoricalAccuracy(k=2)(TIED_LABELS, TIED_SCORES) == 0.5
    assert metrics.SparseTopKCategoricalAccuracy(k=2)(TIED_LABELS[:, None], TIED_SCORES) == 0.5
    assert metrics.SparseTopKCategoricalAccuracy(k=4)(TIED_LABELS, TIED_SCORES) == 1.0
    sorted_ids = np.array([[3, 0, 1, 2], [0, 1, 2, 3], [1, 2, 0, 3], [0, 1, 2, 3]])
    from_ids = metrics.SparseTopKCategoricalAccuracy(k=2, from_sorted_ids=True)
    assert from_ids(TIED_LABELS, sorted_ids) == 0.25


def test_categorical_argmax_ties_go_to_the_first_index_and_sparse_labels_take_both_shapes():
    onehot = np.eye(3)[ARGMAX_LABELS]
    assert metrics.CategoricalAccuracy()(onehot, ARGMAX_TIES) == 0.75
    weighted = metrics.CategoricalAccuracy()(onehot, ARGMAX_TIES, [1, 2, 3, 4])
    assert weighted == pytest.approx(0.8999999761581421, rel=KERAS_RTOL)
    assert metrics.SparseCategoricalAccuracy()(ARGMAX_LABELS, ARGMAX_TIES) == 0.75
    column = metrics.SparseCategoricalAccuracy()
    column.update_state(ARGMAX_LABELS[:2, None], ARGMAX_TIES[:2])
    column.update_state(ARGMAX_LABELS[2:, None], ARGMAX_TIES[2:])
    assert column.result() == 0.75
    float_labels = metrics.SparseCategoricalAccuracy()(
        ARGMAX_LABELS.astype(np.float32), ARGMAX_TIES, [1, 2, 3, 4]
    )
    assert float_labels == pytest.approx(0.8999999761581421, rel=KERAS_RTOL)
    assert metrics.Accuracy()([1, 2, 3, 4], [1, 2, 0, 4.0]) == 0.75


def regression_data():
    rng = np.random.default_rng(5)
    y_true = rng.uniform(0.1, 2.0, (7, 3)).astype(np.float32)
    y_pred = rng.uniform(0.1, 2.0, (7, 3)).astype(np.float32)
    w = rng.uniform(0.5, 2.0, 7).astype(np.float32)
    labels = rng.integers(0, 3, 7)
    u = rng.uniform(0.05, 1.0, (7, 3))
    probs = (u / u.sum(axis=1, keepdims=True)).astype(np.float32)
    binary = (rng.random((7, 2)) < 0.5).astype(np.float32)
    binary_pred = rng.uniform(0.05, 0.95, (7, 2)).astype(np.float32)
    return y_true, y_pred, w, labels, probs, binary, binary_pred


KERAS_FROM_LOSSES = {  # two batches (3 + 4 samples) with sample weights
    "mse": ("regression", 0.7981392741203308),
    "mae": ("regression", 0.7227585911750793),
    "mape": ("regression", 152.83831787109375),
    "msle": ("regression", 0.2158127874135971),
    "logcosh": ("regression", 0.3240470290184021),
    "root_mean_squared_error": ("regression", 0.8933864235877991),
    "cosine_similarity": ("regression", 0.84276282787323),  # positive: the metric is +cos
    "poisson": ("regression", 1.2961158752441406),
    "categorical_crossentropy": ("categorical", 1.2509231567382812),
    "kl_divergence": ("categorical", 1.2509201765060425),
    "categorical_hinge": ("categorical", 1.146924614906311),
    "sparse_categorical_crossentropy": ("sparse", 1.2509231567382812),
    "binary_crossentropy": ("binary", 0.980858325958252),
    "hinge": ("binary", 1.161975383758545),
    "squared_hinge": ("binary", 1.7064963579177856),
}


@pytest.mark.parametrize("name", sorted(KERAS_FROM_LOSSES))
def test_metrics_from_losses_match_keras(name):
    y_true, y_pred, w, labels, probs, binary, binary_pred = regression_data()
    kind, expected = KERAS_FROM_LOSSES[name]
    targets, outputs = {
        "regression": (y_true, y_pred),
        "categorical": (np.eye(3, dtype=np.float32)[labels], probs),
        "sparse": (labels, probs),
        "binary": (binary, binary_pred),
    }[kind]
    metric = metrics.get(name)
    metric.update_state(targets[:3], outputs[:3], w[:3])
    metric.update_state(targets[3:], outputs[3:], w[3:])
    assert metric.result() == pytest.approx(expected, rel=KERAS_RTOL)


def test_cosine_similarity_metric_is_positive_for_the_same_direction():
    assert metrics.CosineSimilarity()([[1.0, 2.0]], [[2.0, 4.0]]) == pytest.approx(1.0)
    assert metrics.CosineSimilarity()([[1.0, 2.0]], [[-2.0, -4.0]]) == pytest.approx(-1.0)
    # while the loss is its negative
    assert losses.CosineSimilarity()([[1.0, 2.0]], [[2.0, 4.0]]) == pytest.approx(-1.0)


def test_sum_and_mean_pair_column_weights_with_samples():
    # (N,) values with (N, 1) weights: Keras's rank fix-up, not an (N, N) broadcast.
    assert metrics.Sum()([1.0, 2.0, 3.0], [[1.0], [0.0], [1.0]]) == 4.0
    assert metrics.Mean()([1.0, 2.0, 3.0], [[1.0], [0.0], [1.0]]) == 2.0


# -------------------------------------------------------------------------------------------------
# 3. Custom metrics, `get`, names, state.


def test_a_plain_function_becomes_a_weighted_mean_metric():
    def max_abs_error(y_true, y_pred):
        return np.max(np.abs(np.asarray(y_true) - np.asarray(y_pred)), axis=-1)

    y_true, y_pred, w = regression_data()[:3]
    metric = metrics.get(max_abs_error)
    assert isinstance(metric, metrics.MeanMetricWrapper)
    assert metric.name == "max_abs_error"
    metric.update_state(y_true[:2], y_pred[:2], w[:2])
    metric.update_state(y_true[2:], y_pred[2:], w[2:])
    expected = np.average(max_abs_error(y_true, y_pred), weights=w)
    assert metric.result() == pytest.approx(expected, rel=1e-12)
    assert metrics.get(losses.mean_squared_error).name == "mean_squared_error"


class LargestError(metrics.Metric):
    """The largest |y_true − y_pred| seen (a user's own stateful metric)."""

    def __init__(self, name="largest_error", dtype=None):
        super().__init__(name, dtype)
        self.reset_state()

    def update_state(self, y_true, y_pred, sample_weight=None):
        error = np.abs(np.asarray(y_true, float) - np.asarray(y_pred, float))
        self.largest = max(self.largest, float(error.max()))

    def result(self):
        return self.largest

    def reset_state(self):
        self.largest = 0.0


def test_a_metric_subclass_works_through_get_as_class_and_instance():
    from_class = metrics.get(LargestError)
    assert isinstance(from_class, LargestError)
    instance = LargestError()
    assert metrics.get(instance) is instance
    instance.update_state([1.0, 2.0], [1.5, 0.0])
    instance.update_state([0.0], [0.25])
    assert instance.result() == 2.0
    instance.reset_state()
    assert instance.result() == 0.0


@pytest.mark.parametrize(
    ("identifier", "cls"),
    [
        ("precision", metrics.Precision),
        ("Precision", metrics.Precision),
        ("recall", metrics.Recall),
        ("auc", metrics.AUC),
        ("AUC", metrics.AUC),
        ("f1_score", metrics.F1Score),
        ("fbeta_score", metrics.FBetaScore),
        ("f_beta_score", metrics.FBetaScore),
        ("true_positives", metrics.TruePositives),
        ("false_positives", metrics.FalsePositives),
        ("true_negatives", metrics.TrueNegatives),
        ("false_negatives", metrics.FalseNegatives),
        ("mse", metrics.MeanSquaredError),
        ("LogCoshError", metrics.LogCoshError),
        ("binary_accuracy", metrics.BinaryAccuracy),
        (metrics.AUC, metrics.AUC),
    ],
)
def test_get_resolves_names_and_classes(identifier, cls):
    assert type(metrics.get(identifier)) is cls


def test_default_names_are_keras_names():
    assert [m().name for m in (metrics.Precision, metrics.Recall, metrics.AUC)] == [
        "precision",
        "recall",
        "auc",
    ]
    assert metrics.F1Score().name == "f1_score"
    assert metrics.FBetaScore().name == "fbeta_score"
    assert metrics.TruePositives().name == "true_positives"


def test_unknown_metric_name_suggests_and_lists_the_known_ones():
    with pytest.raises(ValueError, match="Did you mean 'precision'") as error:
        metrics.get("precison")
    message = str(error.value)
    assert "Known metrics:" in message
    for name in ("auc", "f1_score", "recall", "binary_accuracy", "mean_squared_error"):
        assert name in message


SERIALIZABLE = [
    lambda: metrics.AUC(curve="PR", thresholds=[0.2, 0.6], multi_label=True, from_logits=True),
    lambda: metrics.Precision(thresholds=[0.3, 0.6], class_id=1),
    lambda: metrics.Recall(top_k=2),
    lambda: metrics.FBetaScore(average="weighted", beta=0.5, threshold=0.4),
    lambda: metrics.F1Score(average="macro"),
    lambda: metrics.FalseNegatives(thresholds=0.3),
    lambda: metrics.BinaryAccuracy(threshold=0.3),
    lambda: metrics.SparseTopKCategoricalAccuracy(k=2),
    lambda: metrics.LogCoshError(),
]


@pytest.mark.parametrize("make", SERIALIZABLE)
def test_serialize_round_trips_the_config(make):
    metric = make()
    config = metrics.serialize(metric)
    again = metrics.get(config)
    assert type(again) is type(metric)
    assert again.get_config() == metric.get_config()


STATEFUL = {
    "auc": (lambda: metrics.AUC(), "binary"),
    "auc_pr_multi": (lambda: metrics.AUC(curve="PR", multi_label=True), "multilabel"),
    "precision": (lambda: metrics.Precision(thresholds=[0.3, 0.5]), "binary"),
    "recall_top_k": (lambda: metrics.Recall(top_k=2), "multilabel"),
    "true_negatives": (lambda: metrics.TrueNegatives(), "binary"),
    "f1_none": (lambda: metrics.F1Score(threshold=0.5), "multilabel"),
    "fbeta_micro": (lambda: metrics.FBetaScore(average="micro", beta=2.0), "multilabel"),
    "binary_accuracy": (lambda: metrics.BinaryAccuracy(), "binary"),
    "rmse": (lambda: metrics.RootMeanSquaredError(), "binary"),
}


def stateful_data(kind):
    return binary_data() if kind == "binary" else multilabel_data()


@pytest.mark.parametrize("case", sorted(STATEFUL))
def test_reset_state_really_resets(case):
    make, kind = STATEFUL[case]
    y, p, w = stateful_data(kind)
    fresh = feed(make(), y[:100], p[:100], w[:100])
    metric = make()
    feed(metric, y[100:], p[100:], w[100:])
    metric.reset_state()
    assert all(np.all(np.asarray(v) == 0) for v in metric.variables.values())
    assert np.all(np.asarray(metric.result()) == 0)
    np.testing.assert_array_equal(feed(metric, y[:100], p[:100], w[:100]), fresh)


@pytest.mark.parametrize("case", sorted(STATEFUL))
def test_summed_variables_of_two_shards_give_the_whole_data_result(case):
    # What data-parallel training does: each process accumulates its shard, the states are summed.
    make, kind = STATEFUL[case]
    y, p, w = stateful_data(kind)
    half = len(y) // 3
    first, second, whole = make(), make(), make()
    feed(first, y[:half], p[:half], w[:half])
    feed(second, y[half:], p[half:], w[half:])
    expected = feed(whole, y, p, w)
    assert first.variables.keys() == whole.variables.keys()
    summed = {k: v + second.variables[k] for k, v in first.variables.items()}
    merged = make()
    merged.update_state(y[:1], p[:1], w[:1])  # build lazily shaped state (multi-label AUC, F1)
    merged.load_variables(summed)
    np.testing.assert_allclose(merged.result(), expected, rtol=1e-12)


def test_load_variables_rejects_wrong_names_and_shapes():
    metric = metrics.Precision(thresholds=[0.3, 0.5])
    with pytest.raises(ValueError, match="false_positives"):
        metric.load_variables({"true_positives": np.zeros(2)})
    with pytest.raises(ValueError, match="shape"):
        metric.load_variables({"true_positives": np.zeros(3), "false_positives": np.zeros(3)})


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: metrics.AUC(curve="XY"), "curve"),
        (lambda: metrics.AUC(summation_method="left"), "summation_method"),
        (lambda: metrics.AUC(num_thresholds=1), "num_thresholds"),
        (lambda: metrics.AUC(num_labels=3), "multi_label"),
        (lambda: metrics.Precision(thresholds=1.5), r"\[0, 1\]"),
        (lambda: metrics.Recall(top_k=0), "top_k"),
        (lambda: metrics.FBetaScore(average="samples"), "average"),
        (lambda: metrics.FBetaScore(beta=0.0), "beta"),
        (lambda: metrics.F1Score(threshold=0.0), "threshold"),
    ],
)
def test_bad_arguments_are_value_errors(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_bad_shapes_are_value_errors():
    with pytest.raises(ValueError, match="class_id"):
        metrics.Precision(class_id=1).update_state([0, 1], [0.2, 0.8])
    with pytest.raises(ValueError, match="batch_size, output_dim"):
        metrics.F1Score().update_state([0, 1], [0.2, 0.8])
    with pytest.raises(ValueError, match="rank 2"):
        metrics.AUC(multi_label=True).update_state([0, 1], [0.2, 0.8])


# -------------------------------------------------------------------------------------------------
# 4. 'accuracy' in compile, resolved from the shapes.


@pytest.mark.parametrize(
    ("y_true_shape", "y_pred_shape", "cls"),
    [
        ((32, 1), (32, 1), metrics.BinaryAccuracy),  # one output unit: binary
        ((32,), (32, 1), metrics.BinaryAccuracy),
        ((32,), (32, 10), metrics.SparseCategoricalAccuracy),  # one axis fewer: sparse
        ((32, 1), (32, 10), metrics.SparseCategoricalAccuracy),  # last dim 1 vs several: sparse
        ((32, 10), (32, 10), metrics.CategoricalAccuracy),  # otherwise categorical
        ((None, 10), (None, 10), metrics.CategoricalAccuracy),
    ],
)
@pytest.mark.parametrize("name", ["accuracy", "acc"])
def test_accuracy_is_resolved_from_the_shapes_and_keeps_its_name(
    name, y_true_shape, y_pred_shape, cls
):
    metric = resolve_metric(name, y_true_shape, y_pred_shape)
    assert type(metric) is cls
    assert metric.name == name


def test_resolved_accuracy_computes_the_right_kind():
    labels, onehot, probs, w = multiclass_data()
    sparse = resolve_metric("accuracy", labels.shape, probs.shape)
    categorical = resolve_metric("acc", onehot.shape, probs.shape)
    expected = skm.accuracy_score(labels, probs.argmax(axis=1), sample_weight=w)
    assert feed(sparse, labels, probs, w) == pytest.approx(expected)
    assert feed(categorical, onehot, probs, w) == pytest.approx(expected)


def test_other_metric_names_in_compile_keep_the_name_as_written():
    assert type(resolve_metric("auc", (32, 1), (32, 1))) is metrics.AUC
    mse = resolve_metric("mse", (32, 1), (32, 1))
    assert type(mse) is metrics.MeanSquaredError
    assert mse.name == "mse"
