/* Unit tests for loading policies (src/core/policy_json.c, policy.c, locate.c, builder.c).
 *
 * The load cases are a table: a policy (inline, or a hand-written file under policies/), the
 * options, the status, and every diagnostic expected, in order, each with its JSON path, its line
 * and an anchor: the text the diagnostic must point at on that line (the column is where the
 * anchor starts; the test first checks that the anchor is on that line, so a miscounted table
 * fails on its own). The first error is also what certpin_error must say. Every accepted policy
 * has refused twins next to it, and every refusal returns NULL, never a policy.
 *
 * Then: policy identity (equal for equal rules however spelt, different when any rule changes),
 * the builder (the same findings as the loader, a failed add changes nothing, build leaves the
 * builder usable), reference counts and loading files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <jansson.h>

#include "certpin/certpin.h"

#define CASES_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* opts.now of every load case: 2027-06-01T00:00:00Z (`date -u -d 2027-06-01 +%s`) */
#define NOW ((int64_t)1811808000)

/* Published pins (../shared/vectors/letsencrypt): four distinct keys. */
#define P1S "sha256/YLh1dUR9y6Kja30RrAn7JKnbQG/uEtLMkBgFF2Fuihg="
#define P2S "sha256/sRHdihwgkaib1P1gxX8HFszlD+7/gTfNvuAybgLPNis="
#define P3S "sha256/C5+lpZ7tcVwmwQIMcRtPbsQtWLABXhQzejna0wHFr8M="
#define P4S "sha256/diGVwiVYbubAI3RW4hB9xU8e/CH2GnkuvVFZE8zmgzI="
/* The same keys in curl's spelling. */
#define P1CS "sha256//YLh1dUR9y6Kja30RrAn7JKnbQG/uEtLMkBgFF2Fuihg="
#define P2CS "sha256//sRHdihwgkaib1P1gxX8HFszlD+7/gTfNvuAybgLPNis="
#define P3CS "sha256//C5+lpZ7tcVwmwQIMcRtPbsQtWLABXhQzejna0wHFr8M="
/* As JSON strings. */
#define Q(s) "\"" s "\""
#define P1 Q(P1S)
#define P2 Q(P2S)
#define P3 Q(P3S)
#define P4 Q(P4S)
#define P1C Q(P1CS)
#define P2C Q(P2CS)
#define P3C Q(P3CS)

/* Inline policies: line 1 opens the list, each entry is one line (2, 3, ...), then the end. */
#define HEAD "{\"certpin\": 1, \"domains\": [\n"
#define TAIL "]}\n"
#define HOST(h) "  {\"host\": \"" h "\", \"pins\": [" P1 ", " P2 "]}\n"

/* ---- load cases ----------------------------------------------------------------------------- */

typedef struct want {
    certpin_severity severity;
    const char *code; /* NULL ends the list */
    const char *path;
    int line;           /* 0: the finding has no place (and column 0) */
    const char *anchor; /* text on that line the finding points at */
    const char *text;   /* a substring of the message; NULL: none */
} want;

#define E(code, path, line, anchor, text)                                                          \
    {                                                                                              \
        CERTPIN_SEV_ERROR, code, path, line, anchor, text                                          \
    }
#define W(code, path, line, anchor, text)                                                          \
    {                                                                                              \
        CERTPIN_SEV_WARNING, code, path, line, anchor, text                                        \
    }
#define N(code, path, line, anchor, text)                                                          \
    {                                                                                              \
        CERTPIN_SEV_NOTE, code, path, line, anchor, text                                           \
    }

#define MAX_WANTS 12

typedef struct load_case {
    const char *name;
    const char *file; /* under policies/; NULL: json */
    const char *json;
    int strict;
    certpin_status status; /* CERTPIN_OK: the policy loads */
    certpin_unpinned unpinned;
    size_t entries;        /* entry count of a loaded policy */
    want diags[MAX_WANTS]; /* every finding, in order */
} load_case;

