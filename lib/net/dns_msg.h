/* DNS messages on the wire (RFC 1035) as values: a standard query for one name, and the A /
 * AAAA answers of a response. Pure: no sockets, no resolver. Names in a response may be
 * compressed; a compression pointer must point before the start of the part of the name
 * that holds it (so a walk always ends), names are at most 255 bytes. */
#ifndef NYM_NET_DNS_MSG_H
#define NYM_NET_DNS_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNS_MSG_HEADER_LEN 12
#define DNS_MSG_NAME_MAX 255	 /* a name on the wire, labels and lengths */
#define DNS_MSG_NAME_TEXT_MAX 1010 /* the dotted text of one, \DDD escapes and NUL included */
#define DNS_MSG_QUERY_MAX (DNS_MSG_HEADER_LEN + DNS_MSG_NAME_MAX + 4)

#define DNS_MSG_TYPE_A 1
#define DNS_MSG_TYPE_AAAA 28
#define DNS_MSG_CLASS_IN 1

/* A query with recursion desired for `name` (dotted, a trailing dot allowed; "" or "." is the
 * root) and qtype, class IN. Writes *len bytes to out. Returns 0, -EINVAL (an empty label, a
 * label over 63 bytes, a name over 255) or -ENOSPC. */
int dns_msg_query(uint8_t *out, size_t cap, uint16_t id, const char *name, uint16_t qtype, size_t *len);

/* Reads the name at *off of message m (following compression pointers) and moves *off past
 * it. text (may be NULL): the name in dotted form without the final dot ("" for the root),
 * bytes other than letters, digits, '-' and '_' as \DDD; cap at least
 * DNS_MSG_NAME_TEXT_MAX. Returns 0 or -EBADMSG (cut short, a pointer forward or into the
 * header, a reserved label type, over 255 bytes). */
int dns_msg_name(const uint8_t *m, size_t len, size_t *off, char *text, size_t cap);

struct dns_msg_answer {
	int family; /* AF_INET (4 bytes of addr) or AF_INET6 (16) */
	uint8_t addr[16];
	uint32_t ttl;
};

struct dns_msg_answers {
	int rcode;	/* 0 NOERROR, 2 SERVFAIL, 3 NXDOMAIN, ... */
	bool truncated; /* TC: the server had more to say than it sent */
	size_t count;	/* A / AAAA answers written */
	size_t dropped; /* A / AAAA answers past cap */
};

/* The A and AAAA records of class IN in the answer section of a response to query `id`
 * (other records, a CNAME chain's too, are skipped; every name is checked). Up to cap go to
 * out. Returns 0 (even for an rcode other than 0), -ENOMSG (not a response, or to another
 * id) or -EBADMSG (malformed: cut short, a bad name, an address of the wrong length). */
int dns_msg_answers(const uint8_t *m, size_t len, uint16_t id, struct dns_msg_answer *out, size_t cap,
		    struct dns_msg_answers *res);

#endif
