/* certpin pin: the pin of every certificate, public key, private key and CSR in some files. */
#include <getopt.h>
#include <string.h>

#include "cli.h"

typedef enum pin_format { FORMAT_OKHTTP = 0, FORMAT_CURL, FORMAT_HEX, FORMAT_JSON } pin_format;

void cli_help_pin(FILE *out)
{
    fputs("Usage: certpin pin [--format okhttp|curl|hex|json] FILE...\n"
          "\n"
          "Prints the pin (SHA-256 of the DER SubjectPublicKeyInfo, RFC 7469) of every item in\n"
          "each FILE ('-' reads standard input): certificates (PEM or DER, bundles of many),\n"
          "public keys (PUBLIC KEY, RSA PUBLIC KEY, DER SPKI), private keys (PKCS#8 or\n"
          "traditional RSA/EC/DSA, PEM or DER: the pin of the public half) and CSRs.\n"
          "One line per item: the pin, two spaces, what the item is.\n"
          "\n"
          "Options:\n"
          "  -f, --format FORMAT  okhttp: sha256/BASE64 (the default, as in a policy)\n"
          "                       curl:   sha256//BASE64 (curl --pinnedpubkey)\n"
          "                       hex:    64 hexadecimal digits\n"
          "                       json:   a JSON array of {file, index, kind, description,\n"
          "                               pin, spki_sha256_hex} (see json-output.md)\n"
          "  -h, --help           show this help\n"
          "\n"
          "Exit status: 0 every file gave its pins, 1 a file failed (unreadable, nothing\n"
          "recognisable, an encrypted key, a block that does not parse), 2 usage error.\n",
          out);
}

static int parse_format(const char *text, pin_format *out)
{
    static const struct {
        const char *name;
        pin_format format;
    } formats[] = {
        {"okhttp", FORMAT_OKHTTP},
        {"curl", FORMAT_CURL},
        {"hex", FORMAT_HEX},
        {"json", FORMAT_JSON},
    };
    size_t i;

    for (i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
        if (strcmp(text, formats[i].name) == 0) {
            *out = formats[i].format;
            return 0;
        }
    }
    return -1;
}

static certpin_pin_style style_of(pin_format format)
{
    switch (format) {
    case FORMAT_CURL: return CERTPIN_PIN_CURL;
    case FORMAT_HEX: return CERTPIN_PIN_HEX;
    case FORMAT_OKHTTP:
    case FORMAT_JSON:
    default: return CERTPIN_PIN_OKHTTP;
    }
}

static json_t *item_json(const char *file, size_t index, const cli_item *item,
                         const unsigned char pin[CERTPIN_PIN_LEN], const char *description)
{
    char okhttp[CLI_PIN_BUF];
    char hex[CLI_PIN_BUF];
    json_t *obj = json_object();

    cli_pin_text(pin, CERTPIN_PIN_OKHTTP, okhttp, sizeof(okhttp));
    cli_pin_text(pin, CERTPIN_PIN_HEX, hex, sizeof(hex));
    if (obj == NULL || json_object_set_new(obj, "file", cli_json_string(file)) != 0 ||
        json_object_set_new(obj, "index", json_integer((json_int_t)index)) != 0 ||
        json_object_set_new(obj, "kind", json_string(cli_item_kind_str(item->kind))) != 0 ||
        json_object_set_new(obj, "description", cli_json_string(description)) != 0 ||
        json_object_set_new(obj, "pin", json_string(okhttp)) != 0 ||
        json_object_set_new(obj, "spki_sha256_hex", json_string(hex)) != 0) {
        json_decref(obj);
        return NULL;
    }
    return obj;
}

/* Pins every item of one file: printed, or appended to array. Returns the number of failures. */
static int pin_file(const char *path, pin_format format, json_t *array)
{
    cli_items items;
    size_t i;
    int failures;

    memset(&items, 0, sizeof(items));
    failures = cli_items_read(path, &items);
    if (failures < 0) {
        return 1;
    }
    for (i = 0; i < items.count; i++) {
        unsigned char pin[CERTPIN_PIN_LEN];
        char text[CLI_PIN_BUF];
        char description[1024];
        certpin_status st = cli_item_pin(&items.items[i], pin);

        if (st != CERTPIN_OK) {
            cli_error("%s: item %zu (%s): cannot compute its pin: %s", cli_input_name(path), i,
                      cli_item_kind_str(items.items[i].kind), certpin_status_str(st));
            failures++;
            continue;
        }
        cli_item_describe(&items.items[i], description, sizeof(description));
        if (format == FORMAT_JSON) {
            if (json_array_append_new(array,
                                      item_json(path, i, &items.items[i], pin, description)) != 0) {
                cli_error("out of memory");
                failures++;
            }
            continue;
        }
        cli_pin_text(pin, style_of(format), text, sizeof(text));
        printf("%s  %s\n", text, description);
    }
    cli_items_free(&items);
    return failures;
}

int cli_cmd_pin(int argc, char **argv)
{
    static const struct option options[] = {
        {"format", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    pin_format format = FORMAT_OKHTTP;
    json_t *array = NULL;
    int failures = 0;
    int c;
    int i;

    opterr = 0;
    while ((c = getopt_long(argc, argv, ":f:h", options, NULL)) != -1) {
        switch (c) {
        case 'f':
            if (parse_format(optarg, &format) != 0) {
                return cli_usage_error("pin", "unknown format '%s' (okhttp, curl, hex or json)",
                                       optarg);
            }
            break;
        case 'h': cli_help_pin(stdout); return CLI_EXIT_OK;
        default: return cli_bad_option("pin", c, argv);
        }
    }
    if (optind >= argc) {
        return cli_usage_error("pin", "no FILE given ('-' reads standard input)");
    }
    if (format == FORMAT_JSON) {
        array = json_array();
        if (array == NULL) {
            cli_error("out of memory");
            return CLI_EXIT_FAIL;
        }
    }
    for (i = optind; i < argc; i++) {
        failures += pin_file(argv[i], format, array);
    }
    if (array != NULL && cli_json_print(array) != 0) {
        failures++;
    }
    return failures > 0 ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}
