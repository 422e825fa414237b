#include "client/client_engine.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "client/client_route.h"
#include "client/client_surbs.h"
#include "link/link_msg.h"
#include "mix/mix_cover.h"
#include "mix/mix_delay.h"
#include "mix/mix_envelope.h"
#include "mix/mix_reply.h"
#include "mix/mix_surb_ack.h"
#include "sphinx/sphinx_packet.h"

/* Every packet this engine makes is regular: 2048 bytes of plaintext, SURB-ACK | key | body,
 * or zero first hop | key | body without a SURB-ACK (mix_envelope.h). */
#define PLAIN (MIX_REGULAR_PACKET_LEN - MIX_SPHINX_PACKET_OVERHEAD)
#define BODY_LEN (PLAIN - MIX_ENVELOPE_BODY_OFF)		   /* 1611: one fragment */
#define UNACKED_BODY_LEN (PLAIN - MIX_ENVELOPE_UNACKED_BODY_OFF) /* 1997: one without an ack */
#define ITEM_LEN (PLAIN - MIX_SURB_ACK_HOP_LEN)			   /* 2029: what the gateway hands on */
#define ENTRY_LEN (LINK_SEND_ENTRY_OVERHEAD + MIX_REGULAR_PACKET_LEN)
#define VERSION SPHINX_VERSION_259
#define HOPS CLIENT_ROUTE_HOPS
#define EXPIRE_BATCH 32

_Static_assert(CLIENT_ENGINE_ENTRY_LEN == ENTRY_LEN, "the entry length of client_engine.h");
_Static_assert(CLIENT_ENGINE_ITEM_LEN == ITEM_LEN, "the item length of client_engine.h");

struct frag;

/* A message being sent: its recipient and its fragments, so that one failed fragment can
 * abandon the others. */
struct out_msg {
	struct mix_recipient to;
	size_t nfrags, live; /* live: fragments not freed yet */
	bool failed;
	struct frag *frags[];
};

/* A fragment from send until its ack (or failure). It is in the id map while not dead, and in
 * the queue while it waits for the mixed stream (first send or re-send); a dead fragment
 * still in the queue is freed when the queue reaches it. */
struct frag {
	struct frag *next; /* queue */
	struct out_msg *msg;
	size_t index; /* in msg->frags */
	struct mix_fragment_id id;
	bool in_queue, dead, sent;
	bool unacked; /* no SURB-ACK: never in the map, freed once sent */
	uint8_t data[UNACKED_BODY_LEN]; /* the serialised fragment, zero padded (BODY_LEN when acked) */
};

struct in_msg {
	struct in_msg *next;
	enum mix_message_type type;
	uint8_t *data; /* the body, moved to the front of the reassembled buffer */
	size_t len;
};

struct client_engine {
	struct client_engine_config cfg;
	struct nym_rng rng;
	bool has_rng;
	uint8_t ack_key[MIX_ACK_KEY_LEN];
	struct mix_recipient self;
	uint8_t cover_body[BODY_LEN];

	struct client_poisson poisson;
	bool started;
	struct client_ack *ack;
	struct mix_reassembly *reasm;
	struct client_surbs *surbs;

	const struct nym_epoch_doc *doc;
	const struct nym_descriptor_signed *own_gateway;

	struct frag **map; /* open addressing on the fragment id; NULL = empty */
	size_t map_mask, live_frags;
	struct frag *qhead, *qtail;
	size_t queued; /* fragments in the queue that are not dead */

	struct in_msg *rhead, *rtail;
	struct client_engine_stats stats;
};

static const struct nym_rng *rng_of(const struct client_engine *e)
{
	return e->has_rng ? &e->rng : NULL;
}

void client_engine_config_default(struct client_engine_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->average_packet_delay_ns = 15ull * 1000000ull;
	cfg->average_ack_delay_ns = 15ull * 1000000ull;
	client_poisson_config_default(&cfg->poisson);
	client_ack_config_default(&cfg->ack);
	cfg->max_queued_packets = 4096;
	cfg->reply_key_lifetime_ns = CLIENT_SURBS_DEFAULT_LIFETIME_NS;
	cfg->max_reply_keys = CLIENT_SURBS_DEFAULT_MAX_KEYS;
}

