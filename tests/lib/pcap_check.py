#!/usr/bin/env python3
"""What a passive observer of a gateway's interface sees, checked from a tcpdump capture
(pcap, Ethernet or Linux cooked), with nothing but the standard library.

  pcap_check.py addrs PCAP --mac MAC --forbid CIDR [--forbid CIDR ...]
      No IP header the host sent or received (frames from or to MAC; an ICMP error's quoted
      header included) carries an address in a forbidden network.

  pcap_check.py sizes PCAP --mac MAC [--link-port 9000] [--mix-port 1789] [--need link,mix]
      Every record on the client link and on the node links is of a fixed size class (below).

  pcap_check.py selftest

Exit status 0: the property holds (a summary on stdout); 1: it does not (the offending
packets or records listed); 2: the capture cannot be read or holds nothing to check.

Why records and not TCP segments. TCP cuts a stream wherever the MSS, GSO (a capture on a
veth shows super-segments of up to 64 KiB), Nagle and the socket's timing put the cut, so a
segment's size says nothing about the application and varies from run to run. What an
observer does learn is the record structure the application wrote: both transports here are
Noise (PROTOCOLS.md 3.2), whose 8-byte frame header carries the record length in clear, and
a node link without Noise shows the mix frames themselves (2.2). So the streams are
reassembled by sequence number and cut into those records, and the rule is about records:

- Node links (mix port): a Noise handshake record has a 48- or 64-byte body; a Noise data
  record's plaintext (body - 16-byte tag) is whole v8 mix frames, i.e. 2417 a + 390 b bytes
  (regular 2413 + 4, ack 386 + 4; the mix egress seals only whole frames, several per
  record). 2417 and 390 are coprime and 390 x 2417 exceeds a record, so a, b are unique: the
  observer learns how many packets of each class went by and nothing else. Without Noise
  each record is one v8 frame and its size tag fixes its length.
- The client link (link port): every Noise data record holds exactly one link frame
  (PROTOCOLS.md 8; both the client and the gateway seal frame by frame), so the plaintext
  length is 4 + the frame's body. A record that can carry mixnet data must be a SEND of whole
  entries (5 + 2433 n regular, 5 + 406 n ack: class byte, then n x (20 + packet)), a
  RECEIVE of whole items (5 + 2029 n regular, 5 + 21 n ack), or a ticket (4 + 329, 457 or
  585). Everything else is a control frame of at most 206 bytes (HELLO 6, VERSION 5, AUTH
  108, AUTH_OK/BANDWIDTH/LOW_BALANCE 12, ERROR 6..206, CLOSE 4), which carries no packet.
  The direction decides which of SEND (to the gateway) and RECEIVE (from it) is allowed.

A stream whose start was captured is parsed from its first byte; one that was already open
(node links are long-lived) is synchronised on the first offset from which valid headers
chain to the end of the captured bytes, and so is each piece after a hole in the capture.
"""
import ipaddress
import struct
import sys

NOISE_HDR = 8
NOISE_TAG = 16
MIX_FRAME_HDR = 4
# Sphinx classes of PROTOCOLS.md 2.1: tag -> packet bytes.
SPHINX_PACKET = {1: 2413, 2: 386, 3: 33133, 4: 8557, 5: 16749}
OUTFOX_PACKET = {6: 2377, 7: 377}
REGULAR_FRAME = 4 + 2413
ACK_FRAME = 4 + 386
# Client link (PROTOCOLS.md 8.3): entry and item sizes per class used here.
SEND_ENTRY = {"regular": 20 + 2413, "ack": 20 + 386}
RECEIVE_ITEM = {"regular": 2029, "ack": 21}  # plaintext after the first hop (8.6); a whole ack
CONTROL_MAX = 4 + 202
TICKETS = {4 + 329, 4 + 457, 4 + 585}
LINK_MAX_BODY = 65535


class Bad(Exception):
    pass


# ---- pcap --------------------------------------------------------------------------------

