/* A string-keyed open-addressing hash map for policy lookup: O(1) per probe whatever the number
 * of entries. Keys are borrowed (they live in the entries the map indexes). */
#ifndef CP_MAP_H
#define CP_MAP_H

#include <stddef.h>
#include <stdint.h>

#include "certpin/core.h"

typedef struct cp_map_slot {
    uint64_t hash;
    const char *key; /* NULL: empty slot */
    size_t key_len;
    void *value;
} cp_map_slot;

typedef struct cp_map {
    size_t cap;   /* a power of two, or 0 */
    size_t count;
    cp_map_slot *slots;
} cp_map;

/* Sizes the map for n keys (load factor <= 1/2). */
certpin_status cp_map_init(cp_map *m, size_t n);
void cp_map_clear(cp_map *m);
/* Inserts key -> value. If the key is present, leaves the map unchanged and sets *existing to
 * the value already there (the caller reports the duplicate). */
certpin_status cp_map_put(cp_map *m, const char *key, size_t key_len, void *value, void **existing);
/* The value for key[0..key_len), or NULL. */
void *cp_map_get(const cp_map *m, const char *key, size_t key_len);

#endif /* CP_MAP_H */