/* ---- the fragment map ---- */

static size_t map_home(const struct client_engine *e, const struct mix_fragment_id *id)
{
	uint64_t x = (((uint64_t)(uint32_t)id->set_id << 8) | id->position) * 0x9E3779B97F4A7C15ull;
	return (size_t)(x >> 29) & e->map_mask;
}

static bool id_eq(const struct mix_fragment_id *a, const struct mix_fragment_id *b)
{
	return a->set_id == b->set_id && a->position == b->position;
}

static struct frag *map_find(const struct client_engine *e, const struct mix_fragment_id *id)
{
	for (size_t i = map_home(e, id);; i = (i + 1) & e->map_mask) {
		struct frag *f = e->map[i];
		if (!f || id_eq(&f->id, id))
			return f;
	}
}

static void map_insert(struct client_engine *e, struct frag *f)
{
	size_t i = map_home(e, &f->id);
	while (e->map[i])
		i = (i + 1) & e->map_mask;
	e->map[i] = f;
	e->live_frags++;
}

static void map_remove(struct client_engine *e, const struct frag *f)
{
	size_t i = map_home(e, &f->id);
	while (e->map[i] != f) {
		if (!e->map[i])
			return;
		i = (i + 1) & e->map_mask;
	}
	/* Backward shift: no tombstones. */
	for (size_t j = i;;) {
		j = (j + 1) & e->map_mask;
		struct frag *g = e->map[j];
		if (!g)
			break;
		size_t home = map_home(e, &g->id);
		bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
		if (!stays) {
			e->map[i] = g;
			i = j;
		}
	}
	e->map[i] = NULL;
	e->live_frags--;
}

/* ---- fragments' lives ---- */

static void free_frag(struct frag *f)
{
	struct out_msg *m = f->msg;
	m->frags[f->index] = NULL;
	nym_memzero(f->data, sizeof(f->data));
	free(f);
	if (--m->live == 0)
		free(m);
}

static void enqueue(struct client_engine *e, struct frag *f)
{
	f->next = NULL;
	f->in_queue = true;
	if (e->qtail)
		e->qtail->next = f;
	else
		e->qhead = f;
	e->qtail = f;
	e->queued++;
}

static struct frag *dequeue(struct client_engine *e)
{
	struct frag *f = e->qhead;
	if (!f)
		return NULL;
	e->qhead = f->next;
	if (!e->qhead)
		e->qtail = NULL;
	f->in_queue = false;
	return f;
}

/* Acked, failed or abandoned: out of the map now, freed once out of the queue. */
static void kill_frag(struct client_engine *e, struct frag *f)
{
	if (f->dead)
		return;
	f->dead = true;
	map_remove(e, f);
	if (f->in_queue)
		e->queued--;
	else
		free_frag(f);
}

static void fail_frag(struct client_engine *e, struct frag *f)
{
	struct out_msg *m = f->msg;
	e->stats.fragments_failed++;
	if (!m->failed) {
		m->failed = true;
		e->stats.messages_failed++;
		/* The message cannot complete: stop spending packets on its other fragments. The
		 * message outlives this loop because f is still alive. */
		for (size_t i = 0; i < m->nfrags; i++) {
			struct frag *g = m->frags[i];
			if (!g || g == f || g->dead)
				continue;
			if (g->sent)
				client_ack_forget(e->ack, &g->id);
			kill_frag(e, g);
		}
	}
	kill_frag(e, f);
}

/* ---- set-up ---- */

