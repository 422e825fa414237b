/* Credentials: ticketbooks obtained with vouchers, and what is left of them. */
#include <stdio.h>
#include <string.h>

#include "vpnc/vpnc.h"

int vpnc_cmd_credentials_obtain(const char *context, int argc, char **argv)
{
	static const struct vpnc_help help = {
		NULL,
		"Has the daemon obtain ticketbooks from an authority (the credential issuer), one\n"
		"per voucher, and keep them in its data directory for the tunnel to spend. The\n"
		"vouchers pair with --type in order; without --type, the first voucher is for a\n"
		"mixnet-entry book, the second for wg-entry, the third for wg-exit. Types:\n"
		"mixnet-entry (5-hop mode), wg-entry and wg-exit (two-hop mode). With\n"
		"--authority-key, the authority's issuer keys must be signed by one of these keys.\n"
		"Needs root or the daemon's socket group. Prints the books obtained.\n"
		"\n"
		"A voucher is a secret: it is spent by this request, whatever its outcome.\n"
	};
	const char *authority = NULL;
	struct cli_list keys = { 0 }, vouchers = { 0 }, types = { 0 };
	struct cli_option opts[] = {
		{ "authority", CLI_STRING, &authority, true, "URL  the authority that issues the ticketbooks" },
		{ "authority-key", CLI_LIST, &keys, false, "B58  a trusted authority key" },
		{ "voucher", CLI_LIST, &vouchers, true, "CODE  a voucher, one per ticketbook" },
		{ "type", CLI_LIST, &types, false, "T  mixnet-entry|wg-entry|wg-exit, pairs with --voucher" },
		VPNC_GLOBAL_OPTIONS,
		{ 0 },
	};
	int rc = vpnc_parse(context, &help, argc, argv, opts, NULL, 0, NULL);
	if (rc >= 0)
		return rc;
	json_t *args = json_pack("{s:s}", "authority", authority);
	json_t *k = json_array(), *v = json_array();
	for (size_t i = 0; i < keys.count; i++)
		json_array_append_new(k, json_string(keys.items[i]));
	for (size_t i = 0; i < vouchers.count; i++)
		json_array_append_new(v, json_string(vouchers.items[i]));
	if (keys.count)
		json_object_set(args, "authority_keys", k);
	json_object_set(args, "vouchers", v);
	json_decref(k);
	json_decref(v);
	if (types.count) {
		json_t *t = json_array();
		for (size_t i = 0; i < types.count; i++)
			json_array_append_new(t, json_string(types.items[i]));
		json_object_set_new(args, "types", t);
	}
	struct vpn_ctl_message reply;
	rc = vpnc_request(context, VPN_CTL_CREDENTIALS_OBTAIN, args, &reply);
	json_decref(args);
	if (rc)
		return rc;
	if (vpnc_json)
		vpnc_print_json(reply.result);
	else
		vpnc_print_books(reply.result);
	vpn_ctl_message_clear(&reply);
	return VPNC_EXIT_OK;
}

int vpnc_cmd_credentials_list(const char *context, int argc, char **argv)
{
	static const struct vpnc_help help = {
		NULL,
		"Prints, per ticket type, the tickets left in the daemon's unexpired ticketbooks, how\n"
		"many books hold them and when the soonest of them expires.\n"
	};
	struct cli_option opts[] = { VPNC_GLOBAL_OPTIONS, { 0 } };
	int rc = vpnc_parse(context, &help, argc, argv, opts, NULL, 0, NULL);
	if (rc >= 0)
		return rc;
	struct vpn_ctl_message reply;
	if ((rc = vpnc_request(context, VPN_CTL_CREDENTIALS_LIST, NULL, &reply)))
		return rc;
	if (vpnc_json)
		vpnc_print_json(reply.result);
	else
		vpnc_print_credentials(reply.result);
	vpn_ctl_message_clear(&reply);
	return VPNC_EXIT_OK;
}
