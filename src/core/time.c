/* Times in policies: "YYYY-MM-DD" (the entry lasts through that day, UTC) or an RFC 3339
 * date-time (RFC 3339 section 5.6). */
#include <ctype.h>
#include <string.h>
#include <time.h>

#include "private/error.h"

/* Reads exactly n decimal digits at s. */
static int digits(const char *s, size_t n, int *out)
{
    size_t i;
    int v = 0;
    for (i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i])) {
            return 0;
        }
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 1;
}

/* Seconds since the epoch of a UTC calendar time, or -1 when the fields name no real day
 * (2027-02-30 normalises to another date: refused). */
static int64_t to_epoch(int y, int mo, int d, int h, int mi, int s)
{
    struct tm tm;
    struct tm back;
    time_t t;

    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    t = timegm(&tm);
    if (t == (time_t)-1 || gmtime_r(&t, &back) == NULL || back.tm_year != y - 1900 ||
        back.tm_mon != mo - 1 || back.tm_mday != d) {
        return -1;
    }
    return (int64_t)t;
}

certpin_status certpin_time_parse(const char *text, int64_t *out, certpin_error *err)
{
    char q[96];
    int y;
    int mo;
    int d;
    int h = 0;
    int mi = 0;
    int s = 0;
    int oh = 0;
    int om = 0;
    int sign = 0;
    const char *p;
    int64_t t;

    if (text == NULL || out == NULL) {
        return cp_error(err, CERTPIN_E_ARG, "no time given");
    }
    cp_quote(text, q, sizeof(q));
    if (strlen(text) < 10 || !digits(text, 4, &y) || text[4] != '-' || !digits(text + 5, 2, &mo) ||
        text[7] != '-' || !digits(text + 8, 2, &d)) {
        goto bad;
    }
    if (text[10] == '\0') {
        t = to_epoch(y, mo, d, 0, 0, 0);
        if (t < 0) {
            goto bad_day;
        }
        *out = t + 86400; /* 00:00:00 UTC the day after */
        return CERTPIN_OK;
    }
    p = text + 10;
    if ((*p != 'T' && *p != 't' && *p != ' ') || !digits(p + 1, 2, &h) || p[3] != ':' ||
        !digits(p + 4, 2, &mi) || p[6] != ':' || !digits(p + 7, 2, &s)) {
        goto bad;
    }
    p += 9;
    if (*p == '.') { /* fractions of a second: ignored */
        p++;
        if (!isdigit((unsigned char)*p)) {
            goto bad;
        }
        while (isdigit((unsigned char)*p)) {
            p++;
        }
    }
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        sign = *p == '+' ? 1 : -1;
        if (!digits(p + 1, 2, &oh) || p[3] != ':' || !digits(p + 4, 2, &om) || oh > 23 || om > 59) {
            goto bad;
        }
        p += 6;
    } else {
        return cp_error(err, CERTPIN_E_TIME,
                        "time %s has no time zone: end it with Z (UTC) or an offset like +02:00",
                        q);
    }
    if (*p != '\0' || h > 23 || mi > 59 || s > 60) {
        goto bad;
    }
    if (s == 60) { /* a leap second: the next second will do */
        s = 59;
    }
    t = to_epoch(y, mo, d, h, mi, s);
    if (t < 0) {
        goto bad_day;
    }
    *out = t - sign * ((int64_t)oh * 3600 + (int64_t)om * 60);
    return CERTPIN_OK;
bad_day:
    return cp_error(err, CERTPIN_E_TIME, "time %s names a day that does not exist", q);
bad:
    return cp_error(err, CERTPIN_E_TIME,
                    "time %s is not YYYY-MM-DD or an RFC 3339 time like 2027-06-30T12:00:00Z", q);
}
