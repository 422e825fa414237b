/* The IP packet router's packet parser and refusals: any bytes parse or are refused with
 * -EBADMSG; what parses stays inside the input; a refusal built from it parses again, is
 * addressed back to the sender and carries correct checksums. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "ipr/ipr_packet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ipr_packet_info in, back;
	int rc = ipr_packet_parse(data, size, &in);
	if (rc == -EBADMSG)
		return 0;
	if (rc != 0 || in.len > size || (in.family != 4 && in.family != 6) || in.l4_off > in.len)
		abort();
	if (in.has_ports && (in.later_fragment || !in.l4_off))
		abort();
	uint8_t out[IPR_PACKET_REFUSAL_MAX];
	size_t n;
	size_t alen = in.family == 4 ? 4 : 16;
	if (ipr_packet_tcp_reset(&in, out, sizeof(out), &n) == 0) {
		if (ipr_packet_parse(out, n, &back) != 0 || back.proto != IPR_PACKET_PROTO_TCP ||
		    !(back.tcp_flags & IPR_PACKET_TCP_RST) || back.sport != in.dport || back.dport != in.sport ||
		    memcmp(back.dst, in.src, alen) != 0 || memcmp(back.src, in.dst, alen) != 0 ||
		    ipr_packet_l4_checksum(out, &back) != 0)
			abort();
	}
	rc = ipr_packet_icmp_prohibited(data, &in, out, sizeof(out), &n);
	if (rc == 0) {
		if (ipr_packet_parse(out, n, &back) != 0 || !back.icmp_error || memcmp(back.dst, in.src, alen) != 0 ||
		    ipr_packet_l4_checksum(out, &back) != 0)
			abort();
	} else if (rc != -EINVAL || !in.icmp_error) {
		abort();
	}
	return 0;
}
