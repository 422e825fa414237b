#include "client/client_ipr.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipr/ipr_bundle.h"
#include "mix/mix_fragment.h"
#include "mix/mix_packet_size.h"

#define NS_PER_MS 1000000ull
/* The largest reply SURB (key and a 5-hop SURB with payload keys, §9.1). */
#define SURB_MAX_LEN 1356
#define ERROR_TEXT_MAX 256
#define SURB_RETRY_NS (50 * NS_PER_MS)

struct client_ipr {
	struct client_ipr_config cfg;
	struct client_ipr_hooks hooks;
	const struct nym_rng *rng;
	enum client_ipr_state state;
	uint8_t tag[IPR_SENDER_TAG_LEN];
	uint64_t connect_id;	  /* request id of the CONNECT in flight */
	uint64_t next_request_id; /* for PINGs and CONNECTs */
	uint64_t connect_retry_at;
	uint64_t last_request_ns;
	struct ipr_addr_pair ips;
	/* DATA request being filled: header room, then the bundle in place. */
	uint8_t *msg;
	size_t msg_cap;
	struct ipr_bundle_builder bundle;
	uint64_t flush_at; /* UINT64_MAX: no partial bundle waiting */
	size_t surbs_owed; /* asked for by SURB_REQUEST, not sent yet */
	size_t surb_len;   /* of the SURBs make_surbs made last (0: none yet) */
	uint64_t surb_retry_at; /* after a failed top-up (the engine's queue was full) */
	uint64_t last_reply_ns; /* the last response received, or the last starvation top-up */
	unsigned starve_shift;	/* top-ups since the last response: the wait doubles */
	struct client_ipr_stats stats;
	char error[ERROR_TEXT_MAX];
};

void client_ipr_config_default(struct client_ipr_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->initial_surbs = 200;
	cfg->surb_low_water = 150;
	cfg->surb_batch = 100;
	cfg->max_surbs_per_request = 250;
	cfg->buffer_timeout_ns = 5 * NS_PER_MS;
	cfg->ipr_buffer_timeout_ms = CLIENT_IPR_IPR_TIMEOUT_DEFAULT;
	cfg->connect_retry_ns = 10000 * NS_PER_MS;
	cfg->keepalive_ns = 15000 * NS_PER_MS;
	cfg->surb_starve_ns = 1000 * NS_PER_MS;
	cfg->bundle_limit = 0;
}

/* Data bytes of one unlinked fragment of a regular packet (with a SURB-ACK or, unacked,
 * without), less the NymMessage's type byte and padding marker. */
static size_t message_room_of(bool unacked)
{
	size_t per_packet = 0;
	if ((unacked ? mix_fragment_plaintext_per_packet_unacked : mix_fragment_plaintext_per_packet)(
		    MIX_PACKET_SIZE_REGULAR, &per_packet))
		return 0;
	return mix_fragment_unlinked_capacity(per_packet) - 2;
}

static size_t message_room(void)
{
	return message_room_of(false);
}

size_t client_ipr_surbs_per_unacked_request(size_t surb_len)
{
	size_t room = message_room_of(true), around = ipr_request_overhead(1, surb_len) - surb_len;
	return surb_len && room > around ? (room - around) / surb_len : 0;
}

size_t client_ipr_bundle_limit(void)
{
	return message_room() - ipr_request_overhead(0, 0);
}

/* Reply packets a reply message of len bytes took: one SURB each (the message's layout as
 * the IPR pads it, §2.4: type byte, body, padding marker; its replies carry no SURB-ACK). */
static size_t reply_packets(size_t len)
{
	size_t per_packet = 0, padded, frags;
	if (mix_fragment_plaintext_per_packet_unacked(MIX_PACKET_SIZE_REGULAR, &per_packet) ||
	    mix_fragment_message_layout(1 + len, per_packet, &padded, &frags) || !frags)
		return 1;
	return frags;
}

