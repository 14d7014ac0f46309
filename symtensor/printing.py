"""Printing graphs: ``debugprint`` (indented tree with ids), ``pp`` (infix math), ``pydotprint`` (DOT text).

This module sits beside the graph layer and is used by the linker's error
reports, so it recognises ops and compiled functions by their attributes
(``scalar_op``, ``new_order``, ``idx_list``, ``maker.fgraph``) instead of
importing the tensor and compile layers.
"""

import io
import sys

import numpy as np

from symtensor.graph.basic import Apply, Constant, Variable, io_toposort
from symtensor.graph.fgraph import FunctionGraph
from symtensor.graph.op import Op

# ---------------------------------------------------------------- debugprint


def _char_id(n):
    """0 -> A, 25 -> Z, 26 -> BA ... (base 26 with letters as digits)."""
    digits = ""
    while True:
        digits = chr(ord("A") + n % 26) + digits
        n //= 26
        if n == 0:
            return digits


class _Ids:
    def __init__(self, style):
        if style not in ("CHAR", "id", "int", ""):
            raise ValueError(f"debugprint: ids must be 'CHAR', 'id', 'int' or '', got {style!r}")
        self.style = style
        self.ids = {}

    def __call__(self, obj):
        if self.style == "":
            return ""
        if obj not in self.ids:
            n = len(self.ids)
            self.ids[obj] = {"CHAR": _char_id(n), "int": str(n), "id": str(id(obj))}[self.style]
        return f" [id {self.ids[obj]}]"


def _leaf_label(var):
    if isinstance(var, Constant):
        return f"{type(var).__name__}{{{var}}}"
    return str(var)


def _as_roots(obj):
    """(variables to print, topological index of the nodes or None, update labels)."""
    if isinstance(obj, Variable):
        return [obj], None, {}
    if isinstance(obj, Apply):
        return list(obj.outputs), None, {}
    fgraph = getattr(getattr(obj, "maker", None), "fgraph", None)
    if fgraph is not None:  # a compiled Function
        order = {node: k for k, node in enumerate(fgraph.toposort())}
        n_out = len(obj.maker.outputs)
        labels = {k: f"update of {var}" for k, (var, _) in enumerate(getattr(obj.maker, "updates", ()), start=n_out)}
        return list(fgraph.outputs), order, labels
    if isinstance(obj, FunctionGraph):
        return list(obj.outputs), {node: k for k, node in enumerate(obj.toposort())}, {}
    if isinstance(obj, (list, tuple)):
        roots, order, labels = [], None, {}
        for item in obj:
            sub_roots, sub_order, _ = _as_roots(item)
            roots.extend(sub_roots)
            if sub_order is not None:
                order = {**(order or {}), **sub_order}
        return roots, order, labels
    raise TypeError(f"debugprint: cannot print a {type(obj).__name__}; expected a Variable, Apply, "
                    "FunctionGraph, compiled function or a list of them")


def debugprint(obj, file=None, print_type=False, ids="CHAR", depth=-1, stop_on_name=False, done=None):
    """Print ``obj``'s graph as an indented tree, one line per variable.

    Each node gets an id (``ids``: 'CHAR' -> A, B..; 'int'; 'id' -> Python id; '' -> none); a node
    reached a second time is printed as its id line only. For compiled functions and FunctionGraphs
    the node's position in the execution order ends the line. ``depth`` limits the levels printed
    (-1: all); ``stop_on_name`` does not expand named intermediate variables. ``file='str'`` returns
    the text; otherwise it is written to ``file`` (default stdout), which is returned.
    """
    roots, order, labels = _as_roots(obj)
    get_id = _Ids(ids)
    done = set() if done is None else done
    buf = io.StringIO()
    for k, var in enumerate(roots):
        suffix = f"   ({labels[k]})" if k in labels else ""
        _print_var(var, buf, "", "", depth, print_type, get_id, done, order, stop_on_name, suffix)
    text = buf.getvalue()
    if file == "str":
        return text
    out = sys.stdout if file is None else file
    out.write(text)
    return out


