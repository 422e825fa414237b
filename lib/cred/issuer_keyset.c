#include "cred/issuer_keyset.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

void nym_issuer_keyset_init(struct nym_issuer_keyset *ks)
{
	memset(ks, 0, sizeof(*ks));
}

void nym_issuer_keyset_clear(struct nym_issuer_keyset *ks)
{
	for (size_t i = 0; i < ks->count; i++)
		nym_blind_rsa_public_key_free(ks->keys[i].key);
	nym_issuer_keyset_init(ks);
}

const struct nym_issuer_keyset_entry *nym_issuer_keyset_find(const struct nym_issuer_keyset *ks,
						    enum nym_ticket_type type, int64_t expiry)
{
	for (size_t i = 0; i < ks->count; i++)
		if (ks->keys[i].type == type && ks->keys[i].expiry == expiry)
			return &ks->keys[i];
	return NULL;
}

const struct nym_issuer_keyset_entry *nym_issuer_keyset_current(const struct nym_issuer_keyset *ks,
						       enum nym_ticket_type type, int64_t now)
{
	const struct nym_issuer_keyset_entry *best = NULL;
	for (size_t i = 0; i < ks->count; i++) {
		const struct nym_issuer_keyset_entry *k = &ks->keys[i];
		if (k->type == type && k->issue_from <= now && now < k->issue_until &&
		    (!best || k->issue_from > best->issue_from))
			best = k;
	}
	return best;
}

int nym_issuer_keyset_add(struct nym_issuer_keyset *ks, enum nym_ticket_type type, int64_t expiry,
			  int64_t issue_from, int64_t issue_until,
			  const struct nym_blind_rsa_public_key *key)
{
	if (!nym_ticket_type_valid(type) || expiry <= 0 || expiry % NYM_TICKET_DAY_S ||
	    issue_from >= issue_until || issue_until > expiry ||
	    nym_blind_rsa_public_key_variant(key) != NYM_BRSA_PSS_RANDOMIZED)
		return -EINVAL;
	if (nym_issuer_keyset_find(ks, type, expiry))
		return -EEXIST;
	if (ks->count == NYM_ISSUER_KEYSET_MAX)
		return -ENOSPC;
	struct nym_issuer_keyset_entry *k = &ks->keys[ks->count];
	int rc = nym_blind_rsa_public_key_copy(&k->key, key);
	if (rc)
		return rc;
	k->type = type;
	k->expiry = expiry;
	k->issue_from = issue_from;
	k->issue_until = issue_until;
	ks->count++;
	return 0;
}

int nym_issuer_keyset_merge(struct nym_issuer_keyset *dst, const struct nym_issuer_keyset *src)
{
	for (size_t i = 0; i < src->count; i++) {
		const struct nym_issuer_keyset_entry *s = &src->keys[i];
		bool have = false;
		for (size_t j = 0; j < dst->count && !have; j++)
			have = dst->keys[j].type == s->type && dst->keys[j].expiry == s->expiry &&
			       nym_blind_rsa_public_key_equal(dst->keys[j].key, s->key);
		if (have)
			continue;
		if (dst->count == NYM_ISSUER_KEYSET_MAX)
			return -ENOSPC;
		struct nym_issuer_keyset_entry *k = &dst->keys[dst->count];
		int rc = nym_blind_rsa_public_key_copy(&k->key, s->key);
		if (rc)
			return rc;
		k->type = s->type;
		k->expiry = s->expiry;
		k->issue_from = s->issue_from;
		k->issue_until = s->issue_until;
		dst->count++;
	}
	return 0;
}

static bool get_int(json_t *obj, const char *name, int64_t *out)
{
	json_t *v = json_object_get(obj, name);
	if (!json_is_integer(v))
		return false;
	*out = (int64_t)json_integer_value(v);
	return true;
}

static int parse_entry(struct nym_issuer_keyset *ks, json_t *e)
{
	const char *type_name, *variant_name, *pem;
	enum nym_ticket_type type;
	enum nym_blind_rsa_variant variant;
	int64_t expiry, from, until, bits;
	struct nym_blind_rsa_public_key *key = NULL;
	json_t *type_v = json_object_get(e, "type"), *variant_v = json_object_get(e, "variant"),
	       *pem_v = json_object_get(e, "public_key_pem");
	if (!json_is_object(e) || json_object_size(e) != 7 || !json_is_string(type_v) ||
	    !json_is_string(variant_v) || !json_is_string(pem_v) ||
	    !get_int(e, "expiry", &expiry) || !get_int(e, "issue_from", &from) ||
	    !get_int(e, "issue_until", &until) || !get_int(e, "bits", &bits))
		return -EINVAL;
	type_name = json_string_value(type_v);
	variant_name = json_string_value(variant_v);
	pem = json_string_value(pem_v);
	if (nym_ticket_type_parse(type_name, &type) != 0 ||
	    nym_blind_rsa_variant_parse(variant_name, &variant) != 0 ||
	    variant != NYM_BRSA_PSS_RANDOMIZED)
		return -EINVAL;
	int rc = nym_blind_rsa_public_key_from_pem(&key, variant, pem, json_string_length(pem_v));
	if (rc)
		return -EINVAL;
	rc = bits == (int64_t)nym_blind_rsa_public_key_bits(key)
		     ? nym_issuer_keyset_add(ks, type, expiry, from, until, key)
		     : -EINVAL;
	nym_blind_rsa_public_key_free(key);
	return rc == -ENOMEM ? rc : rc ? -EINVAL : 0;
}

