#include "nodectl/debug/ipr_loopback.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/ed25519.h"
#include "crypto/secret.h"
#include "crypto/x25519.h"
#include "ipr/ipr_bundle.h"
#include "ipr/ipr_msg.h"
#include "ipr/ipr_packet.h"
#include "mix/mix_envelope.h"
#include "mix/mix_fragment.h"
#include "mix/mix_node_addr.h"
#include "mix/mix_reassembly.h"
#include "mix/mix_reply.h"
#include "sphinx/sphinx_packet.h"
#include "sphinx/sphinx_surb.h"

#define SURBS 40
#define PER_PACKET 1611
#define PLAIN 2048
#define MAX_RESPONSES 64

struct ipr_loopback {
	uint8_t router_key[32];	      /* X25519 of the router's identity */
	struct nym_x25519_keypair gw; /* the one hop of our SURBs */
	struct sphinx_hop hop;
	uint8_t id[32];
	uint8_t tag[IPR_SENDER_TAG_LEN];
	uint8_t keys[4 * SURBS][MIX_REPLY_KEY_LEN];
	size_t n_keys;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct mix_reassembly *reasm;
	uint8_t *responses[MAX_RESPONSES]; /* whole Reply message bodies */
	size_t response_len[MAX_RESPONSES];
	size_t n_responses;
	uint64_t reply_packets;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The router's reply packet, as the client's gateway and the client would treat it. */
static int loop_inject(void *ctx, const struct net_addr *hop, uint8_t key_rotation, enum mix_packet_size size,
		       const uint8_t *packet, size_t len)
{
	(void)hop, (void)key_rotation;
	struct ipr_loopback *l = ctx;
	if (size != MIX_PACKET_SIZE_REGULAR || len != MIX_REGULAR_PACKET_LEN)
		return -EINVAL;
	uint8_t pkt[MIX_REGULAR_PACKET_LEN];
	memcpy(pkt, packet, len);
	struct sphinx_processed p;
	const uint8_t *msg;
	size_t msg_len;
	if (sphinx_packet_process(pkt, len, l->gw.secret, &p) || p.kind != SPHINX_HOP_FINAL ||
	    sphinx_packet_message(pkt, len, &msg, &msg_len) || msg_len != PLAIN)
		return -EINVAL;
	/* What the client's gateway would hand on (§8.6): the IPR's replies carry no SURB-ACK. */
	if (!mix_surb_ack_absent(msg))
		return -EINVAL;
	uint8_t item[PLAIN], *fwd;
	size_t flen;
	memcpy(item, msg + MIX_SURB_ACK_HOP_LEN, msg_len - MIX_SURB_ACK_HOP_LEN);
	const uint8_t *digest;
	if (mix_envelope_item_split(item, msg_len - MIX_SURB_ACK_HOP_LEN, &fwd, &flen) ||
	    mix_reply_digest(fwd, flen, &digest))
		return -EINVAL;
	pthread_mutex_lock(&l->lock);
	l->reply_packets++;
	int rc = -ENOENT;
	for (size_t k = 0; k < l->n_keys; k++) {
		uint8_t d[MIX_REPLY_DIGEST_LEN];
		mix_reply_key_digest(l->keys[k], d);
		if (!nym_ct_equal(d, digest, sizeof(d)))
			continue;
		uint8_t *body;
		size_t blen;
		struct mix_reassembly_message m = { 0 };
		enum mix_message_type type;
		size_t mlen;
		if (mix_reply_open(fwd, flen, l->keys[k], &body, &blen) ||
		    mix_reassembly_add_bytes(l->reasm, body, blen, mono_ns(), &m)) {
			rc = -EINVAL;
			break;
		}
		rc = 0;
		if (!m.data)
			break;
		if (mix_fragment_message_unpad(m.data, m.len, &type, &mlen) == 0 && type == MIX_MESSAGE_REPLY &&
		    l->n_responses < MAX_RESPONSES) {
			memmove(m.data, m.data + 1, mlen);
			l->responses[l->n_responses] = m.data;
			l->response_len[l->n_responses++] = mlen;
			pthread_cond_broadcast(&l->cond);
		} else {
			free(m.data);
		}
		break;
	}
	pthread_mutex_unlock(&l->lock);
	return rc;
}

int ipr_loopback_new(const uint8_t router_identity[32], struct ipr_loopback **out)
{
	struct ipr_loopback *l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	int rc = nym_ed25519_public_to_x25519(router_identity, l->router_key);
	if (rc || (rc = mix_reassembly_new(NULL, &l->reasm))) {
		free(l);
		return rc;
	}
	nym_x25519_generate(&l->gw);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(9) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	mix_node_addr_encode((struct sockaddr *)&a, sizeof(a), l->hop.address);
	memcpy(l->hop.public_key, l->gw.public_key, 32);
	nym_random(l->id, sizeof(l->id));
	nym_random(l->tag, sizeof(l->tag));
	pthread_mutex_init(&l->lock, NULL);
	pthread_cond_init(&l->cond, NULL);
	*out = l;
	return 0;
}

void ipr_loopback_hooks(struct ipr_loopback *l, struct gateway_ipr_hooks *hooks)
{
	hooks->ctx = l;
	hooks->inject = loop_inject;
}

void ipr_loopback_free(struct ipr_loopback *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n_responses; i++)
		free(l->responses[i]);
	mix_reassembly_free(l->reasm);
	nym_x25519_keypair_clear(&l->gw);
	nym_memzero(l->keys, sizeof(l->keys));
	pthread_mutex_destroy(&l->lock);
	pthread_cond_destroy(&l->cond);
	free(l);
}