int client_engine_new(const struct client_engine_config *cfg, const struct nym_rng *rng,
		      struct client_engine **out)
{
	if (!cfg->identity || !cfg->encryption || cfg->max_queued_packets == 0 || cfg->ack.max_tracked == 0 ||
	    cfg->ack.max_tracked > (1u << 28))
		return -EINVAL;
	struct client_engine *e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->cfg = *cfg;
	if (rng) {
		e->rng = *rng;
		e->has_rng = true;
	}
	/* Checks the Poisson configuration now; the streams start at the first poll. */
	int rc = client_poisson_init(&e->poisson, &cfg->poisson, rng_of(e), 0);
	if (rc)
		goto fail;
	rc = client_ack_new(&cfg->ack, rng_of(e), &e->ack);
	if (rc)
		goto fail;
	rc = mix_reassembly_new(&cfg->reassembly, &e->reasm);
	if (rc)
		goto fail;
	struct client_surbs_config sc = { cfg->reply_key_lifetime_ns, cfg->max_reply_keys };
	rc = client_surbs_new(&sc, &e->surbs);
	if (rc)
		goto fail;
	size_t cap = 16;
	while (cap < 2 * cfg->ack.max_tracked)
		cap <<= 1;
	e->map = calloc(cap, sizeof(*e->map));
	if (!e->map) {
		rc = -ENOMEM;
		goto fail;
	}
	e->map_mask = cap - 1;
	nym_rng_fill(rng_of(e), e->ack_key, sizeof(e->ack_key));
	memcpy(e->self.identity, cfg->identity->public_key, 32);
	memcpy(e->self.encryption_key, cfg->encryption->public_key, 32);
	memcpy(e->self.gateway, cfg->gateway_identity, 32);
	mix_cover_loop_body(e->cover_body, sizeof(e->cover_body));
	*out = e;
	return 0;
fail:
	client_engine_free(e);
	return rc;
}

void client_engine_free(struct client_engine *e)
{
	if (!e)
		return;
	/* Dead and unacknowledged fragments live only in the queue; live acked ones are all in the
	 * map. */
	for (struct frag *f = e->qhead, *next; f; f = next) {
		next = f->next;
		f->in_queue = false;
		if (f->dead || f->unacked)
			free_frag(f);
	}
	if (e->map) {
		for (size_t i = 0; i <= e->map_mask; i++)
			if (e->map[i])
				free_frag(e->map[i]);
		free(e->map);
	}
	for (struct in_msg *m = e->rhead, *next; m; m = next) {
		next = m->next;
		free(m->data);
		free(m);
	}
	client_ack_free(e->ack);
	mix_reassembly_free(e->reasm);
	client_surbs_free(e->surbs);
	nym_memzero(e->ack_key, sizeof(e->ack_key));
	free(e);
}

int client_engine_set_topology(struct client_engine *e, const struct nym_epoch_doc *doc)
{
	e->doc = NULL;
	e->own_gateway = NULL;
	if (!doc)
		return -ENOENT;
	int layer;
	const struct nym_descriptor_signed *gw = nym_epoch_doc_find(doc, e->cfg.gateway_identity, &layer);
	if (!gw || layer != NYM_LAYER_NONE)
		return -ENOENT;
	for (int l = 0; l < NYM_LAYERS; l++)
		if (!doc->layer_count[l])
			return -ENOENT;
	e->doc = doc;
	e->own_gateway = gw;
	return 0;
}

void client_engine_address(const struct client_engine *e, struct mix_recipient *out)
{
	*out = e->self;
}

/* ---- building packets ---- */

static const struct nym_descriptor_signed *gateway_of(const struct client_engine *e, const uint8_t identity[32])
{
	int layer;
	if (!e->doc)
		return NULL;
	const struct nym_descriptor_signed *gw = nym_epoch_doc_find(e->doc, identity, &layer);
	return gw && layer == NYM_LAYER_NONE ? gw : NULL;
}

/* A random route to gw with Exp(mean) delays drawn from the engine's randomness. */
static int route_to(const struct client_engine *e, const struct nym_descriptor_signed *gw, uint64_t mean_ns,
		    struct client_route *r)
{
	int missing;
	if (!e->doc || !gw)
		return -ENOTCONN;
	int rc = client_route_pick(e->doc, gw, r, &missing);
	if (rc)
		return rc;
	uint64_t delays[NYM_LAYERS];
	mix_delay_sample_route(mean_ns, rng_of(e), delays, NYM_LAYERS);
	for (int i = 0; i < NYM_LAYERS; i++)
		r->hops[i].delay_ns = delays[i];
	r->hops[NYM_LAYERS].delay_ns = 0;
	return 0;
}

