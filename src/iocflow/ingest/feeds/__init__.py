"""Threat feed formats: one module per format (see ``registry`` for the list and detection)."""
