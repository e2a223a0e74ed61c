"""Per-client rate limits: token buckets by client address and by session, shared by
every worker and replica through Redis or the database."""
