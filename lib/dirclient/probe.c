#include "dirclient/probe.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/http_client.h"

#define HEALTH_MAX 4096
#define URL_MAX 128

static bool health_up(const struct nym_http_response *r)
{
	json_t *v = r->status == 200 ? json_loadb(r->body, r->len, 0, NULL) : NULL;
	bool up = json_is_string(json_object_get(v, "status")) &&
		  strcmp(json_string_value(json_object_get(v, "status")), "up") == 0;
	json_decref(v);
	return up;
}

static void host_url(char *out, size_t cap, const char *addr, unsigned port, const char *path)
{
	if (strchr(addr, ':'))
		snprintf(out, cap, "http://[%s]:%u%s", addr, port, path);
	else
		snprintf(out, cap, "http://%s:%u%s", addr, port, path);
}

int nym_probe_run(struct nym_probe *probes, size_t n, long timeout_ms, size_t max_parallel, long deadline_ms)
{
	if (n == 0)
		return 0;
	/* Two items per node: its mixnet port (which speaks no HTTP: connecting is the whole
	 * test) and its health endpoint. */
	struct nym_http_batch_item *items = calloc(2 * n, sizeof(*items));
	char(*urls)[URL_MAX] = calloc(2 * n, URL_MAX);
	int rc = -ENOMEM;
	if (!items || !urls)
		goto out;
	for (size_t i = 0; i < n; i++) {
		const struct nym_descriptor *d = probes[i].node;
		host_url(urls[2 * i], URL_MAX, d->addresses[0], d->mix_port, "/");
		host_url(urls[2 * i + 1], URL_MAX, d->addresses[0], d->http_port, "/api/v1/health");
		items[2 * i] = (struct nym_http_batch_item){ .url = urls[2 * i], .connect_only = true };
		items[2 * i + 1] = (struct nym_http_batch_item){ .url = urls[2 * i + 1] };
	}
	rc = nym_http_get_bounded(items, 2 * n, HEALTH_MAX, timeout_ms, 2 * max_parallel, deadline_ms);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		probes[i].mix_ok = items[2 * i].rc == 0;
		probes[i].http_ok = items[2 * i + 1].rc == 0 && health_up(&items[2 * i + 1].resp);
		nym_http_response_free(&items[2 * i].resp);
		nym_http_response_free(&items[2 * i + 1].resp);
	}
out:
	free(items);
	free(urls);
	return rc;
}
