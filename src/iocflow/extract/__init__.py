"""Indicator-of-compromise extraction, usable on its own: no database, no web stack.

    >>> from iocflow.extract import extract
    >>> [i.value for i in extract("beacon to evil[.]com from 8[.]8[.]8[.]8")]
    ['evil.com', '8.8.8.8']
"""

from iocflow.extract.engine import extract
from iocflow.extract.model import Confidence, Indicator, Kind, Matrix
from iocflow.extract.refang import refang
from iocflow.extract.result import Extraction

__all__ = ["Confidence", "Extraction", "Indicator", "Kind", "Matrix", "extract", "refang"]

for _name in __all__:
    globals()[_name].__module__ = __name__
del _name
