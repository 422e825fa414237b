#include "gateway/gateway_ipr.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/secret.h"
#include "ipr/ipr_bundle.h"
#include "ipr/ipr_packet.h"
#include "mix/mix_envelope.h"
#include "mix/mix_fragment.h"
#include "mix/mix_node_addr.h"
#include "mix/mix_reassembly.h"
#include "mix/mix_reply.h"
#include "policy/policy_compile.h"
#include "sphinx/sphinx_surb.h"

#ifndef NYM_VERSION
#define NYM_VERSION "0.0.0"
#endif

#define NS_PER_MS 1000000ull
#define INDEX_COUNT 65536
/* The longest response: DATA with one bundle holding one 65535-byte packet. */
#define RESPONSE_MAX (IPR_RESPONSE_FIXED_LEN + IPR_BUNDLE_MAX_SINGLE)
#define REASSEMBLY_EXPIRE_NS (1000ull * NS_PER_MS)
/* A bundle of several packets stays one unlinked set (§2.5) and under RESPONSE_MAX. */
#define BUNDLE_MAX_FRAGMENTS 32

struct surb_slot {
	uint8_t *data; /* reply key (16) | SURB */
	uint16_t len;
	uint64_t expires_ns; /* dropped unused after this (UINT64_MAX: never) */
};

struct pending {
	uint8_t *msg;
	size_t len;
};

struct client {
	bool used;
	uint8_t tag[IPR_SENDER_TAG_LEN];
	uint16_t index;
	struct ipr_addr_pair ips;
	uint64_t last_rx_ns;
	uint64_t buffer_timeout_ns;
	struct surb_slot *surbs; /* ring of cfg.max_surbs_per_client */
	size_t surb_head, surb_count;
	bool surb_asked;
	uint64_t surb_asked_ns;
	uint8_t *bundle_buf; /* response header | bundle, built in place */
	struct ipr_bundle_builder bundle;
	bool bundle_bulk; /* holds a packet of more than half a reply packet's data */
	uint64_t bundle_due;
	struct pending *queue; /* ring of cfg.max_pending_responses */
	size_t q_head, q_count;
};

struct gateway_ipr_engine {
	struct gateway_ipr_engine_config cfg;
	struct gateway_ipr_engine_hooks hooks;
	struct nym_rng rng;
	bool has_rng;
	uint8_t secret[32];
	struct policy_compiled policy;
	struct mix_reassembly *reasm;
	uint64_t next_expire_ns;
	size_t plaintext_len, packet_len, per_packet, bundle_limit;
	struct client *clients;
	size_t n_clients;
	uint16_t *by_index; /* address index -> client slot + 1 */
	struct gateway_ipr_stats st;
	/* Scratch: one item, a padded message, a fragment, a reply plaintext and packet. */
	uint8_t *item, *padded, *frag, *plain, *packet;
	size_t item_cap, padded_cap;
};

void gateway_ipr_engine_config_default(struct gateway_ipr_engine_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->max_clients = 1024;
	cfg->max_surbs_per_client = 256;
	cfg->surb_low_water = 20;
	cfg->surb_request_amount = 64;
	cfg->client_idle_ns = 60000ull * NS_PER_MS;
	cfg->buffer_timeout_ns = 5 * NS_PER_MS;
	cfg->fill_wait_ns = 1 * NS_PER_MS;
	cfg->max_buffer_timeout_ns = 1000 * NS_PER_MS;
	cfg->surb_request_retry_ns = 1000 * NS_PER_MS;
	cfg->max_pending_responses = 64;
	cfg->bundle_max_fragments = 8;
	cfg->packet_size = MIX_PACKET_SIZE_REGULAR;
}

