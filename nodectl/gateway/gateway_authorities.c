#include "nodectl/gateway/gateway_authorities.h"

#include <errno.h>
#include <stdio.h>

#include "http/http_client.h"

static const struct nym_dir_client_trust *trusted(const struct gateway_authorities *ga)
{
	return ga->trust->count ? ga->trust : NULL;
}

static int issuer_keys(void *ctx, size_t i, int64_t now, struct nym_issuer_keyset *out, char *err, size_t errlen)
{
	const struct gateway_authorities *ga = ctx;
	bool verified;
	return nym_dir_client_fetch_issuer_keys(ga->urls[i], trusted(ga), now, ga->timeout_ms, out, &verified, err, errlen);
}

static int spent_filter(void *ctx, size_t i, int64_t now, uint8_t **data, size_t *len, int64_t *created, char *err,
			size_t errlen)
{
	const struct gateway_authorities *ga = ctx;
	return nym_dir_client_fetch_spent_filter(ga->urls[i], trusted(ga), now, ga->timeout_ms, data, len, created, err,
					  errlen);
}

static int post_report(void *ctx, size_t i, const uint8_t *report, size_t len, char *err, size_t errlen)
{
	const struct gateway_authorities *ga = ctx;
	char url[512], why[GATEWAY_TICKETS_ERR_MAX] = "";
	int status;
	nym_http_url(url, sizeof(url), ga->urls[i], "/v1/spent");
	int rc = nym_dir_client_post(url, "application/octet-stream", report, len, ga->timeout_ms, &status, NULL, why,
				     sizeof(why));
	if (rc == 0 && status == 200)
		return 0;
	snprintf(err, errlen, "report to %s: %s", ga->urls[i], why);
	return rc == 0 ? -EACCES : -EIO; /* -EACCES: the authority answered, and said no */
}

static void complain(void *ctx, const char *msg)
{
	const struct gateway_authorities *ga = ctx;
	fprintf(stderr, "%s: %s\n", ga->context, msg);
}

void gateway_authorities_bind(struct gateway_authorities *ga, struct gateway_tickets_authorities *out)
{
	*out = (struct gateway_tickets_authorities){ ga->count, ga, issuer_keys, spent_filter, post_report, complain };
}
