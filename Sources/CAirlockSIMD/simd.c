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
#define CAIRLOCK_LIKELY(x) __builtin_expect(!!(x), 1)
#define CAIRLOCK_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define CAIRLOCK_CTZ32(x) ((size_t)__builtin_ctz(x))
#define CAIRLOCK_CTZ64(x) ((size_t)__builtin_ctzll(x))
#else
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
static inline size_t copy_plain(const uint8_t *p, size_t k, size_t n, uint8_t *out) {
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

CAirlockSIMD_JSONString CAirlockSIMD_json_string(const uint8_t *p, size_t start, size_t n, uint8_t *out) {
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
            case 'u':
                if (k + 6 > n || !hex_digit(p[k + 2]) || !hex_digit(p[k + 3]) || !hex_digit(p[k + 4]) ||
                    !hex_digit(p[k + 5])) {
                    return result;
                }
                flags |= CAIRLOCK_JSON_UNICODE_ESCAPE;
                k += 6;
                continue;
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
            if (length <= 3 && is_zero_width(p, k, length)) flags |= CAIRLOCK_JSON_ZERO_WIDTH;
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
