#!/usr/bin/env python3
"""Times Evidently's drift report (ValueDrift per column with default methods + DriftedColumnsCount) on N rows per
side and C numerical columns of normal data. Used by scripts/bench/drift-bench.ts. Prints one line."""
import sys
import time
import warnings

import numpy as np
import pandas as pd
from evidently import DataDefinition, Dataset, Report
from evidently.metrics import DriftedColumnsCount, ValueDrift

warnings.filterwarnings("ignore")
n, cols = int(sys.argv[1]), int(sys.argv[2])
rng = np.random.default_rng(0)
names = [f"f{i:02d}" for i in range(cols)]
ref = pd.DataFrame({c: rng.normal(10, 3, n) for c in names})
cur = pd.DataFrame({c: rng.normal(10 + (0.01 if i % 2 == 0 else 0.2), 3, n) for i, c in enumerate(names)})
definition = DataDefinition(numerical_columns=names)
report = Report([*(ValueDrift(column=c) for c in names), DriftedColumnsCount()])
t0 = time.perf_counter()
snapshot = report.run(Dataset.from_pandas(cur, data_definition=definition), Dataset.from_pandas(ref, data_definition=definition))
snapshot.dict()
print(f"{(time.perf_counter() - t0) * 1000:.0f} ms at {n} rows per side ({cols} columns)")
