/* Fuzz target: the input of `certpin pin`: certificates, public keys, private keys and CSRs, PEM
 * (any number of blocks) or DER (concatenated objects). Exercises cli_items_parse (src/cli/items.c,
 * OpenSSL's PEM and DER decoders behind it), cli_item_pin and cli_item_describe on everything it
 * recognised. Property: every recognised item has a pin. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cli_items items;
    size_t i;
    memset(&items, 0, sizeof(items));
    (void)cli_items_parse("fuzz-input", data, size, &items);
    for (i = 0; i < items.count; i++) {
        unsigned char pin[CERTPIN_PIN_LEN];
        char what[256];
        if (cli_item_pin(&items.items[i], pin) != CERTPIN_OK) {
            abort();
        }
        cli_item_describe(&items.items[i], what, sizeof(what));
    }
    cli_items_free(&items);
    return 0;
}
