"""Theano's older ``T.nnet.conv`` entry point, kept for ported code: ``conv.conv2d`` is a true
convolution (the kernel is flipped) with border mode 'valid' or 'full', computed by the same
AbstractConv2d op as ``T.nnet.conv2d``."""

from symtensor.tensor.nnet.abstract_conv import AbstractConv2d


def conv2d(input, filters, image_shape=None, filter_shape=None, border_mode="valid", subsample=(1, 1),  # noqa: A002
           **kargs):
    """Convolve a 4-d batch of images with a 4-d stack of filters (border_mode 'valid' or 'full')."""
    if border_mode not in ("valid", "full"):
        raise ValueError(f"conv.conv2d: border_mode must be 'valid' or 'full', got {border_mode!r}")
    unknown = set(kargs) - {"imshp", "kshp", "nkern", "bsize", "unroll_batch", "unroll_kern", "unroll_patch",
                            "openmp", "verbose", "version", "direction_hint"}
    if unknown:
        raise TypeError(f"conv.conv2d: unexpected keyword arguments {sorted(unknown)}")
    op = AbstractConv2d(imshp=image_shape, kshp=filter_shape, border_mode=border_mode, subsample=subsample,
                        filter_flip=True)
    return op(input, filters)