static const load_case load_cases[] = {
    /* The root object. */
    {.name = "valid entry", .json = HEAD HOST("api.example.com") TAIL, .entries = 1},
    {.name = "empty domains",
     .json = "{\"certpin\": 1, \"domains\": []}",
     .diags = {W("empty", "domains", 1, "[]", "nothing is pinned")}},
    {.name = "missing certpin",
     .json = "{\"domains\": []}",
     .status = CERTPIN_E_POLICY,
     .diags = {E("missing-version", "", 0, NULL, "\"certpin\": 1")}},
    {.name = "certpin is a string",
     .json = "{\"certpin\": \"1\", \"domains\": []}",
     .status = CERTPIN_E_POLICY,
     .diags = {E("bad-version", "certpin", 1, "\"1\"", "whole number")}},
    {.name = "certpin is a real",
     .json = "{\"certpin\": 1.0, \"domains\": []}",
     .status = CERTPIN_E_POLICY,
     .diags = {E("bad-version", "certpin", 1, "1.0", NULL)}},
    {.name = "certpin 0",
     .json = "{\"certpin\": 0, \"domains\": []}",
     .status = CERTPIN_E_POLICY,
     .diags = {E("bad-version", "certpin", 1, "0", NULL)}},
    {.name = "certpin 2 is newer",
     .json = "{\"certpin\": 2, \"domains\": []}",
     .status = CERTPIN_E_VERSION,
     .diags = {E("newer-version", "certpin", 1, "2", "certpin " CERTPIN_VERSION_STRING " reads")}},
    {.name = "certpin 2 names the certpin that reads it",
     .json = "{\"certpin\": 2, \"domains\": []}",
     .status = CERTPIN_E_VERSION,
     .diags = {E("newer-version", "certpin", 1, "2",
                 "needs a newer certpin (one that reads format 2)")}},
    {.name = "root is an array",
     .json = "[]",
     .status = CERTPIN_E_POLICY,
     .diags = {E("wrong-type", "", 0, NULL, "not an array")}},
    {.name = "unknown root key, with a suggestion",
     .json = "{\"certpin\": 1, \"unpined\": \"deny\", \"domains\": []}",
     .status = CERTPIN_E_POLICY,
     .diags = {E("unknown-key", "unpined", 1, "\"unpined\"", "did you mean \"unpinned\"?"),
               W("empty", "domains", 1, "[]", NULL)}},
    {.name = "unknown root key, with the list",
     .json = "{\"certpin\": 1, \"comment\": \"x\", \"domains\": []}",
     .status = CERTPIN_E_POLICY,
     .diags = {E("unknown-key", "comment", 1, "\"comment\"",
                 "the keys here are certpin, unpinned, domains"),
               W("empty", "domains", 1, "[]", NULL)}},
    {.name = "unpinned deny",
     .json = "{\"certpin\": 1, \"unpinned\": \"deny\", \"domains\": []}",
     .unpinned = CERTPIN_UNPINNED_DENY,
     .diags = {W("empty", "domains", 1, "[]", NULL)}},
    {.name = "unpinned allow",
     .json = "{\"certpin\": 1, \"unpinned\": \"allow\", \"domains\": []}",
     .diags = {W("empty", "domains", 1, "[]", NULL)}},
    {.name = "unpinned bad value",
     .json = "{\"certpin\": 1, \"unpinned\": \"block\", \"domains\": []}",
     .status = CERTPIN_E_POLICY,
     .diags = {E("bad-value", "unpinned", 1, "\"block\"", "\"block\" is not \"allow\" or \"deny\""),
               W("empty", "domains", 1, "[]", NULL)}},
    {.name = "unpinned wrong type",
     .json = "{\"certpin\": 1, \"unpinned\": true, \"domains\": []}",
     .status = CERTPIN_E_POLICY,
     .diags = {E("wrong-type", "unpinned", 1, "true", "got a boolean"),
               W("empty", "domains", 1, "[]", NULL)}},
    {.name = "missing domains",
     .json = "{\"certpin\": 1}",
     .status = CERTPIN_E_POLICY,
     .diags = {E("missing-domains", "", 0, NULL, NULL)}},
    {.name = "domains is an object",
     .json = "{\"certpin\": 1, \"domains\": {}}",
     .status = CERTPIN_E_POLICY,
     .diags = {E("wrong-type", "domains", 1, "{}", "expected an array")}},

    /* Entry keys and types. */
    {.name = "entry is a string",
     .json = HEAD "  \"api.example.com\"\n" TAIL,
     .status = CERTPIN_E_POLICY,
     .diags = {E("wrong-type", "domains[0]", 2, "\"api.example.com\"", "got a string")}},
    {.name = "unknown entry key, with a suggestion",
     .json = HEAD "  {\"host\": \"api.example.com\", \"inlude_subdomains\": true, \"pins\": [" P1
                  ", " P2 "]}\n" TAIL,
     .status = CERTPIN_E_POLICY,
     .diags = {E("unknown-key", "domains[0].inlude_subdomains", 2, "\"inlude_subdomains\"",
                 "did you mean \"include_subdomains\"?")}},
    {.name = "unknown entry key pin, and so no pins",
     .json = HEAD "  {\"host\": \"api.example.com\", \"pin\": [" P1 ", " P2 "]}\n" TAIL,
     .status = CERTPIN_E_POLICY,
     .diags = {E("unknown-key", "domains[0].pin", 2, "\"pin\"", "did you mean \"pins\"?"),
               E("no-pins", "domains[0].pins", 2, "{", "needs pins")}},
    {.name = "missing host",
     .json = HEAD "  {\"pins\": [" P1 ", " P2 "]}\n" TAIL,
     .status = CERTPIN_E_POLICY,
     .diags = {E("missing-host", "domains[0]", 2, "{", "no \"host\"")}},
    {.name = "host is a number",
     .json = HEAD "  {\"host\": 5, \"pins\": [" P1 ", " P2 "]}\n" TAIL,
     .status = CERTPIN_E_POLICY,
     .diags = {E("wrong-type", "domains[0].host", 2, "5,", "got an integer")}},
    {.name = "host with an empty label",
     .json = HEAD HOST("api..example.com") TAIL,
     .status = CERTPIN_E_HOST,
     .diags = {E("bad-host", "domains[0].host", 2, "\"api..example.com\"", "api..example.com")}},
    {.name = "host with a port",
     .json = HEAD HOST("api.example.com:443") TAIL,
     .status = CERTPIN_E_HOST,
     .diags = {E("bad-host", "domains[0].host", 2, "\"api.example.com:443\"", NULL)}},
    {.name = "host with a scheme",
     .json = HEAD HOST("https://api.example.com") TAIL,
     .status = CERTPIN_E_HOST,
     .diags = {E("bad-host", "domains[0].host", 2, "\"https://api.example.com\"", NULL)}},
    {.name = "wildcard inside a host",
     .json = HEAD HOST("a.*.example.com") TAIL,
     .status = CERTPIN_E_HOST,
     .diags = {E("bad-host", "domains[0].host", 2, "\"a.*.example.com\"", NULL)}},
    {.name = "wildcard alone",
     .json = HEAD HOST("**") TAIL,
     .status = CERTPIN_E_HOST,
     .diags = {E("bad-host", "domains[0].host", 2, "\"**\"", NULL)}},
    {.name = "include_subdomains is a string",
     .json =
         HEAD "  {\"host\": \"api.example.com\", \"include_subdomains\": \"yes\", \"pins\": [" P1
              ", " P2 "]}\n" TAIL,
     .status = CERTPIN_E_POLICY,
     .diags = {E("wrong-type", "domains[0].include_subdomains", 2, "\"yes\"", "true or false")}},
    {.name = "pins is a string",
     .json = HEAD "  {\"host\": \"api.example.com\", \"pins\": " P1 "}\n" TAIL,
     .status = CERTPIN_E_POLICY,
     .diags = {E("wrong-type", "domains[0].pins", 2, P1, "expected an array")}},
    {.name = "a pin is a number",
     .json = HEAD "  {\"host\": \"api.example.com\", \"pins\": [" P1 ", 42]}\n" TAIL,
     .status = CERTPIN_E_POLICY,
     .diags = {E("wrong-type", "domains[0].pins[1]", 2, "42", "got an integer")}},
    {.name = "mode bad value",
     .json = HEAD "  {\"host\": \"api.example.com\", \"pins\": [" P1 ", " P2
                  "], \"mode\": \"enforced\"}\n" TAIL,
     .status = CERTPIN_E_POLICY,
     .diags = {E("bad-value", "domains[0].mode", 2, "\"enforced\"",
                 "\"enforced\" is not \"enforce\", \"report-only\" or \"off\"")}},
    {.name = "mode wrong type",
     .json = HEAD "  {\"host\": \"api.example.com\", \"pins\": [" P1 ", " P2
                  "], \"mode\": false}\n" TAIL,
     .status = CERTPIN_E_POLICY,
     .diags = {E("wrong-type", "domains[0].mode", 2, "false", NULL)}},
    {.name = "mode report-only",
     .json = HEAD "  {\"host\": \"api.example.com\", \"pins\": [" P1 ", " P2
                  "], \"mode\": \"report-only\"}\n" TAIL,
     .entries = 1},
    {.name = "on_expiry bad value",
     .json = HEAD "  {\"host\": \"api.example.com\", \"pins\": [" P1 ", " P2
                  "], \"on_expiry\": \"keep\"}\n" TAIL,
     .status = CERTPIN_E_POLICY,
     .diags = {E("bad-value", "domains[0].on_expiry", 2, "\"keep\"", "\"unpin\" or \"enforce\"")}},
    {.name = "on_expiry enforce",
     .json = HEAD "  {\"host\": \"api.example.com\", \"pins\": [" P1 ", " P2
                  "], \"on_expiry\": \"enforce\", \"expires\": \"2028-01-01\"}\n" TAIL,
     .entries = 1},
    {.name = "expires is a number",
     .json = HEAD "  {\"host\": \"api.example.com\", \"pins\": [" P1 ", " P2
                  "], \"expires\": 20270630}\n" TAIL,
     .status = CERTPIN_E_POLICY,
     .diags = {E("wrong-type", "domains[0].expires", 2, "20270630", "date string")}},
    {.name = "expires on a day that does not exist",
     .json = HEAD "  {\"host\": \"api.example.com\", \"pins\": [" P1 ", " P2
                  "], \"expires\": \"2027-02-30\"}\n" TAIL,
     .status = CERTPIN_E_TIME,
     .diags = {E("bad-time", "domains[0].expires", 2, "\"2027-02-30\"", "does not exist")}},
    {.name = "expires without a time zone",
     .json = HEAD "  {\"host\": \"api.example.com\", \"pins\": [" P1 ", " P2
                  "], \"expires\": \"2027-12-30T12:00:00\"}\n" TAIL,
     .status = CERTPIN_E_TIME,
     .diags = {E("bad-time", "domains[0].expires", 2, "\"2027-12-30T12:00:00\"", "no time zone")}},
    {.name = "expires with a time zone",
     .json = HEAD "  {\"host\": \"api.example.com\", \"pins\": [" P1 ", " P2
                  "], \"expires\": \"2027-12-30T12:00:00+01:00\"}\n" TAIL,
     .entries = 1},

    /* Pins. */
    {.name = "pin not base64",
     .json = HEAD "  {\"host\": \"api.example.com\", \"pins\": [" P1 ", \"sha256/abc\"]}\n" TAIL,
     .status = CERTPIN_E_PIN,
     .diags = {E("bad-pin", "domains[0].pins[1]", 2, "\"sha256/abc\"",
                 "pin \"sha256/abc\" is not base64")}},
    {.name = "pin in hex",
     .json = HEAD "  {\"host\": \"api.example.com\", \"pins\": [" P1
                  ", \"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\"]}\n" TAIL,
     .status = CERTPIN_E_PIN,
     .diags = {E("bad-pin", "domains[0].pins[1]", 2, "\"ba7816bf", "is hex")}},
    {.name = "pin not canonical",
     .json = HEAD "  {\"host\": \"api.example.com\", \"pins\": [" P1
                  ", \"sha256/ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa1=\"]}\n" TAIL,
     .status = CERTPIN_E_PIN,
     .diags = {E("bad-pin", "domains[0].pins[1]", 2, "\"sha256/ungW",
                 "did you mean sha256/ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=?")}},
    {.name = "pin of 31 bytes",
     .json = HEAD "  {\"host\": \"api.example.com\", \"pins\": [" P1
                  ", \"sha256/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\"]}\n" TAIL,
     .status = CERTPIN_E_PIN,
     .diags = {E("bad-pin", "domains[0].pins[1]", 2, "\"sha256/AAAA",
                 "decodes to 31 bytes, not 32")}},
    {.name = "deny pin of an unknown algorithm",
     .json = HEAD "  {\"host\": \"api.example.com\", \"pins\": [" P1 ", " P2
                  "], \"deny\": [\"sha1/qZk+NkcGgWq6PiVxeFDCbJzQ2J0=\"]}\n" TAIL,
     .status = CERTPIN_E_PIN,
     .diags = {E("bad-pin", "domains[0].deny[0]", 2, "\"sha1/", "unknown algorithm \"sha1\"")}},
    {.name = "curl spelling of pins",
     .json = HEAD "  {\"host\": \"api.example.com\", \"pins\": [" P1C ", " P2C "]}\n" TAIL,
     .entries = 1},
    {.name = "no pins key",
     .json = HEAD "  {\"host\": \"api.example.com\"}\n" TAIL,
     .status = CERTPIN_E_POLICY,
     .diags = {E("no-pins", "domains[0].pins", 2, "{", "needs pins")}},
    {.name = "empty pins",
     .json = HEAD "  {\"host\": \"api.example.com\", \"pins\": []}\n" TAIL,
     .status = CERTPIN_E_POLICY,
     .diags = {E("no-pins", "domains[0].pins", 2, "[]", "needs pins")}},
    {.name = "report-only without pins",
     .json = HEAD "  {\"host\": \"api.example.com\", \"mode\": \"report-only\"}\n" TAIL,
     .status = CERTPIN_E_POLICY,
     .diags = {E("no-pins", "domains[0].pins", 2, "{", NULL)}},
    {.name = "mode off without pins",
     .json = HEAD "  {\"host\": \"api.example.com\", \"mode\": \"off\"}\n" TAIL,
     .entries = 1,
     .diags = {N("mode-off", "domains[0].mode", 2, "\"off\"", "explicitly unpinned")}},
    {.name = "mode off and expired: a note only",
     .json = HEAD
     "  {\"host\": \"api.example.com\", \"mode\": \"off\", \"expires\": \"2020-01-01\"}\n" TAIL,
     .entries = 1,
     .diags = {N("mode-off", "domains[0].mode", 2, "\"off\"", NULL)}},
    {.name = "one pin, strict",
     .json = HEAD "  {\"host\": \"api.example.com\", \"pins\": [" P1 "]}\n" TAIL,
     .strict = 1,
     .status = CERTPIN_E_POLICY,
     .diags = {E("too-few-pins", "domains[0].pins", 2, "[", "at least two distinct pins")}},
    {.name = "one pin, not strict",
     .json = HEAD "  {\"host\": \"api.example.com\", \"pins\": [" P1 "]}\n" TAIL,
     .entries = 1,
     .diags = {W("too-few-pins", "domains[0].pins", 2, "[", "at least two distinct pins")}},
    {.name = "two pins, strict",
     .json = HEAD "  {\"host\": \"api.example.com\", \"pins\": [" P1 ", " P2 "]}\n" TAIL,
     .strict = 1,
     .entries = 1},
    {.name = "one pin and a deny pin, strict",
     .json =
         HEAD "  {\"host\": \"api.example.com\", \"pins\": [" P1 "], \"deny\": [" P2 "]}\n" TAIL,
     .strict = 1,
     .status = CERTPIN_E_POLICY,
     .diags = {E("too-few-pins", "domains[0].pins", 2, "[" P1, NULL)}},
    {.name = "one pin report-only, strict",
     .json = HEAD "  {\"host\": \"api.example.com\", \"pins\": [" P1
                  "], \"mode\": \"report-only\"}\n" TAIL,
     .strict = 1,
     .entries = 1},
    {.name = "duplicate pin (curl spelling)",
     .json = HEAD "  {\"host\": \"api.example.com\", \"pins\": [" P1 ", " P1C "]}\n" TAIL,
     .status = CERTPIN_E_POLICY,
     .diags = {E("duplicate-pin", "domains[0].pins[1]", 2, P1C, "repeats domains[0].pins[0]")}},
    {.name = "duplicate deny pin",
     .json = HEAD "  {\"host\": \"api.example.com\", \"pins\": [" P1 ", " P2 "], \"deny\": [" P3
                  ", " P3C "]}\n" TAIL,
     .status = CERTPIN_E_POLICY,
     .diags = {E("duplicate-pin", "domains[0].deny[1]", 2, P3C, "repeats domains[0].deny[0]")}},
    {.name = "pinned and denied",
     .json = HEAD "  {\"host\": \"api.example.com\", \"pins\": [" P1 ", " P2 "], \"deny\": [" P2C
                  "]}\n" TAIL,
     .status = CERTPIN_E_POLICY,
     .diags = {E("pinned-and-denied", "domains[0].deny[0]", 2, P2C,
                 "both pinned (domains[0].pins[1]) and denied")}},
    {.name = "distinct deny pin",
     .json = HEAD "  {\"host\": \"api.example.com\", \"pins\": [" P1 ", " P2 "], \"deny\": [" P3
                  "]}\n" TAIL,
     .strict = 1,
     .entries = 1},

    /* Expiry, against opts.now = 2027-06-01T00:00:00Z. */
    {.name = "expires in 15 days",
     .json = HEAD "  {\"host\": \"api.example.com\", \"pins\": [" P1 ", " P2
                  "], \"expires\": \"2027-06-15\"}\n" TAIL,
     .entries = 1,
     .diags = {W("expires-soon", "domains[0].expires", 2, "\"2027-06-15\"",
                 "expires in 15 day(s)")}},
    {.name = "expires in 29 days",
     .json = HEAD "  {\"host\": \"api.example.com\", \"pins\": [" P1 ", " P2
                  "], \"expires\": \"2027-06-29\"}\n" TAIL,
     .entries = 1,
     .diags = {W("expires-soon", "domains[0].expires", 2, "\"2027-06-29\"", "29 day(s)")}},
    {.name = "expires in 30 days",
     .json = HEAD "  {\"host\": \"api.example.com\", \"pins\": [" P1 ", " P2
                  "], \"expires\": \"2027-06-30\"}\n" TAIL,
     .strict = 1,
     .entries = 1},
    {.name = "expires in one second",
     .json = HEAD "  {\"host\": \"api.example.com\", \"pins\": [" P1 ", " P2
                  "], \"expires\": \"2027-06-01T00:00:01Z\"}\n" TAIL,
     .entries = 1,
     .diags = {W("expires-soon", "domains[0].expires", 2, "\"2027-06-01T", "1 day(s)")}},
    {.name = "expired now",
     .json = HEAD "  {\"host\": \"api.example.com\", \"pins\": [" P1 ", " P2
                  "], \"expires\": \"2027-05-31\"}\n" TAIL,
     .entries = 1,
     .diags = {W("expired", "domains[0].expires", 2, "\"2027-05-31\"", "no longer enforced")}},
    {.name = "expired, on_expiry enforce",
     .json = HEAD "  {\"host\": \"api.example.com\", \"pins\": [" P1 ", " P2
                  "], \"expires\": \"2027-01-01\", \"on_expiry\": \"enforce\"}\n" TAIL,
     .entries = 1,
     .diags = {W("expired", "domains[0].expires", 2, "\"2027-01-01\"", "still enforced")}},

    /* Wildcards over public suffixes: errors when strict, warnings otherwise. */
    {.name = "**.com, strict",
     .json = HEAD HOST("**.com") TAIL,
     .strict = 1,
     .status = CERTPIN_E_POLICY,
     .diags = {E("public-suffix", "domains[0].host", 2, "\"**.com\"", "public suffix \"com\"")}},
    {.name = "**.com, not strict",
     .json = HEAD HOST("**.com") TAIL,
     .entries = 1,
     .diags = {W("public-suffix", "domains[0].host", 2, "\"**.com\"", "public suffix")}},
    {.name = "**.example.com, strict",
     .json = HEAD HOST("**.example.com") TAIL,
     .strict = 1,
     .entries = 1},
    {.name = "*.co.uk, strict",
     .json = HEAD HOST("*.co.uk") TAIL,
     .strict = 1,
     .status = CERTPIN_E_POLICY,
     .diags = {E("public-suffix", "domains[0].host", 2, "\"*.co.uk\"", "\"co.uk\"")}},
    {.name = "*.co.uk, not strict",
     .json = HEAD HOST("*.co.uk") TAIL,
     .entries = 1,
     .diags = {W("public-suffix", "domains[0].host", 2, "\"*.co.uk\"", NULL)}},
    {.name = "*.example.co.uk, strict",
     .json = HEAD HOST("*.example.co.uk") TAIL,
     .strict = 1,
     .entries = 1},
    {.name = "co.uk exactly, strict", .json = HEAD HOST("co.uk") TAIL, .strict = 1, .entries = 1},
    {.name = "**.github.io (private suffix), strict",
     .json = HEAD HOST("**.github.io") TAIL,
     .strict = 1,
     .status = CERTPIN_E_POLICY,
     .diags = {E("public-suffix", "domains[0].host", 2, "\"**.github.io\"", NULL)}},
    {.name = "**.github.io (private suffix), not strict",
     .json = HEAD HOST("**.github.io") TAIL,
     .entries = 1,
     .diags = {W("public-suffix", "domains[0].host", 2, "\"**.github.io\"", NULL)}},
    {.name = "**.user.github.io, strict",
     .json = HEAD HOST("**.user.github.io") TAIL,
     .strict = 1,
     .entries = 1},
    {.name = "*.lan (one label), strict",
     .json = HEAD HOST("*.lan") TAIL,
     .strict = 1,
     .status = CERTPIN_E_POLICY,
     .diags = {E("public-suffix", "domains[0].host", 2, "\"*.lan\"", NULL)}},
    {.name = "*.lan (one label), not strict",
     .json = HEAD HOST("*.lan") TAIL,
     .entries = 1,
     .diags = {W("public-suffix", "domains[0].host", 2, "\"*.lan\"", NULL)}},
    {.name = "*.printer.lan, strict",
     .json = HEAD HOST("*.printer.lan") TAIL,
     .strict = 1,
     .entries = 1},
    {.name = "com with include_subdomains, strict",
     .json = HEAD "  {\"host\": \"com\", \"include_subdomains\": true, \"pins\": [" P1 ", " P2
                  "]}\n" TAIL,
     .strict = 1,
     .status = CERTPIN_E_POLICY,
     .diags = {E("public-suffix", "domains[0].host", 2, "\"com\"", "**.com")}},
    {.name = "github.io with include_subdomains, strict",
     .json = HEAD "  {\"host\": \"github.io\", \"include_subdomains\": true, \"pins\": [" P1 ", " P2
                  "]}\n" TAIL,
     .strict = 1,
     .status = CERTPIN_E_POLICY,
     .diags = {E("public-suffix", "domains[0].host", 2, "\"github.io\"", NULL)}},
    {.name = "example.com with include_subdomains, strict",
     .json = HEAD "  {\"host\": \"example.com\", \"include_subdomains\": true, \"pins\": [" P1
                  ", " P2 "]}\n" TAIL,
     .strict = 1,
     .entries = 1},

    /* Duplicate patterns. */
    {.name = "the same host twice",
     .json = HEAD HOST("api.example.com") "," HOST("api.example.com") TAIL,
     .status = CERTPIN_E_POLICY,
     .diags = {E("duplicate-pattern", "domains[1].host", 3, "\"api.example.com\"",
                 "already the pattern of domains[0]")}},
    {.name = "include_subdomains and **. are one pattern",
     .json = HEAD "  {\"host\": \"api.example.com\", \"include_subdomains\": true, \"pins\": [" P1
                  ", " P2 "]},\n" HOST("**.api.example.com") TAIL,
     .status = CERTPIN_E_POLICY,
     .diags = {E("duplicate-pattern", "domains[1].host", 3, "\"**.api.example.com\"",
                 "\"**.api.example.com\" is already the pattern of domains[0]")}},
    {.name = "case and trailing dot do not make a new pattern",
     .json = HEAD HOST("api.example.com") "," HOST("API.Example.COM.") TAIL,
     .status = CERTPIN_E_POLICY,
     .diags = {E("duplicate-pattern", "domains[1].host", 3, "\"API.Example.COM.\"", NULL)}},
    {.name = "exact, *. and **. are three patterns",
     .json = HEAD HOST("api.example.com") "," HOST("*.api.example.com") "," HOST(
         "**.api.example.com") TAIL,
     .strict = 1,
     .entries = 3},
    {.name = "**. without include_subdomains is another pattern",
     .json = HEAD HOST("api.example.com") "," HOST("**.www.example.com") TAIL,
     .strict = 1,
     .entries = 2},

    /* Several findings: all of them are listed, the first error is the one returned. */
    {.name = "bad host and bad pin in one entry",
     .json = HEAD "  {\"host\": \"a..example.com\", \"pins\": [" P1 ", \"sha256/x\"]}\n" TAIL,
     .status = CERTPIN_E_HOST,
     .diags = {E("bad-host", "domains[0].host", 2, "\"a..example.com\"", NULL),
               E("bad-pin", "domains[0].pins[1]", 2, "\"sha256/x\"", NULL)}},
    {.name = "an error does not hide the next entry's",
     .json = HEAD "  {\"host\": \"a.example.com\", \"pins\": [" P1 ", \"sha256/x\"]},\n"
                  "  {\"host\": \"b.example.com\", \"pins\": [" P1 ", " P2 "], \"mode\": \"of\"},\n"
                  "  {\"host\": \"c.example.com\", \"pins\": [" P1 "]}\n" TAIL,
     .status = CERTPIN_E_PIN,
     .diags = {E("bad-pin", "domains[0].pins[1]", 2, "\"sha256/x\"", NULL),
               E("bad-value", "domains[1].mode", 3, "\"of\"", NULL),
               W("too-few-pins", "domains[2].pins", 4, "[", NULL)}},
    {.name = "a refused entry's other values are still checked",
     .json = HEAD "  {\"host\": \"**.com\", \"pins\": [\"sha256/x\", " P1
                  "], \"mode\": \"enforced\"}\n" TAIL,
     .status = CERTPIN_E_POLICY,
     .diags = {E("bad-value", "domains[0].mode", 2, "\"enforced\"", NULL),
               W("public-suffix", "domains[0].host", 2, "\"**.com\"", NULL),
               E("bad-pin", "domains[0].pins[0]", 2, "\"sha256/x\"", NULL)}},
    {.name = "a mode that cannot be read: no guess at how many pins it needs",
     .json = HEAD "  {\"host\": \"api.example.com\", \"mode\": \"of\"}\n" TAIL,
     .status = CERTPIN_E_POLICY,
     .diags = {E("bad-value", "domains[0].mode", 2, "\"of\"", NULL)}},
    {.name = "an error does not hide a duplicate pattern",
     .json = HEAD "  {\"host\": \"a.example.com\", \"pins\": [" P1
                  ", \"sha256/x\"]},\n" HOST("b.example.com") "," HOST("B.example.com") TAIL,
     .status = CERTPIN_E_PIN,
     .diags = {E("bad-pin", "domains[0].pins[1]", 2, "\"sha256/x\"", NULL),
               E("duplicate-pattern", "domains[2].host", 4, "\"B.example.com\"",
                 "already the pattern of domains[1]")}},

    /* JSON syntax: line and column from jansson. */
    {.name = "trailing comma",
     .json = HEAD "  {\"host\": \"api.example.com\", \"pins\": [" P1 ", " P2 ",]}\n" TAIL,
     .status = CERTPIN_E_SYNTAX,
     .diags = {E("syntax", "", 2, "]", NULL)}},
    {.name = "not JSON at all",
     .json = "certpin: 1\n",
     .status = CERTPIN_E_SYNTAX,
     .diags = {E("syntax", "", 1, "certpin", NULL)}},
    {.name = "empty text",
     .json = "",
     .status = CERTPIN_E_SYNTAX,
     .diags = {E("syntax", "", 1, NULL, NULL)}},
    {.name = "two documents",
     .json = "{\"certpin\": 1, \"domains\": []}\n{}\n",
     .status = CERTPIN_E_SYNTAX,
     .diags = {E("syntax", "", 2, "{", NULL)}},

    /* Hand-written files. */
    {.name = "file: bad pin on line 7",
     .file = "bad-pin-line7.json",
     .status = CERTPIN_E_PIN,
     .diags = {E("bad-pin", "domains[0].pins[1]", 7, "\"sha256/not-base64\"",
                 "pin \"sha256/not-base64\" is not base64")}},
    {.name = "file: several errors, all listed",
     .file = "several-errors.json",
     .status = CERTPIN_E_POLICY,
     .diags = {E("bad-value", "unpinned", 3, "\"block\"", NULL),
               E("unknown-key", "domains[0].inlude_subdomains", 7, "\"inlude_subdomains\"",
                 "did you mean \"include_subdomains\"?"),
               E("duplicate-pin", "domains[1].pins[1]", 14, "\"sha256//",
                 "repeats domains[1].pins[0]"),
               E("bad-time", "domains[2].expires", 21, "\"2027-02-30\"", NULL),
               E("pinned-and-denied", "domains[2].deny[0]", 20, "\"sha256/",
                 "both pinned (domains[2].pins[1]) and denied"),
               W("expires-soon", "domains[3].expires", 26, "\"2027-06-10\"", "10 day(s)"),
               N("mode-off", "domains[4].mode", 30, "\"off\"", NULL),
               E("no-pins", "domains[5].pins", 32, "{", NULL),
               E("duplicate-pattern", "domains[6].host", 37, "\"api.example.com\"",
                 "already the pattern of domains[0]")}},
    {.name = "file: missing comma",
     .file = "syntax-missing-comma.json",
     .status = CERTPIN_E_SYNTAX,
     .diags = {E("syntax", "", 7, "\"mode\"", NULL)}},
    {.name = "file: duplicate key",
     .file = "duplicate-key.json",
     .status = CERTPIN_E_SYNTAX,
     .diags = {E("duplicate-key", "", 8, "\"mode\"", "duplicate object key")}},
    {.name = "file: newer version, nothing else judged",
     .file = "newer-version.json",
     .status = CERTPIN_E_VERSION,
     .diags = {E("newer-version", "certpin", 3, "2", "format 2")}},
    {.name = "file: duplicate pattern, value on its own line",
     .file = "duplicate-pattern.json",
     .status = CERTPIN_E_POLICY,
     .diags = {E("duplicate-pattern", "domains[2].host", 12, "\"**.API.example.com.\"",
                 "already the pattern of domains[0]")}},
    {.name = "file: keys and values apart",
     .file = "key-and-value-apart.json",
     .status = CERTPIN_E_POLICY,
     .diags = {E("duplicate-pin", "domains[0].pins[1]", 10, "\"sha256/", NULL),
               E("unknown-key", "domains[1].pin", 15, "\"pin\"", NULL),
               E("no-pins", "domains[1].pins", 13, "{", NULL)}},
    {.name = "file: CRLF line ends",
     .file = "crlf.json",
     .status = CERTPIN_E_PIN,
     .diags = {W("public-suffix", "domains[0].host", 5, "\"**.co.uk\"", NULL),
               E("bad-pin", "domains[0].pins[1]", 6, "\"sha256/bad\"", NULL)}},
    {.name = "file: CRLF line ends, strict",
     .file = "crlf.json",
     .strict = 1,
     .status = CERTPIN_E_POLICY,
     .diags = {E("public-suffix", "domains[0].host", 5, "\"**.co.uk\"", NULL),
               E("bad-pin", "domains[0].pins[1]", 6, "\"sha256/bad\"", NULL)}},
    {.name = "file: a valid policy",
     .file = "identity-pretty.json",
     .strict = 1,
     .entries = 4,
     .diags = {N("mode-off", "domains[3].mode", 28, "\"off\"", NULL)}},
};

