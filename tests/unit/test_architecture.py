"""The shape the code keeps: imports point one way (retrieval at the bottom; ingest
above it; the HTTP service beside ingest; the CLI on top), and functions stay short
enough to read at once."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MAX_FUNCTION_LINES = 55  # "about 50": a docstring or a long call may tip one over
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
