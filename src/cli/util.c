/* The certpin command: messages, diagnostics, files and output helpers shared by the subcommands.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

void cli_error(const char *fmt, ...)
{
    va_list ap;
    fputs("certpin: ", stderr);
    va_start(ap, fmt);
    (void)vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void cli_warning(const char *fmt, ...)
{
    va_list ap;
    fputs("warning: ", stderr);
    va_start(ap, fmt);
    (void)vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "certpin %s: ", cmd);
    va_start(ap, fmt);
    (void)vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'certpin %s --help'.\n", cmd);
    return CLI_EXIT_USAGE;
}

int cli_bad_option(const char *cmd, int c, char **argv)
{
    /* getopt_long has already moved optind past the offending word. */
    const char *word = optind > 0 ? argv[optind - 1] : "?";

    if (c == ':') {
        return cli_usage_error(cmd, "option '%s' needs a value", word);
    }
    if (optopt != 0 && word[0] == '-' && word[1] != '-') {
        return cli_usage_error(cmd, "unknown option '-%c'", optopt);
    }
    return cli_usage_error(cmd, "unknown option '%s'", word);
}

const char *cli_severity_str(certpin_severity sev)
{
    switch (sev) {
    case CERTPIN_SEV_ERROR: return "error";
    case CERTPIN_SEV_WARNING: return "warning";
    case CERTPIN_SEV_NOTE: return "note";
    default: return "error";
    }
}

/* The common part of a diagnostic and of a certpin_error: where, then what. A syntax error is
 * "POLICY:LINE:COL: error: ..."; a finding about a value is "POLICY: PATH: error: ... [CODE]",
 * followed by where in the file that value is. */
static void print_located(FILE *out, const char *source, int line, int column, const char *path,
                          const char *severity, const char *message, const char *code)
{
    int has_path = path != NULL && path[0] != '\0';
    if (has_path) {
        fprintf(out, "%s: %s: ", source, path);
    } else if (line > 0 && column > 0) {
        fprintf(out, "%s:%d:%d: ", source, line, column);
    } else if (line > 0) {
        fprintf(out, "%s:%d: ", source, line);
    } else {
        fprintf(out, "%s: ", source);
    }
    fprintf(out, "%s: %s", severity, message);
    if (code != NULL && code[0] != '\0') {
        fprintf(out, " [%s]", code);
    }
    if (has_path && line > 0 && column > 0) {
        fprintf(out, " (line %d, column %d)", line, column);
    } else if (has_path && line > 0) {
        fprintf(out, " (line %d)", line);
    }
    fputc('\n', out);
}

void cli_print_diag(FILE *out, const certpin_diag *d, const char *fallback)
{
    const char *source = d->source != NULL && d->source[0] != '\0' ? d->source : fallback;
    print_located(out, source, d->line, d->column, d->path, cli_severity_str(d->severity),
                  d->message, d->code);
}

size_t cli_print_diags(FILE *out, const certpin_diags *diags, const certpin_error *err,
                       const char *fallback)
{
    size_t i;
    size_t n = certpin_diags_count(diags);
    size_t errors = 0;

    for (i = 0; i < n; i++) {
        const certpin_diag *d = certpin_diags_get(diags, i);
        if (d == NULL) {
            continue;
        }
        cli_print_diag(out, d, fallback);
        errors += d->severity == CERTPIN_SEV_ERROR;
    }
    if (errors == 0 && err != NULL && err->status != CERTPIN_OK) {
        const char *source = err->source[0] != '\0' ? err->source : fallback;
        const char *text = err->text[0] != '\0' ? err->text : certpin_status_str(err->status);
        print_located(out, source, err->line, err->column, err->path, "error", text, NULL);
        errors = 1;
    }
    return errors;
}

const char *cli_input_name(const char *path) { return strcmp(path, "-") == 0 ? "<stdin>" : path; }

