"""`faqbot orders check`: is the order source the settings choose ready? Runs each of its
queries (or a call to the shop's API) once and names what fails: the query the database
refuses, with its error, or the column a query does not return. With --order, shows
what a verified customer would see of that order (never its email or address)."""

from __future__ import annotations

import argparse
from typing import Any

from cli.common import EXIT_OK, EXIT_REFUSED, err, settings_for


def add_parser(sub: Any) -> None:
    p = sub.add_parser("orders", help="the order source (orders.source): check it")
    actions = p.add_subparsers(dest="action", required=True)
    check = actions.add_parser("check", help="run the source's queries once; name what fails")
    check.add_argument("--order", help="also look up this order number and show its facts")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from service.db.engine import engine_for
    from service.orders.extract import OrderNumbers
    from service.orders.mapping import MappingError
    from service.orders.source import SourceError
    from service.orders.sources import build_source

    settings = settings_for(args)
    orders = settings.orders
    url = orders.db_url or settings.db.url
    try:
        source = build_source(
            orders,
            lambda u: engine_for(u, settings.db, orders.db_timeout_s),
            orders.read_url or url,
        )
        problems = source.problems()
    except MappingError as exc:
        err(f"orders check: {exc}")
        return EXIT_REFUSED
    except (SourceError, SQLAlchemyError, OSError) as exc:
        err(f"orders check: source {orders.source} cannot be reached: {_first_line(exc)}")
        return EXIT_REFUSED
    for problem in problems:
        err(f"orders check: {problem}")
    if problems:
        return EXIT_REFUSED
    print(f"orders: source {source.name} is ready")
    if args.order:
        numbers = OrderNumbers.of(orders)
        found = numbers.find(args.order) or numbers.find(f"order {args.order}")
        if not found:
            err(f"orders check: {args.order!r} is not an order number like {numbers.example}")
            return EXIT_REFUSED
        record = source.find(found[0])
        if record is None:
            print(f"orders: no order {found[0]}")
            return EXIT_REFUSED
        _show(record.facts)
    return EXIT_OK


def _first_line(exc: Exception) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:300] if text else ''}"


def _show(facts: Any) -> None:
    """The order as the source gave it (stdout: the command's result)."""
    items = ", ".join(f"{i.quantity} x {i.name}" for i in facts.items) or "no items"
    print(f"  {facts.order_number}: {facts.status}, placed {facts.placed_at:%Y-%m-%d}")
    print(f"  items: {items}; total {facts.total_cents / 100:.2f} {facts.currency}")
    if facts.tracking_number:
        print(f"  shipped with {facts.carrier or 'an unnamed carrier'}: {facts.tracking_number}")
    for e in facts.events:
        where = f" in {e.location}" if e.location else ""
        print(f"  {e.occurred_at:%Y-%m-%d %H:%M} {e.status}{where}")
