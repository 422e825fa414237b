"""Checks on WireGuard devices for the wg tests: what `nym-node debug wg-show --secrets`
prints against the JSON configuration written and against `wg show IF dump`.

  wg_check.py written SHOW.json CONF.json      the device holds exactly what CONF set
  wg_check.py dump SHOW.json DUMP.txt           wg(8) sees the same device
  wg_check.py both SHOW.json CONF.json DUMP.txt  both of the above (exit status: 1 written,
                                                 2 dump, 3 both)
  wg_check.py traffic SHOW.json                 every peer has a handshake and rx/tx > 0
Prints one line per problem and exits non-zero when there is one."""
import json
import subprocess
import sys


def load(path):
    with open(path) as f:
        return json.load(f)


def pubkey(private_b64):
    return subprocess.run(["wg", "pubkey"], input=private_b64 + "\n", capture_output=True,
                          text=True, check=True).stdout.strip()


def written(show, conf):
    bad = []
    if "private_key" in conf:
        if show.get("private_key") != conf["private_key"]:
            bad.append("private key differs")
        if show.get("public_key") != pubkey(conf["private_key"]):
            bad.append("public key is not the private key's")
    for k in ("listen_port", "fwmark"):
        if k in conf and show.get(k) != conf[k]:
            bad.append(f"{k}: {show.get(k)} != {conf[k]}")
    peers = {p["public_key"]: p for p in show.get("peers", [])}
    want = [p for p in conf.get("peers", []) if not p.get("remove")]
    if sorted(peers) != sorted(p["public_key"] for p in want):
        bad.append(f"peers {sorted(peers)} != {sorted(p['public_key'] for p in want)}")
    for w in want:
        g = peers.get(w["public_key"])
        if not g:
            continue
        if sorted(g["allowed_ips"]) != sorted(w.get("allowed_ips", [])):
            bad.append(f"allowed IPs {g['allowed_ips']} != {w.get('allowed_ips', [])}")
        if "endpoint" in w and g.get("endpoint") != w["endpoint"]:
            bad.append(f"endpoint {g.get('endpoint')} != {w['endpoint']}")
        if g.get("persistent_keepalive") != w.get("persistent_keepalive", 0):
            bad.append(f"keepalive {g.get('persistent_keepalive')} != {w.get('persistent_keepalive', 0)}")
        if g.get("preshared_key") != w.get("preshared_key"):
            bad.append("preshared key differs")
    return bad


def dump(show, text):
    lines = [l.split("\t") for l in text.strip().split("\n")]
    bad = []
    dev = lines[0]
    fw = 0 if dev[3] == "off" else int(dev[3], 16)
    if dev[0] != show.get("private_key", "(none)") or dev[1] != show.get("public_key", "(none)"):
        bad.append("device keys differ from wg show")
    if int(dev[2]) != show["listen_port"] or fw != show["fwmark"]:
        bad.append(f"port/fwmark {dev[2]}/{dev[3]} != {show['listen_port']}/{show['fwmark']}")
    peers = {p["public_key"]: p for p in show["peers"]}
    if len(lines) - 1 != len(peers):
        bad.append(f"{len(lines) - 1} peers in wg show, {len(peers)} here")
    for l in lines[1:]:
        p = peers.get(l[0])
        if not p:
            bad.append(f"peer {l[0]} only in wg show")
            continue
        ips = [] if l[3] == "(none)" else l[3].split(",")
        got = [l[1], l[2], sorted(ips), int(l[4]), int(l[5]), int(l[6]), 0 if l[7] == "off" else int(l[7])]
        mine = [p.get("preshared_key", "(none)"), p.get("endpoint", "(none)"), sorted(p["allowed_ips"]),
                p["last_handshake_sec"], p["rx_bytes"], p["tx_bytes"], p["persistent_keepalive"]]
        if got != mine:
            bad.append(f"peer {l[0]}: wg show {got} != {mine}")
    return bad


def traffic(show):
    bad = []
    for p in show["peers"]:
        if p["last_handshake_sec"] <= 0 or p["rx_bytes"] <= 0 or p["tx_bytes"] <= 0:
            bad.append(f"peer {p['public_key']}: handshake {p['last_handshake_sec']}, "
                       f"rx {p['rx_bytes']}, tx {p['tx_bytes']}")
    if not show["peers"]:
        bad.append("no peers")
    return bad


def main():
    cmd = sys.argv[1]
    show = load(sys.argv[2])
    if cmd == "both":
        with open(sys.argv[4]) as f:
            d = dump(show, f.read())
        w = written(show, load(sys.argv[3]))
        for b in w:
            print("written: " + b)
        for b in d:
            print("dump: " + b)
        sys.exit((1 if w else 0) | (2 if d else 0))
    if cmd == "written":
        bad = written(show, load(sys.argv[3]))
    elif cmd == "dump":
        with open(sys.argv[3]) as f:
            bad = dump(show, f.read())
    else:
        bad = traffic(show)
    for b in bad:
        print(b)
    sys.exit(1 if bad else 0)


main()
