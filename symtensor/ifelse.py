"""``ifelse(cond, then, else)``: a lazy conditional, only the taken branch is computed.

Unlike ``T.switch`` (elementwise, both sides computed), the IfElse op is *lazy*:
it declares its branches (``lazy_branches``) and the linkers skip every node whose
result is used only by the branch that is not taken (``symtensor.link.lazy``).
"""

import numpy as np

from symtensor.graph.basic import Apply, Variable
from symtensor.graph.op import Op
from symtensor.graph.null_type import DisconnectedType
from symtensor.tensor.basic import as_tensor_variable, zeros_like
from symtensor.tensor.type import TensorType


class IfElse(Op):
    """Inputs: ``cond, then_1..then_n, else_1..else_n``; outputs: the n values of the taken branch.

    The outputs are always copies (``as_view`` is accepted for Theano compatibility): an output
    aliasing one of two possible inputs cannot be described by a view_map, and the in-place
    rewrites rely on view_maps being exact."""

    __props__ = ("n_outs", "as_view", "name")

    def __init__(self, n_outs, as_view=False, name=None):
        self.n_outs = n_outs
        self.as_view = as_view
        self.name = name

    def __str__(self):
        return f"if{{{self.name}}}" if self.name else "if"

    def make_node(self, cond, *branches):
        if len(branches) != 2 * self.n_outs:
            raise TypeError(f"IfElse({self.n_outs}) takes a condition and {2 * self.n_outs} branch values, "
                            f"got {len(branches)}")
        cond = as_tensor_variable(cond)
        if cond.ndim != 0:
            raise TypeError(f"ifelse: the condition must be a scalar, got {cond.ndim}-d {cond.type}")
        branches = [as_tensor_variable(b) for b in branches]
        outputs = []
        for k in range(self.n_outs):
            then, other = branches[k], branches[self.n_outs + k]
            if then.dtype != other.dtype or then.ndim != other.ndim:
                raise TypeError(f"ifelse: output {k} has type {then.type} in the then-branch but {other.type} in "
                                f"the else-branch; the two branches must have the same dtype and ndim "
                                f"(cast one of them)")
            shape = tuple(a if a == b else None for a, b in zip(then.type.shape, other.type.shape))
            outputs.append(TensorType(then.dtype, shape=shape)())
        return Apply(self, [cond, *branches], outputs)

    # -- the lazy protocol (symtensor.link.lazy)
    def lazy_branches(self, node):
        n = self.n_outs
        return 0, [list(range(1, 1 + n)), list(range(1 + n, 1 + 2 * n))]

    def select_branch(self, cond_value):
        """0 (then) when the condition is true, else 1."""
        return 0 if bool(np.asarray(cond_value)) else 1

    def perform(self, node, inputs, output_storage):
        branch = self.select_branch(inputs[0])
        start = 1 + branch * self.n_outs
        for k, cell in enumerate(output_storage):
            value = inputs[start + k]
            cell[0] = np.array(value, copy=True)

    def infer_shape(self, fgraph, node, input_shapes):
        n = self.n_outs
        cond = node.inputs[0]
        shapes = []
        for k in range(n):
            then_shape, else_shape = input_shapes[1 + k], input_shapes[1 + n + k]
            dims = []
            for a, b in zip(then_shape, else_shape):
                dims.append(a if a is b else ifelse(cond, a, b))
            shapes.append(tuple(dims))
        return shapes

    def connection_pattern(self, node):
        n = self.n_outs
        pattern = [[False] * n]
        for branch in range(2):
            for k in range(n):
                pattern.append([j == k for j in range(n)])
        return pattern

    def L_op(self, inputs, outputs, output_grads):
        cond = inputs[0]
        n = self.n_outs
        grads = [g if g is not None else zeros_like(out) for g, out in zip(output_grads, outputs)]
        zeros = [zeros_like(g) for g in grads]
        then_grads = ifelse(cond, grads, zeros, name=self.name and f"grad_{self.name}")
        else_grads = ifelse(cond, zeros, grads, name=self.name and f"grad_{self.name}")
        then_grads = [g.astype(x.dtype) if g.dtype != x.dtype else g for g, x in zip(then_grads, inputs[1:1 + n])]
        else_grads = [g.astype(x.dtype) if g.dtype != x.dtype else g for g, x in zip(else_grads, inputs[1 + n:])]
        return [DisconnectedType()(), *then_grads, *else_grads]

    def R_op(self, inputs, eval_points):
        n = self.n_outs
        then_points = [p if p is not None else zeros_like(x) for p, x in zip(eval_points[1:1 + n], inputs[1:1 + n])]
        else_points = [p if p is not None else zeros_like(x) for p, x in zip(eval_points[1 + n:], inputs[1 + n:])]
        return ifelse(inputs[0], then_points, else_points, return_list=True)


def ifelse(condition, then_branch, else_branch, name=None, return_list=False):
    """The value of ``then_branch`` if ``condition`` (a scalar) is true, else of ``else_branch``.

    Each branch is a variable or a list of variables (the same number on both sides); only
    the taken branch is computed. Returns one variable, or a list when the branches are lists.
    """
    single = not isinstance(then_branch, (list, tuple))
    then_list = [then_branch] if single else list(then_branch)
    else_list = [else_branch] if not isinstance(else_branch, (list, tuple)) else list(else_branch)
    if len(then_list) != len(else_list):
        raise ValueError(f"ifelse: the then-branch has {len(then_list)} values but the else-branch has "
                         f"{len(else_list)}")
    then_list = [_as_branch_value(v) for v in then_list]
    else_list = [_as_branch_value(v) for v in else_list]
    for k, (a, b) in enumerate(zip(then_list, else_list)):
        if a.dtype != b.dtype and a.ndim == b.ndim:
            common = np.result_type(np.dtype(a.dtype), np.dtype(b.dtype)).name
            then_list[k], else_list[k] = a.astype(common), b.astype(common)
    outs = IfElse(len(then_list), name=name)(condition, *then_list, *else_list, return_list=True)
    return outs[0] if single and not return_list else list(outs)


def _as_branch_value(value):
    if isinstance(value, Variable) and not hasattr(value.type, "ndim"):
        raise TypeError(f"ifelse: branch values must be tensors, got {value} of type {value.type}")
    return as_tensor_variable(value)


__all__ = ["IfElse", "ifelse"]
