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
from symtensor.link.c.kernels import kernel_for

C_CODE_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))), "c_code")
HEADERS = ("st_runtime.h", "st_math.h", "st_blas.h")
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


def generate(fgraph):
    order = fgraph.toposort()
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
    parts = [f"#define ST_OMP_THRESHOLD {OMP_THRESHOLD}"] + [f'#include "{h}"' for h in HEADERS] + ["",
             f"#define NSLOTS {nslots}",
             "typedef struct { PyObject *slots[NSLOTS]; PyObject *thunks; int failed; } st_state;", ""]
    python_nodes = {}
    keep = set()  # slots whose buffers persist between calls (owned, reusable outputs)
    for pos, node in enumerate(order):
        ins = [f"S[{slot_of[v]}]" for v in node.inputs]
        outs = [f"S[{slot_of[v]}]" for v in node.outputs]
        gen = kernel_for(node)
        body = gen(node, ins, outs) if gen is not None else None
        parts.append(f"/* {_comment(node)} */")
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
    in_slots = [slot_of[v] for v in fgraph.inputs]
    out_slots = [slot_of[v] for v in fgraph.outputs]
    transient = [s for s in range(len(slot_of)) if s not in keep and s not in constants]
    parts += _driver(len(order), in_slots, out_slots, transient)
    return Plan("\n".join(parts), slot_of, in_slots, out_slots, constants, python_nodes, order)


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


def _driver(n_nodes, in_slots, out_slots, transient):
    nin, nout = len(in_slots), len(out_slots)
    lines = ["static void st_clear_transient(st_state *st)\n{"]
    lines += [f"    Py_CLEAR(st->slots[{s}]);" for s in transient]
    lines.append("}\n")
    lines.append("static PyObject *st_run(PyObject *self, PyObject *const *args, Py_ssize_t nargs)\n{")
    lines.append(f"    if (nargs != {nin + 1}) {{ PyErr_Format(PyExc_TypeError, \"expected {nin} inputs, got %ld\", "
                 "(long)nargs - 1); return NULL; }")
    lines.append("    st_state *st = (st_state *)PyCapsule_GetPointer(args[0], \"st_state\");")
    lines.append("    if (st == NULL) return NULL;")
    lines.append("    st->failed = -1;")
    for k, s in enumerate(in_slots):
        lines.append(f"    Py_INCREF(args[{k + 1}]); Py_XSETREF(st->slots[{s}], args[{k + 1}]);")
    for pos in range(n_nodes):
        lines.append(f"    if (node_{pos}(st) < 0) {{ st->failed = {pos}; return NULL; }}")
    lines.append(f"    PyObject *out = PyTuple_New({nout});")
    lines.append("    if (out == NULL) return NULL;")
    for k, s in enumerate(out_slots):
        lines.append(f"    Py_INCREF(st->slots[{s}]); PyTuple_SET_ITEM(out, {k}, st->slots[{s}]);")
    lines.append("    st_clear_transient(st);")
    lines.append("    return out;\n}\n")
    lines += [
        "static void st_state_free(PyObject *capsule)\n{",
        "    st_state *st = (st_state *)PyCapsule_GetPointer(capsule, \"st_state\");",
        "    if (st == NULL) return;",
        "    for (int k = 0; k < NSLOTS; ++k) Py_CLEAR(st->slots[k]);",
        "    Py_CLEAR(st->thunks);",
        "    PyMem_Free(st);",
        "}\n",
        "/* new_state(constants: dict slot -> array, thunks: list) -> capsule */",
        "static PyObject *st_new_state(PyObject *self, PyObject *args)\n{",
        "    PyObject *constants, *thunks;",
        "    if (!PyArg_ParseTuple(args, \"O!O!\", &PyDict_Type, &constants, &PyList_Type, &thunks)) return NULL;",
        "    st_state *st = (st_state *)PyMem_Calloc(1, sizeof(st_state));",
        "    if (st == NULL) return PyErr_NoMemory();",
        "    Py_INCREF(thunks); st->thunks = thunks; st->failed = -1;",
        "    PyObject *key, *value; Py_ssize_t pos = 0;",
        "    while (PyDict_Next(constants, &pos, &key, &value)) {",
        "        long k = PyLong_AsLong(key);",
        "        if (k < 0 || k >= NSLOTS) { PyErr_SetString(PyExc_IndexError, \"bad constant slot\"); "
        "for (int j = 0; j < NSLOTS; ++j) Py_CLEAR(st->slots[j]); Py_CLEAR(st->thunks); PyMem_Free(st); return NULL; }",
        "        Py_INCREF(value); Py_XSETREF(st->slots[k], value);",
        "    }",
        "    PyObject *cap = PyCapsule_New(st, \"st_state\", st_state_free);",
        "    if (cap == NULL) { for (int k = 0; k < NSLOTS; ++k) Py_CLEAR(st->slots[k]); Py_CLEAR(st->thunks); "
        "PyMem_Free(st); }",
        "    return cap;",
        "}\n",
        "/* failed_node(state) -> position of the node that raised, or -1 */",
        "static PyObject *st_failed_node(PyObject *self, PyObject *cap)\n{",
        "    st_state *st = (st_state *)PyCapsule_GetPointer(cap, \"st_state\");",
        "    return st ? PyLong_FromLong(st->failed) : NULL;",
        "}\n",
        "/* get_slot(state, k) -> the value in slot k (None if empty) */",
        "static PyObject *st_get_slot(PyObject *self, PyObject *args)\n{",
        "    PyObject *cap; long k;",
        "    if (!PyArg_ParseTuple(args, \"Ol\", &cap, &k)) return NULL;",
        "    st_state *st = (st_state *)PyCapsule_GetPointer(cap, \"st_state\");",
        "    if (st == NULL) return NULL;",
        "    if (k < 0 || k >= NSLOTS) { PyErr_SetString(PyExc_IndexError, \"slot out of range\"); return NULL; }",
        "    PyObject *v = st->slots[k] ? st->slots[k] : Py_None;",
        "    Py_INCREF(v); return v;",
        "}\n",
        "static PyObject *st_clear(PyObject *self, PyObject *cap)\n{",
        "    st_state *st = (st_state *)PyCapsule_GetPointer(cap, \"st_state\");",
        "    if (st == NULL) return NULL;",
        "    st_clear_transient(st);",
        "    Py_RETURN_NONE;",
        "}\n",
        "static PyMethodDef st_methods[] = {",
        "    {\"run\", (PyCFunction)(void (*)(void))st_run, METH_FASTCALL, \"run(state, *inputs) -> outputs\"},",
        "    {\"new_state\", st_new_state, METH_VARARGS, \"new_state(constants, thunks)\"},",
        "    {\"failed_node\", st_failed_node, METH_O, \"position of the failing node\"},",
        "    {\"get_slot\", st_get_slot, METH_VARARGS, \"value of a slot\"},",
        "    {\"clear\", st_clear, METH_O, \"drop the transient slots\"},",
        "    {NULL, NULL, 0, NULL}",
        "};\n",
        "static struct PyModuleDef st_module = {PyModuleDef_HEAD_INIT, \"ST_MODULE_NAME\", NULL, -1, st_methods};\n",
        "PyMODINIT_FUNC PyInit_ST_MODULE_NAME(void)\n{",
        "    import_array();",
        "    return PyModule_Create(&st_module);",
        "}",
    ]
    return lines


def header_paths():
    return [os.path.join(C_CODE_DIR, h) for h in HEADERS]
