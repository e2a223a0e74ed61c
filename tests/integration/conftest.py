"""Fixtures of the integration tests (the database ones are in tests/databases.py)."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def seeded(chat_settings: Any) -> Any:
    """chat_settings, with Alice's and Bob's orders in its database."""
    from tests.integration.shop import seed_two_customers

    seed_two_customers(chat_settings.db.url)
    return chat_settings
