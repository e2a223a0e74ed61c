"""schemathesis against the app's own OpenAPI schema, over a real server: generated valid
and invalid requests to every endpoint get no 5xx and no answer outside the schema
(status codes, content types, bodies)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import positive_data_acceptance

from service.config import Settings
from tests.fakes.instant_model import InstantChatModel

pytestmark = pytest.mark.integration
# Invalid data may also be refused with 413: a body over the limit is refused unread.
REJECTED = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429"]
CONFIG = SchemathesisConfig.from_dict(
    {"checks": {"negative_data_rejection": {"expected-statuses": [*REJECTED, "5xx"]}}}
)
EXAMPLES = 60  # per endpoint and mode: under a minute for the whole API here
# positive_data_acceptance is left out on purpose: a message must contain something
# readable (not only control, format or surrogate characters), which JSON Schema cannot
# say; such messages get the documented 422. Every other check runs.


@pytest.fixture
def api_schema(seeded: Settings, live_server: Callable[..., str]) -> Any:
    # Limits high enough that the generated requests test the API, not the lockouts
    # (which have tests of their own).
    base = live_server(
        InstantChatModel(),
        orders={
            "attempts_per_address": 1_000_000,
            "max_failed_attempts": 1_000_000,
            "max_order_failures": 1_000_000,
        },
    )
    return schemathesis.openapi.from_url(f"{base}/openapi.json", config=CONFIG)


@pytest.mark.parametrize("mode", list(schemathesis.GenerationMode))
def test_every_endpoint_keeps_to_its_schema(api_schema: Any, mode: Any) -> None:
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert {op.path for op in operations} >= {
        "/v1/chat",
        "/v1/chat/stream",
        "/v1/feedback",
        "/v1/orders/lookup",
        "/readyz",
        "/healthz",
    }
    for operation in operations:
        if mode.is_negative and operation.method.upper() == "GET":
            continue  # no parameters: there is no invalid request to make

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
        def check(case: Any) -> None:
            case.call_and_validate(excluded_checks=[positive_data_acceptance])

        check()
