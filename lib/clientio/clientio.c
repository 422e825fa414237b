#include "clientio/clientio.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <limits.h>

#include "cred/ticketbook.h"
#include "io/sock.h"
#include "io/uring_loop.h"
#include "link/link_frame.h"
#include "link/link_msg.h"
#include "mix/mix_recipient.h"
#include "net/net_addr.h"
#include "noise/noise_session.h"
#include "util/clock.h"
#include "util/log.h"

#define RING_ENTRIES 64
#define NS_PER_MS 1000000ull
#define NS_PER_S 1000000000ull
#define CONNECT_TIMEOUT_MS 5000
#define HANDSHAKE_TIMEOUT_MS 10000
/* The loop looks at the stop flag at least this often. */
#define TICK_NS (100 * NS_PER_MS)
/* SEND frames are not built while this much is waiting for the socket. */
#define OUT_HIGH_WATER (512 * 1024)
#define TOPOLOGY_RETRY_MS 10000
#define TUN_BUF_LEN 65536
#define READ_BUF_LEN 65536

enum link_phase {
	PHASE_DOWN = 0,
	PHASE_NOISE,	     /* Noise handshake */
	PHASE_WAIT_VERSION,  /* HELLO sent */
	PHASE_WAIT_AUTH_OK,  /* AUTH sent */
	PHASE_WAIT_BANDWIDTH, /* the first ticket sent */
	PHASE_READY,
};

struct conn {
	int fd;
	enum link_phase phase;
	bool dead;
	bool spend_in_flight;
	unsigned inflight; /* poll ops submitted and not completed */
	bool poll_in_armed, poll_out_armed;
	struct uring_loop_op in_op, out_op;
	struct clientio *io;
	struct nym_x25519_keypair noise_static;
	struct noise_session noise;
	struct link_frame_decoder dec;
	uint8_t *out; /* sealed bytes waiting for the socket */
	size_t out_len, out_off, out_cap;
	uint8_t plain[NOISE_MAX_PLAINTEXT_LEN];
	uint8_t rbuf[READ_BUF_LEN];
};

struct clientio {
	struct clientio_config cfg;
	char **urls;
	struct nym_dir_client_trust trust;
	struct nym_dir_client_topology topo[2];
	int topo_cur; /* index into topo of the engine's document, -1 none */
	uint8_t entry_id[32], exit_id[32];
	struct mix_recipient ipr_addr;
	struct client_engine *engine;
	struct client_ipr *ipr;
	uint32_t key_rotation; /* of the topology the engine uses (doc_key_rotation) */
	bool ipr_started;
	struct uring_loop loop;
	struct conn *conn;
	struct conn *zombies[4]; /* dead connections with polls still in flight */
	uint64_t reconnect_at, backoff_ns;
	/* the fetcher thread (under mu) */
	pthread_t fetcher;
	bool fetcher_started;
	pthread_cond_t fetch_cv;
	struct nym_dir_client_topology *pending; /* fetched, not yet installed */
	uint64_t fetched_epoch;
	int64_t fetch_at_ms;
	bool fatal;
	/* TUN */
	struct uring_loop_op tun_op;
	bool tun_armed;
	uint8_t *tunbuf;
	/* frames are built here: header, size class, entries */
	uint8_t fbuf[LINK_FRAME_MAX_LEN];
	/* shared with the caller's thread */
	pthread_t thread;
	bool thread_started;
	atomic_bool stopping;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	enum client_ipr_state ipr_state;
	struct ipr_addr_pair ips;
	char error[CLIENTIO_ERR_MAX];
	char ipr_text[CLIENTIO_ERR_MAX]; /* the IPR session's last text, as published */
	struct clientio_stats stats; /* the driver's own */
	struct clientio_stats pub;   /* its copy for other threads, under mu */
};

void clientio_config_default(struct clientio_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	client_engine_config_default(&cfg->engine);
	client_ipr_config_default(&cfg->ipr_config);
	cfg->tun_fd = -1;
	cfg->http_timeout_ms = 5000;
	cfg->reconnect_min_ns = 500 * NS_PER_MS;
	cfg->reconnect_max_ns = 30 * NS_PER_S;
}

static void set_error(struct clientio *io, bool fatal, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_error(struct clientio *io, bool fatal, const char *fmt, ...)
{
	va_list ap;
	pthread_mutex_lock(&io->mu);
	va_start(ap, fmt);
	vsnprintf(io->error, sizeof(io->error), fmt, ap);
	va_end(ap);
	if (fatal)
		io->fatal = true;
	pthread_cond_broadcast(&io->cv);
	pthread_mutex_unlock(&io->mu);
	nym_log(fatal ? NYM_LOG_ERROR : NYM_LOG_WARN, "client: %s", io->error);
}

static uint64_t now_ms(void)
{
	return (uint64_t)nym_clock_unix_now_ms();
}

/* ---- events ---- */

const char *clientio_event_name(enum clientio_event_kind kind)
{
	switch (kind) {
	case CLIENTIO_EV_TOPOLOGY:
		return "topology";
	case CLIENTIO_EV_GATEWAYS:
		return "gateways";
	case CLIENTIO_EV_LINK_CONNECTING:
		return "link_connecting";
	case CLIENTIO_EV_LINK_UP:
		return "link_up";
	case CLIENTIO_EV_TICKET_SPENT:
		return "ticket_spent";
	case CLIENTIO_EV_TICKETS_LOW:
		return "tickets_low";
	case CLIENTIO_EV_IPR_WAIT:
		return "ipr_wait";
	case CLIENTIO_EV_IPR_UP:
		return "ipr_up";
	case CLIENTIO_EV_LINK_DOWN:
		return "link_down";
	case CLIENTIO_EV_IPR_FAILED:
		return "ipr_failed";
	}
	return "?";
}

static void emit_ev(struct clientio *io, struct clientio_event *ev)
{
	if (!io->cfg.on_event)
		return;
	ev->epoch = io->stats.epoch;
	memcpy(ev->entry, io->entry_id, 32);
	memcpy(ev->exit, io->exit_id, 32);
	if (!ev->detail)
		ev->detail = "";
	io->cfg.on_event(io->cfg.event_ctx, ev);
}

static void emit(struct clientio *io, enum clientio_event_kind kind, size_t tickets_left, const char *detail)
{
	struct clientio_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.kind = kind;
	ev.tickets_left = tickets_left;
	ev.detail = detail;
	emit_ev(io, &ev);
}

/* LINK_DOWN with the reason last recorded. */
static void emit_link_down(struct clientio *io)
{
	if (atomic_load(&io->stopping))
		return;
	char why[CLIENTIO_ERR_MAX];
	pthread_mutex_lock(&io->mu);
	snprintf(why, sizeof(why), "%s", io->error[0] ? io->error : "link lost");
	pthread_mutex_unlock(&io->mu);
	emit(io, CLIENTIO_EV_LINK_DOWN, 0, why);
}

/* ---- topology ---- */

static int fetch_topology(struct clientio *io, struct nym_dir_client_topology *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	return nym_dir_client_fetch_topology((const char *const *)io->urls, io->cfg.authority_count, &io->trust, 0,
					     io->cfg.http_timeout_ms, out, err, errlen);
}

/* The fetcher thread: fetches the next epoch's document a moment after the current one
 * ends, so an authority that is slow to answer never holds up the data path, and leaves it
 * in io->pending for the loop to install. */
static void *fetch_main(void *arg)
{
	struct clientio *io = arg;
	pthread_mutex_lock(&io->mu);
	uint64_t epoch = io->fetched_epoch;
	int64_t next_ms = io->fetch_at_ms;
	while (!atomic_load(&io->stopping)) {
		int64_t now = nym_clock_unix_now_ms();
		if (now < next_ms) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			int64_t wait = next_ms - now;
			ts.tv_sec += wait / 1000;
			ts.tv_nsec += (wait % 1000) * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&io->fetch_cv, &io->mu, &ts);
			continue;
		}
		pthread_mutex_unlock(&io->mu);
		char err[NYM_DIR_ERR_MAX];
		struct nym_dir_client_topology *t = calloc(1, sizeof(*t));
		int rc = t ? fetch_topology(io, t, err, sizeof(err)) : -ENOMEM;
		if (rc)
			nym_log(NYM_LOG_WARN, "client: topology refresh failed: %s", t ? err : "out of memory");
		pthread_mutex_lock(&io->mu);
		if (rc == 0 && t->doc.epoch > epoch) {
			epoch = t->doc.epoch;
			if (io->pending) {
				nym_dir_client_topology_free(io->pending);
				free(io->pending);
			}
			io->pending = t;
			/* A moment after the epoch turns, when the authorities have the next document. */
			next_ms = t->doc.valid_until * 1000 + 2000;
			if (next_ms <= nym_clock_unix_now_ms())
				next_ms = nym_clock_unix_now_ms() + TOPOLOGY_RETRY_MS;
		} else {
			if (t) {
				nym_dir_client_topology_free(t);
				free(t);
			}
			next_ms = nym_clock_unix_now_ms() + TOPOLOGY_RETRY_MS;
		}
	}
	pthread_mutex_unlock(&io->mu);
	return NULL;
}