int gateway_ipr_engine_new(const struct gateway_ipr_engine_config *cfg, const uint8_t x25519_secret[32],
			   const struct policy *policy, const struct gateway_ipr_engine_hooks *hooks,
			   const struct nym_rng *rng, struct gateway_ipr_engine **out)
{
	if (!cfg || !policy || !hooks || !hooks->tun_write || !hooks->inject || !out)
		return -EINVAL;
	if (cfg->max_clients < 1 || cfg->max_clients > IPR_ADDR_INDEX_MAX || cfg->max_surbs_per_client < 2 ||
	    cfg->max_surbs_per_client > 65535 || cfg->surb_request_amount < 1 ||
	    cfg->surb_request_amount > IPR_MAX_SURBS || cfg->max_pending_responses < 1 ||
	    cfg->max_pending_responses > 100000 || cfg->bundle_max_fragments < 1 ||
	    cfg->bundle_max_fragments > BUNDLE_MAX_FRAGMENTS)
		return -EINVAL;
	struct gateway_ipr_engine *e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->cfg = *cfg;
	if (!e->cfg.build_version)
		e->cfg.build_version = NYM_VERSION;
	e->hooks = *hooks;
	if (rng) {
		e->rng = *rng;
		e->has_rng = true;
	}
	memcpy(e->secret, x25519_secret, 32);
	e->plaintext_len = mix_packet_size_plaintext_len(cfg->packet_size);
	e->packet_len = mix_packet_size_len(cfg->packet_size);
	int rc = -EINVAL;
	/* Replies carry no SURB-ACK: the unacknowledged layout (§2.11), 1997 bytes a packet. */
	if (mix_packet_size_is_outfox(cfg->packet_size) ||
	    mix_fragment_plaintext_per_packet_unacked(cfg->packet_size, &e->per_packet))
		goto fail;
	if (mix_reply_unacked_body_len(e->plaintext_len) != e->per_packet)
		goto fail;
	/* A response of bundle_max_fragments unlinked fragments, each full: their data bytes less
	 * the type byte, the padding marker and the response header (§2.4, §2.5). */
	e->bundle_limit = cfg->bundle_max_fragments * mix_fragment_unlinked_capacity(e->per_packet) - 2 -
			  ipr_response_overhead();
	size_t padded, n;
	if (mix_fragment_message_layout(1 + ipr_response_overhead() + e->bundle_limit, e->per_packet, &padded, &n) ||
	    n != cfg->bundle_max_fragments)
		goto fail;
	if ((rc = policy_compile(policy, &e->policy)))
		goto fail;
	struct mix_reassembly_config rc_cfg = {
		.max_sets = cfg->reassembly_max_sets,
		.max_bytes = cfg->reassembly_max_bytes ? cfg->reassembly_max_bytes : (16u << 20),
		.timeout_ns = cfg->reassembly_timeout_ns ? cfg->reassembly_timeout_ns : 30000ull * NS_PER_MS,
	};
	if ((rc = mix_reassembly_new(&rc_cfg, &e->reasm)))
		goto fail;
	size_t frags;
	rc = -ENOMEM;
	if (mix_fragment_message_layout(1 + RESPONSE_MAX, e->per_packet, &e->padded_cap, &frags))
		goto fail;
	e->item_cap = e->plaintext_len;
	e->clients = calloc(cfg->max_clients, sizeof(*e->clients));
	e->by_index = calloc(INDEX_COUNT, sizeof(*e->by_index));
	e->item = malloc(e->item_cap);
	e->padded = malloc(e->padded_cap);
	e->frag = malloc(e->per_packet);
	e->plain = malloc(e->plaintext_len);
	e->packet = malloc(e->packet_len);
	if (!e->clients || !e->by_index || !e->item || !e->padded || !e->frag || !e->plain || !e->packet)
		goto fail;
	*out = e;
	return 0;
fail:
	gateway_ipr_engine_free(e);
	return rc;
}

static void client_release(struct gateway_ipr_engine *e, struct client *c);

void gateway_ipr_engine_free(struct gateway_ipr_engine *e)
{
	if (!e)
		return;
	if (e->clients)
		for (size_t i = 0; i < e->cfg.max_clients; i++)
			if (e->clients[i].used)
				client_release(e, &e->clients[i]);
	free(e->clients);
	free(e->by_index);
	free(e->item);
	free(e->padded);
	free(e->frag);
	free(e->plain);
	free(e->packet);
	mix_reassembly_free(e->reasm);
	policy_compiled_free(&e->policy);
	nym_memzero(e->secret, sizeof(e->secret));
	free(e);
}

static const struct nym_rng *engine_rng(const struct gateway_ipr_engine *e)
{
	return e->has_rng ? &e->rng : NULL;
}

/* ---- clients ---- */

static struct client *client_by_tag(struct gateway_ipr_engine *e, const uint8_t *tag)
{
	for (size_t i = 0; i < e->cfg.max_clients; i++)
		if (e->clients[i].used && memcmp(e->clients[i].tag, tag, IPR_SENDER_TAG_LEN) == 0)
			return &e->clients[i];
	return NULL;
}

static bool index_taken(const struct ipr_addr_pair *pair, uint16_t r, void *ctx)
{
	(void)pair;
	const struct gateway_ipr_engine *e = ctx;
	return e->by_index[r] != 0;
}

static void surb_slot_free(struct surb_slot *s)
{
	if (s->data) {
		nym_memzero(s->data, s->len);
		free(s->data);
	}
	s->data = NULL;
	s->len = 0;
}

static void client_release(struct gateway_ipr_engine *e, struct client *c)
{
	for (size_t i = 0; i < c->surb_count; i++)
		surb_slot_free(&c->surbs[(c->surb_head + i) % e->cfg.max_surbs_per_client]);
	for (size_t i = 0; i < c->q_count; i++)
		free(c->queue[(c->q_head + i) % e->cfg.max_pending_responses].msg);
	free(c->surbs);
	free(c->queue);
	free(c->bundle_buf);
	e->by_index[c->index] = 0;
	memset(c, 0, sizeof(*c));
	e->n_clients--;
}

