"""Indicator-of-compromise extraction, usable on its own: no database, no web stack.

    >>> from iocflow.extract import extract
    >>> [i.value for i in extract("beacon to evil[.]com from 8[.]8[.]8[.]8")]
    ['evil.com', '8.8.8.8']
    >>> from iocflow.extract import check
    >>> check("8[.]8[.]8[.]8")
    (<Kind.IPV4: 'ipv4'>, '8.8.8.8')
"""

from iocflow.extract.engine import extract
from iocflow.extract.model import Confidence, Indicator, Kind, Matrix
from iocflow.extract.refang import refang
from iocflow.extract.result import Extraction
from iocflow.extract.values import NotAnIndicator, check, email_host, url_host, url_path

__all__ = [
    "Confidence", "Extraction", "Indicator", "Kind", "Matrix", "NotAnIndicator", "check", "email_host", "extract",
    "refang", "url_host", "url_path",
]

for _name in __all__:
    globals()[_name].__module__ = __name__
del _name
