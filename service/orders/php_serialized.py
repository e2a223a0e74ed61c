"""Values WordPress stores with PHP's serialize(): arrays, strings, numbers, booleans and
null, read without running anything (objects are refused). WooCommerce's Shipment
Tracking extension keeps an order's tracking numbers this way in the order's meta."""

from __future__ import annotations

from typing import Any

MAX_BYTES = 64_000
MAX_DEPTH = 8


class NotSerialized(ValueError):
    pass


def unserialize(text: str | bytes) -> Any:
    data = text.encode("utf-8") if isinstance(text, str) else text
    if len(data) > MAX_BYTES:
        raise NotSerialized("too long")
    value, end = _value(data, 0, 0)
    if end != len(data):
        raise NotSerialized("trailing data")
    return value


def _value(data: bytes, i: int, depth: int) -> tuple[Any, int]:
    if depth > MAX_DEPTH or i >= len(data):
        raise NotSerialized("too deep or cut off")
    kind = data[i : i + 2]
    if data[i : i + 2] == b"N;":
        return None, i + 2
    if kind in (b"i:", b"d:", b"b:"):
        end = data.index(b";", i)
        raw = data[i + 2 : end].decode("ascii")
        if kind == b"i:":
            return int(raw), end + 1
        if kind == b"d:":
            return float(raw), end + 1
        return raw == "1", end + 1
    if kind == b"s:":
        colon = data.index(b":", i + 2)
        size = int(data[i + 2 : colon])
        start = colon + 2  # past :"
        if data[colon + 1 : start] != b'"' or data[start + size : start + size + 2] != b'";':
            raise NotSerialized("bad string")
        return data[start : start + size].decode("utf-8", "replace"), start + size + 2
    if kind == b"a:":
        colon = data.index(b":", i + 2)
        count = int(data[i + 2 : colon])
        if data[colon + 1 : colon + 2] != b"{" or count > 1000:
            raise NotSerialized("bad array")
        j, out = colon + 2, {}
        for _ in range(count):
            key, j = _value(data, j, depth + 1)
            if not isinstance(key, int | str):
                raise NotSerialized("bad key")
            out[key], j = _value(data, j, depth + 1)
        if data[j : j + 1] != b"}":
            raise NotSerialized("bad array end")
        return out, j + 1
    raise NotSerialized(f"unsupported type {kind!r}")


def shipment_tracking(meta: str | None) -> tuple[str | None, str | None]:
    """(carrier, tracking number) of the latest entry of ``_wc_shipment_tracking_items``;
    (None, None) when there is none or it cannot be read."""
    if not meta:
        return None, None
    try:
        items = unserialize(meta)
    except (NotSerialized, ValueError, IndexError):
        return None, None
    entries = [v for v in items.values() if isinstance(v, dict)] if isinstance(items, dict) else []
    if not entries:
        return None, None
    last = entries[-1]
    carrier = last.get("custom_tracking_provider") or last.get("tracking_provider") or None
    number = last.get("tracking_number") or None
    return (str(carrier) if carrier else None), (str(number) if number else None)
