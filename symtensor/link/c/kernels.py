"""C kernels for the core ops: elementwise loops, views and shapes, reductions (BLAS: kernels_blas)."""

from symtensor import scalar as ts
from symtensor.link.c.registry import register
from symtensor.link.c.scalar_c import (
    NPY_TYPENUMS, c_expression, c_type, composite_statements)
from symtensor.scalar.composite import Composite
from symtensor.tensor.elemwise import _ACC_DTYPE, CAReduce, DimShuffle, Elemwise
from symtensor.tensor.fused_reduce import FusedReduce
from symtensor.tensor.shape import Reshape, Shape, Shape_i


# ------------------------------------------------------------------ Elemwise

def _elemwise_body_lines(node, in_vals, out_vals):
    """Statements computing out_vals (C lvalues) from in_vals (C rvalues) for one element."""
    op = node.op.scalar_op
    if isinstance(op, Composite):
        return composite_statements(op, in_vals, out_vals)
    scalar_node = op.make_node(*[ts.ScalarType(i.type.dtype)() for i in node.inputs])
    expr = c_expression(scalar_node, in_vals)
    if expr is None or len(out_vals) != 1:
        return None
    return [f"{out_vals[0]} = {expr};"]


@register(Elemwise)
def elemwise_kernel(node, ins, outs):
    dtypes = [v.type.dtype for v in node.inputs + node.outputs]
    if any(d not in NPY_TYPENUMS for d in dtypes):
        return None
    nin, nout = len(node.inputs), len(node.outputs)
    in_vals = [f"x{k}" for k in range(nin)]
    out_vals = [f"y{k}" for k in range(nout)]
    body = _elemwise_body_lines(node, in_vals, out_vals)
    if body is None:
        return None
    nd = node.outputs[0].ndim
    inplace = dict(node.op.inplace_pattern)
    in_t = [c_type(i.type.dtype) for i in node.inputs]
    out_t = [c_type(o.type.dtype) for o in node.outputs]
    lines = [f"PyArrayObject *in{k} = ST_ARR({ins[k]});" for k in range(nin)]
    lines.append(f"npy_intp dims[{max(nd, 1)}];")
    # output shape: the length of the non-broadcastable inputs, which must agree
    for d in range(nd):
        lines.append(f"dims[{d}] = 1;")
        first = True
        for k, var in enumerate(node.inputs):
            if var.type.broadcastable[d]:
                continue
            if first:
                lines.append(f"dims[{d}] = PyArray_DIM(in{k}, {d});")
                first = False
            else:
                lines.append(
                    f"if (PyArray_DIM(in{k}, {d}) != dims[{d}]) ST_FAIL(PyExc_ValueError, "
                    f"\"{node.op}: input dimension mismatch on axis {d} (lengths %ld and %ld). Only axes marked "
                    f"broadcastable may be broadcast\", (long)dims[{d}], (long)PyArray_DIM(in{k}, {d}));")
    for o in range(nout):
        if o in inplace:  # overwrite the input unless it is read-only (then a fresh buffer)
            src = ins[inplace[o]]
            typenum = NPY_TYPENUMS[node.outputs[o].type.dtype]
            lines.append(f"if (PyArray_ISWRITEABLE(ST_ARR({src}))) {{ Py_INCREF({src}); st_set_slot(&{outs[o]}, {src}); }}")
            lines.append(f"else if (st_prepare_output(&{outs[o]}, {nd}, dims, {typenum}) < 0) return -1;")
        else:
            typenum = NPY_TYPENUMS[node.outputs[o].type.dtype]
            lines.append(f"if (st_prepare_output(&{outs[o]}, {nd}, dims, {typenum}) < 0) return -1;")
    lines += [f"PyArrayObject *out{o} = ST_ARR({outs[o]});" for o in range(nout)]
    lines.append(f"const npy_intp n = {'*'.join(f'dims[{d}]' for d in range(nd)) or '1'};")
    if nd == 0:  # one element: no loop, no OpenMP region (entering one costs more than the work)
        lines += [f"const {in_t[k]} x{k} = *(const {in_t[k]} *)PyArray_DATA(in{k});" for k in range(nin)]
        lines += [f"{out_t[o]} y{o};" for o in range(nout)]
        lines += body
        lines += [f"*({out_t[o]} *)PyArray_DATA(out{o}) = y{o};" for o in range(nout)]
        return lines
    runs = "st_ew_" + "".join(ch if ch.isalnum() else "_" for ch in outs[0])
    constant = _constant_along_inner_runs(node)
    lines += _elemwise_space_lines(node, in_t, out_t, nd, runs, constant)
    return _elemwise_runs_function(node, body, in_t, out_t, runs, "" if inplace else " restrict", constant), lines


