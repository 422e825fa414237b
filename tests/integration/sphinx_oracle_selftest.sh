#!/bin/sh
# Checks the Python reference Sphinx (tests/oracle/sphinx_ref.py) against the KDF and Lioness
# vectors and its own create/process round trips, so that the oracle the Sphinx tests compare
# the C code with is itself known to be sound. Needs /usr/bin/python3 with python3-cryptography.
set -eu
exec /usr/bin/python3 tests/oracle/sphinx_ref.py selftest