static const char *policy_dir(void)
{
    static char dir[1024];
    const char *env = getenv("CERTPIN_TEST_POLICIES");
    const char *slash;
    if (env != NULL && env[0] != '\0') {
        (void)snprintf(dir, sizeof(dir), "%s/", env);
        return dir;
    }
    /* CMake compiles with the absolute path of this file: policies/ is beside it. */
    slash = strrchr(__FILE__, '/');
    if (slash == NULL) {
        return "policies/";
    }
    (void)snprintf(dir, sizeof(dir), "%.*spolicies/", (int)(slash - __FILE__ + 1), __FILE__);
    return dir;
}

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;
    if (f == NULL) {
        return NULL;
    }
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        (void)fclose(f);
        return NULL;
    }
    buf = malloc((size_t)n + 1);
    if (buf == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        (void)fclose(f);
        return NULL;
    }
    buf[n] = '\0';
    (void)fclose(f);
    *len = (size_t)n;
    return buf;
}

/* The text of line `line` (1-based) of text, into out. */
static void line_of(const char *text, int line, char *out, size_t cap)
{
    const char *p = text;
    const char *end;
    size_t n;
    int i;
    for (i = 1; i < line && p != NULL; i++) {
        p = strchr(p, '\n');
        if (p != NULL) {
            p++;
        }
    }
    assert_non_null(p);
    end = strchr(p, '\n');
    n = end != NULL ? (size_t)(end - p) : strlen(p);
    if (n >= cap) {
        n = cap - 1;
    }
    memcpy(out, p, n);
    out[n] = '\0';
}