static uint64_t mix_delays(const struct client_route *r)
{
	uint64_t sum = 0;
	for (int i = 0; i < NYM_LAYERS; i++)
		sum += r->hops[i].delay_ns;
	return sum;
}

static int entry_prefix(uint8_t *entry, const struct client_route *r)
{
	return link_send_entry_write_prefix(entry, r->key_rotation, (const struct sockaddr *)&r->addresses[0].ss,
					    r->addresses[0].len);
}

/* What a poll has decided to send, built together when the batch is full or the poll ends. */
struct pending {
	enum client_poisson_event ev;
	struct frag *f; /* REAL */
	int rc;
	const struct mix_recipient *to;
	const uint8_t *body;
	struct client_route r, ar;
	struct mix_surb_ack ack;
};

/* Builds the packets of a batch together, in place in their entries: their SURB-ACKs in one
 * batch, the envelopes sealed straight into the Sphinx payloads in another, then the packets
 * (whose payload encoding is a memmove of the envelope already there). The curve operations
 * of all of them (5 per header, 2 per envelope) run through the eight-lane ladder
 * (crypto/x25519_batch); nothing else touches the curve. Loop cover is built the same way,
 * addressed to this client with the cover body and the cover fragment id (mix_cover). */
static void build_batch(struct client_engine *e, struct pending *pend, size_t np, uint8_t *entries)
{
	static const uint8_t zero_identifier[SPHINX_IDENTIFIER_LEN];
	const struct sphinx_hop *ack_routes[CLIENT_ENGINE_BATCH] = { 0 };
	struct mix_surb_ack acks[CLIENT_ENGINE_BATCH];
	const struct mix_surb_ack *ackp[CLIENT_ENGINE_BATCH];
	struct mix_fragment_id ids[CLIENT_ENGINE_BATCH] = { 0 };
	uint8_t *msgs[CLIENT_ENGINE_BATCH], *packets[CLIENT_ENGINE_BATCH];
	const uint8_t *keys[CLIENT_ENGINE_BATCH], *bodies[CLIENT_ENGINE_BATCH], *cmsgs[CLIENT_ENGINE_BATCH];
	size_t index[CLIENT_ENGINE_BATCH], lens[CLIENT_ENGINE_BATCH], msg_lens[CLIENT_ENGINE_BATCH];
	size_t body_lens[CLIENT_ENGINE_BATCH];
	struct sphinx_packet_params params[CLIENT_ENGINE_BATCH];
	int rc[CLIENT_ENGINE_BATCH];
	size_t m = 0;

	for (size_t i = 0; i < np; i++) {
		struct pending *p = &pend[i];
		bool real = p->ev == CLIENT_POISSON_REAL;
		p->to = real ? &p->f->msg->to : &e->self;
		p->body = real ? p->f->data : e->cover_body;
		p->rc = route_to(e, real ? gateway_of(e, p->to->gateway) : e->own_gateway, e->cfg.average_packet_delay_ns,
				 &p->r);
		if (!p->rc && !(real && p->f->unacked))
			p->rc = route_to(e, e->own_gateway, e->cfg.average_ack_delay_ns, &p->ar);
		if (p->rc || (real && p->f->unacked))
			continue;
		ack_routes[m] = p->ar.hops;
		ids[m] = real ? p->f->id : MIX_FRAGMENT_ID_COVER;
		index[m++] = i;
	}
	mix_surb_ack_create_batch(acks, ack_routes, HOPS, e->self.identity, e->ack_key, ids, VERSION, rng_of(e), rc, m);
	for (size_t j = 0; j < m; j++) {
		pend[index[j]].rc = rc[j];
		pend[index[j]].ack = acks[j];
	}
	/* Every packet still standing, with its SURB-ACK or (unacknowledged) without. */
	size_t k = 0;
	for (size_t i = 0; i < np; i++) {
		struct pending *p = &pend[i];
		if (p->rc)
			continue;
		bool unacked = p->ev == CLIENT_POISSON_REAL && p->f->unacked;
		uint8_t *packet = entries + i * ENTRY_LEN + LINK_SEND_ENTRY_OVERHEAD;
		packets[k] = packet;
		msgs[k] = packet + SPHINX_HEADER_LEN + (SPHINX_PAYLOAD_OVERHEAD - 1);
		ackp[k] = unacked ? NULL : &p->ack;
		body_lens[k] = unacked ? UNACKED_BODY_LEN : BODY_LEN;
		keys[k] = p->to->encryption_key;
		bodies[k] = p->body;
		index[k++] = i;
	}
	mix_envelope_seal_batch(msgs, PLAIN, ackp, keys, bodies, body_lens, rng_of(e), rc, k);
	m = 0;
	for (size_t j = 0; j < k; j++) {
		struct pending *p = &pend[index[j]];
		if ((p->rc = rc[j]) != 0)
			continue;
		packets[m] = packets[j];
		cmsgs[m] = msgs[j];
		lens[m] = MIX_REGULAR_PACKET_LEN;
		msg_lens[m] = PLAIN;
		params[m] = (struct sphinx_packet_params){ .route = p->r.hops, .hops = HOPS,
							   .destination = p->to->identity,
							   .identifier = zero_identifier, .version = VERSION,
							   .rng = rng_of(e) };
		index[m++] = index[j];
	}
	sphinx_packet_create_batch(packets, lens, params, cmsgs, msg_lens, rc, m);
	for (size_t j = 0; j < m; j++) {
		struct pending *p = &pend[index[j]];
		p->rc = rc[j];
		if (!p->rc)
			p->rc = entry_prefix(entries + index[j] * ENTRY_LEN, &p->r);
	}
}

