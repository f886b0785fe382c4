/* The runtime version. */
#include "certpin/core.h"

const char *certpin_version(void) { return CERTPIN_VERSION_STRING; }
