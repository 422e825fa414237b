#include <criterion/criterion.h>
#include <string.h>

#include "vpn/vpn_state.h"

static struct vpn_state s;
static struct vpn_state_actions a;

static void ev(enum vpn_state_event_kind k)
{
	struct vpn_state_event e = { .kind = k };
	vpn_state_handle(&s, &e, &a);
}

static void failed(enum vpn_state_reason r, bool fatal)
{
	struct vpn_state_event e = { .kind = VPN_EV_FAILED, .reason = r, .fatal = fatal, .message = "boom" };
	vpn_state_handle(&s, &e, &a);
}

static const struct vpn_state_connection conn = { .entry_id = "E", .entry_address = "10.0.0.2:9000", .exit_id = "X",
						   .tun = "nym0", .ipv4 = "10.0.0.5", .ipv6 = "fc00::5",
						   .since = 1700000000, .n_dns = 1, .dns = { "1.1.1.1" } };

static void up(void)
{
	struct vpn_state_event e = { .kind = VPN_EV_UP, .connection = &conn };
	vpn_state_handle(&s, &e, &a);
}

static void init(void)
{
	vpn_state_init(&s);
	memset(&a, 0, sizeof(a));
}

TestSuite(vpn_state, .init = init);

Test(vpn_state, connect_up_disconnect)
{
	ev(VPN_EV_CONNECT);
	cr_assert_eq(s.kind, VPN_STATE_CONNECTING);
	cr_assert_eq(a.flags, VPN_ACT_TARGET | VPN_ACT_START_TUNNEL | VPN_ACT_PUBLISH);
	cr_assert(s.target_connected);
	struct vpn_state_event p = { .kind = VPN_EV_PROGRESS, .progress = VPN_CTL_STEP_WAITING_FOR_IPR };
	vpn_state_handle(&s, &p, &a);
	cr_assert_eq(a.flags, VPN_ACT_PROGRESS);
	vpn_state_handle(&s, &p, &a);
	cr_assert_eq(a.flags, 0, "a repeated step is not reported twice");
	up();
	cr_assert_eq(s.kind, VPN_STATE_CONNECTED);
	cr_assert_eq(a.flags, VPN_ACT_PUBLISH);
	ev(VPN_EV_CONNECT);
	cr_assert_eq(a.flags, 0, "connect while connected is a no-op");
	ev(VPN_EV_DISCONNECT);
	cr_assert_eq(s.kind, VPN_STATE_DISCONNECTING);
	cr_assert_eq(s.after, VPN_AFTER_NOTHING);
	cr_assert_eq(a.flags, VPN_ACT_TARGET | VPN_ACT_STOP_TUNNEL | VPN_ACT_PUBLISH);
	ev(VPN_EV_TORN_DOWN);
	cr_assert_eq(s.kind, VPN_STATE_DISCONNECTED);
	cr_assert_eq(a.flags, VPN_ACT_UNBLOCK | VPN_ACT_PUBLISH);
	cr_assert_not(s.target_connected);
}

Test(vpn_state, retryable_failure_backs_off)
{
	ev(VPN_EV_CONNECT);
	failed(VPN_REASON_TUNNEL_PROVIDER, false);
	cr_assert_eq(s.kind, VPN_STATE_DISCONNECTING);
	cr_assert_eq(s.after, VPN_AFTER_RECONNECT);
	cr_assert(a.flags & VPN_ACT_STOP_TUNNEL);
	ev(VPN_EV_TORN_DOWN);
	cr_assert_eq(s.kind, VPN_STATE_CONNECTING);
	cr_assert_eq(s.retry_attempt, 1);
	cr_assert(a.flags & VPN_ACT_ARM_RETRY);
	cr_assert_not(a.flags & (VPN_ACT_START_TUNNEL | VPN_ACT_UNBLOCK));
	cr_assert_eq(a.retry_ms, 1000);
	ev(VPN_EV_RETRY);
	cr_assert_eq(a.flags, VPN_ACT_START_TUNNEL);
	ev(VPN_EV_RETRY);
	cr_assert_eq(a.flags, 0, "a stale retry does nothing");
	failed(VPN_REASON_TUNNEL_PROVIDER, false);
	ev(VPN_EV_TORN_DOWN);
	cr_assert_eq(s.retry_attempt, 2);
	cr_assert_eq(a.retry_ms, 2000);
	cr_assert_eq(vpn_state_backoff_ms(3), 4000);
	cr_assert_eq(vpn_state_backoff_ms(100), 30000);
	/* Disconnect while waiting for the retry: no tunnel runs, straight to Disconnected. */
	ev(VPN_EV_DISCONNECT);
	cr_assert_eq(s.kind, VPN_STATE_DISCONNECTED);
	cr_assert(a.flags & VPN_ACT_UNBLOCK);
	ev(VPN_EV_RETRY);
	cr_assert_eq(a.flags, 0);
}

