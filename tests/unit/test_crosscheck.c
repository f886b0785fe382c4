/* cp_json_crosscheck (src/core/crosscheck.c): yajl's reading of a text is compared with jansson's
 * tree. The same text agrees, whatever its shape (nesting, escapes, Unicode, numbers, literals);
 * a tree that differs from the text in any one value, key, order or count does not, which is
 * what a byte lost inside jansson looks like. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <jansson.h>

#include "private/policy.h"

static int agree(const char *tree_text, const char *text)
{
    json_error_t e;
    json_t *root = json_loads(tree_text, JSON_REJECT_DUPLICATES, &e);
    int r;
    assert_non_null(root);
    r = cp_json_crosscheck(text, strlen(text), root);
    json_decref(root);
    return r;
}

static const char *const same[] = {
    "{}",
    "[]",
    "{\"certpin\": 1, \"domains\": [{\"host\": \"api.example.com\", \"pins\": [\"a\", \"b\"]}]}",
    "{\"a\": [1, -2, 3.5, 1e3, -0, true, false, null, \"\"], \"b\": {\"c\": {\"d\": []}}}",
    "{\"esc\": \"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\", \"utf8\": \"fa\xc3\x9f.de\"}",
    "[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]",
    "{\"z\": 1, \"a\": 2, \"m\": 3}",
};

/* {tree, text}: jansson's tree of the first, yajl's reading of the second */
static const char *const differ[][2] = {
    {"{\"host\": \"api.example.co\"}", "{\"host\": \"api.example.com\"}"},
    {"{\"host\": \"api.example.com\"}", "{\"host\": \"api.example.co\"}"},
    {"{\"hos\": \"x\"}", "{\"host\": \"x\"}"},
    {"{\"a\": 1, \"b\": 2}", "{\"b\": 2, \"a\": 1}"},
    {"{\"a\": 1}", "{\"a\": 1, \"b\": 2}"},
    {"{\"a\": 1, \"b\": 2}", "{\"a\": 1}"},
    {"[1, 2]", "[1, 2, 3]"},
    {"[1, 2, 3]", "[1, 2]"},
    {"[1]", "[2]"},
    {"[1]", "[1.0]"},
    {"[1.5]", "[1.25]"},
    {"[true]", "[false]"},
    {"[null]", "[0]"},
    {"[\"1\"]", "[1]"},
    {"[[]]", "[{}]"},
    {"{\"a\": \"x\"}", "{\"a\": \"x\\u0000\"}"},
    {"[]", "[] []"},
    {"[]", "[1"},
};

static void test_same(void **state)
{
    size_t i;
    (void)state;
    for (i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
        if (!agree(same[i], same[i])) {
            fail_msg("disagree on %s", same[i]);
        }
    }
}

static void test_differ(void **state)
{
    size_t i;
    (void)state;
    for (i = 0; i < sizeof(differ) / sizeof(differ[0]); i++) {
        if (agree(differ[i][0], differ[i][1])) {
            fail_msg("agree on tree %s and text %s", differ[i][0], differ[i][1]);
        }
    }
}

int main(void)
{
    static const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same),
        cmocka_unit_test(test_differ),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
