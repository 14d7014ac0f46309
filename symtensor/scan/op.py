"""The Scan Op: a loop whose body is a compiled inner function.

The inner graph (inputs and outputs listed in ``symtensor.scan.info``) is
compiled with the normal rewrite pipeline and the outer function's linker:
``perform`` (the python linker, and the reference) loops in Python over a
python-linker inner function; the C linker's kernel (``link/c/kernels_scan``)
loops in C over the inner function's compiled module.
"""

import numpy as np

from symtensor.compile.function import function
from symtensor.compile.mode import get_mode
from symtensor.graph.basic import Apply, ancestors, clone_get_equiv, clone_replace
from symtensor.graph.op import Op
from symtensor.graph.signature import GraphSignature
from symtensor.scan import grad as _grad
from symtensor.tensor import basic as tb
from symtensor.tensor import math as tm
from symtensor.tensor.shape import symbolic_shape
from symtensor.tensor.type import TensorType


def _is_tensor(var):
    return isinstance(var.type, TensorType)


class Scan(Op):
    """``Scan(inner_inputs, inner_outputs, info)`` applied to the outer inputs (see ScanInfo)."""

    __props__ = ("info", "signature")

    def __init__(self, inputs, outputs, info):
        if len(inputs) != info.n_inner_inputs or len(outputs) != info.n_inner_outputs:
            raise ValueError(f"Scan: {len(inputs)} inner inputs and {len(outputs)} inner outputs do not fit {info}")
        equiv = clone_get_equiv(inputs, outputs, copy_inputs=True, copy_orphans=False)
        self.inner_inputs = [equiv[i] for i in inputs]
        self.inner_outputs = [equiv[o] for o in outputs]
        self.info = info
        self.signature = GraphSignature(self.inner_inputs, self.inner_outputs, "Scan")
        self._check_inner()
        #: linker name -> the compiled inner Function
        self._compiled = {}
        self._pattern = None

    def _check_inner(self):
        info, ins, outs = self.info, self.inner_inputs, self.inner_outputs
        for s, rng in enumerate(info.tap_input_ranges()):
            state_type = ins[rng[0]].type
            if not isinstance(state_type, TensorType) or any(ins[i].type != state_type for i in rng):
                raise TypeError(f"{self}: the taps of state {s} must be tensors of one type")
            out = outs[s]
            if not _is_tensor(out) or out.dtype != state_type.dtype or out.ndim != state_type.ndim:
                raise TypeError(f"{self}: {info.describe_output(s)} is {out} of type {out.type}, but its "
                                f"state has type {state_type}; fn must return the state's dtype and rank")
            if not state_type.is_super(out.type):
                raise TypeError(f"{self}: {info.describe_output(s)} has type {out.type}, which does not fit its "
                                f"state's type {state_type}")
        for j in range(info.n_nitsot):
            if not _is_tensor(outs[info.n_states + j]):
                raise TypeError(f"{self}: {info.describe_output(info.n_states + j)} is not a tensor")
        for j in range(info.n_shared):
            inner_in, inner_out = ins[info.shared_inner_start + j], outs[info.n_states + info.n_nitsot + j]
            if not (inner_in.type == inner_out.type or inner_in.type.is_super(inner_out.type)):
                raise TypeError(f"{self}: the update of shared value {j} has type {inner_out.type}, "
                                f"expected {inner_in.type}")
        if info.until:
            cond = outs[-1]
            if not _is_tensor(cond) or cond.ndim != 0:
                raise TypeError(f"{self}: the until condition must be a scalar, got {cond} of type {cond.type}")

    def __str__(self):
        return f"Scan{{{self.info.name}}}" if self.info.name else "Scan"

    __repr__ = __str__

    # ------------------------------------------------------------------ graph building
    def make_node(self, n_steps, *outer):
        info, ins = self.info, self.inner_inputs
        if len(outer) != info.n_outer_inputs - 1:
            raise TypeError(f"{self}: expected {info.n_outer_inputs - 1} inputs after n_steps, got {len(outer)}")
        n_steps = tb.as_tensor_variable(n_steps)
        if n_steps.ndim != 0 or n_steps.dtype not in ("int8", "int16", "int32", "int64", "uint8", "uint16",
                                                        "uint32"):
            raise TypeError(f"{self}: n_steps must be an integer scalar, got {n_steps} of type {n_steps.type}")
        n_steps = tb.cast(n_steps, "int64")
        outer = [tb.as_tensor_variable(v) if not hasattr(v, "type") else v for v in outer]
        k = 0
        for q in range(info.n_seqs):
            self._check_outer(outer[k], ins[q], 1, f"sequence {q}")
            k += 1
        for s, rng in enumerate(info.tap_input_ranges()):
            self._check_outer(outer[k], ins[rng[0]], 1, f"the initial rows of state {s}")
            k += 1
        for j in range(info.n_shared):
            inner = ins[info.shared_inner_start + j]
            converted = inner.type.convert_variable(outer[k])
            if converted is None:
                raise TypeError(f"{self}: shared value {j} ({outer[k]}) has type {outer[k].type}, expected {inner.type}")
            outer[k] = converted
            k += 1
        for j in range(info.n_nonseqs):
            inner = ins[info.nonseq_inner_start + j]
            if not (inner.type == outer[k].type or inner.type.is_super(outer[k].type)):
                raise TypeError(f"{self}: non-sequence {j} ({outer[k]}) has type {outer[k].type}, expected "
                                f"{inner.type}")
            k += 1
        outs = []
        for s, rng in enumerate(info.tap_input_ranges()):
            st = ins[rng[0]].type
            outs.append(TensorType(st.dtype, shape=(None,) + st.shape)())
        for j in range(info.n_nitsot):
            t = self.inner_outputs[info.n_states + j].type
            outs.append(TensorType(t.dtype, shape=(None,) + t.shape)())
        for j in range(info.n_shared):
            outs.append(ins[info.shared_inner_start + j].type())
        return Apply(self, [n_steps] + outer, outs)

    def _check_outer(self, var, inner, extra, what):
        if not _is_tensor(var) or var.dtype != inner.dtype or var.ndim != inner.ndim + extra:
            raise TypeError(f"{self}: {what} must be a {inner.ndim + extra}-d {inner.dtype} tensor (one step is "
                            f"{inner.type}), got {var} of type {var.type}")

    # ------------------------------------------------------------------ running
    def inner_function(self, linker):
        """The inner graph compiled with ``linker`` (cached): the rewrite pipeline runs on it here."""
        fn = self._compiled.get(linker)
        if fn is None:
            mode = get_mode(self.info.mode).clone(linker=linker)
            fn = function(self.inner_inputs, self.inner_outputs, mode=mode, on_unused_input="ignore",
                          accept_inplace=True, name=f"{self}.inner")
            self._compiled[linker] = fn
        return fn

    def perform(self, node, inputs, output_storage):
        run = self.inner_function("py").maker.run
        results = run_loop(self, run, inputs)
        for cell, value in zip(output_storage, results):
            cell[0] = value

    # ------------------------------------------------------------------ shapes
    def infer_shape(self, fgraph, node, input_shapes):
        info = self.info
        if info.until:
            raise NotImplementedError(f"{self}: a loop with until stops at a step known only when it runs")
        n = node.inputs[0]
        out = []
        for s, lag in enumerate(info.lags):
            init_shape = input_shapes[info.init_outer_start + s]
            store = info.state_store[s]
            rows = n + lag if store == 0 else tm.maximum(lag, tm.minimum(store, n + lag))
            out.append((rows,) + tuple(init_shape[1:]))
        for j in range(info.n_nitsot):
            out.append((n,) + self._step_shape(node, info.n_states + j))
        for j in range(info.n_shared):
            out.append(input_shapes[info.shared_outer_start + j])  # a shared value keeps its shape
        return out

    def _step_shape(self, node, k):
        """The shape of inner output k in terms of the outer inputs (without running the loop)."""
        info, ins = self.info, self.inner_inputs
        proxies = {}
        for q in range(info.n_seqs):
            proxies[ins[q]] = node.inputs[1 + q][0]
        for s, rng in enumerate(info.tap_input_ranges()):
            for i in rng:
                proxies[ins[i]] = node.inputs[info.init_outer_start + s][0]
        for j in range(info.n_shared):
            proxies[ins[info.shared_inner_start + j]] = node.inputs[info.shared_outer_start + j]
        for j in range(info.n_nonseqs):
            proxies[ins[info.nonseq_inner_start + j]] = node.inputs[info.nonseq_outer_start + j]
        shape = symbolic_shape(self.inner_outputs[k])
        return tuple(clone_replace(list(shape), proxies, strict=False)) if shape else ()

    # ------------------------------------------------------------------ gradients
    def connection_pattern(self, node):
        if self._pattern is None:
            self._pattern = _connection_pattern(self)
        return [list(row) for row in self._pattern]

    def L_op(self, inputs, outputs, output_grads):
        return _grad.scan_l_op(self, inputs, outputs, output_grads)