/* Builds the batch into entries[0..np) and closes the gaps of what could not be built.
 * Returns the entries written. A real packet that could not be built counts as lost: its
 * fragment waits for its deadline (with no mixing delay expected) and goes again, perhaps on a
 * later topology. */
static size_t flush(struct client_engine *e, struct pending *pend, size_t np, uint8_t *entries, uint64_t now_ns)
{
	build_batch(e, pend, np, entries);
	size_t w = 0;
	for (size_t i = 0; i < np; i++) {
		struct pending *p = &pend[i];
		if (p->ev == CLIENT_POISSON_REAL && p->f->unacked) {
			/* Sent (or lost when it could not be built): nothing tracks it. */
			free_frag(p->f);
			if (p->rc)
				continue;
			e->stats.real_sent++;
			e->stats.unacked_sent++;
		} else if (p->ev == CLIENT_POISSON_REAL) {
			struct frag *f = p->f;
			bool resend = f->sent;
			uint64_t expected = p->rc ? 0 : mix_delays(&p->r) + p->ack.expected_delay_ns;
			int rc = resend ? client_ack_rearm(e->ack, &f->id, expected, now_ns)
					: client_ack_track(e->ack, &f->id, expected, now_ns);
			f->sent = true;
			if (rc) {
				/* Not tracked (cannot happen while the map mirrors client_ack): nothing
				 * would ever re-send it, so it is given up. */
				kill_frag(e, f);
				continue;
			}
			if (p->rc)
				continue;
			e->stats.real_sent++;
			if (resend)
				e->stats.retransmitted++;
		} else {
			if (p->rc)
				continue;
			if (p->ev == CLIENT_POISSON_COVER)
				e->stats.cover_sent++;
			else
				e->stats.loop_cover_sent++;
		}
		if (w != i)
			memmove(entries + w * ENTRY_LEN, entries + i * ENTRY_LEN, ENTRY_LEN);
		w++;
	}
	return w;
}

/* The next fragment of the queue that is still alive. */
static struct frag *next_queued(struct client_engine *e)
{
	struct frag *f;
	while ((f = dequeue(e))) {
		if (!f->dead) {
			e->queued--;
			return f;
		}
		free_frag(f);
	}
	return NULL;
}

