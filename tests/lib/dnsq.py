#!/usr/bin/env python3
"""A DNS query straight to one server over UDP (what `dig @SERVER NAME TYPE +short` does),
with nothing but the standard library: the tests use it to ask a server other than the
system's resolvers, which a VPN's kill switch must stop.

  dnsq.py SERVER NAME [A|AAAA] [--timeout SECONDS] [--tries N] [--mark N]

Prints each address of the answer, one a line, and exits 0; exits 1 after printing
"timeout" (no reply at all; "timeout (REASON)" when the send itself failed, e.g. EPERM from
the local firewall: nothing left) or "rcode N" / "no address" (a reply without an answer); 2
on usage errors.
--mark N sets SO_MARK on the socket (root): a program that tries to bypass a VPN's policy
routing the way the VPN's own gateway link does (fwmark 0x14d = 333).
"""
import os
import socket
import struct
import sys


def query(server, name, qtype, timeout, tries, mark=None):
    fam = socket.AF_INET6 if ":" in server else socket.AF_INET
    qid = int.from_bytes(os.urandom(2), "big")
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.rstrip(".").split("."):
        q += bytes([len(label)]) + label.encode()
    q += b"\0" + struct.pack(">HH", 28 if qtype == "AAAA" else 1, 1)
    s = socket.socket(fam, socket.SOCK_DGRAM)
    if mark is not None:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_MARK, mark)
    s.settimeout(timeout / tries)
    try:
        for _ in range(tries):
            try:
                s.sendto(q, (server, 53))
                while True:
                    r, _src = s.recvfrom(4096)
                    if len(r) >= 12 and struct.unpack(">H", r[:2])[0] == qid:
                        return parse(r)
            except socket.timeout:
                continue
            except OSError as e:
                # EPERM from an output firewall, unreachable errors: nothing got through.
                return "timeout (%s)" % e.strerror
    finally:
        s.close()
    return None


def skip_name(r, off):
    while off < len(r):
        n = r[off]
        if n == 0:
            return off + 1
        if n & 0xC0 == 0xC0:
            return off + 2
        off += 1 + n
    return off


def parse(r):
    _qid, flags, qd, an, _ns, _ar = struct.unpack(">HHHHHH", r[:12])
    rcode = flags & 15
    off = 12
    for _ in range(qd):
        off = skip_name(r, off) + 4
    out = []
    for _ in range(an):
        off = skip_name(r, off)
        rtype, _cls, _ttl, rdlen = struct.unpack(">HHIH", r[off:off + 10])
        off += 10
        data = r[off:off + rdlen]
        off += rdlen
        if rtype == 1 and rdlen == 4:
            out.append(socket.inet_ntop(socket.AF_INET, data))
        elif rtype == 28 and rdlen == 16:
            out.append(socket.inet_ntop(socket.AF_INET6, data))
    return rcode, out


def main(argv):
    args = []
    timeout, tries, mark = 3.0, 2, None
    i = 0
    while i < len(argv):
        if argv[i] in ("--timeout", "--tries", "--mark") and i + 1 < len(argv):
            if argv[i] == "--timeout":
                timeout = float(argv[i + 1])
            elif argv[i] == "--mark":
                mark = int(argv[i + 1], 0)
            else:
                tries = max(1, int(argv[i + 1]))
            i += 2
            continue
        args.append(argv[i])
        i += 1
    if len(args) not in (2, 3) or (len(args) == 3 and args[2] not in ("A", "AAAA")):
        sys.stderr.write(__doc__)
        return 2
    got = query(args[0], args[1], args[2] if len(args) == 3 else "A", timeout, tries, mark)
    if got is None or isinstance(got, str):
        print(got or "timeout")
        return 1
    rcode, addrs = got
    if rcode:
        print("rcode %d" % rcode)
        return 1
    if not addrs:
        print("no address")
        return 1
    print("\n".join(addrs))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
