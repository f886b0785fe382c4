/* Fuzz target: a pin string. Exercises certpin_pin_parse (prefixes, curl's form, base64 through
 * the crypto backend, length and canonical-form checks) and certpin_pin_format. Properties: a pin
 * that parses formats back to the same bytes in every style, and the OkHttp and curl forms of
 * those bytes parse to them again; a refused pin leaves a message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "certpin/certpin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    unsigned char pin[CERTPIN_PIN_LEN];
    unsigned char back[CERTPIN_PIN_LEN];
    char out[CERTPIN_PIN_STR_MAX];
    certpin_error err;
    if (text == NULL) {
        return 0;
    }
    memcpy(text, data, size);
    text[size] = '\0';
    if (certpin_pin_parse(text, pin, &err) != CERTPIN_OK) {
        if (err.text[0] == '\0') {
            abort();
        }
        free(text);
        return 0;
    }
    if (certpin_pin_format(pin, CERTPIN_PIN_OKHTTP, out, sizeof(out)) != CERTPIN_OK ||
        certpin_pin_parse(out, back, NULL) != CERTPIN_OK || memcmp(pin, back, sizeof(pin)) != 0) {
        abort();
    }
    if (certpin_pin_format(pin, CERTPIN_PIN_CURL, out, sizeof(out)) != CERTPIN_OK ||
        certpin_pin_parse(out, back, NULL) != CERTPIN_OK || memcmp(pin, back, sizeof(pin)) != 0) {
        abort();
    }
    if (certpin_pin_format(pin, CERTPIN_PIN_HEX, out, sizeof(out)) != CERTPIN_OK ||
        strlen(out) != 64) {
        abort();
    }
    free(text);
    return 0;
}
