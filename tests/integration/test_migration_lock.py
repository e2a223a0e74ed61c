"""Replicas that start together each run `--upgrade-db`: the database's migration lock
lets one migrate while the others wait, then find nothing to do. Real processes on the
real PostgreSQL and MariaDB servers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from service.db.migrations import migration_lock
from service.db.tables import metadata

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
SERVERS = ["postgres_url", "mariadb_url"]

# Each process imports everything first, says it is ready, and waits for the word: the
# two migrations then start within milliseconds of each other.
RACER = """
import json, sys, time
from pathlib import Path
from service.db.migrations import upgrade
url, ready, go = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
ready.touch()
while not go.exists():
    time.sleep(0.005)
done = upgrade(url)
print(json.dumps({"before": sorted(done.before), "after": sorted(done.after)}))
"""


def _tables(url: str) -> dict[str, set[str]]:
    engine = sa.create_engine(url)
    try:
        inspector = sa.inspect(engine)
        return {
            t: {c["name"] for c in inspector.get_columns(t)} for t in inspector.get_table_names()
        }
    finally:
        engine.dispose()


def _versions(url: str) -> list[str]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return [r[0] for r in conn.execute(sa.text("SELECT version_num FROM alembic_version"))]
    finally:
        engine.dispose()


@pytest.mark.parametrize("server", SERVERS)
def test_two_processes_starting_together_migrate_once(
    server: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    url = request.getfixturevalue(server)
    go = tmp_path / "go"
    racers = []
    for n in range(2):
        ready = tmp_path / f"ready-{n}"
        racers.append(
            (
                ready,
                subprocess.Popen(
                    [sys.executable, "-c", RACER, url, str(ready), str(go)],
                    cwd=ROOT,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                ),
            )
        )
    deadline = time.monotonic() + 60
    while not all(r.exists() for r, _ in racers):
        assert time.monotonic() < deadline, "the processes did not start"
        assert all(p.poll() is None for _, p in racers), [p.communicate() for _, p in racers]
        time.sleep(0.02)
    go.touch()
    results = []
    for _, proc in racers:
        out, errors = proc.communicate(timeout=120)
        assert proc.returncode == 0, errors
        results.append(json.loads(out.strip().splitlines()[-1]))
    # one found an empty database and migrated it; the other waited and found it current
    assert sorted(bool(r["before"]) for r in results) == [False, True]
    assert all(r["after"] == results[0]["after"] for r in results)
    assert len(_versions(url)) == 1
    expected = {t.name: {c.name for c in t.columns} for t in metadata.sorted_tables}
    assert {k: v for k, v in _tables(url).items() if k != "alembic_version"} == expected


@pytest.mark.parametrize("server", SERVERS)
def test_upgrade_waits_while_another_session_holds_the_lock(
    server: str, request: pytest.FixtureRequest
) -> None:
    url = request.getfixturevalue(server)
    env = {**os.environ, "FAQBOT_DB__URL": url}
    holder = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with holder.connect() as conn:
        with migration_lock(conn, url, wait_s=5):
            proc = subprocess.Popen(
                [sys.executable, "-m", "cli.main", "db", "upgrade"],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            # it started, found the lock taken, and waits without touching the schema
            deadline = time.monotonic() + 60
            while "waiting" not in _peek(proc):
                assert proc.poll() is None, proc.communicate()
                assert time.monotonic() < deadline, "the upgrade never said it waits"
                time.sleep(0.1)
            assert _tables(url) == {}
        out = proc.communicate(timeout=120)[0]
    holder.dispose()
    assert proc.returncode == 0, _peek(proc)
    assert "upgraded from an empty database" in out
    assert len(_versions(url)) == 1


def _peek(proc: subprocess.Popen[str]) -> str:
    """What the process wrote to stderr so far, without waiting for its end (a reader
    thread; select() fails on the high descriptor numbers of a long test session)."""
    reader: _Reader | None = getattr(proc, "_reader", None)
    if reader is None:
        reader = _Reader(proc)
        proc._reader = reader  # type: ignore[attr-defined]
    return reader.text


class _Reader:
    def __init__(self, proc: subprocess.Popen[str]) -> None:
        import threading

        self.text = ""
        self._proc = proc
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self._proc.stderr is not None
        for line in self._proc.stderr:
            self.text += line
