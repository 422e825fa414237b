/* The gateway's WireGuard engine (gateway_wg, in memory) driven by a client that is partly
 * honest and partly not, with the client's state machine (client_wg_register) reading every
 * answer. The input is a list of operations:
 *
 *   op % 8 = 0  INIT for client key k (next byte: k % 4)
 *            1  FINAL for key k, built from the gateway's last WG_PENDING for it, with a valid
 *               MAC or one bit flipped, with no ticket or a stand-in ticket (type, serial)
 *            2  a raw client frame: length u8, then that many bytes, through the decoder
 *            3  a meter reading for key k: rx, tx as u16 each
 *            4  tick at now + u16 seconds
 *            5  QUERY for key k;  6  TOPUP for key k (type, serial)
 *            7  the advance of time by a byte
 *
 * Invariants: every answer encodes and decodes as a gateway frame; free, pending and
 * registered pairs add up to the pool (none leaks); an honest gateway's WG_PENDING verifies
 * at the client; a bad MAC never registers; a registered key's pair maps back to it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "client/client_wg_register.h"
#include "fuzz.h"
#include "gateway/gateway_wg.h"
#include "link/link_msg.h"

#define KEYS 4

static struct nym_x25519_keypair gw_key, keys[KEYS];
static uint8_t spent[256];

void fuzz_setup(void)
{
	uint8_t s[32] = { 0x61 };
	fuzz_x25519_keypair(&gw_key, s);
	for (int i = 0; i < KEYS; i++) {
		s[0] = (uint8_t)(0x10 + i);
		fuzz_x25519_keypair(&keys[i], s);
	}
}

static int spend(void *ctx, const uint8_t *ticket, size_t len, enum nym_ticket_type type,
		 const uint8_t id[GATEWAY_CLIENT_ID_LEN], uint64_t bytes, uint64_t *balance)
{
	(void)ctx;
	(void)len;
	(void)id;
	if (ticket[32] != type)
		abort(); /* the engine checks the type first */
	if (spent[ticket[41]])
		return -EALREADY;
	if (ticket[42] == 0xee)
		return -EBADMSG;
	spent[ticket[41]] = 1;
	*balance = bytes;
	return 0;
}

static int apply(void *ctx, const struct gateway_wg_action *a)
{
	(void)ctx;
	return a->key[1] == 0xff ? -EIO : 0;
}

static size_t ticket(uint8_t *t, uint8_t type, uint8_t serial)
{
	memset(t, 0x5a, NYM_TICKET_PREPARED_LEN + 256);
	t[32] = 1 + type % 3;
	memset(t + 33, 0, 8);
	t[41] = serial;
	return NYM_TICKET_PREPARED_LEN + 256;
}

static void check_answer(const struct link_msg *resp)
{
	static uint8_t frame[LINK_FRAME_MAX_LEN];
	struct link_frame_header h;
	struct link_msg back;
	size_t n;
	if (link_msg_encode(resp, frame, sizeof(frame), &n) != 0)
		abort();
	if (link_frame_header_decode(frame, n, LINK_FROM_GATEWAY, &h) != 0)
		abort();
	struct link_frame f = { .header = h, .body = frame + LINK_FRAME_HEADER_LEN, .body_len = n - LINK_FRAME_HEADER_LEN };
	if (link_msg_decode(&f, LINK_FROM_GATEWAY, &back) != 0)
		abort();
}