/* When a SURB arriving at now_ns stops being usable; non-decreasing in now_ns, so the stock
 * (in arrival order) expires from its head. */
static uint64_t surb_expiry(const struct gateway_ipr_engine_config *cfg, uint64_t now_ns)
{
	uint64_t until = UINT64_MAX;
	if (cfg->surb_max_age_ns && now_ns <= UINT64_MAX - cfg->surb_max_age_ns)
		until = now_ns + cfg->surb_max_age_ns;
	if (cfg->rotation_ns && now_ns >= cfg->rotation_origin_ns) {
		uint64_t next = cfg->rotation_origin_ns +
				((now_ns - cfg->rotation_origin_ns) / cfg->rotation_ns + 1) * cfg->rotation_ns;
		if (next + cfg->overlap_ns < until)
			until = next + cfg->overlap_ns;
	}
	return until;
}

/* Drops the SURBs whose keys are gone, from the head (the stock is in arrival order). */
static void client_expire_surbs(struct gateway_ipr_engine *e, struct client *c, uint64_t now_ns)
{
	while (c->surb_count && now_ns > c->surbs[c->surb_head].expires_ns) {
		surb_slot_free(&c->surbs[c->surb_head]);
		c->surb_head = (c->surb_head + 1) % e->cfg.max_surbs_per_client;
		c->surb_count--;
		e->st.surbs_expired++;
	}
}

static void client_add_surbs(struct gateway_ipr_engine *e, struct client *c, const struct ipr_request *req,
			     uint64_t now_ns)
{
	size_t cap = e->cfg.max_surbs_per_client;
	client_expire_surbs(e, c, now_ns);
	for (size_t i = 0; i < req->surb_count; i++) {
		uint8_t *copy = malloc(req->surb_len);
		if (!copy) {
			e->st.surbs_dropped++;
			continue;
		}
		memcpy(copy, ipr_request_surb(req, i), req->surb_len);
		if (c->surb_count == cap) { /* the oldest goes */
			surb_slot_free(&c->surbs[c->surb_head]);
			c->surb_head = (c->surb_head + 1) % cap;
			c->surb_count--;
			e->st.surbs_dropped++;
		}
		struct surb_slot *s = &c->surbs[(c->surb_head + c->surb_count) % cap];
		s->data = copy;
		s->len = (uint16_t)req->surb_len;
		s->expires_ns = surb_expiry(&e->cfg, now_ns);
		c->surb_count++;
		e->st.surbs_received++;
	}
	if (req->surb_count)
		c->surb_asked = false;
}


/* ---- reply packets ---- */

/* One reply packet carrying one fragment (per_packet bytes in e->frag) through a reply SURB
 * (key | SURB). Consumes nothing: the caller frees the SURB. */
static int send_fragment(struct gateway_ipr_engine *e, const uint8_t *surb_bytes, size_t surb_len)
{
	if (surb_len <= IPR_REPLY_KEY_LEN)
		return -EINVAL;
	struct sphinx_surb surb;
	int rc = sphinx_surb_decode(&surb, surb_bytes + IPR_REPLY_KEY_LEN, surb_len - IPR_REPLY_KEY_LEN);
	if (rc)
		return rc;
	struct net_addr hop;
	size_t consumed;
	if ((rc = mix_reply_seal(e->plain, e->plaintext_len, NULL, surb_bytes, e->frag, e->per_packet)) ||
	    (rc = sphinx_surb_use(&surb, e->packet, e->packet_len, e->plain, e->plaintext_len)) ||
	    (rc = mix_node_addr_decode(surb.first_hop, sizeof(surb.first_hop), &hop.ss, &hop.len, &consumed))) {
		sphinx_surb_clear(&surb);
		return rc;
	}
	sphinx_surb_clear(&surb);
	e->st.reply_packets++;
	rc = e->hooks.inject(e->hooks.ctx, &hop, e->cfg.packet_size, e->packet, e->packet_len);
	if (rc)
		e->st.inject_errors++;
	return rc;
}

/* Pads msg as a Reply NymMessage into e->padded; returns the number of fragments (0 on
 * error). */
static size_t message_prepare(struct gateway_ipr_engine *e, const uint8_t *msg, size_t len, size_t *padded_len)
{
	size_t frags;
	if (mix_fragment_message_layout(1 + len, e->per_packet, padded_len, &frags) || *padded_len > e->padded_cap)
		return 0;
	if (mix_fragment_message_pad(MIX_MESSAGE_REPLY, msg, len, e->per_packet, e->padded, e->padded_cap, padded_len))
		return 0;
	return frags;
}

