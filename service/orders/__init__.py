"""Order lookup: extraction from free text, verification, the SQL repository."""
