/* The probe's checks, each on sockets bound to the probe's TUN device (SO_BINDTODEVICE), so
 * that they can only go through the tunnel. */
#include "nodectl/probe/probe.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "crypto/secret.h"
#include "crypto/sha256.h"
#include "net/dns_msg.h"
#include "util/clock.h"

#define POLL_SLICE_MS 200
#define PING_GAP_MS 500
#define PING_WAIT_MS 5000 /* for late replies after the last request */
#define DNS_TRIES 3

static int bound_socket(int family, int type, int proto, const char *ifname)
{
	int fd = socket(family, type | SOCK_CLOEXEC, proto);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname, (socklen_t)strlen(ifname)) != 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

/* An IP address with a port into sa. Returns the length or 0 for a bad address. */
static socklen_t parse_ip(const char *text, int port, struct sockaddr_storage *sa)
{
	memset(sa, 0, sizeof(*sa));
	struct sockaddr_in *a4 = (struct sockaddr_in *)sa;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)sa;
	if (inet_pton(AF_INET, text, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		return sizeof(*a4);
	}
	if (inet_pton(AF_INET6, text, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		return sizeof(*a6);
	}
	return 0;
}

static uint16_t inet_checksum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)(p[len - 1] << 8);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* ---- ping ---- */

void probe_check_ping(const char *ifname, const char *target, unsigned count, unsigned timeout_s,
		      struct probe_ping *out)
{
	memset(out, 0, sizeof(*out));
	out->requested = true;
	snprintf(out->target, sizeof(out->target), "%s", target);
	struct sockaddr_storage to;
	socklen_t tolen = parse_ip(target, 0, &to);
	if (!tolen) {
		snprintf(out->error, sizeof(out->error), "not an IP address: %s", target);
		return;
	}
	if (count < 1)
		count = 1;
	if (count > PROBE_PING_MAX)
		count = PROBE_PING_MAX;
	bool v6 = to.ss_family == AF_INET6;
	int fd = bound_socket(to.ss_family, SOCK_RAW, v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP, ifname);
	if (fd < 0) {
		snprintf(out->error, sizeof(out->error), "cannot open an ICMP socket on %s: %s", ifname, strerror(-fd));
		return;
	}
	uint16_t ident;
	nym_random(&ident, sizeof(ident));
	uint64_t sent_at[PROBE_PING_MAX] = { 0 };
	bool answered[PROBE_PING_MAX] = { false };
	uint64_t start = nym_clock_now_ns(), deadline_all = start + (uint64_t)timeout_s * 1000000000ull;
	uint64_t next_send = start, last_deadline = UINT64_MAX;
	unsigned seq = 0;
	while (!probe_interrupted()) {
		uint64_t now = nym_clock_now_ns();
		if (seq < count && now >= next_send) {
			uint8_t pkt[64] = { 0 };
			pkt[0] = v6 ? ICMP6_ECHO_REQUEST : ICMP_ECHO;
			pkt[4] = (uint8_t)(ident >> 8);
			pkt[5] = (uint8_t)ident;
			pkt[6] = (uint8_t)(seq >> 8);
			pkt[7] = (uint8_t)seq;
			memcpy(pkt + 8, "nym-node probe", 14);
			if (!v6) {
				uint16_t c = inet_checksum(pkt, sizeof(pkt));
				pkt[2] = (uint8_t)(c >> 8);
				pkt[3] = (uint8_t)c;
			} /* the kernel fills ICMPv6 checksums */
			sent_at[seq] = now;
			if (sendto(fd, pkt, sizeof(pkt), 0, (struct sockaddr *)&to, tolen) == (ssize_t)sizeof(pkt))
				out->sent++;
			seq++;
			next_send = now + PING_GAP_MS * 1000000ull;
			if (seq == count)
				last_deadline = now + PING_WAIT_MS * 1000000ull;
		}
		if (out->received == count || now >= deadline_all || now >= last_deadline)
			break;
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, POLL_SLICE_MS / 4) <= 0)
			continue;
		uint8_t buf[1500];
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
		if (n <= 0)
			continue;
		const uint8_t *icmp = buf;
		size_t len = (size_t)n;
		if (!v6) { /* raw IPv4 sockets see the IP header */
			size_t ihl = (size_t)(buf[0] & 0x0f) * 4;
			if (len < ihl + 8)
				continue;
			icmp += ihl;
			len -= ihl;
		}
		if (len < 8 || icmp[0] != (v6 ? ICMP6_ECHO_REPLY : ICMP_ECHOREPLY))
			continue;
		if ((uint16_t)(icmp[4] << 8 | icmp[5]) != ident)
			continue;
		unsigned s = (unsigned)(icmp[6] << 8 | icmp[7]);
		if (s >= seq || answered[s])
			continue;
		answered[s] = true;
		out->rtt_ms[out->received++] = (double)(nym_clock_now_ns() - sent_at[s]) / 1e6;
	}
	close(fd);
	out->ok = out->received > 0;
	if (!out->ok)
		snprintf(out->error, sizeof(out->error), "no echo reply from %s (%u sent)", target, out->sent);
}