/* Fragments e->padded and sends each fragment through the SURB next() hands out. */
static int message_send(struct gateway_ipr_engine *e, size_t padded_len,
			const uint8_t *(*next)(void *ctx, size_t *len), void (*done)(void *ctx), void *ctx)
{
	struct mix_fragmenter f;
	int rc = mix_fragmenter_init(&f, e->padded, padded_len, e->per_packet, engine_rng(e));
	if (rc)
		return rc;
	for (;;) {
		size_t w;
		struct mix_fragment_id id;
		rc = mix_fragmenter_next(&f, e->frag, e->per_packet, &w, &id);
		if (rc == -ENODATA)
			return 0;
		if (rc)
			return rc;
		if (w < e->per_packet)
			memset(e->frag + w, 0, e->per_packet - w);
		size_t slen;
		const uint8_t *s = next(ctx, &slen);
		if (!s)
			return -ENOBUFS;
		send_fragment(e, s, slen);
		done(ctx);
	}
}

struct stock_ctx {
	struct gateway_ipr_engine *e;
	struct client *c;
};

static const uint8_t *stock_next(void *ctx, size_t *len)
{
	struct stock_ctx *s = ctx;
	if (!s->c->surb_count)
		return NULL;
	struct surb_slot *slot = &s->c->surbs[s->c->surb_head];
	*len = slot->len;
	return slot->data;
}

static void stock_done(void *ctx)
{
	struct stock_ctx *s = ctx;
	surb_slot_free(&s->c->surbs[s->c->surb_head]);
	s->c->surb_head = (s->c->surb_head + 1) % s->e->cfg.max_surbs_per_client;
	s->c->surb_count--;
}

/* Sends msg through the client's SURBs now if it has enough. */
static bool client_send_now(struct gateway_ipr_engine *e, struct client *c, const uint8_t *msg, size_t len,
			    uint64_t now_ns);

static void client_maybe_ask(struct gateway_ipr_engine *e, struct client *c, size_t need, uint64_t now_ns)
{
	/* Ask when the response leaves the stock under the low-water mark and one SURB is left
	 * for the request, or when the response must wait for SURBs anyway; never take the last
	 * SURB a response that can leave now needs. */
	if (c->surb_count == 0 || c->surb_count == need || c->surb_count >= need + e->cfg.surb_low_water + 1)
		return;
	if (c->surb_asked && now_ns - c->surb_asked_ns < e->cfg.surb_request_retry_ns)
		return;
	uint8_t msg[8];
	size_t w;
	struct ipr_response r = { .kind = IPR_RESP_SURB_REQUEST, .amount = e->cfg.surb_request_amount };
	if (ipr_response_encode(&r, msg, sizeof(msg), &w))
		return;
	size_t padded_len;
	if (message_prepare(e, msg, w, &padded_len) != 1)
		return;
	struct stock_ctx s = { e, c };
	if (message_send(e, padded_len, stock_next, stock_done, &s) == 0) {
		e->st.surb_requests++;
		c->surb_asked = true;
		c->surb_asked_ns = now_ns;
	}
}

static bool client_send_now(struct gateway_ipr_engine *e, struct client *c, const uint8_t *msg, size_t len,
			    uint64_t now_ns)
{
	size_t padded_len, frags = message_prepare(e, msg, len, &padded_len);
	if (!frags) {
		e->st.responses_dropped++;
		return true; /* cannot ever be sent */
	}
	client_expire_surbs(e, c, now_ns);
	client_maybe_ask(e, c, frags, now_ns);
	if (c->surb_count < frags)
		return false;
	/* client_maybe_ask used e->padded: prepare again. */
	message_prepare(e, msg, len, &padded_len);
	struct stock_ctx s = { e, c };
	if (message_send(e, padded_len, stock_next, stock_done, &s))
		e->st.responses_dropped++;
	else
		e->st.responses++;
	return true;
}

static void client_drain(struct gateway_ipr_engine *e, struct client *c, uint64_t now_ns)
{
	size_t qcap = e->cfg.max_pending_responses;
	while (c->q_count) {
		struct pending *p = &c->queue[c->q_head];
		if (!client_send_now(e, c, p->msg, p->len, now_ns))
			return;
		free(p->msg);
		p->msg = NULL;
		c->q_head = (c->q_head + 1) % qcap;
		c->q_count--;
	}
}

/* Sends a response message to the client, or queues it until it has SURBs for it. */
static void client_respond(struct gateway_ipr_engine *e, struct client *c, const uint8_t *msg, size_t len,
			   uint64_t now_ns)
{
	if (c->q_count == 0 && client_send_now(e, c, msg, len, now_ns))
		return;
	size_t qcap = e->cfg.max_pending_responses;
	uint8_t *copy = c->q_count < qcap ? malloc(len) : NULL;
	if (!copy) {
		e->st.responses_dropped++;
		return;
	}
	memcpy(copy, msg, len);
	c->queue[(c->q_head + c->q_count) % qcap] = (struct pending){ copy, len };
	c->q_count++;
}

