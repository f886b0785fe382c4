/* The lookup map (see private/map.h). The hash mixes eight bytes at a time (multiply and shift,
 * with the finaliser of MurmurHash3), the match kind in its seed: policy keys come from the
 * application's own policy, and a lookup costs a bounded number of probes (one per label of the
 * host), so a keyed hash buys nothing here, while a hash over bytes one at a time would cost as
 * much as the rest of the lookup. Slots carry the high half of the hash, so that a probe compares a
 * key only when 32 more bits of hash agree. */
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

uint64_t cp_map_hash(const char *key, size_t len, certpin_match kind)
{
    uint64_t h =
        0x9e3779b97f4a7c15ull ^ (uint64_t)len ^ ((uint64_t)kind + 1) * 0xd6e8feb86659fd93ull;
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

certpin_status cp_map_init(cp_map *m, size_t n, const char *pool)
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
    m->pool = pool;
    return CERTPIN_OK;
}

void cp_map_clear(cp_map *m)
{
    free(m->slots);
    memset(m, 0, sizeof(*m));
}

certpin_status cp_map_put(cp_map *m, uint64_t hash, size_t key_at, size_t key_len,
                          certpin_match kind, size_t value, size_t *existing)
{
    uint32_t tag = (uint32_t)(hash >> 32);
    size_t mask;
    size_t i;

    *existing = CP_MAP_NONE;
    if (m->cap == 0 || (m->count + 1) * 2 > m->cap) {
        return CERTPIN_E_INTERNAL; /* sized by cp_map_init for every key */
    }
    if (key_len == 0 || key_len > CP_MAP_KEY_MAX || key_at > UINT32_MAX || value > UINT32_MAX) {
        return CERTPIN_E_NOMEM; /* no canonical name is empty or longer; a policy is < 4 GiB */
    }
    mask = m->cap - 1;
    for (i = (size_t)hash & mask;; i = (i + 1) & mask) {
        cp_map_slot *s = &m->slots[i];
        if (s->key_len == 0) {
            s->tag = tag;
            s->value = (uint32_t)value;
            s->key_at = (uint32_t)key_at;
            s->key_len = (uint8_t)key_len;
            s->kind = (uint8_t)kind;
            m->count++;
            return CERTPIN_OK;
        }
        if (s->tag == tag && s->key_len == key_len && s->kind == (uint8_t)kind &&
            memcmp(m->pool + s->key_at, m->pool + key_at, key_len) == 0) {
            *existing = s->value;
            return CERTPIN_OK;
        }
    }
}

int cp_map_is_large(const cp_map *m)
{
    /* 1 MiB of slots: about what a core's level 2 cache holds */
    return m->cap * sizeof(cp_map_slot) >= ((size_t)1 << 20);
}

void cp_map_prefetch(const cp_map *m, uint64_t hash)
{
#if defined(__GNUC__) || defined(__clang__)
    if (m->cap > 0) {
        __builtin_prefetch(&m->slots[(size_t)hash & (m->cap - 1)]);
    }
#else
    (void)m;
    (void)hash;
#endif
}

size_t cp_map_get(const cp_map *m, uint64_t hash, const char *key, size_t key_len,
                  certpin_match kind)
{
    uint32_t tag = (uint32_t)(hash >> 32);
    size_t mask;
    size_t i;

    if (m->count == 0) {
        return CP_MAP_NONE;
    }
    mask = m->cap - 1;
    for (i = (size_t)hash & mask;; i = (i + 1) & mask) {
        const cp_map_slot *s = &m->slots[i];
        if (s->key_len == 0) {
            return CP_MAP_NONE;
        }
        if (s->tag == tag && s->key_len == key_len && s->kind == (uint8_t)kind &&
            memcmp(m->pool + s->key_at, key, key_len) == 0) {
            return s->value;
        }
    }
}
