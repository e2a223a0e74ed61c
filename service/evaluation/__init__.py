"""Retrieval quality: labelled queries, metrics, threshold sweeps."""
