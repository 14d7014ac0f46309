"""C kernels for control flow: the lazy IfElse (its gate lives in the driver, see codegen._gate)."""

from symtensor.ifelse import IfElse
from symtensor.link.c.registry import register


@register(IfElse)
def ifelse_kernel(node, ins, outs):
    """Copy the taken branch's values; the untaken branch's slots were never computed."""
    n = node.op.n_outs
    lines = [f"int truth = PyObject_IsTrue({ins[0]});", "if (truth < 0) return -1;"]
    for k, out in enumerate(outs):
        then, other = ins[1 + k], ins[1 + n + k]
        lines += [f"{{ PyObject *src = truth ? {then} : {other};",
                  "  PyObject *copy = PyArray_NewCopy((PyArrayObject *)src, NPY_CORDER);",
                  "  if (copy == NULL) return -1;",
                  f"  st_set_slot(&{out}, copy); }}"]
    return lines