def _constant_along_inner_runs(node):
    """Per input: broadcastable on the output's last non-broadcastable axis (the merged inner axis when the
    run-time lengths agree with the types), so the vectorized loop reads it once per run."""
    pattern = node.outputs[0].type.broadcastable
    inner = max((d for d, b in enumerate(pattern) if not b), default=len(pattern) - 1)
    return [var.type.broadcastable[inner] for var in node.inputs]


def _elemwise_space_lines(node, in_t, out_t, nd, runs, constant):
    """The node's part: merge the axes (st_elemwise_axes), cut the runs, call the loop function ``runs`` on
    them, over threads when the loop is large.

    The loop function's vectorized path assumes each input is unit-stride on the merged inner axis or, if
    broadcastable on the output's last non-broadcastable axis, constant along it (a bias over a conv output,
    a row or column vector); other layouts take its strided path."""
    nin, nout = len(node.inputs), len(node.outputs)
    narr = nin + nout
    types = in_t + out_t
    constant = constant + [False] * nout
    arrays = ", ".join([f"in{k}" for k in range(nin)] + [f"out{o}" for o in range(nout)])
    unit = " && ".join(f"ls[{k}][sp.m - 1] == {'0' if constant[k] else f'(npy_intp)sizeof({types[k]})'}"
                       for k in range(narr))
    return [f"if (n > 0) {{",
            f"    PyArrayObject *const arr[{narr}] = {{{arrays}}};",
            f"    npy_intp raw[{narr}][ST_MAX_NDIM], ls[{narr}][ST_MAX_NDIM];",
            f"    char *base[{narr}];",
            "    st_elemwise_space sp;",
            f"    sp.m = st_elemwise_axes({nd}, dims, {narr}, arr, raw, sp.ld, ls, base);",
            "    sp.ls = ls;",
            "    sp.base = base;",
            "    st_elemwise_plan(&sp, n);",
            f"    sp.unit = {unit};",
            # threads only above the threshold: an OpenMP region costs microseconds even when serial
            "    if (n > ST_OMP_THRESHOLD && sp.items > 1) {",
            "        #pragma omp parallel",
            "        {",
            "            npy_intp lo, hi;",
            "            st_elemwise_share(sp.items, &lo, &hi);",
            f"            {runs}(&sp, lo, hi);",
            "        }",
            "    } else {",
            f"        {runs}(&sp, 0, sp.items);",
            "    }",
            "}"]


