#ifndef C_AIRLOCK_SIMD_H
#define C_AIRLOCK_SIMD_H

// Byte-scanning kernels for the redaction engine's JSON walker: SSE2 on x86_64 (the baseline, no flags needed),
// NEON on aarch64, portable scalar code elsewhere. Pure functions of their arguments; no allocation, no state.

#include <stddef.h>
#include <stdint.h>

/// The string held an escape (`\"`, `\n`, `\u0041`, ...).
#define CAIRLOCK_JSON_ESCAPED 1u
/// The string held a byte >= 0x80 (all of them valid UTF-8).
#define CAIRLOCK_JSON_NON_ASCII 2u
/// The string held a `\u` escape: `written` bytes of `out` are NOT its decoded content (the caller decodes it,
/// surrogate pairs and all).
#define CAIRLOCK_JSON_UNICODE_ESCAPE 4u
/// The string held, as raw UTF-8, a character a reader cannot see (U+00AD, U+200B-U+200D, U+2060, U+FEFF).
#define CAIRLOCK_JSON_ZERO_WIDTH 8u

typedef struct {
    /// 1: a valid string, `end` is the offset of its closing quote. 0: not a valid string (unterminated, a bad
    /// escape, a control character, invalid UTF-8); the caller reruns its own validator for the exact error.
    int32_t ok;
    /// CAIRLOCK_JSON_* bits.
    uint32_t flags;
    /// The offset of the closing quote in `p`.
    size_t end;
    /// The bytes written to `out`: the content with every escape but `\u` decoded.
    size_t written;
} CAirlockSIMD_JSONString;

/// Validates the JSON string content that starts at `p[start]` (just past the opening quote) and ends at the next
/// unescaped quote before `p[n]`, with the rules of RFC 8259 and strict UTF-8 (no overlongs, no surrogates, nothing
/// above U+10FFFF), and copies it to `out`, escapes decoded (except `\u`, see CAIRLOCK_JSON_UNICODE_ESCAPE).
///
/// Writes only inside `out[0 ..< n - start]`: `out` must have room for that many bytes (it may be written past
/// `written`). `out` must not overlap `p`.
CAirlockSIMD_JSONString CAirlockSIMD_json_string(const uint8_t *p, size_t start, size_t n, uint8_t *out);

#endif
