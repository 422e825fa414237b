#include "cred/issue.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/secret.h"
#include "util/hex.h"

bool nym_issue_voucher_valid(const char *code)
{
	size_t n = 0;
	for (; code[n]; n++) {
		char c = code[n];
		if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')))
			return false;
		if (n == NYM_VOUCHER_MAX)
			return false;
	}
	return n > 0;
}

static int dump(json_t *root, char **json, size_t *len)
{
	*json = NULL;
	if (!root)
		return -ENOMEM;
	*json = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	if (!*json)
		return -ENOMEM;
	*len = strlen(*json);
	return 0;
}

static json_t *hex_array(const uint8_t (*elems)[NYM_BRSA_MAX_LEN], size_t count, size_t elem_len)
{
	json_t *arr = json_array();
	char hex[2 * NYM_BRSA_MAX_LEN + 1];
	if (!arr || elem_len > NYM_BRSA_MAX_LEN)
		goto fail;
	for (size_t i = 0; i < count; i++) {
		nym_hex_encode(hex, elems[i], elem_len);
		if (json_array_append_new(arr, json_string(hex)) != 0)
			goto fail;
	}
	return arr;
fail:
	json_decref(arr);
	return NULL;
}

/* Decodes 1..50 hex strings of one length in [256, 512] bytes. */
static int hex_elems(json_t *arr, uint8_t (*elems)[NYM_BRSA_MAX_LEN], size_t *count,
		     size_t *elem_len)
{
	size_t n = json_array_size(arr), i;
	json_t *v;
	if (!json_is_array(arr) || n == 0 || n > NYM_TICKETBOOK_SIZE)
		return -EINVAL;
	*elem_len = 0;
	json_array_foreach(arr, i, v)
	{
		size_t hex_len = json_string_length(v), len;
		if (!json_is_string(v) || hex_len % 2 || hex_len / 2 < NYM_ISSUE_ELEM_MIN ||
		    hex_len / 2 > NYM_BRSA_MAX_LEN || (i > 0 && hex_len / 2 != *elem_len))
			return -EINVAL;
		if (nym_hex_decode(elems[i], NYM_BRSA_MAX_LEN, &len, json_string_value(v)) != 0)
			return -EINVAL;
		*elem_len = len;
	}
	*count = n;
	return 0;
}

static int parse_head(json_t *root, size_t fields, enum nym_ticket_type *type, int64_t *expiry)
{
	json_t *t = json_object_get(root, "type"), *e = json_object_get(root, "expiry");
	if (!json_is_object(root) || json_object_size(root) != fields || !json_is_string(t) ||
	    !json_is_integer(e) || nym_ticket_type_parse(json_string_value(t), type) != 0)
		return -EINVAL;
	*expiry = (int64_t)json_integer_value(e);
	if (*expiry <= 0 || *expiry % NYM_TICKET_DAY_S)
		return -EINVAL;
	return 0;
}

static json_t *load(const char *body, size_t len, int *rc)
{
	json_error_t err;
	if (len > NYM_ISSUE_BODY_MAX) {
		*rc = -EMSGSIZE;
		return NULL;
	}
	json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &err);
	*rc = root ? 0 : -EINVAL;
	return root;
}

int nym_issue_request_encode(const struct nym_issue_request *req, char **json, size_t *len)
{
	json_t *arr = hex_array((const uint8_t(*)[NYM_BRSA_MAX_LEN])req->blinded, req->count,
				req->elem_len);
	if (!arr)
		return -ENOMEM;
	return dump(json_pack("{s:s, s:s, s:I, s:o}", "voucher", req->voucher, "type",
			      nym_ticket_type_name(req->type), "expiry", (json_int_t)req->expiry,
			      "blinded", arr),
		    json, len);
}

int nym_issue_request_decode(struct nym_issue_request *req, const char *body, size_t len)
{
	int rc;
	json_t *root = load(body, len, &rc);
	memset(req, 0, sizeof(*req));
	if (rc)
		goto out;
	rc = parse_head(root, 4, &req->type, &req->expiry);
	if (rc)
		goto out;
	rc = -EINVAL;
	json_t *v = json_object_get(root, "voucher");
	if (!json_is_string(v) || json_string_length(v) > NYM_VOUCHER_MAX ||
	    !nym_issue_voucher_valid(json_string_value(v)))
		goto out;
	memcpy(req->voucher, json_string_value(v), json_string_length(v) + 1);
	rc = hex_elems(json_object_get(root, "blinded"), req->blinded, &req->count, &req->elem_len);
out:
	if (rc)
		nym_issue_request_clear(req);
	json_decref(root);
	return rc;
}

void nym_issue_request_clear(struct nym_issue_request *req)
{
	nym_memzero(req, sizeof(*req));
}

int nym_issue_response_encode(const struct nym_issue_response *resp, char **json, size_t *len)
{
	json_t *arr = hex_array((const uint8_t(*)[NYM_BRSA_MAX_LEN])resp->blind_sigs, resp->count,
				resp->elem_len);
	if (!arr)
		return -ENOMEM;
	return dump(json_pack("{s:s, s:I, s:o}", "type", nym_ticket_type_name(resp->type), "expiry",
			      (json_int_t)resp->expiry, "blind_signatures", arr),
		    json, len);
}

int nym_issue_response_decode(struct nym_issue_response *resp, const char *body, size_t len)
{
	int rc;
	json_t *root = load(body, len, &rc);
	memset(resp, 0, sizeof(*resp));
	if (rc)
		goto out;
	rc = parse_head(root, 3, &resp->type, &resp->expiry);
	if (rc)
		goto out;
	rc = hex_elems(json_object_get(root, "blind_signatures"), resp->blind_sigs, &resp->count,
		       &resp->elem_len);
out:
	if (rc)
		memset(resp, 0, sizeof(*resp));
	json_decref(root);
	return rc;
}

int nym_issue_error_encode(const char *message, char **json, size_t *len)
{
	return dump(json_pack("{s:s}", "error", message), json, len);
}
