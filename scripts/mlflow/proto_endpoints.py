"""Prints, as JSON, every REST endpoint the installed mlflow package's protos declare for its tracking service
(MlflowService) and model registry (ModelRegistryService): [{service, rpc, method, path}], path under /api/2.0."""
import json

from mlflow.protos import model_registry_pb2, service_pb2
from mlflow.utils.rest_utils import extract_api_info_for_service

out = []
for module, service in ((service_pb2, "MlflowService"), (model_registry_pb2, "ModelRegistryService")):
    for request, (path, method) in extract_api_info_for_service(getattr(module, service), "").items():
        out.append({"service": service, "rpc": request.__name__, "method": method, "path": "/api/2.0/" + path.lstrip("/")})
print(json.dumps(out))
