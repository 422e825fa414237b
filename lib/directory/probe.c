#include "directory/probe.h"

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/http_client.h"

#define HEALTH_MAX 4096

struct job {
	struct nym_probe *p;
	bool is_mix;
	char url[128];
	char body[HEALTH_MAX];
	size_t len;
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct job *j = ctx;
	size_t n = size * nmemb;
	if (j->len + n >= sizeof(j->body))
		return 0;
	memcpy(j->body + j->len, data, n);
	j->len += n;
	return n;
}

static bool health_up(const struct job *j)
{
	json_t *v = json_loadb(j->body, j->len, 0, NULL);
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

int nym_probe_run(struct nym_probe *probes, size_t n, long timeout_ms)
{
	if (n == 0)
		return 0;
	int rc = nym_http_init();
	if (rc)
		return rc;
	struct job *jobs = calloc(2 * n, sizeof(*jobs));
	CURL **easy = calloc(2 * n, sizeof(*easy));
	CURLM *m = curl_multi_init();
	rc = -ENOMEM;
	if (!jobs || !easy || !m)
		goto out;
	for (size_t i = 0; i < 2 * n; i++) {
		struct job *j = &jobs[i];
		j->p = &probes[i / 2];
		j->is_mix = i % 2 == 0;
		j->p->mix_ok = j->p->http_ok = false;
		const struct nym_descriptor *d = j->p->node;
		if (j->is_mix)
			host_url(j->url, sizeof(j->url), d->addresses[0], d->mix_port, "/");
		else
			host_url(j->url, sizeof(j->url), d->addresses[0], d->http_port, "/api/v1/health");
		CURL *c = easy[i] = curl_easy_init();
		if (!c)
			goto out;
		curl_easy_setopt(c, CURLOPT_URL, j->url);
		curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http");
		curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
		curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
		curl_easy_setopt(c, CURLOPT_PROXY, "");
		curl_easy_setopt(c, CURLOPT_PRIVATE, j);
		/* The mixnet port speaks no HTTP: connecting is the whole test. */
		if (j->is_mix)
			curl_easy_setopt(c, CURLOPT_CONNECT_ONLY, 1L);
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, j);
		curl_multi_add_handle(m, c);
	}
	int running = 1;
	while (running) {
		if (curl_multi_perform(m, &running) != CURLM_OK)
			break;
		if (running)
			curl_multi_poll(m, NULL, 0, 200, NULL);
		CURLMsg *msg;
		int left;
		while ((msg = curl_multi_info_read(m, &left))) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			struct job *j;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&j);
			if (msg->data.result != CURLE_OK)
				continue;
			if (j->is_mix) {
				j->p->mix_ok = true;
			} else {
				long status = 0;
				curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
				j->p->http_ok = status == 200 && health_up(j);
			}
		}
	}
	rc = 0;
out:
	for (size_t i = 0; easy && i < 2 * n; i++)
		if (easy[i]) {
			curl_multi_remove_handle(m, easy[i]);
			curl_easy_cleanup(easy[i]);
		}
	if (m)
		curl_multi_cleanup(m);
	free(easy);
	free(jobs);
	return rc;
}
