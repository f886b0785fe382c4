/* Filling certpin_error and certpin_diags. */
#ifndef CP_ERROR_H
#define CP_ERROR_H

#include <stdarg.h>

#include "certpin/core.h"

#if defined(__GNUC__) || defined(__clang__)
#define CP_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define CP_PRINTF(a, b)
#endif

/* Fills err (if not NULL): status, text from fmt; source/path may be NULL (""); line/col 0 when
 * unknown. Returns status, so that `return cp_error(err, CERTPIN_E_HOST, ...)` reads naturally. */
certpin_status cp_error(certpin_error *err, certpin_status status, const char *fmt, ...)
    CP_PRINTF(3, 4);
certpin_status cp_error_at(certpin_error *err, certpin_status status, const char *source, int line,
                           int column, const char *path, const char *fmt, ...) CP_PRINTF(7, 8);

/* Writes a quoted, escaped copy of s (at most 64 input bytes, non-printable bytes as \xNN) to out,
 * for messages that quote what the user wrote. */
void cp_quote(const char *s, char *out, size_t out_len);

/* Appends a diagnostic (strings are copied). Returns CERTPIN_E_NOMEM on allocation failure.
 * diags may be NULL (then nothing happens). */
certpin_status cp_diags_add(certpin_diags *diags, certpin_severity sev, const char *source,
                            int line, int column, const char *path, const char *code,
                            const char *fmt, ...) CP_PRINTF(8, 9);
/* Appends a copy of every diagnostic of src to dst. */
certpin_status cp_diags_append(certpin_diags *dst, const certpin_diags *src);
/* Sets the line and column of the i-th diagnostic. */
void cp_diags_set_line(certpin_diags *diags, size_t i, int line, int column);

/* Copies src into dst[cap], truncating, always NUL-terminated (cap > 0). */
void cp_strlcpy(char *dst, const char *src, size_t cap);

#endif /* CP_ERROR_H */
