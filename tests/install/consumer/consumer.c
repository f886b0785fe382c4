/* A program outside the tree that uses the installed certpin. */
#include <stdio.h>

#include <certpin/certpin.h>

int main(void)
{
    unsigned char pin[CERTPIN_PIN_LEN];
    char text[CERTPIN_PIN_STR_MAX];
    static const unsigned char spki[] = {0x30, 0x00};
    if (certpin_pin_from_spki(spki, sizeof(spki), pin) != CERTPIN_OK ||
        certpin_pin_format(pin, CERTPIN_PIN_OKHTTP, text, sizeof(text)) != CERTPIN_OK) {
        return 1;
    }
    printf("certpin %s %s\n", certpin_version(), text);
    return 0;
}
