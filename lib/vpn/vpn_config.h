/* nym-vpnd's configuration file (/etc/nym/nym-vpnd.yaml): its lib/conf schema, defaults and
 * checks. The daemon's state lives under <daemon.data_dir>/<network.name>/. */
#ifndef NYM_VPN_VPN_CONFIG_H
#define NYM_VPN_VPN_CONFIG_H

#include <stdint.h>
#include <sys/types.h>

#include "conf/conf.h"
#include "vpn/vpn_settings.h"

#define VPN_CONFIG_DEFAULT_PATH "/etc/nym/nym-vpnd.yaml"

struct vpn_config {
	struct {
		char name[CONF_STR_MAX];
		struct conf_list authorities;
		struct conf_list authority_keys;
	} network;
	struct {
		char socket[CONF_STR_MAX];
		char socket_group[CONF_STR_MAX];
		char socket_mode[CONF_STR_MAX]; /* octal text, "660" */
		char data_dir[CONF_STR_MAX];
	} daemon;
	struct {
		char device[CONF_STR_MAX];
		uint64_t mtu;
		uint64_t fwmark;
		uint64_t table;
	} tunnel;
	struct {
		struct conf_list default_servers;
		char backend[CONF_STR_MAX];
		char resolv_conf[CONF_STR_MAX];
	} dns;
	struct {
		char backend[CONF_STR_MAX]; /* two-hop mode's devices: auto | kernel | userspace */
	} wireguard;
	struct {
		/* Applied over the saved settings at every start ("" = keep the saved value), for
		 * appliances whose own configuration is the source of truth (OpenWrt's UCI). */
		char mode[CONF_STR_MAX];	  /* "" | mixnet | two-hop */
		char entry_gateway[CONF_STR_MAX]; /* "" | random | base58 identity | country code */
		char exit_gateway[CONF_STR_MAX];
		bool connect; /* connect at start, as `nym-vpnc connect` */
	} start;
	struct {
		/* Router mode: interfaces whose hosts are forwarded through the tunnel; empty = off. */
		struct conf_list lan_interfaces;
	} router;
	struct {
		char level[CONF_STR_MAX];
	} logging;
};

extern const struct conf_key vpn_config_schema[];

/* Every key at its default. */
void vpn_config_defaults(struct vpn_config *c);

/* Defaults, then the file, then vpn_config_validate. A missing file is -ENOENT (c holds the
 * defaults); any other problem -EINVAL/-EIO with err as "FILE:LINE:COLUMN: KEY: ...". */
int vpn_config_load(const char *path, struct vpn_config *c, char err[CONF_ERROR_MAX]);

/* Checks what the schema cannot: URLs, base58 keys, the socket mode, the device name, IP
 * addresses of dns.default_servers, the backend name, the log level. 0, or -EINVAL with msg
 * and *key the key at fault (a conf_check_fn over a struct vpn_config). */
int vpn_config_validate(const void *config, char msg[CONF_ERROR_MAX], const char **key);

/* daemon.socket_mode as a mode (validated: 0..0777). */
int vpn_config_socket_mode(const struct vpn_config *c, mode_t *mode);

/* start.entry_gateway / start.exit_gateway text as a point: 0, 1 for "" (keep the saved
 * one), -EINVAL. */
int vpn_config_point(const char *text, struct vpn_point *p);

/* Whether text is an http:// or https:// URL without spaces or controls. */
int vpn_config_url_ok(const char *text);

#endif
