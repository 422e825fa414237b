/* The subcommands of nym-ntm. Each takes the arguments after its command words and returns
 * the process exit status. */
#ifndef NYM_NTM_COMMANDS_H
#define NYM_NTM_COMMANDS_H

#define EXIT_OK 0
#define EXIT_FAIL 1 /* the operation failed, or the user gave bad input */

/* `check` answers with its own statuses. */
#define EXIT_CHECK_ACCEPT 0
#define EXIT_CHECK_REJECT 1
#define EXIT_CHECK_ERROR 2

int cmd_apply(const char *context, int argc, char **argv);
int cmd_remove(const char *context, int argc, char **argv);
int cmd_status(const char *context, int argc, char **argv);
int cmd_check(const char *context, int argc, char **argv);
int cmd_policy_show(const char *context, int argc, char **argv);
int cmd_policy_test(const char *context, int argc, char **argv);
int cmd_policy_bench(const char *context, int argc, char **argv);

#endif