def _elemwise_runs_function(node, body, in_t, out_t, name, restrict, constant):
    """The C function running work items [it0, it1) of an elementwise node's index space (one copy of the
    scalar code, vectorized where ``sp->unit``, strided otherwise); emitted before the node's function."""
    nin, nout = len(node.inputs), len(node.outputs)
    narr = nin + nout
    lines = [f"static void {name}(const st_elemwise_space *sp, npy_intp it0, npy_intp it1)", "{",
             "    const int m = sp->m;",
             "    const npy_intp inner = sp->inner, blk = sp->blk, per = sp->per;",
             "    for (npy_intp it = it0; it < it1; ++it) {",
             f"        char *at[{narr}];",
             f"        st_elemwise_row(m, sp->ld, {narr}, sp->ls, sp->base, it / per, at);",
             "        const npy_intp j0 = it % per * blk, j1 = j0 + blk < inner ? j0 + blk : inner;",
             "        if (sp->unit) {"]
    for k in range(nin):
        if constant[k]:
            lines.append(f"            const {in_t[k]} c{k} = *(const {in_t[k]} *)at[{k}];")
        else:
            lines.append(f"            const {in_t[k]} *{restrict} p{k} = (const {in_t[k]} *)at[{k}];")
    lines += [f"            {out_t[o]} *{restrict} q{o} = ({out_t[o]} *)at[{nin + o}];" for o in range(nout)]
    lines += ["            #pragma omp simd", "            for (npy_intp j = j0; j < j1; ++j) {"]
    lines += [f"                const {in_t[k]} x{k} = {f'c{k}' if constant[k] else f'p{k}[j]'};" for k in range(nin)]
    lines += [f"                {out_t[o]} y{o};" for o in range(nout)]
    lines += ["                " + b for b in body]
    lines += [f"                q{o}[j] = y{o};" for o in range(nout)]
    lines += ["            }", "        } else {", "            for (npy_intp j = j0; j < j1; ++j) {"]
    lines += [f"                const {in_t[k]} x{k} = *(const {in_t[k]} *)(at[{k}] + j * sp->ls[{k}][m - 1]);"
              for k in range(nin)]
    lines += [f"                {out_t[o]} y{o};" for o in range(nout)]
    lines += ["                " + b for b in body]
    lines += [f"                *({out_t[o]} *)(at[{nin + o}] + j * sp->ls[{nin + o}][m - 1]) = y{o};"
              for o in range(nout)]
    lines += ["            }", "        }", "    }", "}", ""]
    return lines


# ------------------------------------------------------------------ views and shapes

@register(DimShuffle)
def dimshuffle_kernel(node, ins, outs):
    op = node.op
    perm = list(op.shuffle) + list(op.drop)
    nd_in = node.inputs[0].ndim
    nd_out = node.outputs[0].ndim
    lines = [f"PyArrayObject *x = ST_ARR({ins[0]});"]
    lines.append(f"npy_intp perm_[{max(nd_in, 1)}] = {{{', '.join(str(p) for p in perm) or '0'}}};")
    lines.append(f"PyArray_Dims perm = {{perm_, {nd_in}}};")
    lines.append("PyObject *t = PyArray_Transpose(x, &perm);")
    lines.append("if (t == NULL) return -1;")
    shape = []
    for o in op.new_order:
        shape.append("1" if o == "x" else f"PyArray_DIM(x, {o})")
    lines.append(f"npy_intp shape_[{max(nd_out, 1)}] = {{{', '.join(shape) or '0'}}};")
    lines.append(f"PyArray_Dims shape = {{shape_, {nd_out}}};")
    lines.append("PyObject *r = PyArray_Newshape((PyArrayObject *)t, &shape, NPY_ANYORDER);")
    lines.append("Py_DECREF(t);")
    lines.append("if (r == NULL) return -1;")
    lines.append(f"st_set_slot(&{outs[0]}, r);")
    return lines


@register(Reshape)
def reshape_kernel(node, ins, outs):
    nd = node.op.ndim
    return [
        f"PyArrayObject *x = ST_ARR({ins[0]});",
        f"PyArrayObject *s = ST_ARR({ins[1]});",
        f"if (PyArray_SIZE(s) != {nd}) ST_FAIL(PyExc_ValueError, \"Reshape: shape has %ld entries, expected {nd}\", (long)PyArray_SIZE(s));",
        f"npy_intp shape_[{max(nd, 1)}];",
        f"for (int d = 0; d < {nd}; ++d) shape_[d] = (npy_intp)*(npy_int64 *)PyArray_GETPTR1(s, d);",
        f"PyArray_Dims shape = {{shape_, {nd}}};",
        "PyObject *r = PyArray_Newshape(x, &shape, NPY_CORDER);",
        "if (r == NULL) return -1;",
        f"st_set_slot(&{outs[0]}, r);",
    ]


