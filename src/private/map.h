/* The policy's index: one open-addressing hash table from (match kind, canonical base name) to an
 * entry, at most half full, 16 bytes a slot. Keys are not copied: a slot names its key by its
 * place in the policy's string pool, and its entry by number.
 *
 * In a table far larger than the caches, a lookup of several keys (the suffixes of a host) can ask
 * for every slot it will probe (cp_map_prefetch) before it compares any: it then waits for memory
 * about once, not once per probe. */
#ifndef CP_MAP_H
#define CP_MAP_H

#include <stddef.h>
#include <stdint.h>

#include "certpin/core.h"

/* The longest key, and the most labels a canonical name (253 characters) has. */
#define CP_MAP_KEY_MAX 255
#define CP_NAME_MAX_LABELS 128

typedef struct cp_map_slot {
    uint32_t tag;    /* the high half of the key's hash */
    uint32_t value;  /* the entry's number */
    uint32_t key_at; /* where the key is in the pool */
    uint8_t key_len; /* 0: an empty slot (no key is empty) */
    uint8_t kind;    /* certpin_match */
    uint16_t unused;
} cp_map_slot;

typedef struct cp_map {
    size_t cap; /* a power of two, or 0 */
    size_t count;
    cp_map_slot *slots;
    const char *pool; /* the keys (borrowed) */
} cp_map;

#define CP_MAP_NONE SIZE_MAX

/* Sizes the map for n keys in pool (load factor <= 1/2). */
certpin_status cp_map_init(cp_map *m, size_t n, const char *pool);
void cp_map_clear(cp_map *m);

/* The hash of the key (kind, key[0..len)). */
uint64_t cp_map_hash(const char *key, size_t len, certpin_match kind);

/* Inserts the key pool[key_at..key_at+key_len) of kind -> value. If the key is there, leaves the
 * map unchanged and sets *existing to the value already there (else CP_MAP_NONE). */
certpin_status cp_map_put(cp_map *m, uint64_t hash, size_t key_at, size_t key_len,
                          certpin_match kind, size_t value, size_t *existing);
/* Non-zero when the map is large enough that its slots are unlikely to be in the caches: then a
 * lookup of several keys gains from cp_map_prefetch. */
int cp_map_is_large(const cp_map *m);
/* Asks the processor for the slot where a lookup of hash starts. */
void cp_map_prefetch(const cp_map *m, uint64_t hash);
/* The value of (kind, key[0..key_len)), or CP_MAP_NONE. */
size_t cp_map_get(const cp_map *m, uint64_t hash, const char *key, size_t key_len,
                  certpin_match kind);

#endif /* CP_MAP_H */
