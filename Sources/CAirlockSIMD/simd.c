#include "CAirlockSIMD.h"

#include <string.h>

#if !defined(CAIRLOCK_FORCE_SCALAR) && (defined(__SSE2__) || defined(_M_X64))
#include <emmintrin.h>
#define CAIRLOCK_SSE2 1
#elif !defined(CAIRLOCK_FORCE_SCALAR) && defined(__aarch64__) && defined(__ARM_NEON)
#include <arm_neon.h>
#define CAIRLOCK_NEON 1
#endif

// The walker calls these once per string: keep them small enough to stay in the instruction cache, and let the
// compiler see that the common case (ASCII text up to the closing quote) is one tight loop.
#if defined(__GNUC__) || defined(__clang__)
#define CAIRLOCK_ALWAYS_INLINE inline __attribute__((always_inline))
#define CAIRLOCK_LIKELY(x) __builtin_expect(!!(x), 1)
#define CAIRLOCK_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define CAIRLOCK_CTZ32(x) ((size_t)__builtin_ctz(x))
#define CAIRLOCK_CTZ64(x) ((size_t)__builtin_ctzll(x))
#else
#define CAIRLOCK_ALWAYS_INLINE inline
#define CAIRLOCK_LIKELY(x) (x)
#define CAIRLOCK_UNLIKELY(x) (x)
static size_t CAIRLOCK_CTZ64(uint64_t x) {
    size_t k = 0;
    while (!(x & 1)) { x >>= 1; k++; }
    return k;
}
#define CAIRLOCK_CTZ32(x) CAIRLOCK_CTZ64((uint64_t)(x))
#endif

/// Whether a string scan must stop at `b`: a quote, a backslash, a control character or a non-ASCII byte.
static inline int is_special(uint8_t b) { return b == 0x22 || b == 0x5C || b < 0x20 || b >= 0x80; }

/// Copies `p[k...]` to `out[w...]` up to the first special byte, 16 bytes a step; returns how many bytes were
/// copied. Stops within the last 16 bytes of the buffer (`limit` = n), leaving them to the caller's byte loop.
/// Each step copies its whole block before looking at it: the block lands at `out + w` with `w <= k - start`, so
/// it never writes past `out + (n - start)`.
static CAIRLOCK_ALWAYS_INLINE size_t copy_plain(const uint8_t *p, size_t k, size_t n, uint8_t *out) {
    size_t from = k;
#if defined(CAIRLOCK_SSE2)
    const __m128i quote = _mm_set1_epi8(0x22);
    const __m128i slash = _mm_set1_epi8(0x5C);
    // Signed: bytes below 0x20 and bytes >= 0x80 (negative) are both "less than 0x20".
    const __m128i space = _mm_set1_epi8(0x20);
    while (k + 16 <= n) {
        __m128i v = _mm_loadu_si128((const __m128i *)(p + k));
        _mm_storeu_si128((__m128i *)out, v);
        __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, slash)),
                                   _mm_cmplt_epi8(v, space));
        unsigned mask = (unsigned)_mm_movemask_epi8(hit);
        if (mask != 0) return k + CAIRLOCK_CTZ32(mask) - from;
        k += 16;
        out += 16;
    }
#elif defined(CAIRLOCK_NEON)
    const uint8x16_t quote = vdupq_n_u8(0x22);
    const uint8x16_t slash = vdupq_n_u8(0x5C);
    const int8x16_t space = vdupq_n_s8(0x20);
    while (k + 16 <= n) {
        uint8x16_t v = vld1q_u8(p + k);
        vst1q_u8(out, v);
        uint8x16_t hit = vorrq_u8(vorrq_u8(vceqq_u8(v, quote), vceqq_u8(v, slash)),
                                  vcltq_s8(vreinterpretq_s8_u8(v), space));
        // Four bits per byte: the first flagged byte is the lowest set nibble.
        uint64_t mask = vget_lane_u64(vreinterpret_u64_u8(vshrn_n_u16(vreinterpretq_u16_u8(hit), 4)), 0);
        if (mask != 0) return k + (CAIRLOCK_CTZ64(mask) >> 2) - from;
        k += 16;
        out += 16;
    }