static const char *sev_name(certpin_severity s)
{
    switch (s) {
    case CERTPIN_SEV_ERROR: return "error";
    case CERTPIN_SEV_WARNING: return "warning";
    case CERTPIN_SEV_NOTE: return "note";
    default: return "?";
    }
}

static void dump_diags(const certpin_diags *diags)
{
    size_t i;
    for (i = 0; i < certpin_diags_count(diags); i++) {
        const certpin_diag *d = certpin_diags_get(diags, i);
        print_error("  [%zu] %s %s %s:%d:%d %s: %s\n", i, sev_name(d->severity), d->code, d->source,
                    d->line, d->column, d->path, d->message);
    }
}

static size_t want_count(const want *w)
{
    size_t n = 0;
    while (n < MAX_WANTS && w[n].code != NULL) {
        n++;
    }
    return n;
}

/* The column a finding must have: where its anchor starts on its line; for jansson's syntax
 * errors (which point at the last character read), anywhere inside the anchor. */
static void check_place(const char *name, const char *text, const want *w, int line, int column)
{
    char buf[4096];
    const char *at;
    int start;
    if (line != w->line) {
        print_error("%s: %s at %s: line %d, want %d\n", name, w->code, w->path, line, w->line);
        fail();
    }
    if (w->line == 0 || w->anchor == NULL) {
        if (w->line == 0 && column != 0) {
            print_error("%s: %s: column %d, want 0\n", name, w->code, column);
            fail();
        }
        return;
    }
    line_of(text, w->line, buf, sizeof(buf));
    at = strstr(buf, w->anchor);
    if (at == NULL || strstr(at + 1, w->anchor) != NULL) {
        print_error("%s: table error: anchor %s is not once on line %d: %s\n", name, w->anchor,
                    w->line, buf);
        fail();
    }
    start = (int)(at - buf) + 1;
    if (strcmp(w->code, "syntax") == 0 || strcmp(w->code, "duplicate-key") == 0) {
        if (column < start || column >= start + (int)strlen(w->anchor)) {
            print_error("%s: %s: column %d, want within %d..%d\n", name, w->code, column, start,
                        start + (int)strlen(w->anchor) - 1);
            fail();
        }
        return;
    }
    if (column != start) {
        print_error("%s: %s at %s: column %d, want %d (%s)\n", name, w->code, w->path, column,
                    start, w->anchor);
        fail();
    }
}

static void check_diags(const load_case *c, const char *text, const char *source,
                        const certpin_diags *got)
{
    size_t n = want_count(c->diags);
    size_t i;
    if (certpin_diags_count(got) != n) {
        print_error("%s: %zu findings, want %zu:\n", c->name, certpin_diags_count(got), n);
        dump_diags(got);
        fail();
    }
    for (i = 0; i < n; i++) {
        const certpin_diag *d = certpin_diags_get(got, i);
        const want *w = &c->diags[i];
        if (d->severity != w->severity || strcmp(d->code, w->code) != 0 ||
            strcmp(d->path, w->path) != 0) {
            print_error("%s: finding %zu is %s %s at \"%s\", want %s %s at \"%s\":\n", c->name, i,
                        sev_name(d->severity), d->code, d->path, sev_name(w->severity), w->code,
                        w->path);
            dump_diags(got);
            fail();
        }
        assert_string_equal(d->source, source);
        check_place(c->name, text, w, d->line, d->column);
        if (w->text != NULL && strstr(d->message, w->text) == NULL) {
            print_error("%s: message \"%s\" lacks \"%s\"\n", c->name, d->message, w->text);
            fail();
        }
    }
}

static const want *first_error(const load_case *c)
{
    size_t i;
    for (i = 0; i < want_count(c->diags); i++) {
        if (c->diags[i].severity == CERTPIN_SEV_ERROR) {
            return &c->diags[i];
        }
    }
    return NULL;
}

/* Loads text (from path when path is not NULL, else from the buffer) and checks everything the
 * case says. */
static void run_load(const load_case *c, const char *text, size_t len, const char *path,
                     const char *source)
{
    certpin_load_options opts;
    certpin_error err;
    certpin_policy *p;
    certpin_diags *diags = certpin_diags_new();

    assert_non_null(diags);
    memset(&opts, 0, sizeof(opts));
    opts.strict = c->strict;
    opts.now = NOW;
    opts.diags = diags;
    memset(&err, 0x7f, sizeof(err));
    if (path != NULL) {
        p = certpin_policy_load_file(path, &opts, &err);
    } else {
        p = certpin_policy_load_buffer(text, len, source, &opts, &err);
    }
    check_diags(c, text, source, diags);
    if (c->status != CERTPIN_OK) {
        const want *w = first_error(c);
        /* Refused: NULL, never an empty or permissive policy; err is the first error. */
        if (p != NULL) {
            print_error("%s: loaded, want status %d\n", c->name, (int)c->status);
            certpin_policy_free(p);
            fail();
        }
        if (err.status != c->status) {
            print_error("%s: err.status %d (%s), want %d: %s\n", c->name, (int)err.status,
                        certpin_status_str(err.status), (int)c->status, err.text);
            fail();
        }
        assert_non_null(w);
        assert_string_equal(err.source, source);
        assert_string_equal(err.path, w->path);
        check_place(c->name, text, w, err.line, err.column);
        if (w->text != NULL) {
            assert_non_null(strstr(err.text, w->text));
        }
        certpin_diags_free(diags);
        return;
    }
    if (p == NULL) {
        print_error("%s: refused (%d, %s at %s line %d): %s\n", c->name, (int)err.status,
                    err.source, err.path, err.line, err.text);
        fail();
    }
    assert_int_equal(certpin_policy_unpinned(p), c->unpinned);
    assert_int_equal(certpin_policy_entry_count(p), c->entries);
    assert_string_equal(certpin_policy_source(p), source);
    /* A loaded policy keeps its warnings and notes: the same list. */
    check_diags(c, text, source, certpin_policy_warnings(p));
    certpin_policy_free(p);
    certpin_diags_free(diags);
}

static void test_load_case(void **state)
{
    const load_case *c = *state;
    if (c->file != NULL) {
        char path[1200];
        size_t len = 0;
        char *text;
        (void)snprintf(path, sizeof(path), "%s%s", policy_dir(), c->file);
        text = read_all(path, &len);
        if (text == NULL) {
            print_error("%s: cannot read %s\n", c->name, path);
            fail();
        }
        run_load(c, text, len, path, path); /* certpin_policy_load_file */
        run_load(c, text, len, NULL, path); /* the same text from a buffer */
        free(text);
    } else {
        run_load(c, c->json, strlen(c->json), NULL, "inline.json");
    }
}

