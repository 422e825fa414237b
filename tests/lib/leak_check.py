#!/usr/bin/env python3
"""Leaks from a VPN client, judged from a tcpdump capture of its physical interface (pcap,
Ethernet or Linux cooked; the reader is pcap_check.py's).

  leak_check.py PCAP [--mac MAC] [--allow SPEC]... [--lan-allowed --lan-net CIDR...]
                     [--allow-icmpv6 TYPE]... [--outgoing-only] [--label TEXT] [--max-print N]
                     [--need N]
  leak_check.py selftest

Every frame the host sent or received (source or destination MAC = --mac; without --mac every
frame in the capture) must be one of:
  - ARP;
  - NDP (ICMPv6 types 133-137) and any ICMPv6 type given with --allow-icmpv6 (e.g. 143, MLDv2
    reports, where a kill switch lets them out);
  - DHCPv4 (UDP 68 <-> 67) or DHCPv6 (UDP 546 <-> 547);
  - traffic to or from an allowed endpoint, --allow PROTO:ADDR:PORT, repeatable: PROTO is
    tcp, udp or any; ADDR an address or a network in CIDR form, an IPv6 one in brackets
    ([2001:db8::1]:9000); PORT a number or * (any port, and packets without ports). The
    endpoint may be either end: tcp:198.51.100.21:9000 lets through the client's connection to
    the entry gateway's client link in both directions. The tests name the entry gateway's
    client link (TCP 9000 on each of its addresses) and the authority's API (TCP 8080: the
    daemon fetches the topology and gateway details from it while connecting and connected);
  - with --lan-allowed, anything whose source and destination both lie in one of the
    --lan-net networks (the on-link subnets, as the kill switch's "lan allow" admits them).

Anything else is a leak: each is printed (time from the first frame, direction, protocol,
addresses, ports; at most --max-print, 40 by default) with a summary of what was seen.
--outgoing-only judges only frames the host sent (needs --mac). --need N: exit 2 unless at
least N frames of the host were captured (a capture that saw nothing proves nothing).

Exit status 0: no leak; 1: leaks (listed); 2: the capture cannot be read, or --need failed.
"""
import ipaddress
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pcap_check import Bad, ip_layer, link_layer, parse_mac, read_pcap  # noqa: E402

PROTO_NAMES = {1: "icmp", 6: "tcp", 17: "udp", 58: "icmpv6", 132: "sctp", 44: "fragment"}
NDP_TYPES = {133, 134, 135, 136, 137}
DHCP_PORTS = ({67, 68}, {546, 547})


class Endpoint:
    def __init__(self, spec):
        self.spec = spec
        try:
            proto, rest = spec.split(":", 1)
            if rest.startswith("["):
                addr, port = rest[1:].split("]:", 1)
            else:
                addr, port = rest.rsplit(":", 1)
            if proto not in ("tcp", "udp", "any"):
                raise ValueError("protocol %s" % proto)
            self.proto = {"tcp": 6, "udp": 17, "any": None}[proto]
            self.net = ipaddress.ip_network(addr, strict=False)
            self.port = None if port == "*" else int(port)
            if self.port is not None and not 0 < self.port < 65536:
                raise ValueError("port %d" % self.port)
        except ValueError as e:
            raise Bad("--allow %s: expected PROTO:ADDR:PORT (tcp:198.51.100.21:9000, "
                      "tcp:[2001:db8::21]:9000, any:10.0.0.0/8:*): %s" % (spec, e))

    def end_matches(self, addr, port):
        return addr in self.net and (self.port is None or port == self.port)

    def matches(self, proto, src, sport, dst, dport):
        if self.proto is not None and proto != self.proto:
            return False
        return self.end_matches(src, sport) or self.end_matches(dst, dport)


def ports(proto, l4):
    if proto in (6, 17, 132) and len(l4) >= 4:
        return struct.unpack(">HH", l4[:4])
    return None, None


