"""iocflow: extract, collect, serve and share indicators of compromise."""

__version__ = "0.1.0"
