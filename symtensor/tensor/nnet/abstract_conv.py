"""2-d convolution with Theano 1.0's abstract-conv semantics: the forward op and its two gradients.

``AbstractConv2d(img, kern)`` correlates (``filter_flip=False``) or convolves
(``filter_flip=True``, the default: the kernel is flipped) a batch of images
``(batch, channels, rows, cols)`` with filters ``(out_channels,
channels / num_groups, krows, kcols)``. Its gradients are ops of their own,
``AbstractConv2d_gradWeights(img, topgrad, kshape)`` and
``AbstractConv2d_gradInputs(kern, topgrad, imshape)``, which take the spatial
shape of what they produce: with strides several image sizes give the same
output size. All three are bilinear, so each one's gradient is made of the
other two, to any order.

Padding, strides and dilation follow Theano: the kernel spans
``(k - 1) * dilation + 1`` pixels; 'valid' pads nothing, 'full' pads that span
minus one, 'half' pads half the span on each side; an int or a pair pads
symmetrically, a pair of pairs gives (before, after) per axis.
"""

import numbers
import warnings

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

import symtensor.tensor.basic as _basic
from symtensor import scalar as ts
from symtensor.config import config
from symtensor.graph.basic import Apply, Variable
from symtensor.graph.op import Op
from symtensor.tensor.type import TensorType

_NAMED_MODES = ("valid", "full", "half")


# ------------------------------------------------------------------ parameters

def _int_pair(value, what, minimum):
    """``value`` (an int or a pair of ints, each >= minimum) as a tuple of two Python ints."""
    if isinstance(value, (numbers.Integral, np.integer)) and not isinstance(value, bool):
        value = (value, value)
    if not isinstance(value, (tuple, list)) or len(value) != 2 or not all(
            isinstance(v, (numbers.Integral, np.integer)) and not isinstance(v, bool) for v in value):
        raise ValueError(f"{what} must be an int or a pair of ints, got {value!r}")
    if any(v < minimum for v in value):
        raise ValueError(f"{what} entries must be >= {minimum}, got {tuple(value)}")
    return tuple(int(v) for v in value)


def normalize_border_mode(border_mode):
    """'valid' | 'full' | 'half', or explicit padding as ((top, bottom), (left, right)) or (rows, cols)."""
    if isinstance(border_mode, str):
        if border_mode not in _NAMED_MODES:
            raise ValueError(f"conv2d: border_mode must be one of {_NAMED_MODES}, an int or a pair, "
                             f"got {border_mode!r}")
        return border_mode
    if isinstance(border_mode, (numbers.Integral, np.integer)) and not isinstance(border_mode, bool):
        border_mode = (border_mode, border_mode)
    if isinstance(border_mode, (tuple, list)) and len(border_mode) == 2:
        if any(isinstance(b, (tuple, list)) for b in border_mode):
            pads = tuple(_int_pair(b, "conv2d: border_mode padding", 0) for b in border_mode)
            return pads if any(p[0] != p[1] for p in pads) else tuple(p[0] for p in pads)
        return _int_pair(tuple(border_mode), "conv2d: border_mode padding", 0)
    raise ValueError(f"conv2d: border_mode must be 'valid', 'full', 'half', an int, a pair of ints or a pair of "
                     f"(before, after) pairs, got {border_mode!r}")


def _axis_pads(border_mode, span, axis):
    """(before, after) padding of one spatial axis for a dilated kernel spanning ``span`` pixels."""
    if border_mode == "valid":
        return 0, 0
    if border_mode == "full":
        return span - 1, span - 1
    if border_mode == "half":
        return span // 2, span // 2
    p = border_mode[axis]
    return (p, p) if not isinstance(p, tuple) else p


