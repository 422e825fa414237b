#include "http/http_client.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <strings.h>

#include "util/array.h"

#ifndef NYM_VERSION /* the fuzz build defines none */
#define NYM_VERSION "unknown"
#endif

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int init_rc;

static void global_init(void)
{
	init_rc = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -EIO;
}

int nym_http_init(void)
{
	pthread_once(&once, global_init);
	return init_rc;
}

static _Atomic uint32_t socket_mark;

void nym_http_set_socket_mark(uint32_t mark)
{
	atomic_store(&socket_mark, mark);
}

static int on_sockopt(void *ctx, curl_socket_t fd, curlsocktype purpose)
{
	(void)ctx;
	uint32_t mark = atomic_load(&socket_mark);
	if (purpose != CURLSOCKTYPE_IPCXN || mark == 0)
		return CURL_SOCKOPT_OK;
	return setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) == 0 ? CURL_SOCKOPT_OK : CURL_SOCKOPT_ERROR;
}

/* The pins of nym_http_pin_host. libcurl reads a resolve list when a transfer starts, so a
 * list handed to a transfer is never changed or freed: each pin prepends a node to the
 * current head, and old heads stay the tails of newer ones. */
static pthread_mutex_t pins_mu = PTHREAD_MUTEX_INITIALIZER;
static struct curl_slist *pins;

int nym_http_pin_host(const char *host, const char *port, const char *const *addrs, size_t n)
{
	if (!host || !*host || !port || !*port || strchr(host, ':') || strchr(port, ':') || !addrs || n == 0)
		return -EINVAL;
	char entry[1024];
	int len = snprintf(entry, sizeof(entry), "%s:%s:", host, port);
	size_t prefix = (size_t)len;
	for (size_t i = 0; i < n && len > 0 && (size_t)len < sizeof(entry); i++) {
		if (!addrs[i] || !*addrs[i] || strpbrk(addrs[i], ",[] "))
			return -EINVAL;
		bool v6 = strchr(addrs[i], ':') != NULL;
		len += snprintf(entry + len, sizeof(entry) - (size_t)len, v6 ? "%s[%s]" : "%s%s", i ? "," : "", addrs[i]);
	}
	if (len < 0 || (size_t)len >= sizeof(entry))
		return -EINVAL;
	int rc = 0;
	pthread_mutex_lock(&pins_mu);
	for (struct curl_slist *e = pins; e; e = e->next)
		if (strncmp(e->data, entry, prefix) == 0)
			rc = -EEXIST;
	struct curl_slist *node = rc ? NULL : curl_slist_append(NULL, entry);
	if (!rc && !node)
		rc = -ENOMEM;
	if (node)
		node->next = pins, pins = node;
	pthread_mutex_unlock(&pins_mu);
	return rc;
}

static struct curl_slist *current_pins(void)
{
	pthread_mutex_lock(&pins_mu);
	struct curl_slist *p = pins;
	pthread_mutex_unlock(&pins_mu);
	return p;
}

struct sink {
	struct nym_http_response *resp;
	size_t cap, max;
	bool too_big;
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct sink *s = ctx;
	size_t n = size * nmemb;
	struct nym_http_response *r = s->resp;
	if (r->len + n > s->max) {
		s->too_big = true;
		return 0; /* aborts the transfer */
	}
	if (nym_array_grow((void **)&r->body, &s->cap, r->len + n + 1, 1))
		return 0;
	memcpy(r->body + r->len, data, n);
	r->len += n;
	r->body[r->len] = '\0';
	return n;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct nym_http_response *r = ((struct sink *)ctx)->resp;
	size_t n = size * nmemb;
	static const char name[] = "X-Nym-Signature:";
	size_t nl = sizeof(name) - 1;
	if (n > nl && strncasecmp(data, name, nl) == 0) {
		size_t v = n - nl;
		if (v >= sizeof(r->signature))
			v = sizeof(r->signature) - 1;
		memcpy(r->signature, data + nl, v);
		r->signature[v] = '\0';
		/* Trim blanks and the line end. */
		char *p = r->signature;
		while (*p == ' ' || *p == '\t')
			p++;
		memmove(r->signature, p, strlen(p) + 1);
		for (size_t l = strlen(r->signature); l && strchr(" \t\r\n", r->signature[l - 1]); l--)
			r->signature[l - 1] = '\0';
	}
	return n;
}

static int map_error(CURLcode c)
{
	switch (c) {
	case CURLE_OK:
		return 0;
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_COULDNT_CONNECT:
		return -ECONNREFUSED;
	case CURLE_COULDNT_RESOLVE_HOST:
		return -EHOSTUNREACH;
	case CURLE_URL_MALFORMAT:
	case CURLE_UNSUPPORTED_PROTOCOL:
		return -EINVAL;
	case CURLE_OUT_OF_MEMORY:
		return -ENOMEM;
	default:
		return -EIO;
	}
}

/* The options every request shares. */
static void setup(CURL *c, const char *url, long timeout, struct sink *s)
{
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout < 3000 ? timeout : 3000L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, s);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "nym-c/" NYM_VERSION);
	/* Proxies from the environment would route around the caller's choice of authority. */
	curl_easy_setopt(c, CURLOPT_PROXY, "");
	curl_easy_setopt(c, CURLOPT_SOCKOPTFUNCTION, on_sockopt);
	struct curl_slist *p = current_pins();
	if (p)
		curl_easy_setopt(c, CURLOPT_RESOLVE, p);
}

/* The outcome of a finished transfer into resp. */
static int finish(CURL *c, CURLcode cc, struct sink *s)
{
	int rc = s->too_big ? -EMSGSIZE : map_error(cc);
	if (!rc) {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &s->resp->status);
		if (!s->resp->body && !(s->resp->body = calloc(1, 1)))
			rc = -ENOMEM;
	}
	if (rc)
		nym_http_response_free(s->resp);
	return rc;
}