/* Deadlines that passed: re-queue the fragment for a new packet, or fail it at the cap. */
static void expire_acks(struct client_engine *e, uint64_t now_ns)
{
	struct client_ack_due due[EXPIRE_BATCH];
	size_t n;
	do {
		n = client_ack_expire(e->ack, now_ns, due, EXPIRE_BATCH);
		for (size_t i = 0; i < n; i++) {
			struct frag *f = map_find(e, &due[i].id);
			if (!f) {
				if (!due[i].failed)
					client_ack_forget(e->ack, &due[i].id);
				continue;
			}
			if (due[i].failed) {
				fail_frag(e, f);
			} else if (!f->in_queue) {
				enqueue(e, f);
			}
		}
	} while (n == EXPIRE_BATCH);
}

/* ---- the interface ---- */

static int send_message(struct client_engine *e, const struct mix_recipient *to, enum mix_message_type type,
			const uint8_t *msg, size_t len, bool unacked)
{
	const size_t per = unacked ? UNACKED_BODY_LEN : BODY_LEN;
	if (type != MIX_MESSAGE_PLAIN && type != MIX_MESSAGE_REPLIABLE && type != MIX_MESSAGE_REPLY)
		return -EINVAL;
	if (!e->doc)
		return -ENOTCONN;
	if (!gateway_of(e, to->gateway))
		return -EHOSTUNREACH;
	size_t padded_len, nfrags;
	if (len > SIZE_MAX / 2 || mix_fragment_message_layout(len + 1, per, &padded_len, &nfrags))
		return -EMSGSIZE;
	size_t tracked = unacked ? 0 : nfrags;
	if (nfrags > e->cfg.max_queued_packets || tracked > e->cfg.ack.max_tracked)
		return -EMSGSIZE;
	if (e->queued + nfrags > e->cfg.max_queued_packets || e->live_frags + tracked > e->cfg.ack.max_tracked)
		return -ENOBUFS;
	uint8_t *padded = malloc(padded_len);
	struct out_msg *m = calloc(1, sizeof(*m) + nfrags * sizeof(m->frags[0]));
	int rc = -ENOMEM;
	if (!padded || !m)
		goto out;
	size_t written;
	rc = mix_fragment_message_pad(type, msg, len, per, padded, padded_len, &written);
	if (rc)
		goto out;
	m->to = *to;
	m->nfrags = nfrags;
	for (int attempt = 0;; attempt++) {
		struct mix_fragmenter fr;
		rc = mix_fragmenter_init(&fr, padded, written, per, rng_of(e));
		if (rc)
			goto out;
		size_t i;
		for (i = 0; i < nfrags; i++) {
			struct frag *f = m->frags[i];
			if (!f && !(f = m->frags[i] = calloc(1, sizeof(*f)))) {
				rc = -ENOMEM;
				goto out;
			}
			size_t flen;
			memset(f->data, 0, sizeof(f->data));
			rc = mix_fragmenter_next(&fr, f->data, per, &flen, &f->id);
			if (rc)
				goto out;
			f->msg = m;
			f->index = i;
			f->unacked = unacked;
			/* Set ids are random: one may repeat one in flight (2^-31 a set). */
			if (map_find(e, &f->id))
				break;
			for (size_t k = 0; k < i && f; k++)
				if (id_eq(&m->frags[k]->id, &f->id))
					f = NULL;
			if (!f)
				break;
		}
		if (i == nfrags)
			break;
		if (attempt == 3) {
			rc = -EAGAIN;
			goto out;
		}
	}
	for (size_t i = 0; i < nfrags; i++) {
		if (!unacked)
			map_insert(e, m->frags[i]);
		enqueue(e, m->frags[i]);
	}
	m->live = nfrags;
	free(padded);
	return 0;
out:
	if (m) {
		for (size_t i = 0; i < nfrags; i++)
			free(m->frags[i]);
		free(m);
	}
	if (padded) {
		nym_memzero(padded, padded_len);
		free(padded);
	}
	return rc;
}

