"""The FAQ sources' format, owned once: `parse` reads markdown, JSONL and CSV into
entries (ingest), `write` changes markdown files the way the parser reads them back (the
console). Both sit in the bottom layer, so the reader and the writer cannot drift apart."""
