"""The monitoring compose ships: Prometheus's config and alert rules are valid for the
real promtool, and the alerts fire when they should (promtool's rule unit tests). That
they name only metrics the service exports: tests/integration/test_metrics_api.py."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS = ROOT / "deploy" / "prometheus"


@pytest.fixture(scope="module")
def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        if os.environ.get("FAQBOT_REQUIRE_PROMTOOL") == "1":
            pytest.fail("promtool required (Debian package prometheus) but not installed")
        pytest.skip("promtool is not installed (Debian package prometheus)")
    return found


@pytest.mark.parametrize(
    "args",
    [
        ["check", "config", "prometheus.yml"],
        ["check", "rules", "alerts.yml"],
        ["test", "rules", "alerts_test.yml"],
    ],
    ids=["config", "rules", "rule-tests"],
)
def test_promtool_accepts_the_config_and_the_alerts_fire_as_tested(
    promtool: str, args: list[str]
) -> None:
    result = subprocess.run(
        [promtool, *args], cwd=PROMETHEUS, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_runs_prometheus_on_the_replicas_metrics_port() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    prometheus = services["prometheus"]
    mounts = {v.split(":")[1]: v.split(":")[0] for v in prometheus["volumes"]}
    assert mounts["/etc/prometheus/prometheus.yml"] == "./deploy/prometheus/prometheus.yml"
    assert mounts["/etc/prometheus/alerts.yml"] == "./deploy/prometheus/alerts.yml"
    assert "/prometheus" in mounts and "prometheus-data" in compose["volumes"]
    assert "--config.file=/etc/prometheus/prometheus.yml" in prometheus["command"]
    # published on the VM's loopback only: the metrics say how busy the shop is
    assert all(p.startswith("127.0.0.1:") for p in prometheus["ports"])
    config = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text(encoding="utf-8"))
    job = next(j for j in config["scrape_configs"] if j["job_name"] == "faqbot")
    sd = job["dns_sd_configs"][0]
    assert sd["names"] == ["api"] and "api" in services
    assert str(sd["port"]) == services["api"]["environment"]["FAQBOT_METRICS__PORT"]
    assert str(sd["port"]) in services["api"]["expose"]
    assert config["rule_files"] == ["alerts.yml"]


def test_grafana_is_provisioned_with_prometheus_and_the_dashboard() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    grafana = compose["services"]["grafana"]
    mounts = {v.split(":")[1]: v.split(":")[0] for v in grafana["volumes"]}
    provisioning = ROOT / mounts["/etc/grafana/provisioning"].removeprefix("./")
    source = yaml.safe_load((provisioning / "datasources" / "prometheus.yml").read_text())
    assert source["datasources"][0]["url"] == "http://prometheus:9090"
    boards = yaml.safe_load((provisioning / "dashboards" / "faqbot.yml").read_text())
    folder = boards["providers"][0]["options"]["path"]
    dashboard = next(host for inside, host in mounts.items() if inside.startswith(folder + "/"))
    assert (ROOT / dashboard.removeprefix("./")).is_file()
    assert all(p.startswith("127.0.0.1:") for p in grafana["ports"])
