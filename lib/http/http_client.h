/* HTTP requests over libcurl for the directory and credential clients: one request at a time,
 * bounded in every dimension (answer size, total time), http and https only, no redirects,
 * and the one response header the project signs with (X-Nym-Signature) captured.
 *
 * Errors: -EMSGSIZE the answer exceeds max_response, -ETIMEDOUT, -ECONNREFUSED,
 * -EHOSTUNREACH (no route, DNS failure), -EINVAL a bad URL, -ENOMEM, -EIO anything else.
 * An HTTP error status is not an error here: the caller reads `status`. */
#ifndef NYM_HTTP_HTTP_CLIENT_H
#define NYM_HTTP_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NYM_HTTP_HEADER_MAX 320
#define NYM_HTTP_TIMEOUT_MS_DEFAULT 5000

struct nym_http_request {
	const char *method; /* "GET" (default when NULL) or "POST" */
	const char *url;
	const char *content_type; /* for POST */
	const void *body;
	size_t body_len;
	size_t max_response; /* bytes */
	long timeout_ms;     /* whole request; 0: NYM_HTTP_TIMEOUT_MS_DEFAULT */
};

struct nym_http_response {
	long status;
	char *body; /* malloc'd, NUL-terminated (the NUL is not counted) */
	size_t len;
	char signature[NYM_HTTP_HEADER_MAX]; /* X-Nym-Signature, or "" */
};

/* Call once before any thread makes requests (curl_global_init is not thread-safe). */
int nym_http_init(void);

int nym_http_request(const struct nym_http_request *req, struct nym_http_response *resp);
void nym_http_response_free(struct nym_http_response *resp);

/* Several GETs at once (libcurl multi): each item gets its own rc (as nym_http_request) and
 * response; the whole batch takes at most timeout_ms. An item with connect_only only opens
 * the TCP connection (rc 0 when it was accepted; no request is sent): a reachability test
 * for ports that speak no HTTP. Returns 0 or -ENOMEM. */
struct nym_http_batch_item {
	const char *url;
	bool connect_only;
	int rc;
	struct nym_http_response resp;
};
int nym_http_get_many(struct nym_http_batch_item *items, size_t n, size_t max_response, long timeout_ms);
/* The same with at most max_parallel transfers open at once (the others wait their turn in
 * list order), each item within timeout_ms and the whole batch within deadline_ms: items the
 * deadline left unstarted answer -ETIMEDOUT. Returns 0, -EINVAL or -ENOMEM. */
int nym_http_get_bounded(struct nym_http_batch_item *items, size_t n, size_t max_response, long timeout_ms,
			 size_t max_parallel, long deadline_ms);

/* Process-wide: every socket libcurl opens from now on (single and batch requests) gets
 * SO_MARK `mark` before it connects (0: none, the default). A mark the kernel refuses
 * (no CAP_NET_ADMIN) fails the request rather than letting it leave unmarked. */
void nym_http_set_socket_mark(uint32_t mark);

/* Process-wide: from now on, requests to HOST:PORT connect to one of `addrs` (numeric
 * IPv4/IPv6 text) without asking DNS. A daemon pins its authorities once, before a firewall
 * that blocks DNS outside a tunnel goes up, so that names in authority URLs keep working
 * and lead to exactly the addresses the firewall lets through. Returns 0, -EEXIST (HOST:PORT
 * is pinned already), -EINVAL (empty or malformed parts, or no address) or -ENOMEM. */
int nym_http_pin_host(const char *host, const char *port, const char *const *addrs, size_t n);

/* "http://host:port" + path into out; strips a trailing '/' of the base. */
int nym_http_url(char *out, size_t cap, const char *base, const char *path);

/* A short text for an error from nym_http_request. */
const char *nym_http_strerror(int rc);

#endif
