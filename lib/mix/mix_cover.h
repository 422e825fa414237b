/* Loop cover traffic (nymtech/nym common/nymsphinx/cover): packets a client sends to itself
 * at its Poisson rate so that real traffic hides among them. The body is the ASCII text
 * "The cake is a lie!", 0x01, then zeros, encrypted to the client's own key; the SURB-ACK
 * names the cover fragment (0, 0). */
#ifndef NYM_MIX_MIX_COVER_H
#define NYM_MIX_MIX_COVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mix/mix_recipient.h"
#include "mix/mix_surb_ack.h"

/* Builds a regular-size loop cover Sphinx packet (MIX_REGULAR_PACKET_LEN bytes) for `self`
 * over `route` (mix nodes and self's gateway), with its SURB-ACK over ack_route. */
int mix_cover_loop_packet(uint8_t *packet, size_t packet_len, const struct mix_recipient *self,
			  const struct sphinx_hop *route, size_t hops, const struct sphinx_hop *ack_route,
			  size_t ack_hops, const uint8_t ack_key[MIX_ACK_KEY_LEN], uint16_t version,
			  const struct nym_rng *rng);

/* Writes the loop cover body (len bytes, at least 19): the text, 0x01, zeros. For a client
 * that seals its loop cover together with its other packets (mix_envelope_seal_batch). */
void mix_cover_loop_body(uint8_t *body, size_t len);

/* Whether a decrypted body is loop cover. */
bool mix_cover_is_loop(const uint8_t *body, size_t len);

#endif
