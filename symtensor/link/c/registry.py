"""The C backend's kernel table, keyed by Op class (core ops know nothing of C).

A kernel generator ``gen(node, ins, outs)`` gets the C expressions of the
node's input slots and output slots (``PyObject *`` lvalues) and returns the
C statements of the kernel body, or None when this node has no C form (the
driver then calls the op's ``perform`` through Python). It may also return
``(support, body)``: support is C emitted at file level before the node's
function (a helper the body calls; its names must be unique in the module). The body reports
errors with ``ST_FAIL(exception, format, ...)``. The kernel modules
(kernels, kernels_index, kernels_nnet) fill the table when imported.
"""

KERNELS = {}
#: Op class -> ``data(node)``: a Python object the node's kernel reads as ``ST_NODE_DATA`` (e.g. a loop's
#: compiled inner function), or None when the node must run through ``perform`` after all
NODE_DATA = {}


def register(*op_classes):
    def decorate(gen):
        for cls in op_classes:
            KERNELS[cls] = gen
        return gen
    return decorate


def register_node_data(*op_classes):
    def decorate(fn):
        for cls in op_classes:
            NODE_DATA[cls] = fn
        return fn
    return decorate


def node_data_for(node):
    """The node-data function for ``node``'s op (along its class hierarchy), or None."""
    for cls in type(node.op).__mro__:
        fn = NODE_DATA.get(cls)
        if fn is not None:
            return fn
    return None


def kernel_for(node):
    """The kernel generator for ``node`` (looked up along its op's class hierarchy), or None."""
    for cls in type(node.op).__mro__:
        gen = KERNELS.get(cls)
        if gen is not None:
            return gen
    return None