static void client_respond_struct(struct gateway_ipr_engine *e, struct client *c, const struct ipr_response *r,
				  uint64_t now_ns)
{
	uint8_t msg[IPR_RESPONSE_FIXED_LEN + 16 + 8 + 4 + IPR_INFO_TEXT_MAX + 16];
	size_t w;
	if (ipr_response_encode(r, msg, sizeof(msg), &w)) {
		e->st.responses_dropped++;
		return;
	}
	client_respond(e, c, msg, w, now_ns);
}

/* ---- bundles to the client ---- */

static void client_flush(struct gateway_ipr_engine *e, struct client *c, uint64_t now_ns)
{
	if (!c->bundle.count)
		return;
	struct ipr_response r = { .kind = IPR_RESP_DATA,
				  .bundle = { c->bundle_buf + ipr_response_overhead(), c->bundle.len } };
	size_t w;
	e->st.data_bundles++;
	if (ipr_response_encode(&r, c->bundle_buf, ipr_response_overhead() + e->bundle_limit, &w) == 0)
		client_respond(e, c, c->bundle_buf, w, now_ns);
	else
		e->st.responses_dropped++;
	ipr_bundle_reset(&c->bundle);
	c->bundle_bulk = false;
	c->bundle_due = 0;
}

/* Queues an IP packet for the client: into the current bundle, or alone when it is too big
 * for a bundle. The bundle leaves when the next packet does not fit or no packet could, when
 * its buffer timeout passes (tick), or, with a zero timeout, when the driver has read every
 * packet waiting (gateway_ipr_engine_tun_drained) or ticks: the packets of one read batch
 * share a bundle, and so fill its reply packets, without waiting for more. */
static void client_queue_packet(struct gateway_ipr_engine *e, struct client *c, const uint8_t *pkt, size_t len,
				uint64_t now_ns)
{
	if (len == 0 || len > IPR_BUNDLE_MAX_PACKET)
		return;
	if (len + IPR_BUNDLE_PREFIX_LEN > e->bundle_limit) {
		client_flush(e, c, now_ns);
		uint8_t *msg = malloc(IPR_RESPONSE_FIXED_LEN + IPR_BUNDLE_PREFIX_LEN + len);
		if (!msg) {
			e->st.responses_dropped++;
			return;
		}
		msg[0] = IPR_VERSION;
		msg[1] = IPR_RESP_DATA;
		msg[2] = (uint8_t)(len >> 8);
		msg[3] = (uint8_t)len;
		memcpy(msg + 4, pkt, len);
		e->st.data_bundles++;
		client_respond(e, c, msg, 4 + len, now_ns);
		free(msg);
		return;
	}
	if (!ipr_bundle_fits(&c->bundle, len))
		client_flush(e, c, now_ns);
	if (ipr_bundle_add(&c->bundle, pkt, len))
		return;
	if (len > mix_fragment_unlinked_capacity(e->per_packet) / 2)
		c->bundle_bulk = true;
	if (c->bundle.count == 1)
		c->bundle_due = now_ns + (c->buffer_timeout_ns ? c->buffer_timeout_ns : e->cfg.fill_wait_ns);
	if (!ipr_bundle_fits(&c->bundle, 1))
		client_flush(e, c, now_ns);
}

/* Whether the bundle's last reply packet would leave at most a quarter empty. */
static bool bundle_filled(const struct gateway_ipr_engine *e, const struct client *c)
{
	size_t msg_len = 1 + ipr_response_overhead() + c->bundle.len, padded, n;
	if (mix_fragment_message_layout(msg_len, e->per_packet, &padded, &n))
		return true;
	return padded - msg_len <= mix_fragment_unlinked_capacity(e->per_packet) / 4;
}

/* A read batch is over. Interactive packets leave at once; a bulk transfer's bundle whose
 * last reply packet is still mostly empty waits (fill_wait, or the tick at bundle_due) for the
 * next batch, which a sender in full flow brings within a fraction of a millisecond: reply
 * packets, and the client's SURBs for them, are spent on data rather than padding. */
void gateway_ipr_engine_tun_drained(struct gateway_ipr_engine *e, uint64_t now_ns)
{
	for (size_t i = 0; i < e->cfg.max_clients; i++) {
		struct client *c = &e->clients[i];
		if (c->used && c->bundle.count && c->buffer_timeout_ns == 0 &&
		    (!c->bundle_bulk || now_ns >= c->bundle_due || bundle_filled(e, c)))
			client_flush(e, c, now_ns);
	}
}

/* ---- policy ---- */

/* The one definition nym-ntm's table uses too (policy_match.h). */
static bool net_rejected(const struct gateway_ipr_engine *e, const struct policy_addr *a)
{
	return policy_compiled_network_rejected(&e->policy, a);
}

