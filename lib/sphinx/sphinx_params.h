/* Sizes and offsets of Nym's Sphinx (nymtech/sphinx, sphinx-packet 0.6.0): docs/PROTOCOLS.md §1.
 * Constants only. */
#ifndef NYM_SPHINX_PARAMS_H
#define NYM_SPHINX_PARAMS_H

#define SPHINX_MAX_HOPS 5
#define SPHINX_ALPHA_LEN 32
#define SPHINX_GAMMA_LEN 16
#define SPHINX_HOP_SLOT_LEN 60     /* flag 1 + version 3 + address 32 + delay 8 + gamma 16 */
#define SPHINX_BETA_LEN 300        /* SPHINX_HOP_SLOT_LEN * SPHINX_MAX_HOPS */
#define SPHINX_STREAM_LEN 360      /* beta plus one slot of filler */
#define SPHINX_HEADER_LEN 348      /* alpha | gamma | beta */
#define SPHINX_OFF_GAMMA SPHINX_ALPHA_LEN
#define SPHINX_OFF_BETA (SPHINX_ALPHA_LEN + SPHINX_GAMMA_LEN)

#define SPHINX_ADDRESS_LEN 32      /* node routing address or destination */
#define SPHINX_IDENTIFIER_LEN 16
#define SPHINX_REPLAY_TAG_LEN 32
#define SPHINX_FINAL_META_LEN 52   /* flag 1 + version 3 + destination 32 + identifier 16 */

#define SPHINX_FLAG_FORWARD 1
#define SPHINX_FLAG_FINAL 2

#define SPHINX_PAYLOAD_KEY_LEN 192 /* a Lioness key */
#define SPHINX_PAYLOAD_SEED_LEN 16 /* v259: payload keys are derived from a seed */
#define SPHINX_PAYLOAD_OVERHEAD 17 /* 16 zero bytes in front, 0x01 after the message */
#define SPHINX_PAYLOAD_MIN 33      /* Lioness needs more than its 32-byte half */

/* Versions, carried as 3 bytes (0, u16 BE) inside every routing block. */
#define SPHINX_VERSION_258 258 /* clamped X25519 blinding, raw 192-byte payload keys */
#define SPHINX_VERSION_259 259 /* as 258, payload keys from a 16-byte seed through HKDF */
#define SPHINX_VERSION_DEFAULT SPHINX_VERSION_259

#endif
