"""The production compose file parses and names every service the README promises."""

import re
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[3]
COMPOSE = REPO / "deploy" / "compose" / "compose.yaml"
PROMISED = {"kafka", "clickhouse", "migrate", "topics", "worker", "dashboard", "publish"}


def load() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def test_compose_names_every_promised_service() -> None:
    assert set(load()["services"]) == PROMISED


def test_readme_lists_the_same_services() -> None:
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Production topology", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"^- `(\w+)`", section, re.MULTILINE))
    assert listed == PROMISED


def test_official_images_and_shared_environment() -> None:
    services = load()["services"]
    assert services["kafka"]["image"].startswith("apache/kafka:4.")
    assert services["clickhouse"]["image"].startswith("clickhouse/clickhouse-server:")
    for name in ("migrate", "topics", "worker", "dashboard"):
        env = services[name]["environment"]
        assert {"KAFKA_BOOTSTRAP", "CLICKHOUSE_URL"} <= set(env), name


def test_ports_published_on_loopback_only() -> None:
    for name, service in load()["services"].items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} beyond loopback"


def test_worker_is_scalable_and_has_a_health_check() -> None:
    worker = load()["services"]["worker"]
    assert worker["deploy"]["replicas"] >= 1
    assert "healthcheck" in worker
