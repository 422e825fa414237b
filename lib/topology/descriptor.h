/* A node's self-description (docs/PROTOCOLS.md §7.2): what it announces to the authorities and
 * what the epoch document lists about it, signed with the node's Ed25519 identity over the
 * canonical JSON of the "description" object (domain "nym-descriptor-v1"):
 *
 *   {"description": {"addresses": [IP, ...], "country": "DE", "identity": B58,
 *                    "noise_key": B58, "ports": {"mix": P, "http": P, "clients": P,
 *                    "wireguard": P}, "published": UNIX, "roles": ["mixnode"],
 *                    "sphinx_keys": [{"rotation": R, "key": B58}, ...], "version": "0.1.0",
 *                    "wireguard_key": B58,
 *                    "amnezia": {"h1": U32, "h2": U32, "h3": U32, "h4": U32, "jc": U16,
 *                                "jmax": U16, "jmin": U16, "s1": U16, "s2": U16}},
 *    "signature": B58}
 *
 * Pure parser and encoder. A parsed descriptor re-encodes to exactly the bytes it was signed
 * as: every field has one spelling (address text as inet_ntop writes it, roles in their fixed
 * order, Sphinx keys by ascending rotation). */
#ifndef NYM_TOPOLOGY_DESCRIPTOR_H
#define NYM_TOPOLOGY_DESCRIPTOR_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "awg/awg.h"
#include "crypto/ed25519.h"

#define NYM_DESCRIPTOR_DOMAIN "nym-descriptor-v1"
#define NYM_DESCRIPTOR_JSON_MAX 8192
#define NYM_DESCRIPTOR_ADDRS_MAX 4
#define NYM_DESCRIPTOR_ADDR_LEN 46 /* INET6_ADDRSTRLEN */
#define NYM_DESCRIPTOR_VERSION_MAX 32
#define NYM_DESCRIPTOR_SPHINX_MAX 2

enum nym_descriptor_role {
	NYM_ROLE_MIXNODE = 1 << 0,
	NYM_ROLE_ENTRY = 1 << 1,
	NYM_ROLE_EXIT = 1 << 2,
	NYM_ROLE_WIREGUARD = 1 << 3,
};
#define NYM_ROLES_GATEWAY (NYM_ROLE_ENTRY | NYM_ROLE_EXIT)

/* "mixnode", "entry", "exit", "wireguard" for a single role bit. */
const char *nym_descriptor_role_name(unsigned role);
/* Accepts the names above and "wg" for wireguard. */
int nym_descriptor_role_parse(const char *name, unsigned *role);

struct nym_descriptor_sphinx {
	uint32_t rotation; /* >= 1 */
	uint8_t key[32];
};

struct nym_descriptor {
	uint8_t identity[32];
	uint8_t noise_key[32];
	size_t sphinx_count; /* 1..2, ascending rotations: the current key and the next */
	struct nym_descriptor_sphinx sphinx[NYM_DESCRIPTOR_SPHINX_MAX];
	size_t address_count; /* 1..4, distinct */
	char addresses[NYM_DESCRIPTOR_ADDRS_MAX][NYM_DESCRIPTOR_ADDR_LEN];
	uint16_t mix_port, http_port;  /* required */
	uint16_t clients_port;	       /* 0: none (gateways announce one) */
	uint16_t wireguard_port;       /* with the wireguard role only */
	uint8_t wireguard_key[32];     /* with the wireguard role only */
	unsigned roles;		       /* enum nym_descriptor_role bits */
	char country[3];	       /* two capital letters, or "" when unknown */
	char version[NYM_DESCRIPTOR_VERSION_MAX + 1];
	int64_t published; /* Unix seconds; a node's later description replaces an earlier one */
	/* "amnezia": the AmneziaWG 1.0 parameters the gateway applies to its WireGuard port; only
	 * with the wireguard role, only a set that validates and is active (awg/awg.h). */
	bool has_amnezia;
	struct awg_params amnezia;
};

struct nym_descriptor_signed {
	struct nym_descriptor d;
	uint8_t signature[NYM_ED25519_SIG_LEN];
};

/* The rules every descriptor obeys: roles (mixnode alone, or entry/exit with or without
 * wireguard, which needs its key and port), ports, addresses, keys order, country, version,
 * and "amnezia" (wireguard role only, awg_params_validate, active).
 * Returns 0 or -EINVAL. */
int nym_descriptor_validate(const struct nym_descriptor *d);

/* The "description" object. NULL on allocation failure or an invalid descriptor. */
json_t *nym_descriptor_to_json(const struct nym_descriptor *d);

/* Signs with kp (whose public key must be d->identity): -EINVAL otherwise. */
int nym_descriptor_sign(const struct nym_descriptor *d, const struct nym_ed25519_keypair *kp,
			struct nym_descriptor_signed *out);
/* The envelope {"description": ..., "signature": ...}. */
json_t *nym_descriptor_signed_to_json(const struct nym_descriptor_signed *sd);

/* Parses and verifies an envelope: -EINVAL malformed, -EBADMSG bad signature. */
int nym_descriptor_signed_from_json(const json_t *envelope, struct nym_descriptor_signed *out);
/* The same from bytes (at most NYM_DESCRIPTOR_JSON_MAX: -EMSGSIZE). */
int nym_descriptor_signed_decode(const char *body, size_t len, struct nym_descriptor_signed *out);

/* The mixnet address of the node's first address ("IP:PORT" or "[IP]:PORT"). */
void nym_descriptor_mix_address(const struct nym_descriptor *d, size_t index, char *out, size_t cap);

#endif
