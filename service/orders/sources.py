"""The order source the settings choose (orders.source), built once at start."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from service.config import OrderSettings
from service.orders.faqbot_source import FaqbotSource
from service.orders.mapping import load_mapping, preset_path
from service.orders.shopify_source import ShopifySource
from service.orders.source import OrderSource
from service.orders.sql_source import SqlOrderSource


def build_source(
    settings: OrderSettings, engine: Callable[[str], sa.Engine], default_url: str
) -> OrderSource:
    """engine(url) makes the engine of a source database (with the orders' timeouts);
    default_url: read_url, else db_url."""
    url = settings.source_url or default_url
    if settings.source == "faqbot":
        return FaqbotSource(engine(url))
    if settings.source == "shopify":
        assert settings.shopify_url and settings.shopify_token  # checked by the settings
        return ShopifySource(
            settings.shopify_url,
            settings.shopify_token.get_secret_value(),
            settings.shopify_api_version,
            timeout_s=settings.db_timeout_s,
        )
    path = settings.mapping or preset_path(settings.source)
    return SqlOrderSource(engine(url), load_mapping(path))
