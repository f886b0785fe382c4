/* certpin: certificate and public-key pinning for C programs.
 *
 * Conventions (they hold for every certpin function unless its comment says otherwise):
 *
 * Ownership. A function named *_new, *_load_*, *_build or *_get_policy returns an object you own
 *   (one reference); release it with the matching *_free (which is NULL-safe). *_ref takes one more
 *   reference. Pointers returned by accessors are borrowed from the object they came from and live
 *   as long as it does. Pointer parameters are borrowed for the duration of the call and copied if
 *   kept, except where a comment says "kept" (then it says for how long).
 * NULL. Pointer parameters must not be NULL unless the comment says "may be NULL". Functions that
 *   take a certpin_error * accept NULL there.
 * Errors. Functions return a certpin_status (CERTPIN_OK is 0) or NULL, and fill certpin_error
 *   with what is wrong, where in the input (file, line, column, JSON path) and what to do. A failed
 *   call changes nothing.
 * Threads. Policies are immutable once loaded and may be shared between threads; contexts are
 *   thread-safe (the policy can be swapped while connections run); results are per connection.
 * Time. Times are seconds since the Unix epoch, UTC, as int64_t.
 * Pins. A pin is SHA-256 over a certificate's DER SubjectPublicKeyInfo (RFC 7469), written
 *   "sha256/<base64>"; curl's "sha256//<base64>" is accepted on input.
 *
 * Pinning narrows what a client accepts on top of normal certificate validation, never instead of
 * it: adapters always run the TLS stack's own chain and host name verification first.
 */
#ifndef CERTPIN_H
#define CERTPIN_H

#include "core.h"

#endif /* CERTPIN_H */
