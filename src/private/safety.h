/* Guard macros: the failure path is the visible one (after s2n-tls's safety macros). */
#ifndef CP_SAFETY_H
#define CP_SAFETY_H

/* Return the status of x if it is not CERTPIN_OK. */
#define CP_GUARD(x)                                                                                \
    do {                                                                                           \
        certpin_status cp_guard_st_ = (x);                                                         \
        if (cp_guard_st_ != CERTPIN_OK) {                                                          \
            return cp_guard_st_;                                                                   \
        }                                                                                          \
    } while (0)

/* Return st if cond does not hold. */
#define CP_ENSURE(cond, st)                                                                        \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            return (st);                                                                           \
        }                                                                                          \
    } while (0)

/* Return NULL if p is NULL. */
#define CP_ENSURE_REF(p, st) CP_ENSURE((p) != NULL, st)

#define CP_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif /* CP_SAFETY_H */
