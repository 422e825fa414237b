#!/usr/bin/env python3
"""nym-vpnc's edges against a scripted control socket (docs/PROTOCOLS.md, "Control socket
(nym-vpnd)"): the request line each command sends, its text and --json output, the error
messages (daemon absent, permission denied, daemon errors, bad arguments), --help of every
command, connect/disconnect --wait and status --listen. The daemon's own behaviour is tested
elsewhere (with the real nym-vpnd); this is the command line only.

usage: vpnc_cli.py PATH/TO/nym-vpnc
"""
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time

VPNC = os.path.abspath(sys.argv[1])
FAILS = 0
ID_A = "4wBqpZM9xaSheZzJSMawUKKwhdpChKbZ5eu5ky4Vigw"  # bytes 1..32
ID_B = "JEJUoGfGEPTZ1XTwN39dYdFxYxDiDaSKVNy5qYWJmZt3"  # bytes 0xff..0xe0


def ok(what):
    print("ok   " + what)


def fail(what):
    global FAILS
    FAILS += 1
    print("FAIL " + what)


def check(what, cond, detail=""):
    if cond:
        ok(what)
    else:
        fail(what + (": " + detail if detail else ""))


STATE_CONNECTED = {
    "state": "connected", "mode": "mixnet", "retry_attempt": 0,
    "connection": {"entry": {"id": ID_A, "address": "192.0.2.1:9000"}, "exit": {"id": ID_B},
                   "tun": "nym0", "ipv4": "10.0.0.2", "ipv6": "fc00::2", "since": 1764800000,
                   "dns": ["1.1.1.1"]},
    "progress": "up", "tickets_left": 49,
}
STATE_CONNECTING = {"state": "connecting", "mode": "mixnet", "retry_attempt": 0,
                    "progress": "fetching_topology"}
STATE_DISCONNECTED = {"state": "disconnected", "mode": "mixnet", "retry_attempt": 0}
STATE_ERROR = {"state": "error", "mode": "mixnet", "retry_attempt": 0, "reason": "no_tickets",
               "message": "no mixnet-entry ticket left"}
TUNNEL = {"two_hop": False, "ipv6": True, "mtu": 1500, "average_packet_delay_ms": 15,
          "message_sending_delay_ms": 20, "loop_cover_stream_average_delay_ms": 200,
          "disable_real_traffic_poisson_rate": False}
POINTS = {"entry": {"kind": "random"}, "exit": {"kind": "country", "country": "DE"}}

RESULTS = {
    "info": {"version": "0.1.0", "commit": "abc1234", "platform": "linux x86_64",
             "network": "sandbox", "data_dir": "/var/lib/nym-vpnd", "socket": "/run/nym-vpnd.sock",
             "config": "/etc/nym/nym-vpnd.yaml"},
    "status": STATE_DISCONNECTED,
    "gateway_get": POINTS,
    "gateway_set": POINTS,
    "gateway_list": {"gateways": [
        {"id": ID_A, "country": "DE", "addresses": ["192.0.2.1:9000"], "roles": ["mixnet-entry", "mixnet-exit"]},
        {"id": ID_B, "country": "CH", "addresses": ["[2001:db8::1]:9000"], "roles": ["mixnet-entry"]}]},
    "tunnel_get": TUNNEL,
    "tunnel_set": TUNNEL,
    "dns_get": {"servers": [], "default": ["1.1.1.1", "1.0.0.1"], "effective": ["1.1.1.1", "1.0.0.1"]},
    "dns_set": {"servers": ["9.9.9.9"], "default": ["1.1.1.1"], "effective": ["9.9.9.9"]},
    "dns_clear": {"servers": [], "default": ["1.1.1.1"], "effective": ["1.1.1.1"]},
    "lan_get": {"lan": "block"},
    "lan_set": {"lan": "allow"},
    "credentials_obtain": {"books": [{"type": "mixnet-entry", "tickets": 50, "expires": 1765400000}]},
    "credentials_list": {"types": [{"type": "mixnet-entry", "tickets_left": 49, "books": 1, "expires": 1765400000}]},
    "network_get": {"network": "sandbox", "authorities": ["http://198.51.100.1:8080"]},
    "network_set": {"network": "qa", "restart_required": True},
    "disconnect": STATE_DISCONNECTED,
    "reconnect": STATE_CONNECTING,
}


