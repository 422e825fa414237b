/* Credentials in <state>/tickets/: `credentials obtain` turns vouchers into ticketbooks there
 * (<type>-<unix>-<n>.json, 0600), `credentials list` sums what is left per type. A book that
 * does not load is reported as unreadable and otherwise skipped. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cred/ticketbook.h"
#include "util/clock.h"
#include "util/log.h"
#include "vpnd/vpnd.h"

int vpnd_creds_obtain(const char *tickets_dir, const struct vpn_ctl_args *a, const struct nym_dir_client_trust *trust,
		      json_t **result, struct vpn_ctl_error *err)
{
	json_t *books = json_array();
	if (!books)
		return vpn_ctl_error_set(err, VPN_CTL_INTERNAL, "out of memory");
	int64_t now = nym_clock_unix_now();
	for (size_t i = 0; i < a->n_vouchers; i++) {
		char path[PATH_MAX];
		const char *type = nym_ticket_type_name(a->types[i]);
		/* A fresh name per voucher: <type>-<unix>-<n>.json, n counting up past existing files. */
		for (unsigned n = 0;; n++) {
			snprintf(path, sizeof(path), "%s/%s-%lld-%u.json", tickets_dir, type, (long long)now, n);
			if (access(path, F_OK) != 0)
				break;
		}
		struct nym_ticketbook *book = NULL;
		char msg[NYM_DIR_ERR_MAX];
		int rc = nym_dir_client_obtain_ticketbook(a->authority, trust, a->vouchers[i], a->types[i], NYM_TICKETBOOK_SIZE,
							  path, now, VPND_HTTP_TIMEOUT_MS * 2, &book, msg, sizeof(msg));
		if (rc) {
			json_decref(books);
			log_warn("credentials: voucher %zu (%s): %s", i + 1, type, msg);
			return vpn_ctl_error_set(err, rc == -ECONNREFUSED || rc == -ETIMEDOUT || rc == -EHOSTUNREACH
							      ? VPN_CTL_UNAVAILABLE
							      : VPN_CTL_INVALID_ARGUMENT,
						 "voucher %zu (%s): %.180s", i + 1, type, msg);
		}
		log_info("credentials: %s ticketbook of %zu tickets, expires %lld, in %s", type, book->count,
			 (long long)book->expiry, path);
		json_array_append_new(books, json_pack("{s:s, s:I, s:I}", "type", type, "tickets", (json_int_t)book->count,
						       "expires", (json_int_t)book->expiry));
		nym_ticketbook_free(book);
	}
	*result = json_pack("{s:o}", "books", books);
	return *result ? 0 : vpn_ctl_error_set(err, VPN_CTL_INTERNAL, "out of memory");
}

int vpnd_creds_list(const char *tickets_dir, json_t **result, struct vpn_ctl_error *err)
{
	struct {
		long tickets, books;
		int64_t expires;
	} per[NYM_TICKET_TYPE_MAX + 1];
	memset(per, 0, sizeof(per));
	json_t *unreadable = json_array();
	DIR *d = opendir(tickets_dir);
	int64_t now = nym_clock_unix_now();
	if (d) {
		struct dirent *de;
		while ((de = readdir(d))) {
			size_t n = strlen(de->d_name);
			if (n < 6 || strcmp(de->d_name + n - 5, ".json") != 0)
				continue;
			char path[PATH_MAX];
			snprintf(path, sizeof(path), "%s/%s", tickets_dir, de->d_name);
			struct nym_ticketbook *book = NULL;
			int rc = nym_ticketbook_load(&book, path);
			if (rc) {
				log_warn("credentials: %s is not a readable ticketbook (%s): skipped", path, strerror(-rc));
				json_array_append_new(unreadable, json_string(de->d_name));
				continue;
			}
			if (book->state == NYM_TICKETBOOK_READY && book->expiry > now &&
			    (unsigned)book->type <= NYM_TICKET_TYPE_MAX) {
				size_t left = nym_ticketbook_unspent(book);
				per[book->type].books++;
				per[book->type].tickets += (long)left;
				if (left && (per[book->type].expires == 0 || book->expiry < per[book->type].expires))
					per[book->type].expires = book->expiry;
			}
			nym_ticketbook_free(book);
		}
		closedir(d);
	} else if (errno != ENOENT) {
		json_decref(unreadable);
		return vpn_ctl_error_set(err, VPN_CTL_INTERNAL, "cannot read %s: %s", tickets_dir, strerror(errno));
	}
	json_t *types = json_array();
	for (unsigned t = NYM_TICKET_TYPE_MIN; t <= NYM_TICKET_TYPE_MAX; t++) {
		json_t *o = json_pack("{s:s, s:I, s:I}", "type", nym_ticket_type_name((enum nym_ticket_type)t), "tickets_left",
				      (json_int_t)per[t].tickets, "books", (json_int_t)per[t].books);
		if (per[t].expires)
			json_object_set_new(o, "expires", json_integer(per[t].expires));
		json_array_append_new(types, o);
	}
	*result = json_pack("{s:o, s:o}", "types", types, "unreadable", unreadable);
	return *result ? 0 : vpn_ctl_error_set(err, VPN_CTL_INTERNAL, "out of memory");
}