/* The rotation of the Sphinx keys new packets use: the newest current key of the document's
 * mixnodes (all rotate on one schedule; 0 for a document without mixnodes). */
static uint32_t doc_key_rotation(const struct nym_epoch_doc *doc)
{
	uint32_t r = 0;
	for (size_t l = 0; l < NYM_LAYERS; l++)
		for (size_t i = 0; i < doc->layer_count[l]; i++)
			if (doc->layers[l][i].d.sphinx[0].rotation > r)
				r = doc->layers[l][i].d.sphinx[0].rotation;
	return r;
}

/* Hands a document the fetcher left to the engine (the loop's thread). */
static void install_topology(struct clientio *io)
{
	pthread_mutex_lock(&io->mu);
	struct nym_dir_client_topology *t = io->pending;
	io->pending = NULL;
	pthread_mutex_unlock(&io->mu);
	if (!t)
		return;
	int next = io->topo_cur == 0 ? 1 : 0;
	nym_dir_client_topology_free(&io->topo[next]);
	io->topo[next] = *t;
	free(t);
	int rc = client_engine_set_topology(io->engine, &io->topo[next].doc);
	if (rc) {
		nym_log(NYM_LOG_WARN, "client: epoch %" PRIu64 " is not usable (%s); keeping the last one",
			io->topo[next].doc.epoch, strerror(-rc));
		/* The engine may hold the unusable one now: give it the last good one back. */
		client_engine_set_topology(io->engine, &io->topo[io->topo_cur].doc);
		nym_dir_client_topology_free(&io->topo[next]);
		return;
	}
	nym_dir_client_topology_free(&io->topo[io->topo_cur]);
	io->topo_cur = next;
	io->stats.epoch = io->topo[next].doc.epoch;
	uint32_t rotation = doc_key_rotation(&io->topo[next].doc);
	if (rotation != io->key_rotation && io->ipr)
		client_ipr_keys_rotated(io->ipr);
	io->key_rotation = rotation;
	nym_log(NYM_LOG_INFO, "client: topology of epoch %" PRIu64, io->topo[next].doc.epoch);
}

/* ---- the link: frames out ---- */

static int out_reserve(struct conn *c, size_t more)
{
	if (c->out_off && c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	if (c->out_len + more <= c->out_cap)
		return 0;
	if (c->out_off) {
		memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
		c->out_len -= c->out_off;
		c->out_off = 0;
		if (c->out_len + more <= c->out_cap)
			return 0;
	}
	size_t cap = c->out_cap ? c->out_cap : 65536;
	while (cap < c->out_len + more)
		cap *= 2;
	uint8_t *p = realloc(c->out, cap);
	if (!p)
		return -ENOMEM;
	c->out = p;
	c->out_cap = cap;
	return 0;
}

/* Seals a frame already encoded in io->fbuf (len bytes) into the connection's output. */
static int queue_plain(struct conn *c, const uint8_t *plain, size_t len)
{
	size_t need = noise_session_sealed_len(len), n = 0;
	int rc = out_reserve(c, need);
	if (rc)
		return rc;
	rc = noise_session_seal(&c->noise, plain, len, c->out + c->out_len, c->out_cap - c->out_len, &n);
	if (rc)
		return rc;
	c->out_len += n;
	return 0;
}

static int queue_raw(struct conn *c, const uint8_t *bytes, size_t len)
{
	int rc = out_reserve(c, len);
	if (rc)
		return rc;
	memcpy(c->out + c->out_len, bytes, len);
	c->out_len += len;
	return 0;
}

static int send_msg(struct clientio *io, struct conn *c, const struct link_msg *m)
{
	size_t n = 0;
	int rc = link_msg_encode(m, io->fbuf, sizeof(io->fbuf), &n);
	if (rc)
		return rc;
	rc = queue_plain(c, io->fbuf, n);
	if (rc == 0)
		io->stats.frames_sent++;
	return rc;
}

/* Writes what the socket takes now. Returns 0 (possibly with bytes left), or -errno. */
static int flush_out(struct conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t w = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return -errno;
		}
		c->out_off += (size_t)w;
	}
	c->out_off = c->out_len = 0;
	return 0;
}

/* ---- tickets ---- */