def _connection_pattern(op):
    """[outer input][outer output]: may the output depend on the input (through any number of steps)?"""
    info, ins, outs = op.info, op.inner_inputs, op.inner_outputs
    S, N = info.n_states, info.n_nitsot
    owner = {}  # inner input -> ("state", s) / ("shared", j) / outer input index
    for q in range(info.n_seqs):
        owner[ins[q]] = 1 + q
    for s, rng in enumerate(info.tap_input_ranges()):
        for i in rng:
            owner[ins[i]] = ("state", s)
    for j in range(info.n_shared):
        owner[ins[info.shared_inner_start + j]] = ("shared", j)
    for j in range(info.n_nonseqs):
        owner[ins[info.nonseq_inner_start + j]] = info.nonseq_outer_start + j
    direct = [{owner[v] for v in ancestors([o]) if v in owner} for o in outs[:S + N + info.n_shared]]
    carried = {("state", s): {info.init_outer_start + s} for s in range(S)}
    carried.update({("shared", j): {info.shared_outer_start + j} for j in range(info.n_shared)})
    recurrent = [("state", s) for s in range(S)] + [("shared", j) for j in range(info.n_shared)]
    rec_out = list(range(S)) + [S + N + j for j in range(info.n_shared)]
    changed = True
    while changed:
        changed = False
        for key, k in zip(recurrent, rec_out):
            new = set(carried[key])
            for d in direct[k]:
                new |= carried[d] if isinstance(d, tuple) else {d}
            if new != carried[key]:
                carried[key], changed = new, True
    out_deps = []
    for k in range(S + N + info.n_shared):
        if k < S:
            deps = carried[("state", k)]
        elif k >= S + N:
            deps = carried[("shared", k - S - N)]
        else:
            deps = set()
            for d in direct[k]:
                deps |= carried[d] if isinstance(d, tuple) else {d}
        out_deps.append(deps)
    return [[i in deps for deps in out_deps] for i in range(info.n_outer_inputs)]