/* A buffer need not be NUL-terminated: only len bytes are read. */
static void test_load_buffer_length(void **state)
{
    static const char text[] = "{\"certpin\": 1, \"domains\": [" HOST("a.example.com") "]}garbage";
    certpin_error err;
    certpin_policy *p;
    (void)state;
    p = certpin_policy_load_buffer(text, strlen(text) - strlen("garbage"), NULL, NULL, &err);
    assert_non_null(p);
    assert_string_equal(certpin_policy_source(p), "<buffer>");
    certpin_policy_free(p);
    p = certpin_policy_load_buffer(text, strlen(text), NULL, NULL, &err);
    assert_null(p);
    assert_int_equal(err.status, CERTPIN_E_SYNTAX);
    p = certpin_policy_load_buffer(NULL, 0, NULL, NULL, &err);
    assert_null(p);
    assert_int_equal(err.status, CERTPIN_E_ARG);
}

/* ---- files ---------------------------------------------------------------------------------- */

static void test_load_missing_file(void **state)
{
    char path[1200];
    certpin_load_options opts;
    certpin_error err;
    certpin_policy *p;
    const certpin_diag *d;
    (void)state;
    (void)snprintf(path, sizeof(path), "%sno-such-policy.json", policy_dir());
    memset(&opts, 0, sizeof(opts));
    opts.diags = certpin_diags_new();
    assert_non_null(opts.diags);
    p = certpin_policy_load_file(path, &opts, &err);
    assert_null(p);
    assert_int_equal(err.status, CERTPIN_E_IO);
    assert_string_equal(err.source, path);
    assert_non_null(strstr(err.text, "No such file"));
    assert_int_equal(certpin_diags_errors(opts.diags), 1);
    d = certpin_diags_get(opts.diags, 0);
    assert_string_equal(d->source, path);
    assert_int_equal(d->severity, CERTPIN_SEV_ERROR);
    certpin_diags_free(opts.diags);

    /* its twin: the file that is there loads */
    (void)snprintf(path, sizeof(path), "%sidentity-pretty.json", policy_dir());
    p = certpin_policy_load_file(path, NULL, &err);
    assert_non_null(p);
    certpin_policy_free(p);

    assert_null(certpin_policy_load_file(NULL, NULL, &err));
    assert_int_equal(err.status, CERTPIN_E_ARG);
}

/* A NUL byte in the text (which jansson would skip between tokens): refused with its place. The
 * twin, the same text without it, loads. */
static void test_load_nul_byte(void **state)
{
    static const char text[] = "{\"certpin\": 1,\n  \"domains\": []\0}";
    certpin_error err;
    certpin_policy *p;
    (void)state;
    p = certpin_policy_load_buffer(text, sizeof(text) - 1, "nul.json", NULL, &err);
    assert_null(p);
    assert_int_equal(err.status, CERTPIN_E_SYNTAX);
    assert_int_equal(err.line, 2);
    assert_int_equal(err.column, 16);
    assert_non_null(strstr(err.text, "NUL"));
    p = certpin_policy_load_buffer(text, sizeof(text) - 3, "nul.json", NULL, &err);
    assert_null(p); /* cut before the NUL: "}" missing */
    p = certpin_policy_load_buffer("{\"certpin\": 1,\n  \"domains\": []}", 31, "ok.json", NULL,
                                   &err);
    assert_non_null(p);
    certpin_policy_free(p);
}

/* A directory opens but cannot be read: an I/O error naming it, never a policy. */
static void test_load_directory(void **state)
{
    certpin_load_options opts;
    certpin_error err;
    certpin_policy *p;
    const char *dir = policy_dir();
    (void)state;
    memset(&opts, 0, sizeof(opts));
    opts.diags = certpin_diags_new();
    assert_non_null(opts.diags);
    p = certpin_policy_load_file(dir, &opts, &err);
    assert_null(p);
    assert_int_equal(err.status, CERTPIN_E_IO);
    assert_string_equal(err.source, dir);
    assert_int_equal(certpin_diags_errors(opts.diags), 1);
    assert_string_equal(certpin_diags_get(opts.diags, 0)->source, dir);
    certpin_diags_free(opts.diags);
}

/* ---- entries -------------------------------------------------------------------------------- */

static void pin_of(const char *text, unsigned char out[CERTPIN_PIN_LEN])
{
    assert_int_equal(certpin_pin_parse(text, out, NULL), CERTPIN_OK);
}

/* What a loaded policy holds, entry by entry (identity-pretty.json). */
static void test_entries(void **state)
{
    char path[1200];
    certpin_error err;
    certpin_policy *p;
    const certpin_entry *e;
    unsigned char pin[CERTPIN_PIN_LEN];
    (void)state;
    (void)snprintf(path, sizeof(path), "%sidentity-pretty.json", policy_dir());
    p = certpin_policy_load_file(path, NULL, &err);
    assert_non_null(p);
    assert_int_equal(certpin_policy_entry_count(p), 4);
    assert_null(certpin_policy_entry(p, 4));

    e = certpin_policy_entry(p, 0);
    assert_string_equal(certpin_entry_pattern(e), "api.example.com");
    assert_int_equal(certpin_entry_index(e), 0);
    assert_int_equal(certpin_entry_match(e), CERTPIN_MATCH_EXACT);
    assert_int_equal(certpin_entry_mode(e), CERTPIN_MODE_ENFORCE);
    assert_int_equal(certpin_entry_on_expiry(e), CERTPIN_ON_EXPIRY_UNPIN);
    assert_true(certpin_entry_expires(e) == 1830297600); /* 2028-01-01T00:00:00Z */
    assert_int_equal(certpin_entry_pin_count(e), 2);
    assert_int_equal(certpin_entry_deny_count(e), 0);
    pin_of(P1S, pin);
    assert_memory_equal(certpin_entry_pin(e, 0), pin, CERTPIN_PIN_LEN);
    pin_of(P2S, pin);
    assert_memory_equal(certpin_entry_pin(e, 1), pin, CERTPIN_PIN_LEN);
    assert_null(certpin_entry_pin(e, 2));

    e = certpin_policy_entry(p, 1);
    assert_string_equal(certpin_entry_pattern(e), "*.cdn.example.com");
    assert_int_equal(certpin_entry_match(e), CERTPIN_MATCH_ONE_LABEL);
    assert_int_equal(certpin_entry_mode(e), CERTPIN_MODE_REPORT_ONLY);
    assert_true(certpin_entry_expires(e) == 0);
    assert_int_equal(certpin_entry_deny_count(e), 1);
    pin_of(P1S, pin);
    assert_memory_equal(certpin_entry_deny(e, 0), pin, CERTPIN_PIN_LEN);
    assert_null(certpin_entry_deny(e, 1));

    e = certpin_policy_entry(p, 2);
    assert_string_equal(certpin_entry_pattern(e), "**.example.org");
    assert_int_equal(certpin_entry_match(e), CERTPIN_MATCH_SUBTREE);
    assert_int_equal(certpin_entry_index(e), 2);

    e = certpin_policy_entry(p, 3);
    assert_int_equal(certpin_entry_mode(e), CERTPIN_MODE_OFF);
    assert_int_equal(certpin_entry_pin_count(e), 0);
    certpin_policy_free(p);
}

/* ---- identity ------------------------------------------------------------------------------- */

/* The compact form of identity-pretty.json. */
#define ID_BASE                                                                                    \
    "{\"certpin\":1,\"unpinned\":\"allow\",\"domains\":["                                          \
    "{\"host\":\"api.example.com\",\"pins\":[" P1 "," P2 "],\"expires\":\"2027-12-31\","           \
    "\"on_expiry\":\"unpin\",\"mode\":\"enforce\"},"                                               \
    "{\"host\":\"*.cdn.example.com\",\"pins\":[" P3 "," P4 "],\"deny\":[" P1                       \
    "],\"mode\":\"report-only\"},"                                                                 \
    "{\"host\":\"example.org\",\"include_subdomains\":true,\"pins\":[" P2 "," P3 "]},"             \
    "{\"host\":\"legacy.example.com\",\"mode\":\"off\"}]}"

typedef struct id_case {
    const char *name;
    const char *json;
    int same; /* the same rules as ID_BASE */
} id_case;

