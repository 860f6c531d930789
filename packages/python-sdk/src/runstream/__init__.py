"""Runstream's Python SDK: log metrics of runs and model versions from training code.

    import runstream
    with runstream.Client() as client:              # RUNSTREAM_URL, RUNSTREAM_KAFKA_BROKERS, RUNSTREAM_TOKEN
        run = client.create_run(experiment="mnist", params={"lr": 0.01})
        run.log_metric("accuracy", 0.97)
        run.log_metrics({"loss": [0.9, 0.5, 0.3]})  # a series: steps 0, 1, 2

Importing this module starts nothing: no threads, no connections, no mlflow or transformers imports.
"""

from ._client import Client, ConfigurationError, ModelVersion, Run
from ._delivery import BufferFullError, DeliveryReport
from ._http_api import ApiError
from ._kafka_transport import KafkaUnreachableError, MissingTopicError
from ._metric_rules import InvalidMetricError
from ._mlflow_bridge import from_mlflow_run, get_mlflow_model_metrics
from ._version import __version__

__all__ = [
    "ApiError",
    "BufferFullError",
    "Client",
    "ConfigurationError",
    "DeliveryReport",
    "InvalidMetricError",
    "KafkaUnreachableError",
    "MissingTopicError",
    "ModelVersion",
    "Run",
    "__version__",
    "from_mlflow_run",
    "get_mlflow_model_metrics",
]