/* n one-hop reply SURBs, key | SURB, into out (n * 460 bytes). */
static size_t make_surbs(struct ipr_loopback *l, size_t n, uint8_t *out)
{
	static const uint8_t ident[SPHINX_IDENTIFIER_LEN];
	size_t each = 0;
	pthread_mutex_lock(&l->lock);
	for (size_t i = 0; i < n && l->n_keys < sizeof(l->keys) / sizeof(l->keys[0]); i++) {
		struct sphinx_surb s;
		if (sphinx_surb_create(&s, &l->hop, 1, l->id, ident, SPHINX_VERSION_259, NULL))
			break;
		each = MIX_REPLY_KEY_LEN + sphinx_surb_encoded_len(&s);
		nym_random(l->keys[l->n_keys], MIX_REPLY_KEY_LEN);
		memcpy(out + i * each, l->keys[l->n_keys++], MIX_REPLY_KEY_LEN);
		sphinx_surb_encode(&s, out + i * each + MIX_REPLY_KEY_LEN, each - MIX_REPLY_KEY_LEN);
		sphinx_surb_clear(&s);
	}
	pthread_mutex_unlock(&l->lock);
	return each;
}

static int send_request(struct ipr_loopback *l, struct gateway_ipr *ipr, struct ipr_request *q)
{
	static const struct mix_surb_ack no_ack;
	memcpy(q->sender_tag, l->tag, sizeof(l->tag));
	size_t len, padded_len, frags;
	int rc = ipr_request_encoded_len(q, &len);
	if (rc || (rc = mix_fragment_message_layout(1 + len, PER_PACKET, &padded_len, &frags)))
		return rc;
	uint8_t *msg = malloc(len), *padded = malloc(padded_len);
	if (!msg || !padded) {
		rc = -ENOMEM;
		goto out;
	}
	struct mix_fragmenter f;
	if ((rc = ipr_request_encode(q, msg, len, &len)) ||
	    (rc = mix_fragment_message_pad(MIX_MESSAGE_REPLIABLE, msg, len, PER_PACKET, padded, padded_len, &padded_len)) ||
	    (rc = mix_fragmenter_init(&f, padded, padded_len, PER_PACKET, NULL)))
		goto out;
	uint8_t frag[PER_PACKET], plain[PLAIN];
	size_t w;
	struct mix_fragment_id id;
	while ((rc = mix_fragmenter_next(&f, frag, sizeof(frag), &w, &id)) == 0) {
		if ((rc = mix_envelope_seal(plain, sizeof(plain), &no_ack, l->router_key, frag, PER_PACKET, NULL)))
			goto out;
		/* A zero slot: the gateway hands on everything after the first hop (§8.6). */
		gateway_ipr_deliver(ipr, MIX_PACKET_SIZE_REGULAR, plain + MIX_SURB_ACK_HOP_LEN,
				    PLAIN - MIX_SURB_ACK_HOP_LEN);
	}
	rc = rc == -ENODATA ? 0 : rc;
out:
	free(msg);
	free(padded);
	return rc;
}