class FakeDaemon:
    """Answers each request from a script; records every request line and the order of
    listen/connect. mode picks the connect behaviour: "up", "fail", or an error reply."""

    def __init__(self, path):
        self.path = path
        self.requests = []
        self.lock = threading.Lock()
        self.listeners = []
        self.error = None  # (code, message): every non-listen request fails with it
        self.connect_mode = "up"
        self.listen_close_after = None  # events for a status --listen, then close
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(16)
        threading.Thread(target=self.accept_loop, daemon=True).start()

    def accept_loop(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(conn,), daemon=True).start()

    def send(self, conn, obj):
        try:
            conn.sendall((json.dumps(obj, separators=(",", ":")) + "\n").encode())
        except OSError:
            pass

    def events(self, evs, close=False):
        time.sleep(0.3)  # after the client's settle time
        with self.lock:
            ls = list(self.listeners)
        for ev in evs:
            for c in ls:
                self.send(c, ev)
            time.sleep(0.02)
        if close:
            for c in ls:
                try:
                    c.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in recv on it
                except OSError:
                    pass

    def serve(self, conn):
        buf = b""
        while True:
            try:
                data = conn.recv(65536)
            except OSError:
                return
            if not data:
                return
            buf += data
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                self.handle(conn, line)

    def handle(self, conn, line):
        with self.lock:
            self.requests.append(line.decode())
        try:
            req = json.loads(line)
        except ValueError:
            self.send(conn, {"id": None, "ok": False, "error": {"code": "bad_request", "message": "bad"}})
            return
        rid, cmd = req.get("id"), req.get("cmd")
        if cmd == "listen":
            with self.lock:
                self.listeners.append(conn)
            self.send(conn, {"id": rid, "ok": True, "result": {}})
            # an initial state, as a daemon may send: older than any request that follows
            self.send(conn, {"event": "state", "state": STATE_DISCONNECTED})
            if self.listen_close_after is not None:
                threading.Thread(target=self.events, args=(self.listen_close_after, True), daemon=True).start()
            return
        if self.error:
            self.send(conn, {"id": rid, "ok": False, "error": {"code": self.error[0], "message": self.error[1]}})
            return
        if cmd == "connect":
            with self.lock:
                self.connect_saw_listener = bool(self.listeners)
            self.send(conn, {"id": rid, "ok": True, "result": STATE_CONNECTING})
            steps = ["fetching_topology", "selecting_gateways", "connecting_entry", "spending_ticket",
                     "waiting_for_ipr", "configuring_tunnel", "up"]
            evs = [{"event": "state", "state": STATE_CONNECTING}]
            if self.connect_mode == "up":
                evs += [{"event": "progress", "step": s, "message": s.replace("_", " ")} for s in steps]
                evs.append({"event": "warning", "message": "only 4 mixnet-entry tickets left"})
                evs.append({"event": "state", "state": STATE_CONNECTED})
            else:
                evs += [{"event": "progress", "step": "fetching_topology", "message": "fetching the topology"},
                        {"event": "state", "state": STATE_ERROR}]
            threading.Thread(target=self.events, args=(evs,), daemon=True).start()
            return
        if cmd == "disconnect":
            self.send(conn, {"id": rid, "ok": True, "result": dict(STATE_CONNECTED, state="disconnecting",
                                                                    after_disconnect="nothing")})
            threading.Thread(target=self.events, args=([{"event": "state", "state": STATE_DISCONNECTED}],),
                             daemon=True).start()
            return
        self.send(conn, {"id": rid, "ok": True, "result": RESULTS.get(cmd, {})})

    def take(self):
        with self.lock:
            r, self.requests = self.requests, []
            self.listeners = []
        return [json.loads(x) for x in r]


