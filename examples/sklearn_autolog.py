"""A small scikit-learn hyper-parameter sweep, tracked with stock MLflow autologging.

Nothing in here knows about Runstream: point MLflow at it with the environment and run the script unchanged.

    export MLFLOW_TRACKING_URI=http://127.0.0.1:8080
    export MLFLOW_TRACKING_TOKEN=...            # only when Runstream has RUNSTREAM_API_TOKENS set
    python3 examples/sklearn_autolog.py

Each candidate model is trained in its own run on scikit-learn's bundled breast-cancer data set (no download).
`mlflow.sklearn.autolog()` records the estimator's parameters, its training metrics, the training data set, one
child run per grid-search candidate and -- because we score the held-out split with `sklearn.metrics` -- the test
metrics `accuracy_score_X_test`, `f1_score_X_test` and `log_loss_X_test`.
At the end the runs are compared with `mlflow.search_runs`, best test accuracy first.

Options: --experiment NAME (default $MLFLOW_EXPERIMENT_NAME or "sklearn-autolog-example"),
         --json (print the comparison as one JSON line as well, for scripts and tests).
"""
import argparse
import json
import os
import warnings

import mlflow
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn import metrics  # call through the module: autolog patches sklearn.metrics.* when it is enabled
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

# The sweep: (run name, estimator). Small enough to finish in seconds on a laptop CPU.
CANDIDATES = [
    ("logreg-C0.1", lambda: make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=1000))),
    ("logreg-C1", lambda: make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=1000))),
    ("forest-50x4", lambda: RandomForestClassifier(n_estimators=50, max_depth=4, random_state=0)),
    ("forest-200xNone", lambda: RandomForestClassifier(n_estimators=200, max_depth=None, random_state=0)),
    ("gbdt-lr0.1", lambda: GradientBoostingClassifier(learning_rate=0.1, n_estimators=100, max_depth=2, random_state=0)),
    # A grid search is logged as a parent run (best params, best CV score) with one child run per candidate.
    (
        "logreg-grid",
        lambda: GridSearchCV(
            make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)),
            {"logisticregression__C": [0.01, 0.1, 1.0, 10.0]},
            cv=3,
            scoring="accuracy",
        ),
    ),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--experiment", default=os.environ.get("MLFLOW_EXPERIMENT_NAME", "sklearn-autolog-example"))
    parser.add_argument("--json", action="store_true", help="also print the comparison as one JSON line")
    args = parser.parse_args()

    # MLflow 3.17's training-metric code calls log_loss(y_pred=...), which scikit-learn 1.9 renamed to y_proba.
    warnings.filterwarnings("ignore", message="`y_pred` was renamed to `y_proba`", category=FutureWarning)
    print(f"tracking URI: {mlflow.get_tracking_uri()}")
    experiment = mlflow.set_experiment(args.experiment)
    # Everything autolog records by default (params, training metrics, data sets, post-training metrics, grid-search
    # child runs) except the model itself. log_models=False because MLflow 3 registers every logged model through
    # the LoggedModel API first (POST /api/2.0/mlflow/logged-models, then logged-models/<id>/params, PATCH
    # logged-models/<id>, runs/outputs), which Runstream does not serve yet: it answers 404, and MLflow then
    # abandons autolog's post-fit logging for that run: params only, no training or test metrics, no grid-search child runs.
    mlflow.sklearn.autolog(log_models=False)

    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, stratify=y, random_state=42)

    run_ids = {}
    for name, build in CANDIDATES:
        with mlflow.start_run(run_name=name) as run:
            model = build().fit(X_train, y_train)
            # Scoring with sklearn.metrics on the held-out split: autolog logs these as <metric>_X_test.
            y_pred = model.predict(X_test)
            acc = metrics.accuracy_score(y_test, y_pred)
            metrics.f1_score(y_test, y_pred)
            y_proba = model.predict_proba(X_test)
            metrics.log_loss(y_test, y_proba)
            mlflow.set_tag("model_family", name.split("-")[0])
            run_ids[name] = run.info.run_id
        print(f"  {name:<16} test accuracy {acc:.4f}   run {run.info.run_id}")

    # Compare the experiment's scored runs (this sweep and earlier ones; grid-search children have no test metrics), best first.
    best = mlflow.search_runs(
        experiment_ids=[experiment.experiment_id],
        filter_string="metrics.accuracy_score_X_test > 0",
        order_by=["metrics.accuracy_score_X_test DESC", "metrics.log_loss_X_test ASC"],
    )
    if best.empty:
        raise SystemExit("no run of the sweep has accuracy_score_X_test: autolog's post-training metrics were not logged (see its warnings above)")
    columns = ["tags.mlflow.runName", "metrics.accuracy_score_X_test", "metrics.f1_score_X_test", "metrics.log_loss_X_test", "run_id"]
    print("\nruns ordered by test accuracy:")
    print(best[columns].to_string(index=False))
    winner = best.iloc[0]
    print(f"\nbest: {winner['tags.mlflow.runName']} (accuracy {winner['metrics.accuracy_score_X_test']:.4f}), experiment {experiment.experiment_id}")

    if args.json:
        print(
            json.dumps(
                {
                    "experiment_id": experiment.experiment_id,
                    "run_ids": run_ids,
                    "ranking": [
                        {"run_name": r["tags.mlflow.runName"], "run_id": r["run_id"], "accuracy": r["metrics.accuracy_score_X_test"]}
                        for _, r in best.iterrows()
                    ],
                }
            )
        )


if __name__ == "__main__":
    main()
