"""Symbolic loops: ``scan`` (Theano's ``theano.scan``), ``until``, and map/reduce/foldl/foldr.

``symtensor.scan`` (the name exported by ``symtensor``) is the function; it also carries
``until`` and the helpers as attributes, so ``symtensor.scan.until`` works as in Theano's
``theano.scan_module.until``. Importing this package registers the scan rewrites.
"""

from symtensor.scan.basic import OrderedUpdates, foldl, foldr, map, reduce, scan, until  # noqa: F401,A004
from symtensor.scan.op import Scan  # noqa: F401
from symtensor.scan import pushout, rewriting  # noqa: F401  (register the scan rewrites)

for _helper in (until, map, reduce, foldl, foldr, OrderedUpdates, Scan):
    setattr(scan, _helper.__name__, _helper)
del _helper
