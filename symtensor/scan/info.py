"""ScanInfo: the static description of a Scan's loop (how many inputs and outputs of each kind).

A Scan's inputs and outputs come in fixed groups, in this order:

outer inputs   n_steps, sequences, initial states, shared values, non-sequences
inner inputs   one slice per sequence, one value per tap of each state, shared values, non-sequences
inner outputs  new value of each state, each nit-sot output, new shared values, [until condition]
outer outputs  each state's rows (initial rows first), each nit-sot output (one row per step), final shared values

A *state* (Theano's sit-sot and mit-sot) is an output fed back through its
negative taps; its outer initial value has ``lag = -min(taps)`` rows, row j
holding the value at time j - lag. A *nit-sot* output is computed at every
step and not fed back. A *shared* value (a shared variable updated inside the
loop, e.g. a random state) is threaded through the steps; only its final
value leaves the loop.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class ScanInfo:
    n_seqs: int
    #: per state: its taps (negative ints), in the order fn receives them
    state_taps: tuple
    n_nitsot: int
    n_shared: int
    n_nonseqs: int
    #: the last inner output is a condition; the loop stops after the step where it is true
    until: bool = False
    #: per state: 0 keeps every row, k > 0 keeps only the last k rows (the save-memory rewrite sets it)
    state_store: tuple = None
    truncate_gradient: int = -1
    name: str = None
    #: the mode (or mode name) the inner function is compiled with; None: config.mode
    mode: object = None
    #: per state, then per nit-sot output: its position among fn's outputs (-1: an output fn did not return)
    user_index: tuple = None

    def __post_init__(self):
        taps = tuple(tuple(int(k) for k in t) for t in self.state_taps)
        for s, t in enumerate(taps):
            if not t or any(k >= 0 for k in t) or len(set(t)) != len(t):
                raise ValueError(f"ScanInfo: state {s} needs distinct negative taps, got {t}")
        object.__setattr__(self, "state_taps", taps)
        store = (0,) * len(taps) if self.state_store is None else tuple(int(k) for k in self.state_store)
        if len(store) != len(taps) or any(k < 0 for k in store):
            raise ValueError(f"ScanInfo: state_store {store} does not fit {len(taps)} states")
        object.__setattr__(self, "state_store", store)
        user = self.user_index
        if user is None:
            user = tuple(range(len(taps) + self.n_nitsot))
        if len(user) != len(taps) + self.n_nitsot:
            raise ValueError("ScanInfo: user_index needs one entry per state and nit-sot output")
        object.__setattr__(self, "user_index", tuple(int(u) for u in user))

    # -- sizes
    @property
    def n_states(self):
        return len(self.state_taps)

    @property
    def lags(self):
        return tuple(-min(t) for t in self.state_taps)

    @property
    def n_tap_inputs(self):
        return sum(len(t) for t in self.state_taps)

    @property
    def n_inner_inputs(self):
        return self.n_seqs + self.n_tap_inputs + self.n_shared + self.n_nonseqs

    @property
    def n_inner_outputs(self):
        return self.n_states + self.n_nitsot + self.n_shared + int(self.until)

    @property
    def n_outer_inputs(self):
        return 1 + self.n_seqs + self.n_states + self.n_shared + self.n_nonseqs

    @property
    def n_outer_outputs(self):
        return self.n_states + self.n_nitsot + self.n_shared

    # -- where each group starts
    def tap_input_ranges(self):
        """Per state: the range of its tap values among the inner inputs."""
        out, start = [], self.n_seqs
        for t in self.state_taps:
            out.append(range(start, start + len(t)))
            start += len(t)
        return out

    @property
    def shared_inner_start(self):
        return self.n_seqs + self.n_tap_inputs

    @property
    def nonseq_inner_start(self):
        return self.shared_inner_start + self.n_shared

    @property
    def init_outer_start(self):
        return 1 + self.n_seqs

    @property
    def shared_outer_start(self):
        return 1 + self.n_seqs + self.n_states

    @property
    def nonseq_outer_start(self):
        return self.shared_outer_start + self.n_shared

    def rows_kept(self, s, n_steps):
        """Rows of state s's outer output after ``n_steps`` steps (an int)."""
        lag, store = self.lags[s], self.state_store[s]
        return lag + n_steps if store == 0 else max(lag, min(store, lag + n_steps))

    def describe_output(self, k):
        """How error messages name internal output k (a state or nit-sot output)."""
        user = self.user_index[k] if k < len(self.user_index) else -1
        kind = "recurrent output" if k < self.n_states else "output"
        return f"{kind} {user}" if user >= 0 else f"hidden output {k}"