def describe(proto, src, sport, dst, dport, l4):
    name = PROTO_NAMES.get(proto, "proto %d" % proto)
    if proto in (1, 58) and len(l4) >= 2:
        name += " type %d code %d" % (l4[0], l4[1])
    s = "[%s]" % src if src.version == 6 and sport is not None else str(src)
    d = "[%s]" % dst if dst.version == 6 and dport is not None else str(dst)
    if sport is not None:
        s += ":%d" % sport
        d += ":%d" % dport
    if proto == 6 and len(l4) >= 14:
        flags = l4[13]
        name += " " + "".join(c for c, bit in zip("FSRPAU", range(6)) if flags >> bit & 1)
    return "%-26s %s -> %s" % (name, s, d)


def classify(ver, src, dst, proto, l4, allow, icmpv6_ok, lan_nets):
    """The name of the rule that allows the packet, or None for a leak."""
    sport, dport = ports(proto, l4)
    if proto == 58 and l4 and l4[0] in icmpv6_ok:
        return "ndp" if l4[0] in NDP_TYPES else "icmpv6 %d" % l4[0]
    if proto == 17 and sport is not None and any({sport, dport} == p for p in DHCP_PORTS):
        return "dhcp" if ver == 4 else "dhcpv6"
    for e in allow:
        if e.matches(proto, src, sport, dst, dport):
            return e.spec
    for n in lan_nets:
        if src in n and dst in n:
            return "lan %s" % n
    return None


def check(path, mac, allow, lan_nets, icmpv6_ok, outgoing_only, label, max_print, need):
    seen = 0
    counts = {}
    leaks = []
    t0 = None
    for lt, ts, frame, _cut in read_pcap(path):
        if t0 is None:
            t0 = ts
        ll = link_layer(lt, frame, mac)
        if not ll or not ll[2]:
            continue
        et, pkt, _ours = ll
        out = None
        if lt == 1 and mac is not None:
            out = frame[6:12] == mac
        elif lt == 113:
            out = struct.unpack(">H", frame[0:2])[0] == 4
        if outgoing_only and out is False:
            continue
        seen += 1
        way = {True: "out", False: "in ", None: "   "}[out]
        if et == 0x0806:
            counts["arp"] = counts.get("arp", 0) + 1
            continue
        ip = ip_layer(et, pkt)
        if not ip:
            leaks.append(("%8.3fs %s ethertype 0x%04x, %d bytes" % (ts - t0, way, et, len(pkt)),
                          "ethertype 0x%04x" % et))
            continue
        ver, src, dst, proto, l4, _hdr = ip
        src, dst = ipaddress.ip_address(src), ipaddress.ip_address(dst)
        rule = classify(ver, src, dst, proto, l4, allow, icmpv6_ok, lan_nets)
        if rule is not None:
            counts[rule] = counts.get(rule, 0) + 1
            continue
        sport, dport = ports(proto, l4)
        # The other end, for the summary: the destination of what the host sent, the source
        # of what it received.
        peer, pport = (src, sport) if out is False else (dst, dport)
        leaks.append(("%8.3fs %s %s" % (ts - t0, way, describe(proto, src, sport, dst, dport, l4)),
                      "%s %s%s" % (PROTO_NAMES.get(proto, "proto %d" % proto), peer,
                                   "" if pport is None else " port %d" % pport)))
    what = label or path
    print("%s: %d frames of the host%s; allowed: %s" % (
        what, seen, " (outgoing)" if outgoing_only else "",
        ", ".join("%s %d" % kv for kv in sorted(counts.items(), key=lambda kv: -kv[1])) or "none"))
    if seen < need:
        print("%s: only %d frames captured, %d needed: the capture proves nothing" % (what, seen, need))
        return 2
    if leaks:
        print("%s: %d LEAKED packets:" % (what, len(leaks)))
        for line, _peer in leaks[:max_print]:
            print("  LEAK " + line)
        if len(leaks) > max_print:
            print("  ... and %d more" % (len(leaks) - max_print))
        # Whom the leaks went to or came from, most first: the summary a reader needs.
        peers = {}
        for _line, key in leaks:
            peers[key] = peers.get(key, 0) + 1
        print("%s: leaks by peer: %s" % (what, ", ".join(
            "%s (%d)" % kv for kv in sorted(peers.items(), key=lambda kv: -kv[1])[:10])))
        return 1
    print("%s: no leak" % what)
    return 0


