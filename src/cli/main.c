/* certpin: the command-line tool. Dispatches to one file per subcommand (cmd_*.c). */
#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cli.h"

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    void (*help)(FILE *out);
    const char *summary;
} command;

static const command commands[] = {
    {"pin", cli_cmd_pin, cli_help_pin, "print the pins of certificates, keys and CSRs"},
    {"lint", cli_cmd_lint, cli_help_lint,
     "check a policy file; explain which entry decides a host"},
    {"check", cli_cmd_check, cli_help_check,
     "connect to hosts (or read a chain) and apply a policy"},
    {"probe", cli_cmd_probe, cli_help_probe, "show a server's chains and propose a policy entry"},
};

static void usage(FILE *out)
{
    size_t i;
    fputs("Usage: certpin COMMAND [OPTIONS] [ARGS]\n"
          "       certpin --version | --help | help COMMAND\n"
          "\n"
          "Commands:\n",
          out);
    for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        fprintf(out, "  %-6s %s\n", commands[i].name, commands[i].summary);
    }
    fputs("\n"
          "Run 'certpin COMMAND --help' for a command's options; see certpin(1).\n",
          out);
}

static const command *find(const char *name)
{
    size_t i;
    for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (strcmp(commands[i].name, name) == 0) {
            return &commands[i];
        }
    }
    return NULL;
}

static int unknown_command(const char *name)
{
    cli_error("unknown command '%s'", name);
    fputs("Try 'certpin --help'.\n", stderr);
    return CLI_EXIT_USAGE;
}

static int help(int argc, char **argv)
{
    const command *cmd;
    if (argc < 2) {
        usage(stdout);
        return CLI_EXIT_OK;
    }
    if (argc > 2) {
        cli_error("help: one COMMAND at most");
        fputs("Try 'certpin --help'.\n", stderr);
        return CLI_EXIT_USAGE;
    }
    cmd = find(argv[1]);
    if (cmd == NULL) {
        return unknown_command(argv[1]);
    }
    cmd->help(stdout);
    return CLI_EXIT_OK;
}

static int version(void)
{
    printf("certpin %s (library %s, OpenSSL %s)\n", CERTPIN_VERSION_STRING, certpin_version(),
           OpenSSL_version(OPENSSL_VERSION_STRING));
    return CLI_EXIT_OK;
}

/* The subcommand's exit status, or a failure when its output could not be written (a full disk,
 * a closed pipe): the command's output is checked once, here, rather than at every print. */
static int run(int argc, char **argv);

int main(int argc, char **argv)
{
    int rc = run(argc, argv);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        cli_error("cannot write the output: %s", strerror(errno));
        return rc == CLI_EXIT_OK ? CLI_EXIT_USAGE : rc;
    }
    return rc;
}

static int run(int argc, char **argv)
{
    const command *cmd;
    const char *name;

    if (argc < 2) {
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    name = argv[1];
    if (strcmp(name, "--version") == 0 || strcmp(name, "-V") == 0) {
        if (argc > 2) {
            cli_error("--version takes no arguments (got '%s')", argv[2]);
            fputs("Try 'certpin --help'.\n", stderr);
            return CLI_EXIT_USAGE;
        }
        return version();
    }
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
        usage(stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(name, "help") == 0) {
        return help(argc - 1, argv + 1);
    }
    if (name[0] == '-') {
        cli_error("unknown option '%s'", name);
        fputs("Try 'certpin --help'.\n", stderr);
        return CLI_EXIT_USAGE;
    }
    cmd = find(name);
    if (cmd == NULL) {
        return unknown_command(name);
    }
    return cmd->run(argc - 1, argv + 1);
}
