"""Table definitions, used by the queries. The schema itself is created by the Alembic
migrations in alembic/versions/, which must stay in step with this file (a test checks)."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

# Microsecond timestamps everywhere: MariaDB/MySQL DATETIME keeps whole seconds unless told,
# and message order within a second matters.
TIMESTAMP = sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite and MariaDB hand TIMESTAMP values back naive; everything is stored in UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def iso_utc(value: object) -> str:
    """A stored timestamp as ISO 8601 in UTC (anything else as its text)."""
    moment = as_utc(value) if isinstance(value, datetime) else value
    return moment.isoformat() if isinstance(moment, datetime) else str(moment)


metadata = sa.MetaData()

chat_sessions = sa.Table(
    "chat_sessions",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("created_at", TIMESTAMP, nullable=False),
)

chat_messages = sa.Table(
    "chat_messages",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column(
        "session_id",
        sa.String(64),
        sa.ForeignKey("chat_sessions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("content", sa.Text, nullable=False),
    sa.Column("mode", sa.String(16)),
    # The question's retrieval: [{"id", "score"}], so editors can find weak entries.
    sa.Column("retrieved", sa.JSON),
    sa.Column("index_version", sa.String(32)),
    sa.Column("created_at", TIMESTAMP, nullable=False),
    # On answers: why this answer (candidates, scores, thresholds, prompt, timings).
    sa.Column("trace", sa.JSON),
    # On answers: what the page showed with it ({"sources", "suggestions", "action"}).
    sa.Column("shown", sa.JSON),
    sa.Index("ix_chat_messages_session_created", "session_id", "created_at"),
)

feedback = sa.Table(
    "feedback",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "message_id",
        sa.String(64),
        sa.ForeignKey("chat_messages.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("rating", sa.String(8), nullable=False),
    sa.Column("comment", sa.Text),
    sa.Column("question", sa.Text, nullable=False),
    sa.Column("retrieved", sa.JSON),
    sa.Column("created_at", TIMESTAMP, nullable=False),
    sa.Index("ix_feedback_rating", "rating"),
    # One vote per answer: a new one replaces it (a customer cannot stack 500 thumbs).
    sa.Index("ux_feedback_message", "message_id", unique=True),
)

# --- orders (read by the chat service; written by the shop, or `faqbot db seed --demo`) ---

customers = sa.Table(
    "customers",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("email", sa.String(254), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("street", sa.String(200), nullable=False),
    sa.Column("city", sa.String(100), nullable=False),
    sa.Column("postal_code", sa.String(16), nullable=False),
    sa.Column("country", sa.String(2), nullable=False),
    sa.Index("ux_customers_email", "email", unique=True),
)

orders = sa.Table(
    "orders",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("order_number", sa.String(16), nullable=False),
    sa.Column("customer_id", sa.Integer, sa.ForeignKey("customers.id"), nullable=False),
    sa.Column("status", sa.String(24), nullable=False),
    sa.Column("placed_at", TIMESTAMP, nullable=False),
    sa.Column("expected_delivery", sa.Date),
    sa.Column("delivered_at", TIMESTAMP),
    sa.Column("total_cents", sa.Integer, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Index("ux_orders_order_number", "order_number", unique=True),
    sa.Index("ix_orders_customer", "customer_id"),
)

order_items = sa.Table(
    "order_items",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "order_id", sa.Integer, sa.ForeignKey("orders.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("sku", sa.String(32), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("quantity", sa.Integer, nullable=False),
    sa.Column("unit_price_cents", sa.Integer, nullable=False),
    sa.Index("ix_order_items_order", "order_id"),
)

shipments = sa.Table(
    "shipments",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "order_id", sa.Integer, sa.ForeignKey("orders.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("carrier", sa.String(32), nullable=False),
    sa.Column("tracking_number", sa.String(64), nullable=False),
    sa.Column("status", sa.String(24), nullable=False),
    sa.Index("ix_shipments_order", "order_id"),
)

shipment_events = sa.Table(
    "shipment_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "shipment_id", sa.Integer, sa.ForeignKey("shipments.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("status", sa.String(24), nullable=False),
    sa.Column("occurred_at", TIMESTAMP, nullable=False),
    sa.Column("location", sa.String(100)),
    sa.Index("ix_shipment_events_shipment", "shipment_id", "occurred_at"),
)

# Verification state per chat session: who proved ownership of which order, until when.
order_access = sa.Table(
    "order_access",
    metadata,
    sa.Column("session_id", sa.String(64), primary_key=True),
    sa.Column("pending_order", sa.String(32)),
    sa.Column("verified_order", sa.String(32)),
    sa.Column("verified_until", TIMESTAMP),
    # a request about the verified order that the customer was asked to confirm
    sa.Column("pending_request", sa.JSON),
)

# Attempt counters shared by every worker and replica: failed verifications per session
# and per order number, verification attempts per client address. Keys are hashed.
attempt_counters = sa.Table(
    "attempt_counters",
    metadata,
    sa.Column("scope", sa.String(16), primary_key=True),
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("count", sa.Integer, nullable=False),
    sa.Column("window_start", TIMESTAMP, nullable=False),
    sa.Column("locked_until", TIMESTAMP),
    sa.Index("ix_attempt_counters_window", "window_start"),
)

# Requests to talk to a person, with the conversation they came from (masked history).
handoff_requests = sa.Table(
    "handoff_requests",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("session_id", sa.String(64)),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("email", sa.String(254), nullable=False),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("conversation", sa.JSON),
    sa.Column("created_at", TIMESTAMP, nullable=False),
    sa.Column("mailed_at", TIMESTAMP),
    # open (waiting for a person), claimed (a person holds it: the bot is silent),
    # closed, handed_back (the bot answers again)
    sa.Column("status", sa.String(16), nullable=False, server_default="open"),
    sa.Column("agent", sa.String(64)),
    sa.Column("claimed_at", TIMESTAMP),
    sa.Column("closed_at", TIMESTAMP),
    sa.Column("customer_seen_at", TIMESTAMP),  # the customer's page last listened
    # Handed to a helpdesk (chatwoot): its conversation and contact there, once opened
    sa.Column("helpdesk", sa.String(16)),
    sa.Column("external_id", sa.String(64)),
    sa.Column("external_contact", sa.String(128)),
    sa.Index("ix_handoff_requests_created", "created_at"),
    sa.Index("ix_handoff_requests_external", "helpdesk", "external_id"),
    sa.Index("ix_handoff_requests_session", "session_id", "created_at"),
    sa.Index("ix_handoff_requests_email", "email", "created_at"),
)

# Requests about an order (cancel, return, a new delivery address), recorded once the
# customer confirmed them and delivered to the shop (webhook, email) until one succeeds;
# faqbot never changes the shop's orders itself.
order_requests = sa.Table(
    "order_requests",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("reference", sa.String(16), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("order_number", sa.String(32), nullable=False),
    sa.Column("session_id", sa.String(64)),
    sa.Column("details", sa.JSON),
    sa.Column("created_at", TIMESTAMP, nullable=False),
    # pending (to deliver), delivered, failed (gave up), kept (nowhere to deliver it)
    sa.Column("delivery", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", TIMESTAMP),
    sa.Column("last_error", sa.String(200)),
    sa.Column("delivered_at", TIMESTAMP),
    sa.Index("ix_order_requests_created", "created_at"),
    sa.Index("ix_order_requests_due", "delivery", "next_attempt_at"),
)

order_request_log = sa.Table(
    "order_request_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("request_id", sa.String(32), nullable=False),
    sa.Column("at", TIMESTAMP, nullable=False),
    sa.Column("event", sa.String(32), nullable=False),
    sa.Column("detail", sa.String(300)),
    sa.Index("ix_order_request_log_request", "request_id", "at"),
)

# What the agent and the customer wrote while a person held the conversation.
handoff_messages = sa.Table(
    "handoff_messages",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("handoff_id", sa.String(32), nullable=False),
    sa.Column("session_id", sa.String(64)),
    sa.Column("author", sa.String(16), nullable=False),  # agent, customer
    sa.Column("agent", sa.String(64)),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("created_at", TIMESTAMP, nullable=False),
    sa.Column("mailed_at", TIMESTAMP),  # an agent's reply mailed to a customer who left
    # The helpdesk's id of a reply that came from there: a webhook delivered twice
    # (a retry after a lost answer) is the same reply, kept once.
    sa.Column("external_id", sa.String(64)),
    sa.Index("ix_handoff_messages_session", "session_id", "id"),
    sa.Index("ix_handoff_messages_handoff", "handoff_id", "id"),
    sa.Index("ux_handoff_messages_external", "handoff_id", "external_id", unique=True),
)

# What is to be sent to the helpdesk (open a conversation there, a customer's message),
# written in the same transaction as what caused it and sent by a worker until it
# succeeds: nothing a customer wrote is lost while the helpdesk is down.
helpdesk_outbox = sa.Table(
    "helpdesk_outbox",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("handoff_id", sa.String(32), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),  # open, message
    sa.Column("text", sa.Text),
    sa.Column("created_at", TIMESTAMP, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),  # pending, sent, failed
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", TIMESTAMP, nullable=False),
    sa.Column("last_error", sa.String(200)),
    sa.Index("ix_helpdesk_outbox_due", "state", "next_attempt_at"),
    sa.Index("ix_helpdesk_outbox_handoff", "handoff_id", "id"),
)

# --- the admin console (service/admin/) ---

admin_users = sa.Table(
    "admin_users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(64), nullable=False, unique=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("failed_logins", sa.Integer, nullable=False, server_default="0"),
    sa.Column("locked_until", TIMESTAMP),
    sa.Column("created_at", TIMESTAMP, nullable=False),
)

# A session is known by the SHA-256 of its cookie token: a leaked table logs nobody in.
admin_sessions = sa.Table(
    "admin_sessions",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column(
        "user_id",
        sa.Integer,
        sa.ForeignKey("admin_users.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("csrf", sa.String(64), nullable=False),
    sa.Column("created_at", TIMESTAMP, nullable=False),
    sa.Column("expires_at", TIMESTAMP, nullable=False),
    sa.Index("ix_admin_sessions_expires", "expires_at"),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", TIMESTAMP, nullable=False),
    sa.Column("user_name", sa.String(64), nullable=False),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("detail", sa.JSON),
    sa.Index("ix_audit_log_at", "at"),
)

inbox_dismissed = sa.Table(
    "inbox_dismissed",
    metadata,
    sa.Column("message_id", sa.String(64), primary_key=True),
    sa.Column("user_name", sa.String(64), nullable=False),
    sa.Column("dismissed_at", TIMESTAMP, nullable=False),
)

# Token buckets of the per-client rate limits (service/throttle/sql_buckets.py), when the
# deployment shares a database but no Redis. Keys are hashed.
rate_buckets = sa.Table(
    "rate_buckets",
    metadata,
    sa.Column("key", sa.String(80), primary_key=True),
    sa.Column("tat", sa.Double, nullable=False),
    sa.Column("ok", sa.Integer, nullable=False),
)
