#include "nodectl/node/node_amnezia.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

bool node_amnezia_on(const struct node_config *c)
{
	return strcmp(c->wireguard.amnezia, "off") != 0;
}

int node_amnezia_check(const char *value, char *err, size_t err_len)
{
	if (!strcmp(value, "off") || !strcmp(value, "base") || !strcmp(value, "random"))
		return 0;
	struct awg_params p;
	const char *why = NULL;
	if (awg_params_parse(value, &p, &why) == 0)
		return 0;
	snprintf(err, err_len, "wireguard.amnezia: expected off, base, random or \"jc=..,jmin=..,jmax=..,s1=..,s2=..,h1=..,h2=..,h3=..,h4=..\": %s",
		 why ? why : "malformed");
	return -EINVAL;
}

/* DATA_DIR/amnezia: read it, or draw the random set and write it (0644: it is announced). */
static int random_params(const char *data_dir, struct awg_params *p, char *err, size_t err_len)
{
	char path[4096], text[AWG_PARAMS_TEXT_MAX + 2];
	const char *why = NULL;
	snprintf(path, sizeof(path), "%s/amnezia", data_dir);
	FILE *f = fopen(path, "r");
	if (f) {
		bool got = fgets(text, sizeof(text), f) != NULL;
		fclose(f);
		text[strcspn(text, "\n")] = 0;
		if (!got || awg_params_parse(text, p, &why)) {
			snprintf(err, err_len, "%s: not an AmneziaWG parameter set (%s); remove it to draw a new one", path,
				 why ? why : "empty");
			return -EINVAL;
		}
		return 0;
	}
	if (errno != ENOENT) {
		snprintf(err, err_len, "%s: %s", path, strerror(errno));
		return -errno;
	}
	int rc = awg_params_preset("random", p);
	if (rc == 0)
		rc = awg_params_format(p, text, sizeof(text));
	if (rc) {
		snprintf(err, err_len, "cannot draw the random AmneziaWG parameters: %s", strerror(-rc));
		return rc;
	}
	char tmp[4200];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		rc = -errno;
	} else {
		size_t n = strlen(text);
		text[n++] = '\n';
		if (write(fd, text, n) != (ssize_t)n || fsync(fd) != 0)
			rc = errno ? -errno : -EIO;
		if (close(fd) != 0 && !rc)
			rc = -errno;
		if (!rc && rename(tmp, path) != 0)
			rc = -errno;
		if (rc)
			unlink(tmp);
	}
	if (rc)
		snprintf(err, err_len, "%s: cannot write: %s", path, strerror(-rc));
	return rc;
}

int node_amnezia_params(const struct node_config *c, const char *data_dir, struct awg_params *p, char *err,
			size_t err_len)
{
	const char *v = c->wireguard.amnezia, *why = NULL;
	memset(p, 0, sizeof(*p));
	if (!strcmp(v, "off") || !strcmp(v, "base"))
		return awg_params_preset(v, p);
	if (!strcmp(v, "random"))
		return random_params(data_dir, p, err, err_len);
	if (awg_params_parse(v, p, &why)) {
		snprintf(err, err_len, "wireguard.amnezia: %s", why ? why : "malformed");
		return -EINVAL;
	}
	return 0;
}
