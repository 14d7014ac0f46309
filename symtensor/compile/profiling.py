"""CallStats: what ``function(..., profile=True)`` records (calls, time, time per Apply node)."""

import io


class CallStats:
    """Call count and total time of one function, plus time spent in each node.

    The linker calls ``record_node(node, seconds)`` for every node it runs
    when it is given this object; ``Function.__call__`` calls ``record_call``.
    """

    def __init__(self, name=None):
        self.name = name
        self.calls = 0
        self.total_time = 0.0
        self.compile_time = 0.0
        self.rewrite_time = 0.0
        self.link_time = 0.0
        #: Apply node -> [calls, seconds]
        self.apply_time = {}
        #: the compiled graph's RewriteLog: rewrites fired, time per phase
        self.rewrite_log = None

    def record_call(self, seconds):
        self.calls += 1
        self.total_time += seconds

    def record_node(self, node, seconds):
        entry = self.apply_time.setdefault(node, [0, 0.0])
        entry[0] += 1
        entry[1] += seconds

    def op_time(self):
        """{op class name: seconds} summed over the nodes."""
        out = {}
        for node, (_n, seconds) in self.apply_time.items():
            key = type(node.op).__name__
            out[key] = out.get(key, 0.0) + seconds
        return out

    def summary(self, file=None, n_apply=10):
        """A text report (returned, and written to ``file`` if given)."""
        buf = io.StringIO()
        buf.write(f"Function {self.name or '<unnamed>'}: {self.calls} calls, {self.total_time:.6f} s "
                  f"(rewrite {self.rewrite_time:.6f} s, link {self.link_time:.6f} s)\n")
        if self.apply_time:
            buf.write("  time per Apply node (slowest first):\n")
            ranked = sorted(self.apply_time.items(), key=lambda kv: -kv[1][1])
            for node, (n, seconds) in ranked[:n_apply]:
                buf.write(f"    {seconds:10.6f} s  {n:6d} calls  {node}\n")
        if self.apply_time:
            buf.write("  time per Op class:\n")
            for name, seconds in sorted(self.op_time().items(), key=lambda kv: -kv[1]):
                buf.write(f"    {seconds:10.6f} s  {name}\n")
        if self.rewrite_log is not None:
            buf.write("  " + self.rewrite_log.summary().replace("\n", "\n  ") + "\n")
        text = buf.getvalue()
        if file is not None:
            file.write(text)
        return text

    def __repr__(self):
        return f"<CallStats {self.name or '<unnamed>'}: {self.calls} calls, {self.total_time:.6f} s>"
