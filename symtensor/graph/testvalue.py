"""Test values (``config.compute_test_value``): run each op while the graph is built.

When the flag is not 'off', ``Op.__call__`` runs the new node's ``perform`` on
its inputs' test values and stores ``tag.test_value`` on its outputs, so a
shape or dtype error raises at the line that builds the node instead of when a
compiled function first runs. Constants and shared variables are their own
test values; other graph inputs need ``var.tag.test_value``.

Test values belong to the user's graph. Symtensor's own builders work on
placeholders that have none: rewrites while a function compiles (where, as
with Theano's ``compute_test_value_opt='off'``, nothing is computed), and
gradients and loop bodies (where a missing value is skipped quietly instead of
being reported). Which builder is running is read from the call stack.
"""

import os
import pdb
import sys
import warnings

from symtensor.config import config
from symtensor.graph.basic import Constant, Variable, user_trace

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
#: files whose frames mean "a function is being compiled": rewrites build nodes on the fgraph
_COMPILING = (os.path.join(_PACKAGE, "compile", "function.py"),
              os.path.join(_PACKAGE, "graph", "rewriting") + os.sep,
              os.path.join(_PACKAGE, "tensor", "rewriting") + os.sep)
#: files and op methods whose frames mean "symtensor builds a graph on placeholders"
_BUILDING = (os.path.join(_PACKAGE, "gradient.py"), os.path.join(_PACKAGE, "scan") + os.sep)
_BUILDING_METHODS = frozenset({"L_op", "R_op", "grad"})

_KIND = {}  # co_filename -> "compile", "build", "package" or None (user code)


def _file_kind(filename):
    kind = _KIND.get(filename, False)
    if kind is False:
        path = os.path.abspath(filename)
        if path.startswith(_COMPILING):
            kind = "compile"
        elif path.startswith(_BUILDING):
            kind = "build"
        elif path.startswith(_PACKAGE + os.sep):
            kind = "package"
        else:
            kind = None
        _KIND[filename] = kind
    return kind


def _builder():
    """'compile' while a function compiles, 'build' inside a gradient or loop builder, else None."""
    found = None
    frame = sys._getframe(2)
    while frame is not None:
        code = frame.f_code
        kind = _file_kind(code.co_filename)
        if kind == "compile":
            return "compile"
        if kind == "build" or (kind == "package" and code.co_name in _BUILDING_METHODS):
            found = "build"
        frame = frame.f_back
    return found


class MissingTestValue(AttributeError):
    """A graph input (ownerless, not a constant or shared variable) has no ``tag.test_value``."""

    def __init__(self, var):
        self.variable = var
        super().__init__(f"{var} (type {var.type}) has no test value; it was created at:\n{var.creation_site()}")


def _own_value(var):
    if isinstance(var, Constant):
        return var.data
    get_value = getattr(var, "get_value", None)
    if callable(get_value):
        return get_value(borrow=True)
    if not hasattr(var.tag, "test_value"):
        raise MissingTestValue(var)
    try:
        return var.type.filter(var.tag.test_value)
    except (TypeError, ValueError) as exc:
        exc.add_note(f"the test value of {var} does not fit its type {var.type}; {var} was created at:\n"
                     f"{var.creation_site()}")
        raise


def _fill_upstream(var):
    """Compute the missing test values of ``var`` and of its computed ancestors, oldest first.

    Nodes built with ``make_node`` directly, or while the flag was off, have none yet.
    """
    order, seen = [], set()
    stack = [(var.owner, False)]
    while stack:
        node, ready = stack.pop()
        if ready:
            order.append(node)
            continue
        if node in seen:
            continue
        seen.add(node)
        stack.append((node, True))
        stack.extend((i.owner, False) for i in node.inputs
                     if i.owner is not None and i.owner not in seen and not hasattr(i.tag, "test_value"))
    for node in order:
        _perform(node, [_own_value(i) for i in node.inputs])


def get_test_value(var):
    """The value ``var`` stands for while the graph is built: a constant's data, a shared variable's
    value, ``var.tag.test_value`` checked against its type, or (for a computed variable without one)
    the result of its node on its inputs' test values. MissingTestValue (an AttributeError) names the
    graph input without one; a value that is not a Variable is returned as it is."""
    if not isinstance(var, Variable):
        return var
    if var.owner is not None and not hasattr(var.tag, "test_value"):
        _fill_upstream(var)
    return _own_value(var)


def _missing(node, k, exc):
    """Input ``k`` of ``node`` has no test value: skip, warn, raise or debug, as the flag says."""
    var, root = node.inputs[k], exc.variable
    through = "" if root is var else f", because {root} (type {root.type}), which it is computed from, has none"
    message = (f"cannot compute the test value of {node.op}: input {k} ({var}, type {var.type}) has none"
               f"{through}; set {root}.tag.test_value or turn config.compute_test_value off. {root} was created "
               f"at:\n{root.creation_site()}")
    mode = config.compute_test_value
    if mode == "raise":
        raise ValueError(message) from None
    if mode == "warn":
        site = user_trace(limit=1)
        if site:
            warnings.warn_explicit(message, UserWarning, site[-1][0], site[-1][1])
        else:
            warnings.warn(message, UserWarning, stacklevel=4)
    elif mode == "pdb":
        pdb.post_mortem(exc.__traceback__)


def _perform(node, values):
    destroyed = {i for ins in (node.op.destroy_map or {}).values() for i in ins}
    values = [v.copy() if k in destroyed and hasattr(v, "copy") else v for k, v in enumerate(values)]
    storage = [[None] for _ in node.outputs]
    try:
        node.op.perform(node, values, storage)
    except Exception as exc:
        shapes = ", ".join(str(getattr(v, "shape", type(v).__name__)) for v in values)
        exc.add_note(f"raised by {node.op} while computing test values (config.compute_test_value="
                     f"{config.compute_test_value!r}); the inputs' test values have shapes {shapes}")
        raise
    for out, (value,) in zip(node.outputs, storage):
        out.tag.test_value = value


def compute_test_values(node):
    """Run ``node.op.perform`` on the inputs' test values; store ``tag.test_value`` on the outputs.

    A missing input value is handled per config.compute_test_value (and skipped
    quietly inside symtensor's builders); an error of ``perform`` propagates with
    a note naming the node. Inputs the op overwrites (destroy_map) get copies.
    """
    builder = _builder()
    if builder == "compile":
        return
    try:
        values = [get_test_value(var) for var in node.inputs]
    except MissingTestValue as exc:
        if builder is None:
            k = next(k for k, var in enumerate(node.inputs) if not _has_value(var))
            _missing(node, k, exc)
        return
    _perform(node, values)


def _has_value(var):
    return isinstance(var, Constant) or callable(getattr(var, "get_value", None)) or hasattr(var.tag, "test_value")
