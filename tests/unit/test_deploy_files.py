"""compose.yaml and the Dockerfile cannot run here (no Docker engine); check their shape."""

from __future__ import annotations

import fnmatch
import json
import re
import tomllib
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def _dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text(encoding="utf-8")


def _dockerfile_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for line in _dockerfile().replace("\\\n", " ").splitlines():
        if line.startswith("ENV "):
            env.update(dict(re.findall(r"(\w+)=(\S+)", line)))
    return env


def _volumes_declared() -> list[str]:
    line = next(x for x in _dockerfile().splitlines() if x.startswith("VOLUME "))
    return list(json.loads(line.removeprefix("VOLUME ")))


def test_compose_services_healthchecks_and_volumes() -> None:
    compose = _compose()
    services = compose["services"]
    assert {"api", "chroma", "ingest", "first-ingest", "postgres", "ollama"} <= set(services)
    api = services["api"]
    assert api["command"][0] == "serve" and "--upgrade-db" in api["command"]
    assert api["environment"]["FAQBOT_LLM__PROVIDER"] == "ollama"
    assert api["environment"]["FAQBOT_LLM__HOST"] == "http://ollama:11434"
    assert api["environment"]["FAQBOT_DB__URL"].startswith("postgresql+psycopg://")
    # ready, not merely alive: the proxy routes customers only to a replica that answers
    assert "/readyz" in " ".join(api["healthcheck"]["test"])
    for dep in ("chroma", "postgres"):
        assert api["depends_on"][dep]["condition"] == "service_healthy"
        assert "test" in services[dep]["healthcheck"]
    assert any(v.startswith("ollama-models:") for v in services["ollama"]["volumes"])
    assert any(v.startswith("postgres-data:") for v in services["postgres"]["volumes"])
    chroma = services["chroma"]
    assert chroma["image"].startswith("chromadb/chroma:")
    assert "test" in chroma["healthcheck"]
    assert any(v.startswith("chroma-data:") for v in chroma["volumes"])
    for name in ("ingest", "first-ingest"):
        job = services[name]
        assert job["build"] == "."
        assert job["environment"]["FAQBOT_INDEX__HOST"] == "chroma"
        assert job["depends_on"]["chroma"]["condition"] == "service_healthy"
        assert job["command"][0] == "ingest" and "--gate" in job["command"]
    assert set(compose["volumes"]) >= {
        "chroma-data",
        "faqbot-state",
        "faqbot-content",
        "postgres-data",
        "ollama-models",
    }


def test_first_boot_indexes_the_faq_before_the_api_starts() -> None:
    services = _compose()["services"]
    api, first = services["api"], services["first-ingest"]
    assert api["depends_on"]["first-ingest"]["condition"] == "service_completed_successfully"
    assert "profiles" not in first and first["restart"] == "no"  # runs on every `up`...
    assert "--if-empty" in first["command"]  # ...and does nothing once an index is live
    # it writes the index the API reads, from the FAQ the console edits
    assert sorted(first["volumes"]) == sorted(api["volumes"])
    assert first["environment"] == services["ingest"]["environment"]
    # the paths it is given exist in the image (the content volume starts as data/)
    content = "/srv/faqbot/content"
    for arg in first["command"]:
        if arg.startswith(content):
            assert (ROOT / "data" / arg.removeprefix(content + "/")).exists(), arg
    # editors' re-ingest stays a tool, and it gates on the conversations too
    assert services["ingest"]["profiles"] == ["tools"]
    assert "--gate-conversations" in services["ingest"]["command"]


