/* nl_sock_genl_family against the running kernel: the controller's own family, which every
 * kernel with generic netlink has, an unknown name and names that cannot be a family's. No
 * privileges are needed to ask. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>

#include <linux/genetlink.h>

#include "netlink/nl_sock.h"

Test(nl_sock, genl_family_controller)
{
	uint16_t id = 0;
	cr_assert_eq(nl_sock_genl_family("nlctrl", &id), 0);
	cr_assert_eq(id, GENL_ID_CTRL);
}

Test(nl_sock, genl_family_unknown_is_enoent)
{
	uint16_t id = 7;
	cr_assert_eq(nl_sock_genl_family("nym-no-such", &id), -ENOENT);
	cr_assert_eq(id, 7, "left alone on failure");
}

Test(nl_sock, genl_family_bad_names)
{
	uint16_t id = 7;
	cr_assert_eq(nl_sock_genl_family("", &id), -EINVAL);
	cr_assert_eq(nl_sock_genl_family(NULL, &id), -EINVAL);
	cr_assert_eq(nl_sock_genl_family("sixteen-chars-xx", &id), -EINVAL);
	cr_assert_eq(id, 7);
}
