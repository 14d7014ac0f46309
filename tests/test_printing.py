"""debugprint (tree with ids, shared nodes printed once), pp (infix), pydotprint (DOT text)."""

import io

import numpy as np
import pytest

import symtensor as st
import symtensor.tensor as T
from symtensor.graph.basic import Apply
from symtensor.graph.op import Op
from symtensor.printing import debugprint, pp, pydotprint


@pytest.fixture
def xy():
    return T.dmatrix("x"), T.dmatrix("y")


def test_debugprint_tree_with_char_ids(xy):
    x, y = xy
    z = x + y * 2
    text = debugprint(z, file="str")
    assert text.splitlines() == [
        "Elemwise{add} [id A]",
        " |x [id B]",
        " |Elemwise{mul} [id C]",
        "   |y [id D]",
        "   |DimShuffle{x,x} [id E]",
        "     |TensorConstant{2} [id F]",
    ]


def test_shared_subgraph_is_printed_once_then_referenced(xy):
    x, y = xy
    common = T.exp(x)
    common.name = "e"
    out = (common * common).sum()
    lines = debugprint(out, file="str").splitlines()
    exp_lines = [line for line in lines if line.lstrip(" |").startswith("Elemwise{exp}")]
    assert exp_lines == ["   |Elemwise{exp} [id C] 'e'", "   |Elemwise{exp} [id C] 'e'"]
    assert sum(1 for line in lines if line.lstrip(" |").startswith("x ")) == 1  # children printed once
    both = debugprint([out, common], file="str").splitlines()
    assert both[-1] == "Elemwise{exp} [id C] 'e'"


@pytest.mark.parametrize("ids, first, second", [
    ("CHAR", "[id A]", "[id B]"),
    ("int", "[id 0]", "[id 1]"),
    ("", "", ""),
])
def test_id_styles(xy, ids, first, second):
    x, _ = xy
    lines = debugprint(T.exp(x), file="str", ids=ids).splitlines()
    assert lines == [f"Elemwise{{exp}} {first}".rstrip(), f" |x {second}".rstrip()]


def test_python_id_style_and_bad_style(xy):
    x, _ = xy
    node = T.exp(x)
    assert f"[id {id(node.owner)}]" in debugprint(node, file="str", ids="id")
    with pytest.raises(ValueError, match="ids must be"):
        debugprint(node, file="str", ids="roman")


def test_print_type_depth_and_stop_on_name(xy):
    x, y = xy
    inner = x * y
    inner.name = "inner"
    out = T.exp(inner)
    typed = debugprint(out, file="str", print_type=True)
    assert " |Elemwise{mul} [id B] 'inner' <TensorType(float64, matrix)>" in typed
    assert len(debugprint(out, file="str", depth=1).splitlines()) == 1
    assert len(debugprint(out, file="str", depth=2).splitlines()) == 2
    assert len(debugprint(out, file="str", stop_on_name=True).splitlines()) == 2


def test_debugprint_function_fgraph_and_apply(xy):
    x, _ = xy
    s = st.shared(np.zeros(2), name="s")
    f = st.function([x], x.sum(axis=0) + s, updates=[(s, s * 2)])
    text = debugprint(f, file="str")
    lines = text.splitlines()
    # every node line ends with its position in the execution order
    order = {str(node.op): k for k, node in enumerate(f.maker.fgraph.toposort())}
    assert lines[0].startswith("Elemwise{add,inplace} [id A]   ")  # writes into the Sum output
    assert any(line.strip().startswith("|Sum{axis=[0]}") and line.endswith(f"   {order['Sum{axis=[0]}']}")
               for line in lines)
    assert any(line.endswith("(update of s)") for line in lines)
    assert debugprint(f.maker.fgraph, file="str").replace("   (update of s)", "") == text.replace(
        "   (update of s)", "")
    node_text = debugprint(f.maker.fgraph.outputs[0].owner, file="str")
    assert node_text.splitlines()[0].startswith("Elemwise{add,inplace} [id A]")


def test_debugprint_writes_to_a_file_or_stdout(xy, capsys):
    x, _ = xy
    buf = io.StringIO()
    assert debugprint(T.exp(x), file=buf) is buf
    assert buf.getvalue() == debugprint(T.exp(x), file="str")
    st.dprint(T.exp(x))
    assert capsys.readouterr().out == buf.getvalue()
    assert st.dprint is debugprint


def test_debugprint_rejects_other_objects():
    with pytest.raises(TypeError, match="cannot print a int"):
        debugprint(3, file="str")


def test_multi_output_nodes_show_the_output_index():
    x = T.dvector("x")
    second = TwoOut()(x)[1]
    assert debugprint(second, file="str").splitlines() == ["TwoOut.1 [id A]", " |x [id B]"]
    assert pp(second) == "TwoOut.1(x)"


class TwoOut(Op):
    __props__ = ()

    def make_node(self, x):
        return Apply(self, [x], [x.type(), x.type()])


@pytest.mark.parametrize("build, expected", [
    (lambda x, y: x + y * 2, "(x + (y * 2))"),
    (lambda x, y: (x - y) / 3, "((x - y) / 3)"),
    (lambda x, y: x ** 2 // y % 4, "(((x ** 2) // y) % 4)"),
    (lambda x, y: -x, "(-x)"),
    (lambda x, y: T.exp(x) + abs(y), "(exp(x) + abs(y))"),
    (lambda x, y: x.T, "x.T"),
    (lambda x, y: x.sum(axis=1), "sum(x, axis=[1])"),
    (lambda x, y: x.sum(), "sum(x)"),
    (lambda x, y: T.dot(x, y), "dot(x, y)"),
    (lambda x, y: x[1:3, 0], "x[1:3, 0]"),
    (lambda x, y: T.cast(x, "float32"), "cast(x, 'float32')"),
    (lambda x, y: x < y, "(x < y)"),
    (lambda x, y: x + 1.5, "(x + 1.5)"),
])
def test_pp_infix(xy, build, expected):
    assert pp(build(*xy)) == expected


def test_pp_symbolic_index_list_and_errors(xy):
    x, y = xy
    i = T.lscalar("i")
    assert pp(x[i:i + 2]) == "x[i:(i + 2)]"
    assert pp([x + y, x * y]) == "(x + y)\n(x * y)"
    assert st.pp is pp
    with pytest.raises(TypeError, match="pp: expected a Variable"):
        pp(3)


def test_pydotprint_emits_dot(xy, tmp_path):
    x, y = xy
    out = x * y + x
    path = tmp_path / "g.dot"
    text = pydotprint(out, outfile=str(path))
    assert text.startswith("digraph G {") and text.rstrip().endswith("}")
    assert path.read_text() == text
    assert text.count("->") == 5  # mul has 2 inputs, add has 2, plus the output arrow
    assert 'label="x"' in text and 'label="Elemwise{mul}"' in text
