"""The `faqbot` command: the top layer, over ingest and the service."""
