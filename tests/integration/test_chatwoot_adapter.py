"""The Chatwoot adapter's failures over real HTTP against the fake: what an operator
reads when Chatwoot is slow, throttles, is not there, or the inbox is set wrong; and an
inbox that enforces identity validation."""

from __future__ import annotations

import threading

import pytest

from service.helpdesk.base import HelpdeskError, Ticket
from service.helpdesk.chatwoot import ChatwootHelpdesk
from tests.fakes.chatwoot_server import INBOX, FakeChatwoot, FakeChatwootBehaviour
from tests.live_server import free_port

pytestmark = pytest.mark.integration
TICKET = Ticket("f" * 32, "FFFFFFFF", "Carla", "carla@example.com", "Help", (("user", "hi"),))


def test_slow_throttled_missing_and_misconfigured_chatwoot() -> None:
    with FakeChatwoot() as fake:
        desk = ChatwootHelpdesk(fake.url, INBOX, timeout_s=0.5)
        fake.behaviour.hold = threading.Event()
        with pytest.raises(HelpdeskError, match="in time"):
            desk.open(TICKET)
        fake.behaviour.hold = None
        fake.behaviour.fail_next = [429]
        with pytest.raises(HelpdeskError, match="HTTP 429"):
            desk.open(TICKET)
        wrong = ChatwootHelpdesk(fake.url, "not-the-inbox", timeout_s=2)
        with pytest.raises(HelpdeskError, match="no such inbox"):
            wrong.open(TICKET)
        desk.open(TICKET)  # and it works again
    gone = ChatwootHelpdesk(f"http://127.0.0.1:{free_port()}", INBOX, timeout_s=2)
    with pytest.raises(HelpdeskError, match="could not be reached"):
        gone.open(TICKET)


def test_an_inbox_with_identity_validation_needs_the_hmac_token() -> None:
    with FakeChatwoot(FakeChatwootBehaviour(hmac_token="inbox-hmac")) as fake:
        with pytest.raises(HelpdeskError, match="HTTP 401"):
            ChatwootHelpdesk(fake.url, INBOX).open(TICKET)
        thread = ChatwootHelpdesk(fake.url, INBOX, hmac_token="inbox-hmac").open(TICKET)
        contact = fake.behaviour.contacts[thread.contact]
        assert contact["identifier"] == "f" * 32 and contact["email"] == "carla@example.com"