bool gateway_ipr_engine_allows(const struct gateway_ipr_engine *e, const struct ipr_packet_info *in)
{
	struct policy_addr a = { .family = in->family == 4 ? POLICY_FAMILY_V4 : POLICY_FAMILY_V6 };
	memcpy(a.bytes, in->dst, in->family == 4 ? 4 : 16);
	struct policy_verdict v;
	if (in->later_fragment)
		return !net_rejected(e, &a);
	if (in->has_ports) {
		enum policy_proto p = in->proto == IPR_PACKET_PROTO_TCP ? POLICY_PROTO_TCP : POLICY_PROTO_UDP;
		if (in->dport == 53 && !net_rejected(e, &a))
			return true;
		policy_compiled_lookup(&e->policy, &a, p, in->dport, &v);
		return v.accept;
	}
	if (in->icmp_echo_request) {
		if (!net_rejected(e, &a))
			return true;
		policy_compiled_lookup(&e->policy, &a, POLICY_PROTO_ICMP, 0, &v);
		return v.accept;
	}
	policy_compiled_lookup(&e->policy, &a, POLICY_PROTO_OTHER, 0, &v);
	return v.accept;
}

/* ---- requests ---- */

static void client_data(struct gateway_ipr_engine *e, struct client *c, const struct ipr_request *req,
			uint64_t now_ns)
{
	struct ipr_bundle_iter it;
	const uint8_t *p;
	size_t len;
	ipr_bundle_iter_init(&it, req->bundle.p, req->bundle.len);
	while (ipr_bundle_next(&it, &p, &len) == 0) {
		e->st.packets_in++;
		struct ipr_packet_info in;
		if (ipr_packet_parse(p, len, &in)) {
			e->st.packets_malformed++;
			continue;
		}
		const uint8_t *own = in.family == 4 ? c->ips.v4 : c->ips.v6;
		if (memcmp(in.src, own, in.family == 4 ? 4 : 16) != 0) {
			e->st.packets_spoofed++;
			continue;
		}
		if (gateway_ipr_engine_allows(e, &in)) {
			if (e->hooks.tun_write(e->hooks.ctx, p, in.len))
				e->st.tun_write_errors++;
			else
				e->st.packets_to_tun++;
			continue;
		}
		e->st.packets_refused++;
		uint8_t refusal[IPR_PACKET_REFUSAL_MAX];
		size_t n;
		int rc = in.proto == IPR_PACKET_PROTO_TCP && in.has_ports
				 ? ipr_packet_tcp_reset(&in, refusal, sizeof(refusal), &n)
				 : ipr_packet_icmp_prohibited(p, &in, refusal, sizeof(refusal), &n);
		if (rc == 0)
			client_queue_packet(e, c, refusal, n, now_ns);
	}
}

/* Answers through the first SURB a request carries, for a sender that has no state here. */
static void respond_stateless(struct gateway_ipr_engine *e, const struct ipr_request *req,
			      const struct ipr_response *r)
{
	uint8_t msg[64];
	size_t w, padded_len;
	if (!req->surb_count || ipr_response_encode(r, msg, sizeof(msg), &w) ||
	    message_prepare(e, msg, w, &padded_len) != 1)
		return;
	struct mix_fragmenter f;
	struct mix_fragment_id id;
	if (mix_fragmenter_init(&f, e->padded, padded_len, e->per_packet, engine_rng(e)) ||
	    mix_fragmenter_next(&f, e->frag, e->per_packet, &w, &id))
		return;
	if (send_fragment(e, ipr_request_surb(req, 0), req->surb_len) == 0)
		e->st.responses++;
}

static void handle_connect(struct gateway_ipr_engine *e, const struct ipr_request *req, uint64_t now_ns)
{
	struct ipr_response r = { .kind = IPR_RESP_CONNECT, .request_id = req->request_id };
	struct client *c = client_by_tag(e, req->sender_tag);
	if (c) {
		client_add_surbs(e, c, req, now_ns);
		c->last_rx_ns = now_ns;
		r.reply = IPR_CONNECT_ALREADY_CONNECTED;
		client_respond_struct(e, c, &r, now_ns);
		client_drain(e, c, now_ns);
		return;
	}
	e->st.connect_refused++;
	if (!req->surb_count)
		return; /* nothing to answer with: no state for it either */
	if (e->n_clients >= e->cfg.max_clients) {
		r.reply = IPR_CONNECT_OTHER;
		respond_stateless(e, req, &r);
		return;
	}
	struct ipr_addr_pair ips;
	uint16_t index;
	if (ipr_addr_allocate(engine_rng(e), index_taken, e, &ips, &index)) {
		r.reply = IPR_CONNECT_NO_AVAILABLE_IP;
		respond_stateless(e, req, &r);
		return;
	}
	size_t slot = 0;
	while (e->clients[slot].used)
		slot++;
	c = &e->clients[slot];
	c->surbs = calloc(e->cfg.max_surbs_per_client, sizeof(*c->surbs));
	c->queue = calloc(e->cfg.max_pending_responses, sizeof(*c->queue));
	c->bundle_buf = malloc(ipr_response_overhead() + e->bundle_limit);
	if (!c->surbs || !c->queue || !c->bundle_buf) {
		free(c->surbs);
		free(c->queue);
		free(c->bundle_buf);
		memset(c, 0, sizeof(*c));
		r.reply = IPR_CONNECT_OTHER;
		respond_stateless(e, req, &r);
		return;
	}
	e->st.connect_refused--;
	e->st.connects++;
	c->used = true;
	e->n_clients++;
	memcpy(c->tag, req->sender_tag, IPR_SENDER_TAG_LEN);
	c->index = index;
	c->ips = ips;
	e->by_index[index] = (uint16_t)(slot + 1);
	c->last_rx_ns = now_ns;
	c->buffer_timeout_ns = e->cfg.buffer_timeout_ns;
	if (req->has_buffer_timeout) {
		uint64_t ns = req->buffer_timeout_ms > UINT64_MAX / NS_PER_MS ? UINT64_MAX : req->buffer_timeout_ms * NS_PER_MS;
		c->buffer_timeout_ns = ns > e->cfg.max_buffer_timeout_ns ? e->cfg.max_buffer_timeout_ns : ns;
	}
	ipr_bundle_init(&c->bundle, c->bundle_buf + ipr_response_overhead(), e->bundle_limit, e->bundle_limit);
	client_add_surbs(e, c, req, now_ns);
	r.reply = IPR_CONNECT_SUCCESS;
	r.ips = ips;
	client_respond_struct(e, c, &r, now_ns);
}