def conv_output_length(length, k, border_mode, axis, stride, dilation):
    """Output length along one axis; works on Python ints and on symbolic integer scalars."""
    span = (k - 1) * dilation + 1
    if border_mode == "full":
        padded = length + 2 * (span - 1)
    elif border_mode == "half":
        padded = length + 2 * (span // 2)
    else:
        lo, hi = _axis_pads(border_mode, None, axis)
        padded = length + (lo + hi)
    return (padded - span) // stride + 1


def get_conv_output_shape(image_shape, kernel_shape, border_mode, subsample, filter_dilation=(1, 1)):
    """(batch, out_channels, rows, cols) of a conv2d; entries that are None stay None."""
    mode = normalize_border_mode(border_mode)
    out = [image_shape[0], kernel_shape[0]]
    for axis in range(2):
        i, k = image_shape[2 + axis], kernel_shape[2 + axis]
        out.append(None if i is None or k is None
                   else conv_output_length(i, k, mode, axis, subsample[axis], filter_dilation[axis]))
    return tuple(out)


def _shape_hint(value, what):
    """A user shape hint (4 entries, ints or None; constant symbols are read) as a tuple, or None."""
    if value is None:
        return None
    if isinstance(value, Variable):
        value = [value[k] for k in range(4)]
    value = tuple(value)
    if len(value) != 4:
        raise ValueError(f"conv2d: {what} must have 4 entries, got {value!r}")
    hint = []
    for v in value:
        if isinstance(v, Variable):
            try:
                v = int(_basic.get_scalar_constant_value(v))
            except _basic.NotScalarConstantError:
                v = None
        if v is not None and (not isinstance(v, (numbers.Integral, np.integer)) or isinstance(v, bool) or v < 0):
            raise ValueError(f"conv2d: {what} entries must be non-negative ints or None, got {value!r}")
        hint.append(None if v is None else int(v))
    return tuple(hint)


# ------------------------------------------------------------------ NumPy reference

def _pad_image(x, pads):
    (pt, pb), (pl, pr) = pads
    if not (pt or pb or pl or pr):
        return x
    return np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)))


def _windows(xp, kshape, out_shape, subsample, dilation):
    """(batch, channels, out_rows, out_cols, krows, kcols) view of the kernel-sized windows of xp."""
    spans = [(k - 1) * d + 1 for k, d in zip(kshape, dilation)]
    win = sliding_window_view(xp, spans, axis=(2, 3))
    win = win[:, :, ::subsample[0], ::subsample[1], ::dilation[0], ::dilation[1]]
    return win[:, :, :out_shape[0], :out_shape[1]]


def _groups(n, num_groups):
    step = n // num_groups
    return [slice(g * step, (g + 1) * step) for g in range(num_groups)]


