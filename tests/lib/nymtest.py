"""Helpers for the Python side of the integration tests: verdicts, waiting, the nodes' HTTP
API and Prometheus metrics, running nym-node, base58. Import it with
`sys.path.insert(0, <tests/lib>)`. Run as a program, it waits for a TCP port:

    python3 tests/lib/nymtest.py wait-port HOST:PORT SECONDS   (exit 1 on timeout)
"""
import json
import os
import socket
import sys
import time

NODE = os.environ.get("NODE") or os.path.join(os.environ.get("NYM_BUILD", "build"), "bin", "nym-node")
B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
failures = []


def check(cond, what):
    """Prints the verdict as the shell tests do and remembers a failure."""
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)
    return cond


def finish(summary):
    """Ends the test: exit 1 if any check failed."""
    print(f"{summary}: {len(failures)} failures" if failures else f"{summary}: all checks passed", flush=True)
    sys.exit(1 if failures else 0)


def wait_for(pred, timeout, step=0.1):
    """Polls pred until it returns something true (returned) or timeout seconds pass (then
    pred's last answer is returned)."""
    end = time.monotonic() + timeout
    while True:
        got = pred()
        if got or time.monotonic() >= end:
            return got
        time.sleep(step)


def wait_or_fail(what, pred, timeout, step=0.5):
    """wait_for, and a failed check named `what` if it timed out."""
    got = wait_for(pred, timeout, step)
    if not got:
        check(False, f"{what} (waited {timeout}s)")
    return got


def port_open(host, port, timeout=0.5):
    try:
        socket.create_connection((host, port), timeout).close()
        return True
    except OSError:
        return False


def http_get(url, timeout=5):
    """(status, body bytes, headers); HTTP errors are answers too."""
    # Imported here: urllib.request is a third of the start-up time, and wait-port (the
    # sandbox's, many times per test, in emulated VMs too) never needs it.
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read(), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read(), dict(e.headers)


def http_json(url, timeout=5):
    return json.loads(http_get(url, timeout)[1])


def prom(base, name):
    """The value of metric `name` on the node at base (http://HOST:PORT)."""
    _, body, _ = http_get(base + "/api/v1/metrics/prometheus")
    for line in body.decode().splitlines():
        if line.startswith(name + " "):
            return int(line.split()[1])
    raise KeyError(name)


def run_node(*args, stdin=None, timeout=60):
    """Runs nym-node: (exit status, its JSON output or None, stderr)."""
    import subprocess

    p = subprocess.run([NODE, *args], input=stdin, capture_output=True, text=True, timeout=timeout)
    out = json.loads(p.stdout) if p.stdout.strip().startswith("{") else None
    return p.returncode, out, p.stderr


def node_json(*args, stdin=None):
    """Runs nym-node, which must succeed, and returns its JSON output."""
    rc, out, err = run_node(*args, stdin=stdin)
    if rc != 0:
        raise SystemExit(f"nym-node {' '.join(args[:2])} failed: {err.strip()}")
    return out


def b58decode(s, size=32):
    n = 0
    for c in s:
        n = n * 58 + B58.index(c)
    return n.to_bytes(size, "big")


def main(argv):
    if len(argv) != 4 or argv[1] != "wait-port":
        raise SystemExit("usage: nymtest.py wait-port HOST:PORT SECONDS")
    host, port = argv[2].rsplit(":", 1)
    up = wait_for(lambda: port_open(host.strip("[]"), int(port)), float(argv[3]))
    sys.exit(0 if up else 1)


if __name__ == "__main__":
    main(sys.argv)
