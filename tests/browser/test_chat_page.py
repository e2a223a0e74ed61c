"""The customers' chat page and widget in a real browser (Debian's Chromium through
Playwright) against the real service: real index, embedded model, SQLite, SMTP."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
import sqlalchemy as sa

from service.web.security import CSP
from tests.browser.conftest import Shop
from tests.integration.shop import ALICE, BOB

pytestmark = [pytest.mark.integration, pytest.mark.browser]
RETURNS = "How long do I have to return a jacket?"
OFF_TOPIC = "What is the capital of Australia?"


def ask(page: Any, question: str) -> Any:
    """Types a question, presses Enter, waits for the finished answer; returns it."""
    answers = page.locator(".fb-log article.fb-bot:has(.fb-meta)")
    before = answers.count()
    page.get_by_label("Your question").fill(question)
    page.get_by_label("Your question").press("Enter")
    answers.nth(before).wait_for()
    return answers.nth(before)


def rows(shop: Shop, sql: str) -> list[Any]:
    engine = sa.create_engine(shop.db_url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(sa.text(sql)).all())
    finally:
        engine.dispose()


def test_a_question_is_streamed_answered_and_cited(page: Any, shop: Shop) -> None:
    page.goto(shop.url)
    with page.expect_response("**/v1/chat/stream") as streamed:
        answer = ask(page, RETURNS)
    assert streamed.value.headers["content-type"].startswith("text/event-stream")
    assert "event: token" in streamed.value.text()
    assert "30 days" in answer.locator(".fb-text").inner_text()
    assert answer.locator("strong").count() >= 1  # the answer's markdown, rendered
    assert answer.locator(".fb-mode").inner_text() in (
        "Answered from our FAQ",
        "Written from our FAQ",
    )
    answer.locator(".fb-chip").first.click()
    dialog = page.locator("dialog[open]")
    dialog.get_by_role("heading", name="How long do I have to return an item?").wait_for()
    assert "Last updated: 2026-11-02" in dialog.inner_text()
    assert (
        dialog.get_by_role("link", name="Open in our help center")
        .get_attribute("href")
        .startswith("https://help.northwind-outdoor.example/returns")
    )
    page.keyboard.press("Escape")
    assert page.locator("dialog[open]").count() == 0


def test_the_customers_text_is_never_html(page: Any, shop: Shop) -> None:
    page.goto(shop.url)
    ask(page, '<img src=x onerror="alert(1)"> **bold?** where is <b>my</b> order')
    user = page.locator(".fb-user").last
    assert user.locator("img, b, strong").count() == 0
    assert "<img src=x" in user.inner_text()


def test_an_off_topic_question_is_declined_and_a_person_is_reached(page: Any, shop: Shop) -> None:
    page.goto(shop.url)
    answer = ask(page, OFF_TOPIC)
    assert answer.locator(".fb-mode").inner_text() == "No answer found"
    assert answer.locator(".fb-didyoumean").count() == 0
    answer.get_by_role("button", name="Ask a person instead").click()
    dialog = page.locator("dialog[open]")
    dialog.get_by_label("Your name").fill("Carla Customer")
    dialog.get_by_label("Your email").fill("carla@example.com")
    assert dialog.get_by_label("How can we help?").input_value() == OFF_TOPIC
    dialog.get_by_role("button", name="Send to our team").click()
    dialog.get_by_text("A person from our team will reply to carla@example.com").wait_for()
    stored = rows(shop, "select name, email, message, conversation from handoff_requests")
    assert [(r.name, r.email) for r in stored][-1] == ("Carla Customer", "carla@example.com")
    assert OFF_TOPIC in str(stored[-1].conversation)  # the conversation is attached
    deadline = time.monotonic() + 10
    while not shop.mailbox.messages and time.monotonic() < deadline:
        time.sleep(0.1)
    mail = shop.mailbox.messages[-1]
    assert mail["Reply-To"] == "carla@example.com" and OFF_TOPIC in mail.get_payload()


def test_a_near_miss_offers_suggestions_that_answer_in_one_click(page: Any, shop: Shop) -> None:
    page.goto(shop.url)
    answer = ask(page, "hardshell washing machine ok?")
    assert answer.locator(".fb-mode").inner_text() == "No answer found"
    choice = answer.locator(".fb-didyoumean").get_by_role(
        "button", name="How do I wash a waterproof jacket?"
    )
    choice.click()
    chosen = page.locator(".fb-log article.fb-bot:has(.fb-meta)").last
    chosen.locator(".fb-chip").wait_for()
    assert chosen.locator(".fb-mode").inner_text() == "Answered from our FAQ"
    assert "How do I wash a waterproof jacket?" in chosen.locator(".fb-chip").inner_text()


def test_the_order_form_verifies_before_it_shows_anything(page: Any, shop: Shop) -> None:
    page.goto(shop.url)
    page.get_by_role("button", name="Order status").click()
    dialog = page.locator("dialog[open]")
    dialog.get_by_label("Order number").fill(ALICE["order"])
    dialog.get_by_label("Email address used for the order").fill("someone@else.example")
    dialog.get_by_role("button", name="Look up my order").click()
    dialog.get_by_text("couldn't verify these details").wait_for()
    assert ALICE["tracking"] not in page.content()
    dialog.get_by_label("Email address used for the order").fill(ALICE["email"])
    dialog.get_by_role("button", name="Look up my order").click()
    order = page.locator(".fb-log article.fb-bot:has(.fb-mode-order)").last
    order.wait_for()
    assert ALICE["tracking"] in order.inner_text() and "shipped" in order.inner_text()


def test_thumbs_down_with_a_comment_reaches_the_feedback_table(page: Any, shop: Shop) -> None:
    page.goto(shop.url)
    answer = ask(page, "Which countries do you ship to?")
    answer.get_by_role("button", name="No, this answer did not help").click()
    answer.get_by_label("What was missing or wrong? (optional)").fill("I wanted Iceland")
    answer.get_by_role("button", name="Send feedback").click()
    answer.get_by_text("Thanks for your feedback.").wait_for()
    stored = rows(shop, "select rating, comment from feedback")
    assert ("down", "I wanted Iceland") in [tuple(r) for r in stored]


def test_a_reload_keeps_the_conversation_and_new_conversation_clears_it(
    page: Any, shop: Shop
) -> None:
    page.goto(shop.url)
    answer = ask(page, RETURNS)
    answer.get_by_role("button", name="Yes, this answer helped").click()
    answer.get_by_text("Thanks for your feedback.").wait_for()
    page.reload()
    page.locator(".fb-user", has_text=RETURNS).wait_for()
    assert "30 days" in page.locator(".fb-log").inner_text()
    # as it was: the citation chip and the vote are back
    restored = page.locator(".fb-bot", has_text="30 days").last
    assert restored.locator(".fb-chip").count() >= 1
    helped = restored.get_by_role("button", name="Yes, this answer helped")
    assert helped.get_attribute("aria-pressed") == "true"
    page.get_by_role("button", name="New conversation").click()
    assert page.locator(".fb-user").count() == 0
    page.reload()
    page.locator(".fb-log .fb-bot").first.wait_for()
    assert page.locator(".fb-user").count() == 0


def test_clear_states_when_busy_unavailable_or_offline(page: Any, shop: Shop) -> None:
    page.goto(shop.url)
    page.route(
        "**/v1/chat/stream",
        lambda route: route.fulfill(
            status=429,
            headers={"Retry-After": "7", "content-type": "application/json"},
            body='{"detail": "busy"}',
        ),
    )
    page.get_by_label("Your question").fill(RETURNS)
    page.get_by_label("Your question").press("Enter")
    page.get_by_text("Please try again in 7 seconds").wait_for()
    assert page.get_by_label("Your question").input_value() == RETURNS  # ready to resend
    page.unroute("**/v1/chat/stream")
    page.route(
        "**/v1/chat/stream",
        lambda route: route.fulfill(
            status=503, content_type="application/json", body='{"detail": "index"}'
        ),
    )
    page.get_by_label("Your question").fill(RETURNS)
    page.get_by_label("Your question").press("Enter")
    page.get_by_text("not available right now").wait_for()
    page.unroute("**/v1/chat/stream")
    page.route("**/v1/chat/stream", lambda route: route.abort("internetdisconnected"))
    page.get_by_label("Your question").fill(RETURNS)
    page.get_by_label("Your question").press("Enter")
    page.get_by_text("You seem to be offline").wait_for()
    assert len(page.locator(".fb-error[role=alert]").all()) == 3


def test_the_widget_on_another_origin_on_a_phone(browser: Any, shop: Shop) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    page.set_default_timeout(30_000)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(shop.shop_url)
    launcher = page.get_by_role("button", name="Chat with us")
    launcher.click()
    assert launcher.get_attribute("aria-expanded") == "true"
    panel = page.locator(".fbw-panel")
    panel.get_by_label("Your question").wait_for()
    box = panel.bounding_box()
    assert box["width"] == 390 and box["height"] == 844  # full screen on a phone
    # The shop's CSS (pink buttons, serif text) does not reach into the widget.
    send = panel.get_by_role("button", name="Send")
    assert "255, 105, 180" not in send.evaluate("b => getComputedStyle(b).backgroundColor")
    answer = ask(panel, RETURNS)
    assert "30 days" in answer.inner_text()
    page.screenshot(path="var/screenshots/widget-phone.png")
    page.keyboard.press("Escape")
    assert panel.is_hidden() and launcher.get_attribute("aria-expanded") == "false"
    assert not errors, errors
    context.close()


def test_without_javascript_the_form_still_answers(browser: Any, shop: Shop) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(shop.url)
    page.get_by_label("Your question").fill(RETURNS)
    page.get_by_role("button", name="Send").click()
    page.wait_for_url("**/ask")
    assert "30 days" in page.locator(".fb-log").inner_text()
    assert page.get_by_text("Answered from our FAQ").count() == 1
    page.screenshot(path="var/screenshots/no-javascript.png", full_page=True)
    # and the conversation continues from the answer page
    page.get_by_label("Your question").fill("Which countries do you ship to?")
    page.get_by_role("button", name="Send").click()
    assert "Which countries do you ship to?" in page.locator(".fb-log").inner_text()
    context.close()


def test_the_page_loads_under_a_strict_csp_with_no_console_errors(page: Any, shop: Shop) -> None:
    response = page.goto(shop.url)
    headers = response.headers
    assert headers["content-security-policy"] == CSP
    assert "unsafe-inline" not in CSP and "unsafe-eval" not in CSP
    assert headers["x-content-type-options"] == "nosniff" and "referrer-policy" in headers
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    ask(page, RETURNS)
    page.reload()
    page.locator(".fb-user").first.wait_for()
    assert not page.console.errors, page.console.errors
    assert all(re.match(re.escape(shop.url), u) for u in requests), requests


@pytest.mark.parametrize("where", ["page", "widget"])
def test_no_serious_accessibility_violations(browser: Any, shop: Shop, where: str) -> None:
    from axe_playwright_python.sync_playwright import Axe

    context = browser.new_context(viewport={"width": 1100, "height": 820})
    page = context.new_page()
    page.set_default_timeout(30_000)
    if where == "page":
        page.goto(shop.url)
        ask(page, RETURNS)
    else:
        page.goto(shop.shop_url)
        page.get_by_role("button", name="Chat with us").click()
        ask(page.locator(".fbw-panel"), RETURNS)
    results = Axe().run(page)
    serious = [
        (v["id"], v["help"], [n["target"] for n in v["nodes"]][:3])
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert not serious, serious
    context.close()


def test_a_german_browser_gets_the_page_and_the_answers_in_german(browser: Any, shop: Shop) -> None:
    from axe_playwright_python.sync_playwright import Axe

    context = browser.new_context(locale="de-DE", viewport={"width": 1100, "height": 820})
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(shop.url)
    question = page.get_by_label("Deine Frage")
    question.wait_for()
    assert page.evaluate("document.documentElement.lang") == "de"
    # the script's view, once it has its German texts (it replaces the server's page)
    page.get_by_role("button", name="Mit einer Person sprechen").wait_for(state="visible")

    answers = page.locator(".fb-log article.fb-bot:has(.fb-meta)")
    question.fill("Wie viele Tage habe ich Zeit, um eine Jacke zurückzuschicken?")
    question.press("Enter")
    answers.nth(0).wait_for()
    german = answers.nth(0)
    assert "30 Tagen" in german.locator(".fb-text").inner_text()
    assert german.locator(".fb-text").get_attribute("lang") == "de"
    assert german.locator(".fb-mode").inner_text() == "Antwort aus unseren FAQ"

    # French on a German page: the message decides; no French translation, so the
    # English entry with a French sentence in front
    question.fill("Est-ce que je peux payer avec PayPal ?")
    question.press("Enter")
    answers.nth(1).wait_for()
    french = answers.nth(1).locator(".fb-text")
    assert french.inner_text().startswith("Cette réponse n'existe pour l'instant qu'en anglais")
    assert "PayPal" in french.inner_text() and french.get_attribute("lang") == "fr"
    page.screenshot(path="var/screenshots/german-browser.png", full_page=True)

    results = Axe().run(page)
    serious = [
        v["id"] for v in results.response["violations"] if v["impact"] in ("serious", "critical")
    ]
    assert not serious, serious
    context.close()


def test_a_conversation_of_small_talk_a_person_and_an_order(page: Any, shop: Shop) -> None:
    page.goto(shop.url)
    ask(page, RETURNS)
    thanks = ask(page, "thanks!")
    assert "welcome" in thanks.inner_text() and thanks.locator(".fb-chip").count() == 0
    assert thanks.locator(".fb-feedback").count() == 0  # small talk is not rated
    person = ask(page, "I want to talk to a person")
    person.get_by_role("button", name="Ask a person").click()
    page.locator("dialog[open]").wait_for()
    page.keyboard.press("Escape")
    order = ask(page, "Where is my order?")
    order.get_by_role("button", name="Order status").click()
    page.locator("dialog[open]").get_by_label("Order number").wait_for()
    page.keyboard.press("Escape")
    page.screenshot(path="var/screenshots/conversation.png", full_page=True)


@pytest.mark.parametrize(
    ("order", "message", "kind", "shows"),
    [
        ("NW-200003", "Please cancel this order", "cancel", "cancel order NW-200003"),
        ("NW-200002", "I want to return the boots", "return", "Tatra hiking boots"),
        (
            "NW-200003",
            "Please change the delivery address to 221b Baker Street, London",
            "address",
            "221b Baker Street, London",
        ),
    ],
)
def test_a_request_is_confirmed_with_a_button_and_reaches_the_shop(
    page: Any, shop: Shop, order: str, message: str, kind: str, shows: str
) -> None:
    page.goto(shop.url)
    ask(page, f"order {order} {BOB['email']}")
    asked = ask(page, message)
    assert shows in asked.inner_text()
    before = len(shop.hooks.behaviour.received)
    asked.get_by_role("button", name="Yes", exact=True).click()
    done = page.locator(".fb-log article.fb-bot:has(.fb-meta)").nth(2)
    done.wait_for()
    assert "R-" in done.inner_text()
    assert asked.get_by_role("button", name="Yes", exact=True).count() == 0  # asked once
    sent = shop.hooks.wait_for(before + 1)[-1]
    assert sent["kind"] == kind and sent["reference"] in done.inner_text()
    page.screenshot(path=f"var/screenshots/order-request-{kind}.png", full_page=True)


def test_a_request_the_order_does_not_allow_gets_no_buttons(page: Any, shop: Shop) -> None:
    page.goto(shop.url)
    ask(page, f"order {ALICE['order']} {ALICE['email']}")  # shipped
    refused = ask(page, "Please cancel my order")
    assert "can no longer be cancelled" in refused.inner_text()
    assert refused.get_by_role("button", name="Yes", exact=True).count() == 0
