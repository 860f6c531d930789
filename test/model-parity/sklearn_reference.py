"""Reference model metrics for test/model-monitor-parity.test.ts: scikit-learn and Fairlearn run on the rows the
test sent through the pipeline, grouped per (monitor, window, segment) by the test.

stdin: {"groups": [{"key", "task", "y_true", "y_pred", "scores", "classes", "positive", "sensitive": {feature: [...]}}]}
stdout: {"sklearn": version, "fairlearn": version, "results": {key: {...}}}; undefined values are null.
"""

from __future__ import annotations

import json
import math
import sys
import warnings
from typing import Any, Callable

import fairlearn
import fairlearn.metrics as fm
import numpy as np
import sklearn
import sklearn.metrics as skm


def value(f: Callable[[], Any]) -> float | None:
    """A metric, or None where scikit-learn/Fairlearn refuse it (ValueError) or give NaN."""
    try:
        v = float(f())
    except ValueError:
        return None
    return None if math.isnan(v) else v


def classification(g: dict[str, Any]) -> dict[str, Any]:
    y, p = np.asarray(g["y_true"]), np.asarray(g["y_pred"])
    labels = np.unique(np.concatenate([y, p]))
    out: dict[str, Any] = {
        "classes": [str(c) for c in labels],
        "confusion_matrix": skm.confusion_matrix(y, p, labels=labels).tolist(),
        "accuracy": skm.accuracy_score(y, p),
        "balanced_accuracy": skm.balanced_accuracy_score(y, p),
    }
    for avg in ("macro", "micro", "weighted"):
        out[f"precision_{avg}"] = skm.precision_score(y, p, average=avg)
        out[f"recall_{avg}"] = skm.recall_score(y, p, average=avg)
        out[f"f1_{avg}"] = skm.f1_score(y, p, average=avg)
    per = skm.precision_recall_fscore_support(y, p, labels=labels, average=None)
    out["per_class"] = [
        {"class": str(c), "precision": float(per[0][i]), "recall": float(per[1][i]), "f1": float(per[2][i]), "support": int(per[3][i])}
        for i, c in enumerate(labels)
    ]
    if g["task"] == "binary":
        pos = g["positive"]
        out["precision"] = skm.precision_score(y, p, pos_label=pos, average="binary")
        out["recall"] = skm.recall_score(y, p, pos_label=pos, average="binary")
        out["f1"] = skm.f1_score(y, p, pos_label=pos, average="binary")
        if g["scores"] is not None:
            s = np.asarray(g["scores"], dtype=float)
            out["roc_auc"] = value(lambda: skm.roc_auc_score(y, s))
            out["average_precision"] = value(lambda: skm.average_precision_score(y, s, pos_label=pos)) if (y == pos).any() else None
            out["log_loss"] = value(lambda: skm.log_loss(y, s, labels=[0, 1]))
            out["brier"] = value(lambda: skm.brier_score_loss(y, s, pos_label=pos))
        out["fairness"] = fairness(y, p, g["sensitive"], pos)
    else:
        classes = g["classes"]
        if g["scores"] is not None:
            s = np.asarray(g["scores"], dtype=float)
            out["roc_auc"] = value(lambda: skm.roc_auc_score(y, s, multi_class="ovr", average="macro", labels=classes))
            out["roc_auc_weighted"] = value(lambda: skm.roc_auc_score(y, s, multi_class="ovr", average="weighted", labels=classes))
            out["log_loss"] = value(lambda: skm.log_loss(y, s, labels=classes))
            out["brier"] = value(lambda: skm.brier_score_loss(y, s, labels=classes))
        out["fairness"] = {
            f: {"accuracy_difference": float(fm.MetricFrame(metrics=skm.accuracy_score, y_true=y, y_pred=p, sensitive_features=np.asarray(col)).difference())}
            for f, col in g["sensitive"].items()
        }
    return out


def fairness(y: np.ndarray, p: np.ndarray, sensitive: dict[str, list[str]], pos: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for feature, col in sensitive.items():
        sf = np.asarray(col)
        frame = fm.MetricFrame(
            metrics={
                "count": fm.count,
                "accuracy": skm.accuracy_score,
                "selection_rate": fm.selection_rate,
                "tpr": fm.true_positive_rate,
                "fpr": fm.false_positive_rate,
            },
            y_true=y,
            y_pred=p,
            sensitive_features=sf,
        )
        by_group = frame.by_group
        out[feature] = {
            "groups": {str(gname): {k: float(by_group.loc[gname, k]) for k in by_group.columns} for gname in by_group.index},
            "demographic_parity_difference": value(lambda: fm.demographic_parity_difference(y, p, sensitive_features=sf)),
            "demographic_parity_ratio": value(lambda: fm.demographic_parity_ratio(y, p, sensitive_features=sf)),
            "equalized_odds_difference": value(lambda: fm.equalized_odds_difference(y, p, sensitive_features=sf)),
            "equalized_odds_ratio": value(lambda: fm.equalized_odds_ratio(y, p, sensitive_features=sf)),
            "equal_opportunity_difference": value(lambda: fm.equal_opportunity_difference(y, p, sensitive_features=sf)),
            "equal_opportunity_ratio": value(lambda: fm.equal_opportunity_ratio(y, p, sensitive_features=sf)),
            "accuracy_difference": float(frame.difference()["accuracy"]),
        }
    return out


def regression(g: dict[str, Any]) -> dict[str, Any]:
    y, p = np.asarray(g["y_true"], dtype=float), np.asarray(g["y_pred"], dtype=float)
    return {
        "mae": skm.mean_absolute_error(y, p),
        "mse": skm.mean_squared_error(y, p),
        "rmse": skm.root_mean_squared_error(y, p),
        "mape": skm.mean_absolute_percentage_error(y, p),
        "r2": value(lambda: skm.r2_score(y, p)),
        "max_error": skm.max_error(y, p),
    }


def main() -> None:
    groups = json.load(sys.stdin)["groups"]
    results: dict[str, Any] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for g in groups:
            results[g["key"]] = regression(g) if g["task"] == "regression" else classification(g)
    json.dump({"sklearn": sklearn.__version__, "fairlearn": fairlearn.__version__, "results": results}, sys.stdout, default=float)


if __name__ == "__main__":
    main()
