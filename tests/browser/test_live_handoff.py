"""A person takes over, in two Chromium windows: the customer asks for a person, an
agent claims the conversation in the console, the bot falls silent, the agent's replies
appear on the customer's page live (and after a reload in the middle), the agent hands
back and the bot answers again."""

from __future__ import annotations

import uuid
from typing import Any

from tests.browser.conftest import EDITOR_PASSWORD, Shop
from tests.browser.test_chat_page import RETURNS, ask


def test_a_person_takes_over_and_hands_back(browser: Any, shop: Shop) -> None:
    name = f"Dana {uuid.uuid4().hex[:6]}"
    customer_context = browser.new_context(viewport={"width": 1000, "height": 800})
    customer = customer_context.new_page()
    customer.set_default_timeout(30_000)
    customer.goto(shop.url)
    ask(customer, RETURNS)
    customer.get_by_role("button", name="Talk to a person").click()
    dialog = customer.locator("dialog[open]")
    dialog.get_by_label("Your name").fill(name)
    dialog.get_by_label("Your email").fill("dana@example.com")
    dialog.get_by_label("How can we help?").fill("Can I return a jacket I wore once?")
    dialog.get_by_role("button", name="Send to our team").click()
    dialog.get_by_text("A person from our team will reply").wait_for()
    customer.keyboard.press("Escape")

    agent_context = browser.new_context(viewport={"width": 1100, "height": 900})
    agent = agent_context.new_page()
    agent.set_default_timeout(30_000)
    agent.goto(f"{shop.url}/admin")
    agent.get_by_label("Name").fill("anna")
    agent.get_by_label("Password").fill(EDITOR_PASSWORD)
    agent.get_by_role("button", name="Log in").click()
    agent.get_by_role("button", name=name).click()
    agent.get_by_role("button", name="Claim").click()
    agent.get_by_label(f"Reply to {name}").wait_for()

    # the bot is silent while a person holds the conversation
    customer.get_by_label("Your question").fill("Are you there?")
    customer.get_by_label("Your question").press("Enter")
    customer.locator(".fb-notice", has_text="anna").wait_for()
    agent.get_by_text("Customer: Are you there?").wait_for()

    agent.get_by_label(f"Reply to {name}").fill("Yes: unworn items only, I am afraid.")
    agent.get_by_role("button", name="Send reply").click()
    live = customer.locator("article.fb-human", has_text="unworn items only")
    live.wait_for()
    assert "Our team" in live.inner_text()

    customer.reload()  # in the middle: the reply is in the history, the stream resumes
    customer.locator("article.fb-human", has_text="unworn items only").wait_for()
    agent.get_by_label(f"Reply to {name}").fill("Anything else?")
    agent.get_by_role("button", name="Send reply").click()
    customer.locator("article.fb-human", has_text="Anything else?").wait_for()

    agent.get_by_role("button", name="Hand back to the bot").click()
    customer.get_by_text("chatting with our assistant again").wait_for()
    answer = ask(customer, RETURNS)
    assert "30 days" in answer.inner_text()  # the bot answers again
    customer.screenshot(path="var/screenshots/live-handoff-customer.png", full_page=True)
    agent.screenshot(path="var/screenshots/live-handoff-agent.png", full_page=True)
    customer_context.close()
    agent_context.close()
