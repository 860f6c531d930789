"""Experiments through the real MLflow client: delete and restore (with their runs), rename, tags, and
search_experiments with MLflow's filter grammar, order_by and paging past the first page. Prints one JSON line."""
import json
import os
import time
import uuid

import mlflow
from mlflow import MlflowClient
from mlflow.entities import ViewType
from mlflow.exceptions import MlflowException

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


# Many experiments created before ours, so that a name filter's matches lie past the first page of all experiments.
for i in range(30):
    client.create_experiment(f"filler-{suffix}-{i:02d}")
names = [f"exp-{suffix}-{i}" for i in range(5)]
ids = []
for i, name in enumerate(names):
    ids.append(client.create_experiment(name, tags={"team": "vision" if i % 2 == 0 else "nlp", "index": str(i)}))
    time.sleep(0.01)

found = client.search_experiments(filter_string=f"name LIKE 'exp-{suffix}-%'", max_results=2)
pages = [[e.name for e in found]]
while found.token:
    found = client.search_experiments(filter_string=f"name LIKE 'exp-{suffix}-%'", max_results=2, page_token=found.token)
    pages.append([e.name for e in found])
summary["pages"] = pages  # default order: creation_time DESC
summary["vision"] = sorted(e.name for e in client.search_experiments(filter_string=f"name LIKE 'exp-{suffix}-%' AND tags.team = 'vision'"))
summary["by_name_asc"] = [e.name for e in client.search_experiments(filter_string=f"attribute.name ILIKE 'EXP-{suffix}-%'", order_by=["name ASC"])]
created = client.get_experiment(ids[2]).creation_time
summary["newer"] = sorted(e.name for e in client.search_experiments(filter_string=f"name LIKE 'exp-{suffix}-%' AND creation_time > {created}"))
summary["bad_filter"] = error_code(lambda: client.search_experiments(filter_string="owner = 'x'"))

# tags
client.set_experiment_tag(ids[0], "stage", "dev")
client.set_experiment_tag(ids[0], "stage", "prod")
client.delete_experiment_tag(ids[0], "index")
summary["tags"] = client.get_experiment(ids[0]).tags
summary["missing_tag"] = error_code(lambda: client.delete_experiment_tag(ids[0], "nope"))

# rename
client.rename_experiment(ids[1], f"renamed-{suffix}")
summary["renamed"] = client.get_experiment_by_name(f"renamed-{suffix}").experiment_id == ids[1]
summary["old_name_gone"] = client.get_experiment_by_name(names[1]) is None
summary["rename_taken"] = error_code(lambda: client.rename_experiment(ids[3], names[0]))

# delete and restore, with the runs
mlflow.set_experiment(experiment_id=ids[4])
with mlflow.start_run() as run:
    mlflow.log_metric("m", 1.0)
client.delete_experiment(ids[4])
summary["deleted_stage"] = [client.get_experiment(ids[4]).lifecycle_stage, client.get_run(run.info.run_id).info.lifecycle_stage]
summary["deleted_search"] = [e.name for e in client.search_experiments(view_type=ViewType.DELETED_ONLY, filter_string=f"name LIKE 'exp-{suffix}-%'")]
summary["active_search"] = sorted(e.name for e in client.search_experiments(filter_string=f"name LIKE 'exp-{suffix}-%'"))
summary["delete_twice"] = error_code(lambda: client.delete_experiment(ids[4]))
client.restore_experiment(ids[4])
summary["restored_stage"] = [client.get_experiment(ids[4]).lifecycle_stage, client.get_run(run.info.run_id).info.lifecycle_stage]
print(json.dumps(summary))
