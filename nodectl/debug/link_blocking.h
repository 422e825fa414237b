/* A client link to a gateway (docs/PROTOCOLS.md §8) over a blocking socket, for the debug
 * clients (nym-node debug link-client, wg-register): connect, the Noise handshake as initiator
 * with a fresh static key, link frames in and out with deadlines. The frames are read whole
 * and sent whole; RECEIVE, LOW_BALANCE, BANDWIDTH and ERROR frames are noted as they pass. */
#ifndef NYM_NODECTL_DEBUG_LINK_BLOCKING_H
#define NYM_NODECTL_DEBUG_LINK_BLOCKING_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "link/link_frame.h"
#include "link/link_msg.h"
#include "net/net_addr.h"
#include "noise/noise_session.h"

struct link_blocking {
	int fd;
	uint64_t timeout_ms;
	struct noise_session noise;
	struct link_frame_decoder dec;
	uint8_t rbuf[65536];
	uint8_t plain[NOISE_MAX_PLAINTEXT_LEN];
	size_t plain_len, plain_off; /* decrypted bytes not yet given to the decoder */
	bool eof;
	json_t *errors;
	uint64_t received, low_balance, last_balance;
	uint64_t received_acks; /* RECEIVE items of the ack class */
	bool have_balance;
};

/* socket + connect (the struct zeroed first; timeout_ms 0: 5000). Returns 0 or -errno. */
int link_blocking_connect(struct link_blocking *c, const struct net_addr *gateway, uint64_t timeout_ms);
/* The Noise handshake with the gateway's Noise key. */
int link_blocking_handshake(struct link_blocking *c, const uint8_t gateway_noise[32]);
/* HELLO, then VERSION into *m (-ECONNREFUSED with the answer in *m when it is not VERSION). */
int link_blocking_hello(struct link_blocking *c, struct link_msg *m);
void link_blocking_close(struct link_blocking *c);

int link_blocking_write_all(int fd, const uint8_t *b, size_t n);
/* Reads once (waiting up to ms). Returns bytes, 0 at EOF, -ETIMEDOUT or -errno. */
ssize_t link_blocking_read_some(struct link_blocking *c, uint64_t ms);
int link_blocking_send_plain(struct link_blocking *c, const uint8_t *b, size_t n);
int link_blocking_send_msg(struct link_blocking *c, const struct link_msg *m);
/* The next message from the gateway, within ms. Returns 0, -ETIMEDOUT, -ECONNRESET (closed)
 * or a decoding error. */
int link_blocking_next_msg(struct link_blocking *c, struct link_msg *m, uint64_t ms);
/* Waits for an answer of type a or b (or CLOSE), noting what else passes. */
int link_blocking_expect(struct link_blocking *c, struct link_msg *m, enum link_msg_type a, enum link_msg_type b);
/* The ERROR code's name, or the message type's. */
const char *link_blocking_answer_name(const struct link_msg *m);
/* Reads until the gateway closes or ms pass; says whether it closed. */
bool link_blocking_drain(struct link_blocking *c, uint64_t ms);

#endif
