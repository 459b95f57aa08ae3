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

/// Whether the valid sequence of `length` (2 to 4) bytes at `p[i]` is a character matching does not read as written
/// (`CAirlockSIMD_scalar_folds`; the Swift `UTF8Text.foldedLength`).
static inline int folds_at(const uint8_t *p, size_t i, size_t length) {
    uint32_t scalar;
    if (length == 2) scalar = ((uint32_t)(p[i] & 0x1F) << 6) | (p[i + 1] & 0x3F);
    else if (length == 3) scalar = ((uint32_t)(p[i] & 0x0F) << 12) | ((uint32_t)(p[i + 1] & 0x3F) << 6) | (p[i + 2] & 0x3F);
    else scalar = ((uint32_t)(p[i] & 0x07) << 18) | ((uint32_t)(p[i + 1] & 0x3F) << 12) | ((uint32_t)(p[i + 2] & 0x3F) << 6) | (p[i + 3] & 0x3F);
    return CAirlockSIMD_scalar_folds(scalar);
}

long CAirlockSIMD_fold(uint32_t scalar, const uint8_t **bytes) {
    if (!CAirlockSIMD_scalar_folds(scalar)) return -1;
    size_t low = 0, high = CAirlockSIMD_fold_count;
    while (low < high) {
        size_t mid = (low + high) / 2;
        if (CAirlockSIMD_fold_scalars[mid] < scalar) low = mid + 1; else high = mid;
    }
    if (low >= CAirlockSIMD_fold_count || CAirlockSIMD_fold_scalars[low] != scalar) return -1;
    if (bytes) *bytes = CAirlockSIMD_fold_bytes + CAirlockSIMD_fold_offsets[low];
    return (long)(CAirlockSIMD_fold_offsets[low + 1] - CAirlockSIMD_fold_offsets[low]);
}



// MARK: Embedded payloads

size_t CAirlockSIMD_find_data_scheme(const uint8_t *p, size_t from, size_t n) {
    size_t k = from + 4;
    while (k < n) {
        const uint8_t *colon = memchr(p + k, ':', n - k);
        if (colon == NULL) return n;
        k = (size_t)(colon - p);
        // `b | 0x20` is 'd', 'a' or 't' only for that letter in either case.
        if ((p[k - 4] | 0x20) == 'd' && (p[k - 3] | 0x20) == 'a' && (p[k - 2] | 0x20) == 't' &&
            (p[k - 1] | 0x20) == 'a') {
            return k - 4;
        }
        k++;
    }
    return n;
}

/// 1 for a byte of the standard or URL-safe base64 alphabet, padding, or a line break: one load per byte looked at
/// (the walk asks it of every long string).
static const uint8_t base64_run_bytes[256] = {
    ['A' ... 'Z'] = 1, ['a' ... 'z'] = 1, ['0' ... '9'] = 1, ['+'] = 1, ['/'] = 1, ['-'] = 1, ['_'] = 1, ['='] = 1,
    ['\n'] = 1, ['\r'] = 1,
};

static inline int is_base64_run_byte(uint8_t b) { return base64_run_bytes[b]; }

size_t CAirlockSIMD_base64_run(const uint8_t *p, size_t from, size_t n, size_t min_run, size_t *run_end) {
    size_t start = from;
    // A run of `min_run` starting at `start` covers `probe`: when that byte is not in the alphabet, no run starting
    // at or before it can be long enough, and the search jumps past it. Otherwise the bytes before it are checked
    // back to `start`; the first one outside the alphabet is where the next candidate starts after.
    while (min_run > 0 && start + min_run <= n) {
        size_t probe = start + min_run - 1;
        if (!is_base64_run_byte(p[probe])) {
            start = probe + 1;
            continue;
        }
        size_t k = probe;
        while (k > start && is_base64_run_byte(p[k - 1])) k--;
        if (k == start) {
            size_t end = probe + 1;
            while (end < n && is_base64_run_byte(p[end])) end++;
            *run_end = end;
            return start;
        }
        start = k;
    }
    *run_end = n;
    return n;
}

/// Whether `p` starts with `prefix` (a string literal: the comparison is inlined).
#define STARTS_WITH(p, prefix) (memcmp((p), (prefix), sizeof(prefix) - 1) == 0)

