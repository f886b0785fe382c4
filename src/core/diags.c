/* Lists of diagnostics (errors, warnings, notes) with their place in the input. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "private/error.h"

struct certpin_diags {
    size_t count;
    size_t cap;
    size_t errors; /* items of severity error: the loader asks after every entry */
    certpin_diag *items;
};

certpin_diags *certpin_diags_new(void) { return calloc(1, sizeof(certpin_diags)); }

static void diag_free_strings(certpin_diag *d)
{
    free((char *)d->source);
    free((char *)d->path);
    free((char *)d->code);
    free((char *)d->message);
}

void certpin_diags_free(certpin_diags *diags)
{
    size_t i;
    if (diags == NULL) {
        return;
    }
    for (i = 0; i < diags->count; i++) {
        diag_free_strings(&diags->items[i]);
    }
    free(diags->items);
    free(diags);
}

size_t certpin_diags_count(const certpin_diags *diags) { return diags == NULL ? 0 : diags->count; }

const certpin_diag *certpin_diags_get(const certpin_diags *diags, size_t i)
{
    if (diags == NULL || i >= diags->count) {
        return NULL;
    }
    return &diags->items[i];
}

size_t certpin_diags_errors(const certpin_diags *diags)
{
    return diags == NULL ? 0 : diags->errors;
}

static certpin_status push(certpin_diags *diags, certpin_severity sev, const char *source, int line,
                           int column, const char *path, const char *code, const char *message)
{
    certpin_diag d;
    if (diags->count == diags->cap) {
        size_t cap = diags->cap == 0 ? 8 : diags->cap * 2;
        certpin_diag *items = realloc(diags->items, cap * sizeof(*items));
        if (items == NULL) {
            return CERTPIN_E_NOMEM;
        }
        diags->items = items;
        diags->cap = cap;
    }
    d.severity = sev;
    d.line = line;
    d.column = column;
    d.source = strdup(source != NULL ? source : "");
    d.path = strdup(path != NULL ? path : "");
    d.code = strdup(code != NULL ? code : "");
    d.message = strdup(message != NULL ? message : "");
    if (d.source == NULL || d.path == NULL || d.code == NULL || d.message == NULL) {
        diag_free_strings(&d);
        return CERTPIN_E_NOMEM;
    }
    diags->items[diags->count++] = d;
    diags->errors += sev == CERTPIN_SEV_ERROR;
    return CERTPIN_OK;
}

certpin_status cp_diags_add(certpin_diags *diags, certpin_severity sev, const char *source,
                            int line, int column, const char *path, const char *code,
                            const char *fmt, ...)
{
    char message[1024];
    va_list ap;
    if (diags == NULL) {
        return CERTPIN_OK;
    }
    va_start(ap, fmt);
    (void)vsnprintf(message, sizeof(message), fmt, ap);
    va_end(ap);
    return push(diags, sev, source, line, column, path, code, message);
}

certpin_status cp_diags_append(certpin_diags *dst, const certpin_diags *src)
{
    size_t i;
    if (dst == NULL || src == NULL) {
        return CERTPIN_OK;
    }
    for (i = 0; i < src->count; i++) {
        const certpin_diag *d = &src->items[i];
        certpin_status st =
            push(dst, d->severity, d->source, d->line, d->column, d->path, d->code, d->message);
        if (st != CERTPIN_OK) {
            return st;
        }
    }
    return CERTPIN_OK;
}

void cp_diags_set_line(certpin_diags *diags, size_t i, int line, int column)
{
    if (diags == NULL || i >= diags->count) {
        return;
    }
    diags->items[i].line = line;
    diags->items[i].column = column;
}
