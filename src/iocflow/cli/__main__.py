"""``python -m iocflow.cli``: the same commands as the ``iocflow`` script."""

from iocflow.cli import app

app()
