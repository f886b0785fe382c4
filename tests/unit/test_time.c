/* Unit tests for certpin_time_parse (src/core/time.c): "YYYY-MM-DD" means 00:00:00 UTC the day
 * after; RFC 3339 date-times (section 5.6) with Z, offsets and fractions; everything else is
 * CERTPIN_E_TIME. Every accepted form has a refused twin next to it.
 *
 * Expected epochs were computed with `date -u -d <time> +%s` (GNU coreutils), not with certpin. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "certpin/certpin.h"

#define SENTINEL ((int64_t)0x5eed5eed5eedLL)

typedef struct time_case {
    const char *name;
    const char *text;
    certpin_status status;
    int64_t want;        /* when status is CERTPIN_OK */
    const char *message; /* a substring err.text must hold when refused; NULL: any */
} time_case;

/* 2027-07-01T00:00:00Z = 1814400000 */
static const time_case cases[] = {
    /* Date only: the end of that day, i.e. 00:00:00 UTC the day after. */
    {"date end of June", "2027-06-30", CERTPIN_OK, 1814400000, NULL},
    {"date June 31 does not exist", "2027-06-31", CERTPIN_E_TIME, 0, "does not exist"},
    {"date Feb 28 non-leap", "2027-02-28", CERTPIN_OK, 1803859200, NULL},
    {"date Feb 29 non-leap", "2027-02-29", CERTPIN_E_TIME, 0, "does not exist"},
    {"date Feb 30", "2027-02-30", CERTPIN_E_TIME, 0, "does not exist"},
    {"date Feb 29 leap year", "2028-02-29", CERTPIN_OK, 1835481600, NULL},
    {"date Feb 29 year 2000 (leap)", "2000-02-29", CERTPIN_OK, 951868800, NULL},
    {"date Feb 29 year 2100 (not leap)", "2100-02-29", CERTPIN_E_TIME, 0, "does not exist"},
    {"date Dec 31 rolls the year", "2027-12-31", CERTPIN_OK, 1830297600, NULL},
    {"date month 13", "2027-13-01", CERTPIN_E_TIME, 0, "2027-13-01"},
    {"date month 00", "2027-00-10", CERTPIN_E_TIME, 0, NULL},
    {"date day 00", "2027-01-00", CERTPIN_E_TIME, 0, NULL},
    {"date day 32", "2027-01-32", CERTPIN_E_TIME, 0, NULL},
    {"date first day after epoch", "1970-01-01", CERTPIN_OK, 86400, NULL},
    {"date past 2038", "2039-12-31", CERTPIN_OK, 2208988800, NULL},
    {"date year 9999", "9999-12-30", CERTPIN_OK, 253402214400, NULL},
    {"date one-digit month", "2027-6-30", CERTPIN_E_TIME, 0, "YYYY-MM-DD"},
    {"date two-digit year", "27-06-30", CERTPIN_E_TIME, 0, "YYYY-MM-DD"},
    {"date slashes", "2027/06/30", CERTPIN_E_TIME, 0, "YYYY-MM-DD"},
    {"date signed year", "+2027-06-30", CERTPIN_E_TIME, 0, NULL},
    {"date trailing junk", "2027-06-30x", CERTPIN_E_TIME, 0, NULL},
    {"date trailing space", "2027-06-30 ", CERTPIN_E_TIME, 0, NULL},
    {"date trailing newline", "2027-06-30\n", CERTPIN_E_TIME, 0, NULL},
    {"date leading space", " 2027-06-30", CERTPIN_E_TIME, 0, NULL},
    {"date truncated", "2027-06-3", CERTPIN_E_TIME, 0, NULL},

    /* RFC 3339 date-times. */
    {"rfc3339 Z", "2027-06-30T12:00:00Z", CERTPIN_OK, 1814356800, NULL},
    {"rfc3339 no zone", "2027-06-30T12:00:00", CERTPIN_E_TIME, 0, "no time zone"},
    {"rfc3339 lower-case t and z", "2027-06-30t12:00:00z", CERTPIN_OK, 1814356800, NULL},
    {"rfc3339 junk zone", "2027-06-30T12:00:00UTC", CERTPIN_E_TIME, 0, NULL},
    {"rfc3339 space separator", "2027-06-30 12:00:00Z", CERTPIN_OK, 1814356800, NULL},
    {"rfc3339 bad separator", "2027-06-30X12:00:00Z", CERTPIN_E_TIME, 0, NULL},
    {"rfc3339 offset +02:00", "2027-06-30T12:00:00+02:00", CERTPIN_OK, 1814349600, NULL},
    {"rfc3339 offset without colon", "2027-06-30T12:00:00+0200", CERTPIN_E_TIME, 0, NULL},
    {"rfc3339 offset -05:30", "2027-06-30T12:00:00-05:30", CERTPIN_OK, 1814376600, NULL},
    {"rfc3339 offset hours only", "2027-06-30T12:00:00-05", CERTPIN_E_TIME, 0, NULL},
    {"rfc3339 offset +00:00", "2027-06-30T12:00:00+00:00", CERTPIN_OK, 1814356800, NULL},
    {"rfc3339 offset +24:00", "2027-06-30T12:00:00+24:00", CERTPIN_E_TIME, 0, NULL},
    {"rfc3339 offset -00:00", "2027-06-30T12:00:00-00:00", CERTPIN_OK, 1814356800, NULL},
    {"rfc3339 offset minutes 60", "2027-06-30T12:00:00+01:60", CERTPIN_E_TIME, 0, NULL},
    {"rfc3339 offset crosses the year", "2027-01-01T01:00:00+02:00", CERTPIN_OK, 1798758000, NULL},
    {"rfc3339 offset then junk", "2027-01-01T01:00:00+02:00Z", CERTPIN_E_TIME, 0, NULL},
    {"rfc3339 fraction", "2027-06-30T12:00:00.5Z", CERTPIN_OK, 1814356800, NULL},
    {"rfc3339 empty fraction", "2027-06-30T12:00:00.Z", CERTPIN_E_TIME, 0, NULL},
    {"rfc3339 nanoseconds and offset", "2027-06-30T12:00:00.123456789+02:00", CERTPIN_OK,
     1814349600, NULL},
    {"rfc3339 fraction without zone", "2027-06-30T12:00:00.123", CERTPIN_E_TIME, 0, "no time zone"},
    {"rfc3339 last second of the day", "2027-06-30T23:59:59Z", CERTPIN_OK, 1814399999, NULL},
    {"rfc3339 hour 24", "2027-06-30T24:00:00Z", CERTPIN_E_TIME, 0, NULL},
    {"rfc3339 leap second", "2027-06-30T23:59:60Z", CERTPIN_OK, 1814399999, NULL},
    {"rfc3339 second 61", "2027-06-30T23:59:61Z", CERTPIN_E_TIME, 0, NULL},
    {"rfc3339 minute 59", "2027-06-30T12:59:00Z", CERTPIN_OK, 1814356800 + 59 * 60, NULL},
    {"rfc3339 minute 60", "2027-06-30T12:60:00Z", CERTPIN_E_TIME, 0, NULL},
    {"rfc3339 valid day Feb 28", "2027-02-28T12:00:00Z", CERTPIN_OK, 1803859200 - 12 * 3600, NULL},
    {"rfc3339 invalid day Feb 30", "2027-02-30T12:00:00Z", CERTPIN_E_TIME, 0, "does not exist"},
    {"rfc3339 month 13", "2027-13-01T00:00:00Z", CERTPIN_E_TIME, 0, NULL},
    {"rfc3339 no seconds", "2027-06-30T12:00Z", CERTPIN_E_TIME, 0, NULL},
    {"rfc3339 dangling T", "2027-06-30T", CERTPIN_E_TIME, 0, NULL},
    {"rfc3339 trailing space", "2027-06-30T12:00:00Z ", CERTPIN_E_TIME, 0, NULL},
    {"rfc3339 letters in time", "2027-06-30T1a:00:00Z", CERTPIN_E_TIME, 0, NULL},

    /* Junk. */
    {"empty", "", CERTPIN_E_TIME, 0, NULL},
    {"word", "tomorrow", CERTPIN_E_TIME, 0, "tomorrow"},
    {"epoch number", "1814400000", CERTPIN_E_TIME, 0, NULL},
};