@register(Shape_i)
def shape_i_kernel(node, ins, outs):
    return [
        f"if (st_prepare_output(&{outs[0]}, 0, NULL, NPY_INT64) < 0) return -1;",
        f"*(npy_int64 *)PyArray_DATA(ST_ARR({outs[0]})) = (npy_int64)PyArray_DIM(ST_ARR({ins[0]}), {node.op.i});",
    ]


@register(Shape)
def shape_kernel(node, ins, outs):
    nd = node.inputs[0].ndim
    return [
        f"npy_intp len_[1] = {{{nd}}};",
        f"if (st_prepare_output(&{outs[0]}, 1, len_, NPY_INT64) < 0) return -1;",
        f"for (int d = 0; d < {nd}; ++d) ((npy_int64 *)PyArray_DATA(ST_ARR({outs[0]})))[d] = "
        f"(npy_int64)PyArray_DIM(ST_ARR({ins[0]}), d);",
    ]


# ------------------------------------------------------------------ reductions

_IDENTITY = {"add": "0", "mul": "1", "and_": "1", "or_": "0"}


def _reduce_step(name, acc, value, acc_is_float):
    if name == "add":
        return f"{acc} += {value};"
    if name == "mul":
        return f"{acc} *= {value};"
    if name == "and_":
        return f"{acc} = {acc} && {value};"
    if name == "or_":
        return f"{acc} = {acc} || {value};"
    if name in ("maximum", "minimum"):
        if acc_is_float:
            fn = "st_max_f" if name == "maximum" else "st_min_f"
            return f"{acc} = {fn}({acc}, {value});"
        sign = ">" if name == "maximum" else "<"
        return f"if ({value} {sign} {acc}) {acc} = {value};"
    return None


@register(CAReduce)
def careduce_kernel(node, ins, outs):
    x = node.inputs[0]
    if x.type.dtype not in NPY_TYPENUMS:
        return None
    return _reduction_lines(node.op, [x], ins, outs[0], node.outputs[0], [])


@register(FusedReduce)
def fused_reduce_kernel(node, ins, outs):
    """The reduction loop evaluates the elementwise expression per element: no temporary array."""
    if any(i.type.dtype not in NPY_TYPENUMS for i in node.inputs):
        return None
    composite = node.op.composite
    body = composite_statements(composite, [f"x{k}" for k in range(len(node.inputs))], ["y0"])
    if body is None:
        return None
    return _reduction_lines(node.op, node.inputs, ins, outs[0], node.outputs[0], body,
                            value_dtype=composite.outputs[0].type.dtype)


#: reductions whose inner loop may run in any order (OpenMP simd reduction operators)
_SIMD_REDUCTION = {"add": "+", "mul": "*"}


def _inner_run(indent, loads, compute, tail):
    """One inner loop of a reduction: load x<k>, compute v, then ``tail`` (fold v in)."""
    pad = " " * indent
    return ([pad + "for (npy_intp j = 0; j < inner; ++j) {"]
            + [pad + "    " + ln for ln in loads + compute + tail] + [pad + "}"])