def run(args, env_sock=None, timeout=10, user=None):
    env = dict(os.environ)
    env.pop("NYM_VPND_SOCKET", None)
    if env_sock:
        env["NYM_VPND_SOCKET"] = env_sock
    pre = None
    if user is not None:
        def pre():
            os.setgid(user)
            os.setuid(user)
    p = subprocess.run([VPNC] + args, capture_output=True, text=True, timeout=timeout, env=env, preexec_fn=pre)
    return p.returncode, p.stdout, p.stderr


def main():
    tmp = tempfile.mkdtemp(prefix="vpnc_cli.")
    os.chmod(tmp, 0o755)
    sock = os.path.join(tmp, "vpnd.sock")
    d = FakeDaemon(sock)
    S = ["--socket", sock]

    # ---- help ----
    rc, out, err = run(["--help"])
    check("--help exits 0", rc == 0, err)
    words = re.findall(r"^  ([a-z]+(?: [a-z]+)?)\s{2,}", out.split("commands:")[1].split("global options")[0], re.M)
    check("--help lists the 19 commands", len(words) == 19, str(words))
    for w in words:
        rc, out, err = run(w.split() + ["--help"])
        desc = out.split("\n\n", 1)[1] if "\n\n" in out else ""
        check("%s --help: usage, options, description" % w,
              rc == 0 and out.startswith("usage: nym-vpnc " + w) and "--socket" in out and "--json" in out
              and len(desc.strip()) > 40, out + err)
    for g in ["gateway", "tunnel", "dns", "lan", "credentials", "network"]:
        rc, out, _ = run([g, "--help"])
        check("%s --help lists its commands" % g, rc == 0 and ("%s get" % g in out or "%s list" % g in out), out)
    rc, out, _ = run(["connect", "-h"])
    check("connect -h: -w shown", rc == 0 and "-w, --wait" in out, out)

    # ---- usage errors ----
    rc, out, err = run(["frobnicate"])
    check("unknown command: exit 1 + message + usage", rc == 1 and "unknown command 'frobnicate'" in err
          and "usage:" in err, err)
    rc, out, err = run(["status", "--bogus"] + S)
    check("unknown option: exit 1 + message + usage", rc == 1 and "unknown option --bogus" in err and
          "usage: nym-vpnc status" in err, err)
    rc, out, err = run(["gateway"])
    check("group without command: exit 1", rc == 1 and "needs a command" in err, err)
    rc, _, err = run([])
    check("no command: exit 1 + usage", rc == 1 and "usage:" in err, err)
    rc, _, err = run(["dns", "set"] + S)
    check("dns set without IP: exit 1", rc == 1 and "which servers" in err, err)
    rc, _, err = run(["gateway", "set"] + S)
    check("gateway set without a choice: exit 1", rc == 1 and "nothing to set" in err, err)
    rc, _, err = run(["gateway", "set", "--entry-id", ID_A, "--entry-random"] + S)
    check("gateway set: two entry choices refused", rc == 1 and "only one of" in err, err)
    rc, _, err = run(["tunnel", "set"] + S)
    check("tunnel set without options: exit 1", rc == 1 and "nothing to set" in err, err)
    d.take()

    # ---- local validation (the daemon's checks): nothing is sent ----
    for args, msg in [
        (["gateway", "set", "--entry-country", "DEU"], "--entry-country must be a two-letter ISO 3166"),
        (["gateway", "set", "--exit-id", "abc"], "--exit-id must be a base58 key of 32 bytes"),
        (["gateway", "list", "vpn"], "type must be mixnet-entry, mixnet-exit or wg"),
        (["tunnel", "set", "--message-sending-delay", "51"], "--message-sending-delay must be an integer from 5 to 50"),
        (["tunnel", "set", "--average-packet-delay", "201"], "from 0 to 200"),
        (["tunnel", "set", "--ipv6", "maybe"], "--ipv6 expects on or off"),
        (["dns", "set", "1.1.1.1", "not-an-ip"], "must be an IPv4 or IPv6 address"),
        (["lan", "set", "open"], "lan must be allow or block"),
        (["network", "set", "../etc"], "network must be 1 to 32 characters"),
        (["credentials", "obtain", "--authority", "ftp://x", "--voucher", "abc"], "http:// or https://"),
        (["credentials", "obtain", "--authority", "http://a", "--voucher", "a-b"], "vouchers[0] must be 1 to 64"),
        (["credentials", "obtain", "--authority", "http://a", "--voucher", "a", "--type", "x"], "types[0] must be"),
    ]:
        rc, out, err = run(args + S)
        check("refused locally: %s" % " ".join(args), rc == 1 and msg in err and not d.take(), err)
    rc, out, err = run(["--json", "gateway", "set", "--entry-country", "1X"] + S)
    j = json.loads(out) if out.strip() else {}
    check("--json local error: one error object", rc == 1 and j.get("error", {}).get("code") == "invalid_argument",
          out)

    # ---- each command's request line and output ----
    cases = [
        (["info"], "info", None),
        (["status"], "status", None),
        (["reconnect"], "reconnect", None),
        (["gateway", "get"], "gateway_get", None),
        (["gateway", "set", "--entry-id", ID_A, "--exit-country", "de"], "gateway_set",
         {"entry": {"kind": "id", "id": ID_A}, "exit": {"kind": "country", "country": "de"}}),
        (["gateway", "set", "--exit-random"], "gateway_set", {"exit": {"kind": "random"}}),
        (["gateway", "list", "mixnet-exit"], "gateway_list", {"type": "mixnet-exit"}),
        (["tunnel", "get"], "tunnel_get", None),
        (["tunnel", "set", "--two-hop", "off", "--ipv6", "on", "--average-packet-delay", "0",
          "--message-sending-delay", "5", "--loop-cover-stream-average-delay", "200",
          "--disable-real-traffic-poisson-rate", "on"], "tunnel_set",
         {"two_hop": False, "ipv6": True, "average_packet_delay_ms": 0, "message_sending_delay_ms": 5,
          "loop_cover_stream_average_delay_ms": 200, "disable_real_traffic_poisson_rate": True}),
        (["tunnel", "set", "--amnezia", "random"], "tunnel_set", {"amnezia": "random"}),
        (["dns", "get"], "dns_get", None),
        (["dns", "set", "9.9.9.9", "2620:fe::fe"], "dns_set", {"servers": ["9.9.9.9", "2620:fe::fe"]}),
        (["dns", "clear"], "dns_clear", None),
        (["lan", "get"], "lan_get", None),
        (["lan", "set", "allow"], "lan_set", {"lan": "allow"}),
        (["credentials", "obtain", "--authority", "http://198.51.100.1:8080", "--voucher", "abc",
          "--voucher", "def", "--authority-key", ID_A], "credentials_obtain",
         {"authority": "http://198.51.100.1:8080", "authority_keys": [ID_A], "vouchers": ["abc", "def"]}),
        (["credentials", "obtain", "--authority", "http://a", "--voucher", "abc", "--type", "wg-exit"],
         "credentials_obtain", {"authority": "http://a", "vouchers": ["abc"], "types": ["wg-exit"]}),
        (["credentials", "list"], "credentials_list", None),
        (["network", "get"], "network_get", None),
        (["network", "set", "qa"], "network_set", {"network": "qa"}),
    ]
    for args, cmd, want_args in cases:
        rc, out, err = run(args + S)
        reqs = d.take()
        r = reqs[0] if len(reqs) == 1 else {}
        check("%s: sends %s" % (" ".join(args), cmd),
              rc == 0 and r.get("cmd") == cmd and r.get("args") == want_args and isinstance(r.get("id"), int)
              and set(r) <= {"id", "cmd", "args"}, "rc %d, %s, %s" % (rc, reqs, err))
        check("%s: text output" % " ".join(args), rc == 0 and out.strip() and not err, out + err)
        # --json before and after the command words
        for pos in ("before", "after"):
            a = ["--json"] + args + S if pos == "before" else args + S + ["--json"]
            rc, out, err = run(a)
            d.take()
            try:
                lines = out.splitlines()
                j = json.loads(out)
            except ValueError:
                lines, j = [], None
            check("%s: --json %s: the result, one line" % (" ".join(args), pos),
                  rc == 0 and len(lines) == 1 and j == RESULTS.get(cmd), out + err)

    # text forms worth a look
    rc, out, _ = run(["gateway", "list", "mixnet-entry"] + S)
    check("gateway list: a table", out.startswith("ID") and "COUNTRY" in out and ID_A in out and "2 gateways" in out, out)
    rc, out, _ = run(["credentials", "list"] + S)
    check("credentials list: a table", "TICKETS LEFT" in out and "mixnet-entry" in out and "49" in out, out)
    rc, out, _ = run(["tunnel", "get"] + S)
    check("tunnel get: settings", "message sending delay:" in out and "20 ms" in out and "ipv6:" in out, out)
    d.take()

    # socket from the environment, and --socket=PATH
    rc, out, err = run(["status"], env_sock=sock)
    check("NYM_VPND_SOCKET is used", rc == 0 and len(d.take()) == 1, err)
    rc, out, err = run(["--socket=" + sock, "status"])
    check("--socket=PATH", rc == 0 and len(d.take()) == 1, err)

    # ---- status of a connected tunnel ----
    RESULTS["status"] = STATE_CONNECTED
    rc, out, _ = run(["status"] + S)
    check("status: 'Connected to <entry> -> <exit> (mixnet), IPv4 .., IPv6 .., since ..'",
          out.startswith("Connected to %s -> %s (mixnet), IPv4 10.0.0.2, IPv6 fc00::2, since 2025-12-03" % (ID_A, ID_B)),
          out)
    RESULTS["status"] = STATE_ERROR
    rc, out, _ = run(["status"] + S)
    check("status of an error: reason and what to do",
          "Error: no_tickets: no mixnet-entry ticket left" in out and "credentials obtain" in out, out)
    RESULTS["status"] = STATE_DISCONNECTED
    d.take()

    # ---- daemon errors ----
    d.error = ("permission_denied", "connect changes the tunnel: root or the group nym-vpn only")
    rc, out, err = run(["connect"] + S)
    check("daemon error: its message, exit 1",
          rc == 1 and "nym-vpnc connect: connect changes the tunnel: root or the group nym-vpn only" in err, err)
    rc, out, err = run(["connect", "--json"] + S)
    check("daemon error --json: {\"error\": {code, message}}",
          rc == 1 and json.loads(out) == {"error": {"code": "permission_denied",
                                                     "message": "connect changes the tunnel: root or the group nym-vpn only"}},
          out)
    d.error = ("internal", "line one\x1b[31m")
    rc, out, err = run(["status"] + S)
    check("daemon error: control characters not echoed", rc == 1 and "\x1b" not in err, repr(err))
    d.error = None
    d.take()

    # ---- connect --wait ----
    t0 = time.time()
    rc, out, err = run(["connect", "--wait"] + S, timeout=15)
    reqs = d.take()
    cmds = [r["cmd"] for r in reqs]
    check("connect --wait: listen before connect", cmds[:2] == ["listen", "connect"] and d.connect_saw_listener, str(cmds))
    check("connect --wait: exit 0 at connected", rc == 0 and "Connected to" in out, out + err)
    check("connect --wait: the 7 steps in order", re.findall(r"^\[(\d)/7\]", out, re.M) == list("1234567"), out)
    check("connect --wait: warnings shown", "warning: only 4 mixnet-entry tickets left" in err, err)
    check("connect --wait: not fooled by the initial disconnected state", "went disconnected" not in err, err)
    check("connect --wait: fast", time.time() - t0 < 5)
    rc, out, err = run(["-w", "connect"] + S)
    check("-w before the command is not a global option", rc == 1, out + err)
    rc, out, err = run(["connect", "-w", "--json"] + S, timeout=15)
    d.take()
    check("connect -w --json: only the final state", rc == 0 and json.loads(out) == STATE_CONNECTED, out + err)
    d.connect_mode = "fail"
    rc, out, err = run(["connect", "--wait"] + S, timeout=15)
    d.take()
    check("connect --wait failing: exit 1, reason and what to do",
          rc == 1 and "the tunnel failed: no_tickets: no mixnet-entry ticket left" in err and
          "what to do: obtain credentials" in err, out + err)
    d.connect_mode = "up"

    # ---- disconnect --wait ----
    rc, out, err = run(["disconnect", "--wait"] + S, timeout=15)
    cmds = [r["cmd"] for r in d.take()]
    check("disconnect --wait: exit 0 at disconnected", rc == 0 and cmds == ["listen", "disconnect"] and
          "Disconnected" in out, str(cmds) + out + err)
    rc, out, err = run(["disconnect"] + S)
    d.take()
    check("disconnect: prints the state", rc == 0 and out.startswith("Disconnecting"), out)

    # ---- status --listen ----
    d.listen_close_after = [{"event": "state", "state": STATE_CONNECTING},
                            {"event": "progress", "step": "spending_ticket", "message": "spending a ticket"},
                            {"event": "warning", "message": "3 tickets left"},
                            {"event": "state", "state": STATE_CONNECTED}]
    rc, out, err = run(["status", "--listen"] + S, timeout=15)
    check("status --listen: events printed as they arrive",
          "spending a ticket" in out and "warning: 3 tickets left" in out and "Connected to" in out and
          out.count("\n") >= 5, out + err)
    check("status --listen: daemon going away ends it with exit 1",
          rc == 1 and "closed the connection" in err, err)
    rc, out, err = run(["status", "-l", "--json"] + S, timeout=15)
    lines = [json.loads(x) for x in out.splitlines()]
    check("status --listen --json: one event object per line, then the error that ended it",
          len(lines) > 2 and lines[0].get("event") == "state" and
          lines[-2] == {"event": "state", "state": STATE_CONNECTED} and
          lines[-1]["error"]["code"] == "unavailable" and any(x.get("event") == "warning" for x in lines), out)
    d.listen_close_after = None
    d.take()

    # ---- daemon absent, permission denied ----
    absent = os.path.join(tmp, "absent.sock")
    rc, out, err = run(["status", "--socket", absent])
    check("daemon absent: what to do",
          rc == 1 and err.strip() == "nym-vpnc: the daemon is not running: start it with `systemctl start nym-vpnd`", err)
    rc, out, err = run(["--json", "status", "--socket", absent])
    check("daemon absent --json", rc == 1 and json.loads(out)["error"]["code"] == "unavailable", out)
    stale = os.path.join(tmp, "stale.sock")
    s2 = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s2.bind(stale)
    s2.close()  # a socket file nobody listens on: ECONNREFUSED
    rc, out, err = run(["info", "--socket", stale])
    check("stale socket: daemon not running", rc == 1 and "the daemon is not running" in err, err)
    os.chmod(sock, 0o600)
    user = 65534 if os.geteuid() == 0 else None
    if user is None:
        os.chmod(sock, 0o000)
    rc, out, err = run(["status", "--socket", sock], user=user)
    check("EACCES: permission denied on SOCKET: what to do",
          rc == 1 and err.strip() == "nym-vpnc: permission denied on %s: run as root or join the group nym-vpn" % sock,
          err)
    os.chmod(sock, 0o666)

    # ---- a daemon that speaks garbage ----
    bad = os.path.join(tmp, "bad.sock")
    bs = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    bs.bind(bad)
    bs.listen(1)

    def garbage():
        c, _ = bs.accept()
        c.recv(1000)
        c.sendall(b"this is not json\n")
        time.sleep(0.5)
        c.close()
    threading.Thread(target=garbage, daemon=True).start()
    rc, out, err = run(["status", "--socket", bad])
    check("garbage from the daemon: a clear error", rc == 1 and "does not understand" in err, err)

    print("%d check(s) failed" % FAILS if FAILS else "all checks passed")
    sys.exit(1 if FAILS else 0)


main()
