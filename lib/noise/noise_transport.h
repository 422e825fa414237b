/* The two cipher states a finished Noise handshake leaves: one per direction. Transport
 * messages carry no associated data. */
#ifndef NYM_NOISE_NOISE_TRANSPORT_H
#define NYM_NOISE_NOISE_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "noise/noise_cipher.h"

/* Noise messages are at most 65535 bytes, tag included. */
#define NOISE_MAX_MESSAGE_LEN 65535
#define NOISE_MAX_PLAINTEXT_LEN (NOISE_MAX_MESSAGE_LEN - NOISE_TAG_LEN)

struct noise_transport {
	struct noise_cipher send;
	struct noise_cipher recv;
};

/* out gets len + 16 bytes. Returns 0, -EMSGSIZE (len above NOISE_MAX_PLAINTEXT_LEN),
 * -ENOSPC, -EOVERFLOW or -ENOMEM. In place allowed. */
int noise_transport_encrypt(struct noise_transport *t, const uint8_t *in, size_t len,
			    uint8_t *out, size_t cap, size_t *written);

/* out gets len - 16 bytes. Returns 0, -EBADMSG (forged, corrupted, replayed or reordered),
 * -EMSGSIZE, -ENOSPC, -EOVERFLOW or -ENOMEM. In place allowed. */
int noise_transport_decrypt(struct noise_transport *t, const uint8_t *in, size_t len,
			    uint8_t *out, size_t cap, size_t *written);

void noise_transport_clear(struct noise_transport *t);

#endif
