"""The model registry through the real MLflow client: register via log_model, load by version, alias, stage and
latest, get_model_info, aliases, tags, stages, search with the client's default filter, rename, delete. Every
check raises on a mismatch (non-zero exit); prints one JSON summary line."""
import json
import os
import uuid

import mlflow
import mlflow.pyfunc
import requests
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

suffix = uuid.uuid4().hex[:8]
mlflow.set_tracking_uri(os.environ["MLFLOW_TRACKING_URI"])
client = MlflowClient()
summary = {}


def error_code(fn):
    try:
        fn()
    except MlflowException as e:
        return e.error_code
    raise AssertionError("expected an MlflowException")


X, y = make_classification(n_samples=60, n_features=4, random_state=0)
mlflow.set_experiment(f"registry-{suffix}")
name = f"churn-{suffix}"

# --- register through log_model (model-versions/create with a model_id) -------------------------------------------
run_ids, model_ids = [], []
for c in (0.1, 1.0, 10.0):
    with mlflow.start_run() as run:
        run_ids.append(run.info.run_id)
        info = mlflow.sklearn.log_model(LogisticRegression(C=c, max_iter=200).fit(X, y), name="model", registered_model_name=name)
        model_ids.append(info.model_id)
v1 = client.get_model_version(name, "1")
assert v1.run_id == run_ids[0], (v1.run_id, run_ids)
# The 3.17 client does not read model_id from a version, so read the response itself.
raw = requests.get(f"{os.environ['MLFLOW_TRACKING_URI']}/api/2.0/mlflow/model-versions/get", params={"name": name, "version": "1"}, timeout=30).json()
summary["model_id"] = raw["model_version"].get("model_id") == model_ids[0]
assert client.get_model_version(name, "3").run_id == run_ids[2]

expected = {v: mlflow.sklearn.load_model(f"models:/{name}/{v}").predict_proba(X[:3]).tolist() for v in ("1", "2", "3")}
assert expected["1"] != expected["3"]


def loads(uri):
    return mlflow.pyfunc.load_model(uri).predict(X[:3]).tolist()


summary["by_version"] = loads(f"models:/{name}/1") == mlflow.sklearn.load_model(f"models:/{name}/1").predict(X[:3]).tolist()
assert client.get_model_version_download_uri(name, "2").endswith("/artifacts"), client.get_model_version_download_uri(name, "2")

# --- aliases ------------------------------------------------------------------------------------------------------
client.set_registered_model_alias(name, "champion", "2")
client.set_registered_model_alias(name, "challenger", "3")
assert client.get_model_version_by_alias(name, "champion").version == "2"
assert mlflow.sklearn.load_model(f"models:/{name}@champion").predict_proba(X[:3]).tolist() == expected["2"]
assert client.get_registered_model(name).aliases == {"champion": "2", "challenger": "3"}, client.get_registered_model(name).aliases
assert client.get_model_version(name, "3").aliases == ["challenger"]
client.set_registered_model_alias(name, "champion", "3")  # moves
assert sorted(client.get_model_version(name, "3").aliases) == ["challenger", "champion"]
client.delete_registered_model_alias(name, "challenger")
assert client.get_model_version(name, "3").aliases == ["champion"]
summary["alias_errors"] = [
    error_code(lambda: client.get_model_version_by_alias(name, "nope")),
    error_code(lambda: client.set_registered_model_alias(name, "latest", "1")),
    error_code(lambda: client.set_registered_model_alias(name, "ok", "99")),
]
info = mlflow.models.get_model_info(f"models:/{name}@champion")
summary["model_info_id"] = info.model_id == model_ids[2]

# --- stages (names in any case, as MLflow accepts them) -----------------------------------------------------------
client.transition_model_version_stage(name, "1", "production")
client.transition_model_version_stage(name, "2", "Staging")
assert mlflow.sklearn.load_model(f"models:/{name}/Production").predict_proba(X[:3]).tolist() == expected["1"]
assert mlflow.sklearn.load_model(f"models:/{name}/latest").predict_proba(X[:3]).tolist() == expected["3"]
client.transition_model_version_stage(name, "3", "PRODUCTION", archive_existing_versions=True)
assert client.get_model_version(name, "1").current_stage == "Archived"
assert mlflow.sklearn.load_model(f"models:/{name}/production").predict_proba(X[:3]).tolist() == expected["3"]
latest = {v.current_stage: v.version for v in client.get_latest_versions(name)}
assert latest == {"Archived": "1", "Staging": "2", "Production": "3"}, latest
assert [v.version for v in client.get_latest_versions(name, stages=["staging"])] == ["2"]
summary["bad_stage"] = error_code(lambda: client.transition_model_version_stage(name, "1", "Prod"))