int nym_http_request(const struct nym_http_request *req, struct nym_http_response *resp)
{
	memset(resp, 0, sizeof(*resp));
	int rc = nym_http_init();
	if (rc)
		return rc;
	CURL *c = curl_easy_init();
	if (!c)
		return -ENOMEM;
	struct sink s = { .resp = resp, .max = req->max_response };
	struct curl_slist *headers = NULL;
	setup(c, req->url, req->timeout_ms > 0 ? req->timeout_ms : NYM_HTTP_TIMEOUT_MS_DEFAULT, &s);
	if (req->method && strcmp(req->method, "POST") == 0) {
		char ct[128];
		snprintf(ct, sizeof(ct), "Content-Type: %s", req->content_type ? req->content_type : "application/json");
		headers = curl_slist_append(headers, ct);
		headers = curl_slist_append(headers, "Expect:");
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body ? req->body : "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
	} else if (req->method && strcmp(req->method, "GET") != 0) {
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
	}
	rc = finish(c, curl_easy_perform(c), &s);
	curl_slist_free_all(headers);
	curl_easy_cleanup(c);
	return rc;
}

int nym_http_get_many(struct nym_http_batch_item *items, size_t n, size_t max_response, long timeout_ms)
{
	long t = timeout_ms > 0 ? timeout_ms : NYM_HTTP_TIMEOUT_MS_DEFAULT;
	return nym_http_get_bounded(items, n, max_response, t, n, t);
}

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int nym_http_get_bounded(struct nym_http_batch_item *items, size_t n, size_t max_response, long timeout_ms,
			 size_t max_parallel, long deadline_ms)
{
	int rc = nym_http_init();
	if (rc || n == 0)
		return rc;
	if (max_parallel == 0 || timeout_ms <= 0 || deadline_ms <= 0)
		return -EINVAL;
	struct sink *sinks = calloc(n, sizeof(*sinks));
	CURL **easy = calloc(n, sizeof(*easy));
	CURLM *m = curl_multi_init();
	rc = -ENOMEM;
	if (!sinks || !easy || !m)
		goto out;
	for (size_t i = 0; i < n; i++) {
		memset(&items[i].resp, 0, sizeof(items[i].resp));
		items[i].rc = -ETIMEDOUT; /* what an item the deadline left unstarted answers */
		sinks[i] = (struct sink){ .resp = &items[i].resp, .max = max_response };
	}
	/* Handles join the transfer as others finish, so at most max_parallel sockets are open
	 * however long the list; the deadline bounds the whole batch. */
	uint64_t end = mono_ms() + (uint64_t)deadline_ms;
	size_t started = 0, active = 0;
	for (;;) {
		uint64_t now;
		while (active < max_parallel && started < n && (now = mono_ms()) < end) {
			size_t i = started++;
			if (!(easy[i] = curl_easy_init()))
				goto out;
			uint64_t left = end - now;
			setup(easy[i], items[i].url, (long)((uint64_t)timeout_ms < left ? (uint64_t)timeout_ms : left),
			      &sinks[i]);
			curl_easy_setopt(easy[i], CURLOPT_PRIVATE, (char *)&sinks[i]);
			if (items[i].connect_only)
				curl_easy_setopt(easy[i], CURLOPT_CONNECT_ONLY, 1L);
			items[i].rc = -EIO;
			curl_multi_add_handle(m, easy[i]);
			active++;
		}
		if (active == 0)
			break;
		int running;
		if (curl_multi_perform(m, &running) != CURLM_OK)
			break;
		CURLMsg *msg;
		int left;
		while ((msg = curl_multi_info_read(m, &left))) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			struct sink *s;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&s);
			size_t i = (size_t)(s - sinks);
			items[i].rc = finish(msg->easy_handle, msg->data.result, s);
			curl_multi_remove_handle(m, easy[i]);
			curl_easy_cleanup(easy[i]);
			easy[i] = NULL;
			active--;
		}
		if (active && running)
			curl_multi_poll(m, NULL, 0, 200, NULL);
		if (mono_ms() >= end + 1000)
			break; /* every handle has its own timeout within the deadline; a margin, no more */
	}
	rc = 0;
	for (size_t i = 0; i < n; i++)
		if (items[i].rc)
			nym_http_response_free(&items[i].resp); /* never finished: drop what came */
out:
	for (size_t i = 0; easy && i < n; i++)
		if (easy[i]) {
			curl_multi_remove_handle(m, easy[i]);
			curl_easy_cleanup(easy[i]);
		}
	if (m)
		curl_multi_cleanup(m);
	if (rc)
		for (size_t i = 0; i < n; i++)
			nym_http_response_free(&items[i].resp);
	free(easy);
	free(sinks);
	return rc;
}

void nym_http_response_free(struct nym_http_response *resp)
{
	free(resp->body);
	memset(resp, 0, sizeof(*resp));
}

int nym_http_url(char *out, size_t cap, const char *base, const char *path)
{
	size_t bl = strlen(base);
	while (bl && base[bl - 1] == '/')
		bl--;
	int n = snprintf(out, cap, "%.*s%s", (int)bl, base, path);
	return n < 0 || (size_t)n >= cap ? -ENOSPC : 0;
}

const char *nym_http_strerror(int rc)
{
	switch (rc) {
	case -EMSGSIZE:
		return "answer too large";
	case -ETIMEDOUT:
		return "timed out";
	case -ECONNREFUSED:
		return "connection refused";
	case -EHOSTUNREACH:
		return "host unreachable";
	case -EINVAL:
		return "bad URL";
	default:
		return strerror(-rc);
	}
}