/* Waits for a response that `want` accepts (consuming the ones before it). */
typedef bool (*want_fn)(const struct ipr_response *r, void *ctx);

static bool wait_for(struct ipr_loopback *l, want_fn want, void *ctx, unsigned timeout_ms)
{
	struct timespec dl;
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += timeout_ms / 1000;
	dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (dl.tv_nsec >= 1000000000L) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000L;
	}
	bool found = false;
	pthread_mutex_lock(&l->lock);
	for (;;) {
		while (l->n_responses && !found) {
			uint8_t *m = l->responses[0];
			size_t len = l->response_len[0];
			struct ipr_response r;
			if (ipr_response_decode(m, len, &r) == 0 && want(&r, ctx))
				found = true;
			free(m);
			memmove(l->responses, l->responses + 1, (l->n_responses - 1) * sizeof(l->responses[0]));
			memmove(l->response_len, l->response_len + 1, (l->n_responses - 1) * sizeof(l->response_len[0]));
			l->n_responses--;
		}
		if (found || pthread_cond_timedwait(&l->cond, &l->lock, &dl) == ETIMEDOUT)
			break;
	}
	pthread_mutex_unlock(&l->lock);
	return found;
}

static bool want_connect(const struct ipr_response *r, void *ctx)
{
	struct ipr_loopback_result *out = ctx;
	if (r->kind != IPR_RESP_CONNECT)
		return false;
	out->connected = r->reply == IPR_CONNECT_SUCCESS;
	out->ips = r->ips;
	return true;
}

struct ping_wait {
	uint8_t family;
	enum ipr_loopback_answer answer;
};

static bool want_ping(const struct ipr_response *r, void *ctx)
{
	struct ping_wait *w = ctx;
	if (r->kind != IPR_RESP_DATA)
		return false;
	struct ipr_bundle_iter it;
	const uint8_t *p;
	size_t len;
	ipr_bundle_iter_init(&it, r->bundle.p, r->bundle.len);
	while (ipr_bundle_next(&it, &p, &len) == 0) {
		struct ipr_packet_info in;
		if (ipr_packet_parse(p, len, &in) || in.family != w->family || !in.icmp)
			continue;
		bool v4 = in.family == 4;
		if (in.icmp_type == (v4 ? 0 : 129))
			w->answer = IPR_LOOPBACK_ECHO_REPLY;
		else if (in.icmp_type == (v4 ? 3 : 1) && in.icmp_code == (v4 ? 13 : 1))
			w->answer = IPR_LOOPBACK_PROHIBITED;
		else
			w->answer = IPR_LOOPBACK_OTHER;
		return true;
	}
	return false;
}

