"""``T.signal``: signal-processing ops for images (``T.signal.pool``)."""

from symtensor.tensor.signal import pool  # noqa: F401
