/* certpin: configuring the OpenSSL crypto backend (FIPS provider users). */
#ifndef CERTPIN_CRYPTO_OPENSSL_H
#define CERTPIN_CRYPTO_OPENSSL_H

#include <openssl/types.h>

#include "core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Makes certpin fetch SHA-256 from libctx with the property query propq (both may be NULL: the
 * default library context and no query), e.g. a library context with only the FIPS provider
 * loaded and propq "fips=yes". Call it once, before any other certpin call; libctx is kept and
 * must outlive every certpin use. Returns CERTPIN_E_CRYPTO when SHA-256 cannot be fetched there
 * (nothing changes then), CERTPIN_E_ARG when certpin already fetched its digest. */
CERTPIN_API certpin_status certpin_crypto_openssl_configure(OSSL_LIB_CTX *libctx,
                                                            const char *propq);

#ifdef __cplusplus
}
#endif

#endif /* CERTPIN_CRYPTO_OPENSSL_H */