/* An echo request from src to the router's own address of that family. */
static size_t echo_request(uint8_t family, const struct ipr_addr_pair *src, uint8_t *out)
{
	struct ipr_addr_pair router;
	ipr_addr_tun(&router);
	static const uint8_t payload[16] = "nym-ipr-loopback";
	if (family == 4) {
		size_t total = 20 + 8 + sizeof(payload);
		memset(out, 0, total);
		out[0] = 0x45;
		out[2] = (uint8_t)(total >> 8);
		out[3] = (uint8_t)total;
		out[8] = 64;
		out[9] = IPR_PACKET_PROTO_ICMP;
		memcpy(out + 12, src->v4, 4);
		memcpy(out + 16, router.v4, 4);
		uint16_t c = ipr_packet_checksum_fold(ipr_packet_checksum_add(0, out, 20));
		out[10] = (uint8_t)(c >> 8);
		out[11] = (uint8_t)c;
		uint8_t *icmp = out + 20;
		icmp[0] = 8;
		icmp[5] = 1; /* id 1 */
		icmp[7] = 1; /* seq 1 */
		memcpy(icmp + 8, payload, sizeof(payload));
		c = ipr_packet_checksum_fold(ipr_packet_checksum_add(0, icmp, 8 + sizeof(payload)));
		icmp[2] = (uint8_t)(c >> 8);
		icmp[3] = (uint8_t)c;
		return total;
	}
	size_t l4 = 8 + sizeof(payload), total = 40 + l4;
	memset(out, 0, total);
	out[0] = 0x60;
	out[5] = (uint8_t)l4;
	out[6] = IPR_PACKET_PROTO_ICMPV6;
	out[7] = 64;
	memcpy(out + 8, src->v6, 16);
	memcpy(out + 24, router.v6, 16);
	uint8_t *icmp = out + 40;
	icmp[0] = 128;
	icmp[5] = 1;
	icmp[7] = 1;
	memcpy(icmp + 8, payload, sizeof(payload));
	uint8_t tail[8] = { 0, 0, 0, (uint8_t)l4, 0, 0, 0, IPR_PACKET_PROTO_ICMPV6 };
	uint32_t sum = ipr_packet_checksum_add(0, out + 8, 32);
	sum = ipr_packet_checksum_add(sum, tail, sizeof(tail));
	uint16_t c = ipr_packet_checksum_fold(ipr_packet_checksum_add(sum, icmp, l4));
	icmp[2] = (uint8_t)(c >> 8);
	icmp[3] = (uint8_t)c;
	return total;
}

static enum ipr_loopback_answer ping(struct ipr_loopback *l, struct gateway_ipr *ipr, uint8_t family,
				     const struct ipr_addr_pair *ips, unsigned timeout_ms, double *rtt_ms)
{
	uint8_t pkt[128], bundle[160], surbs[8 * 476];
	size_t n = echo_request(family, ips, pkt);
	bundle[0] = (uint8_t)(n >> 8);
	bundle[1] = (uint8_t)n;
	memcpy(bundle + 2, pkt, n);
	size_t each = make_surbs(l, 8, surbs);
	struct ipr_request q = { .kind = IPR_REQ_DATA, .surb_count = each ? 8 : 0, .surb_len = each, .surbs = surbs,
				 .bundle = { bundle, n + 2 } };
	uint64_t t0 = mono_ns();
	if (send_request(l, ipr, &q))
		return IPR_LOOPBACK_NONE;
	struct ping_wait w = { family, IPR_LOOPBACK_NONE };
	if (wait_for(l, want_ping, &w, timeout_ms))
		*rtt_ms = (double)(mono_ns() - t0) / 1e6;
	return w.answer;
}

int ipr_loopback_run(struct ipr_loopback *l, struct gateway_ipr *ipr, unsigned timeout_ms,
		     struct ipr_loopback_result *out)
{
	memset(out, 0, sizeof(*out));
	uint8_t surbs[SURBS * 476];
	size_t each = make_surbs(l, SURBS, surbs);
	struct ipr_request q = { .kind = IPR_REQ_CONNECT, .surb_count = SURBS, .surb_len = each, .surbs = surbs,
				 .request_id = 1, .timestamp_ms = (uint64_t)time(NULL) * 1000,
				 .has_buffer_timeout = true, .buffer_timeout_ms = 1 };
	int rc = send_request(l, ipr, &q);
	if (rc)
		return rc;
	if (!wait_for(l, want_connect, out, timeout_ms))
		return -ETIMEDOUT;
	if (out->connected) {
		out->ping4 = ping(l, ipr, 4, &out->ips, timeout_ms, &out->rtt4_ms);
		out->ping6 = ping(l, ipr, 6, &out->ips, timeout_ms, &out->rtt6_ms);
		struct ipr_request d = { .kind = IPR_REQ_DISCONNECT, .request_id = 2 };
		send_request(l, ipr, &d);
	}
	pthread_mutex_lock(&l->lock);
	out->reply_packets = l->reply_packets;
	pthread_mutex_unlock(&l->lock);
	return 0;
}