/* ---- DNS ---- */

/* Adds the A and AAAA answers of a response with this id. Returns the rcode, or -1 for a
 * response that is not ours or malformed. */
static int dns_parse(const uint8_t *m, size_t len, uint16_t id, struct probe_dns *out)
{
	struct dns_msg_answer a[PROBE_DNS_ANSWERS_MAX];
	struct dns_msg_answers res;
	if (dns_msg_answers(m, len, id, a, PROBE_DNS_ANSWERS_MAX - out->count, &res) != 0)
		return -1;
	for (size_t i = 0; i < res.count; i++)
		inet_ntop(a[i].family, a[i].addr, out->answers[out->count++], sizeof(out->answers[0]));
	return res.rcode;
}

void probe_check_dns(const char *ifname, const char *server, const char *name, unsigned timeout_s,
		     struct probe_dns *out)
{
	memset(out, 0, sizeof(*out));
	out->requested = true;
	struct sockaddr_storage to;
	socklen_t tolen = parse_ip(server, 53, &to);
	if (!tolen) {
		snprintf(out->error, sizeof(out->error), "--dns-server is not an IP address: %s", server);
		return;
	}
	int fd = bound_socket(to.ss_family, SOCK_DGRAM, 0, ifname);
	if (fd < 0) {
		snprintf(out->error, sizeof(out->error), "cannot open a UDP socket on %s: %s", ifname, strerror(-fd));
		return;
	}
	uint16_t ids[2];
	nym_random(ids, sizeof(ids));
	static const uint16_t types[2] = { DNS_MSG_TYPE_A, DNS_MSG_TYPE_AAAA };
	bool done[2] = { false, false };
	int rcode = -1;
	uint64_t deadline = nym_clock_now_ns() + (uint64_t)timeout_s * 1000000000ull;
	uint64_t per_try = (uint64_t)timeout_s * 1000000000ull / DNS_TRIES;
	for (int attempt = 0; attempt < DNS_TRIES && !(done[0] && done[1]) && !probe_interrupted(); attempt++) {
		for (int q = 0; q < 2; q++) {
			uint8_t msg[DNS_MSG_QUERY_MAX];
			size_t n = 0;
			if (!done[q] && dns_msg_query(msg, sizeof(msg), ids[q], name, types[q], &n) != 0) {
				snprintf(out->error, sizeof(out->error), "not a DNS name: %s", name);
				close(fd);
				return;
			}
			if (n)
				sendto(fd, msg, n, 0, (struct sockaddr *)&to, tolen);
		}
		uint64_t until = nym_clock_now_ns() + per_try;
		if (until > deadline)
			until = deadline;
		while (!(done[0] && done[1]) && !probe_interrupted()) {
			uint64_t now = nym_clock_now_ns();
			if (now >= until)
				break;
			struct pollfd p = { .fd = fd, .events = POLLIN };
			if (poll(&p, 1, POLL_SLICE_MS) <= 0)
				continue;
			uint8_t buf[1500];
			ssize_t n = recv(fd, buf, sizeof(buf), 0);
			if (n <= 0)
				continue;
			for (int q = 0; q < 2; q++) {
				if (done[q])
					continue;
				int rc = dns_parse(buf, (size_t)n, ids[q], out);
				if (rc >= 0) {
					done[q] = true;
					if (rcode != 0)
						rcode = rc;
				}
			}
		}
	}
	close(fd);
	out->ok = out->count > 0;
	if (!out->ok) {
		if (!done[0] && !done[1])
			snprintf(out->error, sizeof(out->error), "no answer from the DNS server %s", server);
		else
			snprintf(out->error, sizeof(out->error), "no A or AAAA record for %s (rcode %d)", name, rcode);
	}
}

