"""Image patches as rows of a matrix (Theano's ``T.nnet.neighbours``): ``images2neibs`` and ``neibs2images``.

Both ops work from one table: for each patch position and each pixel of the
patch, the flat index of the image pixel it reads (or -1 for the zero
padding of the 'half' and 'full' modes). ``Images2Neibs`` gathers through
it; ``Neibs2Images`` scatters back through it, adding where patches overlap,
which makes each op the other's transpose: the gradient of one is the other.
"""

import numpy as np

import symtensor.tensor.basic as _basic
import symtensor.tensor.math as _math
from symtensor.graph.basic import Apply
from symtensor.graph.null_type import disconnected
from symtensor.graph.op import DataFirstOp
from symtensor.tensor.type import TensorType

__all__ = ["Images2Neibs", "Neibs2Images", "images2neibs", "neibs2images"]

MODES = ("valid", "ignore_borders", "wrap_centered", "half", "full")


def _check_mode(opname, mode):
    if mode not in MODES:
        raise ValueError(f"{opname}: mode must be one of {MODES}, got {mode!r}")


def _grid_length(mode, length, size, step, axis):
    """How many patches of ``size`` fit along an image side of ``length`` (NumPy ints), checking the mode's
    requirements."""
    if size <= 0 or step <= 0:
        raise ValueError(f"Images2Neibs: neib_shape and neib_step must be positive, got size {size} and step "
                         f"{step} on axis {axis}")
    if mode == "ignore_borders":
        return max(0, 1 + (length - size) // step)
    if mode == "wrap_centered":
        if size % 2 != 1:
            raise ValueError(f"Images2Neibs: mode 'wrap_centered' needs odd patch sides, got {size} on axis {axis}")
        if length < size:
            raise ValueError(f"Images2Neibs: mode 'wrap_centered' needs an image side ({length}) at least as long "
                             f"as the patch side ({size}) on axis {axis}")
        return -(-length // step)
    # valid, half and full are 'valid' on an image zero-padded by 0, size // 2 or size - 1 on each side
    span = length - size + 2 * _padding(mode, size)
    if length < size or span % step:
        raise ValueError(f"Images2Neibs: in mode {mode!r}, patch side {size} with step {step} does not tile an "
                         f"image side of {length} on axis {axis} (need side >= patch and (padded side - patch) "
                         f"divisible by step)")
    return 1 + span // step


def _padding(mode, size):
    return {"half": size // 2, "full": size - 1, "wrap_centered": size // 2}.get(mode, 0)


def _side_indices(mode, length, size, step, axis):
    """``[patch position, pixel in patch]`` -> image index along one side, -1 where it falls in the padding."""
    grid = _grid_length(mode, length, size, step, axis)
    idx = np.arange(grid)[:, None] * step + np.arange(size)[None, :] - _padding(mode, size)
    if mode == "wrap_centered":
        return idx % length
    return np.where((idx >= 0) & (idx < length), idx, -1)


def patch_table(mode, image_shape, neib_shape, neib_step):
    """Flat pixel index (into rows x cols) read by each (patch, pixel of patch), -1 for padding.

    Patches are ordered row-major over the grid, pixels row-major within a patch.
    """
    (rows, cols), (c, d), (sr, sc) = image_shape, neib_shape, neib_step
    ri = _side_indices(mode, rows, c, sr, 0)
    ci = _side_indices(mode, cols, d, sc, 1)
    r = ri[:, None, :, None]
    q = ci[None, :, None, :]
    flat = np.where((r >= 0) & (q >= 0), r * cols + q, -1)
    return flat.reshape(ri.shape[0] * ci.shape[0], c * d)


def _pair(value, opname, argname):
    """A length-2 int64 vector for ``neib_shape`` / ``neib_step``."""
    vec = _basic.shape_vector(value, f"{opname}: {argname}")
    if vec.type.shape[0] not in (None, 2):
        raise TypeError(f"{opname}: {argname} must hold 2 integers (rows, columns), got {vec.type.shape[0]}")
    return vec


def _runtime_pair(value, argname):
    value = np.asarray(value)
    if value.shape != (2,):
        raise ValueError(f"Images2Neibs: {argname} must hold 2 integers, got {value!r}")
    return int(value[0]), int(value[1])


def _static_grid(mode, lengths, neib_shape, neib_step):
    """The static number of patches per image, or None if some length is unknown."""
    if None in lengths or None in neib_shape or None in neib_step:
        return None
    return (_grid_length(mode, lengths[0], neib_shape[0], neib_step[0], 0)
            * _grid_length(mode, lengths[1], neib_shape[1], neib_step[1], 1))


def _symbolic_grid_length(mode, length, size, step):
    if mode == "wrap_centered":
        return _math.ceil_intdiv(length, step)
    if mode == "ignore_borders":
        return _math.maximum(1 + (length - size) // step, 0)
    return 1 + (length - size + 2 * {"half": size // 2, "full": size - 1}.get(mode, 0)) // step


# ------------------------------------------------------------------ images -> patches

class Images2Neibs(DataFirstOp):
    """Patches of ``neib_shape`` taken every ``neib_step`` from each image of a 4-d ``ten4``, one per row.

    Row ``((i * ten4.shape[1] + j) * rows + r) * cols + c`` holds the patch at
    grid position (r, c) of image ``ten4[i, j]``, flattened row-major.
    """

    __props__ = ("mode",)

    def __init__(self, mode="valid"):
        _check_mode("Images2Neibs", mode)
        self.mode = mode

    def make_node(self, ten4, neib_shape, neib_step=None):
        ten4 = _basic.as_tensor_variable(ten4)
        if ten4.ndim != 4:
            raise TypeError(f"Images2Neibs: ten4 must be a 4-d tensor (batch, channels, rows, columns), got a "
                            f"{ten4.ndim}-d {ten4}")
        neib_shape = _pair(neib_shape, "Images2Neibs", "neib_shape")
        neib_step = neib_shape if neib_step is None else _pair(neib_step, "Images2Neibs", "neib_step")
        shp, step = _basic.static_lengths(neib_shape, 2), _basic.static_lengths(neib_step, 2)
        b, ch, rows, cols = ten4.type.shape
        grid = _static_grid(self.mode, (rows, cols), shp, step)
        n_rows = None if None in (b, ch, grid) else b * ch * grid
        width = None if None in shp else shp[0] * shp[1]
        return Apply(self, [ten4, neib_shape, neib_step], [TensorType(ten4.dtype, shape=(n_rows, width))()])

    def perform(self, node, inputs, output_storage):
        ten4, neib_shape, neib_step = inputs
        neib_shape = _runtime_pair(neib_shape, "neib_shape")
        neib_step = _runtime_pair(neib_step, "neib_step")
        b, ch, rows, cols = ten4.shape
        table = patch_table(self.mode, (rows, cols), neib_shape, neib_step)
        # one zero past the pixels: the padding entries (-1) read it
        flat = np.zeros((b * ch, rows * cols + 1), dtype=node.outputs[0].dtype)
        flat[:, :-1] = ten4.reshape(b * ch, rows * cols)
        output_storage[0][0] = flat[:, table].reshape(-1, table.shape[1])

    def infer_shape(self, fgraph, node, input_shapes):
        (b, ch, rows, cols), _, _ = input_shapes
        _, shp, step = node.inputs
        grid = (_symbolic_grid_length(self.mode, rows, shp[0], step[0])
                * _symbolic_grid_length(self.mode, cols, shp[1], step[1]))
        return [(b * ch * grid, shp[0] * shp[1])]

    def L_op(self, inputs, outputs, output_grads):
        ten4, neib_shape, neib_step = inputs
        g = Neibs2Images(self.mode)(output_grads[0], neib_shape, neib_step, ten4.shape)
        return [g, disconnected(), disconnected()]


def images2neibs(ten4, neib_shape, neib_step=None, mode="valid"):
    """The patches of ``neib_shape`` of the images ``ten4`` (batch, channels, rows, columns), one per row.

    ``neib_step`` (default: ``neib_shape``, disjoint patches) is the stride. Modes:
    'valid' needs the patches to tile the image exactly; 'ignore_borders' drops
    the pixels past the last whole patch; 'wrap_centered' centres a patch (odd
    sides) on every step and wraps around the borders; 'half' and 'full' are
    'valid' on the image zero-padded by ``neib_shape // 2`` and ``neib_shape - 1``.
    """
    return Images2Neibs(mode)(ten4, neib_shape, neib_step)


# ------------------------------------------------------------------ patches -> images

class Neibs2Images(DataFirstOp):
    """The transpose of Images2Neibs: each row of ``neibs`` is added back where its patch was read.

    Pixels read by several patches sum their contributions, pixels read by none
    are 0, and the padding is dropped. With disjoint patches this inverts
    Images2Neibs on the pixels it reads.
    """

    __props__ = ("mode",)

    def __init__(self, mode="valid"):
        _check_mode("Neibs2Images", mode)
        self.mode = mode

    def make_node(self, neibs, neib_shape, neib_step, image_shape):
        neibs = _basic.as_tensor_variable(neibs)
        if neibs.ndim != 2:
            raise TypeError(f"Neibs2Images: neibs must be a matrix (one patch per row), got a {neibs.ndim}-d "
                            f"{neibs}")
        neib_shape = _pair(neib_shape, "Neibs2Images", "neib_shape")
        neib_step = _pair(neib_step, "Neibs2Images", "neib_step")
        image_shape = _basic.shape_vector(image_shape, "Neibs2Images: image_shape")
        if image_shape.type.shape[0] not in (None, 4):
            raise TypeError(f"Neibs2Images: image_shape must hold 4 lengths (batch, channels, rows, columns), "
                            f"got {image_shape.type.shape[0]}")
        static = _basic.static_lengths(image_shape, 4)
        return Apply(self, [neibs, neib_shape, neib_step, image_shape], [TensorType(neibs.dtype, shape=static)()])

    def perform(self, node, inputs, output_storage):
        neibs, neib_shape, neib_step, image_shape = inputs
        neib_shape = _runtime_pair(neib_shape, "neib_shape")
        neib_step = _runtime_pair(neib_step, "neib_step")
        b, ch, rows, cols = (int(s) for s in image_shape)
        table = patch_table(self.mode, (rows, cols), neib_shape, neib_step)
        if neibs.shape != (b * ch * table.shape[0], table.shape[1]):
            raise ValueError(f"Neibs2Images: neibs of shape {neibs.shape} do not match images of shape "
                             f"{(b, ch, rows, cols)} cut into {table.shape[0]} patches of {neib_shape} each "
                             f"(expected {(b * ch * table.shape[0], table.shape[1])})")
        dtype = node.outputs[0].dtype
        flat = np.zeros((b * ch, rows * cols + 1), dtype=dtype)
        patches = neibs.reshape(b * ch, table.shape[0], table.shape[1])
        # add.at sums repeated targets: overlapping patches, and every padding entry into the spare last column
        np.add.at(flat, (slice(None), table), patches.astype(dtype, copy=False))
        output_storage[0][0] = flat[:, :-1].reshape(b, ch, rows, cols)

    def infer_shape(self, fgraph, node, input_shapes):
        image_shape = node.inputs[3]
        return [tuple(image_shape[i] for i in range(4))]

    def L_op(self, inputs, outputs, output_grads):
        _, neib_shape, neib_step, _ = inputs
        g = Images2Neibs(self.mode)(output_grads[0], neib_shape, neib_step)
        return [g, disconnected(), disconnected(), disconnected()]


def neibs2images(neibs, neib_shape, original_shape, mode="valid"):
    """The images of ``original_shape`` that ``images2neibs(images, neib_shape, mode=mode)`` cut into ``neibs``.

    As in Theano, only disjoint patches (``neib_step == neib_shape``) in modes
    'valid' and 'ignore_borders' are undone; pixels 'ignore_borders' dropped
    come back as zeros.
    """
    if mode not in ("valid", "ignore_borders"):
        raise NotImplementedError(f"neibs2images: mode must be 'valid' or 'ignore_borders', got {mode!r}")
    return Neibs2Images(mode)(neibs, neib_shape, neib_shape, original_shape)