int client_ipr_new(const struct client_ipr_config *cfg, const struct client_ipr_hooks *hooks,
		   const struct nym_rng *rng, struct client_ipr **out)
{
	if (!cfg || !hooks || !hooks->send || !hooks->make_surbs || !hooks->deliver || !out)
		return -EINVAL;
	if (cfg->max_surbs_per_request < 1 || cfg->max_surbs_per_request > IPR_MAX_SURBS ||
	    cfg->initial_surbs > IPR_MAX_SURBS)
		return -EINVAL;
	struct client_ipr *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->cfg = *cfg;
	if (!c->cfg.bundle_limit)
		c->cfg.bundle_limit = client_ipr_bundle_limit();
	c->hooks = *hooks;
	c->rng = rng;
	c->msg_cap = ipr_request_overhead(0, 0) + IPR_BUNDLE_MAX_SINGLE;
	c->msg = malloc(c->msg_cap);
	if (!c->msg || ipr_bundle_init(&c->bundle, c->msg + ipr_request_overhead(0, 0),
				       c->msg_cap - ipr_request_overhead(0, 0), c->cfg.bundle_limit)) {
		free(c->msg);
		free(c);
		return -EINVAL;
	}
	c->flush_at = UINT64_MAX;
	c->connect_retry_at = UINT64_MAX;
	nym_rng_fill(rng, &c->next_request_id, sizeof(c->next_request_id));
	c->next_request_id >>= 1;
	*out = c;
	return 0;
}

void client_ipr_free(struct client_ipr *c)
{
	if (!c)
		return;
	free(c->msg);
	nym_memzero(c, sizeof(*c));
	free(c);
}

enum client_ipr_state client_ipr_state(const struct client_ipr *c)
{
	return c->state;
}

int client_ipr_addresses(const struct client_ipr *c, struct ipr_addr_pair *out)
{
	if (c->state != CLIENT_IPR_CONNECTED)
		return -EAGAIN;
	*out = c->ips;
	return 0;
}

const char *client_ipr_last_error(const struct client_ipr *c)
{
	return c->error;
}

void client_ipr_get_stats(const struct client_ipr *c, struct client_ipr_stats *out)
{
	*out = c->stats;
}

/* Encodes and sends a request carrying n_surbs SURBs of surb_len bytes (none when 0), without
 * a SURB-ACK when unacked (and the owner can). */
static int send_request_with(struct client_ipr *c, struct ipr_request *req, const uint8_t *surbs, size_t n_surbs,
			     size_t surb_len, bool unacked, uint64_t now_ns)
{
	memcpy(req->sender_tag, c->tag, IPR_SENDER_TAG_LEN);
	req->surb_count = n_surbs;
	req->surbs = n_surbs ? surbs : NULL;
	req->surb_len = n_surbs ? surb_len : 0;
	size_t len = 0, written = 0;
	int rc = ipr_request_encoded_len(req, &len);
	uint8_t *buf = rc ? NULL : malloc(len);
	if (!rc && !buf)
		rc = -ENOMEM;
	if (!rc)
		rc = ipr_request_encode(req, buf, len, &written);
	if (rc == 0 && unacked && c->hooks.send_unacked) {
		rc = c->hooks.send_unacked(c->hooks.ctx, buf, written, now_ns);
		if (rc == 0)
			c->stats.unacked_requests++;
	} else if (rc == 0) {
		rc = c->hooks.send(c->hooks.ctx, buf, written, now_ns);
	}
	if (buf) {
		nym_memzero(buf, len);
		free(buf);
	}
	if (rc == 0) {
		c->stats.requests_sent++;
		c->stats.surbs_sent += n_surbs;
		c->stats.surb_stock += (int64_t)n_surbs;
		c->last_request_ns = now_ns;
	} else {
		c->stats.send_failures++;
	}
	return rc;
}

/* Makes n fresh reply SURBs in one go (their curve operations share the eight-lane ladder)
 * into a malloc'd buffer (*surbs, *cap bytes). Their reply keys are secret: the caller wipes
 * and frees the buffer. */
static int make_surbs(struct client_ipr *c, size_t n, uint8_t **surbs, size_t *cap, uint64_t now_ns)
{
	size_t surb_len = 0;
	*cap = n * SURB_MAX_LEN;
	*surbs = malloc(*cap);
	if (!*surbs) {
		c->stats.send_failures++;
		return -ENOMEM;
	}
	int rc = c->hooks.make_surbs(c->hooks.ctx, n, *surbs, *cap, &surb_len, now_ns);
	if (rc)
		c->stats.send_failures++;
	else
		c->surb_len = surb_len;
	return rc;
}

