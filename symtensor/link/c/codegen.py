"""Whole-graph C code generation: one translation unit per compiled function.

The unit holds one kernel per node (C from ``kernels.KERNELS``, or a call back
into the op's Python ``perform`` for nodes without C) and a driver that runs
them in order over a table of slots, one slot per variable. State (the slots,
the constants, the Python callbacks) lives in a per-function capsule, so two
functions that compile to the same source share the module but not the state.
"""

import os
from dataclasses import dataclass, field

from symtensor.graph.basic import Constant
from symtensor.link import lazy
from symtensor.link.c import (  # noqa: F401  (importing them fills the kernel table)
    kernels, kernels_blas, kernels_control, kernels_conv, kernels_extra, kernels_index, kernels_nnet, kernels_random,
    kernels_scan)
from symtensor.link.c.registry import kernel_for, node_data_for

C_CODE_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))), "c_code")
HEADERS = ("st_runtime.h", "st_state.h", "st_math.h", "st_blas.h", "st_index.h", "st_nnet.h", "st_gemm.h",
           "st_conv.h", "st_pool.h", "st_random.h", "st_extra.h", "st_scan.h", "st_loops.h")
#: included at the end of every unit (after the generated tables and nodes)
DRIVER_HEADER = "st_driver.h"
#: value-preserving flags that let loops over math functions vectorize (no errno, no FP traps)
EXTRA_FLAGS = ("-fno-math-errno", "-fno-trapping-math")
#: elementwise loops with more elements than this run on several OpenMP threads
OMP_THRESHOLD = 1 << 17


@dataclass
class Plan:
    """What the Python side needs to drive the module."""

    source: str
    slot_of: dict
    input_slots: list
    output_slots: list
    constants: dict              # slot -> value
    python_nodes: dict           # node position -> Apply (run through perform)
    order: list = field(default_factory=list)
    node_data: dict = field(default_factory=dict)  # node position -> object its kernel reads (ST_NODE_DATA)


def generate(fgraph):
    order, gates = lazy.schedule(fgraph)
    slot_of = {}
    for var in fgraph.inputs:
        slot_of[var] = len(slot_of)
    constants = {}
    for node in order:
        for var in node.inputs + node.outputs:
            if var not in slot_of:
                slot_of[var] = len(slot_of)
                if isinstance(var, Constant):
                    constants[slot_of[var]] = var.data
    for var in fgraph.outputs:
        if var not in slot_of:
            slot_of[var] = len(slot_of)
            if isinstance(var, Constant):
                constants[slot_of[var]] = var.data
    nslots = max(len(slot_of), 1)
    parts = [f"#define ST_OMP_THRESHOLD {OMP_THRESHOLD}", f"#define ST_NSLOTS {nslots}"]
    if any(kernels_blas.few_rows_product(node) for node in order):
        parts.append(f"#define ST_GEMM_FEW_ROWS {kernels_blas.FEW_ROWS}")
    parts += [f'#include "{h}"' for h in HEADERS] + [""]
    python_nodes, node_data = {}, {}
    keep = set()  # slots whose buffers persist between calls (owned, reusable outputs)
    for pos, node in enumerate(order):
        ins = [f"S[{slot_of[v]}]" for v in node.inputs]
        outs = [f"S[{slot_of[v]}]" for v in node.outputs]
        gen = kernel_for(node)
        body = gen(node, ins, outs) if gen is not None else None
        support = ()
        if isinstance(body, tuple):  # (C emitted before the node's function, the node's body)
            support, body = body
        provider = node_data_for(node) if body is not None else None
        if provider is not None:
            node_data[pos] = provider(node)
            if node_data[pos] is None:  # the kernel cannot run without it: Python after all
                del node_data[pos]
                body = None
        parts.append(f"/* {_comment(node)} */")
        if body is not None:
            parts += list(support)
        if pos in node_data:
            parts.append(f"#define ST_NODE_DATA PyList_GET_ITEM(st->thunks, {pos})")
        parts.append(f"static int node_{pos}(st_state *st)\n{{")
        parts.append("    PyObject **S = st->slots;")
        if body is None:
            python_nodes[pos] = node
            parts += ["    " + line for line in _python_call(pos, ins, outs)]
        else:
            parts += ["    " + line for line in body]
            if not getattr(node.op, "view_map", None) and not getattr(node.op, "destroy_map", None):
                keep.update(slot_of[v] for v in node.outputs)
        parts.append("    return 0;\n}\n")
        if pos in node_data:
            parts.append("#undef ST_NODE_DATA")
    in_slots = [slot_of[v] for v in fgraph.inputs]
    out_slots = [slot_of[v] for v in fgraph.outputs]
    transient = [s for s in range(len(slot_of)) if s not in keep and s not in constants]
    gate_code = [(g.before, _gate(g, slot_of)) for g in gates]
    parts += _driver(len(order), in_slots, out_slots, transient, set(constants), nslots, gate_code)
    return Plan("\n".join(parts), slot_of, in_slots, out_slots, constants, python_nodes, order, node_data)


