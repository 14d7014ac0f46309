"""CallStats: recording, the Theano-style summary (header, Class, Ops, Apply) and config.profile at exit."""

import io
import os
import subprocess
import sys

import numpy as np

import symtensor as st
import symtensor.tensor as T
from symtensor.compile import profiling
from symtensor.compile.profiling import CallStats


def _nodes():
    """Three Apply nodes of three Op classes: exp (Elemwise), sum (CAReduce), dot (Dot)."""
    x = T.dvector("x")
    e = T.exp(x)
    return e.owner, e.sum().owner, T.dot(x, x).owner


def _stats():
    """A CallStats with known timings: dot 0.6 s, exp 0.3 s (3 calls), sum 0.1 s."""
    exp_node, sum_node, dot_node = _nodes()
    stats = CallStats("known")
    for _ in range(3):
        stats.record_call(0.5)
        stats.record_node(exp_node, 0.1)
    stats.record_node(sum_node, 0.1)
    stats.record_node(dot_node, 0.6)
    stats.compile_time, stats.rewrite_time, stats.link_time = 3.0, 1.0, 2.0
    return stats, (exp_node, sum_node, dot_node)


def _section(text, title):
    """The table rows of one section (the lines after its column header, up to the next blank line)."""
    lines = text.split("\n" + title + " (", 1)[1].split("\n\n", 1)[0].splitlines()
    return [line for line in lines[3:] if line.strip()]


def test_record_counts_calls_and_node_times():
    stats, (exp_node, sum_node, dot_node) = _stats()
    assert stats.calls == 3 and abs(stats.total_time - 1.5) < 1e-12
    assert stats.apply_time[exp_node][0] == 3 and abs(stats.apply_time[exp_node][1] - 0.3) < 1e-12
    assert abs(stats.node_time() - 1.0) < 1e-12
    assert stats.op_time() == {"Elemwise": stats.apply_time[exp_node][1], "CAReduce": 0.1, "Dot": 0.6}
    # Theano's ProfileStats attribute names
    assert (stats.fct_callcount, stats.fct_call_time) == (3, stats.total_time)
    assert (stats.optimizer_time, stats.linker_time) == (1.0, 2.0)


def test_summary_header_gives_calls_times_and_compile_breakdown():
    stats, _nodes_ = _stats()
    text = stats.summary()
    assert text.startswith("Function profiling: known: 3 calls, 1.500000 s\n====")
    assert "Time in 3 calls of the compiled function: 1.500000e+00 s (5.000000e-01 s per call)" in text
    assert "Time in nodes: 1.000000e+00 s (66.7% of the call time" in text
    assert "Number of Apply nodes: 3" in text
    assert "Total compile time: 3.000000e+00 s" in text
    assert "Rewrite time: 1.000000e+00 s" in text and "Link time" in text and "2.000000e+00 s" in text


def test_summary_class_section_ranks_op_classes_with_cumulative_percent():
    stats, _nodes_ = _stats()
    rows = _section(stats.summary(), "Class")
    assert [r.split()[-1] for r in rows] == ["Dot", "Elemwise", "CAReduce"]
    dot, elemwise, careduce = (r.split() for r in rows)
    assert dot[:2] == ["60.0%", "60.0%"] and dot[-3:-1] == ["1", "1"]
    assert elemwise[:2] == ["30.0%", "90.0%"] and elemwise[-3:-1] == ["3", "1"]  # 3 calls, 1 apply node
    assert careduce[:2] == ["10.0%", "100.0%"]
    assert elemwise[2:4] == ["3.000e-01s", "1.000e-01s"]  # apply time, time per call


def test_summary_ops_and_apply_sections_name_ops_and_node_positions():
    stats, (exp_node, sum_node, dot_node) = _stats()
    text = stats.summary()
    ops = _section(text, "Ops")
    assert ops[1].endswith(str(exp_node.op))
    apply_rows = _section(text, "Apply")
    assert apply_rows[0].endswith(str(dot_node)) and apply_rows[-1].endswith(str(sum_node))
    # the id column is the node's position in execution order (the order nodes first ran)
    assert [r.split()[5] for r in apply_rows] == ["2", "0", "1"]


def test_summary_truncates_long_sections_with_the_remainder():
    stats, _nodes_ = _stats()
    text = stats.summary(n_ops_to_print=1, n_apply_to_print=2)
    assert "remaining 2 Op classes account for 40.00% (0.400000s)" in text
    assert "remaining 1 Apply nodes account for 10.00% (0.100000s)" in text


def test_summary_of_a_function_never_called_says_so(rng):
    x = T.dvector("x")
    f = st.function([x], T.exp(x), profile=True, name="idle")
    text = f.profile.summary()
    assert "idle: 0 calls" in text and "No node timings" in text
    buf = io.StringIO()
    assert f.profile.summary(file=buf) == buf.getvalue()


def test_profiled_function_reports_every_node_and_its_compile_times(rng):
    x = T.dmatrix("x")
    f = st.function([x], [T.exp(x).sum(axis=0), T.dot(x, x.T)], profile=True, name="two")
    for _ in range(4):
        f(rng.normal(size=(3, 3)))
    stats = f.profile
    text = stats.summary()
    nodes = f.maker.fgraph.toposort()
    assert len(stats.apply_time) == len(nodes) and all(n == 4 for n, _ in stats.apply_time.values())
    assert f"Number of Apply nodes: {len(nodes)}" in text
    assert stats.compile_time == stats.rewrite_time + stats.link_time > 0
    assert len(_section(text, "Apply")) == len(nodes)
    assert abs(sum(float(r.split()[0].rstrip("%")) for r in _section(text, "Class")) - 100) < 0.5


def test_config_profile_registers_functions_printed_at_exit(monkeypatch):
    monkeypatch.setattr(profiling, "_AT_EXIT", [])
    x = T.dvector("x")
    with st.config.change_flags(profile=True):
        f = st.function([x], T.exp(x) * 2, name="flagged")
        unused = st.function([x], x + 1, name="never called")
    assert f.profile is not None and unused.profile is not None
    f(np.ones(2))
    buf = io.StringIO()
    profiling.print_profiles_at_exit(file=buf)
    assert "Function profiling: flagged: 1 calls" in buf.getvalue()
    assert "never called" not in buf.getvalue()


def test_profile_flag_prints_the_report_when_the_process_exits(tmp_path, session_compiledir):
    script = ("import numpy as np, symtensor as st, symtensor.tensor as T\n"
              "x = T.dvector('x')\n"
              "f = st.function([x], T.exp(x).sum(), name='at exit')\n"
              "f(np.ones(3)); f(np.ones(3))\n")
    env = dict(os.environ, SYMTENSOR_FLAGS=f"profile=True,linker=py,compiledir={session_compiledir}")
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120,
                          cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    assert proc.returncode == 0, proc.stderr
    assert "Function profiling: at exit: 2 calls" in proc.stderr
    assert "Class (time per Op class)" in proc.stderr and "Apply (time per Apply node" in proc.stderr