static void drop_surbs(uint8_t *surbs, size_t cap)
{
	if (surbs) {
		nym_memzero(surbs, cap);
		free(surbs);
	}
}

/* send_request_with n_surbs fresh SURBs, acknowledged. */
static int send_request(struct client_ipr *c, struct ipr_request *req, size_t n_surbs, uint64_t now_ns)
{
	uint8_t *surbs = NULL;
	size_t cap = 0;
	int rc = n_surbs ? make_surbs(c, n_surbs, &surbs, &cap, now_ns) : 0;
	if (rc == 0)
		rc = send_request_with(c, req, surbs, n_surbs, c->surb_len, false, now_ns);
	drop_surbs(surbs, cap);
	return rc;
}

int client_ipr_connect(struct client_ipr *c, uint64_t now_ns, uint64_t now_ms)
{
	nym_rng_fill(c->rng, c->tag, sizeof(c->tag));
	c->state = CLIENT_IPR_CONNECTING;
	c->connect_id = ++c->next_request_id;
	c->connect_retry_at = now_ns + c->cfg.connect_retry_ns;
	c->stats.surb_stock = 0; /* a new tag: the IPR holds none for it */
	c->starve_shift = 0;
	c->surbs_owed = 0;
	ipr_bundle_reset(&c->bundle);
	c->flush_at = UINT64_MAX;
	struct ipr_request req = {
		.kind = IPR_REQ_CONNECT,
		.request_id = c->connect_id,
		.timestamp_ms = now_ms,
		.has_buffer_timeout = c->cfg.ipr_buffer_timeout_ms != CLIENT_IPR_IPR_TIMEOUT_DEFAULT,
		.buffer_timeout_ms = c->cfg.ipr_buffer_timeout_ms,
	};
	size_t n = c->cfg.initial_surbs ? c->cfg.initial_surbs : 1;
	return send_request(c, &req, n, now_ns);
}

int client_ipr_ping(struct client_ipr *c, uint64_t request_id, uint64_t now_ns, uint64_t now_ms)
{
	if (c->state != CLIENT_IPR_CONNECTED)
		return -ENOTCONN;
	struct ipr_request req = { .kind = IPR_REQ_PING, .request_id = request_id, .timestamp_ms = now_ms };
	return send_request(c, &req, 0, now_ns);
}

/* Sends the bundle being filled, if any. A failed send drops it (IP recovers, as it would
 * from a loss on the internet). */
static void flush(struct client_ipr *c, uint64_t now_ns)
{
	if (!c->bundle.count)
		return;
	struct ipr_request req = {
		.kind = IPR_REQ_DATA,
		.bundle = { .p = c->bundle.buf, .len = c->bundle.len },
	};
	size_t written = 0;
	memcpy(req.sender_tag, c->tag, IPR_SENDER_TAG_LEN);
	int rc = ipr_request_encode(&req, c->msg, c->msg_cap, &written);
	if (rc == 0)
		rc = c->hooks.send(c->hooks.ctx, c->msg, written, now_ns);
	if (rc == 0) {
		c->stats.requests_sent++;
		c->stats.bundles_sent++;
		c->stats.packets_sent += c->bundle.count;
		c->last_request_ns = now_ns;
	} else {
		c->stats.send_failures++;
		c->stats.packets_dropped += c->bundle.count;
	}
	ipr_bundle_reset(&c->bundle);
	c->flush_at = UINT64_MAX;
}

int client_ipr_send_packet(struct client_ipr *c, const uint8_t *packet, size_t len, uint64_t now_ns)
{
	if (c->state != CLIENT_IPR_CONNECTED) {
		c->stats.packets_dropped++;
		return -ENOTCONN;
	}
	if (!ipr_bundle_fits(&c->bundle, len))
		flush(c, now_ns);
	int rc = ipr_bundle_add(&c->bundle, packet, len);
	if (rc) {
		c->stats.packets_dropped++;
		return rc;
	}
	if (c->bundle.count == 1)
		c->flush_at = now_ns + c->cfg.buffer_timeout_ns;
	/* Full: no other packet would fit. */
	if (c->bundle.len + IPR_BUNDLE_PREFIX_LEN + 1 > c->bundle.limit)
		flush(c, now_ns);
	return 0;
}

