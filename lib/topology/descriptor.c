#include "topology/descriptor.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "topology/canonical.h"

static const char *const role_names[] = { "mixnode", "entry", "exit", "wireguard" };
#define ROLE_COUNT 4

const char *nym_descriptor_role_name(unsigned role)
{
	for (unsigned i = 0; i < ROLE_COUNT; i++)
		if (role == 1u << i)
			return role_names[i];
	return "unknown";
}

int nym_descriptor_role_parse(const char *name, unsigned *role)
{
	for (unsigned i = 0; i < ROLE_COUNT; i++)
		if (strcmp(name, role_names[i]) == 0) {
			*role = 1u << i;
			return 0;
		}
	if (strcmp(name, "wg") == 0) {
		*role = NYM_ROLE_WIREGUARD;
		return 0;
	}
	return -EINVAL;
}

/* The one text form of an address: what inet_ntop writes for it. */
static bool address_ok(const char *text)
{
	unsigned char bin[16];
	char again[NYM_DESCRIPTOR_ADDR_LEN];
	int af = strchr(text, ':') ? AF_INET6 : AF_INET;
	return inet_pton(af, text, bin) == 1 && inet_ntop(af, bin, again, sizeof(again)) &&
	       strcmp(again, text) == 0;
}

static bool country_ok(const char *c)
{
	return c[0] == '\0' || (c[0] >= 'A' && c[0] <= 'Z' && c[1] >= 'A' && c[1] <= 'Z' && c[2] == '\0');
}

int nym_descriptor_validate(const struct nym_descriptor *d)
{
	unsigned r = d->roles;
	if (r == 0 || r >= 1u << ROLE_COUNT)
		return -EINVAL;
	if ((r & NYM_ROLE_MIXNODE) && r != NYM_ROLE_MIXNODE)
		return -EINVAL; /* a node mixes or it is a gateway, not both */
	if ((r & NYM_ROLE_WIREGUARD) && !(r & NYM_ROLES_GATEWAY))
		return -EINVAL;
	bool wg = r & NYM_ROLE_WIREGUARD;
	if (wg != (d->wireguard_port != 0))
		return -EINVAL;
	if (!d->mix_port || !d->http_port)
		return -EINVAL;
	if (d->sphinx_count < 1 || d->sphinx_count > NYM_DESCRIPTOR_SPHINX_MAX)
		return -EINVAL;
	for (size_t i = 0; i < d->sphinx_count; i++)
		if (d->sphinx[i].rotation < 1 || (i && d->sphinx[i].rotation <= d->sphinx[i - 1].rotation))
			return -EINVAL;
	if (d->address_count < 1 || d->address_count > NYM_DESCRIPTOR_ADDRS_MAX)
		return -EINVAL;
	for (size_t i = 0; i < d->address_count; i++) {
		if (!memchr(d->addresses[i], '\0', NYM_DESCRIPTOR_ADDR_LEN) || !address_ok(d->addresses[i]))
			return -EINVAL;
		for (size_t j = 0; j < i; j++)
			if (strcmp(d->addresses[i], d->addresses[j]) == 0)
				return -EINVAL;
	}
	if (!memchr(d->country, '\0', sizeof(d->country)) || !country_ok(d->country))
		return -EINVAL;
	size_t vlen = strnlen(d->version, sizeof(d->version));
	if (vlen == 0 || vlen > NYM_DESCRIPTOR_VERSION_MAX || !nym_canonical_string_ok(d->version, vlen))
		return -EINVAL;
	if (d->published < 0)
		return -EINVAL;
	if (d->has_amnezia && (!wg || awg_params_validate(&d->amnezia, NULL) || !awg_params_active(&d->amnezia)))
		return -EINVAL;
	return 0;
}

static json_t *amnezia_to_json(const struct awg_params *p)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "h1", (json_int_t)p->h1, "h2",
			 (json_int_t)p->h2, "h3", (json_int_t)p->h3, "h4", (json_int_t)p->h4, "jc", (json_int_t)p->jc,
			 "jmax", (json_int_t)p->jmax, "jmin", (json_int_t)p->jmin, "s1", (json_int_t)p->s1, "s2",
			 (json_int_t)p->s2);
}

static int parse_amnezia(const json_t *o, struct awg_params *p)
{
	static const char *const names[] = { "h1", "h2", "h3", "h4", "jc", "jmax", "jmin", "s1", "s2", NULL };
	int64_t v[9];
	if (!json_is_object(o) || !nym_canonical_only_fields(o, names, 9))
		return -EINVAL;
	for (size_t i = 0; i < 9; i++)
		if (!nym_canonical_get_int(o, names[i], 0, i < 4 ? UINT32_MAX : UINT16_MAX, &v[i]))
			return -EINVAL;
	*p = (struct awg_params){ .h1 = (uint32_t)v[0], .h2 = (uint32_t)v[1], .h3 = (uint32_t)v[2],
				  .h4 = (uint32_t)v[3], .jc = (uint16_t)v[4], .jmax = (uint16_t)v[5],
				  .jmin = (uint16_t)v[6], .s1 = (uint16_t)v[7], .s2 = (uint16_t)v[8] };
	return 0;
}

