"""A shop's order schema described as named, parameterised queries (a TOML file), so that
faqbot reads orders where the shop keeps them: WooCommerce, Saleor, an in-house schema.

    [queries]
    order = "SELECT ... WHERE o.number = :number"     # one row, or none
    items = "SELECT ... WHERE l.order_id = :order_key"
    shipment = "..."   # optional: the latest shipment, one row
    events = "..."     # optional: its tracking events
    [statuses]         # optional: the platform's statuses in faqbot's words
    "wc-processing" = "paid"
    [decode]           # optional: a column stored in a platform's own format
    tracking_items = "woocommerce-shipment-tracking"

Each query is sent as written, with bound parameters only (:number, :order_key), in a
read-only transaction; the columns it must return are listed in COLUMNS. Presets for
WooCommerce and Saleor ship in presets/."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PRESETS = Path(__file__).with_name("presets")
# The columns each query must return; the second set may be missing (None if absent).
COLUMNS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "order": (
        frozenset({"order_key", "order_number", "status", "placed_at", "total", "currency"}),
        frozenset({"email", "postal_code", "expected_delivery", "delivered_at"}),
    ),
    "items": (frozenset({"name", "quantity", "unit_price"}), frozenset()),
    "shipment": (frozenset(), frozenset({"carrier", "tracking_number", "tracking_items"})),
    "events": (frozenset({"status", "occurred_at"}), frozenset({"location"})),
}
PARAMETERS = {
    "order": {"number"},
    "items": {"order_key"},
    "shipment": {"order_key"},
    "events": {"order_key"},
}
DECODERS = frozenset({"woocommerce-shipment-tracking"})
_PARAM = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


class MappingError(ValueError):
    """The mapping file is not usable; the message names the file and what is wrong."""


@dataclass(frozen=True)
class QueryMapping:
    name: str  # the preset's name or the file's
    queries: dict[str, str]
    statuses: dict[str, str] = field(default_factory=dict)
    decode: dict[str, str] = field(default_factory=dict)


def preset_path(name: str) -> Path:
    return PRESETS / f"{name}.toml"


def load_mapping(path: Path) -> QueryMapping:
    """The mapping in ``path``, its shape checked (which queries, which parameters);
    what the queries return is checked against the database by SqlOrderSource.problems."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise MappingError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise MappingError(f"{path}: not valid TOML ({exc})") from None
    return parse_mapping(data, path.stem, str(path))


def parse_mapping(data: dict[str, Any], name: str, where: str) -> QueryMapping:
    unknown = set(data) - {"queries", "statuses", "decode", "about"}
    if unknown:
        raise MappingError(f"{where}: unknown section(s) {', '.join(sorted(unknown))}")
    queries = data.get("queries")
    if not isinstance(queries, dict) or not all(isinstance(v, str) for v in queries.values()):
        raise MappingError(f"{where}: [queries] must map names to SQL strings")
    for required in ("order", "items"):
        if not str(queries.get(required, "")).strip():
            raise MappingError(f"{where}: [queries] needs an '{required}' query")
    for key, sql in queries.items():
        _check_query(where, key, sql)
    statuses = _strings(data.get("statuses", {}), where, "statuses")
    decode = _strings(data.get("decode", {}), where, "decode")
    for column, decoder in decode.items():
        if decoder not in DECODERS:
            raise MappingError(
                f"{where}: [decode] {column} = {decoder!r}: known formats are "
                + ", ".join(sorted(DECODERS))
            )
    return QueryMapping(name, dict(queries), statuses, decode)


def _check_query(where: str, key: str, sql: str) -> None:
    if key not in COLUMNS:
        raise MappingError(f"{where}: unknown query '{key}' (known: {', '.join(COLUMNS)})")
    first = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else ""
    if first not in ("SELECT", "WITH"):
        raise MappingError(f"{where}: query '{key}' must be a SELECT (read-only)")
    if ";" in sql.strip().rstrip(";"):
        raise MappingError(f"{where}: query '{key}' must be one statement")
    used = set(_PARAM.findall(sql))
    wrong = used - PARAMETERS[key]
    if wrong:
        raise MappingError(
            f"{where}: query '{key}' uses :{', :'.join(sorted(wrong))}; it is given "
            + ", ".join(f":{p}" for p in sorted(PARAMETERS[key]))
        )
    if not used:
        raise MappingError(f"{where}: query '{key}' must filter by :{next(iter(PARAMETERS[key]))}")


def _strings(value: Any, where: str, section: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise MappingError(f"{where}: [{section}] must map names to strings")
    return dict(value)
