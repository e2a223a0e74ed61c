"""faqbot as the image runs it: an unprivileged user, a working directory it cannot
write, and only the Dockerfile's declared volumes writable. There is no Docker engine
here, so the Dockerfile's own ENV lines are read and its volume paths mapped to folders
that only the unprivileged user (nobody) may write."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.live_server import free_port, wait_until_ready

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
NOBODY = 65534
VOLUMES = ("/var/lib/faqbot", "/srv/faqbot/content")
FAQBOT = [sys.executable, "-m", "cli.main"]


def _dockerfile_env() -> dict[str, str]:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    env: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("ENV "):
            env.update(dict(re.findall(r"(\w+)=(\S+)", line)))
    return env


def _as_nobody(command: list[str]) -> list[str]:
    return ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", *command]


@pytest.fixture
def sandbox() -> Iterator[dict[str, Path]]:
    """A read-only working directory (root's, as /app in the image) and the two volumes,
    owned by nobody; the content volume starts as a copy of data/, as a new named
    volume starts as a copy of the image's."""
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv to run as another user")
    # not under pytest's own folder, which only root may enter
    tmp_path = Path(tempfile.mkdtemp(prefix="faqbot-unprivileged-"))
    workdir = tmp_path / "app"
    workdir.mkdir()
    state, content = tmp_path / "state", tmp_path / "content"
    state.mkdir()
    shutil.copytree(ROOT / "data", content)
    for folder in (state, content):
        for path in [folder, *folder.rglob("*")]:
            os.chown(path, NOBODY, NOBODY)
    workdir.chmod(0o555)
    tmp_path.chmod(0o755)
    try:
        yield {"workdir": workdir, "state": state, "content": content}
    finally:
        workdir.chmod(0o755)
        shutil.rmtree(tmp_path, ignore_errors=True)


def _env(sandbox: dict[str, Path], **extra: str) -> dict[str, str]:
    """The Dockerfile's environment, its volume paths moved into the sandbox."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAQBOT_")}
    for key, value in _dockerfile_env().items():
        value = value.replace(VOLUMES[0], str(sandbox["state"]))
        env[key] = value.replace(VOLUMES[1], str(sandbox["content"]))
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra)
    return env


def test_a_read_only_working_directory_is_refused_in_words_not_a_traceback(
    sandbox: dict[str, Path],
) -> None:
    env = _env(sandbox)
    del env["FAQBOT_EMBEDDING__CACHE_DIR"]  # the default: var/models, relative
    result = subprocess.run(
        _as_nobody([*FAQBOT, "ingest", str(sandbox["content"] / "faq")]),
        cwd=sandbox["workdir"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "var/models" in result.stderr and "FAQBOT_EMBEDDING__CACHE_DIR" in result.stderr
    assert "not writable by uid 65534" in result.stderr
    assert not (sandbox["state"] / "index").exists()  # refused before any work


def test_ingest_and_serve_run_with_only_the_declared_volumes_writable(
    sandbox: dict[str, Path],
) -> None:
    env = _env(sandbox)
    content = sandbox["content"]
    ingest = subprocess.run(
        _as_nobody(
            [
                *FAQBOT,
                "ingest",
                str(content / "faq"),
                "--if-empty",
                "--gate",
                str(content / "eval" / "questions.jsonl"),
            ]
        ),
        cwd=sandbox["workdir"],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert ingest.returncode == 0, ingest.stderr[-3000:]
    assert "gate passed" in ingest.stdout and "published" in ingest.stdout
    # a second first-boot run finds the index and does nothing
    again = subprocess.run(
        _as_nobody([*FAQBOT, "ingest", str(content / "faq"), "--if-empty"]),
        cwd=sandbox["workdir"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert again.returncode == 0 and "nothing to do" in again.stdout, again.stderr
    port = free_port()
    serve = subprocess.Popen(
        _as_nobody([*FAQBOT, "serve", "--port", str(port), "--upgrade-db"]),
        cwd=sandbox["workdir"],
        env={**env, "FAQBOT_ADMIN__ENABLED": "true"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(base, serve, timeout_s=240)
        r = httpx.post(
            f"{base}/v1/chat", json={"message": "How long do I have to return an item?"}, timeout=60
        )
        assert r.status_code == 200, r.text
        assert r.json()["sources"], r.json()
    finally:
        serve.terminate()
        out = serve.communicate(timeout=30)[0].decode("utf-8", "replace")
    assert "Traceback" not in out, out[-3000:]
    # everything it wrote is on the two volumes, as the user the image runs as
    written = [p for p in sandbox["state"].rglob("*")]
    assert any(p.name == "faqbot.db" for p in written)
    assert (sandbox["state"] / "models").is_dir() and (sandbox["state"] / "index").is_dir()
    assert all(p.stat().st_uid == NOBODY for p in written)
    assert list(sandbox["workdir"].iterdir()) == []