static void check_pool(struct gateway_wg *g, int64_t now)
{
	struct gateway_wg_stats s;
	gateway_wg_stats(g, now, &s);
	if (s.active_peers > s.total_peers)
		abort();
	/* 10.1.0.0/29: pairs 2..6; none leaks, none is handed out twice. */
	if (s.pairs_free + s.pending + s.total_peers != 5)
		abort();
	for (int i = 0; i < KEYS; i++) {
		bool reg;
		uint64_t bal;
		if (gateway_wg_balance(g, keys[i].public_key, &reg, &bal) != 0)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t t[NYM_TICKET_MAX_LEN];
	struct gateway_wg_config cfg = { .ticket_type = NYM_TICKET_WG_ENTRY, .bytes_per_ticket = 5000, .stale_prealloc_s = 100,
					 .max_pending = 3 };
	struct gateway_wg_hooks hooks = { .spend = spend, .apply = apply };
	struct gateway_wg *g;
	struct link_wg_pending pend[KEYS];
	bool have[KEYS] = { false };
	int64_t now = 1000;
	size_t i = 0;
	memset(spent, 0, sizeof(spent));
	gateway_wg_pool_default_config(&cfg.pool);
	cfg.pool.prefix4 = 29; /* 5 pairs: exhaustion is reachable */
	cfg.pool.prefix6 = 125;
	if (gateway_wg_open(&g, &cfg, &gw_key, NULL, &hooks, now) != 0)
		abort();
	while (i < size) {
		uint8_t op = data[i++];
		uint8_t a = i < size ? data[i] : 0, b = i + 1 < size ? data[i + 1] : 0, c = i + 2 < size ? data[i + 2] : 0;
		int k = a % KEYS;
		struct link_msg m, resp;
		memset(&m, 0, sizeof(m));
		switch (op % 8) {
		case 0: {
			struct client_wg_register cl;
			bool send;
			i += 1;
			client_wg_register_init(&cl, &keys[k], NULL, NULL, 0);
			client_wg_register_start(&cl, &m);
			if (gateway_wg_handle(g, &m, now, &resp) != 0)
				abort();
			check_answer(&resp);
			if (resp.type == LINK_MSG_WG_PENDING) {
				pend[k] = resp.wg_pending;
				have[k] = true;
			}
			struct link_msg fin;
			int rc = client_wg_register_on_msg(&cl, &resp, &fin, &send);
			/* An honest gateway's PENDING always verifies. */
			if (resp.type == LINK_MSG_WG_PENDING && (rc != 0 || !send))
				abort();
			client_wg_register_clear(&cl);
			break;
		}
		case 1:
			i += 3;
			if (!have[k])
				break;
			m.type = LINK_MSG_WG_FINAL;
			memcpy(m.wg_final.client_key, keys[k].public_key, 32);
			m.wg_final.ips = pend[k].ips;
			m.wg_final.nonce = pend[k].nonce;
			link_wg_mac(m.wg_final.mac, keys[k].secret, gw_key.public_key, keys[k].public_key, &pend[k].ips,
				    pend[k].nonce);
			if (b & 1)
				m.wg_final.mac[b % 32] ^= 1;
			if (b & 2) {
				m.wg_final.ticket = t;
				m.wg_final.ticket_len = ticket(t, b >> 2, c);
				if (b & 0x80)
					t[42] = 0xee;
			}
			if (gateway_wg_handle(g, &m, now, &resp) != 0)
				abort();
			check_answer(&resp);
			if ((b & 1) && resp.type == LINK_MSG_WG_REGISTERED)
				abort(); /* a bad MAC never registers */
			break;
		case 2: {
			size_t n = a;
			i += 1;
			if (n > size - i)
				n = size - i;
			struct link_frame_decoder *d = malloc(sizeof(*d));
			struct link_frame f;
			if (!d)
				abort();
			link_frame_decoder_init(d, LINK_FROM_CLIENT);
			if (link_frame_decoder_feed(d, data + i, n) == 0 && link_frame_decoder_next(d, &f) == 0 &&
			    link_msg_decode(&f, LINK_FROM_CLIENT, &m) == 0) {
				int rc = gateway_wg_handle(g, &m, now, &resp);
				if (rc == 0)
					check_answer(&resp);
				else if (rc != -EINVAL)
					abort();
			}
			free(d);
			i += n;
			break;
		}
		case 3: {
			struct gateway_wg_reading r = { .rx = (uint64_t)b << 8 | c, .tx = (uint64_t)c << 4 };
			memcpy(r.key, keys[k].public_key, 32);
			i += 3;
			gateway_wg_meter(g, &r, 1, now);
			break;
		}
		case 4:
			i += 2;
			gateway_wg_tick(g, now + (a << 8 | b));
			break;
		case 5:
			i += 1;
			m.type = LINK_MSG_WG_QUERY;
			memcpy(m.wg_key, keys[k].public_key, 32);
			if (gateway_wg_handle(g, &m, now, &resp) != 0)
				abort();
			check_answer(&resp);
			break;
		case 6:
			i += 3;
			m.type = LINK_MSG_WG_TOPUP;
			memcpy(m.wg_topup.client_key, keys[k].public_key, 32);
			m.wg_topup.ticket = t;
			m.wg_topup.ticket_len = ticket(t, b, c);
			if (gateway_wg_handle(g, &m, now, &resp) != 0)
				abort();
			check_answer(&resp);
			break;
		case 7:
			i += 1;
			now += a;
			break;
		}
		check_pool(g, now);
	}
	/* Every registered key's pair maps back to it. */
	for (int k = 0; k < KEYS; k++) {
		struct link_msg m = { .type = LINK_MSG_WG_INIT }, resp;
		uint8_t who[32];
		bool reg;
		uint64_t bal;
		gateway_wg_balance(g, keys[k].public_key, &reg, &bal);
		if (!reg)
			continue;
		memcpy(m.wg_key, keys[k].public_key, 32);
		if (gateway_wg_handle(g, &m, now, &resp) != 0 || resp.type != LINK_MSG_WG_REGISTERED)
			abort();
		if (gateway_wg_peer_by_addr(g, AF_INET, resp.wg_registered.ips.v4, who) != 0 ||
		    memcmp(who, keys[k].public_key, 32) != 0)
			abort();
		if (gateway_wg_peer_by_addr(g, AF_INET6, resp.wg_registered.ips.v6, who) != 0 ||
		    memcmp(who, keys[k].public_key, 32) != 0)
			abort();
	}
	gateway_wg_close(g);
	return 0;
}