def test_the_image_runs_as_non_root_and_writes_only_to_declared_volumes() -> None:
    from cli.preflight import state_paths
    from service.config import Settings

    dockerfile = _dockerfile()
    users = re.findall(r"^USER (\S+)", dockerfile, re.M)
    assert users and users[-1] not in ("root", "0")
    assert "--uid 10001" in dockerfile
    volumes = _volumes_declared()
    assert volumes == ["/var/lib/faqbot", "/srv/faqbot/content"]
    env = _dockerfile_env()
    settings = Settings.model_validate(
        {
            "index": {"path": env["FAQBOT_INDEX__PATH"]},
            "embedding": {"cache_dir": env["FAQBOT_EMBEDDING__CACHE_DIR"]},
            "db": {"url": env["FAQBOT_DB__URL"]},
            "admin": {"enabled": True, "faq_dir": env["FAQBOT_ADMIN__FAQ_DIR"]},
        }
    )
    # every folder serve and ingest write (the preflight's own list) is on a volume
    for item in state_paths(settings, "serve"):
        assert any(str(item.path).startswith(v) for v in volumes), item
    for key in ("FAQBOT_ADMIN__GATE_QUESTIONS", "FAQBOT_ADMIN__GATE_CONVERSATIONS"):
        assert env[key].startswith(volumes[1])
    assert env["HOME"].startswith(volumes[0])
    services = _compose()["services"]
    for name in ("api", "first-ingest", "ingest"):
        service = services[name]
        mounted = {v.split(":")[1]: v.split(":")[0] for v in service["volumes"]}
        assert mounted == {
            "/var/lib/faqbot": "faqbot-state",
            "/srv/faqbot/content": "faqbot-content",
        }
        # the code is read-only; only the volumes and a tmpfs /tmp can be written
        assert service["read_only"] is True and service["tmpfs"] == ["/tmp"]


def test_the_console_edits_the_faq_that_ingest_reads() -> None:
    services = _compose()["services"]
    assert services["api"]["environment"]["FAQBOT_ADMIN__ENABLED"] == "true"
    faq_dir = _dockerfile_env()["FAQBOT_ADMIN__FAQ_DIR"]
    for name in ("first-ingest", "ingest"):
        assert services[name]["command"][1] == faq_dir


def test_images_and_clients_are_pinned_to_matching_versions() -> None:
    services = _compose()["services"]
    tags = {}
    for name, service in services.items():
        if "image" in service:
            image, _, tag = service["image"].rpartition(":")
            assert re.fullmatch(r"v?\d+\.\d+(\.\d+)?", tag), f"{name}: {service['image']}"
            tags[image] = tag
    base = re.search(r"^FROM python:(\S+)", _dockerfile(), re.M)
    assert base and re.fullmatch(r"3\.11\.\d+-slim-\w+", base.group(1))
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "dependencies"
    ]
    pins = dict(d.split(" ")[0].split("==") for d in deps if "==" in d)
    assert pins["chromadb"] == tags["chromadb/chroma"]
    assert "ollama" in pins and tags["ollama/ollama"]
    assert services["ollama-pull"]["image"] == services["ollama"]["image"]


def test_secrets_come_from_the_env_file_never_from_compose() -> None:
    text = (ROOT / "compose.yaml").read_text(encoding="utf-8")
    services = _compose()["services"]
    for name, service in services.items():
        env = service.get("environment") or {}
        for key, value in env.items():
            if re.search(r"PASSWORD|SECRET|TOKEN|API_KEY", key):
                assert str(value).startswith("${"), f"{name}: {key} is written into compose"
    url = services["api"]["environment"]["FAQBOT_DB__URL"]
    assert re.match(r"postgresql\+psycopg://faqbot:\$\{POSTGRES_PASSWORD:\?[^}]*\}@", url)
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    for var in set(re.findall(r"\$\{(\w+)", text)):
        assert re.search(rf"^#? ?{var}=", example, re.M), f"{var} is not in .env.example"
    assert re.search(r"^POSTGRES_PASSWORD=$", example, re.M)  # no sample password to keep
    assert ".env" in (ROOT / ".gitignore").read_text().splitlines()


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
    assert "static/widget.js" in data and "static/texts/de.json" in data
    for name in data:
        # setuptools' globs stop at a folder: "static/*" does not reach static/texts/
        folder = name.rsplit("/", 1)[0]
        assert any(fnmatch.fnmatch(name, p) and p.rsplit("/", 1)[0] == folder for p in patterns), (
            f"{name} not packaged"
        )
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


def test_the_default_served_model_is_the_one_sizing_chose() -> None:
    from service.config import LLMSettings

    default = LLMSettings().model
    services = _compose()["services"]
    compose_default = re.search(r":-([^}]+)\}", services["api"]["environment"]["FAQBOT_LLM__MODEL"])
    assert compose_default and compose_default.group(1) == default
    sizing = (ROOT / "docs" / "sizing.md").read_text(encoding="utf-8")
    assert f"serves **`{default}`**" in sizing
    assert f"FAQBOT_LLM_MODEL={default}" in (ROOT / ".env.example").read_text()