static const id_case id_cases[] = {
    {"identity: same text", ID_BASE, 1},
    {"identity: keys in another order",
     "{\"domains\":["
     "{\"mode\":\"enforce\",\"on_expiry\":\"unpin\",\"expires\":\"2027-12-31\",\"pins\":[" P1 "," P2
     "],\"host\":\"api.example.com\"},"
     "{\"mode\":\"report-only\",\"deny\":[" P1 "],\"pins\":[" P3 "," P4
     "],\"host\":\"*.cdn.example.com\"},"
     "{\"pins\":[" P2 "," P3 "],\"include_subdomains\":true,\"host\":\"example.org\"},"
     "{\"mode\":\"off\",\"host\":\"legacy.example.com\"}],\"unpinned\":\"allow\",\"certpin\":1}",
     1},
    {"identity: defaults left out",
     "{\"certpin\":1,\"domains\":["
     "{\"host\":\"api.example.com\",\"pins\":[" P1 "," P2 "],\"expires\":\"2027-12-31\"},"
     "{\"host\":\"*.cdn.example.com\",\"pins\":[" P3 "," P4 "],\"deny\":[" P1
     "],\"mode\":\"report-only\"},"
     "{\"host\":\"example.org\",\"include_subdomains\":true,\"pins\":[" P2 "," P3 "]},"
     "{\"host\":\"legacy.example.com\",\"mode\":\"off\"}]}",
     1},
    {"identity: other spellings of the same values",
     "{\"certpin\":1,\"unpinned\":\"allow\",\"domains\":["
     "{\"host\":\"API.Example.COM.\",\"pins\":[" P1C "," P2C
     "],\"expires\":\"2028-01-01T01:00:00+01:00\",\"on_expiry\":\"unpin\",\"mode\":\"enforce\"},"
     "{\"host\":\"*.CDN.example.com\",\"pins\":[" P3C "," P4 "],\"deny\":[" P1C
     "],\"mode\":\"report-only\"},"
     "{\"host\":\"**.example.org\",\"include_subdomains\":false,\"pins\":[" P2 "," P3 "]},"
     "{\"host\":\"legacy.example.com\",\"mode\":\"off\",\"pins\":[]}]}",
     1},
    {"identity: a pin changes",
     "{\"certpin\":1,\"domains\":["
     "{\"host\":\"api.example.com\",\"pins\":[" P1 "," P4 "],\"expires\":\"2027-12-31\"},"
     "{\"host\":\"*.cdn.example.com\",\"pins\":[" P3 "," P4 "],\"deny\":[" P1
     "],\"mode\":\"report-only\"},"
     "{\"host\":\"example.org\",\"include_subdomains\":true,\"pins\":[" P2 "," P3 "]},"
     "{\"host\":\"legacy.example.com\",\"mode\":\"off\"}]}",
     0},
    {"identity: a pin is added",
     "{\"certpin\":1,\"domains\":["
     "{\"host\":\"api.example.com\",\"pins\":[" P1 "," P2 "," P3 "],\"expires\":\"2027-12-31\"},"
     "{\"host\":\"*.cdn.example.com\",\"pins\":[" P3 "," P4 "],\"deny\":[" P1
     "],\"mode\":\"report-only\"},"
     "{\"host\":\"example.org\",\"include_subdomains\":true,\"pins\":[" P2 "," P3 "]},"
     "{\"host\":\"legacy.example.com\",\"mode\":\"off\"}]}",
     0},
    {"identity: a deny pin becomes a pin",
     "{\"certpin\":1,\"domains\":["
     "{\"host\":\"api.example.com\",\"pins\":[" P1 "," P2 "],\"expires\":\"2027-12-31\"},"
     "{\"host\":\"*.cdn.example.com\",\"pins\":[" P3 "," P4 "," P1 "],\"mode\":\"report-only\"},"
     "{\"host\":\"example.org\",\"include_subdomains\":true,\"pins\":[" P2 "," P3 "]},"
     "{\"host\":\"legacy.example.com\",\"mode\":\"off\"}]}",
     0},
    {"identity: a deny pin is added",
     "{\"certpin\":1,\"domains\":["
     "{\"host\":\"api.example.com\",\"pins\":[" P1 "," P2 "],\"deny\":[" P4
     "],\"expires\":\"2027-12-31\"},"
     "{\"host\":\"*.cdn.example.com\",\"pins\":[" P3 "," P4 "],\"deny\":[" P1
     "],\"mode\":\"report-only\"},"
     "{\"host\":\"example.org\",\"include_subdomains\":true,\"pins\":[" P2 "," P3 "]},"
     "{\"host\":\"legacy.example.com\",\"mode\":\"off\"}]}",
     0},
    {"identity: the mode changes",
     "{\"certpin\":1,\"domains\":["
     "{\"host\":\"api.example.com\",\"pins\":[" P1 "," P2 "],\"expires\":\"2027-12-31\"},"
     "{\"host\":\"*.cdn.example.com\",\"pins\":[" P3 "," P4 "],\"deny\":[" P1 "]},"
     "{\"host\":\"example.org\",\"include_subdomains\":true,\"pins\":[" P2 "," P3 "]},"
     "{\"host\":\"legacy.example.com\",\"mode\":\"off\"}]}",
     0},
    {"identity: the expiry changes by a day",
     "{\"certpin\":1,\"domains\":["
     "{\"host\":\"api.example.com\",\"pins\":[" P1 "," P2 "],\"expires\":\"2027-12-30\"},"
     "{\"host\":\"*.cdn.example.com\",\"pins\":[" P3 "," P4 "],\"deny\":[" P1
     "],\"mode\":\"report-only\"},"
     "{\"host\":\"example.org\",\"include_subdomains\":true,\"pins\":[" P2 "," P3 "]},"
     "{\"host\":\"legacy.example.com\",\"mode\":\"off\"}]}",
     0},
    {"identity: the expiry changes by a second",
     "{\"certpin\":1,\"domains\":["
     "{\"host\":\"api.example.com\",\"pins\":[" P1 "," P2 "],\"expires\":\"2028-01-01T00:00:01Z\"},"
     "{\"host\":\"*.cdn.example.com\",\"pins\":[" P3 "," P4 "],\"deny\":[" P1
     "],\"mode\":\"report-only\"},"
     "{\"host\":\"example.org\",\"include_subdomains\":true,\"pins\":[" P2 "," P3 "]},"
     "{\"host\":\"legacy.example.com\",\"mode\":\"off\"}]}",
     0},
    {"identity: the expiry goes",
     "{\"certpin\":1,\"domains\":["
     "{\"host\":\"api.example.com\",\"pins\":[" P1 "," P2 "]},"
     "{\"host\":\"*.cdn.example.com\",\"pins\":[" P3 "," P4 "],\"deny\":[" P1
     "],\"mode\":\"report-only\"},"
     "{\"host\":\"example.org\",\"include_subdomains\":true,\"pins\":[" P2 "," P3 "]},"
     "{\"host\":\"legacy.example.com\",\"mode\":\"off\"}]}",
     0},
    {"identity: on_expiry changes",
     "{\"certpin\":1,\"domains\":["
     "{\"host\":\"api.example.com\",\"pins\":[" P1 "," P2
     "],\"expires\":\"2027-12-31\",\"on_expiry\":\"enforce\"},"
     "{\"host\":\"*.cdn.example.com\",\"pins\":[" P3 "," P4 "],\"deny\":[" P1
     "],\"mode\":\"report-only\"},"
     "{\"host\":\"example.org\",\"include_subdomains\":true,\"pins\":[" P2 "," P3 "]},"
     "{\"host\":\"legacy.example.com\",\"mode\":\"off\"}]}",
     0},
    {"identity: *. becomes **.",
     "{\"certpin\":1,\"domains\":["
     "{\"host\":\"api.example.com\",\"pins\":[" P1 "," P2 "],\"expires\":\"2027-12-31\"},"
     "{\"host\":\"**.cdn.example.com\",\"pins\":[" P3 "," P4 "],\"deny\":[" P1
     "],\"mode\":\"report-only\"},"
     "{\"host\":\"example.org\",\"include_subdomains\":true,\"pins\":[" P2 "," P3 "]},"
     "{\"host\":\"legacy.example.com\",\"mode\":\"off\"}]}",
     0},
    {"identity: a host changes",
     "{\"certpin\":1,\"domains\":["
     "{\"host\":\"api2.example.com\",\"pins\":[" P1 "," P2 "],\"expires\":\"2027-12-31\"},"
     "{\"host\":\"*.cdn.example.com\",\"pins\":[" P3 "," P4 "],\"deny\":[" P1
     "],\"mode\":\"report-only\"},"
     "{\"host\":\"example.org\",\"include_subdomains\":true,\"pins\":[" P2 "," P3 "]},"
     "{\"host\":\"legacy.example.com\",\"mode\":\"off\"}]}",
     0},
    {"identity: include_subdomains goes",
     "{\"certpin\":1,\"domains\":["
     "{\"host\":\"api.example.com\",\"pins\":[" P1 "," P2 "],\"expires\":\"2027-12-31\"},"
     "{\"host\":\"*.cdn.example.com\",\"pins\":[" P3 "," P4 "],\"deny\":[" P1
     "],\"mode\":\"report-only\"},"
     "{\"host\":\"example.org\",\"pins\":[" P2 "," P3 "]},"
     "{\"host\":\"legacy.example.com\",\"mode\":\"off\"}]}",
     0},
    {"identity: the off entry goes",
     "{\"certpin\":1,\"domains\":["
     "{\"host\":\"api.example.com\",\"pins\":[" P1 "," P2 "],\"expires\":\"2027-12-31\"},"
     "{\"host\":\"*.cdn.example.com\",\"pins\":[" P3 "," P4 "],\"deny\":[" P1
     "],\"mode\":\"report-only\"},"
     "{\"host\":\"example.org\",\"include_subdomains\":true,\"pins\":[" P2 "," P3 "]}]}",
     0},
    {"identity: unpinned deny",
     "{\"certpin\":1,\"unpinned\":\"deny\",\"domains\":["
     "{\"host\":\"api.example.com\",\"pins\":[" P1 "," P2 "],\"expires\":\"2027-12-31\"},"
     "{\"host\":\"*.cdn.example.com\",\"pins\":[" P3 "," P4 "],\"deny\":[" P1
     "],\"mode\":\"report-only\"},"
     "{\"host\":\"example.org\",\"include_subdomains\":true,\"pins\":[" P2 "," P3 "]},"
     "{\"host\":\"legacy.example.com\",\"mode\":\"off\"}]}",
     0},
};

static certpin_policy *load_text(const char *json)
{
    certpin_load_options opts;
    certpin_error err;
    certpin_policy *p;
    memset(&opts, 0, sizeof(opts));
    opts.now = NOW;
    p = certpin_policy_load_buffer(json, strlen(json), "id.json", &opts, &err);
    if (p == NULL) {
        print_error("refused: %s at %s: %s\n", err.path, err.source, err.text);
    }
    assert_non_null(p);
    return p;
}

static int is_lower_hex64(const char *s)
{
    size_t i;
    for (i = 0; i < 64; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
            return 0;
        }
    }
    return s[64] == '\0';
}

/* The builder's form of ID_BASE. */
static certpin_policy *build_base(certpin_unpinned unpinned)
{
    static const char *const pins0[] = {P1S, P2S};
    static const char *const pins1[] = {P3S, P4S};
    static const char *const deny1[] = {P1S};
    static const char *const pins2[] = {P2S, P3S};
    certpin_domain d[4];
    certpin_builder *b = certpin_builder_new();
    certpin_error err;
    certpin_policy *p;
    size_t i;

    assert_non_null(b);
    memset(d, 0, sizeof(d));
    d[0].host = "api.example.com";
    d[0].pins = pins0;
    d[0].pin_count = 2;
    d[0].expires = "2027-12-31";
    d[1].host = "*.cdn.example.com";
    d[1].pins = pins1;
    d[1].pin_count = 2;
    d[1].deny = deny1;
    d[1].deny_count = 1;
    d[1].mode = CERTPIN_MODE_REPORT_ONLY;
    d[2].host = "example.org";
    d[2].include_subdomains = 1;
    d[2].pins = pins2;
    d[2].pin_count = 2;
    d[3].host = "legacy.example.com";
    d[3].mode = CERTPIN_MODE_OFF;
    assert_int_equal(certpin_builder_set_unpinned(b, unpinned), CERTPIN_OK);
    for (i = 0; i < 4; i++) {
        assert_int_equal(certpin_builder_add(b, &d[i], &err), CERTPIN_OK);
    }
    p = certpin_builder_build(b, &err);
    assert_non_null(p);
    certpin_builder_free(b);
    return p;
}