def read_pcap(path):
    """Yields (linktype, ts, frame bytes, truncated)."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        raise Bad("%s: not a pcap file (%d bytes)" % (path, len(data)))
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        raise Bad("%s: not a pcap file (magic %s; pcapng is not read)" % (path, magic.hex()))
    nano = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    linktype = struct.unpack(e + "I", data[20:24])[0] & 0x0FFFFFFF
    off = 24
    while off + 16 <= len(data):
        sec, frac, incl, orig = struct.unpack(e + "IIII", data[off:off + 16])
        off += 16
        frame = data[off:off + incl]
        off += incl
        if len(frame) < incl:
            break  # the capture was cut in the middle of a record
        yield linktype, sec + frac / (1e9 if nano else 1e6), frame, incl < orig


def link_layer(linktype, frame, mac):
    """(ethertype, network payload, ours) where ours tells whether the host sent or received
    the frame as addressed to it (not a frame flooded past it)."""
    if linktype == 1:  # Ethernet
        if len(frame) < 14:
            return None
        dst, src = frame[0:6], frame[6:12]
        et = struct.unpack(">H", frame[12:14])[0]
        off = 14
        while et in (0x8100, 0x88A8) and len(frame) >= off + 4:
            et = struct.unpack(">H", frame[off + 2:off + 4])[0]
            off += 4
        ours = mac is None or src == mac or dst == mac
        return et, frame[off:], ours
    if linktype == 113:  # Linux cooked v1
        if len(frame) < 16:
            return None
        ptype = struct.unpack(">H", frame[0:2])[0]
        et = struct.unpack(">H", frame[14:16])[0]
        return et, frame[16:], ptype in (0, 4)  # to us, or outgoing
    if linktype == 276:  # Linux cooked v2
        if len(frame) < 20:
            return None
        et = struct.unpack(">H", frame[0:2])[0]
        ptype = frame[10]
        return et, frame[20:], ptype in (0, 4)
    raise Bad("link type %d is not read (capture on one interface, Ethernet)" % linktype)


def ip_layer(et, pkt):
    """(version, src, dst, proto, l4 bytes, header bytes) or None."""
    if et == 0x0800 and len(pkt) >= 20 and pkt[0] >> 4 == 4:
        ihl = (pkt[0] & 15) * 4
        total = struct.unpack(">H", pkt[2:4])[0]
        frag = struct.unpack(">H", pkt[6:8])[0]
        body = pkt[ihl:min(total, len(pkt))] if total >= ihl else b""
        if frag & 0x1FFF:
            body = b""  # a later fragment: no transport header
        return 4, pkt[12:16], pkt[16:20], pkt[9], body, pkt[:ihl]
    if et == 0x86DD and len(pkt) >= 40 and pkt[0] >> 4 == 6:
        plen = struct.unpack(">H", pkt[4:6])[0]
        nh = pkt[6]
        body = pkt[40:40 + plen]
        while nh in (0, 43, 60, 44) and len(body) >= 8:
            if nh == 44:
                if struct.unpack(">H", body[2:4])[0] & 0xFFF8:
                    return 6, pkt[8:24], pkt[24:40], 44, b"", pkt[:40]
                nh, body = body[0], body[8:]
            else:
                nh, body = body[0], body[(body[1] + 1) * 8:]
        return 6, pkt[8:24], pkt[24:40], nh, body, pkt[:40]
    return None


def quoted_header(ver, proto, l4):
    """The IP header an ICMP/ICMPv6 error quotes, as (src, dst), or None."""
    if ver == 4 and proto == 1 and len(l4) >= 8 + 20 and l4[0] in (3, 4, 5, 11, 12):
        inner = l4[8:]
        if inner[0] >> 4 == 4:
            return inner[12:16], inner[16:20]
    if ver == 6 and proto == 58 and len(l4) >= 8 + 40 and l4[0] < 128:
        inner = l4[8:]
        if inner[0] >> 4 == 6:
            return inner[8:24], inner[24:40]
    return None


def parse_mac(s):
    if s is None:
        return None
    b = bytes(int(x, 16) for x in s.split(":"))
    if len(b) != 6:
        raise Bad("bad MAC address %s" % s)
    return b


# ---- addresses ---------------------------------------------------------------------------

def check_addrs(path, mac, forbid):
    nets = [ipaddress.ip_network(n, strict=False) for n in forbid]
    seen = bad = 0
    peers = {}
    out = []
    for lt, _ts, frame, _cut in read_pcap(path):
        ll = link_layer(lt, frame, mac)
        if not ll or not ll[2]:
            continue
        ip = ip_layer(ll[0], ll[1])
        if not ip:
            continue
        ver, src, dst, proto, l4, _hdr = ip
        seen += 1
        addrs = [ipaddress.ip_address(src), ipaddress.ip_address(dst)]
        q = quoted_header(ver, proto, l4)
        if q:
            addrs += [ipaddress.ip_address(q[0]), ipaddress.ip_address(q[1])]
        for a in addrs[:2]:
            peers[str(a)] = peers.get(str(a), 0) + 1
        hit = [str(a) for a in addrs if any(a in n for n in nets)]
        if hit:
            bad += 1
            if len(out) < 10:
                out.append("  %s -> %s proto %d carries %s" % (addrs[0], addrs[1], proto, ", ".join(hit)))
    if seen == 0:
        print("%s: no IP packet to or from %s" % (path, mac.hex(":") if mac else "the host"))
        return 2
    top = sorted(peers.items(), key=lambda kv: -kv[1])[:8]
    print("%s: %d IP packets sent or received; addresses seen: %s" %
          (path, seen, ", ".join("%s (%d)" % kv for kv in top)))
    if bad:
        print("%d packets carry a forbidden address (%s):" % (bad, ", ".join(forbid)))
        print("\n".join(out))
        return 1
    print("none carries an address in %s" % ", ".join(forbid))
    return 0


# ---- TCP reassembly ----------------------------------------------------------------------

class Direction:
    def __init__(self):
        self.base = None
        self.syn = False
        self.segs = {}

    def add(self, seq, flags, payload):
        if flags & 0x02:  # SYN
            self.base = (seq + 1) & 0xFFFFFFFF
            self.syn = True
            return
        if not payload:
            return
        if self.base is None:
            self.base = seq
        rel = (seq - self.base) & 0xFFFFFFFF
        if rel >= 1 << 31:
            return  # before the first byte seen (a retransmission from before the capture)
        if len(payload) > len(self.segs.get(rel, b"")):
            self.segs[rel] = payload

    def pieces(self):
        """Contiguous byte runs [(start, bytes)], holes between them."""
        out = []
        pos = None
        cur = bytearray()
        start = 0
        for rel in sorted(self.segs):
            p = self.segs[rel]
            if pos is None:
                start, pos, cur = rel, rel, bytearray()
            if rel > pos:
                out.append((start, bytes(cur)))
                start, pos, cur = rel, rel, bytearray()
            if rel + len(p) > pos:
                cur += p[pos - rel:]
                pos = rel + len(p)
        if pos is not None:
            out.append((start, bytes(cur)))
        return out


def tcp_streams(path, mac, ports):
    flows = {}
    for lt, _ts, frame, cut in read_pcap(path):
        ll = link_layer(lt, frame, mac)
        if not ll or not ll[2]:
            continue
        ip = ip_layer(ll[0], ll[1])
        if not ip or ip[3] != 6 or len(ip[4]) < 20:
            continue
        l4 = ip[4]
        sport, dport, seq = struct.unpack(">HHI", l4[:8])
        if sport not in ports and dport not in ports:
            continue
        doff = (l4[12] >> 4) * 4
        flags = l4[13]
        key = (ipaddress.ip_address(ip[1]), sport, ipaddress.ip_address(ip[2]), dport)
        d = flows.setdefault(key, Direction())
        payload = l4[doff:]
        if cut:
            payload = b""  # truncated by the snap length: a hole rather than wrong bytes
        d.add(seq, flags, payload)
    return flows


# ---- records -----------------------------------------------------------------------------

def noise_record(buf, off):
    """Length of the Noise record at off, None if the header is invalid, -1 if incomplete."""
    if len(buf) - off < NOISE_HDR:
        h = buf[off:]
        ok = (len(h) < 1 or h[0] == 1) and (len(h) < 2 or h[1] == 1) and (len(h) < 3 or h[2] in (0, 1))
        return -1 if ok else None
    h = buf[off:off + NOISE_HDR]
    if h[0] != 1 or h[1] != 1 or h[2] not in (0, 1) or h[5:8] != b"\0\0\0":
        return None
    n = NOISE_HDR + (h[3] << 8 | h[4])
    return n if off + n <= len(buf) else -1


def mix_record(buf, off):
    if len(buf) - off < MIX_FRAME_HDR:
        return -1
    v, tag, ptype, rot = buf[off:off + 4]
    if v != 8 or ptype != 0 or rot > 2 or tag not in SPHINX_PACKET:
        return None
    n = MIX_FRAME_HDR + SPHINX_PACKET[tag]
    return n if off + n <= len(buf) else -1


def chain(buf, off, rec):
    """Record boundaries from off; (records, complete) where complete tells whether the chain
    reaches the end of buf (a last incomplete record is allowed) without an invalid header."""
    recs = []
    while off < len(buf):
        n = rec(buf, off)
        if n is None:
            return recs, False
        if n == -1:
            return recs, True
        recs.append((off, n))
        off += n
    return recs, True


def synchronise(buf, rec, at_start):
    if at_start:
        recs, ok = chain(buf, 0, rec)
        return (recs, 0) if ok else (None, 0)
    limit = min(len(buf), NOISE_HDR + 65535 + 1)
    for off in range(limit):
        recs, ok = chain(buf, off, rec)
        # A chain of one header could be chance; two or more (or one that ends exactly at
        # the end of the bytes) cannot, in practice (48 fixed header bits each).
        if ok and (len(recs) >= 2 or (recs and off + recs[0][1] == len(buf))):
            return recs, off
    return None, limit


def mix_plaintext_ok(pt):
    for a in range(pt // REGULAR_FRAME + 1):
        rest = pt - a * REGULAR_FRAME
        if rest % ACK_FRAME == 0 and (a or rest):
            return "%dR+%dA" % (a, rest // ACK_FRAME)
    return None


def link_plaintext_ok(pt, to_gateway):
    """What a client-link record of pt plaintext bytes can be (the packet-carrying forms are
    named first; a short one may also be a control frame), or None."""
    if to_gateway:
        if pt in TICKETS:
            return "ticket"
        forms = SEND_ENTRY
    else:
        forms = RECEIVE_ITEM
    for cls, e in forms.items():
        if pt > 5 and (pt - 5) % e == 0:
            return "%s %d %s" % ("SEND" if to_gateway else "RECEIVE", (pt - 5) // e, cls)
    if pt <= CONTROL_MAX:
        return "control"
    return None


def check_sizes(path, mac, link_port, mix_port, need):
    flows = tcp_streams(path, mac, {link_port, mix_port})
    hist = {}
    bad = []
    counts = {"link": 0, "mix": 0}
    unsynced = 0
    plain_flows = set()
    for (src, sport, dst, dport), d in sorted(flows.items(), key=lambda kv: str(kv[0])):
        kind = "link" if link_port in (sport, dport) else "mix"
        name = "%s:%d -> %s:%d" % (src, sport, dst, dport)
        for start, buf in d.pieces():
            at_start = d.syn and start == 0
            if kind == "mix" and at_start and buf[:1] in (b"\x07", b"\x08"):
                rec, noise = mix_record, False
            elif kind == "mix" and not at_start and synchronise(buf, mix_record, False)[0]:
                rec, noise = mix_record, False
            else:
                rec, noise = noise_record, True
            recs, skipped = synchronise(buf, rec, at_start)
            if not noise and recs:
                plain_flows.add(name)
            if recs is None:
                if at_start or len(buf) > 2 * (NOISE_HDR + 65535):
                    bad.append("%s: %d bytes at +%d are not %s records" %
                               (name, len(buf), start, "Noise" if noise else "mix frame"))
                else:
                    unsynced += len(buf)  # too short to find a boundary in: not judged
                continue
            for off, n in recs:
                if not noise:
                    what = "mix frame %d" % (n - MIX_FRAME_HDR)
                elif buf[off + 2] == 0:
                    what = "handshake %d" % (n - NOISE_HDR)
                    if n - NOISE_HDR not in (48, 64):
                        bad.append("%s: a Noise handshake record of %d bytes" % (name, n - NOISE_HDR))
                        continue
                else:
                    pt = n - NOISE_HDR - NOISE_TAG
                    if kind == "mix":
                        what = mix_plaintext_ok(pt)
                    else:
                        what = link_plaintext_ok(pt, dport == link_port)
                    if what is None:
                        bad.append("%s: a Noise record with %d bytes of plaintext at stream offset %d" %
                                   (name, pt, start + off))
                        continue
                counts[kind] += 1
                k = (kind, "to gateway" if kind == "link" and dport == link_port else
                     "from gateway" if kind == "link" else "node link", what)
                hist[k] = hist.get(k, 0) + 1
    total = sum(counts.values())
    print("%s: %d client-link records, %d node-link records checked%s" %
          (path, counts["link"], counts["mix"],
           ", %d bytes in pieces too short to synchronise on" % unsynced if unsynced else ""))
    for k, v in sorted(hist.items(), key=lambda kv: -kv[1])[:16]:
        print("  %-5s %-12s %-22s x %d" % (k[0], k[1], k[2], v))
    if plain_flows:
        print("  node links without Noise (plain mix frames): %s" % ", ".join(sorted(plain_flows)[:6]))
    if bad:
        print("%d records outside the size classes:" % len(bad))
        print("\n".join("  " + b for b in bad[:12]))
        return 1
    missing = [k for k in need if counts.get(k, 0) == 0]
    if missing or total == 0:
        print("nothing to check on: %s" % ", ".join(missing or ["any port"]))
        return 2
    return 0


# ---- self-test ---------------------------------------------------------------------------

def selftest():
    import os
    import random
    import tempfile
    rnd = random.Random(7)
    mac_a = bytes.fromhex("020000000001")
    mac_b = bytes.fromhex("020000000002")
    mac_c = bytes.fromhex("020000000003")

    def noise(pt_len, hs=None):
        body = hs if hs is not None else pt_len + NOISE_TAG
        return bytes([1, 1, 0 if hs is not None else 1, body >> 8, body & 255, 0, 0, 0]) + rnd.randbytes(body)

    def tcp4(src, dst, sport, dport, seq, payload, flags=0x18, smac=mac_a, dmac=mac_b):
        tcp = struct.pack(">HHIIBBHHH", sport, dport, seq, 0, 5 << 4, flags, 65535, 0, 0) + payload
        ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0, 64, 6, 0,
                         ipaddress.ip_address(src).packed, ipaddress.ip_address(dst).packed)
        return dmac + smac + b"\x08\x00" + ip + tcp

    def write(frames):
        fd, p = tempfile.mkstemp(suffix=".pcap")
        with os.fdopen(fd, "wb") as f:
            f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
            for fr in frames:
                f.write(struct.pack("<IIII", 0, 0, len(fr), len(fr)) + fr)
        return p

    def segments(stream, src, dst, sport, dport, seq, mss=1448, start_syn=True, drop=None):
        out = []
        if start_syn:
            out.append(tcp4(src, dst, sport, dport, seq - 1, b"", flags=0x02))
        for i in range(0, len(stream), mss):
            if drop is not None and i // mss == drop:
                continue
            out.append(tcp4(src, dst, sport, dport, (seq + i) & 0xFFFFFFFF, stream[i:i + mss]))
        return out

    c, g, m = "198.51.100.30", "198.51.100.21", "198.51.100.11"
    up = noise(0, 48) + noise(0, 64) + noise(6) + noise(108) + noise(333) + b"".join(
        noise(5 + 2433 * n) for n in (1, 3, 26, 2))
    down = noise(0, 48) + noise(5) + noise(12) + noise(12) + b"".join(noise(5 + 2029 * n) for n in (1, 32, 4)) + \
        noise(5 + 21 * 3)
    # A node link already open when the capture began: it starts in the middle of a record.
    node = b"".join(noise(REGULAR_FRAME * a + ACK_FRAME * b) for a, b in ((1, 0), (3, 2), (0, 5), (27, 0)))
    frames = segments(up, c, g, 40000, 9000, 1000) + segments(down, g, c, 9000, 40000, 0xFFFFFF00) + \
        segments(node[3000:], g, m, 50000, 1789, 77, start_syn=False)
    p = write(frames)
    try:
        assert check_sizes(p, mac_a, 9000, 1789, ["link", "mix"]) == 0, "good streams refused"
        assert check_addrs(p, mac_a, ["203.0.113.0/24"]) == 0
        assert check_addrs(p, mac_a, ["198.51.100.30/32"]) == 1
        # Frames flooded past the host (neither from nor to its MAC) are not its traffic.
        assert check_addrs(p, mac_c, ["198.51.100.30/32"]) == 2
    finally:
        os.unlink(p)
    # A record of a size no class has (a 1000-byte message in the clear would show so).
    for stream, port in ((up + noise(1000), 9000), (node[5000:] + noise(REGULAR_FRAME + 100), 1789)):
        p = write(segments(stream, c, g, 40001, port, 5, start_syn=(port == 9000)))
        try:
            assert check_sizes(p, mac_a, 9000, 1789, []) == 1, "odd record accepted on %d" % port
        finally:
            os.unlink(p)
    # A hole in the capture: the piece after it is synchronised again, and still checked.
    p = write(segments(up, c, g, 40002, 9000, 9, drop=2))
    try:
        assert check_sizes(p, mac_a, 9000, 1789, ["link"]) == 0, "resynchronisation failed"
    finally:
        os.unlink(p)
    print("selftest: ok")
    return 0


def main(argv):
    if len(argv) >= 1 and argv[0] == "selftest":
        return selftest()
    if len(argv) < 2 or argv[0] not in ("addrs", "sizes"):
        sys.stderr.write(__doc__)
        return 2
    cmd, path = argv[0], argv[1]
    mac, forbid, link_port, mix_port, need = None, [], 9000, 1789, []
    i = 2
    while i < len(argv):
        a = argv[i]
        v = argv[i + 1] if i + 1 < len(argv) else None
        if v is None:
            sys.stderr.write("%s needs a value\n" % a)
            return 2
        if a == "--mac":
            mac = parse_mac(v)
        elif a == "--forbid":
            forbid.append(v)
        elif a == "--link-port":
            link_port = int(v)
        elif a == "--mix-port":
            mix_port = int(v)
        elif a == "--need":
            need = [x for x in v.split(",") if x]
        else:
            sys.stderr.write("unknown option %s\n" % a)
            return 2
        i += 2
    try:
        if cmd == "addrs":
            if not forbid:
                sys.stderr.write("addrs needs --forbid\n")
                return 2
            return check_addrs(path, mac, forbid)
        return check_sizes(path, mac, link_port, mix_port, need)
    except Bad as e:
        print(str(e))
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