class _BaseConv2d(Op):
    """The parameters shared by the forward op and its gradients, and their checks."""

    __props__ = ("border_mode", "subsample", "filter_flip", "imshp", "kshp", "filter_dilation", "num_groups")

    def __init__(self, imshp=None, kshp=None, border_mode="valid", subsample=(1, 1), filter_flip=True,
                 filter_dilation=(1, 1), num_groups=1):
        self.border_mode = normalize_border_mode(border_mode)
        self.subsample = _int_pair(subsample, "conv2d: subsample", 1)
        self.filter_dilation = _int_pair(filter_dilation, "conv2d: filter_dilation", 1)
        self.filter_flip = bool(filter_flip)
        if not isinstance(num_groups, (numbers.Integral, np.integer)) or num_groups < 1:
            raise ValueError(f"conv2d: num_groups must be a positive int, got {num_groups!r}")
        self.num_groups = int(num_groups)
        self.imshp = _shape_hint(imshp, "input_shape")
        self.kshp = _shape_hint(kshp, "filter_shape")

    def _params(self):
        return {p: getattr(self, p) for p in self.__props__}

    def pads(self, kshape):
        """((top, bottom), (left, right)) for a kernel of spatial shape ``kshape``."""
        return tuple(_axis_pads(self.border_mode, (k - 1) * d + 1, a)
                     for a, (k, d) in enumerate(zip(kshape, self.filter_dilation)))

    def out_spatial(self, imshape, kshape):
        return tuple(conv_output_length(imshape[a], kshape[a], self.border_mode, a, self.subsample[a],
                                        self.filter_dilation[a]) for a in range(2))

    def _check_hints(self, img_shape=None, kern_shape=None):
        name = type(self).__name__
        for hint, actual, what in ((self.imshp, img_shape, "input"), (self.kshp, kern_shape, "filter")):
            if hint is None or actual is None:
                continue
            if any(h is not None and a is not None and h != a for h, a in zip(hint, actual)):
                raise ValueError(f"{name}: the {what} has shape {tuple(actual)}, but the {what} shape given to "
                                 f"conv2d was {hint}")

    def _check_channels(self, channels, kern_shape):
        name = type(self).__name__
        g = self.num_groups
        if kern_shape[0] % g:
            raise ValueError(f"{name}: {kern_shape[0]} filters do not split into num_groups={g} groups")
        if channels != kern_shape[1] * g:
            raise ValueError(f"{name}: the input has {channels} channels, but the filters (shape "
                             f"{tuple(kern_shape)}) expect {kern_shape[1] * g} (= {kern_shape[1]} per group x "
                             f"num_groups={g})")

    def _check_output(self, imshape, kshape, top_spatial=None):
        name = type(self).__name__
        out = self.out_spatial(imshape, kshape)
        if min(out) < 1:
            raise ValueError(f"{name}: the kernel of spatial shape {tuple(kshape)} (dilation {self.filter_dilation}) "
                             f"does not fit the {self.border_mode}-padded image of spatial shape {tuple(imshape)}")
        if top_spatial is not None and tuple(top_spatial) != out:
            raise ValueError(f"{name}: topgrad has spatial shape {tuple(top_spatial)}, but an image of spatial shape "
                             f"{tuple(imshape)} and a kernel of spatial shape {tuple(kshape)} give {out}")
        return out

    # the NumPy reference computations
    def _flip(self, kern):
        return kern[:, :, ::-1, ::-1] if self.filter_flip else kern

    def np_forward(self, img, kern):
        kshape = kern.shape[2:]
        out_sp = self._check_output(img.shape[2:], kshape)
        win = _windows(_pad_image(img, self.pads(kshape)), kshape, out_sp, self.subsample, self.filter_dilation)
        kern = self._flip(kern)
        parts = [np.tensordot(win[:, ci], kern[ko], axes=([1, 4, 5], [1, 2, 3])).transpose(0, 3, 1, 2)
                 for ci, ko in zip(_groups(img.shape[1], self.num_groups), _groups(kern.shape[0], self.num_groups))]
        return np.concatenate(parts, axis=1) if len(parts) > 1 else parts[0]

    def np_grad_weights(self, img, top, kshape):
        self._check_output(img.shape[2:], kshape, top.shape[2:])
        win = _windows(_pad_image(img, self.pads(kshape)), kshape, top.shape[2:], self.subsample,
                       self.filter_dilation)
        parts = [np.tensordot(top[:, ko], win[:, ci], axes=([0, 2, 3], [0, 2, 3]))
                 for ci, ko in zip(_groups(img.shape[1], self.num_groups), _groups(top.shape[1], self.num_groups))]
        return self._flip(np.concatenate(parts, axis=0) if len(parts) > 1 else parts[0])

    def np_grad_inputs(self, kern, top, imshape):
        kshape = kern.shape[2:]
        self._check_output(imshape, kshape, top.shape[2:])
        (pt, pb), (pl, pr) = self.pads(kshape)
        channels = kern.shape[1] * self.num_groups
        dtype = np.result_type(kern, top)
        padded = np.zeros((top.shape[0], channels, imshape[0] + pt + pb, imshape[1] + pl + pr), dtype=dtype)
        kern = self._flip(kern)
        (sh, sw), (dh, dw) = self.subsample, self.filter_dilation
        oh, ow = top.shape[2:]
        for ci, ko in zip(_groups(channels, self.num_groups), _groups(top.shape[1], self.num_groups)):
            contrib = np.tensordot(top[:, ko], kern[ko], axes=([1], [0]))  # (b, oh, ow, c, kh, kw)
            region = padded[:, ci]
            for u in range(kshape[0]):
                for v in range(kshape[1]):
                    region[:, :, u * dh:u * dh + (oh - 1) * sh + 1:sh, v * dw:v * dw + (ow - 1) * sw + 1:sw] += \
                        contrib[:, :, :, :, u, v].transpose(0, 3, 1, 2)
        return padded[:, :, pt:pt + imshape[0], pl:pl + imshape[1]]


# ------------------------------------------------------------------ graph helpers

def _float4d(opname, x, argname):
    x = _basic.as_tensor_variable(x)
    if x.ndim != 4:
        raise TypeError(f"{opname}: {argname} must be a 4-d tensor, got a {x.ndim}-d {x}")
    if x.dtype not in ts.float_dtypes:
        raise TypeError(f"{opname}: {argname} must be a float tensor, got dtype {x.dtype}")
    return x