void client_ipr_flush(struct client_ipr *c, uint64_t now_ns)
{
	if (c->state == CLIENT_IPR_CONNECTED)
		flush(c, now_ns);
}

static void set_error(struct client_ipr *c, const char *fmt, const char *detail)
{
	snprintf(c->error, sizeof(c->error), fmt, detail);
}

static void copy_text(char *out, size_t cap, const struct ipr_bytes *t)
{
	size_t n = t->len < cap - 1 ? t->len : cap - 1;
	memcpy(out, t->p, n);
	out[n] = 0;
}

/* Sends up to `want` SURBs in SURBS requests. Returns how many went. Unless acked_surb_topups,
 * each request is one unacknowledged packet: as many SURBs as one fits (4 of 460 bytes), so
 * a loss costs only those (the estimate and the IPR's SURB_REQUEST recover them). */
static size_t send_surbs(struct client_ipr *c, size_t want, uint64_t now_ns)
{
	size_t sent = 0;
	size_t fit = client_ipr_surbs_per_unacked_request(c->surb_len ? c->surb_len : SURB_MAX_LEN);
	bool unacked = !c->cfg.acked_surb_topups && c->hooks.send_unacked && fit > 0;
	size_t cap = c->cfg.max_surbs_per_request;
	if (unacked && fit < cap)
		cap = fit;
	/* All of them made together, then cut into requests: top-ups of 4 made one request at a
	 * time would leave half the ladder's lanes idle. */
	uint8_t *surbs = NULL;
	size_t surbs_cap = 0;
	if (!want || make_surbs(c, want, &surbs, &surbs_cap, now_ns))
		return 0;
	while (sent < want) {
		size_t n = want - sent;
		if (n > cap)
			n = cap;
		struct ipr_request req = { .kind = IPR_REQ_SURBS };
		if (send_request_with(c, &req, surbs + sent * c->surb_len, n, c->surb_len, unacked, now_ns))
			break;
		sent += n;
	}
	drop_surbs(surbs, surbs_cap);
	return sent;
}

int client_ipr_on_message(struct client_ipr *c, const uint8_t *body, size_t len, uint64_t now_ns,
			  uint64_t now_ms)
{
	struct ipr_response r;
	c->stats.surb_stock -= (int64_t)reply_packets(len);
	int rc = ipr_response_decode(body, len, &r);
	if (rc) {
		c->stats.malformed_responses++;
		return rc;
	}
	c->stats.responses_received++;
	c->last_reply_ns = now_ns;
	c->starve_shift = 0;
	switch (r.kind) {
	case IPR_RESP_CONNECT:
		if (c->state != CLIENT_IPR_CONNECTING || r.request_id != c->connect_id)
			break; /* an answer to an older attempt */
		c->connect_retry_at = UINT64_MAX;
		if (r.reply == IPR_CONNECT_SUCCESS) {
			c->ips = r.ips;
			c->state = CLIENT_IPR_CONNECTED;
			c->error[0] = 0;
		} else {
			c->state = CLIENT_IPR_FAILED;
			set_error(c, "the IP packet router refused the connection: %s",
				  r.reply == IPR_CONNECT_NO_AVAILABLE_IP	    ? "no available IP"
				  : r.reply == IPR_CONNECT_ALREADY_CONNECTED ? "client already connected"
									    : "other reason");
		}
		break;
	case IPR_RESP_DATA: {
		struct ipr_bundle_iter it;
		const uint8_t *p;
		size_t n;
		ipr_bundle_iter_init(&it, r.bundle.p, r.bundle.len);
		while (ipr_bundle_next(&it, &p, &n) == 0) {
			c->stats.packets_received++;
			c->hooks.deliver(c->hooks.ctx, p, n);
		}
		break;
	}
	case IPR_RESP_SURB_REQUEST:
		c->stats.surb_requests++;
		/* The IPR is short: our estimate was too high. */
		if (c->stats.surb_stock > 0)
			c->stats.surb_stock = 0;
		c->surbs_owed += r.amount;
		if (c->surbs_owed > IPR_MAX_SURBS)
			c->surbs_owed = IPR_MAX_SURBS;
		if (c->state == CLIENT_IPR_CONNECTED || c->state == CLIENT_IPR_CONNECTING)
			c->surbs_owed -= send_surbs(c, c->surbs_owed, now_ns);
		if (c->surbs_owed)
			c->surb_retry_at = now_ns + SURB_RETRY_NS;
		break;
	case IPR_RESP_UNREQUESTED_DISCONNECT:
		c->state = CLIENT_IPR_FAILED;
		set_error(c, "the IP packet router disconnected the client: %s",
			  r.reason == IPR_UNREQUESTED_MIXNET_TIMEOUT ? "mixnet traffic timeout"
			  : r.reason == IPR_UNREQUESTED_TUN_TIMEOUT  ? "TUN traffic timeout"
								     : "other reason");
		break;
	case IPR_RESP_INFO: {
		char text[IPR_INFO_TEXT_MAX + 1];
		c->stats.infos++;
		copy_text(text, sizeof(text), &r.text);
		set_error(c, "IP packet router: %s", text);
		break;
	}
	case IPR_RESP_PONG:
		c->stats.pongs++;
		break;
	case IPR_RESP_DISCONNECT:
		if (c->state == CLIENT_IPR_CONNECTED)
			c->state = CLIENT_IPR_IDLE;
		break;
	case IPR_RESP_HEALTH:
		break;
	}
	(void)now_ms;
	return 0;
}

