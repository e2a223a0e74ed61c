"""The shape the code keeps: imports point one way (retrieval at the bottom; ingest
above it; the HTTP service beside ingest; the CLI on top), and functions stay short
enough to read at once."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MAX_FUNCTION_LINES = 50
# The bottom layer, which ingest may use: the index format, retrieval, the FAQ sources'
# format and the settings.
BOTTOM = ("service.retrieval", "service.sources", "service.config")


def _imports(package: str) -> Iterator[tuple[Path, str]]:
    for path in (ROOT / package).rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                yield path, node.module
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    yield path, alias.name


def _within(module: str, *prefixes: str) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def test_the_service_never_imports_ingest_or_the_cli() -> None:
    wrong = [(p.name, m) for p, m in _imports("service") if _within(m, "ingest", "cli")]
    assert not wrong


def test_ingest_uses_only_the_bottom_layer_of_the_service() -> None:
    wrong = [
        (p.name, m)
        for p, m in _imports("ingest")
        if _within(m, "service") and not _within(m, *BOTTOM) or _within(m, "cli")
    ]
    assert not wrong


def test_retrieval_depends_on_nothing_above_it() -> None:
    wrong = [
        (p.name, m)
        for p, m in _imports("service/retrieval")
        if _within(m, "service", "ingest", "cli") and not _within(m, *BOTTOM)
    ]
    assert not wrong


@pytest.mark.parametrize("package", ["service", "ingest", "cli"])
def test_functions_stay_short(package: str) -> None:
    long = []
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({lines})")
    assert not long


def _constants(package: str) -> Iterator[tuple[Path, ast.AST]]:
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            yield path, node


@pytest.mark.parametrize(("package", "above"), [("service", r"(cli|ingest)"), ("ingest", r"cli")])
def test_no_process_is_started_on_a_layer_above(package: str, above: str) -> None:
    """An import test cannot see `python -m cli.main` or a worker's target named as a
    string: module paths of a layer above, and starting Python itself, are refused."""
    import re

    # a file such as "ingest.lock" is not a module
    files = r"(lock|json|jsonl|md|txt|csv|yaml|yml|log)"
    module_path = re.compile(rf"^{above}\.(?!{files}$)\w+(\.\w+)*(:\w+)?$")
    wrong = []
    for path, node in _constants(package):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if module_path.match(node.value):
                wrong.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.value!r}")
        elif (
            isinstance(node, ast.Attribute)
            and node.attr == "executable"
            and isinstance(node.value, ast.Name)
            and node.value.id == "sys"
        ):
            wrong.append(f"{path.relative_to(ROOT)}:{node.lineno} sys.executable")
    assert not wrong


def test_the_database_layer_imports_nothing_above_it() -> None:
    wrong = [
        (p.name, m)
        for p, m in _imports("service/db")
        if _within(m, "service", "ingest", "cli") and not _within(m, "service.db", "service.config")
    ]
    assert not wrong


def test_routes_take_their_parts_from_deps_not_from_the_chat_service() -> None:
    """The chat service answers turns; the queue, the history and the sessions that
    routes need come from api/deps.py, so the service is no service locator."""
    parts = {
        *("limiter", "conversations", "history_writer", "resolve_session", "returns_window"),
        *("language", "detector", "chat_settings", "prompts"),
    }
    routes = [*(ROOT / "service/api").glob("*.py"), ROOT / "service/admin/routes.py"]
    wrong = []
    for path in routes:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Attribute)
                and node.attr in parts
                and isinstance(node.value, ast.Name)
                and node.value.id in ("service", "chat")
            ):
                wrong.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.value.id}.{node.attr}")
    assert not wrong


def test_the_chat_service_offers_turns_and_nothing_else() -> None:
    from service.chat.service import ChatService

    public = sorted(n for n in vars(ChatService) if not n.startswith("_"))
    assert public == ["answer", "respond"]


def test_choosing_thresholds_is_build_time_code_in_ingest() -> None:
    """Calibration and the cross-lingual path's choices run at ingest on held-out rows;
    the query path only reads what they chose (from the manifest)."""
    build_time = {
        "calibrate",
        "cross_validate",
        "canonical_rule",
        "balanced_threshold",
        "choose_threshold",
        "choose_answer_weight",
        "choose_suggest_margin",
    }
    defined = {
        f"{path.relative_to(ROOT)}:{node.name}"
        for path, node in _constants("service")
        if isinstance(node, ast.FunctionDef | ast.ClassDef) and node.name in build_time
    }
    assert not defined
