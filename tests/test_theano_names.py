"""Theano 1.0 module paths that ported code uses resolve to the matching symtensor objects."""

import numpy as np

import symtensor as theano
import symtensor.tensor as T


def test_gof_names_are_the_graph_layer():
    assert theano.gof.Op is theano.Op and theano.gof.Apply is theano.Apply
    assert theano.gof.Variable is theano.Variable and theano.gof.Type is theano.Type
    x = T.dvector("x")
    assert theano.gof.graph.inputs([x * 2 + 1])[0] is x


def test_map_reduce_fold_are_top_level():
    x = T.dvector("x")
    doubled, _ = theano.map(lambda v: v * 2, sequences=x)
    total, _ = theano.reduce(lambda v, acc: acc + v, sequences=x, outputs_info=T.as_tensor_variable(np.float64(0)))
    first, _ = theano.foldl(lambda v, acc: acc * 2 + v, sequences=x, outputs_info=T.as_tensor_variable(np.float64(0)))
    last, _ = theano.foldr(lambda v, acc: acc * 2 + v, sequences=x, outputs_info=T.as_tensor_variable(np.float64(0)))
    f = theano.function([x], [doubled, total, first, last])
    got = f(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(got[0], [2.0, 4.0, 6.0])
    assert got[1] == 6.0 and got[2] == ((0 * 2 + 1) * 2 + 2) * 2 + 3 and got[3] == ((0 * 2 + 3) * 2 + 2) * 2 + 1


def test_nnet_nnet_module_name():
    assert T.nnet.nnet.softmax is T.nnet.softmax
