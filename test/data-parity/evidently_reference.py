#!/usr/bin/env python3
"""Runs Evidently (the reference) on the datasets of test/data-drift-parity.test.ts and prints its numbers as JSON.

Reads one JSON job from stdin:
  {"cases": [{"name": str, "columns": {column: "numerical" | "categorical"},
              "reference": {column: [value, ...]}, "current": {column: [value, ...]},
              "methods": {column: method}}]}
Values: numbers, strings, null (missing) and the strings "NaN", "Infinity", "-Infinity" in numerical columns.
Prints {"evidently": version, "cases": {name: {"drift": {column: {"method", "score", "drifted"}},
  "drifted_count", "drifted_share", "quality": {column: {...}}}}}; non-finite numbers as strings.
"""
import json
import math
import sys
import warnings

import numpy as np
import pandas as pd

import evidently
from evidently import DataDefinition, Dataset, Report
from evidently.legacy.calculations.stattests.registry import get_stattest
from evidently.legacy.core import ColumnType
from evidently.metrics import (DriftedColumnsCount, MaxValue, MeanValue, MinValue, MissingValueCount, QuantileValue,
                               StdValue, ValueDrift)

SPECIAL = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}


def column_values(values, kind):
    if kind == "numerical":
        return pd.Series([np.nan if v is None else SPECIAL.get(v, v) if isinstance(v, str) else float(v) for v in values], dtype="float64")
    return pd.Series([None if v is None else v for v in values], dtype="object")


def frame(side, columns):
    return pd.DataFrame({c: column_values(side[c], kind) for c, kind in columns.items()})


def out_number(x):
    if x is None:
        return None
    x = float(x)
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    return x


def run_case(case):
    columns = case["columns"]
    methods = case.get("methods", {})
    ref_df = frame(case["reference"], columns)
    cur_df = frame(case["current"], columns)
    definition = DataDefinition(
        numerical_columns=[c for c, k in columns.items() if k == "numerical"],
        categorical_columns=[c for c, k in columns.items() if k == "categorical"],
    )
    metrics = [ValueDrift(column=c, method=methods.get(c)) for c in columns]
    metrics.append(DriftedColumnsCount(per_column_method=methods or None))
    quality = {}
    for c, kind in columns.items():
        if kind == "numerical":
            metrics += [MinValue(column=c), MaxValue(column=c), MeanValue(column=c), StdValue(column=c)]
            metrics += [QuantileValue(column=c, quantile=q) for q in (0.25, 0.5, 0.75)]
        metrics.append(MissingValueCount(column=c))
    snapshot = Report(metrics).run(Dataset.from_pandas(cur_df, data_definition=definition), Dataset.from_pandas(ref_df, data_definition=definition))
    result = {"drift": {}, "quality": {c: {} for c in columns}}
    for m in snapshot.dict()["metrics"]:
        cfg = m["config"]
        kind = cfg["type"].split(":")[-1]
        col = cfg.get("column")
        value = m["value"]
        if kind == "ValueDrift":
            result["drift"][col] = {"method_label": cfg["method"], "score": out_number(value), "threshold": cfg["threshold"]}
        elif kind == "DriftedColumnsCount":
            result["drifted_count"] = value["count"]
            result["drifted_share"] = value["share"]
        elif kind == "QuantileValue":
            result["quality"][col][f"q{cfg['quantile']}"] = out_number(value)
        elif kind in ("MinValue", "MaxValue", "MeanValue", "StdValue"):
            result["quality"][col][kind] = out_number(value)
        elif kind == "MissingValueCount":
            result["quality"][col]["missing"] = value["count"]
            result["quality"][col]["missing_share"] = value["share"]
    # Value counts as Evidently's UniqueValueCount takes them (its result model rejects non-finite labels, so the
    # counts are read the same way directly).
    for c in columns:
        result["quality"][c]["value_counts"] = [[str(k), int(v)] for k, v in cur_df[c].value_counts(dropna=True).items()]
    # Drifted flags from Evidently's own stat-test functions on the same cleaned columns.
    for c, kind in columns.items():
        ctype = ColumnType.Numerical if kind == "numerical" else ColumnType.Categorical
        r = ref_df[c].replace([-np.inf, np.inf], np.nan).dropna()
        k = cur_df[c].replace([-np.inf, np.inf], np.nan).dropna()
        test = get_stattest(r, k, ctype, methods.get(c))
        res = test(r, k, ctype, None)
        result["drift"][c].update({"method": test.name, "drifted": bool(res.drifted), "stattest_score": out_number(res.drift_score)})
    return result


def main():
    warnings.filterwarnings("ignore")
    job = json.load(sys.stdin)
    out = {"evidently": evidently.__version__, "cases": {}}
    for case in job["cases"]:
        out["cases"][case["name"]] = run_case(case)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
