/* The mixnet client's I/O driver: one thread running an io_uring loop around the client
 * engine (lib/client/client_engine) and, when asked, an IP packet router session
 * (lib/client/client_ipr) fed from a TUN device. Both nym-node probe and the client daemon
 * run it.
 *
 *   topology   fetched from the authorities (k of n signatures), re-fetched at the end of
 *              every epoch by a thread of its own and handed to the engine by the loop
 *   link       TCP to the entry gateway's clients_port (IPv4 or IPv6, the descriptor's
 *              addresses in order), Noise XKpsk3 as initiator with a fresh static key per
 *              connection, then HELLO, AUTH (signed over the handshake hash), SPEND_TICKET
 *              from the ticketbook file when the balance is low (docs/PROTOCOLS.md §8)
 *   pump       engine SEND entries -> SEND frames (up to a frame's worth each);
 *              RECEIVE items -> the engine; Reply messages -> the IPR session;
 *              TUN packets -> the IPR session -> Repliable messages to the exit's IPR;
 *              IP packets from the IPR -> the TUN device
 *   recovery   a lost link is reconnected with exponential backoff; the engine keeps its
 *              state (queued packets, acks, reply keys), the gateway's inbox holds what
 *              arrived meanwhile
 *
 * Tickets are spent on AUTH_OK with a balance under 1 MB, on LOW_BALANCE and on ERROR
 * bandwidth_exhausted: the next unspent ticket of the book (which must be of type
 * mixnet-entry) is marked spent in the file before it leaves the process. With ticketbook_dir
 * the book is picked among every *.json in the directory (clientio_ticketbook_pick).
 *
 * Events (on_event, synchronous; `detail` and the event live only during the call):
 *   TOPOLOGY         the first verified document (epoch)              clientio_start's caller
 *   GATEWAYS         entry/exit chosen; entry_addrs = every client-link address of the
 *                    entry with its clients_port; the link is opened only after it returns
 *   LINK_CONNECTING  a connection attempt to the entry begins (detail: address)   driver
 *   LINK_UP          the link is ready (detail: address)
 *   LINK_DOWN        follows every LINK_CONNECTING that did not reach LINK_UP and every
 *                    LINK_UP whose link was lost (detail: the reason); not on clientio_stop
 *   TICKET_SPENT     a ticket left the process (tickets_left: unspent mixnet-entry tickets
 *                    left in the book / the directory)
 *   TICKETS_LOW      after TICKET_SPENT when tickets_left < CLIENTIO_TICKETS_LOW, and with
 *                    tickets_left 0 when a ticket was needed and none was found
 *   IPR_WAIT         CONNECT sent to the exit's IPR (after the first LINK_UP)
 *   IPR_UP           the IPR assigned the addresses; IPR_FAILED: it refused or disconnected
 *                    (detail: its text)
 * Driver-thread callbacks must not call clientio_stop. The driver gives up (no more events,
 * clientio_gave_up true) on a refused AUTH or a zero balance with no ticket to spend.
 *
 * The HTTP requests (topology refresh) take their mark from nym_http_set_socket_mark
 * (lib/http, process-wide), which the owner sets; cfg.fwmark marks the link socket only. */
#ifndef NYM_CLIENTIO_CLIENTIO_H
#define NYM_CLIENTIO_CLIENTIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "client/client_engine.h"
#include "client/client_ipr.h"
#include "cred/ticket.h"
#include "dirclient/dir_client.h"

#define CLIENTIO_ERR_MAX 512
#define CLIENTIO_TICKETS_LOW 5
#define CLIENTIO_ENTRY_ADDRS_MAX 4

enum clientio_event_kind {
	CLIENTIO_EV_TOPOLOGY,
	CLIENTIO_EV_GATEWAYS,
	CLIENTIO_EV_LINK_CONNECTING,
	CLIENTIO_EV_LINK_UP,
	CLIENTIO_EV_TICKET_SPENT,
	CLIENTIO_EV_TICKETS_LOW,
	CLIENTIO_EV_IPR_WAIT,
	CLIENTIO_EV_IPR_UP,
	CLIENTIO_EV_LINK_DOWN,
	CLIENTIO_EV_IPR_FAILED,
};

struct clientio_event {
	enum clientio_event_kind kind;
	uint64_t epoch; /* of the document in use */
	uint8_t entry[32], exit[32];
	struct sockaddr_storage entry_addrs[CLIENTIO_ENTRY_ADDRS_MAX]; /* GATEWAYS */
	size_t n_entry_addrs;
	size_t tickets_left; /* TICKET_SPENT, TICKETS_LOW */
	const char *detail;  /* never NULL ("" when nothing to say) */
};