static void test_time_case(void **state)
{
    const time_case *c = *state;
    certpin_error err;
    int64_t got = SENTINEL;
    certpin_status st;

    memset(&err, 0, sizeof(err));
    st = certpin_time_parse(c->text, &got, &err);
    if (st != c->status) {
        print_error("%s: %s gave status %d (%s), want %d; err.text: %s\n", c->name, c->text,
                    (int)st, certpin_status_str(st), (int)c->status, err.text);
        fail();
    }
    if (c->status == CERTPIN_OK) {
        if (got != c->want) {
            print_error("%s: %s gave %lld, want %lld\n", c->name, c->text, (long long)got,
                        (long long)c->want);
            fail();
        }
        return;
    }
    /* A refused time leaves the output alone and says what is wrong, quoting the input. */
    assert_true(got == SENTINEL);
    assert_int_equal(err.status, c->status);
    assert_non_null(strstr(err.text, "time \""));
    if (c->message != NULL && strstr(err.text, c->message) == NULL) {
        print_error("%s: err.text \"%s\" lacks \"%s\"\n", c->name, err.text, c->message);
        fail();
    }
}

/* NULL arguments are refused, and err may be NULL. */
static void test_time_null_arguments(void **state)
{
    certpin_error err;
    int64_t got = SENTINEL;
    (void)state;
    memset(&err, 0, sizeof(err));
    assert_int_equal(certpin_time_parse(NULL, &got, &err), CERTPIN_E_ARG);
    assert_int_equal(err.status, CERTPIN_E_ARG);
    assert_true(got == SENTINEL);
    assert_int_equal(certpin_time_parse("2027-06-30", NULL, &err), CERTPIN_E_ARG);
    assert_int_equal(certpin_time_parse("2027-06-30", &got, NULL), CERTPIN_OK);
    assert_true(got == 1814400000);
    assert_int_equal(certpin_time_parse("2027-06-31", &got, NULL), CERTPIN_E_TIME);
}

