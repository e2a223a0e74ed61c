"""Index access, lexical search, the phrasing classifier, fusion and abstention."""
