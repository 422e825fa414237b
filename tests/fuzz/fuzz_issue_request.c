/* The POST /v1/ticketbooks request decoder (and the client's response decoder) on arbitrary
 * bodies: a decoded request re-encodes to one that decodes to the same thing. */
#include <stdlib.h>
#include <string.h>

#include "cred/issue.h"
#include "fuzz.h"

static struct nym_issue_request req, req2;
static struct nym_issue_response resp, resp2;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *json;
	size_t len;
	if (nym_issue_request_decode(&req, (const char *)data, size) == 0) {
		if (req.count < 1 || req.count > NYM_TICKETBOOK_SIZE || req.elem_len < NYM_ISSUE_ELEM_MIN ||
		    req.elem_len > NYM_BRSA_MAX_LEN || !nym_issue_voucher_valid(req.voucher) ||
		    req.expiry % NYM_TICKET_DAY_S)
			abort();
		if (nym_issue_request_encode(&req, &json, &len) != 0 ||
		    nym_issue_request_decode(&req2, json, len) != 0 ||
		    memcmp(&req, &req2, sizeof(req)) != 0)
			abort();
		free(json);
	}
	if (nym_issue_response_decode(&resp, (const char *)data, size) == 0) {
		if (nym_issue_response_encode(&resp, &json, &len) != 0 ||
		    nym_issue_response_decode(&resp2, json, len) != 0 ||
		    memcmp(&resp, &resp2, sizeof(resp)) != 0)
			abort();
		free(json);
	}
	return 0;
}
