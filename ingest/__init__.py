"""Turns FAQ sources (markdown, JSONL, CSV) into a published index version."""