static bool json_name(const char *name)
{
	size_t l = strlen(name);
	return name[0] != '.' && l > 5 && strcmp(name + l - 5, ".json") == 0;
}

int clientio_ticketbook_pick(const char *dir, enum nym_ticket_type type, int64_t now, char *path, size_t cap,
			     size_t *tickets_left)
{
	if (tickets_left)
		*tickets_left = 0;
	DIR *d = opendir(dir);
	if (!d)
		return -errno;
	char best[NAME_MAX + 1] = "";
	int64_t best_expiry = 0;
	size_t total = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!json_name(e->d_name))
			continue;
		char p[PATH_MAX];
		if (snprintf(p, sizeof(p), "%s/%s", dir, e->d_name) >= (int)sizeof(p))
			continue;
		struct nym_ticketbook *book = NULL;
		if (nym_ticketbook_load(&book, p) != 0)
			continue;
		size_t left = nym_ticketbook_unspent(book);
		bool usable = book->state == NYM_TICKETBOOK_READY && book->type == type &&
			      book->expiry > now && left > 0;
		int64_t expiry = book->expiry;
		nym_ticketbook_free(book);
		if (!usable)
			continue;
		total += left;
		if (!best[0] || expiry < best_expiry || (expiry == best_expiry && strcmp(e->d_name, best) < 0)) {
			snprintf(best, sizeof(best), "%s", e->d_name);
			best_expiry = expiry;
		}
	}
	closedir(d);
	if (tickets_left)
		*tickets_left = total;
	if (!best[0])
		return -ENOENT;
	if (snprintf(path, cap, "%s/%s", dir, best) >= (int)cap)
		return -ENAMETOOLONG;
	return 0;
}

static int spend_ticket(struct clientio *io, struct conn *c)
{
	struct nym_ticketbook *book = NULL;
	const char *path = io->cfg.ticketbook_path;
	char picked[PATH_MAX];
	size_t dir_left = 0;
	bool from_dir = false;
	if (!path && io->cfg.ticketbook_dir) {
		int rc = clientio_ticketbook_pick(io->cfg.ticketbook_dir, NYM_TICKET_MIXNET_ENTRY, nym_clock_unix_now(), picked, sizeof(picked),
						  &dir_left);
		if (rc) {
			if (rc == -ENOENT)
				set_error(io, false, "no ready, unexpired mixnet-entry ticket left in %s",
					  io->cfg.ticketbook_dir);
			else
				set_error(io, false, "cannot read the ticketbooks in %s: %s", io->cfg.ticketbook_dir,
					  strerror(-rc));
			emit(io, CLIENTIO_EV_TICKETS_LOW, 0, "no tickets left");
			return -ENOENT;
		}
		path = picked;
		from_dir = true;
	}
	if (!path) {
		set_error(io, false, "the gateway wants bandwidth and no ticketbook was given");
		emit(io, CLIENTIO_EV_TICKETS_LOW, 0, "no ticketbook");
		return -ENOENT;
	}
	int rc = nym_ticketbook_load(&book, path);
	if (rc) {
		set_error(io, false, "cannot read the ticketbook %s: %s", path, strerror(-rc));
		return rc;
	}
	if (book->state != NYM_TICKETBOOK_READY || book->type != NYM_TICKET_MIXNET_ENTRY) {
		set_error(io, true, "the ticketbook %s holds no ready mixnet-entry tickets", path);
		nym_ticketbook_free(book);
		return -EINVAL;
	}
	size_t index;
	rc = nym_ticketbook_take(book, &index);
	if (rc) {
		set_error(io, false, "the ticketbook %s has no unspent ticket left", path);
		nym_ticketbook_free(book);
		emit(io, CLIENTIO_EV_TICKETS_LOW, 0, "no tickets left");
		return -ENOENT;
	}
	size_t left = from_dir ? dir_left - 1 : nym_ticketbook_unspent(book);
	/* Spent in the file before the ticket leaves the process. */
	rc = nym_ticketbook_save(book, path);
	if (rc) {
		set_error(io, false, "cannot save the ticketbook %s: %s", path, strerror(-rc));
		nym_ticketbook_free(book);
		return rc;
	}
	struct link_msg m = { .type = LINK_MSG_SPEND_TICKET };
	uint8_t ticket[LINK_TICKET_MAX_LEN];
	size_t len = 0;
	rc = nym_ticketbook_ticket(book, index, ticket, sizeof(ticket), &len);
	nym_ticketbook_free(book);
	if (rc)
		return rc;
	m.ticket.bytes = ticket;
	m.ticket.len = len;
	rc = send_msg(io, c, &m);
	nym_memzero(ticket, sizeof(ticket));
	if (rc == 0) {
		c->spend_in_flight = true;
		io->stats.tickets_spent++;
		nym_log(NYM_LOG_INFO, "client: spent ticket %zu of %s (%zu left)", index, path, left);
		emit(io, CLIENTIO_EV_TICKET_SPENT, left, path);
		if (left < CLIENTIO_TICKETS_LOW)
			emit(io, CLIENTIO_EV_TICKETS_LOW, left, "few tickets left");
	}
	return rc;
}

/* ---- the link: frames in ---- */

static void drain_messages(struct clientio *io, uint64_t now)
{
	enum mix_message_type type;
	uint8_t *body;
	size_t len;
	while (client_engine_next_message(io->engine, &type, &body, &len) == 0) {
		if (type == MIX_MESSAGE_REPLY && io->ipr)
			client_ipr_on_message(io->ipr, body, len, now, now_ms());
		free(body);
	}
}

static void set_balance(struct clientio *io, uint64_t balance)
{
	io->stats.balance = balance;
}

/* Copies the driver's counters where other threads read them. */
static void publish_stats(struct clientio *io)
{
	client_engine_get_stats(io->engine, &io->stats.engine);
	if (io->ipr)
		client_ipr_get_stats(io->ipr, &io->stats.ipr);
	pthread_mutex_lock(&io->mu);
	io->pub = io->stats;
	pthread_mutex_unlock(&io->mu);
}