# --- tags, descriptions -------------------------------------------------------------------------------------------
client.set_registered_model_tag(name, "team", "growth")
client.set_registered_model_tag(name, "tier", "gold")
client.delete_registered_model_tag(name, "tier")
client.update_registered_model(name, description="churn model")
rm = client.get_registered_model(name)
assert rm.tags == {"team": "growth"} and rm.description == "churn model", (rm.tags, rm.description)
client.set_model_version_tag(name, "2", "validated", "yes")
client.set_model_version_tag(name, "3", "validated", "no")
client.delete_model_version_tag(name, "3", "validated")
client.update_model_version(name, "2", description="second")
v2 = client.get_model_version(name, "2")
assert v2.tags == {"validated": "yes"} and v2.description == "second", (v2.tags, v2.description)

# --- search ---------------------------------------------------------------------------------------------------------
others = [f"aux-{suffix}-{i}" for i in range(3)]
for other in others:
    client.create_registered_model(other, tags={"team": "growth" if other.endswith("1") else "core"})
found = [m.name for m in client.search_registered_models()]  # the 3.x client's default filter
assert name in found and all(o in found for o in others), found
assert [m.name for m in client.search_registered_models(filter_string=f"name = '{name}'")] == [name]
assert [m.name for m in client.search_registered_models(filter_string=f"name LIKE 'aux-{suffix}-%'")] == others
assert sorted(m.name for m in client.search_registered_models(filter_string=f"name LIKE '%{suffix}%' AND tags.team = 'growth'")) == sorted([name, others[1]])
assert [m.name for m in client.search_registered_models(filter_string=f"name LIKE 'aux-{suffix}-%'", order_by=["name DESC"])] == others[::-1]
page1 = client.search_registered_models(filter_string=f"name LIKE 'aux-{suffix}-%'", max_results=2)
page2 = client.search_registered_models(filter_string=f"name LIKE 'aux-{suffix}-%'", max_results=2, page_token=page1.token)
assert [m.name for m in page1] + [m.name for m in page2] == others and not page2.token
summary["bad_filter"] = error_code(lambda: client.search_registered_models(filter_string="owner = 'x'"))

versions = client.search_model_versions(f"name = '{name}'")
assert sorted(v.version for v in versions) == ["1", "2", "3"], [v.version for v in versions]
assert [v.version for v in client.search_model_versions(f"name = '{name}'", order_by=["version_number DESC"])] == ["3", "2", "1"]
assert [v.version for v in client.search_model_versions(f"name = '{name}'", order_by=["version_number ASC"], max_results=2)] == ["1", "2"]
assert [v.version for v in client.search_model_versions(f"name = '{name}' AND tags.validated = 'yes'")] == ["2"]
assert sorted(v.version for v in client.search_model_versions(f"run_id IN ('{run_ids[0]}', '{run_ids[2]}')")) == ["1", "3"]
assert [v.version for v in client.search_model_versions(f"name = '{name}' AND version_number >= 2", order_by=["version_number ASC"])] == ["2", "3"]
first = client.search_model_versions(f"name = '{name}'", max_results=2, order_by=["version_number ASC"])
rest = client.search_model_versions(f"name = '{name}'", max_results=2, order_by=["version_number ASC"], page_token=first.token)
assert [v.version for v in first] + [v.version for v in rest] == ["1", "2", "3"]

# --- delete a version, rename, delete -------------------------------------------------------------------------------
client.delete_model_version(name, "1")
assert error_code(lambda: client.get_model_version(name, "1")) == "RESOURCE_DOES_NOT_EXIST"
with mlflow.start_run():
    mlflow.sklearn.log_model(LogisticRegression(max_iter=200).fit(X, y), name="model", registered_model_name=name)
assert client.get_model_version(name, "4").version == "4"  # a deleted version's number is not reused

renamed = f"{name}-renamed"
client.rename_registered_model(name, renamed)
assert error_code(lambda: client.get_registered_model(name)) == "RESOURCE_DOES_NOT_EXIST"
assert client.get_model_version_by_alias(renamed, "champion").version == "3"
assert mlflow.sklearn.load_model(f"models:/{renamed}@champion").predict_proba(X[:3]).tolist() == expected["3"]
assert sorted(v.version for v in client.search_model_versions(f"name = '{renamed}'")) == ["2", "3", "4"]

client.delete_registered_model(renamed)
assert error_code(lambda: client.get_registered_model(renamed)) == "RESOURCE_DOES_NOT_EXIST"
assert client.search_model_versions(f"name = '{renamed}'") == []
client.create_registered_model(renamed)  # the name is free again; versions start over
mv = client.create_model_version(renamed, f"runs:/{run_ids[0]}/model", run_id=run_ids[0])
summary["recreated_version"] = mv.version
summary["bad_names"] = [error_code(lambda: client.create_registered_model("a/b")), error_code(lambda: client.create_registered_model("a:b"))]
print(json.dumps(summary))