#else
    const uint64_t ones = 0x0101010101010101ull;
    while (k + 8 <= n) {
        uint64_t w;
        memcpy(&w, p + k, 8);
        memcpy(out, &w, 8);
        uint64_t q = w ^ (ones * 0x22);
        uint64_t s = w ^ (ones * 0x5C);
        // Exact for the lowest flagged byte: borrows only flag bytes above a real one.
        uint64_t special = ((q - ones) & ~q) | ((s - ones) & ~s) | ((w - ones * 0x20) & ~w) | w;
        special &= 0x8080808080808080ull;
        if (special != 0) {
            // Little-endian byte order: the lowest byte is the first in memory.
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
            break;
#else
            return k + (CAIRLOCK_CTZ64(special) >> 3) - from;
#endif
        }
        k += 8;
        out += 8;
    }
#endif
    while (k < n && !is_special(p[k])) {
        *out++ = p[k];
        k++;
    }
    return k - from;
}

static inline int hex_digit(uint8_t b) {
    return (b >= '0' && b <= '9') || (b >= 'a' && b <= 'f') || (b >= 'A' && b <= 'F');
}

/// Whether `p[k]` (a backslash) starts `\\u` and four hex digits, all before `p[n]`.
static inline int hex4_at(const uint8_t *p, size_t k, size_t n) {
    return k + 6 <= n && hex_digit(p[k + 2]) && hex_digit(p[k + 3]) && hex_digit(p[k + 4]) && hex_digit(p[k + 5]);
}

static inline uint32_t hex_value(uint8_t b) {
    if (b <= '9') return (uint32_t)(b - '0');
    return (uint32_t)((b | 0x20) - 'a' + 10);
}

static inline uint32_t hex4(const uint8_t *h) {
    return hex_value(h[0]) << 12 | hex_value(h[1]) << 8 | hex_value(h[2]) << 4 | hex_value(h[3]);
}

/// Writes `scalar` (not a surrogate) as UTF-8; returns the byte count.
static inline size_t encode_utf8(uint32_t scalar, uint8_t *out) {
    if (scalar < 0x80) {
        out[0] = (uint8_t)scalar;
        return 1;
    }
    if (scalar < 0x800) {
        out[0] = (uint8_t)(0xC0 | scalar >> 6);
        out[1] = (uint8_t)(0x80 | (scalar & 0x3F));
        return 2;
    }
    if (scalar < 0x10000) {
        out[0] = (uint8_t)(0xE0 | scalar >> 12);
        out[1] = (uint8_t)(0x80 | ((scalar >> 6) & 0x3F));
        out[2] = (uint8_t)(0x80 | (scalar & 0x3F));
        return 3;
    }
    out[0] = (uint8_t)(0xF0 | scalar >> 18);
    out[1] = (uint8_t)(0x80 | ((scalar >> 12) & 0x3F));
    out[2] = (uint8_t)(0x80 | ((scalar >> 6) & 0x3F));
    out[3] = (uint8_t)(0x80 | (scalar & 0x3F));
    return 4;
}

/// The length of the valid UTF-8 sequence at `p[i]` (a byte >= 0x80), or 0 when it is invalid. The same rules as
/// the Swift `UTF8Text.sequenceLength`.
static inline size_t sequence_length(const uint8_t *p, size_t i, size_t n) {
    uint8_t b0 = p[i];
#define CONT(k) (i + (k) < n && (p[i + (k)] & 0xC0) == 0x80)
    if (b0 >= 0xC2 && b0 <= 0xDF) return CONT(1) ? 2 : 0;
    if (b0 == 0xE0) return CONT(1) && p[i + 1] >= 0xA0 && CONT(2) ? 3 : 0;
    if ((b0 >= 0xE1 && b0 <= 0xEC) || b0 == 0xEE || b0 == 0xEF) return CONT(1) && CONT(2) ? 3 : 0;
    if (b0 == 0xED) return CONT(1) && p[i + 1] < 0xA0 && CONT(2) ? 3 : 0;
    if (b0 == 0xF0) return CONT(1) && p[i + 1] >= 0x90 && CONT(2) && CONT(3) ? 4 : 0;
    if (b0 >= 0xF1 && b0 <= 0xF3) return CONT(1) && CONT(2) && CONT(3) ? 4 : 0;
    if (b0 == 0xF4) return CONT(1) && p[i + 1] < 0x90 && CONT(2) && CONT(3) ? 4 : 0;
    return 0;
#undef CONT
}

