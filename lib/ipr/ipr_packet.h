/* The IP packets the IP packet router handles: what its exit-policy check reads from a
 * client's packet (addresses, protocol, ports, TCP flags, ICMP echo) and the refusals it
 * sends back in place of a refused packet, built the way a router would:
 *
 *  - a refused TCP segment (not itself a reset) gets a TCP reset from the destination
 *    (RFC 9293 3.10.7.1: seq = the segment's ACK field if it had one, else seq 0 with ACK set
 *    and ack = seq + length, SYN and FIN counted), which makes connect() fail with
 *    ECONNREFUSED at once;
 *  - any other refused packet gets ICMP destination unreachable, "communication
 *    administratively prohibited" (IPv4 type 3 code 13, RFC 1812; IPv6 type 1 code 1, RFC
 *    4443) from the router's own address (10.0.0.1 / fc00::1), quoting as much of the packet
 *    as fits in 576 bytes (IPv4) or 1280 bytes (IPv6). ICMP errors are never answered.
 *
 * Pure: no I/O. Parsing refuses what the kernel would not build: wrong version, a header
 * length or total length that does not fit, a truncated transport header. */
#ifndef NYM_IPR_IPR_PACKET_H
#define NYM_IPR_IPR_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IPR_PACKET_PROTO_ICMP 1
#define IPR_PACKET_PROTO_TCP 6
#define IPR_PACKET_PROTO_UDP 17
#define IPR_PACKET_PROTO_ICMPV6 58

#define IPR_PACKET_TCP_FIN 0x01
#define IPR_PACKET_TCP_SYN 0x02
#define IPR_PACKET_TCP_RST 0x04
#define IPR_PACKET_TCP_ACK 0x10

/* Largest refusal: an ICMPv6 error quoting up to the IPv6 minimum MTU. */
#define IPR_PACKET_REFUSAL_MAX 1280

struct ipr_packet_info {
	uint8_t family;	      /* 4 or 6 */
	uint8_t src[16], dst[16]; /* IPv4 in the first 4 bytes */
	uint8_t proto;	      /* transport protocol (after IPv6 extension headers) */
	size_t len;	      /* the packet's own length (total length / 40 + payload length) */
	size_t l4_off;	      /* offset of the transport header; 0 when not reached */
	bool later_fragment;  /* a non-first fragment: no transport header */
	bool has_ports;	      /* TCP or UDP: ports valid */
	uint16_t sport, dport;
	uint8_t tcp_flags;
	uint32_t tcp_seq, tcp_ack;
	size_t tcp_payload;	   /* TCP data bytes */
	bool icmp;		   /* ICMP (IPv4) or ICMPv6 */
	uint8_t icmp_type, icmp_code;
	bool icmp_echo_request;	   /* type 8 / 128 */
	bool icmp_error;	   /* an ICMP error message (never answered) */
};

/* Reads the headers of one IP packet of len bytes (bytes past the packet's own length are
 * ignored). Returns 0 or -EBADMSG. */
int ipr_packet_parse(const uint8_t *pkt, size_t len, struct ipr_packet_info *out);

/* The TCP reset answering a refused segment (info from ipr_packet_parse of pkt). Returns 0,
 * -EINVAL (not TCP, a reset, or a later fragment) or -ENOSPC. */
int ipr_packet_tcp_reset(const struct ipr_packet_info *info, uint8_t *out, size_t cap,
			 size_t *written);

/* The ICMP(v6) administratively-prohibited error for a refused packet. Returns 0, -EINVAL
 * (an ICMP error itself) or -ENOSPC. */
int ipr_packet_icmp_prohibited(const uint8_t *pkt, const struct ipr_packet_info *info,
			       uint8_t *out, size_t cap, size_t *written);

/* The Internet checksum (RFC 1071) of len bytes added to a running 32-bit sum (0 to start);
 * fold with ipr_packet_checksum_fold. */
uint32_t ipr_packet_checksum_add(uint32_t sum, const uint8_t *p, size_t len);
uint16_t ipr_packet_checksum_fold(uint32_t sum);

/* The checksum a packet's transport header must carry (TCP, UDP, ICMP, ICMPv6), computed
 * over the packet with the field as it is: 0 means the field is correct. Returns -1 for a
 * packet whose transport is not one of those. For tests and the fuzzer. */
int ipr_packet_l4_checksum(const uint8_t *pkt, const struct ipr_packet_info *info);

#endif
