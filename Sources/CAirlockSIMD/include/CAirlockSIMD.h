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
/// The string held a `\u` escape (decoded into `out`, surrogate pairs joined, unless CAIRLOCK_JSON_LONE_SURROGATE).
#define CAIRLOCK_JSON_UNICODE_ESCAPE 4u
/// The string held a character matching does not read as written (`CAirlockSIMD_scalar_folds`): an invisible one
/// (U+00AD, U+200B-U+200D, U+2060, U+FEFF) or a compatibility form (ligature, fullwidth letter, Kelvin sign, ...),
/// raw or as a `\u` escape.
#define CAIRLOCK_JSON_ZERO_WIDTH 8u
/// A `\uD800`-`\uDFFF` escape without its partner: the string is well-formed but cannot be decoded; `out` is not
/// its content.
#define CAIRLOCK_JSON_LONE_SURROGATE 16u
/// A segment of `CAirlockSIMD_json_walk` that is a number token (`raw_start ..< raw_end`, no quotes), its literal
/// text scanned like a string's: an edit replaces the whole token with a JSON string.
#define CAIRLOCK_JSON_NUMBER 32u

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
/// above U+10FFFF), and copies it to `out`, escapes decoded (see CAIRLOCK_JSON_LONE_SURROGATE).
///
/// Writes only inside `out[0 ..< n - start]`: `out` must have room for that many bytes (it may be written past
/// `written`). `out` must not overlap `p`.
CAirlockSIMD_JSONString CAirlockSIMD_json_string(const uint8_t *p, size_t start, size_t n, uint8_t *out);


/// One string or number of a document walked by `CAirlockSIMD_json_walk`: where it is (inside the quotes; a number's
/// whole token), where its decoded text is in the walk's text buffer, and the path node it belongs to.
typedef struct {
    uint32_t raw_start;
    uint32_t raw_end;
    uint32_t text_start;
    uint32_t text_end;
    int32_t node;
    /// CAIRLOCK_JSON_* bits of the string (CAIRLOCK_JSON_ESCAPED: the edit must re-encode; CAIRLOCK_JSON_NUMBER: a
    /// number, whose edit is a whole quoted string).
    uint32_t flags;
} CAirlockSIMD_JSONSegment;

/// One step of a path: an object member (`index` -1, its key's content at `p[key_start ..< key_start + key_count]`,
/// escaped when `key_flags` has CAIRLOCK_JSON_ESCAPED) or an array element (`index` >= 0).
typedef struct {
    int32_t parent;
    int32_t index;
    uint32_t key_start;
    uint32_t key_count;
    uint32_t key_flags;
} CAirlockSIMD_JSONNode;

typedef struct {
    /// Bit k set: keys of k bytes (63: longer) may be selected by a `fields` rule.
    uint64_t field_key_lengths;
    /// The names such keys must have, concatenated, with their lengths.
    const uint8_t *field_key_bytes;
    const uint32_t *field_key_counts;
    size_t field_key_count;
    /// 0: a string value that looks like a JSON document is not special (the nesting limit is reached).
    int32_t nested_allowed;
    int32_t max_depth;
    /// Numbers shorter than this (the policy's shortest possible match) are not collected as segments.
    uint32_t min_number_length;
} CAirlockSIMD_JSONWalkOptions;

/// The walk finished: every string is a segment.
#define CAIRLOCK_WALK_DONE 0
/// The document needs the full walker: it is malformed, nests too deep, has a string that may hold a JSON document,
/// an invisible character, an undecodable escape, a key a `fields` rule may select, or a string that may hold an
/// embedded payload (`CAirlockSIMD_may_embed`). Nothing it wrote counts.
#define CAIRLOCK_WALK_FALLBACK 1
/// `segments` or `nodes` is full: call again with more room.
#define CAIRLOCK_WALK_FULL 2