void client_ipr_keys_rotated(struct client_ipr *c)
{
	c->stats.keys_rotations++;
	if (c->stats.surb_stock > 0)
		c->stats.surb_stock = 0;
}

/* Nothing came back for a while: the IPR may have no SURB left to answer with, not even to
 * ask for more (lost replies make the estimate too high, and a download stalls silently).
 * The wait doubles with every top-up that brings nothing, up to 32 times. */
static uint64_t starve_at(const struct client_ipr *c)
{
	if (!c->cfg.surb_starve_ns || c->state != CLIENT_IPR_CONNECTED)
		return UINT64_MAX;
	return c->last_reply_ns + (c->cfg.surb_starve_ns << c->starve_shift);
}

static bool needs_surbs(const struct client_ipr *c)
{
	return c->surbs_owed || (c->cfg.surb_batch && c->stats.surb_stock < (int64_t)c->cfg.surb_low_water);
}

void client_ipr_poll(struct client_ipr *c, uint64_t now_ns, uint64_t now_ms)
{
	if (c->flush_at <= now_ns)
		flush(c, now_ns);
	if (c->state == CLIENT_IPR_CONNECTING && c->connect_retry_at <= now_ns) {
		client_ipr_connect(c, now_ns, now_ms);
		return;
	}
	if (c->state != CLIENT_IPR_CONNECTED)
		return;
	if (starve_at(c) <= now_ns && c->surb_retry_at <= now_ns) {
		c->stats.starvations++;
		c->stats.surb_stock = 0;
		c->last_reply_ns = now_ns;
		if (c->starve_shift < 5)
			c->starve_shift++;
	}
	if (needs_surbs(c) && c->surb_retry_at <= now_ns) {
		bool short_ = false;
		if (c->surbs_owed) {
			size_t sent = send_surbs(c, c->surbs_owed, now_ns);
			short_ = sent < c->surbs_owed;
			c->surbs_owed -= sent;
		}
		if (!short_ && c->stats.surb_stock < (int64_t)c->cfg.surb_low_water && c->cfg.surb_batch)
			short_ = send_surbs(c, c->cfg.surb_batch, now_ns) < c->cfg.surb_batch;
		c->surb_retry_at = short_ ? now_ns + SURB_RETRY_NS : 0;
	}
	if (c->cfg.keepalive_ns && now_ns >= c->last_request_ns + c->cfg.keepalive_ns)
		client_ipr_ping(c, ++c->next_request_id, now_ns, now_ms);
}

uint64_t client_ipr_next_due(const struct client_ipr *c)
{
	uint64_t due = c->flush_at;
	if (c->state == CLIENT_IPR_CONNECTING && c->connect_retry_at < due)
		due = c->connect_retry_at;
	if (c->state == CLIENT_IPR_CONNECTED) {
		if (needs_surbs(c))
			return c->surb_retry_at;
		if (c->cfg.keepalive_ns && c->last_request_ns + c->cfg.keepalive_ns < due)
			due = c->last_request_ns + c->cfg.keepalive_ns;
		if (starve_at(c) < due)
			due = starve_at(c);
	}
	return due;
}