/// `CAirlockSIMD_starts_with_file_base64`, inlined into the document walk (it is asked of every string).
static CAIRLOCK_ALWAYS_INLINE int starts_with_file_base64(const uint8_t *p, size_t n) {
    if (n < CAIRLOCK_EMBEDDED_MIN_FILE) return 0;
    // Every prefix's second byte is an uppercase letter or a digit; a word's is lowercase, so text is turned
    // away by one predictable branch.
    if ((uint8_t)(p[1] - 'A') >= 26 && (uint8_t)(p[1] - '0') >= 10) return 0;
    // The base64 of each magic number from its first byte, as far as it is fixed (URL-safe spellings too). Most
    // strings differ at the first or second byte.
    switch (p[0]) {
    case 'i': return STARTS_WITH(p, "iVBORw0KGgo");
    case '/': return STARTS_WITH(p, "/9j/");
    case '_': return STARTS_WITH(p, "_9j_");
    case 'R': return STARTS_WITH(p, "R0lGODdh") || STARTS_WITH(p, "R0lGODlh");
    case 'U': return STARTS_WITH(p, "UklGR") || STARTS_WITH(p, "UEsDB") || STARTS_WITH(p, "UEsFB");
    case 'S': return STARTS_WITH(p, "SUkqA");
    case 'T': return STARTS_WITH(p, "TU0AK");
    case 'J': return STARTS_WITH(p, "JVBERi0");
    case 'H': return STARTS_WITH(p, "H4sI");
    default: return 0;
    }
}
#undef STARTS_WITH

int CAirlockSIMD_starts_with_file_base64(const uint8_t *p, size_t n) { return starts_with_file_base64(p, n); }

int CAirlockSIMD_may_embed(const uint8_t *p, size_t n) {
    if (n < 5) return 0;
    if (CAirlockSIMD_starts_with_file_base64(p, n)) return 1;
    if (CAirlockSIMD_find_data_scheme(p, 0, n) < n) return 1;
    size_t end;
    return n >= CAIRLOCK_EMBEDDED_MIN_RUN && CAirlockSIMD_base64_run(p, 0, n, CAIRLOCK_EMBEDDED_MIN_RUN, &end) < n;
}


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

