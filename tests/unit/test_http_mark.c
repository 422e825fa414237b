/* lib/http's process-wide socket options: with a mark set, every socket libcurl opens gets
 * SO_MARK before it connects (single requests and batches); a mark the kernel refuses (no
 * CAP_NET_ADMIN) fails the request instead of letting it leave unmarked. A pinned host name
 * connects to its pinned addresses without DNS. Runs in forked children with a private
 * network namespace (loopback only) when root; the unprivileged case drops to nobody. */
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "http/http_client.h"
#include "netlink/nl_link.h"

/* A listener on 127.0.0.1 that never accepts (the backlog completes the handshake). */
static int listener(char *url, size_t cap)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t l = sizeof(a);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 16) ||
	    getsockname(fd, (struct sockaddr *)&a, &l))
		return -1;
	snprintf(url, cap, "http://127.0.0.1:%u/", ntohs(a.sin_port));
	return fd;
}

static int connect_once(const char *url)
{
	struct nym_http_batch_item it = { .url = url, .connect_only = true };
	if (nym_http_get_many(&it, 1, 1024, 2000))
		return -99;
	return it.rc;
}

/* Child: 0 when every expectation held, else the step that failed. */
static int child(bool drop)
{
	if (unshare(CLONE_NEWNET) != 0 || nl_link_set_up("lo", 0) != 0)
		return 10;
	char url[64];
	if (listener(url, sizeof(url)) < 0)
		return 11;
	if (nym_http_init())
		return 12;
	if (drop && (setgid(65534) || setuid(65534)))
		return 13;
	if (connect_once(url) != 0)
		return 1; /* no mark: connects */
	nym_http_set_socket_mark(0x14d);
	int rc = connect_once(url);
	if (drop ? rc == 0 : rc != 0)
		return 2; /* marked: connects as root, refused unprivileged */
	struct nym_http_request req = { .url = url, .max_response = 16, .timeout_ms = 300 };
	struct nym_http_response resp;
	rc = nym_http_request(&req, &resp);
	if (drop ? rc == 0 || rc == -ETIMEDOUT : rc != -ETIMEDOUT)
		return 3; /* single path: the same (root: connected, no answer -> timeout) */
	nym_http_set_socket_mark(0);
	if (connect_once(url) != 0)
		return 4;
	return 0;
}

static void run(bool drop)
{
	if (geteuid() != 0)
		cr_skip_test("needs root (a private network namespace)");
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0)
		_exit(child(drop));
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st));
	cr_assert_eq(WEXITSTATUS(st), 0, "step %d failed", WEXITSTATUS(st));
}

Test(http_mark, marked_sockets_connect_with_cap_net_admin)
{
	run(false);
}

Test(http_mark, a_refused_mark_fails_the_request)
{
	run(true);
}

/* Child: a name nothing resolves (.invalid, RFC 6761) connects once pinned to 127.0.0.1. */
static int pin_child(void)
{
	if (unshare(CLONE_NEWNET) != 0 || nl_link_set_up("lo", 0) != 0)
		return 10;
	char url[64];
	if (listener(url, sizeof(url)) < 0 || nym_http_init())
		return 11;
	char port[8], named[96];
	snprintf(port, sizeof(port), "%s", strrchr(url, ':') + 1);
	*strchr(port, '/') = '\0';
	snprintf(named, sizeof(named), "http://authority.invalid:%s/", port);
	if (connect_once(named) == 0)
		return 1; /* unpinned: no such name */
	const char *v4[] = { "127.0.0.1" }, *both[] = { "::1", "127.0.0.1" }, *bad[] = { "1.2.3.4,5.6.7.8" };
	if (nym_http_pin_host("authority.invalid", port, v4, 1) != 0)
		return 2;
	if (connect_once(named) != 0)
		return 3; /* pinned: connects without DNS */
	if (nym_http_pin_host("authority.invalid", port, both, 2) != -EEXIST)
		return 4;
	if (nym_http_pin_host("other.invalid", "80", both, 2) != 0)
		return 5; /* both families in one pin */
	if (nym_http_pin_host("x.invalid", "80", bad, 1) != -EINVAL || nym_http_pin_host("x.invalid", "80", v4, 0) != -EINVAL ||
	    nym_http_pin_host("x:y", "80", v4, 1) != -EINVAL || nym_http_pin_host("", "80", v4, 1) != -EINVAL)
		return 6;
	return 0;
}

Test(http_mark, a_pinned_name_connects_without_dns)
{
	if (geteuid() != 0)
		cr_skip_test("needs root (a private network namespace)");
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0)
		_exit(pin_child());
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st));
	cr_assert_eq(WEXITSTATUS(st), 0, "step %d failed", WEXITSTATUS(st));
}
