"""The orders a session may see: facts from the order source (source.py), checked
against the proof the customer gave (verify.py), and the per-session access state in
SQL (SQLAlchemy Core: PostgreSQL, SQLite, MariaDB/MySQL). Blocking calls; the caller
moves them off the event loop."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from service.db.tables import as_utc, order_access
from service.orders.facts import Item, OrderFacts, TrackingEvent
from service.orders.faqbot_source import FaqbotSource
from service.orders.verify import is_owner

if TYPE_CHECKING:
    from service.orders.source import OrderSource

__all__ = ["AccessState", "Item", "OrderFacts", "OrderRepository", "TrackingEvent"]


@dataclass(frozen=True)
class AccessState:
    """What a session has proved. Failed attempts are counted in attempt_counters."""

    pending_order: str | None = None
    verified_order: str | None = None
    verified_until: datetime | None = None
    # a request about the verified order the customer was asked to confirm (requests.py)
    pending_request: dict[str, Any] | None = None

    def verified(self, order_number: str | None, now: datetime) -> bool:
        return (
            self.verified_order is not None
            and (order_number is None or self.verified_order == order_number)
            and self.verified_until is not None
            and self.verified_until > now
        )


class OrderRepository:
    """The orders a session may see: the facts come from the shop's order source, the
    verification state is faqbot's own (order_access, on the orders database)."""

    def __init__(
        self,
        engine: sa.Engine,
        facts_engine: sa.Engine | None = None,
        source: OrderSource | None = None,
    ) -> None:
        self._engine = engine
        # Reads in autocommit: no BEGIN/ROLLBACK round trips around a single SELECT
        # (measured on PostgreSQL: checkout + SELECT 1 p95 2.0 ms -> 0.8 ms).
        self._reader = engine.execution_options(isolation_level="AUTOCOMMIT")
        # The demo's own tables, on a read replica when there is one; the access state
        # is read where it is written (a replica's lag must not lose a verification).
        self.source: OrderSource = source or FaqbotSource(facts_engine or engine)

    @property
    def engine(self) -> sa.Engine:
        return self._engine

    def verified_facts(
        self, order_number: str, email: str | None, postal_code: str | None
    ) -> OrderFacts | None:
        """The order's facts if the email or postal code is its customer's, else None."""
        record = self.source.find(order_number)
        owner = is_owner(record, email, postal_code)  # compared even when there is none
        return record.facts if record is not None and owner else None

    def facts(self, order_number: str) -> OrderFacts | None:
        record = self.source.find(order_number)
        return None if record is None else record.facts

    # -- access state ------------------------------------------------------------------
    def access(self, session_id: str) -> AccessState:
        with self._reader.connect() as conn:
            row = conn.execute(
                sa.select(order_access).where(order_access.c.session_id == session_id)
            ).first()
        if row is None:
            return AccessState()
        return AccessState(
            pending_order=row.pending_order,
            verified_order=row.verified_order,
            verified_until=as_utc(row.verified_until),
            pending_request=row.pending_request,
        )

    def save_access(self, session_id: str, state: AccessState) -> None:
        values = {
            "pending_order": state.pending_order,
            "pending_request": state.pending_request,
            "verified_order": state.verified_order,
            "verified_until": state.verified_until,
        }
        update = (
            order_access.update().where(order_access.c.session_id == session_id).values(**values)
        )
        # UPDATE, else INSERT, each in its own transaction (see SqlAttemptCounter.hit on
        # MariaDB's gap locks); a concurrent INSERT that won means UPDATE once more.
        with self._engine.begin() as conn:
            if conn.execute(update).rowcount:
                return
        try:
            with self._engine.begin() as conn:
                conn.execute(order_access.insert().values(session_id=session_id, **values))
        except IntegrityError:
            with self._engine.begin() as conn:
                conn.execute(update)

    def purge_access(self, now: datetime) -> int:
        """Verification state that has expired."""
        with self._engine.begin() as conn:
            return conn.execute(
                order_access.delete().where(order_access.c.verified_until < now)
            ).rowcount

    def ping(self) -> None:
        with self._reader.connect() as conn:
            conn.execute(sa.select(sa.literal(1)))
        self.source.ping()