/* The date form and the date-time form agree: YYYY-MM-DD is the first second of the next day, one
 * second after YYYY-MM-DDT23:59:59Z. */
static void test_time_date_is_end_of_day(void **state)
{
    static const char *const days[] = {"1999-12-31", "2024-02-29", "2027-01-31", "2027-04-30"};
    size_t i;
    (void)state;
    for (i = 0; i < sizeof(days) / sizeof(days[0]); i++) {
        char full[40];
        int64_t date = 0;
        int64_t last = 0;
        (void)snprintf(full, sizeof(full), "%sT23:59:59Z", days[i]);
        assert_int_equal(certpin_time_parse(days[i], &date, NULL), CERTPIN_OK);
        assert_int_equal(certpin_time_parse(full, &last, NULL), CERTPIN_OK);
        assert_true(date == last + 1);
    }
}

int main(void)
{
    struct CMUnitTest tests[sizeof(cases) / sizeof(cases[0]) + 2];
    size_t n = 0;
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        tests[n].name = cases[i].name;
        tests[n].test_func = test_time_case;
        tests[n].setup_func = NULL;
        tests[n].teardown_func = NULL;
        tests[n].initial_state = (void *)&cases[i];
        n++;
    }
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_time_null_arguments);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_time_date_is_end_of_day);
    return _cmocka_run_group_tests("test_time", tests, n, NULL, NULL);
}