/* Returns 0, or an error that ends the connection. */
static int on_frame(struct clientio *io, struct conn *c, const struct link_frame *f, uint64_t now)
{
	struct link_msg m;
	int rc = link_msg_decode(f, LINK_FROM_GATEWAY, &m);
	if (rc)
		return rc;
	io->stats.frames_received++;
	switch (m.type) {
	case LINK_MSG_VERSION: {
		if (c->phase != PHASE_WAIT_VERSION)
			return -EPROTO;
		uint8_t hh[LINK_HANDSHAKE_HASH_LEN];
		rc = noise_session_handshake_hash(&c->noise, hh);
		if (rc)
			return rc;
		struct link_msg auth = { .type = LINK_MSG_AUTH };
		link_auth_sign(io->cfg.engine.identity, hh, (uint64_t)nym_clock_unix_now(), &auth.auth);
		c->phase = PHASE_WAIT_AUTH_OK;
		return send_msg(io, c, &auth);
	}
	case LINK_MSG_AUTH_OK:
		if (c->phase != PHASE_WAIT_AUTH_OK)
			return -EPROTO;
		set_balance(io, m.balance);
		if (m.balance < LINK_LOW_BALANCE_BYTES) {
			rc = spend_ticket(io, c);
			if (rc == 0) {
				c->phase = PHASE_WAIT_BANDWIDTH;
				return 0;
			}
			if (m.balance == 0) {
				/* Nothing would be forwarded: give up, with spend_ticket's reason. */
				pthread_mutex_lock(&io->mu);
				io->fatal = true;
				pthread_cond_broadcast(&io->cv);
				pthread_mutex_unlock(&io->mu);
				return rc;
			}
		}
		c->phase = PHASE_READY;
		return 0;
	case LINK_MSG_BANDWIDTH:
		set_balance(io, m.balance);
		c->spend_in_flight = false;
		if (c->phase == PHASE_WAIT_BANDWIDTH)
			c->phase = PHASE_READY;
		return 0;
	case LINK_MSG_LOW_BALANCE:
		set_balance(io, m.balance);
		if (!c->spend_in_flight && c->phase == PHASE_READY)
			spend_ticket(io, c);
		return 0;
	case LINK_MSG_RECEIVE: {
		if (c->phase < PHASE_WAIT_AUTH_OK)
			return -EPROTO;
		for (size_t i = 0; i < m.packets.count; i++)
			client_engine_receive(io->engine, m.packets.size, m.packets.items + i * m.packets.item_len,
					      m.packets.item_len, now);
		drain_messages(io, now);
		return 0;
	}
	case LINK_MSG_ERROR: {
		const char *name = link_error_name(m.error.code);
		char code[16];
		if (!name) {
			snprintf(code, sizeof(code), "%u", m.error.code);
			name = code;
		}
		switch (m.error.code) {
		case LINK_ERR_BANDWIDTH_EXHAUSTED:
			set_balance(io, 0);
			if (!c->spend_in_flight)
				return spend_ticket(io, c) == 0 || c->phase == PHASE_READY ? 0 : -ENOENT;
			return 0;
		case LINK_ERR_TICKET_SPENT:
		case LINK_ERR_TICKET_REJECTED:
		case LINK_ERR_TICKET_MALFORMED:
			set_error(io, false, "the gateway refused a ticket (%s: %s)", name, m.error.text);
			c->spend_in_flight = false;
			rc = spend_ticket(io, c);
			return c->phase == PHASE_WAIT_BANDWIDTH ? rc : 0;
		case LINK_ERR_AUTH:
		case LINK_ERR_VERSION:
		case LINK_ERR_CLOCK_SKEW:
			set_error(io, true, "the entry gateway refused the link (%s: %s)", name, m.error.text);
			return -EPERM;
		case LINK_ERR_BAD_PACKET:
			nym_log(NYM_LOG_WARN, "client: the gateway refused a packet (%s)", m.error.text);
			return 0;
		default:
			set_error(io, false, "the entry gateway sent ERROR %s: %s", name, m.error.text);
			return -ECONNRESET;
		}
	}
	case LINK_MSG_CLOSE:
		return -ECONNRESET;
	default:
		return -EPROTO;
	}
}

/* Drains what the Noise session and the link decoder hold. */
static int process_input(struct clientio *io, struct conn *c, uint64_t now)
{
	for (;;) {
		struct noise_session_event ev;
		int rc = noise_session_next(&c->noise, c->plain, sizeof(c->plain), &ev);
		if (rc == -EAGAIN)
			return 0;
		if (rc)
			return rc;
		if (ev.send && (rc = queue_raw(c, ev.send, ev.send_len)))
			return rc;
		if (ev.established) {
			struct link_msg hello = { .type = LINK_MSG_HELLO,
						  .hello = { LINK_VERSION_MIN, LINK_VERSION_MAX } };
			c->phase = PHASE_WAIT_VERSION;
			if ((rc = send_msg(io, c, &hello)))
				return rc;
		}
		if (!ev.data)
			continue;
		if ((rc = link_frame_decoder_feed(&c->dec, ev.data, ev.data_len)))
			return rc;
		for (;;) {
			struct link_frame f;
			rc = link_frame_decoder_next(&c->dec, &f);
			if (rc == -EAGAIN)
				break;
			if (rc)
				return rc;
			if ((rc = on_frame(io, c, &f, now)))
				return rc;
		}
	}
}

static int read_some(struct clientio *io, struct conn *c, uint64_t now)
{
	for (;;) {
		ssize_t n = recv(c->fd, c->rbuf, sizeof(c->rbuf), MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return -errno;
		}
		if (n == 0)
			return -ECONNRESET;
		int rc = noise_session_feed(&c->noise, c->rbuf, (size_t)n);
		if (rc == 0)
			rc = process_input(io, c, now);
		if (rc)
			return rc;
		if ((size_t)n < sizeof(c->rbuf))
			return 0;
	}
}

/* ---- connection set-up (blocking, with timeouts) ---- */

static int connect_to(const struct nym_descriptor *d, uint32_t mark, int *fd_out, char *where, size_t wlen)
{
	int last = -EHOSTUNREACH;
	for (size_t i = 0; i < d->address_count; i++) {
		struct net_addr a;
		if (net_addr_parse(&a, d->addresses[i], d->clients_port) != 0)
			continue;
		net_addr_set_port(&a, d->clients_port);
		net_addr_format((const struct sockaddr *)&a.ss, where);
		(void)wlen;
		int fd = socket(a.ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd < 0) {
			last = -errno;
			continue;
		}
		/* Marked before connect: the SYN already leaves through the physical route (policy
		 * routing) and past the kill switch. */
		if (mark && setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) != 0) {
			last = -errno;
			close(fd);
			continue;
		}
		int rc = connect(fd, (const struct sockaddr *)&a.ss, a.len);
		if (rc != 0 && errno == EINPROGRESS) {
			struct pollfd p = { .fd = fd, .events = POLLOUT };
			rc = poll(&p, 1, CONNECT_TIMEOUT_MS);
			int soerr = 0;
			socklen_t sl = sizeof(soerr);
			if (rc == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr == 0) {
				rc = 0;
			} else {
				errno = rc == 0 ? ETIMEDOUT : (soerr ? soerr : errno);
				rc = -1;
			}
		}
		if (rc != 0) {
			last = -errno;
			close(fd);
			continue;
		}
		sock_tcp_tune(fd);
		*fd_out = fd;
		return 0;
	}
	return last;
}

