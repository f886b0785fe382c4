/* cp_sha256_run_* (private/crypto.h) for the backends that have no cheaper way to hash several
 * keys in a row than one cp_sha256 call each (mbedTLS's and GnuTLS's one-shot functions keep no
 * per-thread state and no error queue). The OpenSSL backend has its own. */
#include "private/crypto.h"

certpin_status cp_sha256_run_begin(cp_sha256_run *run)
{
    run->ctx = NULL;
    run->status = CERTPIN_OK;
    return CERTPIN_OK;
}

certpin_status cp_sha256_run_next(cp_sha256_run *run, const unsigned char *data, size_t len,
                                  unsigned char out[32])
{
    if (run->status != CERTPIN_OK) {
        return run->status;
    }
    return cp_sha256(data, len, out);
}