def _shape2(opname, shape, argname):
    """The spatial shape input of a gradient op: an int64 vector of 2 entries."""
    if not isinstance(shape, Variable):
        shape = _basic.shape_vector(tuple(shape), f"{opname}: {argname}")
    shape = _basic.as_tensor_variable(shape)
    if shape.ndim != 1 or shape.dtype not in ts.int_dtypes + ts.uint_dtypes:
        raise TypeError(f"{opname}: {argname} must be an integer vector of 2 entries, got {shape.type}")
    if shape.type.shape[0] not in (None, 2):
        raise TypeError(f"{opname}: {argname} must have 2 entries (rows, cols), got {shape.type.shape[0]}")
    return _basic.cast(shape, "int64")


def _static2(shape):
    lengths = _basic.static_lengths(shape, 2)
    return tuple(lengths) if len(lengths) == 2 else (None, None)


def _read_shape2(opname, value, argname):
    value = np.asarray(value).reshape(-1)
    if value.size != 2 or np.any(value < 0):
        raise ValueError(f"{opname}: {argname} must hold 2 non-negative lengths, got {value.tolist()}")
    return tuple(int(v) for v in value)


def _spatial(var):
    """The spatial shape of a 4-d variable as a vector (constants where the type knows them)."""
    static = var.type.shape[2:]
    if None not in static:
        return _basic.constant(np.array(static, dtype="int64"))
    return var.shape[2:]


def _merge(*values):
    for v in values:
        if v is not None:
            return v
    return None


def _grad_like(g, var):
    return _basic.patternbroadcast(_basic.cast(g, var.dtype), var.broadcastable)


# ------------------------------------------------------------------ the ops

