"""Orders read from the shop's own system: a customer of a WooCommerce shop (MariaDB),
of a Saleor shop (PostgreSQL) and of a Shopify shop (the fake Admin API) asks in the
chat and gets their order; `faqbot orders check` names what is wrong with a mapping;
mapping files are refused in words when they could not work."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from service.orders.mapping import MappingError, load_mapping, preset_path
from tests.fakes.instant_model import InstantChatModel
from tests.fakes.shopify_server import TOKEN, FakeShopify, FakeShopifyBehaviour
from tests.order_platforms import (
    SALEOR_DDL,
    SAMPLES,
    WOOCOMMERCE_DDL,
    saleor_rows,
    seed_platform,
    shopify_order,
    woocommerce_rows,
)

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
ALICE = SAMPLES[0]
MakeClient = Callable[..., TestClient]


def _woocommerce(url: str) -> None:
    seed_platform(url, WOOCOMMERCE_DDL, woocommerce_rows).dispose()


def _saleor(url: str) -> None:
    seed_platform(url, SALEOR_DDL, saleor_rows).dispose()


def _ask(client: TestClient, number: str) -> tuple[str, str]:
    """The answer before and after the customer proves the order is theirs."""
    first = client.post("/v1/chat", json={"message": f"Where is my order {number}?"}).json()
    body = {"message": ALICE.email, "session_id": first["session_id"]}
    return first["answer"], client.post("/v1/chat", json=body).json()["answer"]


NUMBERING = {"number_prefix": "", "number_min_digits": 4, "number_max_digits": 6}


def test_a_woocommerce_customer_gets_their_order_in_the_chat(
    make_client: MakeClient, mariadb_url: str
) -> None:
    _woocommerce(mariadb_url)
    client = make_client(
        InstantChatModel(),
        orders={"source": "woocommerce", "source_url": mariadb_url, **NUMBERING},
    )
    before, after = _ask(client, "1001")
    assert ALICE.tracking not in before and "email" in before.lower()  # proof first
    assert ALICE.tracking in after and "DHL" in after and "Fjord rain jacket" in after


def test_a_saleor_customer_gets_their_order_in_the_chat(
    make_client: MakeClient, postgres_url: str
) -> None:
    _saleor(postgres_url)
    client = make_client(
        InstantChatModel(), orders={"source": "saleor", "source_url": postgres_url, **NUMBERING}
    )
    _, after = _ask(client, "1001")
    assert ALICE.tracking in after and "Merino beanie" in after


def test_a_shopify_customer_gets_their_order_and_a_throttled_api_is_said_plainly(
    make_client: MakeClient,
) -> None:
    behaviour = FakeShopifyBehaviour(orders=[shopify_order(s) for s in SAMPLES])
    with FakeShopify(behaviour) as fake:
        client = make_client(
            InstantChatModel(),
            orders={
                "source": "shopify",
                "shopify_url": fake.url,
                "shopify_token": SecretStr(TOKEN),
                "number_prefix": "#",
                "number_min_digits": 4,
            },
        )
        _, after = _ask(client, "#1001")
        assert ALICE.tracking in after and "DHL" in after
        behaviour.throttle_next, behaviour.throttle_wait_s = 5, 60.0
        message = f"Where is order #1002? {SAMPLES[1].email}"
        answer = client.post("/v1/chat", json={"message": message}).json()
        assert "temporarily unavailable" in answer["answer"]
        # the FAQ still answers while the order source cannot
        faq = client.post("/v1/chat", json={"message": "How long do I have to return an item?"})
        assert faq.status_code == 200 and faq.json()["mode"] != "order"


def _check(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", "orders", "check", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_orders_check_says_ready_and_shows_an_order_without_its_owner(mariadb_url: str) -> None:
    _woocommerce(mariadb_url)
    env = {
        "FAQBOT_ORDERS__SOURCE": "woocommerce",
        "FAQBOT_ORDERS__SOURCE_URL": mariadb_url,
        "FAQBOT_ORDERS__NUMBER_PREFIX": "",
        "FAQBOT_ORDERS__NUMBER_MIN_DIGITS": "4",
    }
    done = _check(env, "--order", "1001")
    assert done.returncode == 0, done.stderr
    assert "source woocommerce is ready" in done.stdout
    assert "1 x Fjord rain jacket" in done.stdout and ALICE.tracking in done.stdout
    assert ALICE.email not in done.stdout and ALICE.postal not in done.stdout


def test_orders_check_names_the_missing_column_and_the_failing_query(
    mariadb_url: str, tmp_path: Path
) -> None:
    _woocommerce(mariadb_url)
    text = preset_path("woocommerce").read_text(encoding="utf-8")
    broken = tmp_path / "shop.toml"
    broken.write_text(
        text.replace("o.currency,", "").replace("FROM wp_wc_orders_meta m", "FROM wp_no_such m"),
        encoding="utf-8",
    )
    env = {
        "FAQBOT_ORDERS__SOURCE": "sql",
        "FAQBOT_ORDERS__SOURCE_URL": mariadb_url,
        "FAQBOT_ORDERS__MAPPING": str(broken),
    }
    done = _check(env)
    assert done.returncode != 0
    assert "query 'order' returns no column currency" in done.stderr
    assert "query 'shipment' fails" in done.stderr and "wp_no_such" in done.stderr


def test_orders_check_says_when_the_source_cannot_be_reached() -> None:
    from tests.live_server import free_port

    env = {
        "FAQBOT_ORDERS__SOURCE": "saleor",
        "FAQBOT_ORDERS__SOURCE_URL": f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/x",
    }
    done = _check(env)
    assert done.returncode != 0 and "cannot be reached" in done.stderr


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (
            lambda t: t.replace(
                "SELECT o.id AS order_key", "DELETE FROM x; SELECT o.id AS order_key"
            ),
            "must be a SELECT",
        ),
        (lambda t: t.replace(":number", ":number OR 1 = :other"), "uses :other"),
        (
            lambda t: t.replace("[queries]\n", "[queries]\nmine = 'SELECT 1'\n"),
            "unknown query 'mine'",
        ),
        (lambda t: t.replace("[decode]", "[decode]\nx = 'pickle'\n[unused]"), "unknown section"),
        (lambda t: t + "\n[decode]\n", "not valid TOML"),
    ],
)
def test_a_mapping_that_could_not_work_is_refused_in_words(
    tmp_path: Path, change: Callable[[str], str], says: str
) -> None:
    path = tmp_path / "m.toml"
    path.write_text(change(preset_path("woocommerce").read_text(encoding="utf-8")), "utf-8")
    with pytest.raises(MappingError, match=says):
        load_mapping(path)


def test_the_settings_refuse_a_source_without_what_it_needs() -> None:
    from pydantic import ValidationError

    from service.config import OrderSettings

    for bad, says in (
        ({"source": "sql"}, "needs orders.mapping"),
        ({"source": "shopify"}, "shopify_url and shopify_token"),
        ({"number_min_digits": 7}, "above orders.number_max_digits"),
        ({"number_prefix": "NW'; --"}, "pattern"),
    ):
        with pytest.raises(ValidationError, match=says):
            OrderSettings(**bad)  # type: ignore[arg-type]


def test_the_service_says_at_start_what_is_wrong_with_the_order_source(
    make_client: MakeClient, mariadb_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _woocommerce(mariadb_url)
    broken = tmp_path / "shop.toml"
    text = preset_path("woocommerce").read_text(encoding="utf-8")
    broken.write_text(text.replace("o.currency,", ""), encoding="utf-8")
    with caplog.at_level("ERROR", logger="faqbot"):
        client = make_client(
            InstantChatModel(),
            orders={"source": "sql", "source_url": mariadb_url, "mapping": broken, **NUMBERING},
        )
    assert "query 'order' returns no column currency" in caplog.text
    assert client.get("/healthz").status_code == 200  # it starts all the same
