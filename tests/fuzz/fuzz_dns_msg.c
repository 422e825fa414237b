/* DNS responses as the probe receives them from the network (net/dns_msg): the answers of a
 * response to the id it carries, and every name at every offset. A query built from the
 * input as a name must read back as that name. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "fuzz.h"
#include "net/dns_msg.h"

static void answers(const uint8_t *data, size_t size)
{
	uint16_t id = size >= 2 ? (uint16_t)(data[0] << 8 | data[1]) : 0;
	struct dns_msg_answer a[4];
	struct dns_msg_answers r;
	int rc = dns_msg_answers(data, size, id, a, 4, &r);
	if (rc != 0 && rc != -ENOMSG && rc != -EBADMSG)
		abort();
	if (rc == 0) {
		if (r.count > 4 || r.rcode < 0 || r.rcode > 15)
			abort();
		for (size_t i = 0; i < r.count; i++)
			if (a[i].family != AF_INET && a[i].family != AF_INET6)
				abort();
		/* Answers are the same whatever room they are given. */
		struct dns_msg_answers r0;
		if (dns_msg_answers(data, size, id, NULL, 0, &r0) != 0 || r0.count != 0 ||
		    r0.dropped != r.count + r.dropped)
			abort();
	}
	if (size >= 2 && dns_msg_answers(data, size, (uint16_t)(id + 1), a, 4, &r) != -ENOMSG)
		abort();
}

static void names(const uint8_t *data, size_t size)
{
	char text[DNS_MSG_NAME_TEXT_MAX];
	for (size_t at = 0; at < size && at < 600; at++) {
		size_t off = at;
		int rc = dns_msg_name(data, size, &off, text, sizeof(text));
		if (rc == 0 && (off <= at || off > size || strlen(text) >= sizeof(text)))
			abort();
		if (rc != 0 && (rc != -EBADMSG || off != at))
			abort();
	}
}

static void query(const uint8_t *data, size_t size)
{
	char name[300];
	size_t n = size < sizeof(name) - 1 ? size : sizeof(name) - 1;
	memcpy(name, data, n);
	name[n] = 0;
	uint8_t q[DNS_MSG_QUERY_MAX];
	size_t len;
	if (dns_msg_query(q, sizeof(q), 0x5151, name, DNS_MSG_TYPE_A, &len) != 0)
		return;
	size_t off = DNS_MSG_HEADER_LEN;
	char text[DNS_MSG_NAME_TEXT_MAX];
	if (len > sizeof(q) || dns_msg_name(q, len, &off, text, sizeof(text)) != 0 || off != len - 4)
		abort();
	/* A name of letters, digits, '-', '_' and dots reads back as it was (less a final dot). */
	size_t l = strlen(name);
	if (strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") == l) {
		if (l && name[l - 1] == '.')
			name[--l] = 0;
		if (strcmp(text, name) != 0)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	answers(data, size);
	names(data, size);
	query(data, size);
	return 0;
}
