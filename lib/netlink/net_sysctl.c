#include "netlink/net_sysctl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int open_key(const char *key, int flags)
{
	char path[256];
	if (strstr(key, "..") || key[0] == '/' ||
	    (size_t)snprintf(path, sizeof(path), "/proc/sys/%s", key) >= sizeof(path))
		return -EINVAL;
	int fd = open(path, flags | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int net_sysctl_read(const char *key, char *out, size_t cap)
{
	if (cap == 0)
		return -ENOSPC;
	int fd = open_key(key, O_RDONLY);
	if (fd < 0)
		return fd;
	ssize_t n = read(fd, out, cap - 1);
	int rc = n < 0 ? -errno : 0;
	close(fd);
	if (rc)
		return rc;
	out[n] = '\0';
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == ' '))
		out[--n] = '\0';
	return 0;
}

int net_sysctl_write(const char *key, const char *value)
{
	int fd = open_key(key, O_WRONLY);
	if (fd < 0)
		return fd;
	size_t len = strlen(value);
	ssize_t n = write(fd, value, len);
	int rc = n < 0 ? -errno : (size_t)n != len ? -EIO : 0;
	if (close(fd) != 0 && rc == 0)
		rc = -errno;
	return rc;
}

int net_sysctl_read_int(const char *key, int *out)
{
	char buf[32];
	int rc = net_sysctl_read(key, buf, sizeof(buf));
	if (rc)
		return rc;
	char *end;
	errno = 0;
	long v = strtol(buf, &end, 10);
	if (errno || end == buf || *end)
		return -EINVAL;
	*out = (int)v;
	return 0;
}

int net_sysctl_write_int(const char *key, int value)
{
	char buf[16];
	snprintf(buf, sizeof(buf), "%d", value);
	return net_sysctl_write(key, buf);
}