# ---------------------------------------------------------------------- the loop (NumPy reference)

def step_error(op, step, exc):
    """``exc`` with the step it happened at (same exception class when possible)."""
    message = f"{op}: the inner function failed at step {step}: {exc}"
    try:
        new = type(exc)(message)
    except Exception:  # noqa: BLE001 - exception classes with unusual constructors
        new = RuntimeError(message)
    return new


def _shape_error(op, k, step, got, want):
    return ValueError(f"{op}: {op.info.describe_output(k)} has shape {tuple(got)} at step {step}, but its initial "
                      f"state has shape {tuple(want)}; fn must return values of the initial state's shape")


def _chronological(buf, rows, total):
    """The last ``rows`` of ``total`` values written circularly into ``buf``, oldest first."""
    size = buf.shape[0]
    if total <= size:
        return buf[:total]
    start = total % size
    return buf if start == 0 else np.concatenate([buf[start:], buf[:start]])


def run_loop(op, inner, inputs):
    """Run the loop with ``inner(list_of_values) -> list_of_values``; the outer outputs, in order."""
    info = op.info
    S, N, H = info.n_states, info.n_nitsot, info.n_shared
    n = int(inputs[0])
    if n < 0:
        raise ValueError(f"{op}: the number of steps is negative ({n})")
    seqs = inputs[1:1 + info.n_seqs]
    inits = inputs[info.init_outer_start:info.shared_outer_start]
    shared = list(inputs[info.shared_outer_start:info.nonseq_outer_start])
    nonseqs = list(inputs[info.nonseq_outer_start:])
    for q, x in enumerate(seqs):
        if x.shape[0] < n:
            raise ValueError(f"{op}: sequence {q} has {x.shape[0]} steps, fewer than the {n} steps to run")
    bufs = []
    for s, init in enumerate(inits):
        lag = info.lags[s]
        if init.shape[0] < lag:
            raise ValueError(f"{op}: the initial value of {info.describe_output(s)} has {init.shape[0]} rows, but "
                             f"its taps {list(info.state_taps[s])} need {lag}")
        buf = np.empty((info.rows_kept(s, n),) + init.shape[1:], dtype=init.dtype)
        buf[:lag] = init[:lag]
        bufs.append(buf)
    nits = [None] * N
    n_run = n
    for t in range(n):
        args = [x[t] for x in seqs]
        for s, taps in enumerate(info.state_taps):
            size, lag = bufs[s].shape[0], info.lags[s]
            args += [bufs[s][(lag + t + k) % size] for k in taps]
        try:
            outs = inner(args + shared + nonseqs)
        except Exception as exc:  # noqa: BLE001 - re-raised with the step
            raise step_error(op, t, exc) from exc
        values = [np.asarray(v) for v in outs[:S + N]]
        # a value that views a state's rows must be read before any row is overwritten
        values = [v.copy() if any(np.may_share_memory(v, b) for b in bufs) else v for v in values]
        for s in range(S):
            buf, lag = bufs[s], info.lags[s]
            if values[s].shape != buf.shape[1:]:
                raise _shape_error(op, s, t, values[s].shape, buf.shape[1:])
            buf[(lag + t) % buf.shape[0]] = values[s]
        for j in range(N):
            v = values[S + j]
            if t == 0:
                nits[j] = np.empty((n,) + v.shape, dtype=op.inner_outputs[S + j].dtype)
            elif v.shape != nits[j].shape[1:]:
                raise ValueError(f"{op}: {info.describe_output(S + j)} has shape {v.shape} at step {t} but "
                                 f"{nits[j].shape[1:]} at step 0; every step must return the same shape")
            nits[j][t] = v
        shared = list(outs[S + N:S + N + H])
        if info.until and bool(np.asarray(outs[-1])):
            n_run = t + 1
            break
    results = []
    for s, buf in enumerate(bufs):
        total = info.lags[s] + n_run
        results.append(_chronological(buf, buf.shape[0], total))
    for j in range(N):
        if nits[j] is None:  # no step ran: the row shape is the static one (unknown lengths are 0)
            t = op.inner_outputs[S + j].type
            nits[j] = np.zeros((0,) + tuple(0 if d is None else d for d in t.shape), dtype=t.dtype)
        results.append(nits[j][:n_run])
    return results + shared
