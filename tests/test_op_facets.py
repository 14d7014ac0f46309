"""Every Op shipped in symtensor has the facets of the Op protocol (DESIGN.md): a test that fails
when someone adds an op without perform, infer_shape or a gradient."""

import inspect

import pytest

import symtensor  # noqa: F401  (imports every op module)
from symtensor.graph.op import Op
from symtensor.scalar.basic import ScalarOp


def _subclasses(cls):
    seen = []
    stack = [cls]
    while stack:
        for sub in stack.pop().__subclasses__():
            if sub not in seen:
                seen.append(sub)
                stack.append(sub)
    return seen


def _shipped(cls):
    return [c for c in _subclasses(cls) if c.__module__.startswith("symtensor.")]


def _defines(cls, name, base):
    return getattr(cls, name) is not getattr(base, name)


#: base classes that only exist to be subclassed
ABSTRACT = {"DataFirstOp", "_GradModifier", "_Compare", "_Bitwise", "_Unary", "UnaryScalarOp", "BinaryScalarOp",
            "_BaseConv2d", "_PoolParams"}

#: ops whose outputs are not differentiable functions of their inputs (indices, shapes, orderings)
NOT_DIFFERENTIABLE = {"ARange", "ArgSortOp", "Eye", "SliceLength", "_MapGrad", "Nonzero", "Shape", "Shape_i",
                      "UndefinedGrad"}
#: random draws: their outputs are random variates, not differentiable functions of state, size or parameters
NOT_DIFFERENTIABLE |= {"RandomOp", "UniformRV", "NormalRV", "BinomialRV", "IntegersRV", "PermutationRV", "ChoiceRV",
                       "MultinomialRV"}

#: ops compared by identity on purpose, with the reason
PROPS_BY_IDENTITY = {"_MapGrad": "holds an inner graph; two instances are never interchangeable",
                     "Composite": "its prop is a signature derived from the inner scalar graph",
                     "Scan": "its props are the loop's layout and a signature derived from the inner graph",
                     "OpFromGraph": "its props are a signature derived from the inner graph and frozen options"}

TENSOR_OPS = [c for c in _shipped(Op) if not issubclass(c, ScalarOp) and c.__name__ not in ABSTRACT]
SCALAR_OPS = [c for c in _shipped(ScalarOp) if c.__name__ not in ABSTRACT]


def test_the_registry_is_not_empty():
    assert len(TENSOR_OPS) > 20 and len(SCALAR_OPS) > 50


@pytest.mark.parametrize("cls", TENSOR_OPS, ids=lambda c: c.__name__)
def test_tensor_op_has_perform_make_node_and_infer_shape(cls):
    assert _defines(cls, "make_node", Op), f"{cls.__name__} has no make_node"
    assert _defines(cls, "perform", Op), f"{cls.__name__} has no perform"
    if cls.__name__ != "_MapGrad":
        assert _defines(cls, "infer_shape", Op), f"{cls.__name__} has no infer_shape"


@pytest.mark.parametrize("cls", TENSOR_OPS, ids=lambda c: c.__name__)
def test_tensor_op_is_differentiable_unless_declared_otherwise(cls):
    if cls.__name__ in NOT_DIFFERENTIABLE:
        return
    assert _defines(cls, "L_op", Op) or _defines(cls, "grad", Op), \
        f"{cls.__name__} has no L_op; add one or list it in NOT_DIFFERENTIABLE with a reason"


@pytest.mark.parametrize("cls", SCALAR_OPS, ids=lambda c: c.__name__)
def test_scalar_op_has_impl_and_grad(cls):
    assert _defines(cls, "impl", ScalarOp), f"{cls.__name__} has no impl"
    assert _defines(cls, "grad", ScalarOp) or _defines(cls, "L_op", ScalarOp), f"{cls.__name__} has no grad"


@pytest.mark.parametrize("cls", TENSOR_OPS + SCALAR_OPS, ids=lambda c: c.__name__)
def test_props_are_constructor_parameters(cls):
    """Equal props must mean equal ops (merge and caching rely on it)."""
    if cls.__name__ in PROPS_BY_IDENTITY:
        return
    params = inspect.signature(cls.__init__).parameters if cls.__init__ is not object.__init__ else {}
    for prop in cls.__props__:
        assert prop in params or hasattr(cls, prop) or prop in ("output_types_preference", "name"), \
            f"{cls.__name__}.__props__ names {prop!r}, which the constructor does not take"