/* A short lower-case name ("link_up", ...). */
const char *clientio_event_name(enum clientio_event_kind kind);

struct clientio_config {
	const char *const *authority_urls;
	size_t authority_count;
	const struct nym_dir_client_trust *trust; /* k of n */
	const uint8_t *entry_identity; /* NULL: an entry gateway at random */
	const uint8_t *exit_identity;  /* NULL: an exit gateway at random (IPR only) */
	const char *ticketbook_path;   /* mixnet-entry tickets */
	/* Alternative to ticketbook_path: every *.json book in it; mixnet-entry, ready,
	 * unexpired, unspent; soonest expiry first. */
	const char *ticketbook_dir;
	/* ISO2 ("de" is taken as "DE"), or NULL / "": any (used when the identity is NULL);
	 * anything else: clientio_start -EINVAL before any request */
	const char *entry_country, *exit_country;
	uint32_t fwmark; /* 0: none; else SO_MARK on the gateway link socket (before connect) */
	void (*on_event)(void *ctx, const struct clientio_event *ev);
	void *event_ctx;
	/* The engine's settings; its keys must outlive the driver. The gateway identity is
	 * filled in by the driver. */
	struct client_engine_config engine;
	bool ipr; /* open an IP packet router session with the exit gateway */
	struct client_ipr_config ipr_config;
	int tun_fd; /* -1: none; else packets from it go to the IPR and back */
	/* Send the IPR bundle as soon as the TUN has nothing more to read (no added latency;
	 * for the lifted rate) instead of waiting for the bundle's timeout. Without it, a drained
	 * TUN sends the bundle only when no real packet waits in the engine's queue (a bundle
	 * that would wait for a Poisson slot anyway keeps filling until its timeout). */
	bool ipr_flush_when_idle;
	long http_timeout_ms;
	uint64_t reconnect_min_ns, reconnect_max_ns; /* backoff: 500 ms doubling to 30 s */
};

/* Defaults: engine and IPR defaults, no TUN, 5 s HTTP, backoff 500 ms .. 30 s. */
void clientio_config_default(struct clientio_config *cfg);

struct clientio;

/* Fetches the topology, picks the gateways and starts the driver's thread. Returns 0, or an
 * error with a one-line reason in err (-EACCES: no verified topology; -ENOENT: no such
 * gateway; ...). */
int clientio_start(const struct clientio_config *cfg, struct clientio **out, char *err, size_t errlen);

/* Waits until the IPR session has its addresses (0), failed (-ECONNREFUSED, reason in err),
 * the driver gave up (-EIO, reason in err) or timeout_ms passed (-ETIMEDOUT). */
int clientio_wait_ipr(struct clientio *io, long timeout_ms, struct ipr_addr_pair *out, char *err, size_t errlen);

/* The chosen gateways' identities. */
void clientio_gateways(const struct clientio *io, uint8_t entry[32], uint8_t exit[32]);

struct clientio_stats {
	struct client_engine_stats engine;
	struct client_ipr_stats ipr;
	uint64_t links_opened, link_failures, tickets_spent;
	uint64_t frames_sent, frames_received, tun_packets_in, tun_packets_out;
	uint64_t balance; /* bytes left at the gateway, as last reported */
	uint64_t epoch;
};
void clientio_get_stats(struct clientio *io, struct clientio_stats *out);

/* The last link or IPR problem (empty if none). */
void clientio_last_error(struct clientio *io, char *out, size_t cap);

/* Whether the driver gave up (a fatal error; the reason in clientio_last_error). */
bool clientio_gave_up(struct clientio *io);

/* The book a ticket of `type` would be spent from: among the *.json files of dir, the ready
 * books of that type unexpired at `now` (Unix s) with unspent tickets, the one of the soonest
 * expiry (then the smallest name). path gets its path; *tickets_left (may be NULL) the unspent
 * tickets of all those books. Unreadable files are skipped. Returns 0, -ENOENT (none), or the
 * error of opening dir. */
int clientio_ticketbook_pick(const char *dir, enum nym_ticket_type type, int64_t now, char *path, size_t cap,
			     size_t *tickets_left);

/* Stops the thread (CLOSE on the link if it is up) and frees everything. */
void clientio_stop(struct clientio *io);

#endif
