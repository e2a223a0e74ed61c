"""HTTP routes by feature."""