static void conn_free(struct conn *c)
{
	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	noise_session_clear(&c->noise);
	nym_memzero(&c->noise_static, sizeof(c->noise_static));
	free(c->out);
	free(c);
}

static void on_conn_poll_in(struct uring_loop_op *op, int res, uint32_t flags);
static void on_conn_poll_out(struct uring_loop_op *op, int res, uint32_t flags);

/* Opens a link to the entry gateway, up to PHASE_READY. */
static int open_link(struct clientio *io, struct conn **out)
{
	const struct nym_descriptor_signed *gw = NULL;
	const struct nym_epoch_doc *doc = &io->topo[io->topo_cur].doc;
	char where[NET_ADDR_STR_LEN] = "?";
	int layer;
	gw = nym_epoch_doc_find(doc, io->entry_id, &layer);
	{
		char list[NYM_DESCRIPTOR_ADDRS_MAX * (NET_ADDR_STR_LEN + 2)] = "";
		size_t off = 0;
		for (size_t i = 0; gw && i < gw->d.address_count; i++) {
			struct net_addr a;
			char one[NET_ADDR_STR_LEN];
			if (net_addr_parse(&a, gw->d.addresses[i], gw->d.clients_port) != 0)
				continue;
			net_addr_set_port(&a, gw->d.clients_port);
			net_addr_format((const struct sockaddr *)&a.ss, one);
			int k = snprintf(list + off, sizeof(list) - off, "%s%s", off ? ", " : "", one);
			if (k > 0 && (size_t)k < sizeof(list) - off)
				off += (size_t)k;
		}
		emit(io, CLIENTIO_EV_LINK_CONNECTING, 0, list);
	}
	if (!gw || !gw->d.clients_port) {
		set_error(io, false, "the entry gateway is not in the topology of epoch %" PRIu64 " (or has no clients port)",
			  doc->epoch);
		return -ENOENT;
	}
	struct conn *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->fd = -1;
	c->io = io;
	c->in_op.cb = on_conn_poll_in;
	c->out_op.cb = on_conn_poll_out;
	link_frame_decoder_init(&c->dec, LINK_FROM_GATEWAY);
	nym_x25519_generate(&c->noise_static);
	int rc = connect_to(&gw->d, io->cfg.fwmark, &c->fd, where, sizeof(where));
	if (rc) {
		set_error(io, false, "cannot connect to the entry gateway at %s: %s", where, strerror(-rc));
		conn_free(c);
		return rc;
	}
	rc = noise_session_init(&c->noise, NOISE_INITIATOR, &c->noise_static, gw->d.noise_key, NULL);
	uint8_t first[NOISE_FRAME_HEADER_LEN + NOISE_HANDSHAKE_MAX_LEN];
	size_t n = 0;
	if (rc == 0)
		rc = noise_session_start(&c->noise, first, sizeof(first), &n);
	if (rc == 0)
		rc = queue_raw(c, first, n);
	c->phase = PHASE_NOISE;
	uint64_t deadline = nym_clock_now_ns() + HANDSHAKE_TIMEOUT_MS * NS_PER_MS;
	while (rc == 0 && c->phase != PHASE_READY) {
		rc = flush_out(c);
		if (rc)
			break;
		uint64_t now = nym_clock_now_ns();
		if (now >= deadline) {
			rc = -ETIMEDOUT;
			break;
		}
		struct pollfd p = { .fd = c->fd, .events = POLLIN | (c->out_off < c->out_len ? POLLOUT : 0) };
		int pr = poll(&p, 1, (int)((deadline - now) / NS_PER_MS) + 1);
		if (pr < 0 && errno != EINTR) {
			rc = -errno;
			break;
		}
		if (pr > 0 && (p.revents & (POLLIN | POLLHUP | POLLERR)))
			rc = read_some(io, c, nym_clock_now_ns());
		if (atomic_load(&io->stopping))
			rc = -ECANCELED;
	}
	if (rc == 0)
		rc = flush_out(c);
	if (rc) {
		if (!io->fatal)
			set_error(io, false, "link to the entry gateway at %s failed: %s", where, strerror(-rc));
		conn_free(c);
		return rc;
	}
	nym_log(NYM_LOG_INFO, "client: link to the entry gateway at %s is up", where);
	*out = c;
	emit(io, CLIENTIO_EV_LINK_UP, 0, where);
	return 0;
}

/* ---- the loop ---- */

static void conn_arm(struct clientio *io, struct conn *c)
{
	if (c->dead)
		return;
	if (!c->poll_in_armed) {
		struct io_uring_sqe *sqe = uring_loop_sqe(&io->loop, &c->in_op);
		io_uring_prep_poll_add(sqe, c->fd, POLLIN);
		c->poll_in_armed = true;
		c->inflight++;
	}
	if (!c->poll_out_armed && c->out_off < c->out_len) {
		struct io_uring_sqe *sqe = uring_loop_sqe(&io->loop, &c->out_op);
		io_uring_prep_poll_add(sqe, c->fd, POLLOUT);
		c->poll_out_armed = true;
		c->inflight++;
	}
}

static void link_lost(struct clientio *io, struct conn *c, int err)
{
	if (c->dead)
		return;
	c->dead = true;
	io->stats.link_failures++;
	if (err && !io->fatal)
		set_error(io, false, "link to the entry gateway lost: %s", strerror(-err));
	shutdown(c->fd, SHUT_RDWR); /* completes the polls in flight */
	if (io->conn == c)
		io->conn = NULL;
	emit_link_down(io);
	uint64_t now = nym_clock_now_ns();
	io->reconnect_at = now + io->backoff_ns;
	io->backoff_ns = io->backoff_ns * 2 > io->cfg.reconnect_max_ns ? io->cfg.reconnect_max_ns : io->backoff_ns * 2;
	if (c->inflight == 0) {
		conn_free(c);
		return;
	}
	for (size_t i = 0; i < sizeof(io->zombies) / sizeof(io->zombies[0]); i++)
		if (!io->zombies[i]) {
			io->zombies[i] = c;
			return;
		}
	/* No slot: leak rather than free memory the ring still points at (never with 4 slots
	 * and at most one connection dying per backoff step). */
}

static void conn_op_done(struct clientio *io, struct conn *c)
{
	c->inflight--;
	if (c->dead && c->inflight == 0) {
		for (size_t i = 0; i < sizeof(io->zombies) / sizeof(io->zombies[0]); i++)
			if (io->zombies[i] == c)
				io->zombies[i] = NULL;
		conn_free(c);
	}
}

