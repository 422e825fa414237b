#include "iprfix.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "ipr/ipr_packet.h"
#include "mix/mix_envelope.h"
#include "mix/mix_node_addr.h"
#include "sphinx/sphinx_surb.h"

struct iprfix ipf;

const char iprfix_policy_text[] = "reject 198.51.100.0/24:*\n"
				  "accept 203.0.113.0/24:443\n"
				  "accept *:80\n"
				  "reject *:*\n";

static int hook_tun(void *ctx, const uint8_t *p, size_t len)
{
	(void)ctx;
	cr_assert_lt(ipf.n_tun, IPRFIX_MAX_OUT);
	ipf.tun_out[ipf.n_tun] = malloc(len);
	memcpy(ipf.tun_out[ipf.n_tun], p, len);
	ipf.tun_len[ipf.n_tun++] = len;
	return 0;
}

static int hook_inject(void *ctx, const struct net_addr *hop, enum mix_packet_size size, const uint8_t *p,
		       size_t len)
{
	(void)ctx;
	cr_assert_eq(size, MIX_PACKET_SIZE_REGULAR);
	cr_assert_eq(len, MIX_REGULAR_PACKET_LEN);
	cr_assert_lt(ipf.n_inj, IPRFIX_MAX_OUT);
	ipf.inj_out[ipf.n_inj] = malloc(len);
	memcpy(ipf.inj_out[ipf.n_inj++], p, len);
	ipf.inj_hop = *hop;
	return 0;
}

void iprfix_init(const struct gateway_ipr_engine_config *cfg)
{
	struct gateway_ipr_engine_config def;
	if (!cfg) {
		gateway_ipr_engine_config_default(&def);
		cfg = &def;
	}
	memset(&ipf, 0, sizeof(ipf));
	cr_assert_eq(nym_crypto_init(), 0);
	for (int i = 0; i < IPRFIX_NODES; i++) {
		nym_x25519_generate(&ipf.node_keys[i]);
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(1789) };
		a.sin_addr.s_addr = htonl(0xc6336400u + 11 + (uint32_t)i);
		cr_assert_eq(mix_node_addr_encode((struct sockaddr *)&a, sizeof(a), ipf.hops[i].address), 0);
		memcpy(ipf.hops[i].public_key, ipf.node_keys[i].public_key, 32);
	}
	nym_ed25519_generate(&ipf.ipr_id);
	cr_assert_eq(nym_ed25519_public_to_x25519(ipf.ipr_id.public_key, ipf.ipr_pub), 0);
	uint8_t secret[32];
	nym_ed25519_secret_to_x25519(&ipf.ipr_id, secret);
	struct policy p;
	struct policy_error perr;
	cr_assert_eq(policy_parse(iprfix_policy_text, strlen(iprfix_policy_text), &p, &perr), 0);
	struct gateway_ipr_engine_hooks h = { NULL, hook_tun, hook_inject };
	cr_assert_eq(gateway_ipr_engine_new(cfg, secret, &p, &h, NULL, &ipf.eng), 0);
	policy_free(&p);
	nym_random(ipf.client_id, 32);
	nym_random(ipf.tag, sizeof(ipf.tag));
	cr_assert_eq(mix_reassembly_new(NULL, &ipf.client_reasm), 0);
}

void iprfix_fini(void)
{
	gateway_ipr_engine_free(ipf.eng);
	mix_reassembly_free(ipf.client_reasm);
	for (size_t i = 0; i < ipf.n_tun; i++)
		free(ipf.tun_out[i]);
	for (size_t i = 0; i < ipf.n_inj; i++)
		free(ipf.inj_out[i]);
	ipf.eng = NULL;
	ipf.client_reasm = NULL;
	ipf.n_tun = ipf.n_inj = ipf.inj_seen = 0;
}

uint8_t *iprfix_make_surbs(size_t n)
{
	uint8_t *out = malloc(n * IPRFIX_SURB_LEN);
	struct sphinx_hop route[4] = { ipf.hops[IPRFIX_MIX1], ipf.hops[IPRFIX_MIX2], ipf.hops[IPRFIX_MIX3],
				       ipf.hops[IPRFIX_GW] };
	uint8_t ident[SPHINX_IDENTIFIER_LEN] = { 0 };
	for (size_t i = 0; i < n; i++) {
		cr_assert_lt(ipf.n_keys, IPRFIX_MAX_KEYS);
		uint8_t *s = out + i * IPRFIX_SURB_LEN;
		nym_random(ipf.keys[ipf.n_keys], MIX_REPLY_KEY_LEN);
		memcpy(s, ipf.keys[ipf.n_keys++], MIX_REPLY_KEY_LEN);
		struct sphinx_surb surb;
		cr_assert_eq(sphinx_surb_create(&surb, route, 4, ipf.client_id, ident, SPHINX_VERSION_259, NULL), 0);
		cr_assert_eq(sphinx_surb_encode(&surb, s + MIX_REPLY_KEY_LEN, IPRFIX_SURB_LEN - MIX_REPLY_KEY_LEN),
			     IPRFIX_SURB_LEN - MIX_REPLY_KEY_LEN);
		sphinx_surb_clear(&surb);
	}
	return out;
}

/* As the client's mixnet client sends: with a (here zero) SURB-ACK slot and 1611-byte
 * fragments, or unacknowledged, 1997-byte fragments after a zero first hop (§2.9). */
