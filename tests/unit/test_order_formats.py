"""The shop's order numbering, and the PHP-serialized meta WooCommerce keeps tracking in."""

from __future__ import annotations

import pytest

from service.orders.extract import OrderNumbers, find_order_numbers
from service.orders.php_serialized import NotSerialized, shipment_tracking, unserialize


def test_each_shops_numbering_normalises_to_how_the_shop_writes_it() -> None:
    assert find_order_numbers("wo ist NW 100234?") == ["NW-100234"]  # Northwind, the default
    woo = OrderNumbers("", 2, 6)
    assert woo.find("where is my order 4711?") == ["4711"]
    assert woo.find("#4711") == ["4711"]
    assert woo.find("ma commande n° 4711") == ["4711"]
    assert woo.find("I live at 10115 Berlin") == []  # no order talk: a postal code
    shopify = OrderNumbers("#", 4, 6)
    assert shopify.find("order #1001 please") == ["#1001"]
    assert shopify.find("order 1001") == ["#1001"]
    assert OrderNumbers("", 4, 4).find("order 123456") == []  # too many digits
    assert shopify.example == "#1002"


def test_shipment_tracking_meta_is_read_without_running_anything() -> None:
    meta = (
        'a:2:{i:0;a:2:{s:17:"tracking_provider";s:3:"ups";s:15:"tracking_number";s:4:"1Z99";}'
        'i:1;a:3:{s:17:"tracking_provider";s:0:"";s:24:"custom_tracking_provider";'
        's:10:"Hermès DE";s:15:"tracking_number";s:5:"H-123";}}'
    )
    assert shipment_tracking(meta) == ("Hermès DE", "H-123")  # the latest; bytes counted
    assert unserialize('a:1:{s:1:"k";b:1;}') == {"k": True}
    for hostile in ('O:8:"stdClass":0:{}', 'a:1:{i:0;O:1:"X":0:{}}', 's:99:"short";', "a:9"):
        with pytest.raises((NotSerialized, ValueError)):
            unserialize(hostile)
        assert shipment_tracking(hostile) == (None, None)
    assert shipment_tracking(None) == (None, None)
    deep = "a:1:{i:0;" * 20 + "N;" + "}" * 20
    with pytest.raises(NotSerialized):
        unserialize(deep)
