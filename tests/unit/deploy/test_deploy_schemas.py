"""The production descriptions validate offline: compose against the Compose specification,
the Kubernetes manifests against Kubernetes' own schemas (strict: no unknown field)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from compose_spec import PyCompose
from compose_spec.models import ComposeSpecification

REPO = Path(__file__).resolve().parents[3]
COMPOSE = REPO / "deploy" / "compose" / "compose.yaml"
MANIFESTS = sorted((REPO / "deploy" / "k8s").glob("*.yaml"))
K8S_VERSION = kubernetes_validate.utils.latest_version()


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())  # resolves the << merges
    return data


def check_compose(data: dict[str, Any]) -> None:
    ComposeSpecification.model_validate(data)  # the specification's JSON schema, as models
    PyCompose.from_json(json.dumps(data))  # and the Rust compose-spec parser


def documents() -> list[tuple[str, dict[str, Any]]]:
    return [(p.name, d) for p in MANIFESTS for d in yaml.safe_load_all(p.read_text()) if d]


def test_compose_validates_against_the_compose_specification() -> None:
    check_compose(compose())
    broken = compose()
    broken["services"]["worker"]["restart"] = ["sometimes"]
    with pytest.raises(Exception, match=r"restart|expected"):
        check_compose(broken)


@pytest.mark.parametrize(
    ("name", "doc"), documents(), ids=[f"{n}:{d['kind']}" for n, d in documents()]
)
def test_manifest_validates_against_kubernetes_schemas(name: str, doc: dict[str, Any]) -> None:
    kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def test_the_validation_can_fail() -> None:
    worker = next(d for n, d in documents() if d["metadata"]["name"] == "journey-worker")
    broken = copy.deepcopy(worker)
    broken["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]["exec"]["cmd"] = ["x"]
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, K8S_VERSION, strict=True)


def test_probes_and_credentials_mean_something() -> None:
    docs = {d["metadata"]["name"] + "/" + d["kind"]: d for _, d in documents()}
    worker = docs["journey-worker/Deployment"]["spec"]
    container = worker["template"]["spec"]["containers"][0]
    assert "/ready" in " ".join(container["readinessProbe"]["exec"]["command"])
    partitions = int(docs["journey-config/ConfigMap"]["data"]["JOURNEY_TOPIC_PARTITIONS"])
    assert worker["replicas"] <= partitions  # a worker beyond the partitions is never ready
    dashboard = docs["journey-dashboard/Deployment"]["spec"]["template"]["spec"]["containers"][0]
    (url,) = [e for e in dashboard["env"] if e["name"] == "CLICKHOUSE_URL"]
    assert url["valueFrom"]["secretKeyRef"]["key"] == "DASHBOARD_CLICKHOUSE_URL"  # read-only user
    assert "secretRef" not in json.dumps(dashboard["envFrom"])  # never the worker's credentials
    for d in docs.values():
        for c in d.get("spec", {}).get("template", {}).get("spec", {}).get("containers", []):
            assert c["resources"]["requests"] and c["resources"]["limits"], c["name"]


def env_of(container: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e.get("value", "") for e in container.get("env", [])}


def test_production_turns_sign_in_on_and_each_part_gets_only_its_secrets() -> None:
    docs = {d["metadata"]["name"] + "/" + d["kind"]: d for _, d in documents()}

    def container(name: str, kind: str = "Deployment") -> dict[str, Any]:
        spec = docs[f"{name}/{kind}"]["spec"]["template"]["spec"]
        return dict(spec["containers"][0])

    dashboard = container("journey-dashboard")
    assert env_of(dashboard)["JOURNEY_DASHBOARD_AUTH"] == "oidc"
    assert dashboard["volumeMounts"][0]["mountPath"] == "/app/.streamlit/secrets.toml"
    assert "[auth]" in docs["journey-dashboard-auth/Secret"]["stringData"]["secrets.toml"]
    services = compose()["services"]
    assert services["dashboard"]["environment"]["JOURNEY_DASHBOARD_AUTH"] == "oidc"
    assert "journey_dashboard:" in services["dashboard"]["environment"]["CLICKHOUSE_URL"]
    assert "journey_worker:" in services["worker"]["environment"]["CLICKHOUSE_URL"]
    # No part gets the whole Secret; only the publisher (outside the cluster) holds the
    # pseudonymisation key.
    for name, kind in (
        ("journey-worker", "Deployment"),
        ("journey-dashboard", "Deployment"),
        ("journey-migrate", "Job"),
    ):
        text = json.dumps(container(name, kind))
        assert '"secretRef"' not in text and "JOURNEY_PSEUDONYM_KEY" not in text, name
    worker = env_of(container("journey-worker"))
    assert worker["KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
    assert worker["KAFKA_SASL_MECHANISM"].startswith("SCRAM-")


def test_in_compose_only_the_publisher_holds_the_pseudonymisation_key() -> None:
    services = compose()["services"]
    environments = {name: s.get("environment", {}) for name, s in services.items()}
    holders = {name for name, env in environments.items() if "JOURNEY_PSEUDONYM_KEY" in env}
    assert holders == {"publish"}
    assert "CLICKHOUSE_URL" not in services["publish"]["environment"]
    assert services["publish"]["profiles"] == ["tools"]  # not started by `up`
