/* The gateway's client link engine (lib/gateway/gateway_link) against hostile bytes.
 *
 * Byte 0: bit 0 clear: the rest goes in raw, before any handshake (Noise framing and handshake
 * messages from a stranger). Bit 0 set: a client completes the Noise handshake first and the
 * rest is plaintext it seals (the link frames a client could send); bit 1 also sends a valid
 * HELLO and AUTH first, so SEND and SPEND_TICKET are reached. Bits 2..7 pick how the stream is
 * cut into reads. The link has a WireGuard engine (in memory, a pool of five pairs) behind its
 * wg hook, so WG_* frames are answered too. Whatever comes in, every byte the gateway writes must decrypt on the client's
 * side into frames a client accepts, and a link that closed takes nothing more. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/ed25519.h"
#include "crypto/secret.h"
#include "fuzz.h"
#include "gateway/gateway_link.h"
#include "gateway/gateway_wg.h"
#include "link/link_msg.h"

#define NOW 1800000000ull

static struct nym_x25519_keypair gw_key, client_key;
static struct nym_ed25519_keypair client_id;
static uint8_t scratch[NOISE_MAX_PLAINTEXT_LEN], cscratch[NOISE_MAX_PLAINTEXT_LEN];
static struct gateway_link link;
static struct noise_session client;
static struct link_frame_decoder cdec;
static struct gateway_link_counters counters;
static uint64_t balance_stored;
static struct gateway_wg *wg;

static int wg_spend(void *ctx, const uint8_t *ticket, size_t len, enum nym_ticket_type type,
		    const uint8_t id[GATEWAY_CLIENT_ID_LEN], uint64_t bytes, uint64_t *balance)
{
	(void)ctx, (void)len, (void)type, (void)id;
	if (ticket[0] == 0xff)
		return -EBADMSG;
	*balance = bytes;
	return 0;
}

static int wg_apply(void *ctx, const struct gateway_wg_action *a)
{
	(void)ctx, (void)a;
	return 0;
}

static int h_wg(void *ctx, const struct link_msg *req, struct link_msg *resp)
{
	(void)ctx;
	return gateway_wg_handle(wg, req, (int64_t)NOW, resp);
}

void fuzz_setup(void)
{
	static const uint8_t s1[32] = { 7, 7, 7 }, s2[32] = { 9, 9, 9 }, seed[32] = { 5 };
	fuzz_x25519_keypair(&gw_key, s1);
	fuzz_x25519_keypair(&client_key, s2);
	nym_ed25519_from_seed(&client_id, seed);
}

static int h_auth(void *ctx, const uint8_t identity[32], uint64_t *balance)
{
	(void)ctx, (void)identity;
	*balance = balance_stored;
	return 0;
}

static int h_spend(void *ctx, const uint8_t *ticket, size_t len, uint64_t *granted)
{
	(void)ctx;
	/* Any verdict the store can give, chosen by the ticket's last byte. */
	static const int verdicts[] = { 0, -EINVAL, -EPERM, -EKEYEXPIRED, -ENOKEY, -EBADMSG, -EALREADY, -EIO };
	int v = verdicts[ticket[len - 1] % 8];
	if (v == 0)
		*granted = 1000 + ticket[len - 2] * 10000ull;
	return v;
}

static int h_saved(void *ctx, const uint8_t identity[32], uint64_t balance)
{
	(void)ctx, (void)identity;
	balance_stored = balance;
	return 0;
}

static int h_forward(void *ctx, enum mix_packet_size size, const struct link_send_entry *e)
{
	(void)ctx;
	if (e->packet_len != mix_packet_size_len(size) || e->key_rotation > 2)
		abort();
	return e->packet[0] == 0xee ? -ENOBUFS : 0;
}

/* Everything the gateway wrote must be a client's valid input. */
static void check_output(bool established)
{
	const uint8_t *out;
	size_t n;
	while ((n = gateway_link_output(&link, &out)) > 0) {
		if (!established) {
			/* Only the handshake's second message can leave before the transport. */
			gateway_link_written(&link, n);
			continue;
		}
		if (noise_session_feed(&client, out, n) != 0)
			abort();
		gateway_link_written(&link, n);
		struct noise_session_event ev;
		int rc;
		while ((rc = noise_session_next(&client, cscratch, sizeof(cscratch), &ev)) == 0) {
			if (!ev.data_len)
				continue;
			if (link_frame_decoder_feed(&cdec, ev.data, ev.data_len) != 0)
				abort();
			struct link_frame f;
			struct link_msg m;
			while ((rc = link_frame_decoder_next(&cdec, &f)) == 0)
				if (link_msg_decode(&f, LINK_FROM_GATEWAY, &m) != 0)
					abort();
			if (rc != -EAGAIN)
				abort();
		}
		if (rc != -EAGAIN)
			abort();
	}
}