int nym_issuer_keyset_from_json(struct nym_issuer_keyset *ks, const char *json, size_t len)
{
	json_error_t err;
	json_t *root = NULL, *keys, *e;
	size_t i;
	int rc = -EMSGSIZE;
	nym_issuer_keyset_init(ks);
	if (len > NYM_ISSUER_KEYS_JSON_MAX)
		goto out;
	rc = -EINVAL;
	root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &err);
	keys = json_object_get(root, "keys");
	json_t *version = json_object_get(root, "version");
	if (!json_is_object(root) || json_object_size(root) != 2 || !json_is_integer(version) ||
	    json_integer_value(version) != NYM_ISSUER_KEYS_VERSION || !json_is_array(keys) ||
	    json_array_size(keys) > NYM_ISSUER_KEYS_LIST_MAX)
		goto out;
	json_array_foreach(keys, i, e)
	{
		rc = parse_entry(ks, e);
		if (rc)
			goto out;
	}
	rc = 0;
out:
	if (rc)
		nym_issuer_keyset_clear(ks);
	json_decref(root);
	return rc;
}

int nym_issuer_keyset_to_json(const struct nym_issuer_keyset *ks, char **json)
{
	json_t *keys = json_array(), *root = NULL;
	int rc = -ENOMEM;
	*json = NULL;
	if (!keys)
		goto out;
	for (size_t i = 0; i < ks->count; i++) {
		const struct nym_issuer_keyset_entry *k = &ks->keys[i];
		char *pem;
		rc = nym_blind_rsa_public_key_to_pem(k->key, &pem);
		if (rc)
			goto out;
		json_t *e = json_pack(
			"{s:s, s:I, s:I, s:I, s:s, s:i, s:s}", "type",
			nym_ticket_type_name(k->type), "expiry", (json_int_t)k->expiry,
			"issue_from", (json_int_t)k->issue_from, "issue_until",
			(json_int_t)k->issue_until, "variant",
			nym_blind_rsa_variant_name(nym_blind_rsa_public_key_variant(k->key)), "bits",
			(int)nym_blind_rsa_public_key_bits(k->key), "public_key_pem", pem);
		free(pem);
		rc = -ENOMEM;
		if (!e || json_array_append_new(keys, e) != 0)
			goto out;
	}
	root = json_pack("{s:i, s:O}", "version", NYM_ISSUER_KEYS_VERSION, "keys", keys);
	if (!root || !(*json = json_dumps(root, JSON_INDENT(2))))
		goto out;
	rc = 0;
out:
	json_decref(keys);
	json_decref(root);
	return rc;
}

int nym_issuer_keyset_verify_ticket(const struct nym_issuer_keyset *ks, const uint8_t *ticket,
				    size_t len, int64_t now, unsigned accepted_types,
				    struct nym_ticket_msg *msg)
{
	struct nym_ticket_view v;
	int rc = nym_ticket_parse(&v, ticket, len);
	if (rc)
		return rc;
	if (!(accepted_types & (1u << v.msg.type)))
		return -EPERM;
	if (v.msg.expiry <= now)
		return -EKEYEXPIRED;
	/* Usually one candidate; several when authorities' lists were merged. */
	rc = -ENOKEY;
	for (size_t i = 0; i < ks->count; i++) {
		const struct nym_issuer_keyset_entry *k = &ks->keys[i];
		if (k->type != v.msg.type || k->expiry != v.msg.expiry)
			continue;
		if (nym_ticket_check_len(&v, nym_blind_rsa_public_key_len(k->key)) != 0) {
			if (rc == -ENOKEY)
				rc = -EINVAL;
			continue;
		}
		rc = nym_blind_rsa_verify(k->key, v.prepared, NYM_TICKET_PREPARED_LEN, v.sig, v.sig_len);
		if (rc == 0)
			break;
	}
	if (rc)
		return rc;
	if (msg)
		*msg = v.msg;
	return 0;
}