def _print_var(var, buf, prefix, child_prefix, depth, print_type, get_id, done, order, stop_on_name, suffix=""):
    if depth == 0:
        return
    type_text = f" <{var.type}>" if print_type else ""
    node = var.owner
    if node is None:
        buf.write(f"{prefix}{_leaf_label(var)}{get_id(var)}{type_text}{suffix}\n")
        return
    label = str(node.op) if len(node.outputs) == 1 else f"{node.op}.{var.index}"
    name = f" '{var.name}'" if var.name else ""
    topo = f"   {order[node]}" if order is not None and node in order else ""
    buf.write(f"{prefix}{label}{get_id(node)}{name}{type_text}{topo}{suffix}\n")
    if node in done or (stop_on_name and var.name and prefix):
        return
    done.add(node)
    for inp in node.inputs:
        _print_var(inp, buf, child_prefix + " |", child_prefix + "  ", depth - 1, print_type, get_id, done,
                   order, stop_on_name)


dprint = debugprint

# ---------------------------------------------------------------- pp

_INFIX = {"add": "+", "sub": "-", "mul": "*", "true_div": "/", "int_div": "//", "mod": "%", "pow": "**",
          "lt": "<", "gt": ">", "le": "<=", "ge": ">=", "eq": "==", "neq": "!=", "and_": "&", "or_": "|",
          "xor": "^"}
_PREFIX = {"neg": "-", "invert": "~"}
_REDUCE_NAMES = {"Sum": "sum", "Prod": "prod", "Max": "max", "Min": "min", "All": "all", "Any": "any"}


def _constant_text(data):
    arr = np.asarray(data)
    if arr.ndim == 0:
        return repr(arr.item())
    if arr.size <= 6:
        return np.array2string(arr, separator=", ").replace("\n", "")
    return f"<{arr.dtype} array of shape {arr.shape}>"


def _index_text(idx_list, index_inputs):
    symbolic = iter(index_inputs)

    def part(p):
        if p is None:
            return ""
        return next(symbolic) if p == "?" else str(p)

    pieces = []
    for entry in idx_list:
        if isinstance(entry, tuple):
            start, stop, step = (part(p) for p in entry[1:])
            pieces.append(f"{start}:{stop}" + (f":{step}" if step else ""))
        else:
            pieces.append(part(entry))
    return ", ".join(pieces)


def _pp(var, memo):
    if var in memo:
        return memo[var]
    node = var.owner
    if node is None:
        text = _constant_text(var.data) if isinstance(var, Constant) and var.name is None else str(var)
        memo[var] = text
        return text
    args = [_pp(i, memo) for i in node.inputs]
    op = node.op
    scalar_op = getattr(op, "scalar_op", None)
    kind = type(op).__name__
    if kind == "Elemwise" and scalar_op is not None:
        sname = getattr(scalar_op, "name", "")
        if sname in _INFIX and len(args) >= 2:
            text = "(" + f" {_INFIX[sname]} ".join(args) + ")"
        elif sname in _PREFIX and len(args) == 1:
            text = f"({_PREFIX[sname]}{args[0]})"
        elif type(scalar_op).__name__ == "Cast":
            text = f"cast({args[0]}, '{scalar_op.dtype}')"
        else:
            text = f"{sname}({', '.join(args)})"
    elif kind == "DimShuffle":
        order = tuple(op.new_order)
        kept = [o for o in order if o != "x"]
        if kept == list(range(len(op.input_broadcastable))):
            text = args[0]  # only adds broadcastable axes: implicit in the infix notation
        elif order == (1, 0):
            text = f"{args[0]}.T"
        else:
            text = f"{args[0]}.dimshuffle({', '.join(repr(o) for o in order)})"
    elif kind == "CAReduce" and scalar_op is not None:
        name = _REDUCE_NAMES.get(str(op).split("{")[0], str(op))
        every = op.axis is None or list(op.axis) == list(range(node.inputs[0].type.ndim))
        axis = "" if every else f", axis={list(op.axis)}"
        text = f"{name}({args[0]}{axis})"
    elif kind == "Subtensor":
        text = f"{args[0]}[{_index_text(op.idx_list, args[1:])}]"
    elif kind == "Dot":
        text = f"dot({args[0]}, {args[1]})"
    else:
        label = str(op) if len(node.outputs) == 1 else f"{op}.{var.index}"
        text = f"{label}({', '.join(args)})"
    memo[var] = text
    return text