int client_engine_send(struct client_engine *e, const struct mix_recipient *to, enum mix_message_type type,
		       const uint8_t *msg, size_t len, uint64_t now_ns)
{
	(void)now_ns;
	return send_message(e, to, type, msg, len, false);
}

int client_engine_send_unacked(struct client_engine *e, const struct mix_recipient *to, enum mix_message_type type,
			       const uint8_t *msg, size_t len, uint64_t now_ns)
{
	(void)now_ns;
	return send_message(e, to, type, msg, len, true);
}

int client_engine_make_reply_surbs(struct client_engine *e, size_t n, uint8_t *out, size_t cap,
				   size_t *surb_len, uint64_t now_ns)
{
	const size_t len = CLIENT_SURBS_LEN(HOPS);
	*surb_len = len;
	if (!e->doc)
		return -ENOTCONN;
	if (n > cap / len)
		return -ENOSPC;
	/* In groups whose key exchanges share the eight-lane ladder. */
	struct client_route r[CLIENT_ENGINE_BATCH];
	const struct sphinx_hop *routes[CLIENT_ENGINE_BATCH];
	for (size_t first = 0; first < n; first += CLIENT_ENGINE_BATCH) {
		size_t m = n - first < CLIENT_ENGINE_BATCH ? n - first : CLIENT_ENGINE_BATCH;
		for (size_t j = 0; j < m; j++) {
			int rc = route_to(e, e->own_gateway, e->cfg.average_packet_delay_ns, &r[j]);
			if (rc)
				return rc;
			routes[j] = r[j].hops;
		}
		int rc = client_surbs_make_batch(e->surbs, routes, HOPS, e->self.identity, rng_of(e), now_ns,
						 out + first * len, (n - first) * len, m);
		if (rc)
			return rc;
	}
	return 0;
}

uint64_t client_engine_next_due(const struct client_engine *e, uint64_t now_ns)
{
	if (!e->started)
		return now_ns;
	uint64_t t = client_poisson_next_due(&e->poisson, now_ns, e->queued);
	uint64_t d = client_ack_next_deadline(e->ack);
	return d < t ? d : t;
}

size_t client_engine_poll(struct client_engine *e, uint64_t now_ns, uint8_t *entries, size_t max)
{
	if (!e->started) {
		client_poisson_init(&e->poisson, &e->cfg.poisson, rng_of(e), now_ns);
		e->started = true;
	}
	mix_reassembly_expire(e->reasm, now_ns);
	client_surbs_expire(e->surbs, now_ns);
	expire_acks(e, now_ns);
	struct pending pend[CLIENT_ENGINE_BATCH];
	size_t n = 0, np = 0;
	const bool lifted = e->cfg.poisson.message_sending_average_delay_ns == 0 &&
			    !e->cfg.poisson.disable_main_poisson_packet_distribution;
	while (n + np < max) {
		enum client_poisson_event ev = client_poisson_poll(&e->poisson, now_ns, e->queued);
		if (ev == CLIENT_POISSON_NONE)
			break;
		struct frag *f = NULL;
		if (ev == CLIENT_POISSON_REAL && !(f = next_queued(e)))
			continue;
		for (;;) {
			pend[np++] = (struct pending){ .ev = ev, .f = f };
			if (np == CLIENT_ENGINE_BATCH) {
				n += flush(e, pend, np, entries + n * ENTRY_LEN, now_ns);
				np = 0;
			}
			/* With the rate lifted (mean 0), the mixed stream fires once per poll time;
			 * the engine takes that firing for the whole queue, as fast as the caller
			 * takes entries, so that a throughput run builds full batches. */
			if (!lifted || ev != CLIENT_POISSON_REAL || n + np >= max || !(f = next_queued(e)))
				break;
		}
	}
	if (np)
		n += flush(e, pend, np, entries + n * ENTRY_LEN, now_ns);
	return n;
}

static int garbage(struct client_engine *e)
{
	e->stats.garbage_received++;
	return -EINVAL;
}

