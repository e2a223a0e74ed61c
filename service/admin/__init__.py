"""The editors' and ops' console (issue 14): accounts, the gap inbox, FAQ edits."""