def pp(obj):
    """Infix pretty-printing of a variable (or a list of them, one per line): ``(x + (y * 2))``."""
    if isinstance(obj, Variable):
        return _pp(obj, {})
    if isinstance(obj, (list, tuple)):
        return "\n".join(pp(o) for o in obj)
    raise TypeError(f"pp: expected a Variable or a list of Variables, got {type(obj).__name__}")


pprint = pp

# ---------------------------------------------------------------- DOT


def pydotprint(obj, outfile=None):
    """The graph as Graphviz DOT source (no pydot needed); written to ``outfile`` if given, and returned."""
    roots, _order, _labels = _as_roots(obj)
    inputs = [v for v in _all_leaves(roots)]
    lines = ["digraph G {"]
    names = {}

    def ident(obj_):
        if obj_ not in names:
            names[obj_] = f"n{len(names)}"
        return names[obj_]

    for var in inputs:
        shape = "box" if isinstance(var, Constant) else "ellipse"
        lines.append(f'  {ident(var)} [label="{_dot_escape(_leaf_label(var))}", shape={shape}];')
    for node in io_toposort(inputs, roots):
        lines.append(f'  {ident(node)} [label="{_dot_escape(str(node.op))}", shape=box, style=rounded];')
        for i, inp in enumerate(node.inputs):
            src = ident(inp.owner) if inp.owner is not None else ident(inp)
            lines.append(f'  {src} -> {ident(node)} [label="{i}"];')
    for k, var in enumerate(roots):
        out = f"out{k}"
        lines.append(f'  {out} [label="{_dot_escape(var.name or f"output {k}")}", shape=plaintext];')
        lines.append(f"  {ident(var.owner) if var.owner is not None else ident(var)} -> {out};")
    lines.append("}")
    text = "\n".join(lines) + "\n"
    if outfile is not None:
        with open(outfile, "w") as fh:
            fh.write(text)
    return text


def _all_leaves(roots):
    seen, out, stack = set(), [], list(roots)
    while stack:
        var = stack.pop()
        if var in seen:
            continue
        seen.add(var)
        if var.owner is None:
            out.append(var)
        else:
            stack.extend(var.owner.inputs)
    return out


def _dot_escape(text):
    return text.replace("\\", "\\\\").replace('"', '\\"')


# ---------------------------------------------------------------- Print


class Print(Op):
    """Identity that prints ``message`` and the value (or the listed ``attrs`` of it) when computed.

    ``Print("x")(x)`` returns a variable to use in place of ``x``; the print
    happens only if that variable is needed by the compiled function.
    """

    __props__ = ("message", "attrs")
    view_map = {0: [0]}

    def __init__(self, message="", attrs=("__str__",), global_fn=None):
        self.message = message
        self.attrs = tuple(attrs)
        self.global_fn = global_fn

    def make_node(self, x):
        if not isinstance(x, Variable):
            raise TypeError(f"Print: expected a symbolic variable, got {type(x).__name__} {x!r}")
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        (x,) = inputs
        for attr in self.attrs:
            value = getattr(x, attr)
            print(self.message, attr, "=", value() if callable(value) else value)
        if self.global_fn is not None:
            self.global_fn(self, x)
        output_storage[0][0] = x

    def do_constant_folding(self, fgraph, node):
        return False

    def infer_shape(self, fgraph, node, input_shapes):
        return input_shapes

    def L_op(self, inputs, outputs, output_grads):
        return list(output_grads)

    def R_op(self, inputs, eval_points):
        return list(eval_points)
