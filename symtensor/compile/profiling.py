"""CallStats: what ``function(..., profile=True)`` records, and its Theano-style report.

The linker calls ``record_node(node, seconds)`` for every node it runs when it is given a CallStats;
``Function.__call__`` calls ``record_call``; ``function()`` fills in the compile times. ``summary()``
prints like Theano's ProfileStats: a header (calls, time in the call vs in the nodes, compile,
rewrite and link time), then time per Op class ("Class"), per Op ("Ops") and per Apply node
("Apply"). With the ``profile`` config flag every function is profiled and the reports of the
functions that ran are printed to stderr when the process exits, as Theano does.
"""

import atexit
import io
import sys

from symtensor.config import config

#: profiles printed at exit (config.profile); kept in creation order
_AT_EXIT = []


class CallStats:
    """Call count and total time of one function, plus time and call count of each Apply node."""

    def __init__(self, name=None):
        self.name = name
        self.calls = 0
        self.total_time = 0.0
        self.compile_time = 0.0
        self.rewrite_time = 0.0
        self.link_time = 0.0
        #: Apply node -> [calls, seconds], in the order the nodes first ran (their position)
        self.apply_time = {}
        #: the compiled graph's RewriteLog: rewrites fired, time per phase
        self.rewrite_log = None
        if config.profile:
            _register_at_exit(self)

    # Theano's ProfileStats names, for code ported from it
    @property
    def fct_callcount(self):
        return self.calls

    @property
    def fct_call_time(self):
        return self.total_time

    @property
    def optimizer_time(self):
        return self.rewrite_time

    @property
    def linker_time(self):
        return self.link_time

    def record_call(self, seconds):
        self.calls += 1
        self.total_time += seconds

    def record_node(self, node, seconds):
        entry = self.apply_time.setdefault(node, [0, 0.0])
        entry[0] += 1
        entry[1] += seconds

    def node_time(self):
        """Seconds spent inside the nodes (Theano's "time in thunks")."""
        return sum(seconds for _n, seconds in self.apply_time.values())

    def op_time(self):
        """{op class name: seconds} summed over the nodes."""
        return {name: row[0] for name, row in self._grouped(lambda node: type(node.op).__name__).items()}

    def _grouped(self, key):
        """{key(node): [seconds, calls, apply nodes]}."""
        out = {}
        for node, (n, seconds) in self.apply_time.items():
            row = out.setdefault(key(node), [0.0, 0, 0])
            row[0] += seconds
            row[1] += n
            row[2] += 1
        return out

    # ------------------------------------------------------------ report

    def summary(self, file=None, n_ops_to_print=20, n_apply_to_print=20):
        """The report as text (returned, and written to ``file`` if given)."""
        buf = io.StringIO()
        self._summary_header(buf)
        if self.apply_time:
            self._summary_groups(buf, "Class", "time per Op class", "Class name",
                                 self._grouped(lambda node: type(node.op).__name__), n_ops_to_print)
            self._summary_groups(buf, "Ops", "time per Op", "Op name",
                                 self._grouped(lambda node: str(node.op)), n_ops_to_print)
            self._summary_apply(buf, n_apply_to_print)
        else:
            buf.write("\n  No node timings (the function was not called, or its linker does not time nodes).\n")
        if self.rewrite_log is not None:
            buf.write("\n" + self.rewrite_log.summary() + "\n")
        text = buf.getvalue()
        if file is not None:
            file.write(text)
        return text

    def _summary_header(self, buf):
        title = f"Function profiling: {self.name or '<unnamed>'}: {self.calls} calls, {self.total_time:.6f} s"
        buf.write(title + "\n" + "=" * len(title) + "\n")
        per_call = self.total_time / self.calls if self.calls else 0.0
        buf.write(f"  Time in {self.calls} calls of the compiled function: {self.total_time:.6e} s "
                  f"({per_call:.6e} s per call)\n")
        in_nodes = self.node_time()
        share = 100.0 * in_nodes / self.total_time if self.total_time else 0.0
        buf.write(f"  Time in nodes: {in_nodes:.6e} s ({share:.1f}% of the call time; the rest is the "
                  "driver, argument handling and collecting these timings)\n")
        buf.write(f"  Number of Apply nodes: {len(self.apply_time)}\n")
        buf.write(f"  Total compile time: {self.compile_time:.6e} s\n")
        buf.write(f"    Rewrite time: {self.rewrite_time:.6e} s\n")
        buf.write(f"    Link time (C code generation, compiling, loading): {self.link_time:.6e} s\n")

    def _summary_groups(self, buf, section, what, label, groups, limit):
        total = self.node_time() or 1.0
        buf.write(f"\n{section} ({what})\n{'-' * len(section)}\n")
        buf.write(f"  <% time> <sum %> <apply time> <time per call> <#call> <#apply> <{label}>\n")
        ranked = sorted(groups.items(), key=lambda kv: -kv[1][0])
        cumulative = 0.0
        for name, (seconds, calls, n_apply) in ranked[:limit]:
            cumulative += seconds
            buf.write(f"  {100 * seconds / total:6.1f}%  {100 * cumulative / total:6.1f}%  {seconds:10.3e}s  "
                      f"{seconds / max(calls, 1):10.3e}s  {calls:6d}  {n_apply:6d}  {name}\n")
        self._remaining(buf, ranked[limit:], total, "Op classes" if section == "Class" else "Ops")

    def _summary_apply(self, buf, limit):
        total = self.node_time() or 1.0
        buf.write("\nApply (time per Apply node, slowest first)\n-----\n")
        buf.write("  <% time> <sum %> <apply time> <time per call> <#call> <id> <Apply name>\n")
        position = {node: k for k, node in enumerate(self.apply_time)}
        ranked = sorted(self.apply_time.items(), key=lambda kv: -kv[1][1])
        cumulative = 0.0
        for node, (calls, seconds) in ranked[:limit]:
            cumulative += seconds
            buf.write(f"  {100 * seconds / total:6.1f}%  {100 * cumulative / total:6.1f}%  {seconds:10.3e}s  "
                      f"{seconds / max(calls, 1):10.3e}s  {calls:6d}  {position[node]:4d}  {node}\n")
        self._remaining(buf, [(node, (s, n)) for node, (n, s) in ranked[limit:]], total, "Apply nodes")

    @staticmethod
    def _remaining(buf, rest, total, what):
        if rest:
            seconds = sum(row[0] for _k, row in rest)
            buf.write(f"   ... (remaining {len(rest)} {what} account for {100 * seconds / total:.2f}% "
                      f"({seconds:.6f}s) of the time in nodes)\n")

    def __repr__(self):
        return f"<CallStats {self.name or '<unnamed>'}: {self.calls} calls, {self.total_time:.6f} s>"


def _register_at_exit(stats):
    if not _AT_EXIT:
        atexit.register(print_profiles_at_exit)
    _AT_EXIT.append(stats)


def print_profiles_at_exit(file=None):
    """The reports of the config.profile functions that were called (to stderr by default)."""
    out = sys.stderr if file is None else file
    for stats in _AT_EXIT:
        if stats.calls:
            stats.summary(file=out)
            out.write("\n")