def _reduction_loops(name, nd, n, in_t, acc_t, compute, step):
    """The loops of a reduction over its nd axes dims / ostr / s (see _reduction_lines), on the axes that
    st_reduce_merge_axes (c_code/st_loops.h) leaves. An inner run over a reduced axis with unit strides accumulates in a register,
    vectorized where the operator may be reassociated; other runs take one plain loop (a single vectorized
    variant keeps gcc's time per reduction node down).
    """
    lines = [f"npy_intp rd[ST_MAX_NDIM], ro[ST_MAX_NDIM], r[{n}][ST_MAX_NDIM];",
             f"const int m = st_reduce_merge_axes({nd}, dims, ostr, {n}, s, rd, ro, r);",
             "if (n_in > 0) {",
             "    const npy_intp inner = rd[m - 1], outer = n_in / inner, so = ro[m - 1];"]
    lines += [f"    const npy_intp t{k} = r[{k}][m - 1];" for k in range(n)]  # inner strides, in registers
    simd = _SIMD_REDUCTION.get(name)
    if simd is not None:
        unit = " && ".join(f"t{k} == (npy_intp)sizeof({in_t[k]})" for k in range(n))
        lines.append(f"    const int vector_run = so == 0 && {unit};")
    lines.append("    npy_intp idx[ST_MAX_NDIM] = {0};")
    lines.append("    for (npy_intp o = 0; o < outer; ++o) {")
    lines.append("        npy_intp base = 0;")
    lines += [f"        const char *p{k} = PyArray_BYTES(in{k});" for k in range(n)]
    lines.append("        for (int d = 0; d < m - 1; ++d) { base += idx[d] * ro[d];"
                 + "".join(f" p{k} += idx[d] * r[{k}][d];" for k in range(n)) + " }")
    if simd is not None:  # a reduced inner run with unit strides: one register accumulator, vectorized
        lines.append("        if (vector_run) {")
        lines.append(f"            {acc_t} a = acc[base];")
        lines.append(f"            _Pragma(\"omp simd reduction({simd}:a)\")")
        lines += _inner_run(12, [f"const {in_t[k]} x{k} = ((const {in_t[k]} *)p{k})[j];" for k in range(n)],
                            compute, [f"a {simd}= v;"])
        lines.append("            acc[base] = a;")
        lines.append("        } else {")
    else:
        lines.append("        {")
    lines += _inner_run(12, [f"const {in_t[k]} x{k} = *(const {in_t[k]} *)(p{k} + j * t{k});" for k in range(n)],
                        compute, ["const npy_intp oi = base + j * so;", step])
    lines.append("        }")
    lines.append("        for (int d = m - 2; d >= 0; --d) { if (++idx[d] < rd[d]) break; idx[d] = 0; }")
    lines.append("    }")
    lines.append("}")
    return lines


