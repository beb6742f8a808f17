"""COCO-style AP and counting errors against hand-computed cases."""

import numpy as np
import pytest

from engine.evaluation.metrics import evaluate_detections


def _gt(boxes, cats):
    return np.asarray(boxes, float).reshape(-1, 4), np.asarray(cats, dtype=str)


def _pred(boxes, scores, cats):
    return np.asarray(boxes, float).reshape(-1, 4), np.asarray(scores, float), np.asarray(cats, dtype=str)


def test_perfect_predictions_score_one():
    rng = np.random.default_rng(0)
    gt, preds = [], []
    for _ in range(3):
        xy = rng.uniform(0, 500, (20, 2))
        boxes = np.concatenate([xy, xy + rng.uniform(4, 60, (20, 2))], axis=1)
        cats = rng.choice(["vehicle", "ship"], 20)
        gt.append(_gt(boxes, cats))
        preds.append(_pred(boxes, rng.uniform(0.5, 1, 20), cats))
    m = evaluate_detections(gt, preds, ["vehicle", "ship"])
    assert m["AP"] == pytest.approx(1.0) and m["AP50"] == pytest.approx(1.0) and m["AP75"] == pytest.approx(1.0)
    assert m["per_category"]["ship"]["AP"] == pytest.approx(1.0)
    assert m["count_mae"] == 0.0 and m["count_rel"] == 0.0
    assert m["n_gt"] == m["n_pred"] == 60


def test_false_positive_ranked_above_the_true_positive_halves_ap():
    gt = [_gt([[10, 10, 20, 20]], ["vehicle"])]
    fp_first = [_pred([[10, 10, 20, 20], [50, 50, 60, 60]], [0.5, 0.9], ["vehicle", "vehicle"])]
    tp_first = [_pred([[10, 10, 20, 20], [50, 50, 60, 60]], [0.9, 0.5], ["vehicle", "vehicle"])]
    # The precision envelope is 1/2 at every recall level up to 1, so all 101 points are 0.5.
    assert evaluate_detections(gt, fp_first, ["vehicle"])["AP50"] == pytest.approx(0.5)
    assert evaluate_detections(gt, tp_first, ["vehicle"])["AP50"] == pytest.approx(1.0)


def test_missed_object_interpolates_over_101_recall_points():
    gt = [_gt([[10, 10, 20, 20], [30, 30, 40, 40]], ["ship", "ship"])]
    preds = [_pred([[10, 10, 20, 20], [70, 70, 80, 80]], [0.9, 0.8], ["ship", "ship"])]
    # recall 0.5 at precision 1: recall points 0.00..0.50 (51 of 101) get 1, the rest 0.
    assert evaluate_detections(gt, preds, ["ship"])["AP50"] == pytest.approx(51 / 101)


def test_box_at_iou_0_62_counts_for_ap50_not_ap75():
    gt = [_gt([[0, 0, 10, 10]], ["vehicle"])]
    preds = [_pred([[0, 0, 10, 6.2]], [0.9], ["vehicle"])]  # IoU = 62 / 100
    m = evaluate_detections(gt, preds, ["vehicle"])
    assert m["AP50"] == pytest.approx(1.0)
    assert m["AP75"] == pytest.approx(0.0)
    assert m["AP"] == pytest.approx(0.3)  # matched at IoU 0.50, 0.55, 0.60 of the ten thresholds


def test_category_mismatch_is_not_a_match():
    gt = [_gt([[0, 0, 10, 10]], ["vehicle"])]
    preds = [_pred([[0, 0, 10, 10]], [0.9], ["ship"])]
    m = evaluate_detections(gt, preds, ["vehicle", "ship"])
    assert m["per_category"]["vehicle"]["AP"] == 0.0
    assert m["per_category"]["ship"]["AP"] is None  # no ship ground truth: undefined, left out of the mean
    assert m["AP"] == 0.0


def test_size_bins_hold_objects_by_sqrt_area():
    gt = [_gt([[0, 0, 5, 5], [100, 100, 120, 120], [200, 200, 300, 300]], ["ship"] * 3)]
    # only the 20 px object is found; a false 5 px detection must not hurt the 16-32 bin
    preds = [_pred([[100, 100, 120, 120], [400, 400, 405, 405]], [0.9, 0.95], ["ship", "ship"])]
    m = evaluate_detections(gt, preds, ["ship"])
    assert m["AP_size"]["2-8"] == 0.0
    assert m["AP_size"]["8-16"] is None
    assert m["AP_size"]["16-32"] == pytest.approx(1.0)
    assert m["AP_size"]["32-64"] is None
    assert m["AP_size"]["64+"] == 0.0
    assert m["AP50_size"]["16-32"] == pytest.approx(1.0)


def test_counting_errors_use_the_score_threshold_and_average_over_images():
    gt = [_gt([[0, 0, 5, 5]] * 4, ["vehicle"] * 4), _gt(np.zeros((0, 4)), [])]
    preds = [_pred([[0, 0, 5, 5]] * 3, [0.9, 0.5, 0.2], ["vehicle"] * 3),   # 2 counted of 4 -> err 2, rel 0.5
             _pred([[0, 0, 5, 5]] * 3, [0.9, 0.9, 0.9], ["vehicle"] * 3)]  # 3 counted of 0 -> err 3, rel 3
    m = evaluate_detections(gt, preds, ["vehicle"], count_threshold=0.3)
    assert m["per_category"]["vehicle"]["count_mae"] == pytest.approx(2.5)
    assert m["per_category"]["vehicle"]["count_rel"] == pytest.approx(1.75)
    lenient = evaluate_detections(gt, preds, ["vehicle"], count_threshold=0.1)
    assert lenient["per_category"]["vehicle"]["count_mae"] == pytest.approx(2.0)  # (1 + 3) / 2
    first_only = evaluate_detections(gt, preds, ["vehicle"], scored=[{"vehicle"}, set()])
    assert first_only["count_mae"] == pytest.approx(2.0) and first_only["count_rel"] == pytest.approx(0.5)


def test_more_than_a_hundred_objects_per_image_are_scored():
    xy = np.stack(np.meshgrid(np.arange(0, 300, 20), np.arange(0, 300, 20)), -1).reshape(-1, 2).astype(float)
    boxes = np.concatenate([xy, xy + 10], axis=1)  # 225 objects
    m = evaluate_detections([_gt(boxes, ["vehicle"] * 225)], [_pred(boxes, np.full(225, 0.8), ["vehicle"] * 225)],
                            ["vehicle"])
    assert m["AP"] == pytest.approx(1.0)


def test_mismatched_lengths_raise():
    with pytest.raises(ValueError):
        evaluate_detections([_gt([[0, 0, 1, 1]], ["a"])], [], ["a"])