static void send_raw(const uint8_t *msg, size_t len, enum mix_message_type type, uint64_t now, bool unacked)
{
	size_t per = unacked ? 1997 : 1611, padded_len, frags;
	cr_assert_eq(mix_fragment_message_layout(1 + len, per, &padded_len, &frags), 0);
	uint8_t *padded = malloc(padded_len);
	cr_assert_eq(mix_fragment_message_pad(type, msg, len, per, padded, padded_len, &padded_len), 0);
	struct mix_fragmenter f;
	cr_assert_eq(mix_fragmenter_init(&f, padded, padded_len, per, NULL), 0);
	uint8_t frag[1997], plain[2048];
	size_t w;
	struct mix_fragment_id id;
	while (mix_fragmenter_next(&f, frag, per, &w, &id) == 0) {
		cr_assert_eq(w, per);
		static const struct mix_surb_ack no_ack;
		cr_assert_eq(mix_envelope_seal(plain, sizeof(plain), unacked ? NULL : &no_ack, ipf.ipr_pub, frag, per, NULL),
			     0);
		gateway_ipr_engine_item(ipf.eng, MIX_PACKET_SIZE_REGULAR, plain + MIX_SURB_ACK_HOP_LEN,
					sizeof(plain) - MIX_SURB_ACK_HOP_LEN, now);
	}
	free(padded);
}

void iprfix_send_raw(const uint8_t *msg, size_t len, enum mix_message_type type, uint64_t now)
{
	send_raw(msg, len, type, now, false);
}

void iprfix_send_raw_unacked(const uint8_t *msg, size_t len, enum mix_message_type type, uint64_t now)
{
	ipf.unacked_sent++;
	send_raw(msg, len, type, now, true);
}

int iprfix_take_reply(uint8_t **data, size_t *len)
{
	cr_assert_lt(ipf.inj_seen, ipf.n_inj);
	uint8_t *pkt = ipf.inj_out[ipf.inj_seen++];
	/* The reply leaves towards the SURB's first hop. */
	uint8_t enc[32];
	cr_assert_eq(mix_node_addr_encode((struct sockaddr *)&ipf.inj_hop.ss, ipf.inj_hop.len, enc), 0);
	cr_assert_arr_eq(enc, ipf.hops[IPRFIX_MIX1].address, 32);
	const int order[4] = { IPRFIX_MIX1, IPRFIX_MIX2, IPRFIX_MIX3, IPRFIX_GW };
	struct sphinx_processed out;
	for (int i = 0; i < 4; i++)
		cr_assert_eq(sphinx_packet_process(pkt, MIX_REGULAR_PACKET_LEN, ipf.node_keys[order[i]].secret, &out),
			     0);
	cr_assert_eq(out.kind, SPHINX_HOP_FINAL);
	cr_assert_arr_eq(out.address, ipf.client_id, 32);
	const uint8_t *m;
	size_t mlen;
	cr_assert_eq(sphinx_packet_message(pkt, MIX_REGULAR_PACKET_LEN, &m, &mlen), 0);
	cr_assert(mix_surb_ack_absent(m), "IPR replies carry no SURB-ACK");
	uint8_t item[2048], *fwd;
	size_t flen;
	memcpy(item, m + MIX_SURB_ACK_HOP_LEN, mlen - MIX_SURB_ACK_HOP_LEN);
	cr_assert_eq(mix_envelope_item_split(item, mlen - MIX_SURB_ACK_HOP_LEN, &fwd, &flen), 0);
	cr_assert_eq(flen, mlen - MIX_SURB_ACK_HOP_LEN, "the unacknowledged layout");
	cr_assert_eq(flen - 32, 1997);
	const uint8_t *digest;
	cr_assert_eq(mix_reply_digest(fwd, flen, &digest), 0);
	size_t k;
	for (k = 0; k < ipf.n_keys; k++) {
		uint8_t d[32];
		mix_reply_key_digest(ipf.keys[k], d);
		if (memcmp(d, digest, 32) == 0)
			break;
	}
	cr_assert_lt(k, ipf.n_keys, "the digest names one of our reply keys");
	uint8_t *body;
	size_t blen;
	cr_assert_eq(mix_reply_open(fwd, flen, ipf.keys[k], &body, &blen), 0);
	struct mix_reassembly_message msg = { 0 };
	cr_assert_eq(mix_reassembly_add_bytes(ipf.client_reasm, body, blen, 0, &msg), 0);
	if (!msg.data)
		return 0;
	enum mix_message_type type;
	cr_assert_eq(mix_fragment_message_unpad(msg.data, msg.len, &type, len), 0);
	cr_assert_eq(type, MIX_MESSAGE_REPLY);
	*data = msg.data;
	return 1;
}

size_t iprfix_make_v4(uint8_t *out, const uint8_t src[4], const char *dst, uint8_t proto, uint16_t dport,
		      size_t payload)
{
	size_t l4 = proto == 6 ? 20 : 8;
	size_t total = 20 + l4 + payload;
	memset(out, 0, total);
	out[0] = 0x45;
	out[2] = (uint8_t)(total >> 8);
	out[3] = (uint8_t)total;
	out[8] = 64;
	out[9] = proto;
	memcpy(out + 12, src, 4);
	cr_assert_eq(inet_pton(AF_INET, dst, out + 16), 1);
	out[20] = 0x9c;
	out[21] = 0x40;
	out[22] = (uint8_t)(dport >> 8);
	out[23] = (uint8_t)dport;
	if (proto == 6) {
		out[27] = 1; /* seq 1 */
		out[32] = 0x50;
		out[33] = IPR_PACKET_TCP_SYN;
	} else if (proto == 17) {
		out[24] = (uint8_t)((8 + payload) >> 8);
		out[25] = (uint8_t)(8 + payload);
	}
	return total;
}
