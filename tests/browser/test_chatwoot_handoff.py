"""Chatwoot as the helpdesk, in Chromium: the customer asks for a person on the chat
page, the conversation opens in (the fake of) Chatwoot with the transcript, the bot is
silent, an agent's reply written in Chatwoot appears on the page live and after a
reload, and resolving the conversation there gives the customer back to the bot."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from service.config import Settings
from service.db.engine import make_engine
from service.live_handoff import LiveHandoffs
from tests.browser.test_chat_page import RETURNS, ask
from tests.fakes.chatwoot_server import FakeChatwoot
from tests.fakes.instant_model import InstantChatModel
from tests.integration.test_chatwoot_bridge import opened, until


@pytest.fixture
def chatwoot() -> Iterator[FakeChatwoot]:
    with FakeChatwoot() as fake:
        yield fake


def test_a_chatwoot_agent_answers_on_the_customers_page(
    page: Any, live_server: Callable[..., str], chatwoot: FakeChatwoot, chat_settings: Settings
) -> None:
    url = live_server(InstantChatModel(), helpdesk=chatwoot.settings())
    chatwoot.behaviour.webhook_url = f"{url}/v1/helpdesk/chatwoot"
    page.goto(url)
    ask(page, RETURNS)
    session = page.evaluate("() => sessionStorage.getItem('faqbot-session')")
    page.get_by_role("button", name="Talk to a person").click()
    dialog = page.locator("dialog[open]")
    dialog.get_by_label("Your name").fill("Carla")
    dialog.get_by_label("Your email").fill("carla@example.com")
    dialog.get_by_label("How can we help?").fill("Can I return a jacket I wore once?")
    dialog.get_by_role("button", name="Send to our team").click()
    dialog.get_by_text("A person from our team will reply").wait_for()
    page.keyboard.press("Escape")

    cid = opened(chatwoot)
    assert RETURNS in chatwoot.contents(cid)[0]
    held = LiveHandoffs(make_engine(chat_settings.db.url)).holder
    until(lambda: held(session) is not None, "the conversation held in Chatwoot")
    page.get_by_label("Your question").fill("Are you there?")
    page.get_by_label("Your question").press("Enter")
    page.locator(".fb-notice", has_text="with our team").wait_for()  # the bot is silent
    until(lambda: chatwoot.contents(cid)[-1] == "Are you there?", "the message in Chatwoot")

    chatwoot.agent_reply(cid, "Yes: unworn items only, I am afraid.", agent="Dana")
    reply = page.locator("article.fb-human", has_text="unworn items only")
    reply.wait_for()
    assert "Our team" in reply.inner_text()
    page.reload()
    page.locator("article.fb-human", has_text="unworn items only").wait_for()

    assert chatwoot.resolve(cid) == 200
    ask(page, RETURNS)  # the bot answers again
    assert not page.console.errors