static void handle_request(struct gateway_ipr_engine *e, const struct ipr_request *req, uint64_t now_ns)
{
	if (req->kind == IPR_REQ_CONNECT) {
		handle_connect(e, req, now_ns);
		return;
	}
	struct client *c = client_by_tag(e, req->sender_tag);
	if (!c) {
		e->st.unknown_client++;
		return;
	}
	c->last_rx_ns = now_ns;
	client_add_surbs(e, c, req, now_ns);
	struct ipr_response r = { .request_id = req->request_id };
	switch (req->kind) {
	case IPR_REQ_DATA:
		client_data(e, c, req, now_ns);
		break;
	case IPR_REQ_DISCONNECT:
		client_flush(e, c, now_ns);
		r.kind = IPR_RESP_DISCONNECT;
		r.reply = IPR_DISCONNECT_SUCCESS;
		client_respond_struct(e, c, &r, now_ns);
		e->st.disconnects++;
		client_release(e, c);
		return;
	case IPR_REQ_PING:
		r.kind = IPR_RESP_PONG;
		client_respond_struct(e, c, &r, now_ns);
		break;
	case IPR_REQ_HEALTH: {
		r.kind = IPR_RESP_HEALTH;
		r.routable = IPR_ROUTABLE_UNKNOWN;
		size_t n = strlen(e->cfg.build_version);
		r.text = (struct ipr_bytes){ (const uint8_t *)e->cfg.build_version,
					     n > IPR_HEALTH_TEXT_MAX ? IPR_HEALTH_TEXT_MAX : n };
		client_respond_struct(e, c, &r, now_ns);
		break;
	}
	case IPR_REQ_SURBS:
	case IPR_REQ_CONNECT:
		break;
	}
	client_drain(e, c, now_ns);
}

static void handle_message(struct gateway_ipr_engine *e, const uint8_t *padded, size_t len, uint64_t now_ns)
{
	enum mix_message_type type;
	size_t body_len;
	struct ipr_request req;
	if (mix_fragment_message_unpad(padded, len, &type, &body_len) || type != MIX_MESSAGE_REPLIABLE) {
		e->st.messages_malformed++;
		return;
	}
	int rc = ipr_request_decode(padded + 1, body_len, &req);
	if (rc == -EPROTONOSUPPORT) {
		e->st.version_mismatch++;
		/* Answer with INFO when the sender is known and has a SURB left. */
		if (body_len >= 3 + IPR_SENDER_TAG_LEN) {
			struct client *c = client_by_tag(e, padded + 1 + 3);
			if (c) {
				static const char text[] = "unsupported IPR version: this router speaks 0x88";
				struct ipr_response r = { .kind = IPR_RESP_INFO, .code = IPR_INFO_VERSION_MISMATCH,
							  .level = IPR_LEVEL_ERROR,
							  .text = { (const uint8_t *)text, sizeof(text) - 1 } };
				client_respond_struct(e, c, &r, now_ns);
			}
		}
		return;
	}
	if (rc) {
		e->st.messages_malformed++;
		if (rc == -EBADMSG && body_len > 2 && padded[1 + 2] == IPR_REQ_DATA)
			e->st.bundles_malformed++;
		return;
	}
	handle_request(e, &req, now_ns);
}

