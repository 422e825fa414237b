/* The Sphinx payload: 16 zero bytes | message | 0x01 | zero padding, wrapped in one Lioness
 * layer per hop (the sender encrypts last hop first; each hop decrypts its own layer). */
#ifndef NYM_SPHINX_PAYLOAD_H
#define NYM_SPHINX_PAYLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "sphinx/sphinx_params.h"

/* Largest message a payload of `payload_size` bytes carries (0 if too small). */
size_t sphinx_payload_capacity(size_t payload_size);

/* Lays out the plaintext payload. Returns 0 or -EMSGSIZE (message too long, or the payload
 * below SPHINX_PAYLOAD_MIN). */
int sphinx_payload_encode(uint8_t *payload, size_t payload_size, const uint8_t *msg, size_t msg_len);

/* Applies the sender's layers: Lioness-encrypt with each hop's payload key, last hop first.
 * `material` holds each hop's 192-byte payload region (v259 uses its first 16 bytes). */
int sphinx_payload_encrypt(uint8_t *payload, size_t payload_size,
			   const uint8_t (*material)[SPHINX_PAYLOAD_KEY_LEN], size_t hops,
			   uint16_t version);

/* Removes one hop's layer. */
int sphinx_payload_decrypt(uint8_t *payload, size_t payload_size,
			   const uint8_t material[SPHINX_PAYLOAD_KEY_LEN], uint16_t version);

/* Finds the message in a fully decrypted payload: the first 16 bytes must be zero, the message
 * ends at the last 0x01. Returns 0 with *msg_off and *msg_len set, or -EBADMSG. */
int sphinx_payload_recover(const uint8_t *payload, size_t payload_size, size_t *msg_off,
			   size_t *msg_len);

#endif
