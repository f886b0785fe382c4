/* Filling certpin_error, and the names of statuses. */
#include <stdio.h>
#include <string.h>

#include "private/error.h"

const char *certpin_status_str(certpin_status status)
{
    switch (status) {
    case CERTPIN_OK: return "success";
    case CERTPIN_E_ARG: return "invalid argument";
    case CERTPIN_E_NOMEM: return "out of memory";
    case CERTPIN_E_IO: return "cannot read input";
    case CERTPIN_E_SYNTAX: return "JSON syntax error";
    case CERTPIN_E_POLICY: return "invalid policy";
    case CERTPIN_E_VERSION: return "unsupported policy format version";
    case CERTPIN_E_PIN: return "invalid pin";
    case CERTPIN_E_HOST: return "invalid host name";
    case CERTPIN_E_TIME: return "invalid time";
    case CERTPIN_E_CRYPTO: return "crypto library failure";
    case CERTPIN_E_INTERNAL: return "internal error";
    default: return "unknown status";
    }
}

static void copy_str(char *dst, size_t cap, const char *src)
{
    if (src == NULL) {
        src = "";
    }
    (void)snprintf(dst, cap, "%s", src);
}

static certpin_status vfill(certpin_error *err, certpin_status status, const char *source, int line,
                            int column, const char *path, const char *fmt, va_list ap)
    CP_PRINTF(7, 0);

static certpin_status vfill(certpin_error *err, certpin_status status, const char *source, int line,
                            int column, const char *path, const char *fmt, va_list ap)
{
    if (err == NULL) {
        return status;
    }
    err->status = status;
    copy_str(err->source, sizeof(err->source), source);
    err->line = line;
    err->column = column;
    copy_str(err->path, sizeof(err->path), path);
    (void)vsnprintf(err->text, sizeof(err->text), fmt, ap);
    return status;
}

certpin_status cp_error(certpin_error *err, certpin_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    (void)vfill(err, status, NULL, 0, 0, NULL, fmt, ap);
    va_end(ap);
    return status;
}

certpin_status cp_error_at(certpin_error *err, certpin_status status, const char *source, int line,
                           int column, const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    (void)vfill(err, status, source, line, column, path, fmt, ap);
    va_end(ap);
    return status;
}

void cp_quote(const char *s, char *out, size_t out_len)
{
    size_t o = 0;
    size_t i;

    if (out_len < 8) {
        if (out_len > 0) {
            out[0] = '\0';
        }
        return;
    }
    out[o++] = '"';
    for (i = 0; s != NULL && s[i] != '\0' && i < 64; i++) {
        unsigned char c = (unsigned char)s[i];
        char tmp[8];
        size_t n;
        if (c == '"' || c == '\\') {
            n = (size_t)snprintf(tmp, sizeof(tmp), "\\%c", c);
        } else if (c < 0x20 || c >= 0x7f) {
            n = (size_t)snprintf(tmp, sizeof(tmp), "\\x%02x", c);
        } else {
            tmp[0] = (char)c;
            tmp[1] = '\0';
            n = 1;
        }
        if (o + n + 5 > out_len) {
            break;
        }
        memcpy(out + o, tmp, n);
        o += n;
    }
    if (s != NULL && s[i] != '\0' && o + 4 < out_len) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o++] = '"';
    out[o] = '\0';
}

void cp_strlcpy(char *dst, const char *src, size_t cap)
{
    size_t n = src == NULL ? 0 : strlen(src);
    if (cap == 0) {
        return;
    }
    if (n >= cap) {
        n = cap - 1;
    }
    if (n > 0) {
        memcpy(dst, src, n);
    }
    dst[n] = '\0';
}
