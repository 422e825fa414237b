/* The gateway's ticket path on arbitrary bytes: parse, then verify against a fixed key list
 * (one 2048-bit wg-entry key; the seed corpus holds tickets it signed). Must never crash,
 * and must accept only byte-exact copies of valid tickets. */
#include <stdlib.h>
#include <string.h>

#include "cred/issuer_keyset.h"
#include "cred/ticket.h"
#include "fuzz.h"

static const char keys_json[] =
	"{\"version\":1,\"keys\":[{\"type\":\"wg-entry\",\"expiry\":1796083200,\"issue_from\":1795392000,\"issue_until\":1795478400,\"variant\":\"RSABSSA-SHA384-PSS-Randomized\",\"bits\":2048,\"public_key_pem\":\"-----BEGIN PUBLIC KEY-----\\nMIIBVjBBBgkqhkiG9w0BAQowNKAPMA0GCWCGSAFlAwQCAgUAoRwwGgYJKoZIhvcN\\nAQEIMA0GCWCGSAFlAwQCAgUAogMCATADggEPADCCAQoCggEBAL7XnWXfW26EWhGd\\ntMZh2C+JkJ/mHobzdxMB54TBhSOSNbxRWYeU6GwobuLt1E7R19Nxz7/ZNhLsZ/9Q\\naBQ4NYor7edL70OPw1C/4EKIe6dwRd6TEL6L9QSbUJMMF3OQyYC96UFA9JZaEelb\\nTv0dbBfQNwr2mUIsr8QhDo3BXv04jK0XNruLZzC6QxJvQNqvFGx4JMW22eMZ0Qig\\nRKG5Dufiq1MSfNgUBvlMV7dYxS1GWzVWD6k8cQaV+V5fIO7O2iIt0m+atNHeM1XP\\nTlTF5dWmg48F4Q6AVT4q3SchG6ZCv8JAIy7fZujSSg6uPZXrC0Q0EONByaQz1WJr\\npd2X0/ECAwEAAQ==\\n-----END PUBLIC KEY-----\\n\"}]}";

static struct nym_issuer_keyset keys;

void fuzz_setup(void)
{
	if (nym_issuer_keyset_from_json(&keys, keys_json, strlen(keys_json)) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nym_ticket_view v;
	if (nym_ticket_parse(&v, data, size) == 0) {
		if (size < NYM_TICKET_PREPARED_LEN || v.sig != data + NYM_TICKET_PREPARED_LEN ||
		    v.sig_len != size - NYM_TICKET_PREPARED_LEN)
			abort();
		uint8_t out[NYM_TICKET_MAX_LEN];
		size_t len;
		if (v.sig_len > 0 && v.sig_len <= NYM_BRSA_MAX_LEN &&
		    (nym_ticket_encode(out, sizeof(out), &len, v.prepared, v.sig, v.sig_len) != 0 ||
		     len != size || memcmp(out, data, size) != 0))
			abort();
	}
	struct nym_ticket_msg m;
	int rc = nym_issuer_keyset_verify_ticket(&keys, data, size, 1, NYM_TICKET_TYPES_ALL, &m);
	if (rc == 0 && (size != NYM_TICKET_PREPARED_LEN + 256 || m.type != NYM_TICKET_WG_ENTRY))
		abort();
	return 0;
}