Test(vpn_state, fatal_failure_keeps_blocking)
{
	ev(VPN_EV_CONNECT);
	failed(VPN_REASON_NO_TICKETS, true);
	cr_assert_eq(s.after, VPN_AFTER_ERROR);
	ev(VPN_EV_TORN_DOWN);
	cr_assert_eq(s.kind, VPN_STATE_ERROR);
	cr_assert_eq(s.reason, VPN_REASON_NO_TICKETS);
	cr_assert(a.flags & VPN_ACT_BLOCK);
	cr_assert_not(a.flags & VPN_ACT_UNBLOCK);
	json_t *j = vpn_state_to_json(&s);
	cr_assert_str_eq(json_string_value(json_object_get(j, "state")), "error");
	cr_assert_str_eq(json_string_value(json_object_get(j, "reason")), "no_tickets");
	cr_assert_str_eq(json_string_value(json_object_get(j, "message")), "boom");
	json_decref(j);
	/* Connect again from Error. */
	ev(VPN_EV_CONNECT);
	cr_assert_eq(s.kind, VPN_STATE_CONNECTING);
	cr_assert(a.flags & VPN_ACT_START_TUNNEL);
	failed(VPN_REASON_INTERNAL, true);
	ev(VPN_EV_TORN_DOWN);
	ev(VPN_EV_DISCONNECT);
	cr_assert_eq(s.kind, VPN_STATE_DISCONNECTED);
	cr_assert(a.flags & VPN_ACT_UNBLOCK);
}

Test(vpn_state, link_loss_and_recovery)
{
	ev(VPN_EV_CONNECT);
	up();
	ev(VPN_EV_LINK_DOWN);
	cr_assert_eq(s.kind, VPN_STATE_CONNECTING);
	cr_assert_eq(s.retry_attempt, 1);
	ev(VPN_EV_LINK_DOWN);
	cr_assert_eq(s.retry_attempt, 2);
	json_t *j = vpn_state_to_json(&s);
	cr_assert_not_null(json_object_get(j, "connection"));
	json_decref(j);
	ev(VPN_EV_LINK_UP);
	cr_assert_eq(s.kind, VPN_STATE_CONNECTED);
	cr_assert_eq(s.retry_attempt, 0);
}

Test(vpn_state, offline_and_back)
{
	ev(VPN_EV_CONNECT);
	up();
	ev(VPN_EV_OFFLINE);
	cr_assert_eq(s.kind, VPN_STATE_DISCONNECTING);
	cr_assert_eq(s.after, VPN_AFTER_OFFLINE);
	ev(VPN_EV_TORN_DOWN);
	cr_assert_eq(s.kind, VPN_STATE_OFFLINE);
	cr_assert(a.flags & VPN_ACT_BLOCK);
	ev(VPN_EV_OFFLINE);
	cr_assert_eq(a.flags, 0);
	ev(VPN_EV_ONLINE);
	cr_assert_eq(s.kind, VPN_STATE_CONNECTING);
	cr_assert(a.flags & VPN_ACT_START_TUNNEL);
	/* Connect while offline goes to Offline with the block. */
	init();
	ev(VPN_EV_OFFLINE);
	cr_assert_eq(s.kind, VPN_STATE_DISCONNECTED);
	ev(VPN_EV_CONNECT);
	cr_assert_eq(s.kind, VPN_STATE_OFFLINE);
	cr_assert(a.flags & VPN_ACT_BLOCK);
	cr_assert_not(a.flags & VPN_ACT_START_TUNNEL);
	ev(VPN_EV_DISCONNECT);
	cr_assert_eq(s.kind, VPN_STATE_DISCONNECTED);
	cr_assert(a.flags & VPN_ACT_UNBLOCK);
}

