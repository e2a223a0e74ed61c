"""Relational storage (SQLAlchemy Core): chat sessions, messages, feedback."""
