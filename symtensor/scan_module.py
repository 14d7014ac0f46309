"""Theano's ``theano.scan_module`` names: ``scan``, ``until`` and the map/reduce helpers."""

from symtensor.scan.basic import OrderedUpdates, foldl, foldr, map, reduce, scan, until  # noqa: F401,A004
from symtensor.scan.op import Scan  # noqa: F401
