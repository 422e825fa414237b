#!/usr/bin/env python3
"""AmneziaWG 1.0 wire checks on a tcpdump capture, written from the spec (wireguard.md §1.1)
with nothing but the standard library, independent of lib/awg.

  awg_check.py PCAP --port P --params "jc=..,jmin=..,jmax=..,s1=..,s2=..,h1=..,h2=..,h3=..,h4=.."
               [--no-plain] [--min-init N] [--exclude-port Q]

The UDP datagrams to and from port P (IPv4 or IPv6, Ethernet or Linux cooked capture) are
read in capture order, per direction:
  - an initiation is 148 + S1 bytes with H1 (LE u32) at offset S1;
  - a response is 92 + S2 bytes with H2 at offset S2; a cookie 64 bytes with H3 at offset 0;
  - a transport message has H4 at offset 0 and at least 32 bytes;
  - anything else is junk: its size must lie in [Jmin, Jmax) (Jmax + 1 when Jmin == Jmax),
    and it must be one of exactly Jc junk datagrams immediately before an initiation in the
    same direction;
  - every initiation is preceded by exactly Jc junk datagrams;
  - at least --min-init initiations (default 1), one response and transport both ways;
  - --no-plain: no datagram a plain WireGuard parser recognises by its type field (1..4
    followed by three zero bytes, with that type's size).
(H values <= 4 stand for the defaults 1..4.)
Exit 0: holds (a summary on stdout); 1: does not (the faults listed); 2: unreadable/empty.
"""
import argparse
import struct
import sys


def read_pcap(path):
    data = open(path, "rb").read()
    if len(data) < 24:
        raise ValueError("short pcap")
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        end = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        end = ">"
    else:
        raise ValueError("not a pcap file")
    linktype = struct.unpack(end + "I", data[20:24])[0]
    off = 24
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack(end + "IIII", data[off:off + 16])
        off += 16
        yield linktype, data[off:off + incl]
        off += incl


def udp_of(linktype, frame):
    if linktype == 1:  # Ethernet
        if len(frame) < 14:
            return None
        etype = struct.unpack("!H", frame[12:14])[0]
        p = 14
        if etype == 0x8100:
            etype = struct.unpack("!H", frame[16:18])[0]
            p = 18
    elif linktype == 113:  # Linux cooked
        if len(frame) < 16:
            return None
        etype = struct.unpack("!H", frame[14:16])[0]
        p = 16
    elif linktype == 276:  # Linux cooked v2
        if len(frame) < 20:
            return None
        etype = struct.unpack("!H", frame[0:2])[0]
        p = 20
    else:
        return None
    ip = frame[p:]
    if etype == 0x0800 and len(ip) >= 20:
        ihl = (ip[0] & 15) * 4
        if ip[9] != 17:
            return None
        frag = struct.unpack("!H", ip[6:8])[0]
        if frag & 0x1FFF or frag & 0x2000:
            return None  # fragments are not looked at
        udp = ip[ihl:]
    elif etype == 0x86DD and len(ip) >= 40:
        if ip[6] != 17:
            return None
        udp = ip[40:]
    else:
        return None
    if len(udp) < 8:
        return None
    sport, dport, ulen = struct.unpack("!HHH", udp[:6])
    return sport, dport, udp[8:ulen]


def parse_params(text):
    keys = ["jc", "jmin", "jmax", "s1", "s2", "h1", "h2", "h3", "h4"]
    p = dict.fromkeys(keys, 0)
    for item in text.split(","):
        k, v = item.split("=")
        if k not in p:
            raise ValueError("unknown key " + k)
        p[k] = int(v)
    for i, k in enumerate(["h1", "h2", "h3", "h4"]):
        if p[k] <= 4:
            p[k] = i + 1
    return p


def le32(b, off):
    return struct.unpack("<I", b[off:off + 4])[0]


def kind_of(p, d):
    n = len(d)
    if n == 148 + p["s1"] and le32(d, p["s1"]) == p["h1"]:
        return "init"
    if n == 92 + p["s2"] and le32(d, p["s2"]) == p["h2"]:
        return "resp"
    if n == 64 and le32(d, 0) == p["h3"]:
        return "cookie"
    if n >= 32 and le32(d, 0) == p["h4"]:
        return "transport"
    return "junk"


def plain_wg(d):
    if len(d) < 4 or d[1:4] != b"\0\0\0":
        return False
    t = d[0]
    return (t == 1 and len(d) == 148) or (t == 2 and len(d) == 92) or (t == 3 and len(d) == 64) or \
        (t == 4 and len(d) >= 32)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("pcap")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--params", required=True)
    ap.add_argument("--no-plain", action="store_true")
    ap.add_argument("--min-init", type=int, default=1)
    ap.add_argument("--exclude-port", type=int, default=-1, help="leave out the flow of this other port")
    a = ap.parse_args()
    p = parse_params(a.params)
    jlo, jhi = p["jmin"], p["jmax"]
    if jhi <= jlo:
        jhi = jlo + 1
    try:
        frames = list(read_pcap(a.pcap))
    except (OSError, ValueError) as e:
        print("cannot read %s: %s" % (a.pcap, e))
        return 2
    seq = {"up": [], "down": []}
    for lt, f in frames:
        u = udp_of(lt, f)
        if not u:
            continue
        sport, dport, d = u
        if a.exclude_port in (sport, dport):
            continue
        if dport == a.port:
            seq["up"].append(d)
        elif sport == a.port:
            seq["down"].append(d)
    if not seq["up"] and not seq["down"]:
        print("no datagram to or from port %d" % a.port)
        return 2
    faults = []
    counts = {}
    for direction, ds in seq.items():
        run = []  # junk seen since the last message
        for i, d in enumerate(ds):
            k = kind_of(p, d)
            counts[(direction, k)] = counts.get((direction, k), 0) + 1
            if a.no_plain and plain_wg(d):
                faults.append("%s #%d: a plain WireGuard parser recognises it (type %d, %d B)" %
                              (direction, i, d[0], len(d)))
            if k == "junk":
                if not (jlo <= len(d) < jhi):
                    faults.append("%s #%d: %d B classifies as nothing and is no junk size [%d, %d)" %
                                  (direction, i, len(d), jlo, jhi))
                run.append(i)
                continue
            if k == "init":
                if len(run) != p["jc"]:
                    faults.append("%s #%d: initiation after %d junk datagrams, not Jc = %d" %
                                  (direction, i, len(run), p["jc"]))
            elif run:
                faults.append("%s #%d: %d junk datagram(s) before a %s, not before an initiation" %
                              (direction, i, len(run), k))
            run = []
        if run:
            faults.append("%s: %d junk datagram(s) at the end, before no initiation" % (direction, len(run)))
    inits = counts.get(("up", "init"), 0) + counts.get(("down", "init"), 0)
    resps = counts.get(("up", "resp"), 0) + counts.get(("down", "resp"), 0)
    if inits < a.min_init:
        faults.append("%d initiation(s), want at least %d" % (inits, a.min_init))
    if resps < 1:
        faults.append("no handshake response")
    for direction in ("up", "down"):
        if not counts.get((direction, "transport")):
            faults.append("no transport message %s" % direction)
    summary = ", ".join("%s %s %d" % (dr, k, n) for (dr, k), n in sorted(counts.items()))
    if faults:
        print("\n".join(faults[:20]))
        print("seen: " + summary)
        return 1
    print("ok: " + summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