static void on_conn_poll_in(struct uring_loop_op *op, int res, uint32_t flags)
{
	(void)flags;
	struct conn *c = container_of(op, struct conn, in_op);
	struct clientio *io = c->io;
	c->poll_in_armed = false;
	if (!c->dead) {
		int rc = res < 0 ? res : read_some(io, c, io->loop.now_ns);
		if (rc == 0)
			rc = flush_out(c);
		if (rc)
			link_lost(io, c, rc);
	}
	conn_op_done(io, c);
}

static void on_conn_poll_out(struct uring_loop_op *op, int res, uint32_t flags)
{
	(void)flags;
	struct conn *c = container_of(op, struct conn, out_op);
	struct clientio *io = c->io;
	c->poll_out_armed = false;
	if (!c->dead) {
		int rc = res < 0 ? res : flush_out(c);
		if (rc)
			link_lost(io, c, rc);
	}
	conn_op_done(io, c);
}

static void arm_tun(struct clientio *io)
{
	if (io->cfg.tun_fd < 0 || io->tun_armed)
		return;
	struct io_uring_sqe *sqe = uring_loop_sqe(&io->loop, &io->tun_op);
	io_uring_prep_poll_add(sqe, io->cfg.tun_fd, POLLIN);
	io->tun_armed = true;
}

static void on_tun(struct uring_loop_op *op, int res, uint32_t flags)
{
	(void)flags;
	struct clientio *io = container_of(op, struct clientio, tun_op);
	io->tun_armed = false;
	if (res < 0)
		return;
	bool drained = false;
	for (int i = 0; i < 256; i++) {
		ssize_t n = read(io->cfg.tun_fd, io->tunbuf, TUN_BUF_LEN);
		if (n <= 0) {
			drained = n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
			break;
		}
		io->stats.tun_packets_in++;
		if (io->ipr)
			client_ipr_send_packet(io->ipr, io->tunbuf, (size_t)n, io->loop.now_ns);
	}
	/* Nothing more to read: a partial bundle goes now unless real packets wait in the engine
	 * anyway (then it may still fill while they wait, until its timeout). */
	if (drained && io->ipr) {
		struct client_engine_stats es;
		client_engine_get_stats(io->engine, &es);
		if (io->cfg.ipr_flush_when_idle || es.queued == 0)
			client_ipr_flush(io->ipr, io->loop.now_ns);
	}
}

static void pump_send(struct clientio *io, struct conn *c, uint64_t now)
{
	size_t per_frame = link_packets_per_frame(LINK_MSG_SEND, MIX_PACKET_SIZE_REGULAR);
	size_t entry_len = link_send_entry_len(MIX_PACKET_SIZE_REGULAR);
	while (!c->dead && c->phase == PHASE_READY && c->out_len - c->out_off < OUT_HIGH_WATER) {
		size_t n = client_engine_poll(io->engine, now, io->fbuf + LINK_PACKETS_OFFSET, per_frame);
		if (n == 0)
			break;
		struct link_msg m = { .type = LINK_MSG_SEND };
		m.packets.size = MIX_PACKET_SIZE_REGULAR;
		m.packets.count = n;
		m.packets.item_len = entry_len;
		m.packets.items = io->fbuf + LINK_PACKETS_OFFSET;
		int rc = send_msg(io, c, &m);
		if (rc) {
			nym_log(NYM_LOG_WARN, "client: cannot build a SEND frame: %s", strerror(-rc));
			break;
		}
		if (n < per_frame)
			break;
	}
	int rc = flush_out(c);
	if (rc)
		link_lost(io, c, rc);
}

static void publish_ipr_state(struct clientio *io)
{
	if (!io->ipr)
		return;
	enum client_ipr_state st = client_ipr_state(io->ipr);
	const char *text = client_ipr_last_error(io->ipr);
	bool changed = false;
	pthread_mutex_lock(&io->mu);
	/* INFO texts (an exit policy refusal, ...) are shown like link problems. */
	if (text[0] && strcmp(text, io->ipr_text) != 0) {
		snprintf(io->ipr_text, sizeof(io->ipr_text), "%s", text);
		snprintf(io->error, sizeof(io->error), "%s", text);
	}
	if (st != io->ipr_state) {
		io->ipr_state = st;
		if (st == CLIENT_IPR_CONNECTED)
			client_ipr_addresses(io->ipr, &io->ips);
		if (st == CLIENT_IPR_FAILED)
			snprintf(io->error, sizeof(io->error), "%s", client_ipr_last_error(io->ipr));
		pthread_cond_broadcast(&io->cv);
		changed = true;
	}
	pthread_mutex_unlock(&io->mu);
	if (changed && st == CLIENT_IPR_CONNECTED)
		emit(io, CLIENTIO_EV_IPR_UP, 0, "");
	else if (changed && st == CLIENT_IPR_FAILED)
		emit(io, CLIENTIO_EV_IPR_FAILED, 0, client_ipr_last_error(io->ipr));
}

static void *thread_main(void *arg)
{
	struct clientio *io = arg;
	if (uring_loop_enable(&io->loop) != 0) {
		set_error(io, true, "cannot enable the io_uring loop");
		return NULL;
	}
	arm_tun(io);
	publish_stats(io);
	while (!atomic_load(&io->stopping) && !io->fatal) {
		uint64_t now = nym_clock_now_ns();
		if (!io->conn && now >= io->reconnect_at) {
			struct conn *c = NULL;
			io->stats.links_opened++;
			if (open_link(io, &c) == 0) {
				io->conn = c;
				io->backoff_ns = io->cfg.reconnect_min_ns;
				if (io->ipr && !io->ipr_started) {
					io->ipr_started = true;
					client_ipr_connect(io->ipr, nym_clock_now_ns(), now_ms());
					emit(io, CLIENTIO_EV_IPR_WAIT, 0, "");
				}
			} else {
				emit_link_down(io);
				io->stats.link_failures++;
				io->reconnect_at = nym_clock_now_ns() + io->backoff_ns;
				io->backoff_ns = io->backoff_ns * 2 > io->cfg.reconnect_max_ns ? io->cfg.reconnect_max_ns
												 : io->backoff_ns * 2;
			}
			now = nym_clock_now_ns();
		}
		install_topology(io);
		if (io->ipr)
			client_ipr_poll(io->ipr, now, now_ms());
		if (io->conn)
			pump_send(io, io->conn, now);
		if (io->conn)
			conn_arm(io, io->conn);
		arm_tun(io);
		publish_ipr_state(io);

		uint64_t due = now + TICK_NS;
		/* Over the high-water mark the socket's POLLOUT wakes the loop, not the engine. */
		if (io->conn && io->conn->out_len - io->conn->out_off < OUT_HIGH_WATER) {
			uint64_t d = client_engine_next_due(io->engine, now);
			if (d < due)
				due = d;
		} else if (!io->conn && io->reconnect_at < due) {
			due = io->reconnect_at;
		}
		if (io->ipr) {
			uint64_t d = client_ipr_next_due(io->ipr);
			if (d < due)
				due = d;
		}
		int rc = uring_loop_run_once(&io->loop, due > now ? due - now : 0);
		if (rc < 0 && rc != -EINTR && rc != -ETIME) {
			set_error(io, true, "io_uring: %s", strerror(-rc));
			break;
		}
		if (io->conn)
			drain_messages(io, io->loop.now_ns);
		publish_stats(io);
	}
	if (io->conn && !io->conn->dead && io->conn->phase >= PHASE_WAIT_VERSION) {
		struct link_msg m = { .type = LINK_MSG_CLOSE };
		if (send_msg(io, io->conn, &m) == 0)
			flush_out(io->conn);
	}
	publish_stats(io);
	pthread_mutex_lock(&io->mu);
	pthread_cond_broadcast(&io->cv);
	pthread_mutex_unlock(&io->mu);
	return NULL;
}