json_t *nym_descriptor_to_json(const struct nym_descriptor *d)
{
	if (nym_descriptor_validate(d))
		return NULL;
	json_t *addrs = json_array(), *roles = json_array(), *sphinx = json_array(), *ports = json_object();
	json_t *o = json_object();
	bool ok = addrs && roles && sphinx && ports && o;
	for (size_t i = 0; ok && i < d->address_count; i++)
		ok = json_array_append_new(addrs, json_string(d->addresses[i])) == 0;
	for (unsigned i = 0; ok && i < ROLE_COUNT; i++)
		if (d->roles & (1u << i))
			ok = json_array_append_new(roles, json_string(role_names[i])) == 0;
	for (size_t i = 0; ok && i < d->sphinx_count; i++)
		ok = json_array_append_new(sphinx, json_pack("{s:I, s:o}", "rotation",
							       (json_int_t)d->sphinx[i].rotation, "key",
							       nym_canonical_b58(d->sphinx[i].key, 32))) == 0;
	ok = ok && json_object_set_new(ports, "mix", json_integer(d->mix_port)) == 0 &&
	     json_object_set_new(ports, "http", json_integer(d->http_port)) == 0;
	if (ok && d->clients_port)
		ok = json_object_set_new(ports, "clients", json_integer(d->clients_port)) == 0;
	if (ok && d->wireguard_port)
		ok = json_object_set_new(ports, "wireguard", json_integer(d->wireguard_port)) == 0;
	if (ok && (d->roles & NYM_ROLE_WIREGUARD))
		ok = json_object_set_new(o, "wireguard_key", nym_canonical_b58(d->wireguard_key, 32)) == 0;
	if (ok && d->has_amnezia)
		ok = json_object_set_new(o, "amnezia", amnezia_to_json(&d->amnezia)) == 0;
	ok = ok && json_object_set_new(o, "addresses", addrs) == 0;
	addrs = NULL;
	ok = ok && json_object_set_new(o, "roles", roles) == 0;
	roles = NULL;
	ok = ok && json_object_set_new(o, "sphinx_keys", sphinx) == 0;
	sphinx = NULL;
	ok = ok && json_object_set_new(o, "ports", ports) == 0;
	ports = NULL;
	ok = ok && json_object_set_new(o, "identity", nym_canonical_b58(d->identity, 32)) == 0 &&
	     json_object_set_new(o, "noise_key", nym_canonical_b58(d->noise_key, 32)) == 0 &&
	     json_object_set_new(o, "country", json_string(d->country)) == 0 &&
	     json_object_set_new(o, "version", json_string(d->version)) == 0 &&
	     json_object_set_new(o, "published", json_integer(d->published)) == 0;
	json_decref(addrs);
	json_decref(roles);
	json_decref(sphinx);
	json_decref(ports);
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int nym_descriptor_sign(const struct nym_descriptor *d, const struct nym_ed25519_keypair *kp,
			struct nym_descriptor_signed *out)
{
	if (memcmp(kp->public_key, d->identity, 32) != 0)
		return -EINVAL;
	json_t *j = nym_descriptor_to_json(d);
	if (!j)
		return -EINVAL;
	int rc = nym_canonical_sign(kp, NYM_DESCRIPTOR_DOMAIN, j, out->signature);
	json_decref(j);
	if (rc == 0)
		out->d = *d;
	return rc;
}

json_t *nym_descriptor_signed_to_json(const struct nym_descriptor_signed *sd)
{
	json_t *d = nym_descriptor_to_json(&sd->d);
	if (!d)
		return NULL;
	return json_pack("{s:o, s:o}", "description", d, "signature", nym_canonical_b58(sd->signature, 64));
}

static int parse_ports(const json_t *p, struct nym_descriptor *d)
{
	static const char *const names[] = { "mix", "http", "clients", "wireguard", NULL };
	int64_t v;
	if (!nym_canonical_only_fields(p, names, 2))
		return -EINVAL;
	uint16_t *dst[] = { &d->mix_port, &d->http_port, &d->clients_port, &d->wireguard_port };
	for (size_t i = 0; i < 4; i++) {
		if (!json_object_get(p, names[i]))
			continue;
		if (!nym_canonical_get_int(p, names[i], 1, 65535, &v))
			return -EINVAL;
		*dst[i] = (uint16_t)v;
	}
	return 0;
}

static int parse_description(const json_t *o, struct nym_descriptor *d)
{
	static const char *const names[] = { "addresses", "country", "identity", "noise_key", "ports",
					     "published", "roles", "sphinx_keys", "version", "wireguard_key",
					     "amnezia", NULL };
	memset(d, 0, sizeof(*d));
	if (!nym_canonical_only_fields(o, names, 9))
		return -EINVAL;
	if (!nym_canonical_get_key(o, "identity", d->identity) || !nym_canonical_get_key(o, "noise_key", d->noise_key) ||
	    !nym_canonical_get_int(o, "published", 0, INT64_MAX, &d->published))
		return -EINVAL;
	const char *country = nym_canonical_get_str(o, "country", 2);
	const char *version = nym_canonical_get_str(o, "version", NYM_DESCRIPTOR_VERSION_MAX);
	if (!country || !version)
		return -EINVAL;
	memcpy(d->country, country, strlen(country) + 1);
	memcpy(d->version, version, strlen(version) + 1);

	json_t *addrs = json_object_get(o, "addresses");
	if (!json_is_array(addrs) || json_array_size(addrs) > NYM_DESCRIPTOR_ADDRS_MAX)
		return -EINVAL;
	for (size_t i = 0; i < json_array_size(addrs); i++) {
		json_t *a = json_array_get(addrs, i);
		if (!json_is_string(a) || json_string_length(a) >= NYM_DESCRIPTOR_ADDR_LEN)
			return -EINVAL;
		memcpy(d->addresses[i], json_string_value(a), json_string_length(a) + 1);
	}
	d->address_count = json_array_size(addrs);

	/* Roles in their fixed order, each once: the encoding of a bit set. */
	json_t *roles = json_object_get(o, "roles");
	if (!json_is_array(roles))
		return -EINVAL;
	unsigned last = 0;
	for (size_t i = 0; i < json_array_size(roles); i++) {
		json_t *r = json_array_get(roles, i);
		unsigned bit;
		if (!json_is_string(r) || strcmp(json_string_value(r), "wg") == 0 ||
		    nym_descriptor_role_parse(json_string_value(r), &bit) || bit <= last)
			return -EINVAL;
		d->roles |= bit;
		last = bit;
	}

	json_t *sphinx = json_object_get(o, "sphinx_keys");
	if (!json_is_array(sphinx) || json_array_size(sphinx) > NYM_DESCRIPTOR_SPHINX_MAX)
		return -EINVAL;
	static const char *const sk_names[] = { "key", "rotation", NULL };
	for (size_t i = 0; i < json_array_size(sphinx); i++) {
		json_t *k = json_array_get(sphinx, i);
		int64_t rot;
		if (!nym_canonical_only_fields(k, sk_names, 2) || !nym_canonical_get_key(k, "key", d->sphinx[i].key) ||
		    !nym_canonical_get_int(k, "rotation", 1, UINT32_MAX, &rot))
			return -EINVAL;
		d->sphinx[i].rotation = (uint32_t)rot;
	}
	d->sphinx_count = json_array_size(sphinx);

	if (parse_ports(json_object_get(o, "ports"), d))
		return -EINVAL;
	json_t *wg = json_object_get(o, "wireguard_key");
	if (wg && !nym_canonical_get_key(o, "wireguard_key", d->wireguard_key))
		return -EINVAL;
	if ((wg != NULL) != ((d->roles & NYM_ROLE_WIREGUARD) != 0))
		return -EINVAL;
	json_t *awg = json_object_get(o, "amnezia");
	if (awg) {
		if (parse_amnezia(awg, &d->amnezia))
			return -EINVAL;
		d->has_amnezia = true;
	}
	return nym_descriptor_validate(d);
}

int nym_descriptor_signed_from_json(const json_t *env, struct nym_descriptor_signed *out)
{
	static const char *const names[] = { "description", "signature", NULL };
	if (!nym_canonical_only_fields(env, names, 2) || !nym_canonical_get_sig(env, "signature", out->signature))
		return -EINVAL;
	json_t *desc = json_object_get(env, "description");
	if (!json_is_object(desc) || parse_description(desc, &out->d))
		return -EINVAL;
	return nym_canonical_verify(out->d.identity, NYM_DESCRIPTOR_DOMAIN, desc, out->signature);
}

int nym_descriptor_signed_decode(const char *body, size_t len, struct nym_descriptor_signed *out)
{
	json_t *j;
	int rc = nym_canonical_parse(body, len, NYM_DESCRIPTOR_JSON_MAX, &j);
	if (rc)
		return rc;
	rc = nym_descriptor_signed_from_json(j, out);
	json_decref(j);
	return rc;
}

void nym_descriptor_mix_address(const struct nym_descriptor *d, size_t index, char *out, size_t cap)
{
	const char *a = d->addresses[index < d->address_count ? index : 0];
	if (strchr(a, ':'))
		snprintf(out, cap, "[%s]:%u", a, d->mix_port);
	else
		snprintf(out, cap, "%s:%u", a, d->mix_port);
}
