/* AmneziaWG 1.0 (spec wireguard.md §1.1, NymVPN presets §1.6): a wire shim around unchanged
 * WireGuard datagrams. Pure functions over byte buffers; the only outside input is randomness
 * (struct nym_rng, NULL = libsodium through nym_random).
 *
 *   outgoing initiation  (148 B): Jc junk datagrams, then S1 random bytes + the message with H1
 *   outgoing response    ( 92 B): S2 random bytes + the message with H2
 *   outgoing cookie      ( 64 B): the message with H3
 *   outgoing transport   (>= 32): the message with H4
 * The type field is the little-endian u32 at the start of each WireGuard message. */
#ifndef NYM_AWG_AWG_H
#define NYM_AWG_AWG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct nym_rng;

#define AWG_MSG_INIT 1
#define AWG_MSG_RESPONSE 2
#define AWG_MSG_COOKIE 3
#define AWG_MSG_TRANSPORT 4

#define AWG_SIZE_INIT 148
#define AWG_SIZE_RESPONSE 92
#define AWG_SIZE_COOKIE 64
#define AWG_SIZE_TRANSPORT_MIN 32

/* Upper bounds of §1.1 (sizes below 65535) and NymVPN's validate() (§1.6). */
#define AWG_MAX_SEGMENT 65535
#define AWG_NYM_MAX_JC 128
#define AWG_NYM_MAX_SIZE 1280

/* Largest prefix awg_encode adds (S1 or S2 after validation). */
#define AWG_MAX_PREFIX AWG_NYM_MAX_SIZE

/* Longest text of awg_params_format, with its NUL. */
#define AWG_PARAMS_TEXT_MAX 128

/* zeroed struct = off. An H value <= 4 means "keep the default 1..4" (spec §1.1). */
struct awg_params {
	uint16_t jc, jmin, jmax, s1, s2;
	uint32_t h1, h2, h3, h4;
};

/* 0, or -EINVAL with *rule (when rule is not NULL) naming the broken rule in words, e.g.
 * "S1 + 56 must differ from S2". Checks §1.1 and NymVPN's validate() of §1.6. */
int awg_params_validate(const struct awg_params *p, const char **rule);

/* "off" | "base" | "random" (spec §1.6); random draws from rng (NULL = nym_random), retrying
 * until the set validates. 0, or -EINVAL for another name. */
int awg_params_preset(const char *name, struct awg_params *p);
int awg_params_preset_rng(const char *name, struct awg_params *p, const struct nym_rng *rng);

/* True when any parameter is non-zero or any H is above 4 (spec §1.1 "AWG on"). */
bool awg_params_active(const struct awg_params *p);

/* True when the parameters change the handshake or the headers (S1, S2 or an effective H
 * differs from plain WireGuard); junk-only sets (e.g. "base") talk to plain peers. */
bool awg_params_changes_wire(const struct awg_params *p);

/* The effective type value of WireGuard message type 1..4 (H, or the default when H <= 4). */
uint32_t awg_params_header(const struct awg_params *p, unsigned type);

/* Text form "jc=4,jmin=40,jmax=70,s1=0,s2=0,h1=1,h2=2,h3=3,h4=4": keys in any order, each at
 * most once, missing keys are 0; decimal only. Parse validates (awg_params_validate) and
 * returns -EINVAL with *why naming the fault. Format writes every key in the order above;
 * returns 0 or -ENOSPC. */
int awg_params_parse(const char *text, struct awg_params *p, const char **why);
int awg_params_format(const struct awg_params *p, char *out, size_t cap);

/* A preset name ("off", "base", "random") or the text form: what configurations accept. */
int awg_params_from_spec(const char *spec, struct awg_params *p, const char **why);

bool awg_params_equal(const struct awg_params *a, const struct awg_params *b);

/* Outgoing. `msg`/`len` is a plain WireGuard datagram. Writes the AWG datagram to `out`
 * (capacity `cap`): the prefix (S1 / S2 random bytes for an initiation / response) then the
 * message with its type replaced. `out` may equal `msg` + the prefix length when the caller
 * left room in front (then no bytes move); otherwise the message is copied. Returns the
 * datagram length, -EINVAL when `msg` is not a WireGuard message (type 1..4 with its size),
 * -ENOSPC when cap is too small. */
ssize_t awg_encode(const struct awg_params *p, const uint8_t *msg, size_t len, uint8_t *out, size_t cap,
		   const struct nym_rng *rng);

/* Prefix length awg_encode puts in front of a message of this type (S1, S2 or 0). */
size_t awg_prefix_len(const struct awg_params *p, unsigned type);

/* WireGuard type (1..4) of an outgoing plain datagram, or 0 when it is none. */
unsigned awg_wg_type(const uint8_t *msg, size_t len);

/* Incoming. Classifies an AWG datagram by §1.1: size 148+S1 / 92+S2 / 64 / 32 with the matching
 * H at offset S1 / S2 / 0 / 0, else H4 at offset 0 (transport). On success, restores the plain
 * type in place and sets *off to the start of the WireGuard message (len - *off is its length);
 * returns the WireGuard type 1..4. Returns 0 for a datagram that does not classify (drop). */
unsigned awg_decode(const struct awg_params *p, uint8_t *dgram, size_t len, size_t *off);

/* Like awg_decode without writing: the type the datagram classifies as, 0 when none. */
unsigned awg_classify(const struct awg_params *p, const uint8_t *dgram, size_t len, size_t *off);

/* Junk before an initiation: Jc datagrams, each of a size in [Jmin, Jmax) (Jmax bumped by one
 * when Jc > 0 and Jmin == Jmax), random contents. awg_junk_size draws one size; awg_junk_fill
 * fills `len` random bytes. */
size_t awg_junk_size(const struct awg_params *p, const struct nym_rng *rng);
void awg_junk_fill(uint8_t *out, size_t len, const struct nym_rng *rng);

/* Uniform integer in [lo, hi) (hi > lo) from rng, without modulo bias. */
uint32_t awg_rand_range(uint32_t lo, uint32_t hi, const struct nym_rng *rng);

#endif
