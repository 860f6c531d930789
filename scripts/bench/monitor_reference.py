"""The reference side of `npm run bench:monitor`: the same monitoring report with scikit-learn and Fairlearn.

Reads the bench rows out of ClickHouse (clickhouse-client, BENCH_EXPORT_SQL), then times only the computation:
per (window, segment) and per window over all segments, the classification metrics, ROC AUC, average precision,
log loss, Brier and Fairlearn's MetricFrame and parity differences. Prints {"seconds", "groups", "rows"}.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
import warnings

import fairlearn.metrics as fm
import numpy as np
import pandas as pd
import sklearn.metrics as skm


def report(y: np.ndarray, p: np.ndarray, s: np.ndarray, sf: np.ndarray) -> None:
    skm.confusion_matrix(y, p)
    skm.accuracy_score(y, p)
    skm.balanced_accuracy_score(y, p)
    skm.precision_recall_fscore_support(y, p, average=None)
    for avg in ("binary", "macro", "micro", "weighted"):
        skm.precision_recall_fscore_support(y, p, average=avg)
    skm.roc_auc_score(y, s)
    skm.average_precision_score(y, s)
    skm.log_loss(y, s, labels=[0, 1])
    skm.brier_score_loss(y, s)
    fm.MetricFrame(
        metrics={"accuracy": skm.accuracy_score, "selection_rate": fm.selection_rate, "tpr": fm.true_positive_rate, "fpr": fm.false_positive_rate, "count": fm.count},
        y_true=y,
        y_pred=p,
        sensitive_features=sf,
    ).by_group
    fm.demographic_parity_difference(y, p, sensitive_features=sf)
    fm.demographic_parity_ratio(y, p, sensitive_features=sf)
    fm.equalized_odds_difference(y, p, sensitive_features=sf)
    fm.equalized_odds_ratio(y, p, sensitive_features=sf)
    fm.equal_opportunity_difference(y, p, sensitive_features=sf)


def main() -> None:
    port = os.environ.get("CLICKHOUSE_TCP_PORT", "19000")
    db = os.environ.get("CLICKHOUSE_DATABASE", "runstream_bench")
    raw = subprocess.run(["clickhouse-client", "--port", port, "-d", db, "-q", os.environ["BENCH_EXPORT_SQL"]], check=True, capture_output=True).stdout
    df = pd.read_csv(io.BytesIO(raw), sep="\t", header=None, names=["ts", "segment", "pred", "label", "score", "sex"])
    df["pred"] = df["pred"].astype(np.int64)
    df["label"] = df["label"].astype(np.int64)
    df["window"] = df["ts"] // int(os.environ["BENCH_WINDOW_MS"])
    groups = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        for _, w in df.groupby("window", sort=True):
            report(w["label"].to_numpy(), w["pred"].to_numpy(), w["score"].to_numpy(), w["sex"].to_numpy())
            groups += 1
            for _, g in w.groupby("segment", sort=True):
                report(g["label"].to_numpy(), g["pred"].to_numpy(), g["score"].to_numpy(), g["sex"].to_numpy())
                groups += 1
        seconds = time.perf_counter() - t0
    json.dump({"seconds": seconds, "groups": groups, "rows": int(len(df))}, sys.stdout)


if __name__ == "__main__":
    main()
