"""compose.yaml and the Dockerfile cannot run here (no Docker engine); check their shape."""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_compose_services_healthchecks_and_volumes() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert {"api", "chroma", "ingest", "postgres", "ollama"} <= set(services)
    api = services["api"]
    assert api["command"][0] == "serve" and "--upgrade-db" in api["command"]
    assert api["environment"]["FAQBOT_LLM__PROVIDER"] == "ollama"
    assert api["environment"]["FAQBOT_LLM__HOST"] == "http://ollama:11434"
    assert api["environment"]["FAQBOT_DB__URL"].startswith("postgresql+psycopg://")
    assert "/healthz" in " ".join(api["healthcheck"]["test"])
    for dep in ("chroma", "postgres"):
        assert api["depends_on"][dep]["condition"] == "service_healthy"
        assert "test" in services[dep]["healthcheck"]
    assert any(v.startswith("ollama-models:") for v in services["ollama"]["volumes"])
    assert any(v.startswith("postgres-data:") for v in services["postgres"]["volumes"])
    chroma = services["chroma"]
    assert chroma["image"].startswith("chromadb/chroma:")
    assert "test" in chroma["healthcheck"]
    assert any(v.startswith("chroma-data:") for v in chroma["volumes"])
    ingest = services["ingest"]
    assert ingest["build"] == "."
    assert ingest["environment"]["FAQBOT_INDEX__HOST"] == "chroma"
    assert ingest["depends_on"]["chroma"]["condition"] == "service_healthy"
    assert any(v.startswith("faqbot-state:") for v in ingest["volumes"])
    assert ingest["command"][0] == "ingest" and "--gate" in ingest["command"]
    assert set(compose["volumes"]) >= {
        "chroma-data",
        "faqbot-state",
        "postgres-data",
        "ollama-models",
    }


def test_dockerfile_installs_the_cpu_torch_pinned_in_pyproject() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "dependencies"
    ]
    torch_pin = next(d for d in deps if d.startswith("torch"))
    assert torch_pin == "torch==2.13.0"
    assert (
        f"pip install --no-cache-dir {torch_pin} --index-url https://download.pytorch.org/whl/cpu"
        in dockerfile
    )
    assert 'ENTRYPOINT ["faqbot"]' in dockerfile
    assert "HF_HUB_OFFLINE=1" in dockerfile


def test_gate_question_set_is_large_enough_and_points_at_real_entries() -> None:
    import json

    from service.sources.parse import parse_sources

    ids = {e.id for e in parse_sources([ROOT / "data" / "faq"]).entries}
    rows = [
        json.loads(line) for line in (ROOT / "data/eval/questions.jsonl").read_text().splitlines()
    ]
    assert len(rows) >= 150
    assert sum(r["faq_id"] is None for r in rows) >= 30
    assert {r["faq_id"] for r in rows if r["faq_id"]} <= ids


def test_shipped_faq_is_valid_and_broad() -> None:
    from service.sources.parse import parse_sources

    result = parse_sources([ROOT / "data" / "faq"])
    assert result.errors == []
    assert len(result.entries) >= 60
    assert len({e.category for e in result.entries}) >= 8


def test_the_image_gets_every_package_and_the_chat_pages_files() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    packages = project["tool"]["setuptools"]["packages"]["find"]["include"]
    for package in ("service", "ingest", "cli"):
        assert f"{package}*" in packages and f"COPY {package} ./{package}" in dockerfile
    # Non-editable installs carry only .py files unless told: every other file the web
    # package reads (the static files, the page's texts) must match a package-data pattern.
    patterns = project["tool"]["setuptools"]["package-data"]["service.web"]
    web = ROOT / "service" / "web"
    data = [
        f.relative_to(web).as_posix()
        for f in web.rglob("*")
        if f.is_file() and f.suffix not in {".py", ".pyc"} and "__pycache__" not in f.parts
    ]
    assert "static/widget.js" in data and "page_texts.json" in data
    for name in data:
        assert any(fnmatch.fnmatch(name, p) for p in patterns), f"{name} not packaged"
    assert project["project"]["scripts"]["faqbot"] == "cli.main:main"


def test_the_shipped_faq_states_the_returns_window_order_answers_quote() -> None:
    from ingest.policy import read_policy
    from service.config import OrderSettings
    from service.sources.parse import parse_sources

    entries = parse_sources([ROOT / "data" / "faq"]).entries
    policy = read_policy(entries, OrderSettings().returns_window_entry)
    assert policy == {"returns_window_days": 30}


def test_compose_puts_a_proxy_in_front_of_replicas_and_pulls_the_model_first() -> None:
    import ipaddress

    compose = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    api, proxy, pull = services["api"], services["proxy"], services["ollama-pull"]
    # customers reach the proxy only; the replicas publish no host port (they would clash)
    assert {"80:80", "443:443"} <= set(proxy["ports"])
    assert "ports" not in api and {"8080", "9100"} <= set(api["expose"])
    assert str(api["deploy"]["replicas"]).startswith("${FAQBOT_API_REPLICAS")
    assert proxy["depends_on"]["api"]["condition"] == "service_healthy"
    caddyfile_mount = next(v for v in proxy["volumes"] if v.endswith(":/etc/caddy/Caddyfile:ro"))
    caddyfile = (ROOT / caddyfile_mount.split(":")[0]).read_text(encoding="utf-8")
    assert "dynamic a api 8080" in caddyfile and "respond @metrics 404" in caddyfile
    assert "fail_duration" in caddyfile and "flush_interval -1" in caddyfile
    # the API believes X-Forwarded-For from the proxy's fixed address and nobody else
    proxy_ip = ipaddress.ip_address(proxy["networks"]["faqbot"]["ipv4_address"])
    trusted = api["environment"]["FAQBOT_SERVER__TRUSTED_PROXIES"].split(",")
    assert [ipaddress.ip_network(t) for t in trusted] == [ipaddress.ip_network(f"{proxy_ip}/32")]
    subnet = compose["networks"]["faqbot"]["ipam"]["config"][0]["subnet"]
    assert proxy_ip in ipaddress.ip_network(subnet)
    # the one-shot job pulls exactly the model the API is configured for, first
    assert pull["entrypoint"] == ["ollama", "pull"]
    assert pull["command"] == [api["environment"]["FAQBOT_LLM__MODEL"]]
    assert pull["environment"]["OLLAMA_HOST"] == api["environment"]["FAQBOT_LLM__HOST"]
    assert pull["depends_on"]["ollama"]["condition"] == "service_healthy"
    assert api["depends_on"]["ollama-pull"]["condition"] == "service_completed_successfully"
    assert "test" in services["ollama"]["healthcheck"]
    # metrics on their own port inside the network; the answer cache shared in Redis
    assert api["environment"]["FAQBOT_METRICS__PORT"] == "9100"
    assert api["environment"]["FAQBOT_REDIS__URL"] == "redis://redis:6379/0"
    assert api["depends_on"]["redis"]["condition"] == "service_healthy"
    assert "test" in services["redis"]["healthcheck"]
    for name in ("api", "proxy", "chroma", "postgres", "ollama", "ollama-pull", "ingest", "redis"):
        assert services[name].get("networks"), f"{name} is not on the faqbot network"
    assert "caddy-data" in compose["volumes"]