def _reduction_lines(op, inputs, ins, out_slot, out, body, value_dtype=None):
    """A reduction over the elementwise index space of ``inputs`` (broadcast like Elemwise).

    ``body`` computes ``y0`` from ``x0..xn``; with no body the value is ``x0`` itself.
    """
    name = op.scalar_op.name
    value_dtype = value_dtype or inputs[0].type.dtype
    out_dtype = out.type.dtype
    if out_dtype not in NPY_TYPENUMS or value_dtype not in NPY_TYPENUMS:
        return None
    if name in ("add", "mul"):
        acc_dtype = op.acc_dtype or _ACC_DTYPE.get(value_dtype, value_dtype)
    elif name in ("and_", "or_"):
        acc_dtype = "bool"
    else:
        acc_dtype = value_dtype
    if acc_dtype not in NPY_TYPENUMS:
        return None
    acc_t, out_t, val_t = c_type(acc_dtype), c_type(out_dtype), c_type(value_dtype)
    acc_float = acc_dtype.startswith("float")
    nd = inputs[0].ndim
    axes = sorted(op.axis)
    kept = [d for d in range(nd) if d not in axes]
    value = "v" if name not in ("and_", "or_") else "(v != 0)"
    step = _reduce_step(name, "acc[oi]", value, acc_float)
    if step is None:
        return None
    n = len(inputs)
    in_t = [c_type(i.type.dtype) for i in inputs]
    lines = [f"PyArrayObject *in{k} = ST_ARR({ins[k]});" for k in range(n)]
    lines.append(f"npy_intp dims[{max(nd, 1)}];")
    for d in range(nd):  # the index space: lengths of the non-broadcastable inputs, which must agree
        lines.append(f"dims[{d}] = 1;")
        first = True
        for k, var in enumerate(inputs):
            if var.type.broadcastable[d]:
                continue
            if first:
                lines.append(f"dims[{d}] = PyArray_DIM(in{k}, {d});")
                first = False
            else:
                lines.append(f"if (PyArray_DIM(in{k}, {d}) != dims[{d}]) ST_FAIL(PyExc_ValueError, "
                             f"\"{op}: input dimension mismatch on axis {d} (lengths %ld and %ld)\", "
                             f"(long)dims[{d}], (long)PyArray_DIM(in{k}, {d}));")
    lines.append(f"npy_intp odims[{max(len(kept), 1)}];")
    lines += [f"odims[{k}] = dims[{d}];" for k, d in enumerate(kept)]
    lines.append(f"if (st_prepare_output(&{out_slot}, {len(kept)}, odims, {NPY_TYPENUMS[out_dtype]}) < 0) return -1;")
    lines.append(f"PyArrayObject *out = ST_ARR({out_slot});")
    lines.append(f"npy_intp n_in = 1; for (int d = 0; d < {nd}; ++d) n_in *= dims[d];")
    lines.append("const npy_intp n_out = PyArray_SIZE(out);")
    if name in ("maximum", "minimum") and axes:
        lines.append(f"if ({' || '.join(f'dims[{d}] == 0' for d in axes)}) ST_FAIL(PyExc_ValueError, "
                     f"\"{op}: cannot reduce an empty axis (maximum/minimum have no identity)\");")
    lines.append(f"{acc_t} *acc = ({acc_t} *)PyMem_Malloc((size_t)(n_out > 0 ? n_out : 1) * sizeof({acc_t}));")
    lines.append("if (acc == NULL) { PyErr_NoMemory(); return -1; }")
    if name in _IDENTITY:
        lines.append(f"for (npy_intp i = 0; i < n_out; ++i) acc[i] = ({acc_t}){_IDENTITY[name]};")
    lines.append(f"npy_intp ostr[{max(nd, 1)}];")  # accumulator element stride per axis (0 on reduced axes)
    run = "1"
    for d in reversed(range(nd)):
        if d in axes:
            lines.append(f"ostr[{d}] = 0;")
        else:
            lines.append(f"ostr[{d}] = {run};")
            run = f"{run} * dims[{d}]"
    lines.append(f"npy_intp s[{n}][ST_MAX_NDIM];")
    for k in range(n):  # byte strides of each input over the index space (0 where broadcast)
        lines.append(f"for (int d = 0; d < {nd}; ++d) s[{k}][d] = PyArray_DIM(in{k}, d) == 1 ? 0 : "
                     f"PyArray_STRIDE(in{k}, d);")
    if name in ("maximum", "minimum"):  # the first element of each output position seeds it
        lines.append("char *seen = (char *)PyMem_Calloc((size_t)(n_out > 0 ? n_out : 1), 1);")
        lines.append("if (seen == NULL) { PyMem_Free(acc); PyErr_NoMemory(); return -1; }")
        step = f"if (!seen[oi]) {{ acc[oi] = v; seen[oi] = 1; }} else {{ {step} }}"
    compute = (["{val_t} y0;".format(val_t=val_t)] + body + [f"const {acc_t} v = ({acc_t})y0;"]) if body \
        else [f"const {acc_t} v = ({acc_t})x0;"]
    if nd == 0:
        lines.append("if (n_in) { const npy_intp oi = 0;")
        lines += [f"    const {in_t[k]} x{k} = *(const {in_t[k]} *)PyArray_BYTES(in{k});" for k in range(n)]
        lines += ["    " + ln for ln in compute]
        lines.append(f"    {step} }}")
    else:
        lines += _reduction_loops(name, nd, n, in_t, acc_t, compute, step)
    lines.append(f"{out_t} *po = ({out_t} *)PyArray_DATA(out);")
    lines.append(f"for (npy_intp i = 0; i < n_out; ++i) po[i] = ({out_t})acc[i];")
    if name in ("maximum", "minimum"):
        lines.append("PyMem_Free(seen);")
    lines.append("PyMem_Free(acc);")
    return lines
