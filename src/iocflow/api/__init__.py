"""The REST API (FastAPI): the IOC feed, lookups, extraction, pushes, keys, tiers and limits."""