/* ---- hooks of the IPR session ---- */

static int ipr_send(void *ctx, const uint8_t *msg, size_t len, uint64_t now_ns)
{
	struct clientio *io = ctx;
	return client_engine_send(io->engine, &io->ipr_addr, MIX_MESSAGE_REPLIABLE, msg, len, now_ns);
}

static int ipr_send_unacked(void *ctx, const uint8_t *msg, size_t len, uint64_t now_ns)
{
	struct clientio *io = ctx;
	return client_engine_send_unacked(io->engine, &io->ipr_addr, MIX_MESSAGE_REPLIABLE, msg, len, now_ns);
}

static int ipr_make_surbs(void *ctx, size_t n, uint8_t *out, size_t cap, size_t *surb_len, uint64_t now_ns)
{
	struct clientio *io = ctx;
	return client_engine_make_reply_surbs(io->engine, n, out, cap, surb_len, now_ns);
}

static void ipr_deliver(void *ctx, const uint8_t *packet, size_t len)
{
	struct clientio *io = ctx;
	if (io->cfg.tun_fd < 0)
		return;
	if (write(io->cfg.tun_fd, packet, len) == (ssize_t)len)
		io->stats.tun_packets_out++;
}

/* ---- public ---- */

static void clientio_free(struct clientio *io)
{
	if (!io)
		return;
	if (io->conn)
		conn_free(io->conn);
	for (size_t i = 0; i < sizeof(io->zombies) / sizeof(io->zombies[0]); i++)
		conn_free(io->zombies[i]);
	client_ipr_free(io->ipr);
	client_engine_free(io->engine);
	nym_dir_client_topology_free(&io->topo[0]);
	nym_dir_client_topology_free(&io->topo[1]);
	if (io->pending) {
		nym_dir_client_topology_free(io->pending);
		free(io->pending);
	}
	if (io->urls)
		for (size_t i = 0; i < io->cfg.authority_count; i++)
			free(io->urls[i]);
	free(io->urls);
	free(io->tunbuf);
	pthread_mutex_destroy(&io->mu);
	pthread_cond_destroy(&io->cv);
	pthread_cond_destroy(&io->fetch_cv);
	free(io);
}

/* "de" -> "DE"; -EINVAL unless two letters. */
static int country_code(const char *in, char out[3])
{
	if (strlen(in) != 2 || !isalpha((unsigned char)in[0]) || !isalpha((unsigned char)in[1]))
		return -EINVAL;
	out[0] = (char)toupper((unsigned char)in[0]);
	out[1] = (char)toupper((unsigned char)in[1]);
	out[2] = 0;
	return 0;
}

