/* The lookup map. The hash mixes eight bytes at a time (multiply and shift, with the finaliser of
 * MurmurHash3): policy keys come from the application's own policy, and a lookup costs a bounded
 * number of probes (one per label of the host), so a keyed hash buys nothing here, while a hash
 * over bytes one at a time would cost as much as the rest of the lookup. */
#include <stdlib.h>
#include <string.h>

#include "private/map.h"

static uint64_t read64(const char *p)
{
    uint64_t w;
    memcpy(&w, p, sizeof(w));
    return w;
}

static uint64_t read32(const char *p)
{
    uint32_t w;
    memcpy(&w, p, sizeof(w));
    return w;
}

static uint64_t hash_bytes(const char *key, size_t len)
{
    uint64_t h = 0x9e3779b97f4a7c15ull ^ (uint64_t)len;
    size_t i = 0;
    uint64_t tail;
    for (; i + 8 <= len; i += 8) {
        h = (h ^ read64(key + i)) * 0xbf58476d1ce4e5b9ull;
        h ^= h >> 31;
    }
    /* The last 1 to 7 bytes, read as overlapping words rather than byte by byte (the length is
     * already in h, so overlaps cannot make two keys alike). */
    if (i < len) {
        size_t rest = len - i;
        if (len >= 8) {
            tail = read64(key + len - 8);
        } else if (rest >= 4) {
            tail = read32(key + i) << 32 | read32(key + len - 4);
        } else {
            tail = (uint64_t)(unsigned char)key[i] << 16 |
                   (uint64_t)(unsigned char)key[i + rest / 2] << 8 |
                   (uint64_t)(unsigned char)key[len - 1];
        }
        h = (h ^ tail) * 0x94d049bb133111ebull;
        h ^= h >> 29;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
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
