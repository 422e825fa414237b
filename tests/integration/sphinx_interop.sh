#!/bin/sh
# Sphinx interoperability with the independent reference implementation (see the .py file).
exec /usr/bin/python3 "$(dirname "$0")/sphinx_interop.py"
