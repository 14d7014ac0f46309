"""Placeholder: being written."""
def debugprint(*a, **k): raise NotImplementedError
def pp(*a, **k): raise NotImplementedError
