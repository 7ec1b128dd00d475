"""Fixtures shared by the reference tests."""
import os
import shutil

import pytest


@pytest.fixture(scope="module")
def escript():
    """The escript that runs the Erlang references; CI must have it."""
    path = shutil.which("escript")
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("escript is missing: CI must install erlang-nox (scripts/install-deps.sh)")
        pytest.skip("escript not installed")
    return path
