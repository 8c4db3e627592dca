"""Sharing: one module per format (STIX 2.1, MISP, CEF, OpenIOC, Sigma, XDR), all fed the same records."""