/// The Swift `JSONRedactor.decodedLooksLikeJSON`: `looks_like_json` over the decoded text of a string that starts
/// with an escape (`"\n{\"a\":1}"`, `"\u007b..."`), whose raw bytes do not show the document.
static int decoded_looks_like_json(const uint8_t *d, size_t count) {
    size_t k = 0;
    while (k < count && is_json_space(d[k])) k++;
    if (k >= count) return 0;
    if (d[k] == '{') return 1;
    if (d[k] != '[') return 0;
    size_t m = k + 1;
    while (m < count && is_json_space(d[m])) m++;
    return m < count && (d[m] == '{' || d[m] == '[' || d[m] == '"');
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

/// The Swift `JSONRedactor.number`, and, as there, the number's literal text appended as a segment of its own
/// (flagged CAIRLOCK_JSON_NUMBER): rules see unquoted run IDs and account numbers too. A number shorter than
/// `min_number_length` cannot hold a match and is not collected. `element` >= 0: the number is that element of the
/// array at `node`, and its own path node is pushed only when it is collected; otherwise `node` is its node.
static int walk_number(walk_state *s, int32_t node, int32_t element) {
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
    size_t start = s->i;
    s->i = k;
    if (k - start < s->options->min_number_length) return CAIRLOCK_WALK_DONE;
    if (element >= 0) {
        int status = push_node(s, node, element, 0, 0, 0, &node);
        if (status != CAIRLOCK_WALK_DONE) return status;
    }
    if (s->segment_count == s->segment_capacity) return CAIRLOCK_WALK_FULL;
    CAirlockSIMD_JSONSegment *segment = &s->segments[s->segment_count++];
    segment->raw_start = (uint32_t)start;
    segment->raw_end = (uint32_t)k;
    segment->text_start = (uint32_t)s->text_count;
    segment->text_end = (uint32_t)(s->text_count + (k - start));
    segment->node = node;
    segment->flags = CAIRLOCK_JSON_NUMBER;
    // A number and its newline take one byte more than its source, paid for by the delimiter or end that follows
    // it: the text stays within `n + 1` bytes and behind every later token's start (see `scan_string`'s writes).
    memcpy(s->text + s->text_count, s->p + start, k - start);
    s->text_count += k - start;
    s->text[s->text_count++] = 0x0A;
    return CAIRLOCK_WALK_DONE;
}

static int walk_value(walk_state *s, int32_t node);

/// `CAirlockSIMD_json_string`, inlined into the document walk.
static CAIRLOCK_ALWAYS_INLINE CAirlockSIMD_JSONString scan_string(const uint8_t *p, size_t start, size_t n,
                                                                   uint8_t *out) {
    CAirlockSIMD_JSONString result = {0, 0, 0, 0};
    size_t k = start;
    size_t w = 0;
    uint32_t flags = 0;
    for (;;) {
        size_t run = copy_plain(p, k, n, out + w);
        k += run;
        w += run;
        if (CAIRLOCK_UNLIKELY(k >= n)) return result;
        uint8_t b = p[k];
        if (CAIRLOCK_LIKELY(b == 0x22)) break;
        if (b == 0x5C) {
            flags |= CAIRLOCK_JSON_ESCAPED;
            if (k + 1 >= n) return result;
            uint8_t e = p[k + 1];
            uint8_t decoded;
            switch (e) {
            case '"': decoded = '"'; break;
            case '\\': decoded = '\\'; break;
            case '/': decoded = '/'; break;
            case 'b': decoded = 0x08; break;
            case 'f': decoded = 0x0C; break;
            case 'n': decoded = 0x0A; break;
            case 'r': decoded = 0x0D; break;
            case 't': decoded = 0x09; break;
            case 'u': {
                if (!hex4_at(p, k, n)) return result;
                flags |= CAIRLOCK_JSON_UNICODE_ESCAPE;
                uint32_t scalar = hex4(p + k + 2);
                k += 6;
                if (scalar >= 0xD800 && scalar < 0xDC00) {
                    // The pair's low half must follow at once, as the Swift `JSONStringEscapes.decode` requires.
                    uint32_t low = k + 6 <= n && p[k] == '\\' && p[k + 1] == 'u' && hex4_at(p, k, n) ? hex4(p + k + 2) : 0;
                    if (low >= 0xDC00 && low < 0xE000) {
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00);
                        k += 6;
                    } else {
                        flags |= CAIRLOCK_JSON_LONE_SURROGATE;
                        continue;
                    }
                } else if (scalar >= 0xDC00 && scalar < 0xE000) {
                    flags |= CAIRLOCK_JSON_LONE_SURROGATE;
                    continue;
                }
                if (CAirlockSIMD_scalar_folds(scalar)) flags |= CAIRLOCK_JSON_ZERO_WIDTH;
                w += encode_utf8(scalar, out + w);
                continue;
            }
            default: return result;
            }
            out[w++] = decoded;
            k += 2;
            continue;
        }
        if (b < 0x20) return result;
        // Non-ASCII: validate each sequence, and stay here while the text stays non-ASCII.
        flags |= CAIRLOCK_JSON_NON_ASCII;
        do {
            size_t length = sequence_length(p, k, n);
            if (length == 0) return result;
            if (folds_at(p, k, length)) flags |= CAIRLOCK_JSON_ZERO_WIDTH;
            for (size_t m = 0; m < length; m++) out[w + m] = p[k + m];
            k += length;
            w += length;
        } while (k < n && p[k] >= 0x80);
    }
    result.ok = 1;
    result.flags = flags;
    result.end = k;
    result.written = w;
    return result;
}