/* ---- HTTP ---- */

struct http_sink {
	struct nym_sha256 h;
	uint64_t bytes;
};

static size_t http_write(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct http_sink *s = ctx;
	nym_sha256_update(&s->h, data, size * nmemb);
	s->bytes += size * nmemb;
	return size * nmemb;
}

static int http_progress(void *ctx, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
	(void)ctx;
	(void)a;
	(void)b;
	(void)c;
	(void)d;
	return probe_interrupted() ? 1 : 0;
}

/* Splits http://HOST[:PORT]/... into host and port; false if the URL has another form. */
static bool url_host(const char *url, char *host, size_t cap, int *port)
{
	const char *p;
	if (!strncmp(url, "http://", 7)) {
		p = url + 7;
		*port = 80;
	} else if (!strncmp(url, "https://", 8)) {
		p = url + 8;
		*port = 443;
	} else {
		return false;
	}
	size_t n;
	if (*p == '[') {
		const char *e = strchr(p, ']');
		if (!e)
			return false;
		n = (size_t)(e - p - 1);
		if (n >= cap)
			return false;
		memcpy(host, p + 1, n);
		host[n] = 0;
		p = e + 1;
	} else {
		n = strcspn(p, ":/?#");
		if (!n || n >= cap)
			return false;
		memcpy(host, p, n);
		host[n] = 0;
		p += n;
	}
	if (*p == ':')
		*port = atoi(p + 1);
	return *port > 0 && *port < 65536;
}

void probe_check_http(const char *ifname, const char *url, const char *dns_server, unsigned timeout_s,
		      struct probe_http *out)
{
	memset(out, 0, sizeof(*out));
	out->requested = true;
	char host[256];
	int port = 0;
	if (!url_host(url, host, sizeof(host), &port)) {
		snprintf(out->error, sizeof(out->error), "--http-url expects http://HOST[:PORT]/PATH, got %s", url);
		return;
	}
	CURL *c = curl_easy_init();
	if (!c) {
		snprintf(out->error, sizeof(out->error), "cannot start libcurl");
		return;
	}
	struct curl_slist *resolve = NULL;
	struct sockaddr_storage probe_sa;
	bool literal = parse_ip(host, 0, &probe_sa) != 0;
	if (!literal && dns_server) {
		/* The host's name is resolved through the tunnel too, never by the host's resolver. */
		struct probe_dns d;
		probe_check_dns(ifname, dns_server, host, timeout_s, &d);
		if (!d.ok) {
			snprintf(out->error, sizeof(out->error), "cannot resolve %.64s through the tunnel: %.150s", host, d.error);
			curl_easy_cleanup(c);
			return;
		}
		char entry[400];
		bool v6 = strchr(d.answers[0], ':') != NULL;
		snprintf(entry, sizeof(entry), v6 ? "%s:%d:[%s]" : "%s:%d:%s", host, port, d.answers[0]);
		resolve = curl_slist_append(NULL, entry);
	}
	char iface[IF_NAMESIZE + 4];
	snprintf(iface, sizeof(iface), "if!%s", ifname);
	struct http_sink sink = { .bytes = 0 };
	nym_sha256_init(&sink.h);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_INTERFACE, iface);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)timeout_s);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)timeout_s);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, http_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, http_progress);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "nym-node probe");
	if (resolve)
		curl_easy_setopt(c, CURLOPT_RESOLVE, resolve);
	uint64_t start = nym_clock_now_ns();
	CURLcode cc = curl_easy_perform(c);
	out->seconds = (double)(nym_clock_now_ns() - start) / 1e9;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
	out->bytes = sink.bytes;
	uint8_t digest[NYM_SHA256_LEN];
	nym_sha256_final(&sink.h, digest);
	for (size_t i = 0; i < sizeof(digest); i++)
		snprintf(out->sha256 + 2 * i, 3, "%02x", digest[i]);
	if (cc != CURLE_OK)
		snprintf(out->error, sizeof(out->error), "%s", curl_easy_strerror(cc));
	else if (out->status < 200 || out->status > 299)
		snprintf(out->error, sizeof(out->error), "HTTP status %ld", out->status);
	out->ok = cc == CURLE_OK && out->status >= 200 && out->status <= 299;
	curl_slist_free_all(resolve);
	curl_easy_cleanup(c);
}