static void test_identity(void **state)
{
    char path[1200];
    certpin_error err;
    certpin_policy *base;
    certpin_policy *other;
    certpin_policy *ids[CASES_LEN(id_cases)];
    size_t i;
    size_t j;
    (void)state;

    base = load_text(ID_BASE);
    assert_true(is_lower_hex64(certpin_policy_id_hex(base)));
    for (i = 0; i < 32; i++) {
        char two[3];
        (void)snprintf(two, sizeof(two), "%02x", certpin_policy_id(base)[i]);
        assert_memory_equal(two, certpin_policy_id_hex(base) + 2 * i, 2);
    }

    /* the pretty file and the builder give the same identity as the compact text */
    (void)snprintf(path, sizeof(path), "%sidentity-pretty.json", policy_dir());
    other = certpin_policy_load_file(path, NULL, &err);
    assert_non_null(other);
    assert_string_equal(certpin_policy_id_hex(other), certpin_policy_id_hex(base));
    certpin_policy_free(other);
    other = build_base(CERTPIN_UNPINNED_ALLOW);
    assert_string_equal(certpin_policy_id_hex(other), certpin_policy_id_hex(base));
    certpin_policy_free(other);
    other = build_base(CERTPIN_UNPINNED_DENY); /* its twin */
    assert_string_not_equal(certpin_policy_id_hex(other), certpin_policy_id_hex(base));
    certpin_policy_free(other);

    for (i = 0; i < CASES_LEN(id_cases); i++) {
        int same;
        ids[i] = load_text(id_cases[i].json);
        same = strcmp(certpin_policy_id_hex(ids[i]), certpin_policy_id_hex(base)) == 0;
        if (same != id_cases[i].same) {
            print_error("%s: identity %s the base's\n", id_cases[i].name,
                        same ? "equals" : "differs from");
            fail();
        }
    }
    /* every change gives an identity of its own */
    for (i = 0; i < CASES_LEN(id_cases); i++) {
        for (j = i + 1; j < CASES_LEN(id_cases); j++) {
            if (!id_cases[i].same && !id_cases[j].same &&
                strcmp(certpin_policy_id_hex(ids[i]), certpin_policy_id_hex(ids[j])) == 0) {
                print_error("\"%s\" and \"%s\" have one identity\n", id_cases[i].name,
                            id_cases[j].name);
                fail();
            }
        }
    }
    for (i = 0; i < CASES_LEN(id_cases); i++) {
        certpin_policy_free(ids[i]);
    }
    certpin_policy_free(base);
}

/* ---- the builder: the loader's findings, entry by entry ------------------------------------- */

typedef struct dom_case {
    const char *name;
    const char *host;
    int include_subdomains;
    const char *pins[4];
    const char *deny[3];
    const char *expires;
    certpin_on_expiry on_expiry;
    certpin_mode mode;
    certpin_status status; /* of certpin_builder_add and of the load */
    const char *code;      /* the first finding's code; NULL: none */
} dom_case;

static const dom_case dom_cases[] = {
    {"builder: valid",
     "api.example.com",
     0,
     {P1S, P2S, NULL, NULL},
     {NULL, NULL, NULL},
     NULL,
     CERTPIN_ON_EXPIRY_UNPIN,
     CERTPIN_MODE_ENFORCE,
     CERTPIN_OK,
     NULL},
    {"builder: bad pin",
     "api.example.com",
     0,
     {P1S, "sha256/abc", NULL, NULL},
     {NULL, NULL, NULL},
     NULL,
     CERTPIN_ON_EXPIRY_UNPIN,
     CERTPIN_MODE_ENFORCE,
     CERTPIN_E_PIN,
     "bad-pin"},
    {"builder: hex pin",
     "api.example.com",
     0,
     {P1S, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", NULL, NULL},
     {NULL, NULL, NULL},
     NULL,
     CERTPIN_ON_EXPIRY_UNPIN,
     CERTPIN_MODE_ENFORCE,
     CERTPIN_E_PIN,
     "bad-pin"},
    {"builder: bad host",
     "api..example.com",
     0,
     {P1S, P2S, NULL, NULL},
     {NULL, NULL, NULL},
     NULL,
     CERTPIN_ON_EXPIRY_UNPIN,
     CERTPIN_MODE_ENFORCE,
     CERTPIN_E_HOST,
     "bad-host"},
    {"builder: wildcard on an address",
     "*.192.0.2.1",
     0,
     {P1S, P2S, NULL, NULL},
     {NULL, NULL, NULL},
     NULL,
     CERTPIN_ON_EXPIRY_UNPIN,
     CERTPIN_MODE_ENFORCE,
     CERTPIN_E_HOST,
     "bad-host"},
    {"builder: address",
     "192.0.2.1",
     0,
     {P1S, P2S, NULL, NULL},
     {NULL, NULL, NULL},
     NULL,
     CERTPIN_ON_EXPIRY_UNPIN,
     CERTPIN_MODE_ENFORCE,
     CERTPIN_OK,
     NULL},
    {"builder: duplicate pin",
     "api.example.com",
     0,
     {P1S, P1CS, NULL, NULL},
     {NULL, NULL, NULL},
     NULL,
     CERTPIN_ON_EXPIRY_UNPIN,
     CERTPIN_MODE_ENFORCE,
     CERTPIN_E_POLICY,
     "duplicate-pin"},
    {"builder: pinned and denied",
     "api.example.com",
     0,
     {P1S, P2S, NULL, NULL},
     {P2S, NULL, NULL},
     NULL,
     CERTPIN_ON_EXPIRY_UNPIN,
     CERTPIN_MODE_ENFORCE,
     CERTPIN_E_POLICY,
     "pinned-and-denied"},
    {"builder: deny pin",
     "api.example.com",
     0,
     {P1S, P2S, NULL, NULL},
     {P3S, NULL, NULL},
     NULL,
     CERTPIN_ON_EXPIRY_UNPIN,
     CERTPIN_MODE_ENFORCE,
     CERTPIN_OK,
     NULL},
    {"builder: no pins",
     "api.example.com",
     0,
     {NULL, NULL, NULL, NULL},
     {NULL, NULL, NULL},
     NULL,
     CERTPIN_ON_EXPIRY_UNPIN,
     CERTPIN_MODE_ENFORCE,
     CERTPIN_E_POLICY,
     "no-pins"},
    {"builder: no pins, report-only",
     "api.example.com",
     0,
     {NULL, NULL, NULL, NULL},
     {NULL, NULL, NULL},
     NULL,
     CERTPIN_ON_EXPIRY_UNPIN,
     CERTPIN_MODE_REPORT_ONLY,
     CERTPIN_E_POLICY,
     "no-pins"},
    {"builder: no pins, off",
     "api.example.com",
     0,
     {NULL, NULL, NULL, NULL},
     {NULL, NULL, NULL},
     NULL,
     CERTPIN_ON_EXPIRY_UNPIN,
     CERTPIN_MODE_OFF,
     CERTPIN_OK,
     "mode-off"},
    {"builder: one pin",
     "api.example.com",
     0,
     {P1S, NULL, NULL, NULL},
     {NULL, NULL, NULL},
     NULL,
     CERTPIN_ON_EXPIRY_UNPIN,
     CERTPIN_MODE_ENFORCE,
     CERTPIN_OK,
     "too-few-pins"},
    {"builder: public suffix",
     "*.co.uk",
     0,
     {P1S, P2S, NULL, NULL},
     {NULL, NULL, NULL},
     NULL,
     CERTPIN_ON_EXPIRY_UNPIN,
     CERTPIN_MODE_ENFORCE,
     CERTPIN_OK,
     "public-suffix"},
    {"builder: public suffix by include_subdomains",
     "github.io",
     1,
     {P1S, P2S, NULL, NULL},
     {NULL, NULL, NULL},
     NULL,
     CERTPIN_ON_EXPIRY_UNPIN,
     CERTPIN_MODE_ENFORCE,
     CERTPIN_OK,
     "public-suffix"},
    {"builder: bad expiry",
     "api.example.com",
     0,
     {P1S, P2S, NULL, NULL},
     {NULL, NULL, NULL},
     "2027-13-01",
     CERTPIN_ON_EXPIRY_UNPIN,
     CERTPIN_MODE_ENFORCE,
     CERTPIN_E_TIME,
     "bad-time"},
    {"builder: expired",
     "api.example.com",
     0,
     {P1S, P2S, NULL, NULL},
     {NULL, NULL, NULL},
     "2020-01-01",
     CERTPIN_ON_EXPIRY_ENFORCE,
     CERTPIN_MODE_ENFORCE,
     CERTPIN_OK,
     "expired"},
    {"builder: expires soon",
     "api.example.com",
     0,
     {P1S, P2S, NULL, NULL},
     {NULL, NULL, NULL},
     "SOON",
     CERTPIN_ON_EXPIRY_UNPIN,
     CERTPIN_MODE_ENFORCE,
     CERTPIN_OK,
     "expires-soon"},
    {"builder: expires later",
     "api.example.com",
     0,
     {P1S, P2S, NULL, NULL},
     {NULL, NULL, NULL},
     "2999-12-31",
     CERTPIN_ON_EXPIRY_UNPIN,
     CERTPIN_MODE_ENFORCE,
     CERTPIN_OK,
     NULL},
};

static const char *const mode_json[] = {"enforce", "report-only", "off"};
static const char *const on_expiry_json[] = {"unpin", "enforce"};

/* "SOON" stands for ten and a half days from now, for the expires-soon case. */
static const char *expiry_of(const dom_case *c, char *buf, size_t cap)
{
    time_t t;
    struct tm tm;
    if (c->expires == NULL || strcmp(c->expires, "SOON") != 0) {
        return c->expires;
    }
    t = time(NULL) + 10 * 86400 + 43200;
    assert_non_null(gmtime_r(&t, &tm));
    assert_true(strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) > 0);
    return buf;
}

static size_t count_of(const char *const *list, size_t cap)
{
    size_t n = 0;
    while (n < cap && list[n] != NULL) {
        n++;
    }
    return n;
}

/* The case as a policy text, made with jansson: a base entry, then the case's. */
static char *case_json(const dom_case *c, const char *expires)
{
    json_t *root;
    json_t *dom;
    json_t *pins = json_array();
    json_t *deny = json_array();
    char *text;
    size_t i;
    for (i = 0; i < count_of(c->pins, CASES_LEN(c->pins)); i++) {
        assert_int_equal(json_array_append_new(pins, json_string(c->pins[i])), 0);
    }
    for (i = 0; i < count_of(c->deny, CASES_LEN(c->deny)); i++) {
        assert_int_equal(json_array_append_new(deny, json_string(c->deny[i])), 0);
    }
    dom = json_pack("{s:s, s:b, s:o, s:o, s:s, s:s}", "host", c->host, "include_subdomains",
                    c->include_subdomains, "pins", pins, "deny", deny, "mode", mode_json[c->mode],
                    "on_expiry", on_expiry_json[c->on_expiry]);
    assert_non_null(dom);
    if (expires != NULL) {
        assert_int_equal(json_object_set_new(dom, "expires", json_string(expires)), 0);
    }
    root = json_pack("{s:i, s:[{s:s, s:[s,s]}, o]}", "certpin", 1, "domains", "host",
                     "base.example.net", "pins", P3S, P4S, dom);
    assert_non_null(root);
    text = json_dumps(root, JSON_INDENT(2));
    assert_non_null(text);
    json_decref(root);
    return text;
}