/// The string at `s->i` (a quote): validated, its text appended, a segment when non-empty. For keys, `key_node`
/// receives what the member's path node needs.
static CAIRLOCK_ALWAYS_INLINE int walk_string(walk_state *s, int32_t node, int is_key, uint32_t *flags_out, size_t *decoded_count) {
    size_t start = s->i + 1;
    CAirlockSIMD_JSONString found = scan_string(s->p, start, s->n, s->text + s->text_count);
    if (!found.ok) return CAIRLOCK_WALK_FALLBACK;
    uint32_t flags = found.flags;
    if (flags & (CAIRLOCK_JSON_LONE_SURROGATE | CAIRLOCK_JSON_ZERO_WIDTH)) return CAIRLOCK_WALK_FALLBACK;
    size_t end = found.end;
    s->i = end + 1;
    if (flags_out) *flags_out = flags;
    if (decoded_count) *decoded_count = found.written;
    if (end == start) return CAIRLOCK_WALK_DONE;
    // A long string may hold a base64 payload, a shorter one may start with a small file: the Swift walker decides
    // (`data:` is looked for once over the whole text, in `CAirlockSIMD_json_walk`).
    if (CAIRLOCK_UNLIKELY(starts_with_file_base64(s->text + s->text_count, found.written))) {
        return CAIRLOCK_WALK_FALLBACK;
    }
    if (CAIRLOCK_UNLIKELY(found.written >= CAIRLOCK_EMBEDDED_MIN_RUN)) {
        size_t run_end;
        uint8_t *written = s->text + s->text_count;
        if (CAirlockSIMD_base64_run(written, 0, found.written, CAIRLOCK_EMBEDDED_MIN_RUN, &run_end) < found.written) {
            return CAIRLOCK_WALK_FALLBACK;
        }
    }
    if (!is_key && s->options->nested_allowed) {
        uint8_t first = s->p[start];
        if ((first == '{' || first == '[' || first <= 0x20) && looks_like_json(s->p, start, end)) {
            return CAIRLOCK_WALK_FALLBACK;
        }
        if (first == '\\' && decoded_looks_like_json(s->text + s->text_count, found.written)) {
            return CAIRLOCK_WALK_FALLBACK;
        }
    }
    if (s->segment_count == s->segment_capacity) return CAIRLOCK_WALK_FULL;
    CAirlockSIMD_JSONSegment *segment = &s->segments[s->segment_count++];
    segment->raw_start = (uint32_t)start;
    segment->raw_end = (uint32_t)end;
    segment->text_start = (uint32_t)s->text_count;
    segment->text_end = (uint32_t)(s->text_count + found.written);
    segment->node = node;
    segment->flags = flags;
    s->text_count += found.written;
    s->text[s->text_count++] = 0x0A;
    return CAIRLOCK_WALK_DONE;
}

/// Consumes `close` when it is next, ending the container `walk_object` or `walk_array` entered: 1, or 0 when
/// something else is next.
static inline int close_container(walk_state *s, uint8_t close) {
    if (s->i >= s->n || s->p[s->i] != close) return 0;
    s->i++;
    s->depth--;
    return 1;
}

/// What follows a member or an element (after `status`, the result of walking it): WALK_NEXT when a `,` does
/// (consumed, with the space after it), CAIRLOCK_WALK_DONE when `close` ends the container, CAIRLOCK_WALK_FALLBACK
/// when anything else comes, or `status` itself when the walk of the item did not finish.
#define WALK_NEXT (-1)
static inline int after_item(walk_state *s, int status, uint8_t close) {
    if (status != CAIRLOCK_WALK_DONE) return status;
    skip_space(s);
    if (s->i < s->n && s->p[s->i] == ',') {
        s->i++;
        skip_space(s);
        return WALK_NEXT;
    }
    return close_container(s, close) ? CAIRLOCK_WALK_DONE : CAIRLOCK_WALK_FALLBACK;
}

static int walk_object(walk_state *s, int32_t parent) {
    if (++s->depth > s->options->max_depth) return CAIRLOCK_WALK_FALLBACK;
    s->i++;
    skip_space(s);
    if (close_container(s, '}')) return CAIRLOCK_WALK_DONE;
    for (;;) {
        if (s->i >= s->n || s->p[s->i] != '"') return CAIRLOCK_WALK_FALLBACK;
        // The member's node comes first: the key's own segment belongs to it, as in the Swift walker. Its key is
        // filled in once the key is read.
        int32_t node;
        int status = push_node(s, parent, -1, 0, 0, 0, &node);
        if (status != CAIRLOCK_WALK_DONE) return status;
        size_t key_start = s->i + 1;
        uint32_t key_flags = 0;
        size_t decoded = 0;
        status = walk_string(s, node, 1, &key_flags, &decoded);
        if (status != CAIRLOCK_WALK_DONE) return status;
        size_t key_end = s->i - 1;
        int escaped = (key_flags & CAIRLOCK_JSON_ESCAPED) != 0;
        if (s->options->field_key_lengths &&
            may_be_field_key(s, key_start, escaped ? decoded : key_end - key_start, escaped)) {
            return CAIRLOCK_WALK_FALLBACK;
        }
        s->nodes[node].key_start = (uint32_t)key_start;
        s->nodes[node].key_count = (uint32_t)(key_end - key_start);
        s->nodes[node].key_flags = key_flags;
        skip_space(s);
        if (s->i >= s->n || s->p[s->i] != ':') return CAIRLOCK_WALK_FALLBACK;
        s->i++;
        skip_space(s);
        // Most values are strings: walked here, without the call and dispatch of `walk_value`.
        if (s->i < s->n && s->p[s->i] == '"') {
            status = walk_string(s, node, 0, NULL, NULL);
        } else {
            status = walk_value(s, node);
        }
        status = after_item(s, status, '}');
        if (status != WALK_NEXT) return status;
    }
}

