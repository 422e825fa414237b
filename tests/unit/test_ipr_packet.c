/* ipr_packet: header parsing and the refusals (TCP reset, ICMP administratively prohibited),
 * checked byte by byte with checksums recomputed here independently. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "ipr/ipr_packet.h"

/* An independent RFC 1071 checksum: sum 16-bit words in 64 bits, fold at the end. */
static uint16_t cksum(const uint8_t *const *parts, const size_t *lens, int n)
{
	uint64_t s = 0;
	for (int k = 0; k < n; k++)
		for (size_t i = 0; i < lens[k]; i++)
			s += (i & 1) ? parts[k][i] : (uint64_t)parts[k][i] << 8;
	while (s > 0xffff)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static uint16_t l4_cksum(int family, const uint8_t *src, const uint8_t *dst, uint8_t proto, const uint8_t *l4, size_t len)
{
	uint8_t ph[8] = { 0, 0, (uint8_t)(len >> 8), (uint8_t)len, 0, 0, 0, proto };
	size_t al = family == 4 ? 4 : 16;
	const uint8_t *parts[] = { src, dst, ph, l4 };
	size_t lens[] = { al, al, sizeof(ph), len };
	return cksum(parts, lens, 4);
}

/* The IPv4 header example everyone uses (its checksum is 0xb861). */
Test(ipr_packet, known_ipv4_header_checksum)
{
	uint8_t h[20] = { 0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
			  0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7 };
	cr_assert_eq(ipr_packet_checksum_fold(ipr_packet_checksum_add(0, h, 20)), 0xb861);
	h[10] = 0xb8;
	h[11] = 0x61;
	cr_assert_eq(ipr_packet_checksum_fold(ipr_packet_checksum_add(0, h, 20)), 0);
}

/* 10.0.1.2:40000 -> 192.0.2.80:25 SYN, seq 1000. */
static const uint8_t syn4[40] = {
	0x45, 0x00, 0x00, 0x28, 0x12, 0x34, 0x40, 0x00, 0x40, 0x06, 0x00, 0x00, 10, 0, 1, 2, 192, 0, 2, 80,
	0x9c, 0x40, 0x00, 0x19, 0x00, 0x00, 0x03, 0xe8, 0x00, 0x00, 0x00, 0x00, 0x50, 0x02, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00,
};

Test(ipr_packet, parse_tcp_syn_v4)
{
	struct ipr_packet_info in;
	cr_assert_eq(ipr_packet_parse(syn4, sizeof(syn4), &in), 0);
	cr_assert_eq(in.family, 4);
	cr_assert_eq(in.proto, IPR_PACKET_PROTO_TCP);
	cr_assert(in.has_ports);
	cr_assert_eq(in.sport, 40000);
	cr_assert_eq(in.dport, 25);
	cr_assert_eq(in.tcp_flags, IPR_PACKET_TCP_SYN);
	cr_assert_eq(in.tcp_seq, 1000);
	cr_assert_eq(in.tcp_payload, 0);
	cr_assert_eq(in.len, 40);
	uint8_t src[4] = { 10, 0, 1, 2 }, dst[4] = { 192, 0, 2, 80 };
	cr_assert_arr_eq(in.src, src, 4);
	cr_assert_arr_eq(in.dst, dst, 4);
	/* Trailing bytes past the total length are ignored; a short buffer is refused. */
	uint8_t longer[48] = { 0 };
	memcpy(longer, syn4, sizeof(syn4));
	cr_assert_eq(ipr_packet_parse(longer, sizeof(longer), &in), 0);
	cr_assert_eq(in.len, 40);
	cr_assert_eq(ipr_packet_parse(syn4, 39, &in), -EBADMSG);
	cr_assert_eq(ipr_packet_parse(syn4, 19, &in), -EBADMSG);
	uint8_t bad[40];
	memcpy(bad, syn4, sizeof(bad));
	bad[0] = 0x44; /* IHL 4 */
	cr_assert_eq(ipr_packet_parse(bad, sizeof(bad), &in), -EBADMSG);
	bad[0] = 0x55;
	cr_assert_eq(ipr_packet_parse(bad, sizeof(bad), &in), -EBADMSG);
	memcpy(bad, syn4, sizeof(bad));
	bad[32] = 0x40; /* TCP data offset 4 */
	cr_assert_eq(ipr_packet_parse(bad, sizeof(bad), &in), -EBADMSG);
}

Test(ipr_packet, reset_answers_syn_v4)
{
	struct ipr_packet_info in, out_info;
	cr_assert_eq(ipr_packet_parse(syn4, sizeof(syn4), &in), 0);
	uint8_t out[64];
	size_t n;
	cr_assert_eq(ipr_packet_tcp_reset(&in, out, 39, &n), -ENOSPC);
	cr_assert_eq(ipr_packet_tcp_reset(&in, out, sizeof(out), &n), 0);
	uint8_t want[40] = {
		0x45, 0x00, 0x00, 0x28, 0x00, 0x00, 0x40, 0x00, 0x40, 0x06, 0x00, 0x00, 192, 0, 2, 80, 10, 0, 1, 2,
		0x00, 0x19, 0x9c, 0x40, 0, 0, 0, 0, 0x00, 0x00, 0x03, 0xe9, 0x50, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	};
	cr_assert_eq(n, 40);
	/* Checksums computed here, then the whole packet compared. */
	const uint8_t *p1[] = { want };
	size_t l1[] = { 20 };
	uint16_t ipc = cksum(p1, l1, 1);
	want[10] = (uint8_t)(ipc >> 8);
	want[11] = (uint8_t)ipc;
	uint16_t tc = l4_cksum(4, want + 12, want + 16, 6, want + 20, 20);
	want[36] = (uint8_t)(tc >> 8);
	want[37] = (uint8_t)tc;
	cr_assert_arr_eq(out, want, 40);
	cr_assert_eq(ipr_packet_parse(out, n, &out_info), 0);
	cr_assert_eq(ipr_packet_l4_checksum(out, &out_info), 0);

	/* A segment with ACK set gets seq = its ack and no ACK. */
	uint8_t ack[40];
	memcpy(ack, syn4, sizeof(ack));
	ack[33] = IPR_PACKET_TCP_ACK;
	ack[28] = 0x11;
	ack[29] = 0x22;
	ack[30] = 0x33;
	ack[31] = 0x44;
	cr_assert_eq(ipr_packet_parse(ack, sizeof(ack), &in), 0);
	cr_assert_eq(ipr_packet_tcp_reset(&in, out, sizeof(out), &n), 0);
	cr_assert_eq(out[33], IPR_PACKET_TCP_RST);
	cr_assert_eq(memcmp(out + 24, "\x11\x22\x33\x44", 4), 0);
	cr_assert_eq(ipr_packet_parse(out, n, &out_info), 0);
	cr_assert_eq(ipr_packet_l4_checksum(out, &out_info), 0);
	/* A reset is never answered. */
	ack[33] = IPR_PACKET_TCP_RST;
	cr_assert_eq(ipr_packet_parse(ack, sizeof(ack), &in), 0);
	cr_assert_eq(ipr_packet_tcp_reset(&in, out, sizeof(out), &n), -EINVAL);
}

/* fc00::2:5353 -> 2001:db8::1:443 UDP, 4 bytes of data, then the ICMPv6 refusal. */
Test(ipr_packet, udp_v6_gets_icmp6_prohibited)
{
	uint8_t pkt[52] = { 0x60, 0, 0, 0, 0x00, 0x0c, 17, 64 };
	pkt[8] = 0xfc;
	pkt[23] = 2;
	pkt[24] = 0x20;
	pkt[25] = 0x01;
	pkt[26] = 0x0d;
	pkt[27] = 0xb8;
	pkt[39] = 1;
	uint8_t udp[12] = { 0x14, 0xe9, 0x01, 0xbb, 0x00, 0x0c, 0, 0, 'a', 'b', 'c', 'd' };
	uint16_t c = l4_cksum(6, pkt + 8, pkt + 24, 17, udp, 12);
	udp[6] = (uint8_t)(c >> 8);
	udp[7] = (uint8_t)c;
	memcpy(pkt + 40, udp, 12);
	struct ipr_packet_info in, oi;
	cr_assert_eq(ipr_packet_parse(pkt, sizeof(pkt), &in), 0);
	cr_assert_eq(in.family, 6);
	cr_assert_eq(in.proto, 17);
	cr_assert_eq(in.sport, 5353);
	cr_assert_eq(in.dport, 443);
	cr_assert_eq(ipr_packet_l4_checksum(pkt, &in), 0);
	cr_assert_eq(ipr_packet_tcp_reset(&in, pkt, sizeof(pkt), &(size_t){ 0 }), -EINVAL);

	uint8_t out[IPR_PACKET_REFUSAL_MAX];
	size_t n;
	cr_assert_eq(ipr_packet_icmp_prohibited(pkt, &in, out, sizeof(out), &n), 0);
	cr_assert_eq(n, 40 + 8 + 52);
	cr_assert_eq(out[0], 0x60);
	cr_assert_eq(out[4], 0);
	cr_assert_eq(out[5], 8 + 52);
	cr_assert_eq(out[6], 58);
	uint8_t router[16] = { 0xfc, 0 };
	router[15] = 1;
	cr_assert_arr_eq(out + 8, router, 16);
	cr_assert_arr_eq(out + 24, pkt + 8, 16);
	cr_assert_eq(out[40], 1);
	cr_assert_eq(out[41], 1);
	cr_assert_arr_eq(out + 48, pkt, 52);
	cr_assert_eq(l4_cksum(6, out + 8, out + 24, 58, out + 40, 60), 0);
	cr_assert_eq(ipr_packet_parse(out, n, &oi), 0);
	cr_assert(oi.icmp_error);
	cr_assert_eq(ipr_packet_l4_checksum(out, &oi), 0);
	/* An ICMP error is not answered. */
	cr_assert_eq(ipr_packet_icmp_prohibited(out, &oi, pkt, sizeof(pkt), &n), -EINVAL);
}

Test(ipr_packet, icmp4_prohibited_quotes_at_most_576)
{
	uint8_t pkt[1000] = { 0x45, 0, 0x03, 0xe8, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 9, 198, 51, 100, 7 };
	pkt[20] = 0x30;
	pkt[22] = 0x00;
	pkt[23] = 0x35;
	pkt[25] = 0xe0;
	struct ipr_packet_info in, oi;
	cr_assert_eq(ipr_packet_parse(pkt, sizeof(pkt), &in), 0);
	cr_assert_eq(in.dport, 53);
	uint8_t out[IPR_PACKET_REFUSAL_MAX];
	size_t n;
	cr_assert_eq(ipr_packet_icmp_prohibited(pkt, &in, out, sizeof(out), &n), 0);
	cr_assert_eq(n, 576);
	cr_assert_eq(out[20], 3);
	cr_assert_eq(out[21], 13);
	uint8_t from[4] = { 10, 0, 0, 1 };
	cr_assert_arr_eq(out + 12, from, 4);
	cr_assert_arr_eq(out + 16, pkt + 12, 4);
	const uint8_t *p1[] = { out };
	size_t l1[] = { 20 };
	cr_assert_eq(cksum(p1, l1, 1), 0);
	const uint8_t *p2[] = { out + 20 };
	size_t l2[] = { 556 };
	cr_assert_eq(cksum(p2, l2, 1), 0);
	cr_assert_arr_eq(out + 28, pkt, 548);
	cr_assert_eq(ipr_packet_parse(out, n, &oi), 0);
	cr_assert(oi.icmp_error);
}

Test(ipr_packet, icmp_echo_and_ipv6_extensions)
{
	uint8_t ping[28] = { 0x45, 0, 0, 28, 0, 1, 0, 0, 64, 1, 0, 0, 10, 0, 0, 2, 1, 1, 1, 1, 8, 0, 0, 0, 0, 1, 0, 1 };
	struct ipr_packet_info in;
	cr_assert_eq(ipr_packet_parse(ping, sizeof(ping), &in), 0);
	cr_assert(in.icmp && in.icmp_echo_request && !in.icmp_error);
	cr_assert_eq(ipr_packet_parse(ping, 24, &in), -EBADMSG);

	/* IPv6: hop-by-hop (8 bytes) then ICMPv6 echo request. */
	uint8_t p6[56] = { 0x60, 0, 0, 0, 0, 16, 0, 64 };
	p6[40] = 58; /* next header after hop-by-hop */
	p6[41] = 0;
	p6[48] = 128;
	cr_assert_eq(ipr_packet_parse(p6, sizeof(p6), &in), 0);
	cr_assert_eq(in.proto, 58);
	cr_assert_eq(in.l4_off, 48);
	cr_assert(in.icmp_echo_request);
	/* A later fragment has no transport header. */
	p6[6] = 44;
	p6[40] = 17;
	p6[42] = 0;
	p6[43] = 0x08;
	cr_assert_eq(ipr_packet_parse(p6, sizeof(p6), &in), 0);
	cr_assert(in.later_fragment);
	cr_assert_not(in.has_ports);
	/* An extension running past the end. */
	p6[6] = 0;
	p6[41] = 4;
	cr_assert_eq(ipr_packet_parse(p6, sizeof(p6), &in), -EBADMSG);
	/* Payload length past the buffer; another version. */
	p6[5] = 17;
	cr_assert_eq(ipr_packet_parse(p6, sizeof(p6), &in), -EBADMSG);
	p6[0] = 0x50;
	cr_assert_eq(ipr_packet_parse(p6, sizeof(p6), &in), -EBADMSG);
	cr_assert_eq(ipr_packet_parse(p6, 0, &in), -EBADMSG);
}