/// Whether the valid sequence of `length` bytes at `p[i]` is a character a reader cannot see (the Swift
/// `UTF8Text.zeroWidthLength`).
static inline int is_zero_width(const uint8_t *p, size_t i, size_t length) {
    if (length == 2) return p[i] == 0xC2 && p[i + 1] == 0xAD;
    if (length != 3) return 0;
    if (p[i] == 0xE2) {
        return (p[i + 1] == 0x80 && p[i + 2] >= 0x8B && p[i + 2] <= 0x8D) || (p[i + 1] == 0x81 && p[i + 2] == 0xA0);
    }
    return p[i] == 0xEF && p[i + 1] == 0xBB && p[i + 2] == 0xBF;
}

#if defined(CAIRLOCK_SSE2) && defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__)) && \
    !defined(CAIRLOCK_NO_AVX2)
#include <immintrin.h>
#define CAIRLOCK_AVX2 1
#define CAIRLOCK_AVX2_TARGET __attribute__((target("avx2")))

/// `copy_plain` 32 bytes a step, for CPUs with AVX2 (chosen at run time, see `has_avx2`).
static CAIRLOCK_AVX2_TARGET CAIRLOCK_ALWAYS_INLINE size_t copy_plain_avx2(const uint8_t *p, size_t k, size_t n,
                                                                          uint8_t *out) {
    size_t from = k;
    const __m256i quote = _mm256_set1_epi8(0x22);
    const __m256i slash = _mm256_set1_epi8(0x5C);
    const __m256i space = _mm256_set1_epi8(0x20);
    while (k + 32 <= n) {
        __m256i v = _mm256_loadu_si256((const __m256i *)(p + k));
        _mm256_storeu_si256((__m256i *)out, v);
        __m256i hit = _mm256_or_si256(_mm256_or_si256(_mm256_cmpeq_epi8(v, quote), _mm256_cmpeq_epi8(v, slash)),
                                      _mm256_cmpgt_epi8(space, v));
        unsigned mask = (unsigned)_mm256_movemask_epi8(hit);
        if (mask != 0) return k + CAIRLOCK_CTZ32(mask) - from;
        k += 32;
        out += 32;
    }
    return k - from + copy_plain(p, k, n, out);
}

static int has_avx2(void) {
    static int known = -1;
    if (known < 0) known = __builtin_cpu_supports("avx2") ? 1 : 0;
    return known;
}
#endif


// MARK: Whole documents

typedef struct {
    const uint8_t *p;
    size_t n;
    size_t i;
    const CAirlockSIMD_JSONWalkOptions *options;
    uint8_t *text;
    size_t text_count;
    CAirlockSIMD_JSONSegment *segments;
    size_t segment_capacity;
    size_t segment_count;
    CAirlockSIMD_JSONNode *nodes;
    size_t node_capacity;
    size_t node_count;
    int depth;
} walk_state;

static inline int is_json_space(uint8_t b) { return b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09; }

static CAIRLOCK_ALWAYS_INLINE void skip_space(walk_state *s) {
    size_t i = s->i;
    // Compact JSON has no whitespace: one comparison settles the common case.
    if (CAIRLOCK_LIKELY(i < s->n && s->p[i] > 0x20)) return;
    while (i < s->n && is_json_space(s->p[i])) i++;
    s->i = i;
}

/// The Swift `JSONRedactor.looksLikeJSON`.
static int looks_like_json(const uint8_t *p, size_t start, size_t end) {
    size_t k = start;
    while (k < end && is_json_space(p[k])) k++;
    if (k >= end) return 0;
    if (p[k] == '{') return 1;
    if (p[k] == '[') {
        size_t m = k + 1;
        while (m < end && is_json_space(p[m])) m++;
        return m < end && (p[m] == '{' || p[m] == '[' || p[m] == '\\');
    }
    return 0;
}

