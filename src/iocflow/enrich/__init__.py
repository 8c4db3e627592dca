"""Enrichment: what iocflow adds to an indicator once it is stored (hunting queries first)."""