static void test_builder_case(void **state)
{
    static const char *const base_pins[] = {P3S, P4S};
    const dom_case *c = *state;
    char soon[40];
    const char *expires = expiry_of(c, soon, sizeof(soon));
    char *text = case_json(c, expires);
    certpin_builder *b = certpin_builder_new();
    certpin_domain base;
    certpin_domain d;
    certpin_error lerr;
    certpin_error berr;
    certpin_error perr;
    certpin_policy *loaded;
    certpin_policy *built;
    certpin_policy *before;
    certpin_status st;
    const certpin_diags *lw;
    const certpin_diags *bw;
    size_t i;

    assert_non_null(b);
    memset(&base, 0, sizeof(base));
    base.host = "base.example.net";
    base.pins = base_pins;
    base.pin_count = 2;
    assert_int_equal(certpin_builder_add(b, &base, &berr), CERTPIN_OK);
    before = certpin_builder_build(b, &berr);
    assert_non_null(before);

    memset(&d, 0, sizeof(d));
    d.host = c->host;
    d.include_subdomains = c->include_subdomains;
    d.pins = c->pins;
    d.pin_count = count_of(c->pins, CASES_LEN(c->pins));
    d.deny = c->deny;
    d.deny_count = count_of(c->deny, CASES_LEN(c->deny));
    d.expires = expires;
    d.on_expiry = c->on_expiry;
    d.mode = c->mode;
    memset(&berr, 0, sizeof(berr));
    st = certpin_builder_add(b, &d, &berr);
    /* the loader, with the same "now" as the builder (the current time) */
    loaded = certpin_policy_load_buffer(text, strlen(text), "builder.json", NULL, &lerr);
    if (st != c->status || (loaded == NULL) != (c->status != CERTPIN_OK)) {
        print_error("%s: builder %d (%s), loader %s (%s), want %d\n%s\n", c->name, (int)st,
                    berr.text, loaded != NULL ? "loaded" : "refused", lerr.text, (int)c->status,
                    text);
        fail();
    }
    built = certpin_builder_build(b, &perr);
    assert_non_null(built);
    if (st != CERTPIN_OK) {
        /* the same error, word for word; and the failed add changed nothing */
        assert_int_equal(berr.status, lerr.status);
        assert_string_equal(berr.path, lerr.path);
        assert_string_equal(berr.text, lerr.text);
        assert_int_equal(certpin_policy_entry_count(built), 1);
        assert_string_equal(certpin_policy_id_hex(built), certpin_policy_id_hex(before));
        assert_int_equal(certpin_diags_count(certpin_policy_warnings(built)), 0);
    } else {
        /* the same policy, with the same warnings and notes */
        assert_int_equal(certpin_policy_entry_count(built), 2);
        assert_string_equal(certpin_policy_id_hex(built), certpin_policy_id_hex(loaded));
        lw = certpin_policy_warnings(loaded);
        bw = certpin_policy_warnings(built);
        assert_int_equal(certpin_diags_count(bw), certpin_diags_count(lw));
        for (i = 0; i < certpin_diags_count(lw); i++) {
            const certpin_diag *x = certpin_diags_get(lw, i);
            const certpin_diag *y = certpin_diags_get(bw, i);
            assert_int_equal(x->severity, y->severity);
            assert_string_equal(x->code, y->code);
            assert_string_equal(x->path, y->path);
            assert_string_equal(x->message, y->message);
            assert_string_equal(y->source, "<builder>");
        }
        if (c->code != NULL) {
            assert_true(certpin_diags_count(bw) > 0);
            assert_string_equal(certpin_diags_get(bw, 0)->code, c->code);
        } else {
            assert_int_equal(certpin_diags_count(bw), 0);
        }
    }
    certpin_policy_free(before);
    certpin_policy_free(built);
    certpin_policy_free(loaded);
    certpin_builder_free(b);
    free(text);
}

/* build leaves the builder usable and unchanged; policies built earlier do not change. */
static void test_builder_reuse(void **state)
{
    static const char *const pins[] = {P1S, P2S};
    certpin_builder *b = certpin_builder_new();
    certpin_domain d;
    certpin_error err;
    certpin_policy *p0;
    certpin_policy *p1;
    certpin_policy *p2;
    char id1[65];
    (void)state;
    assert_non_null(b);
    p0 = certpin_builder_build(b, &err);
    assert_non_null(p0);
    assert_int_equal(certpin_policy_entry_count(p0), 0);
    assert_string_equal(certpin_policy_source(p0), "<builder>");

    memset(&d, 0, sizeof(d));
    d.host = "api.example.com";
    d.pins = pins;
    d.pin_count = 2;
    assert_int_equal(certpin_builder_add(b, &d, &err), CERTPIN_OK);
    p1 = certpin_builder_build(b, &err);
    assert_non_null(p1);
    (void)snprintf(id1, sizeof(id1), "%s", certpin_policy_id_hex(p1));
    p2 = certpin_builder_build(b, &err);
    assert_non_null(p2);
    assert_true(p1 != p2);
    assert_string_equal(certpin_policy_id_hex(p2), id1);
    certpin_policy_free(p2);

    d.host = "www.example.com";
    assert_int_equal(certpin_builder_add(b, &d, &err), CERTPIN_OK);
    p2 = certpin_builder_build(b, &err);
    assert_non_null(p2);
    assert_int_equal(certpin_policy_entry_count(p2), 2);
    assert_int_equal(certpin_policy_entry_count(p1), 1);
    assert_string_equal(certpin_policy_id_hex(p1), id1);
    assert_string_not_equal(certpin_policy_id_hex(p2), id1);
    assert_string_not_equal(certpin_policy_id_hex(p0), id1);
    /* the builder outlives its policies' use of it */
    certpin_builder_free(b);
    assert_string_equal(certpin_entry_pattern(certpin_policy_entry(p2, 1)), "www.example.com");
    certpin_policy_free(p0);
    certpin_policy_free(p1);
    certpin_policy_free(p2);
}

/* Two entries with one pattern: build refuses, as the loader does, with the same words. */
static void test_builder_duplicate_pattern(void **state)
{
    static const char *const pins[] = {P1S, P2S};
    static const char json[] = HEAD HOST("api.example.com") "," HOST("API.example.com.") TAIL;
    certpin_builder *b = certpin_builder_new();
    certpin_domain d;
    certpin_error berr;
    certpin_error lerr;
    (void)state;
    assert_non_null(b);
    memset(&d, 0, sizeof(d));
    d.host = "api.example.com";
    d.pins = pins;
    d.pin_count = 2;
    assert_int_equal(certpin_builder_add(b, &d, &berr), CERTPIN_OK);
    d.host = "API.example.com.";
    assert_int_equal(certpin_builder_add(b, &d, &berr), CERTPIN_OK);
    assert_null(certpin_builder_build(b, &berr));
    assert_null(certpin_policy_load_buffer(json, strlen(json), NULL, NULL, &lerr));
    assert_int_equal(berr.status, CERTPIN_E_POLICY);
    assert_int_equal(berr.status, lerr.status);
    assert_string_equal(berr.path, "domains[1].host");
    assert_string_equal(berr.path, lerr.path);
    assert_string_equal(berr.text, lerr.text);
    certpin_builder_free(b);
}

static void test_builder_arguments(void **state)
{
    static const char *const pins[] = {P1S, P2S};
    certpin_builder *b = certpin_builder_new();
    certpin_domain d;
    certpin_error err;
    certpin_policy *p;
    (void)state;
    assert_non_null(b);
    assert_int_equal(certpin_builder_set_unpinned(b, (certpin_unpinned)2), CERTPIN_E_ARG);
    assert_int_equal(certpin_builder_set_unpinned(NULL, CERTPIN_UNPINNED_DENY), CERTPIN_E_ARG);
    assert_int_equal(certpin_builder_add(b, NULL, &err), CERTPIN_E_ARG);
    memset(&d, 0, sizeof(d));
    d.host = "api.example.com";
    d.pins = pins;
    d.pin_count = 2;
    d.mode = (certpin_mode)3;
    assert_int_equal(certpin_builder_add(b, &d, &err), CERTPIN_E_ARG);
    d.mode = CERTPIN_MODE_ENFORCE;
    d.on_expiry = (certpin_on_expiry)2;
    assert_int_equal(certpin_builder_add(b, &d, &err), CERTPIN_E_ARG);
    d.on_expiry = CERTPIN_ON_EXPIRY_UNPIN;
    d.pins = NULL;
    assert_int_equal(certpin_builder_add(b, &d, &err), CERTPIN_E_ARG);
    d.pins = pins;
    d.deny_count = 1;
    assert_int_equal(certpin_builder_add(b, &d, &err), CERTPIN_E_ARG);
    d.deny_count = 0;
    d.host = NULL;
    assert_int_equal(certpin_builder_add(b, &d, &err), CERTPIN_E_POLICY);
    /* none of those added anything */
    p = certpin_builder_build(b, &err);
    assert_non_null(p);
    assert_int_equal(certpin_policy_entry_count(p), 0);
    assert_int_equal(certpin_policy_unpinned(p), CERTPIN_UNPINNED_ALLOW);
    certpin_policy_free(p);
    assert_null(certpin_builder_build(NULL, &err));
    assert_int_equal(err.status, CERTPIN_E_ARG);
    certpin_builder_free(b);
    certpin_builder_free(NULL);
}

/* ---- references ----------------------------------------------------------------------------- */

static void test_refcount(void **state)
{
    certpin_policy *p = load_text(ID_BASE);
    char id[65];
    (void)state;
    (void)snprintf(id, sizeof(id), "%s", certpin_policy_id_hex(p));
    assert_ptr_equal(certpin_policy_ref(p), p);
    assert_ptr_equal(certpin_policy_ref(p), p);
    certpin_policy_free(p);
    certpin_policy_free(p);
    /* one reference left: still whole */
    assert_string_equal(certpin_policy_id_hex(p), id);
    assert_int_equal(certpin_policy_entry_count(p), 4);
    assert_string_equal(certpin_entry_pattern(certpin_policy_entry(p, 1)), "*.cdn.example.com");
    certpin_policy_free(p);
    assert_null(certpin_policy_ref(NULL));
    certpin_policy_free(NULL);
}

/* ---- main ----------------------------------------------------------------------------------- */

#define MAX_TESTS 256

static void add_case(struct CMUnitTest *tests, size_t *n, const char *name, CMUnitTestFunction f,
                     const void *state)
{
    assert_true(*n < MAX_TESTS);
    tests[*n].name = name;
    tests[*n].test_func = f;
    tests[*n].setup_func = NULL;
    tests[*n].teardown_func = NULL;
    tests[*n].initial_state = (void *)state;
    (*n)++;
}

int main(void)
{
    static struct CMUnitTest tests[MAX_TESTS];
    size_t n = 0;
    size_t i;

    for (i = 0; i < CASES_LEN(load_cases); i++) {
        add_case(tests, &n, load_cases[i].name, test_load_case, &load_cases[i]);
    }
    add_case(tests, &n, "buffer length", test_load_buffer_length, NULL);
    add_case(tests, &n, "missing file", test_load_missing_file, NULL);
    add_case(tests, &n, "directory", test_load_directory, NULL);
    add_case(tests, &n, "NUL byte", test_load_nul_byte, NULL);
    add_case(tests, &n, "entries", test_entries, NULL);
    add_case(tests, &n, "identity", test_identity, NULL);
    for (i = 0; i < CASES_LEN(dom_cases); i++) {
        add_case(tests, &n, dom_cases[i].name, test_builder_case, &dom_cases[i]);
    }
    add_case(tests, &n, "builder reuse", test_builder_reuse, NULL);
    add_case(tests, &n, "builder duplicate pattern", test_builder_duplicate_pattern, NULL);
    add_case(tests, &n, "builder arguments", test_builder_arguments, NULL);
    add_case(tests, &n, "refcount", test_refcount, NULL);
    return _cmocka_run_group_tests("test_policy_load", tests, n, NULL, NULL);
}
