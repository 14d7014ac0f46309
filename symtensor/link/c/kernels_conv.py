"""C kernels for convolution (AbstractConv2d and its gradients) and pooling (Pool and its gradients).

The loops live in ``c_code/st_conv.h`` (im2col into packed panels + the
matrix product of ``c_code/st_gemm.h``, one OpenMP region per call) and
``c_code/st_pool.h``; the generators here only spell the op's parameters as
a C struct and call the entry point, which converts operands, checks shapes
as ``perform`` does and prepares the output. Float32 and float64 outputs get
C; other dtypes fall back to ``perform``.
"""

from symtensor.link.c.registry import register
from symtensor.link.c.kernels_index import c_string
from symtensor.link.c.scalar_c import NPY_TYPENUMS
from symtensor.tensor.nnet.abstract_conv import (
    AbstractConv2d, AbstractConv2d_gradInputs, AbstractConv2d_gradWeights)
from symtensor.tensor.signal.pool import AveragePoolGrad, DownsampleFactorMaxGradGrad, MaxPoolGrad, Pool

_FLOATS = ("float32", "float64")



def _conv_params(op):
    """The C initializer of an st_conv_params for ``op``."""
    mode = op.border_mode
    if mode == "full":
        code, pads = 1, (0, 0, 0, 0)
    elif mode == "half":
        code, pads = 2, (0, 0, 0, 0)
    elif mode == "valid":
        code, pads = 0, (0, 0, 0, 0)
    else:
        code = 0
        pads = tuple(v for p in mode for v in (p if isinstance(p, tuple) else (p, p)))

    def hint(h):
        return ", ".join(str(-1 if v is None else v) for v in (h or (None,) * 4))

    return (f"{{{code}, {{{', '.join(map(str, pads))}}}, {op.subsample[0]}, {op.subsample[1]}, "
            f"{op.filter_dilation[0]}, {op.filter_dilation[1]}, {op.num_groups}, {int(op.filter_flip)}, "
            f"{{{hint(op.imshp)}}}, {{{hint(op.kshp)}}}}}")


def _conv_call(node, ins, outs, entry):
    dtype = node.outputs[0].dtype
    if dtype not in _FLOATS:
        return None
    args = ", ".join(ins)
    return [f"static const st_conv_params prm = {_conv_params(node.op)};",
            f"return {entry}({args}, &{outs[0]}, &prm, {NPY_TYPENUMS[dtype]}, {c_string(type(node.op).__name__)});"]


@register(AbstractConv2d)
def conv2d_kernel(node, ins, outs):
    return _conv_call(node, ins, outs, "st_conv2d_forward")


@register(AbstractConv2d_gradWeights)
def conv2d_grad_weights_kernel(node, ins, outs):
    return _conv_call(node, ins, outs, "st_conv2d_grad_weights")


@register(AbstractConv2d_gradInputs)
def conv2d_grad_inputs_kernel(node, ins, outs):
    return _conv_call(node, ins, outs, "st_conv2d_grad_inputs")


# ------------------------------------------------------------------ pooling

_POOL_MODES = {"max": 0, "sum": 1, "average_inc_pad": 2, "average_exc_pad": 3}
#: op class -> (kind in st_pool.h, does the op take maxout)
_POOL_KINDS = {Pool: (0, False), MaxPoolGrad: (1, True), AveragePoolGrad: (2, False),
               DownsampleFactorMaxGradGrad: (3, True)}


@register(Pool, MaxPoolGrad, AveragePoolGrad, DownsampleFactorMaxGradGrad)
def pool_kernel(node, ins, outs):
    op = node.op
    dtype = node.outputs[0].dtype
    if dtype not in _FLOATS or any(v.dtype != dtype for v in node.inputs):
        return None
    kind, has_maxout = _POOL_KINDS[type(op)]
    x, rest = ins[0], ins[1:]
    maxout = rest.pop(0) if has_maxout else "NULL"
    other = rest[0] if rest else "NULL"
    prm = (f"{{{{{op.ws[0]}, {op.ws[1]}}}, {{{op.stride[0]}, {op.stride[1]}}}, {{{op.pad[0]}, {op.pad[1]}}}, "
           f"{int(op.ignore_border)}, {_POOL_MODES[op.mode]}}}")
    return [f"static const st_pool_params prm = {prm};",
            f"return st_pool2d({kind}, {x}, {maxout}, {other}, &{outs[0]}, &prm, {NPY_TYPENUMS[dtype]}, "
            f"{c_string(type(op).__name__)});"]