void gateway_ipr_engine_item(struct gateway_ipr_engine *e, enum mix_packet_size size, const uint8_t *item,
			     size_t len, uint64_t now_ns)
{
	e->st.items++;
	if (!e->next_expire_ns)
		e->next_expire_ns = now_ns + REASSEMBLY_EXPIRE_NS;
	size_t plain = mix_packet_size_plaintext_len(size);
	if (size != e->cfg.packet_size || plain < MIX_SURB_ACK_LEN || len != plain - MIX_SURB_ACK_HOP_LEN ||
	    len > e->item_cap) {
		e->st.items_malformed++;
		return;
	}
	memcpy(e->item, item, len);
	uint8_t *body, *keyed;
	size_t body_len, keyed_len;
	if (mix_envelope_item_split(e->item, len, &keyed, &keyed_len) ||
	    mix_envelope_open(keyed, keyed_len, e->secret, &body, &body_len)) {
		e->st.items_malformed++;
		return;
	}
	struct mix_reassembly_message m = { 0 };
	int rc = mix_reassembly_add_bytes(e->reasm, body, body_len, now_ns, &m);
	nym_memzero(e->item, len);
	if (rc) {
		e->st.items_malformed++;
		return;
	}
	if (!m.data)
		return;
	e->st.messages++;
	handle_message(e, m.data, m.len, now_ns);
	free(m.data);
}

void gateway_ipr_engine_tun(struct gateway_ipr_engine *e, const uint8_t *packet, size_t len, uint64_t now_ns)
{
	e->st.tun_packets++;
	struct ipr_packet_info in;
	if (ipr_packet_parse(packet, len, &in)) {
		e->st.tun_malformed++;
		return;
	}
	uint16_t r;
	int rc = in.family == 4 ? ipr_addr_index_v4(in.dst, &r) : ipr_addr_index_v6(in.dst, &r);
	if (rc || !e->by_index[r]) {
		e->st.tun_unknown++;
		return;
	}
	struct client *c = &e->clients[e->by_index[r] - 1];
	client_queue_packet(e, c, packet, in.len, now_ns);
}

void gateway_ipr_engine_tick(struct gateway_ipr_engine *e, uint64_t now_ns)
{
	if (now_ns >= e->next_expire_ns) {
		mix_reassembly_expire(e->reasm, now_ns);
		e->next_expire_ns = now_ns + REASSEMBLY_EXPIRE_NS;
	}
	for (size_t i = 0; i < e->cfg.max_clients; i++) {
		struct client *c = &e->clients[i];
		if (!c->used)
			continue;
		client_expire_surbs(e, c, now_ns);
		if (now_ns - c->last_rx_ns >= e->cfg.client_idle_ns) {
			if (c->surb_count) {
				uint8_t msg[3];
				size_t w, padded_len;
				struct ipr_response r = { .kind = IPR_RESP_UNREQUESTED_DISCONNECT,
							  .reason = IPR_UNREQUESTED_MIXNET_TIMEOUT };
				struct stock_ctx s = { e, c };
				if (ipr_response_encode(&r, msg, sizeof(msg), &w) == 0 &&
				    message_prepare(e, msg, w, &padded_len) == 1 &&
				    message_send(e, padded_len, stock_next, stock_done, &s) == 0)
					e->st.responses++;
			}
			e->st.idle_released++;
			client_release(e, c);
			continue;
		}
		if (c->bundle.count && now_ns >= c->bundle_due)
			client_flush(e, c, now_ns);
		if (c->q_count)
			client_drain(e, c, now_ns);
	}
}

uint64_t gateway_ipr_engine_next_due(const struct gateway_ipr_engine *e)
{
	uint64_t due = e->next_expire_ns ? e->next_expire_ns : UINT64_MAX;
	for (size_t i = 0; i < e->cfg.max_clients; i++) {
		const struct client *c = &e->clients[i];
		if (!c->used)
			continue;
		uint64_t idle = c->last_rx_ns + e->cfg.client_idle_ns;
		if (idle < due)
			due = idle;
		if (c->bundle.count && c->bundle_due < due)
			due = c->bundle_due;
		if (c->q_count && c->surb_asked && c->surb_asked_ns + e->cfg.surb_request_retry_ns < due)
			due = c->surb_asked_ns + e->cfg.surb_request_retry_ns;
	}
	return due;
}

void gateway_ipr_engine_get_stats(const struct gateway_ipr_engine *e, struct gateway_ipr_stats *out)
{
	*out = e->st;
	out->clients = e->n_clients;
}

int gateway_ipr_engine_client_addr(const struct gateway_ipr_engine *e, const uint8_t tag[IPR_SENDER_TAG_LEN],
				   struct ipr_addr_pair *out)
{
	struct client *c = client_by_tag((struct gateway_ipr_engine *)e, tag);
	if (!c)
		return -ENOENT;
	*out = c->ips;
	return 0;
}

int gateway_ipr_engine_client_surbs(const struct gateway_ipr_engine *e, const uint8_t tag[IPR_SENDER_TAG_LEN])
{
	struct client *c = client_by_tag((struct gateway_ipr_engine *)e, tag);
	return c ? (int)c->surb_count : -ENOENT;
}