Test(vpn_state, user_reconnect_and_connect_while_disconnecting)
{
	ev(VPN_EV_CONNECT);
	up();
	ev(VPN_EV_RECONNECT);
	cr_assert_eq(s.kind, VPN_STATE_DISCONNECTING);
	cr_assert_eq(s.after, VPN_AFTER_RECONNECT);
	cr_assert(a.flags & VPN_ACT_STOP_TUNNEL);
	ev(VPN_EV_TORN_DOWN);
	cr_assert_eq(s.kind, VPN_STATE_CONNECTING);
	cr_assert_eq(s.retry_attempt, 0);
	cr_assert(a.flags & VPN_ACT_START_TUNNEL);
	up();
	ev(VPN_EV_DISCONNECT);
	ev(VPN_EV_CONNECT);
	cr_assert_eq(s.after, VPN_AFTER_RECONNECT);
	cr_assert_not(a.flags & VPN_ACT_STOP_TUNNEL, "one stop only");
	ev(VPN_EV_TORN_DOWN);
	cr_assert_eq(s.kind, VPN_STATE_CONNECTING);
	cr_assert(a.flags & VPN_ACT_START_TUNNEL);
	cr_assert_not(a.flags & VPN_ACT_UNBLOCK);
	/* Events of a tunnel that is not running are ignored. */
	init();
	up();
	cr_assert_eq(s.kind, VPN_STATE_DISCONNECTED);
	ev(VPN_EV_TORN_DOWN);
	cr_assert_eq(a.flags, 0);
	failed(VPN_REASON_INTERNAL, true);
	cr_assert_eq(a.flags, 0);
}

Test(vpn_state, json_of_each_state)
{
	json_t *j = vpn_state_to_json(&s);
	cr_assert_str_eq(json_string_value(json_object_get(j, "state")), "disconnected");
	cr_assert_str_eq(json_string_value(json_object_get(j, "mode")), "mixnet");
	cr_assert_eq(json_integer_value(json_object_get(j, "retry_attempt")), 0);
	cr_assert_null(json_object_get(j, "tickets_left"));
	json_decref(j);
	struct vpn_state_event t = { .kind = VPN_EV_TICKETS, .tickets_left = 3, .low = true };
	vpn_state_handle(&s, &t, &a);
	cr_assert(a.flags & VPN_ACT_WARN);
	cr_assert(strstr(a.warning, "3") != NULL);
	ev(VPN_EV_CONNECT);
	struct vpn_state_event p = { .kind = VPN_EV_PROGRESS, .progress = VPN_CTL_STEP_SPENDING_TICKET };
	vpn_state_handle(&s, &p, &a);
	j = vpn_state_to_json(&s);
	cr_assert_str_eq(json_string_value(json_object_get(j, "progress")), "spending_ticket");
	cr_assert_eq(json_integer_value(json_object_get(j, "tickets_left")), 3);
	json_decref(j);
	up();
	j = vpn_state_to_json(&s);
	json_t *c = json_object_get(j, "connection");
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(c, "entry"), "address")), "10.0.0.2:9000");
	cr_assert_str_eq(json_string_value(json_object_get(c, "tun")), "nym0");
	cr_assert_eq(json_integer_value(json_object_get(c, "since")), 1700000000);
	cr_assert_str_eq(json_string_value(json_array_get(json_object_get(c, "dns"), 0)), "1.1.1.1");
	json_decref(j);
	ev(VPN_EV_DISCONNECT);
	j = vpn_state_to_json(&s);
	cr_assert_str_eq(json_string_value(json_object_get(j, "after_disconnect")), "nothing");
	json_decref(j);
	cr_assert_str_eq(vpn_state_reason_name(VPN_REASON_SAME_ENTRY_AND_EXIT_GATEWAY), "same_entry_and_exit_gateway");
	cr_assert_str_eq(vpn_ctl_step_name(VPN_CTL_STEP_CONFIGURING_TUNNEL), "configuring_tunnel");
}
