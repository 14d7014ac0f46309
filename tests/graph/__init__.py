"""Tests of symtensor.graph (a package so that test_basic.py does not clash with other test_basic.py files)."""
