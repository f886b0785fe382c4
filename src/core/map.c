/* The lookup map. The hash is FNV-1a: policy keys come from the application's own policy, and a
 * lookup costs a bounded number of probes (one per label of the host), so a keyed hash buys
 * nothing here. */
#include <stdlib.h>
#include <string.h>

#include "private/map.h"

static uint64_t hash_bytes(const char *key, size_t len)
{
    uint64_t h = 14695981039346656037ull;
    size_t i;
    for (i = 0; i < len; i++) {
        h ^= (unsigned char)key[i];
        h *= 1099511628211ull;
    }
    return h;
}

certpin_status cp_map_init(cp_map *m, size_t n)
{
    size_t cap = 8;
    memset(m, 0, sizeof(*m));
    while (cap < n * 2) {
        if (cap > SIZE_MAX / 4 / sizeof(cp_map_slot)) {
            return CERTPIN_E_NOMEM;
        }
        cap *= 2;
    }
    m->slots = calloc(cap, sizeof(cp_map_slot));
    if (m->slots == NULL) {
        return CERTPIN_E_NOMEM;
    }
    m->cap = cap;
    return CERTPIN_OK;
}

void cp_map_clear(cp_map *m)
{
    free(m->slots);
    memset(m, 0, sizeof(*m));
}

certpin_status cp_map_put(cp_map *m, const char *key, size_t key_len, void *value, void **existing)
{
    uint64_t h = hash_bytes(key, key_len);
    size_t mask;
    size_t i;

    *existing = NULL;
    if (m->cap == 0 || (m->count + 1) * 2 > m->cap) {
        return CERTPIN_E_INTERNAL; /* sized by cp_map_init for every key */
    }
    mask = m->cap - 1;
    for (i = (size_t)h & mask;; i = (i + 1) & mask) {
        cp_map_slot *s = &m->slots[i];
        if (s->key == NULL) {
            s->hash = h;
            s->key = key;
            s->key_len = key_len;
            s->value = value;
            m->count++;
            return CERTPIN_OK;
        }
        if (s->hash == h && s->key_len == key_len && memcmp(s->key, key, key_len) == 0) {
            *existing = s->value;
            return CERTPIN_OK;
        }
    }
}

void *cp_map_get(const cp_map *m, const char *key, size_t key_len)
{
    uint64_t h;
    size_t mask;
    size_t i;

    if (m->count == 0) {
        return NULL;
    }
    h = hash_bytes(key, key_len);
    mask = m->cap - 1;
    for (i = (size_t)h & mask;; i = (i + 1) & mask) {
        const cp_map_slot *s = &m->slots[i];
        if (s->key == NULL) {
            return NULL;
        }
        if (s->hash == h && s->key_len == key_len && memcmp(s->key, key, key_len) == 0) {
            return s->value;
        }
    }
}