static int read_stream(FILE *f, const char *name, unsigned char **buf, size_t *len)
{
    size_t cap = (size_t)64 * 1024;
    size_t used = 0;
    unsigned char *data = malloc(cap + 1);

    if (data == NULL) {
        cli_error("%s: out of memory", name);
        return -1;
    }
    for (;;) {
        size_t got;
        if (used == cap) {
            unsigned char *bigger;
            if (cap >= CLI_MAX_INPUT) {
                cli_error("%s: larger than %zu bytes", name, CLI_MAX_INPUT);
                free(data);
                return -1;
            }
            cap *= 2;
            bigger = realloc(data, cap + 1);
            if (bigger == NULL) {
                cli_error("%s: out of memory", name);
                free(data);
                return -1;
            }
            data = bigger;
        }
        got = fread(data + used, 1, cap - used, f);
        used += got;
        if (got == 0) {
            break;
        }
    }
    if (ferror(f)) {
        cli_error("%s: read error: %s", name, strerror(errno));
        free(data);
        return -1;
    }
    data[used] = '\0';
    *buf = data;
    *len = used;
    return 0;
}

int cli_read_file(const char *path, unsigned char **buf, size_t *len)
{
    FILE *f;
    int rc;

    if (strcmp(path, "-") == 0) {
        return read_stream(stdin, "<stdin>", buf, len);
    }
    f = fopen(path, "rb");
    if (f == NULL) {
        cli_error("%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    rc = read_stream(f, path, buf, len);
    (void)fclose(f);
    return rc;
}

certpin_policy *cli_policy_load(cli_source *src, const certpin_load_options *opts,
                                certpin_error *err)
{
    if (strcmp(src->path, "-") != 0) {
        return certpin_policy_load_file(src->path, opts, err);
    }
    if (!src->read) {
        if (cli_read_file("-", &src->buf, &src->len) != 0) {
            if (err != NULL) {
                memset(err, 0, sizeof(*err));
                err->status = CERTPIN_E_IO;
                (void)snprintf(err->source, sizeof(err->source), "<stdin>");
                (void)snprintf(err->text, sizeof(err->text), "cannot read the policy");
            }
            return NULL;
        }
        src->read = 1;
    }
    return certpin_policy_load_buffer((const char *)src->buf, src->len, "<stdin>", opts, err);
}

void cli_source_free(cli_source *src)
{
    free(src->buf);
    src->buf = NULL;
    src->len = 0;
    src->read = 0;
}

void cli_pin_text(const unsigned char pin[CERTPIN_PIN_LEN], certpin_pin_style style, char *out,
                  size_t out_len)
{
    if (certpin_pin_format(pin, style, out, out_len) != CERTPIN_OK) {
        (void)snprintf(out, out_len, "?");
    }
}

void cli_time_text(int64_t t, char *out, size_t out_len)
{
    struct tm tm;
    time_t tt = (time_t)t;

    if ((int64_t)tt != t || gmtime_r(&tt, &tm) == NULL ||
        strftime(out, out_len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
        (void)snprintf(out, out_len, "@%lld", (long long)t);
    }
}

json_t *cli_json_string(const char *s)
{
    json_t *j = json_string(s);
    char *copy;
    size_t i;

    if (j != NULL) {
        return j;
    }
    /* Not valid UTF-8 (a file name, say): keep ASCII, replace the rest. */
    copy = strdup(s);
    if (copy == NULL) {
        return NULL;
    }
    for (i = 0; copy[i] != '\0'; i++) {
        if ((unsigned char)copy[i] >= 0x80) {
            copy[i] = '?';
        }
    }
    j = json_string(copy);
    free(copy);
    return j;
}

int cli_json_print(json_t *value)
{
    int rc;
    if (value == NULL) {
        cli_error("out of memory");
        return -1;
    }
    rc = json_dumpf(value, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(value);
    if (rc != 0) {
        cli_error("cannot write JSON output");
        return -1;
    }
    fputc('\n', stdout);
    return 0;
}

const char *cli_mode_str(certpin_mode mode)
{
    switch (mode) {
    case CERTPIN_MODE_ENFORCE: return "enforce";
    case CERTPIN_MODE_REPORT_ONLY: return "report-only";
    case CERTPIN_MODE_OFF: return "off";
    default: return "?";
    }
}

const char *cli_on_expiry_str(certpin_on_expiry on_expiry)
{
    switch (on_expiry) {
    case CERTPIN_ON_EXPIRY_UNPIN: return "unpin";
    case CERTPIN_ON_EXPIRY_ENFORCE: return "enforce";
    default: return "?";
    }
}

const char *cli_match_str(certpin_match match)
{
    switch (match) {
    case CERTPIN_MATCH_EXACT: return "exact name";
    case CERTPIN_MATCH_ONE_LABEL: return "exactly one label below";
    case CERTPIN_MATCH_SUBTREE: return "the name and every name below";
    default: return "?";
    }
}

int cli_parse_time(const char *cmd, const char *text, int64_t *out)
{
    certpin_error err;
    memset(&err, 0, sizeof(err));
    if (certpin_time_parse(text, out, &err) != CERTPIN_OK) {
        return cli_usage_error(cmd, "--at: %s", err.text[0] != '\0' ? err.text : "invalid time");
    }
    return CLI_EXIT_OK;
}

void cli_copy(char *dst, const char *src, size_t dst_len)
{
    (void)snprintf(dst, dst_len, "%s", src);
}

const char *cli_match_name(certpin_match match)
{
    switch (match) {
    case CERTPIN_MATCH_EXACT: return "exact";
    case CERTPIN_MATCH_ONE_LABEL: return "one-label";
    case CERTPIN_MATCH_SUBTREE: return "subtree";
    default: return "?";
    }
}

static json_t *pins_json(const certpin_entry *entry, int deny)
{
    json_t *array = json_array();
    size_t n = deny ? certpin_entry_deny_count(entry) : certpin_entry_pin_count(entry);
    size_t i;

    for (i = 0; array != NULL && i < n; i++) {
        char text[CLI_PIN_BUF];
        cli_pin_text(deny ? certpin_entry_deny(entry, i) : certpin_entry_pin(entry, i),
                     CERTPIN_PIN_OKHTTP, text, sizeof(text));
        if (json_array_append_new(array, json_string(text)) != 0) {
            json_decref(array);
            return NULL;
        }
    }
    return array;
}

json_t *cli_entry_json(const certpin_entry *entry)
{
    json_t *obj = json_object();
    json_t *expires = json_null();
    int64_t t = certpin_entry_expires(entry);

    if (obj == NULL) {
        return NULL;
    }
    if (t != 0) {
        char text[32];
        cli_time_text(t, text, sizeof(text));
        expires = json_string(text);
    }
    if (json_object_set_new(obj, "pattern", cli_json_string(certpin_entry_pattern(entry))) != 0 ||
        json_object_set_new(obj, "index", json_integer((json_int_t)certpin_entry_index(entry))) !=
            0 ||
        json_object_set_new(obj, "match",
                            json_string(cli_match_name(certpin_entry_match(entry)))) != 0 ||
        json_object_set_new(obj, "mode", json_string(cli_mode_str(certpin_entry_mode(entry)))) !=
            0 ||
        json_object_set_new(obj, "expires", expires) != 0 ||
        json_object_set_new(obj, "on_expiry",
                            json_string(cli_on_expiry_str(certpin_entry_on_expiry(entry)))) != 0 ||
        json_object_set_new(obj, "pins", pins_json(entry, 0)) != 0 ||
        json_object_set_new(obj, "deny", pins_json(entry, 1)) != 0) {
        json_decref(obj);
        return NULL;
    }
    return obj;
}

void cli_add_warning(FILE *err, json_t *array, const char *code, const char *message)
{
    fprintf(err, "warning: %s\n", message);
    if (array != NULL) {
        (void)json_array_append_new(array,
                                    json_pack("{s:s, s:s}", "code", code, "message", message));
    }
}
