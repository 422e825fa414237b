/* A client link to a gateway (docs/PROTOCOLS.md §8) over a blocking socket with deadlines:
 * TCP to its clients_port (SO_MARK and SO_BINDTODEVICE set before connect when asked), the
 * Noise XKpsk3 handshake as initiator with a fresh static key (the link proves nothing about
 * us), HELLO -> VERSION, then link frames read whole and sent whole. RECEIVE, LOW_BALANCE,
 * AUTH_OK and BANDWIDTH frames are counted as they pass, and every decoded message can be
 * shown to a hook. Used by clientio_wgreg (nym-vpnd's two-hop mode, the probe) and by the
 * debug clients (nym-node debug link-client, wg-register). Not for the data path: that is
 * clientio's io_uring loop. */
#ifndef NYM_CLIENTIO_CLIENTIO_LINK_H
#define NYM_CLIENTIO_CLIENTIO_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "link/link_frame.h"
#include "link/link_msg.h"
#include "noise/noise_session.h"

struct clientio_link_options {
	uint32_t fwmark;	 /* 0: none; else SO_MARK before connect */
	const char *bind_ifname; /* NULL: none; else SO_BINDTODEVICE */
	uint64_t timeout_ms;	 /* connect, handshake, each answer, each blocked send; 0: 5000 */
	/* Called with every message decoded from the gateway (NULL: none). */
	void (*on_msg)(void *arg, const struct link_msg *m);
	void *arg;
};

struct clientio_link {
	int fd;
	uint64_t timeout_ms;
	struct noise_session noise;
	struct link_frame_decoder dec;
	uint8_t rbuf[65536];
	uint8_t plain[NOISE_MAX_PLAINTEXT_LEN];
	uint8_t frame[LINK_FRAME_MAX_LEN];
	uint8_t sealed[2 * LINK_FRAME_MAX_LEN];
	bool eof;
	void (*on_msg)(void *arg, const struct link_msg *m);
	void *arg;
	/* Noted as messages pass. */
	uint64_t received, received_acks; /* RECEIVE packets; those of the ack class */
	uint64_t low_balance;		  /* LOW_BALANCE frames */
	uint64_t last_balance;		  /* from the last AUTH_OK, BANDWIDTH or LOW_BALANCE */
	bool have_balance;
};

/* Zeroes *c, then socket + connect within the timeout (the socket stays non-blocking; sends
 * wait for room up to the timeout). o may be NULL. Returns 0 or -errno; on failure c->fd is -1
 * and clientio_link_close is still safe. */
int clientio_link_connect(struct clientio_link *c, const struct sockaddr *gateway, socklen_t gateway_len,
			  const struct clientio_link_options *o);
/* The Noise handshake with the gateway's Noise key (32). */
int clientio_link_handshake(struct clientio_link *c, const uint8_t gateway_noise[32]);
/* HELLO, then VERSION into *m (-ECONNREFUSED with the answer in *m when it is ERROR or CLOSE). */
int clientio_link_hello(struct clientio_link *c, struct link_msg *m);
/* Closes the socket and wipes the session. */
void clientio_link_close(struct clientio_link *c);

/* Raw bytes on the socket (for tests of the gateway's defences). */
int clientio_link_write_all(struct clientio_link *c, const uint8_t *b, size_t n);
/* Reads once into c->rbuf (waiting up to ms). Returns bytes, 0 at EOF, -ETIMEDOUT or -errno. */
ssize_t clientio_link_read_some(struct clientio_link *c, uint64_t ms);
/* One Noise message carrying n plaintext bytes (a frame, or not). */
int clientio_link_send_plain(struct clientio_link *c, const uint8_t *b, size_t n);
/* One message; the plaintext frame is wiped after sealing. */
int clientio_link_send_msg(struct clientio_link *c, const struct link_msg *m);
/* The next message from the gateway, within ms. Returns 0, -ETIMEDOUT, -ECONNRESET (closed)
 * or a decoding error. */
int clientio_link_next_msg(struct clientio_link *c, struct link_msg *m, uint64_t ms);
/* Waits (c->timeout_ms per message) for an answer of type a or b, or CLOSE; others pass. */
int clientio_link_expect(struct clientio_link *c, struct link_msg *m, enum link_msg_type a, enum link_msg_type b);
/* The ERROR code's name ("unknown" for an unknown code), or the message type's. */
const char *clientio_link_answer_name(const struct link_msg *m);
/* Reads until the gateway closes or ms pass; says whether it closed. */
bool clientio_link_drain(struct clientio_link *c, uint64_t ms);

#endif
