"""Every address the command's help names exists on the service it starts: help text
that points at a 404 (the old `/docs`) sends an operator looking for nothing."""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from cli.main import build_parser

pytestmark = pytest.mark.integration


def _help_texts() -> str:
    parser = build_parser()
    texts = [parser.format_help()]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            texts += [sub.format_help() for sub in action.choices.values()]
    return "\n".join(texts)


def test_the_help_names_only_addresses_the_service_serves(
    make_client: Callable[..., TestClient],
) -> None:
    text = re.sub(r"https?://\S+", " ", _help_texts())
    paths = set(re.findall(r"(?:^|[\s(])(/[a-z][\w./-]*[\w/])", text, re.M))
    assert {"/openapi.json", "/readyz", "/admin", "/widget.js"} <= paths
    client = make_client(admin={"enabled": True})
    for path in sorted(paths):
        assert client.get(path).status_code != 404, path
    assert "thin wrappers" not in text  # the developers' notes stay in the code