static void feed(const uint8_t *b, size_t n, bool established)
{
	bool was_closing = gateway_link_closing(&link);
	int rc = gateway_link_feed(&link, b, n, NOW);
	if (was_closing && rc == 0)
		abort();
	if (rc && !gateway_link_closing(&link))
		abort();
	check_output(established);
}

/* Seals plaintext as a client would and feeds it in pieces of `cut`. */
static void send_plain(const uint8_t *b, size_t n, size_t cut)
{
	static uint8_t sealed[4 * LINK_FRAME_MAX_LEN];
	size_t w;
	while (n) {
		size_t k = n < cut ? n : cut;
		if (noise_session_seal(&client, b, k, sealed, sizeof(sealed), &w) != 0)
			abort();
		feed(sealed, w, true);
		b += k;
		n -= k;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t mode = data[0];
	size_t cut = (size_t)(mode >> 2) * 97 + 1;
	data++;
	size--;
	struct gateway_link_config cfg = { .counters = &counters, .scratch = scratch };
	struct gateway_link_hooks hooks = { NULL, h_auth, h_spend, h_saved, h_forward, h_wg };
	struct gateway_wg_config wcfg = { .ticket_type = NYM_TICKET_WG_ENTRY, .bytes_per_ticket = 5000 };
	struct gateway_wg_hooks wh = { .spend = wg_spend, .apply = wg_apply };
	gateway_wg_pool_default_config(&wcfg.pool);
	wcfg.pool.prefix4 = 29;
	wcfg.pool.prefix6 = 125;
	if (gateway_wg_open(&wg, &wcfg, &client_key, NULL, &wh, (int64_t)NOW) != 0)
		abort();
	balance_stored = 5000;
	if (gateway_link_init(&link, &gw_key, &cfg, &hooks) != 0)
		abort();
	link_frame_decoder_init(&cdec, LINK_FROM_GATEWAY);
	if (!(mode & 1)) {
		for (size_t off = 0; off < size; off += cut)
			feed(data + off, size - off < cut ? size - off : cut, false);
		goto out;
	}
	static const uint8_t seed[32] = { 1 };
	struct nym_seeded_rng st;
	struct nym_rng rng = nym_seeded_rng_init(&st, seed);
	uint8_t first[128];
	size_t n;
	if (noise_session_init(&client, NOISE_INITIATOR, &client_key, gw_key.public_key, &rng) != 0 ||
	    noise_session_start(&client, first, sizeof(first), &n) != 0)
		abort();
	if (gateway_link_feed(&link, first, n, NOW) != 0)
		abort();
	/* message 2 to the client, message 3 back */
	const uint8_t *out;
	size_t olen = gateway_link_output(&link, &out);
	if (noise_session_feed(&client, out, olen) != 0)
		abort();
	gateway_link_written(&link, olen);
	struct noise_session_event ev;
	if (noise_session_next(&client, cscratch, sizeof(cscratch), &ev) != 0 || !ev.send || !ev.established)
		abort();
	if (gateway_link_feed(&link, ev.send, ev.send_len, NOW) != 0 || link.state != GATEWAY_LINK_HELLO)
		abort();
	if (mode & 2) {
		uint8_t buf[256], h[32];
		size_t k;
		struct link_msg m = { .type = LINK_MSG_HELLO, .hello = { 1, 1 } };
		link_msg_encode(&m, buf, sizeof(buf), &k);
		send_plain(buf, k, k);
		noise_session_handshake_hash(&client, h);
		m = (struct link_msg){ .type = LINK_MSG_AUTH };
		link_auth_sign(&client_id, h, NOW, &m.auth);
		link_msg_encode(&m, buf, sizeof(buf), &k);
		send_plain(buf, k, k);
		if (!gateway_link_authenticated(&link))
			abort();
	}
	if (size)
		send_plain(data, size, cut);
	/* A delivery now must be refused or go out well formed. */
	static uint8_t item[2029];
	int rc = gateway_link_deliver(&link, MIX_PACKET_SIZE_REGULAR, item, sizeof(item));
	if (rc != 0 && rc != -ENOTCONN && rc != -EDQUOT && rc != -ENOBUFS)
		abort();
	check_output(true);
	noise_session_clear(&client);
out:
	gateway_link_free(&link);
	gateway_wg_close(wg);
	return 0;
}
