"""Linkers: turn a FunctionGraph into a callable (python now; C and CUDA later)."""