static int walk_array(walk_state *s, int32_t parent) {
    if (++s->depth > s->options->max_depth) return CAIRLOCK_WALK_FALLBACK;
    s->i++;
    skip_space(s);
    if (close_container(s, ']')) return CAIRLOCK_WALK_DONE;
    for (int32_t index = 0;; index++) {
        if (s->i >= s->n) return CAIRLOCK_WALK_FALLBACK;
        uint8_t b = s->p[s->i];
        int status;
        if (b == '"' || b == '{' || b == '[') {
            // Only strings, numbers and containers can hold a segment, so only they need a path node (a number
            // pushes its own, when it is long enough to be collected).
            int32_t node;
            status = push_node(s, parent, index, 0, 0, 0, &node);
            if (status == CAIRLOCK_WALK_DONE) {
                status = b == '"' ? walk_string(s, node, 0, NULL, NULL) : walk_value(s, node);
            }
        } else if (b == '-' || (b >= '0' && b <= '9')) {
            status = walk_number(s, parent, index);
        } else {
            status = walk_value(s, parent);
        }
        status = after_item(s, status, ']');
        if (status != WALK_NEXT) return status;
    }
}

static int walk_value(walk_state *s, int32_t node) {
    if (s->i >= s->n) return CAIRLOCK_WALK_FALLBACK;
    switch (s->p[s->i]) {
    case '{': return walk_object(s, node);
    case '[': return walk_array(s, node);
    case '"': return walk_string(s, node, 0, NULL, NULL);
    case 't': return walk_literal(s, "true", 4);
    case 'f': return walk_literal(s, "false", 5);
    case 'n': return walk_literal(s, "null", 4);
    case '-':
    case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7': case '8': case '9':
        return walk_number(s, node, -1);
    default: return CAIRLOCK_WALK_FALLBACK;
    }
}


/// The whole document (see `CAirlockSIMD_json_walk`).
static int walk_document(walk_state *s) {
    skip_space(s);
    int status = walk_value(s, -1);
    if (status == CAIRLOCK_WALK_DONE) {
        skip_space(s);
        if (s->i != s->n) status = CAIRLOCK_WALK_FALLBACK;
    }
    return status;
}

CAirlockSIMD_JSONString CAirlockSIMD_json_string(const uint8_t *p, size_t start, size_t n, uint8_t *out) {
    return scan_string(p, start, n, out);
}

int CAirlockSIMD_json_walk(const uint8_t *p, size_t n, const CAirlockSIMD_JSONWalkOptions *options, uint8_t *text,
                           size_t *text_count, CAirlockSIMD_JSONSegment *segments, size_t segment_capacity,
                           size_t *segment_count, CAirlockSIMD_JSONNode *nodes, size_t node_capacity,
                           size_t *node_count) {
    walk_state s = {p, n, 0, options, text, 0, segments, segment_capacity, 0, nodes, node_capacity, 0, 0};
    if (n == 0 || n >= ((size_t)1 << 31)) return CAIRLOCK_WALK_FALLBACK;
    int status = walk_document(&s);
    // A `data:` URL in any string (keys too): the Swift walker decides. One search over all the text, instead of one
    // per string.
    if (status == CAIRLOCK_WALK_DONE && CAirlockSIMD_find_data_scheme(text, 0, s.text_count) < s.text_count) {
        status = CAIRLOCK_WALK_FALLBACK;
    }
    *text_count = s.text_count;
    *segment_count = s.segment_count;
    *node_count = s.node_count;
    return status;
}