def _comment(node):
    return str(node).replace("*/", "* /")[:200]


def _python_call(pos, ins, outs):
    lines = [f"PyObject *fn = PyList_GET_ITEM(st->thunks, {pos});",
             f"PyObject *res = PyObject_CallFunctionObjArgs(fn, {', '.join(ins + ['NULL'])});",
             "if (res == NULL) return -1;"]
    for k, out in enumerate(outs):
        lines.append(f"st_set_slot(&{out}, PySequence_GetItem(res, {k}));")
        lines.append(f"if ({out} == NULL) {{ Py_DECREF(res); return -1; }}")
    lines.append("Py_DECREF(res);")
    return lines


def _gate(gate, slot_of):
    """C lines of a lazy gate (symtensor.link.lazy): skip the untaken branch's nodes. Branch 0 is taken
    when the condition is true, branch 1 otherwise (the lazy protocol's two-branch rule)."""
    assert len(gate.branch_steps) == 2, "the C linker gates two-branch lazy ops only"
    cond = slot_of[gate.node.inputs[gate.cond_position]]
    then_steps, else_steps = gate.branch_steps
    lines = [f"if (!skip[{gate.node_pos}]) {{",
             f"    int truth = PyObject_IsTrue(st->slots[{cond}]);",
             f"    if (truth < 0) {{ st->failed = {gate.node_pos}; return -1; }}",
             "    if (truth) {" + "".join(f" skip[{s}] = 1;" for s in else_steps) + " }",
             "    else {" + "".join(f" skip[{s}] = 1;" for s in then_steps) + " }",
             "}"]
    return lines


def _driver(n_nodes, in_slots, out_slots, transient, constant_slots, nslots, gate_code=()):
    """The graph-specific tables and the node sequence; the rest is c_code/st_driver.h."""
    def table(values):
        return "{" + ", ".join(str(v) for v in values) + "}" if values else "{0}"

    lines = [f"#define ST_NIN {len(in_slots)}", f"#define ST_NOUT {len(out_slots)}", f"#define ST_NNODES {n_nodes}",
             f"static const int st_in_slots[] = {table(in_slots)};",
             f"static const int st_out_slots[] = {table(out_slots)};",
             f"static const char st_constant_slots[ST_NSLOTS] = {table([int(s in constant_slots) for s in range(nslots)])};",
             "static inline int st_is_constant_slot(int s) { return st_constant_slots[s]; }", ""]
    lines.append("static void st_clear_transient(st_state *st)\n{")
    lines += [f"    Py_CLEAR(st->slots[{s}]);" for s in transient]
    lines.append("}\n")
    lines.append("static int st_run_graph(st_state *st)\n{")
    gates_before = {}
    for before, code in gate_code:
        gates_before.setdefault(before, []).extend(code)
    if gates_before:
        lines.append(f"    char skip[{n_nodes}] = {{0}};")
    for pos in range(n_nodes):
        lines += ["    " + line for line in gates_before.get(pos, ())]
        guard = f"if (!skip[{pos}]) " if gates_before else ""
        lines.append(f"    {guard}ST_RUN_NODE(st, {pos}, node_{pos});")
    lines.append("    return 0;\n}\n")
    lines += ['#include "st_driver.h"', "",
              "static struct PyModuleDef st_module = {PyModuleDef_HEAD_INIT, \"ST_MODULE_NAME\", NULL, -1, st_methods};",
              "",
              "PyMODINIT_FUNC PyInit_ST_MODULE_NAME(void)\n{",
              "    import_array();",
              "    return PyModule_Create(&st_module);",
              "}"]
    return lines


def header_paths():
    return [os.path.join(C_CODE_DIR, h) for h in HEADERS + (DRIVER_HEADER,)]
