/* The subcommands of nym-node. Each takes the arguments after its command words and returns
 * the process exit status. */
#ifndef NYM_NODECTL_COMMANDS_H
#define NYM_NODECTL_COMMANDS_H

/* Exit statuses shared by every command. */
#define EXIT_OK 0
#define EXIT_FAIL 1 /* the operation failed, or the user gave bad input */

int cmd_init(const char *context, int argc, char **argv);
int cmd_run(const char *context, int argc, char **argv);
int cmd_probe(const char *context, int argc, char **argv);
int cmd_keys_show(const char *context, int argc, char **argv);
int cmd_debug_keygen(const char *context, int argc, char **argv);
int cmd_debug_ipr(const char *context, int argc, char **argv);
int cmd_debug_sphinx_create(const char *context, int argc, char **argv);
int cmd_debug_sphinx_process(const char *context, int argc, char **argv);
int cmd_debug_mix_send(const char *context, int argc, char **argv);
int cmd_debug_mix_sink(const char *context, int argc, char **argv);
int cmd_bench_sphinx(const char *context, int argc, char **argv);
int cmd_bench_mixnet(const char *context, int argc, char **argv);
int cmd_bench_transport(const char *context, int argc, char **argv);
int cmd_debug_ticketbook_issue_local(const char *context, int argc, char **argv);
int cmd_debug_ticket_verify(const char *context, int argc, char **argv);
int cmd_debug_ticket_export(const char *context, int argc, char **argv);
int cmd_bench_credentials(const char *context, int argc, char **argv);
int cmd_authority_voucher(const char *context, int argc, char **argv);
int cmd_debug_topology_fetch(const char *context, int argc, char **argv);
int cmd_debug_ticketbook_obtain(const char *context, int argc, char **argv);
int cmd_debug_ticket_spend(const char *context, int argc, char **argv);
int cmd_authority_admit(const char *context, int argc, char **argv);
int cmd_authority_revoke(const char *context, int argc, char **argv);
int cmd_authority_list(const char *context, int argc, char **argv);
int cmd_debug_link_client(const char *context, int argc, char **argv);
int cmd_debug_descriptors(const char *context, int argc, char **argv);
int cmd_debug_wg_run(const char *context, int argc, char **argv);
int cmd_debug_wg_set(const char *context, int argc, char **argv);
int cmd_debug_wg_show(const char *context, int argc, char **argv);
int cmd_debug_awg_set(const char *context, int argc, char **argv);
int cmd_debug_awg_del(const char *context, int argc, char **argv);
int cmd_debug_awg_show(const char *context, int argc, char **argv);
int cmd_debug_wg_register(const char *context, int argc, char **argv);
int cmd_debug_awg_relay(const char *context, int argc, char **argv);

#endif
