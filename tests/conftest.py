import os
import sys

import numpy as np
import pytest

import symtensor as st

sys.path.insert(0, os.path.dirname(__file__))


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture(scope="session", autouse=True)
def session_compiledir(tmp_path_factory):
    """One private compile cache for the whole session (C modules are shared, ~/.cache is never touched).

    SYMTENSOR_TEST_COMPILEDIR reuses a cache across runs."""
    path = os.environ.get("SYMTENSOR_TEST_COMPILEDIR") or str(tmp_path_factory.mktemp("symtensor") / "cache")
    with st.config.change_flags(compiledir=path):
        yield path


#: test folders that run with the default (C) linker; elsewhere tests use the python linker, the
#: reference, because compiling thousands of small graphs would take most of CI's time
C_LINKER_DIRS = ("acceptance", os.path.join("link", "c"))


@pytest.fixture(autouse=True)
def default_linker(request):
    path = str(request.node.fspath)
    linker = "c" if any(os.sep + d + os.sep in path for d in C_LINKER_DIRS) else "py"
    with st.config.change_flags(linker=linker):
        yield