/// Validates the JSON document `p[0 ..< n]` (RFC 8259, strict UTF-8, depth at most `max_depth`) and collects every
/// non-empty string (keys and values) and every number, in document order, as a segment whose decoded (a number's
/// literal) text is appended to `text`, each followed by a newline. `text` needs room for `n + 17` bytes. `n` must
/// be below 2^31.
int CAirlockSIMD_json_walk(const uint8_t *p, size_t n, const CAirlockSIMD_JSONWalkOptions *options, uint8_t *text,
                           size_t *text_count, CAirlockSIMD_JSONSegment *segments, size_t segment_capacity,
                           size_t *segment_count, CAirlockSIMD_JSONNode *nodes, size_t node_capacity,
                           size_t *node_count);

// MARK: Embedded payloads

/// The fewest bytes (base64 alphabet bytes and line breaks) a run must have to be looked at as an embedded base64
/// payload. Shorter runs are identifiers, hashes and tokens.
#define CAIRLOCK_EMBEDDED_MIN_RUN 256

/// The offset of the first `data:` (any case) in `p[from ..< n]`, or `n` when there is none.
size_t CAirlockSIMD_find_data_scheme(const uint8_t *p, size_t from, size_t n);

/// The start of the first run in `p[from ..< n]` of at least `min_run` bytes each of the base64 alphabets
/// (`A-Z a-z 0-9 + / - _ =`) or a line break (CR, LF); `*run_end` receives its end (the run is maximal). Returns `n`
/// when there is none. Looks at about one byte in `min_run` of text that holds no such run.
size_t CAirlockSIMD_base64_run(const uint8_t *p, size_t from, size_t n, size_t min_run, size_t *run_end);

/// The fewest bytes a value starting with the base64 of a file's magic number must have to be looked at (a small
/// icon or thumbnail, whose metadata can still name a codename).
#define CAIRLOCK_EMBEDDED_MIN_FILE 16

/// Whether `p[0 ..< n]` (at least CAIRLOCK_EMBEDDED_MIN_FILE bytes) starts with the base64 (either alphabet) of the
/// magic number of a PNG, JPEG, GIF, WebP/RIFF, TIFF, PDF, ZIP or gzip file.
int CAirlockSIMD_starts_with_file_base64(const uint8_t *p, size_t n);

/// Whether `p[0 ..< n]` may hold an embedded payload: a `data:` anywhere, a base64 run of
/// CAIRLOCK_EMBEDDED_MIN_RUN bytes, or a start that is the base64 of a file's magic number. The JSON walk hands back
/// every document with such a string, so the Swift walker alone decides what to do with it.
int CAirlockSIMD_may_embed(const uint8_t *p, size_t n);

// MARK: Folding for matching (fold_table.c, generated by scripts/generate-fold-table.py)

/// Two-level bitmap of the scalars below U+30000 that fold: block id per 256 scalars, then 32 bytes of bits.
extern const uint8_t CAirlockSIMD_fold_index[];
extern const uint8_t CAirlockSIMD_fold_blocks[][32];
/// The folding scalars in ascending order, and where each one's replacement (UTF-8, possibly empty) starts in
/// `CAirlockSIMD_fold_bytes` (`offsets[k + 1]` is where it ends).
extern const size_t CAirlockSIMD_fold_count;
extern const uint32_t CAirlockSIMD_fold_scalars[];
extern const uint32_t CAirlockSIMD_fold_offsets[];
extern const uint8_t CAirlockSIMD_fold_bytes[];

/// Whether matching reads `scalar` as something else: an invisible character (read as nothing), or a compatibility
/// form read as its NFKC form (U+FB01 as `fi`, U+FF21 as `A`, U+212A as `K`, U+017F as `s`).
/// Whitespace and dashes are not in the table: term expressions match them as written.
static inline int CAirlockSIMD_scalar_folds(uint32_t scalar) {
    if (scalar < 0x80 || scalar >= 0x30000) return 0;
    return (CAirlockSIMD_fold_blocks[CAirlockSIMD_fold_index[scalar >> 8]][(scalar & 0xFF) >> 3] >> (scalar & 7)) & 1;
}

/// The replacement of a folding scalar: its bytes in `*bytes` (when `bytes` is not NULL) and their count; -1 when
/// `scalar` does not fold.
long CAirlockSIMD_fold(uint32_t scalar, const uint8_t **bytes);

#endif