static inline int push_node(walk_state *s, int32_t parent, int32_t index, uint32_t key_start, uint32_t key_count,
                            uint32_t key_flags, int32_t *id) {
    if (s->node_count == s->node_capacity) return CAIRLOCK_WALK_FULL;
    CAirlockSIMD_JSONNode *node = &s->nodes[s->node_count];
    node->parent = parent;
    node->index = index;
    node->key_start = key_start;
    node->key_count = key_count;
    node->key_flags = key_flags;
    *id = (int32_t)s->node_count++;
    return CAIRLOCK_WALK_DONE;
}
/// Whether a `fields` rule may select a member with this key (the Swift `JSONRedactor.mayBeFieldKey`).
static CAIRLOCK_ALWAYS_INLINE int may_be_field_key(const walk_state *s, size_t start, size_t count, int escaped) {
    const CAirlockSIMD_JSONWalkOptions *o = s->options;
    if (!(o->field_key_lengths & ((uint64_t)1 << (count < 63 ? count : 63)))) return 0;
    if (escaped) return 1;
    const uint8_t *name = o->field_key_bytes;
    for (size_t k = 0; k < o->field_key_count; k++) {
        if (o->field_key_counts[k] == count && (count == 0 || name[0] == s->p[start]) &&
            memcmp(name, s->p + start, count) == 0) {
            return 1;
        }
        name += o->field_key_counts[k];
    }
    return 0;
}

static int walk_literal(walk_state *s, const char *word, size_t count) {
    if (s->i + count > s->n || memcmp(s->p + s->i, word, count) != 0) return CAIRLOCK_WALK_FALLBACK;
    s->i += count;
    return CAIRLOCK_WALK_DONE;
}

/// The Swift `JSONRedactor.number`.
static int walk_number(walk_state *s) {
    const uint8_t *p = s->p;
    size_t n = s->n;
    size_t k = s->i;
#define DIGIT(x) ((x) < n && p[x] >= '0' && p[x] <= '9')
    if (p[k] == '-') k++;
    if (!DIGIT(k)) return CAIRLOCK_WALK_FALLBACK;
    if (p[k] == '0') {
        k++;
    } else {
        while (DIGIT(k)) k++;
    }
    if (k < n && p[k] == '.') {
        k++;
        if (!DIGIT(k)) return CAIRLOCK_WALK_FALLBACK;
        while (DIGIT(k)) k++;
    }
    if (k < n && (p[k] | 0x20) == 'e') {
        k++;
        if (k < n && (p[k] == '+' || p[k] == '-')) k++;
        if (!DIGIT(k)) return CAIRLOCK_WALK_FALLBACK;
        while (DIGIT(k)) k++;
    }
#undef DIGIT
    s->i = k;
    return CAIRLOCK_WALK_DONE;
}

#define CAIRLOCK_NAME(x) x##_baseline
#define CAIRLOCK_TARGET
#define CAIRLOCK_COPY_PLAIN copy_plain
#include "walk_impl.h"
#undef CAIRLOCK_NAME
#undef CAIRLOCK_TARGET
#undef CAIRLOCK_COPY_PLAIN

#if defined(CAIRLOCK_AVX2)
#define CAIRLOCK_NAME(x) x##_avx2
#define CAIRLOCK_TARGET CAIRLOCK_AVX2_TARGET
#define CAIRLOCK_COPY_PLAIN copy_plain_avx2
#include "walk_impl.h"
#undef CAIRLOCK_NAME
#undef CAIRLOCK_TARGET
#undef CAIRLOCK_COPY_PLAIN
#endif

CAirlockSIMD_JSONString CAirlockSIMD_json_string(const uint8_t *p, size_t start, size_t n, uint8_t *out) {
    return scan_string_baseline(p, start, n, out);
}

int CAirlockSIMD_json_walk(const uint8_t *p, size_t n, const CAirlockSIMD_JSONWalkOptions *options, uint8_t *text,
                           size_t *text_count, CAirlockSIMD_JSONSegment *segments, size_t segment_capacity,
                           size_t *segment_count, CAirlockSIMD_JSONNode *nodes, size_t node_capacity,
                           size_t *node_count) {
    walk_state s = {p, n, 0, options, text, 0, segments, segment_capacity, 0, nodes, node_capacity, 0, 0};
    if (n == 0 || n >= ((size_t)1 << 31)) return CAIRLOCK_WALK_FALLBACK;
#if defined(CAIRLOCK_AVX2)
    int status = has_avx2() ? walk_document_avx2(&s) : walk_document_baseline(&s);
#else
    int status = walk_document_baseline(&s);
#endif
    *text_count = s.text_count;
    *segment_count = s.segment_count;
    *node_count = s.node_count;
    return status;
}