int clientio_start(const struct clientio_config *cfg, struct clientio **out, char *err, size_t errlen)
{
	if (!cfg || !out || !cfg->authority_count || !cfg->trust || !cfg->engine.identity || !cfg->engine.encryption) {
		snprintf(err, errlen, "missing authorities, trust or keys");
		return -EINVAL;
	}
	/* Countries are checked before anything goes on the network. */
	char entry_cc[3] = "", exit_cc[3] = "";
	if (cfg->entry_country && cfg->entry_country[0] && country_code(cfg->entry_country, entry_cc)) {
		snprintf(err, errlen, "bad entry country \"%s\" (two letters, ISO 3166)", cfg->entry_country);
		return -EINVAL;
	}
	if (cfg->exit_country && cfg->exit_country[0] && country_code(cfg->exit_country, exit_cc)) {
		snprintf(err, errlen, "bad exit country \"%s\" (two letters, ISO 3166)", cfg->exit_country);
		return -EINVAL;
	}
	struct clientio *io = calloc(1, sizeof(*io));
	if (!io) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	pthread_mutex_init(&io->mu, NULL);
	pthread_cond_init(&io->cv, NULL);
	pthread_cond_init(&io->fetch_cv, NULL);
	io->cfg = *cfg;
	io->trust = *cfg->trust;
	io->topo_cur = 0;
	io->backoff_ns = cfg->reconnect_min_ns ? cfg->reconnect_min_ns : 500 * NS_PER_MS;
	if (!io->cfg.reconnect_max_ns)
		io->cfg.reconnect_max_ns = 30 * NS_PER_S;
	io->urls = calloc(cfg->authority_count, sizeof(char *));
	io->tunbuf = malloc(TUN_BUF_LEN);
	int rc = -ENOMEM;
	if (!io->urls || !io->tunbuf)
		goto fail;
	for (size_t i = 0; i < cfg->authority_count; i++)
		if (!(io->urls[i] = strdup(cfg->authority_urls[i])))
			goto fail;
	char derr[NYM_DIR_ERR_MAX];
	rc = fetch_topology(io, &io->topo[0], derr, sizeof(derr));
	if (rc) {
		snprintf(err, errlen, "no verified topology: %s", derr);
		goto fail_quiet;
	}
	const struct nym_epoch_doc *doc = &io->topo[0].doc;
	io->stats.epoch = doc->epoch;
	emit(io, CLIENTIO_EV_TOPOLOGY, 0, io->topo[0].source);
	const struct nym_descriptor_signed *entry = NULL, *exit_gw = NULL;
	struct nym_epoch_doc_gateway_query q = { .roles = NYM_ROLE_ENTRY };
	char in_country[32] = "";
	if (!cfg->entry_identity && entry_cc[0]) {
		memcpy(q.country, entry_cc, 3);
		snprintf(in_country, sizeof(in_country), " in country %s", q.country);
	}
	rc = nym_dir_client_pick_gateway(doc, cfg->entry_identity, &q, &entry);
	if (rc || !(entry->d.roles & NYM_ROLE_ENTRY)) {
		snprintf(err, errlen, "%s entry gateway%s in the topology of epoch %" PRIu64,
			 cfg->entry_identity ? "no such" : "no", in_country, doc->epoch);
		rc = -ENOENT;
		goto fail_quiet;
	}
	memcpy(io->entry_id, entry->d.identity, 32);
	if (cfg->ipr) {
		q.roles = NYM_ROLE_EXIT;
		q.country[0] = 0;
		in_country[0] = 0;
		if (!cfg->exit_identity && exit_cc[0]) {
			memcpy(q.country, exit_cc, 3);
			snprintf(in_country, sizeof(in_country), " in country %s", q.country);
		}
		rc = nym_dir_client_pick_gateway(doc, cfg->exit_identity, &q, &exit_gw);
		if (rc || !(exit_gw->d.roles & NYM_ROLE_EXIT)) {
			snprintf(err, errlen, "%s exit gateway%s in the topology of epoch %" PRIu64,
				 cfg->exit_identity ? "no such" : "no", in_country, doc->epoch);
			rc = -ENOENT;
			goto fail_quiet;
		}
		memcpy(io->exit_id, exit_gw->d.identity, 32);
		rc = mix_recipient_of_node(io->exit_id, &io->ipr_addr);
		if (rc) {
			snprintf(err, errlen, "the exit gateway's identity is not a valid key");
			goto fail_quiet;
		}
	}
	{
		/* The caller opens its kill switch for these before the link is tried. */
		struct clientio_event ev;
		memset(&ev, 0, sizeof(ev));
		ev.kind = CLIENTIO_EV_GATEWAYS;
		for (size_t i = 0; i < entry->d.address_count && ev.n_entry_addrs < CLIENTIO_ENTRY_ADDRS_MAX; i++) {
			struct net_addr a;
			if (!entry->d.clients_port || net_addr_parse(&a, entry->d.addresses[i], entry->d.clients_port) != 0)
				continue;
			net_addr_set_port(&a, entry->d.clients_port);
			memcpy(&ev.entry_addrs[ev.n_entry_addrs++], &a.ss, sizeof(a.ss));
		}
		emit_ev(io, &ev);
	}
	memcpy(io->cfg.engine.gateway_identity, io->entry_id, 32);
	rc = client_engine_new(&io->cfg.engine, NULL, &io->engine);
	if (rc) {
		snprintf(err, errlen, "cannot create the client engine: %s", strerror(-rc));
		goto fail_quiet;
	}
	rc = client_engine_set_topology(io->engine, doc);
	if (rc) {
		snprintf(err, errlen, "the topology of epoch %" PRIu64 " is not usable (a layer is empty?)", doc->epoch);
		goto fail_quiet;
	}
	io->stats.epoch = doc->epoch;
	io->key_rotation = doc_key_rotation(doc);
	if (cfg->ipr) {
		struct client_ipr_hooks h = { .ctx = io, .send = ipr_send, .make_surbs = ipr_make_surbs,
					      .deliver = ipr_deliver, .send_unacked = ipr_send_unacked };
		rc = client_ipr_new(&cfg->ipr_config, &h, NULL, &io->ipr);
		if (rc) {
			snprintf(err, errlen, "bad IP packet router settings");
			goto fail_quiet;
		}
	}
	io->fetched_epoch = doc->epoch;
	io->fetch_at_ms = doc->valid_until * 1000 + 2000;
	io->tun_op.cb = on_tun;
	rc = uring_loop_init(&io->loop, RING_ENTRIES);
	if (rc) {
		snprintf(err, errlen, "cannot create an io_uring: %s", strerror(-rc));
		goto fail_quiet;
	}
	rc = pthread_create(&io->thread, NULL, thread_main, io);
	if (rc) {
		uring_loop_fini(&io->loop);
		rc = -rc;
		snprintf(err, errlen, "cannot start the client thread: %s", strerror(-rc));
		goto fail_quiet;
	}
	io->thread_started = true;
	if (pthread_create(&io->fetcher, NULL, fetch_main, io) == 0)
		io->fetcher_started = true;
	else
		nym_log(NYM_LOG_WARN, "client: no topology refresh (cannot start its thread)");
	*out = io;
	return 0;
fail:
	snprintf(err, errlen, "out of memory");
fail_quiet:
	clientio_free(io);
	return rc;
}

int clientio_wait_ipr(struct clientio *io, long timeout_ms, struct ipr_addr_pair *out, char *err, size_t errlen)
{
	struct timespec deadline;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += timeout_ms / 1000;
	deadline.tv_nsec += (timeout_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	int rc = 0;
	pthread_mutex_lock(&io->mu);
	for (;;) {
		if (io->ipr_state == CLIENT_IPR_CONNECTED) {
			*out = io->ips;
			rc = 0;
			break;
		}
		if (io->ipr_state == CLIENT_IPR_FAILED) {
			snprintf(err, errlen, "%s", io->error);
			rc = -ECONNREFUSED;
			break;
		}
		if (io->fatal) {
			snprintf(err, errlen, "%s", io->error);
			rc = -EIO;
			break;
		}
		if (pthread_cond_timedwait(&io->cv, &io->mu, &deadline) == ETIMEDOUT) {
			if (io->error[0])
				snprintf(err, errlen, "no answer from the IP packet router in time (last problem: %s)",
					 io->error);
			else
				snprintf(err, errlen, "no answer from the IP packet router in time");
			rc = -ETIMEDOUT;
			break;
		}
	}
	pthread_mutex_unlock(&io->mu);
	return rc;
}

void clientio_gateways(const struct clientio *io, uint8_t entry[32], uint8_t exit[32])
{
	memcpy(entry, io->entry_id, 32);
	memcpy(exit, io->exit_id, 32);
}

void clientio_get_stats(struct clientio *io, struct clientio_stats *out)
{
	pthread_mutex_lock(&io->mu);
	*out = io->pub;
	pthread_mutex_unlock(&io->mu);
}

void clientio_last_error(struct clientio *io, char *out, size_t cap)
{
	pthread_mutex_lock(&io->mu);
	snprintf(out, cap, "%s", io->error);
	pthread_mutex_unlock(&io->mu);
}

bool clientio_gave_up(struct clientio *io)
{
	pthread_mutex_lock(&io->mu);
	bool f = io->fatal;
	pthread_mutex_unlock(&io->mu);
	return f;
}

void clientio_stop(struct clientio *io)
{
	if (!io)
		return;
	pthread_mutex_lock(&io->mu);
	atomic_store(&io->stopping, true);
	pthread_cond_broadcast(&io->fetch_cv);
	pthread_mutex_unlock(&io->mu);
	if (io->fetcher_started)
		pthread_join(io->fetcher, NULL);
	if (io->thread_started) {
		pthread_join(io->thread, NULL);
		uring_loop_fini(&io->loop);
	}
	clientio_free(io);
}
