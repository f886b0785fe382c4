/* certpin: export macro. Everything not marked CERTPIN_API is hidden in the shared library. */
#ifndef CERTPIN_EXPORT_H
#define CERTPIN_EXPORT_H

#if defined(CERTPIN_STATIC)
#define CERTPIN_API
#elif defined(__GNUC__) || defined(__clang__)
#define CERTPIN_API __attribute__((visibility("default")))
#else
#define CERTPIN_API
#endif

#if defined(__GNUC__) || defined(__clang__)
#define CERTPIN_WARN_UNUSED __attribute__((warn_unused_result))
#else
#define CERTPIN_WARN_UNUSED
#endif

#endif /* CERTPIN_EXPORT_H */