static int receive_ack(struct client_engine *e, const uint8_t *item, size_t len)
{
	struct mix_fragment_id id;
	if (len != MIX_ACK_PLAINTEXT_LEN || mix_surb_ack_recognise(item, len, e->ack_key, &id))
		return garbage(e);
	e->stats.acks_received++;
	if (mix_fragment_id_is_cover(&id)) {
		e->stats.cover_acks_received++;
		return 0;
	}
	if (client_ack_received(e->ack, &id) != 0) {
		e->stats.acks_unmatched++;
		return 0;
	}
	struct frag *f = map_find(e, &id);
	if (f)
		kill_frag(e, f);
	return 0;
}

static int receive_message(struct client_engine *e, const uint8_t *item, size_t len, uint64_t now_ns)
{
	if (len != ITEM_LEN)
		return garbage(e);
	uint8_t buf[ITEM_LEN];
	uint8_t key[MIX_REPLY_KEY_LEN];
	uint8_t *body, *keyed;
	size_t body_len, keyed_len;
	memcpy(buf, item, len);
	if (mix_envelope_item_split(buf, len, &keyed, &keyed_len))
		return garbage(e);
	if (client_surbs_take(e->surbs, keyed, now_ns, key) == 0) {
		int rc = mix_reply_open(keyed, keyed_len, key, &body, &body_len);
		nym_memzero(key, sizeof(key));
		if (rc)
			return garbage(e);
		e->stats.replies_received++;
	} else if (mix_envelope_open(keyed, keyed_len, e->cfg.encryption->secret, &body, &body_len)) {
		return garbage(e);
	}
	if (mix_cover_is_loop(body, body_len)) {
		e->stats.cover_received++;
		return 0;
	}
	struct mix_reassembly_message done = { 0 };
	int rc = mix_reassembly_add_bytes(e->reasm, body, body_len, now_ns, &done);
	nym_memzero(buf, sizeof(buf)); /* the plaintext: reassembly keeps its own copy */
	if (rc == -EINVAL || rc == -EMSGSIZE)
		return garbage(e);
	if (rc)
		return rc;
	e->stats.fragments_received++;
	if (!done.data)
		return 0;
	enum mix_message_type type;
	size_t body_n;
	struct in_msg *m = NULL;
	if (mix_fragment_message_unpad(done.data, done.len, &type, &body_n) || !(m = malloc(sizeof(*m)))) {
		free(done.data);
		e->stats.messages_malformed++;
		return 0;
	}
	memmove(done.data, done.data + 1, body_n);
	m->next = NULL;
	m->type = type;
	m->data = done.data;
	m->len = body_n;
	if (e->rtail)
		e->rtail->next = m;
	else
		e->rhead = m;
	e->rtail = m;
	e->stats.messages_received++;
	return 0;
}

int client_engine_receive(struct client_engine *e, enum mix_packet_size size, const uint8_t *item, size_t len,
			  uint64_t now_ns)
{
	if (size == MIX_PACKET_SIZE_ACK)
		return receive_ack(e, item, len);
	if (size == MIX_PACKET_SIZE_REGULAR)
		return receive_message(e, item, len, now_ns);
	return garbage(e);
}

int client_engine_next_message(struct client_engine *e, enum mix_message_type *type, uint8_t **body,
			       size_t *len)
{
	struct in_msg *m = e->rhead;
	if (!m)
		return -ENOENT;
	e->rhead = m->next;
	if (!e->rhead)
		e->rtail = NULL;
	*type = m->type;
	*body = m->data;
	*len = m->len;
	free(m);
	return 0;
}

void client_engine_get_stats(const struct client_engine *e, struct client_engine_stats *out)
{
	*out = e->stats;
	struct client_ack_stats as;
	struct client_poisson_stats ps;
	struct client_surbs_stats ss;
	client_ack_get_stats(e->ack, &as);
	client_poisson_get_stats(&e->poisson, &ps);
	client_surbs_get_stats(e->surbs, &ss);
	out->queued = e->queued;
	out->in_flight = as.tracked;
	out->reply_keys = ss.held;
	out->poisson_late_ns_max = ps.late_ns_max;
}
