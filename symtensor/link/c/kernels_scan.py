"""C kernel for Scan: the loop runs in C (``c_code/st_scan.h``), the body is the inner function's module.

The node's data (``ST_NODE_DATA``) is made when the outer function is compiled:
the inner graph compiled with the C linker (the normal rewrite pipeline runs
on it), as the triple (its ``c_api`` capsule, its state capsule, a reporter).
Each step calls the inner module's ``run`` through the capsule: no Python
runs between steps unless an inner node itself has no C kernel. If the inner
function could not be compiled to C, the node falls back to ``Scan.perform``.
"""

from symtensor.link.c.kernels_index import c_string
from symtensor.link.c.registry import register, register_node_data
from symtensor.link.c.scalar_c import NPY_TYPENUMS
from symtensor.scan.op import Scan, step_error


def _table(ctype, name, values):
    values = [str(v) for v in values]
    return f"static const {ctype} {name}[] = {{{', '.join(values) or '0'}}};"


@register(Scan)
def scan_kernel(node, ins, outs):
    info = node.op.info
    S, N = info.n_states, info.n_nitsot
    typed = node.outputs[:S + N]
    if any(o.type.dtype not in NPY_TYPENUMS for o in typed):
        return None
    nit_types = [node.op.inner_outputs[S + j].type for j in range(N)]
    return [
        _table("int", "n_taps_", [len(t) for t in info.state_taps]),
        _table("int", "taps_", [k for t in info.state_taps for k in t]),
        _table("npy_intp", "store_", info.state_store),
        _table("int", "typenum_", [NPY_TYPENUMS[o.type.dtype] for o in typed]),
        _table("int", "nit_ndim_", [t.ndim for t in nit_types]),
        _table("npy_intp", "nit_shape_", [-1 if d is None else d for t in nit_types for d in t.shape]),
        _table("int", "user_", info.user_index),
        f"static const st_scan_desc desc_ = {{{c_string(node.op)}, {info.n_seqs}, {S}, {N}, {info.n_shared}, "
        f"{info.n_nonseqs}, {int(info.until)}, n_taps_, taps_, store_, typenum_, nit_ndim_, nit_shape_, user_}};",
        f"PyObject *in_[] = {{{', '.join(ins)}}};",
        f"PyObject **out_[] = {{{', '.join('&' + o for o in outs) or 'NULL'}}};",
        "if (st_scan_run(&desc_, ST_NODE_DATA, in_, out_) < 0) return -1;",
    ]


class InnerReport:
    """Turns a failure inside the C loop into the failing inner node's report, with the step number."""

    def __init__(self, op, runner):
        self.op = op
        self.runner = runner

    def explain(self, exc, step):
        try:
            self.runner.explain(exc)  # raises the inner node's report when an inner node failed
        except Exception as report:  # noqa: BLE001 - re-raised below with the step
            exc = report
        raise step_error(self.op, step, exc) from exc


@register_node_data(Scan)
def scan_node_data(node):
    """(c_api capsule, state capsule, reporter) of the C-compiled inner function, or None (run perform)."""
    runner = node.op.inner_function("c").maker.run
    module = getattr(runner, "module", None)
    if module is None or not hasattr(module, "c_api"):
        return None
    return (module.c_api(), runner.state, InnerReport(node.op, runner))