class AbstractConv2d(_BaseConv2d):
    """output = conv(img, kern), shape (batch, out_channels, out_rows, out_cols)."""

    def make_node(self, img, kern):
        img = _float4d("AbstractConv2d", img, "img")
        kern = _float4d("AbstractConv2d", kern, "kern")
        ish = tuple(_merge(a, b) for a, b in zip(img.type.shape, self.imshp or (None,) * 4))
        ksh = tuple(_merge(a, b) for a, b in zip(kern.type.shape, self.kshp or (None,) * 4))
        self._check_hints(img.type.shape, kern.type.shape)
        if None not in (ish[1], ksh[1]):
            self._check_channels(ish[1], ksh)
        out = get_conv_output_shape(ish, ksh, self.border_mode, self.subsample, self.filter_dilation)
        if None not in out[2:] and min(out[2:]) < 1:
            self._check_output(ish[2:], ksh[2:])
        dtype = ts.upcast(img.dtype, kern.dtype)
        return Apply(self, [img, kern], [TensorType(dtype, shape=out)()])

    def perform(self, node, inputs, output_storage):
        img, kern = inputs
        self._check_hints(img.shape, kern.shape)
        self._check_channels(img.shape[1], kern.shape)
        output_storage[0][0] = np.asarray(self.np_forward(img, kern), dtype=node.outputs[0].dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        ish, ksh = input_shapes
        return [(ish[0], ksh[0]) + self.out_spatial(ish[2:], ksh[2:])]

    def L_op(self, inputs, outputs, output_grads):
        img, kern = inputs
        (top,) = output_grads
        d_img = AbstractConv2d_gradInputs(**self._params())(kern, top, _spatial(img))
        d_kern = AbstractConv2d_gradWeights(**self._params())(img, top, _spatial(kern))
        return [_grad_like(d_img, img), _grad_like(d_kern, kern)]

    def R_op(self, inputs, eval_points):
        img, kern = inputs
        e_img, e_kern = eval_points
        terms = []
        if e_img is not None:
            terms.append(self(e_img, kern))
        if e_kern is not None:
            terms.append(self(img, e_kern))
        if not terms:
            return [None]
        return [terms[0] + terms[1] if len(terms) == 2 else terms[0]]


class AbstractConv2d_gradWeights(_BaseConv2d):  # noqa: N801  (Theano's name)
    """d cost / d kern from the image and d cost / d output; ``shape`` is the kernel's (rows, cols)."""

    def make_node(self, img, topgrad, shape):
        name = "AbstractConv2d_gradWeights"
        img = _float4d(name, img, "img")
        topgrad = _float4d(name, topgrad, "topgrad")
        shape = _shape2(name, shape, "shape")
        self._check_hints(img.type.shape, None)
        g = self.num_groups
        ch = img.type.shape[1] if img.type.shape[1] is not None else (self.imshp or (None,) * 4)[1]
        kshp = self.kshp or (None,) * 4
        out = (_merge(topgrad.type.shape[1], kshp[0]), _merge(None if ch is None else ch // g, kshp[1])) \
            + tuple(_merge(a, b) for a, b in zip(_static2(shape), kshp[2:]))
        dtype = ts.upcast(img.dtype, topgrad.dtype)
        return Apply(self, [img, topgrad, shape], [TensorType(dtype, shape=out)()])

    def perform(self, node, inputs, output_storage):
        img, top, shape = inputs
        kshape = _read_shape2("AbstractConv2d_gradWeights", shape, "shape")
        g = self.num_groups
        if img.shape[1] % g or top.shape[1] % g:
            raise ValueError(f"AbstractConv2d_gradWeights: {img.shape[1]} channels and {top.shape[1]} filters must "
                             f"both split into num_groups={g} groups")
        if img.shape[0] != top.shape[0]:
            raise ValueError(f"AbstractConv2d_gradWeights: img has batch {img.shape[0]}, topgrad {top.shape[0]}")
        self._check_hints(img.shape, (top.shape[1], img.shape[1] // g) + kshape)
        gw = self.np_grad_weights(img, top, kshape)
        output_storage[0][0] = np.asarray(gw, dtype=node.outputs[0].dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        ish, tsh, _ = input_shapes
        shape = node.inputs[2]
        return [(tsh[1], ish[1] // self.num_groups, shape[0], shape[1])]

    def L_op(self, inputs, outputs, output_grads):
        img, top, shape = inputs
        (gw,) = output_grads
        d_img = AbstractConv2d_gradInputs(**self._params())(gw, top, _spatial(img))
        d_top = AbstractConv2d(**self._params())(img, gw)
        return [_grad_like(d_img, img), _grad_like(d_top, top), _basic.zeros_like(shape, dtype=config.floatX)]

    def connection_pattern(self, node):
        return [[True], [True], [False]]


class AbstractConv2d_gradInputs(_BaseConv2d):  # noqa: N801  (Theano's name)
    """d cost / d img from the kernel and d cost / d output; ``shape`` is the image's (rows, cols)."""

    def make_node(self, kern, topgrad, shape):
        name = "AbstractConv2d_gradInputs"
        kern = _float4d(name, kern, "kern")
        topgrad = _float4d(name, topgrad, "topgrad")
        shape = _shape2(name, shape, "shape")
        self._check_hints(None, kern.type.shape)
        imshp = self.imshp or (None,) * 4
        ch = None if kern.type.shape[1] is None else kern.type.shape[1] * self.num_groups
        out = (_merge(topgrad.type.shape[0], imshp[0]), _merge(ch, imshp[1])) \
            + tuple(_merge(a, b) for a, b in zip(_static2(shape), imshp[2:]))
        dtype = ts.upcast(kern.dtype, topgrad.dtype)
        return Apply(self, [kern, topgrad, shape], [TensorType(dtype, shape=out)()])

    def perform(self, node, inputs, output_storage):
        kern, top, shape = inputs
        imshape = _read_shape2("AbstractConv2d_gradInputs", shape, "shape")
        if kern.shape[0] != top.shape[1] or kern.shape[0] % self.num_groups:
            raise ValueError(f"AbstractConv2d_gradInputs: topgrad has {top.shape[1]} channels, the kernel "
                             f"{kern.shape[0]} filters (num_groups={self.num_groups})")
        self._check_hints((top.shape[0], kern.shape[1] * self.num_groups) + imshape, kern.shape)
        gi = self.np_grad_inputs(kern, top, imshape)
        output_storage[0][0] = np.asarray(gi, dtype=node.outputs[0].dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        ksh, tsh, _ = input_shapes
        shape = node.inputs[2]
        return [(tsh[0], ksh[1] * self.num_groups, shape[0], shape[1])]

    def L_op(self, inputs, outputs, output_grads):
        kern, top, shape = inputs
        (gi,) = output_grads
        d_kern = AbstractConv2d_gradWeights(**self._params())(gi, top, _spatial(kern))
        d_top = AbstractConv2d(**self._params())(gi, kern)
        return [_grad_like(d_kern, kern), _grad_like(d_top, top), _basic.zeros_like(shape, dtype=config.floatX)]

    def connection_pattern(self, node):
        return [[True], [True], [False]]


# ------------------------------------------------------------------ user functions

def _as_4d_shape_hint(value, what):
    return None if value is None else _shape_hint(value, what)


def conv2d(input, filters, input_shape=None, filter_shape=None, border_mode="valid", subsample=(1, 1),  # noqa: A002
           filter_flip=True, image_shape=None, filter_dilation=(1, 1), num_groups=1, unshared=False, **kwargs):
    """2-d convolution of a 4-d batch of images with a 4-d stack of filters (Theano's ``T.nnet.conv2d``).

    ``input_shape`` / ``filter_shape`` are optional hints (ints or None) that
    are checked at run time; ``image_shape`` is their deprecated name.
    """
    if kwargs:
        raise TypeError(f"conv2d: unexpected keyword arguments {sorted(kwargs)}")
    if unshared:
        raise NotImplementedError("conv2d: unshared convolution is not supported")
    if image_shape is not None:
        warnings.warn("conv2d: the image_shape parameter is deprecated; use input_shape", DeprecationWarning,
                      stacklevel=2)
        if input_shape is not None:
            raise ValueError("conv2d: give input_shape or image_shape, not both")
        input_shape = image_shape
    op = AbstractConv2d(imshp=_as_4d_shape_hint(input_shape, "input_shape"),
                        kshp=_as_4d_shape_hint(filter_shape, "filter_shape"), border_mode=border_mode,
                        subsample=subsample, filter_flip=filter_flip, filter_dilation=filter_dilation,
                        num_groups=num_groups)
    return op(input, filters)


def conv2d_grad_wrt_inputs(output_grad, filters, input_shape, filter_shape=None, border_mode="valid",
                           subsample=(1, 1), filter_flip=True, filter_dilation=(1, 1), num_groups=1):
    """The gradient of conv2d with respect to its input; ``input_shape`` is the full 4-d image shape."""
    shape = _basic.shape_scalars(input_shape, "conv2d_grad_wrt_inputs: input_shape")
    if len(shape) != 4:
        raise ValueError(f"conv2d_grad_wrt_inputs: input_shape must have 4 entries, got {len(shape)}")
    hint = _basic.static_lengths(shape)
    op = AbstractConv2d_gradInputs(imshp=hint, kshp=_as_4d_shape_hint(filter_shape, "filter_shape"),
                                   border_mode=border_mode, subsample=subsample, filter_flip=filter_flip,
                                   filter_dilation=filter_dilation, num_groups=num_groups)
    return op(filters, output_grad, _basic.make_vector(*shape[2:]))


def conv2d_grad_wrt_weights(input, output_grad, filter_shape, input_shape=None, border_mode="valid",  # noqa: A002
                            subsample=(1, 1), filter_flip=True, filter_dilation=(1, 1), num_groups=1):
    """The gradient of conv2d with respect to its filters; ``filter_shape`` is the full 4-d filter shape."""
    shape = _basic.shape_scalars(filter_shape, "conv2d_grad_wrt_weights: filter_shape")
    if len(shape) != 4:
        raise ValueError(f"conv2d_grad_wrt_weights: filter_shape must have 4 entries, got {len(shape)}")
    hint = _basic.static_lengths(shape)
    op = AbstractConv2d_gradWeights(imshp=_as_4d_shape_hint(input_shape, "input_shape"), kshp=hint,
                                    border_mode=border_mode, subsample=subsample, filter_flip=filter_flip,
                                    filter_dilation=filter_dilation, num_groups=num_groups)
    return op(input, output_grad, _basic.make_vector(*shape[2:]))


def conv2d_transpose(input, filters, output_shape, filter_shape=None, border_mode="valid",  # noqa: A002
                     input_dilation=(1, 1), filter_flip=True, filter_dilation=(1, 1), num_groups=1):
    """The transpose of conv2d (a "deconvolution"): conv2d's input gradient, ``input_dilation`` as its stride."""
    return conv2d_grad_wrt_inputs(input, filters, output_shape, filter_shape=filter_shape, border_mode=border_mode,
                                  subsample=input_dilation, filter_flip=filter_flip,
                                  filter_dilation=filter_dilation, num_groups=num_groups)
