"""The indicator store: one deduplicated set of indicators with their sightings.

Depends only on the extractor's vocabulary (``iocflow.extract.model``); the
ingest, API and export layers build on it.
"""
