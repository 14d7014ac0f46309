"""Theano's ``sandbox`` names kept for porting code (``from symtensor.sandbox.rng_mrg import MRG_RandomStreams``)."""