# ---- self-test ---------------------------------------------------------------------------

def selftest():
    import tempfile
    me = bytes.fromhex("020000000030")
    gw = bytes.fromhex("020000000001")
    other = bytes.fromhex("020000000099")

    def eth(src, dst, et, payload):
        return dst + src + struct.pack(">H", et) + payload

    def ip4(src, dst, proto, l4):
        return struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 0, 0, 64, proto, 0,
                           ipaddress.ip_address(src).packed, ipaddress.ip_address(dst).packed) + l4

    def ip6(src, dst, nh, l4):
        return struct.pack(">IHBB16s16s", 6 << 28, len(l4), nh, 64,
                           ipaddress.ip_address(src).packed, ipaddress.ip_address(dst).packed) + l4

    def tcp(sport, dport, flags=0x02):
        return struct.pack(">HHIIBBHHH", sport, dport, 1, 0, 5 << 4, flags, 65535, 0, 0)

    def udp(sport, dport, payload=b"x"):
        return struct.pack(">HHHH", sport, dport, 8 + len(payload), 0) + payload

    c4, c6 = "198.51.100.30", "2001:db8:100::30"
    frames = [
        # allowed: the entry link both ways (v4 and v6), the authority, ARP, NDP, DHCP
        eth(me, gw, 0x0800, ip4(c4, "198.51.100.21", 6, tcp(40000, 9000))),
        eth(gw, me, 0x0800, ip4("198.51.100.21", c4, 6, tcp(9000, 40000, 0x12))),
        eth(me, gw, 0x86DD, ip6(c6, "2001:db8:100::21", 6, tcp(40001, 9000))),
        eth(me, gw, 0x0800, ip4(c4, "198.51.100.2", 6, tcp(40002, 8080))),
        eth(me, b"\xff" * 6, 0x0806, b"\x00\x01\x08\x00\x06\x04\x00\x01" + me + bytes(18)),
        eth(me, gw, 0x86DD, ip6("fe80::30", "ff02::2", 58, bytes([133, 0, 0, 0, 0, 0, 0, 0]))),
        eth(me, b"\xff" * 6, 0x0800, ip4("0.0.0.0", "255.255.255.255", 17, udp(68, 67))),
        # flooded past the host (neither MAC is its own): not judged
        eth(other, gw, 0x0800, ip4("198.51.100.99", "1.1.1.1", 17, udp(5353, 53))),
        # leaks: DNS to a public resolver, HTTP to the internet host, ping6, the router,
        # the entry gateway on another port, MLD
        eth(me, gw, 0x0800, ip4(c4, "1.1.1.1", 17, udp(5353, 53))),
        eth(me, gw, 0x0800, ip4(c4, "203.0.113.10", 6, tcp(40003, 80))),
        eth(me, gw, 0x86DD, ip6(c6, "2001:db8:113::10", 58, bytes([128, 0, 0, 0, 0, 1, 0, 1]))),
        eth(me, gw, 0x0800, ip4(c4, "198.51.100.1", 1, bytes([8, 0, 0, 0, 0, 1, 0, 1]))),
        eth(me, gw, 0x0800, ip4(c4, "198.51.100.21", 6, tcp(40004, 9001))),
        eth(me, gw, 0x86DD, ip6("fe80::30", "ff02::16", 58, bytes([143, 0, 0, 0, 0, 0, 0, 0]))),
    ]
    fd, p = tempfile.mkstemp(suffix=".pcap")
    with os.fdopen(fd, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        for i, fr in enumerate(frames):
            f.write(struct.pack("<IIII", 1000 + i, 0, len(fr), len(fr)) + fr)
    base = [Endpoint("tcp:198.51.100.21:9000"), Endpoint("tcp:[2001:db8:100::21]:9000"),
            Endpoint("tcp:198.51.100.2:8080")]
    lan = [ipaddress.ip_network("198.51.100.0/24"), ipaddress.ip_network("2001:db8:100::/64")]
    quiet = open(os.devnull, "w")
    real = sys.stdout
    try:
        sys.stdout = quiet
        r_all = check(p, me, base, [], NDP_TYPES, False, None, 40, 0)
        # Without the authority allowed, its connection is a leak too.
        r_noauth = check(p, me, base[:2], [], NDP_TYPES, False, None, 40, 0)
        # LAN allowed: the router and the entry's other port pass; the rest still leaks.
        r_lan = check(p, me, base, lan, NDP_TYPES | {143}, False, None, 40, 0)
        # Only the allowed packets: clean.
        fd2, p2 = tempfile.mkstemp(suffix=".pcap")
        with os.fdopen(fd2, "wb") as f:
            f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
            for fr in frames[:8]:
                f.write(struct.pack("<IIII", 0, 0, len(fr), len(fr)) + fr)
        r_clean = check(p2, me, base, [], NDP_TYPES, False, None, 40, 0)
        r_need = check(p2, me, base, [], NDP_TYPES, False, None, 40, 100)
        r_empty_mac = check(p2, bytes(6), base, [], NDP_TYPES, False, None, 40, 1)
    finally:
        sys.stdout = real
        quiet.close()
        os.unlink(p)
        os.unlink(p2)
    assert r_all == 1, "leaks not found"
    assert r_noauth == 1
    assert r_lan == 1, "LAN allowed must not admit off-link leaks"
    assert r_clean == 0, "allowed traffic reported as a leak"
    assert r_need == 2 and r_empty_mac == 2
    # The exact leak count of each run.
    assert count_leaks(frames, me, base, [], NDP_TYPES) == 6
    assert count_leaks(frames, me, base[:2], [], NDP_TYPES) == 7
    assert count_leaks(frames, me, base, lan, NDP_TYPES | {143}) == 3
    try:
        Endpoint("tcp:nonsense")
        raise AssertionError("a bad --allow was accepted")
    except Bad:
        pass
    print("selftest: ok")
    return 0


def count_leaks(frames, mac, allow, lan, icmpv6_ok):
    n = 0
    for fr in frames:
        ll = link_layer(1, fr, mac)
        if not ll or not ll[2] or ll[0] == 0x0806:
            continue
        ip = ip_layer(ll[0], ll[1])
        ver, src, dst, proto, l4, _ = ip
        if classify(ver, ipaddress.ip_address(src), ipaddress.ip_address(dst), proto, l4, allow,
                    icmpv6_ok, lan) is None:
            n += 1
    return n


def main(argv):
    if argv[:1] == ["selftest"]:
        return selftest()
    if not argv or argv[0].startswith("-"):
        sys.stderr.write(__doc__)
        return 2
    path = argv[0]
    mac, allow, lan_nets, lan_allowed = None, [], [], False
    icmpv6_ok = set(NDP_TYPES)
    outgoing_only, label, max_print, need = False, None, 40, 0
    i = 1
    try:
        while i < len(argv):
            a = argv[i]
            if a == "--lan-allowed":
                lan_allowed = True
                i += 1
                continue
            if a == "--outgoing-only":
                outgoing_only = True
                i += 1
                continue
            if i + 1 >= len(argv):
                sys.stderr.write("%s needs a value\n" % a)
                return 2
            v = argv[i + 1]
            if a == "--mac":
                mac = parse_mac(v)
            elif a == "--allow":
                allow.append(Endpoint(v))
            elif a == "--lan-net":
                lan_nets.append(ipaddress.ip_network(v, strict=False))
            elif a == "--allow-icmpv6":
                icmpv6_ok.add(int(v))
            elif a == "--label":
                label = v
            elif a == "--max-print":
                max_print = int(v)
            elif a == "--need":
                need = int(v)
            else:
                sys.stderr.write("unknown option %s\n%s" % (a, __doc__))
                return 2
            i += 2
        if lan_allowed and not lan_nets:
            raise Bad("--lan-allowed needs the on-link networks (--lan-net CIDR)")
        if outgoing_only and mac is None:
            raise Bad("--outgoing-only needs --mac")
        return check(path, mac, allow, lan_nets if lan_allowed else [], icmpv6_ok, outgoing_only,
                     label, max_print, need)
    except (Bad, ValueError, OSError) as e:
        print("leak_check: %s" % e)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
