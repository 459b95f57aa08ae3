// The JSON string scan and document walk, included by simd.c once per instruction set: CAIRLOCK_NAME(x) names this
// copy's functions, CAIRLOCK_TARGET is its target attribute, CAIRLOCK_COPY_PLAIN its block copy-and-scan.

static CAIRLOCK_TARGET int CAIRLOCK_NAME(walk_value)(walk_state *s, int32_t node);

/// `CAirlockSIMD_json_string`, inlined into the document walk.
static CAIRLOCK_TARGET CAIRLOCK_ALWAYS_INLINE CAirlockSIMD_JSONString CAIRLOCK_NAME(scan_string)(const uint8_t *p, size_t start, size_t n,
                                                                   uint8_t *out) {
    CAirlockSIMD_JSONString result = {0, 0, 0, 0};
    size_t k = start;
    size_t w = 0;
    uint32_t flags = 0;
    for (;;) {
        size_t run = CAIRLOCK_COPY_PLAIN(p, k, n, out + w);
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
                if (scalar == 0xAD || (scalar >= 0x200B && scalar <= 0x200D) || scalar == 0x2060 || scalar == 0xFEFF) {
                    flags |= CAIRLOCK_JSON_ZERO_WIDTH;
                }
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


/// The string at `s->i` (a quote): validated, its text appended, a segment when non-empty. For keys, `key_node`
/// receives what the member's path node needs.
static CAIRLOCK_TARGET CAIRLOCK_ALWAYS_INLINE int CAIRLOCK_NAME(walk_string)(walk_state *s, int32_t node, int is_key, uint32_t *flags_out, size_t *decoded_count) {
    size_t start = s->i + 1;
    CAirlockSIMD_JSONString found = CAIRLOCK_NAME(scan_string)(s->p, start, s->n, s->text + s->text_count);
    if (!found.ok) return CAIRLOCK_WALK_FALLBACK;
    uint32_t flags = found.flags;
    if (flags & (CAIRLOCK_JSON_LONE_SURROGATE | CAIRLOCK_JSON_ZERO_WIDTH)) return CAIRLOCK_WALK_FALLBACK;
    size_t end = found.end;
    s->i = end + 1;
    if (flags_out) *flags_out = flags;
    if (decoded_count) *decoded_count = found.written;
    if (end == start) return CAIRLOCK_WALK_DONE;
    if (!is_key && s->options->nested_allowed) {
        uint8_t first = s->p[start];
        if ((first == '{' || first == '[' || first <= 0x20) && looks_like_json(s->p, start, end)) {
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

static CAIRLOCK_TARGET int CAIRLOCK_NAME(walk_object)(walk_state *s, int32_t parent) {
    if (++s->depth > s->options->max_depth) return CAIRLOCK_WALK_FALLBACK;
    s->i++;
    skip_space(s);
    if (s->i < s->n && s->p[s->i] == '}') {
        s->i++;
        s->depth--;
        return CAIRLOCK_WALK_DONE;
    }
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
        status = CAIRLOCK_NAME(walk_string)(s, node, 1, &key_flags, &decoded);
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
            status = CAIRLOCK_NAME(walk_string)(s, node, 0, NULL, NULL);
        } else {
            status = CAIRLOCK_NAME(walk_value)(s, node);
        }
        if (status != CAIRLOCK_WALK_DONE) return status;
        skip_space(s);
        if (s->i >= s->n) return CAIRLOCK_WALK_FALLBACK;
        if (s->p[s->i] == ',') {
            s->i++;
            skip_space(s);
            continue;
        }
        if (s->p[s->i] != '}') return CAIRLOCK_WALK_FALLBACK;
        s->i++;
        s->depth--;
        return CAIRLOCK_WALK_DONE;
    }
}

static CAIRLOCK_TARGET int CAIRLOCK_NAME(walk_array)(walk_state *s, int32_t parent) {
    if (++s->depth > s->options->max_depth) return CAIRLOCK_WALK_FALLBACK;
    s->i++;
    skip_space(s);
    if (s->i < s->n && s->p[s->i] == ']') {
        s->i++;
        s->depth--;
        return CAIRLOCK_WALK_DONE;
    }
    for (int32_t index = 0;; index++) {
        if (s->i >= s->n) return CAIRLOCK_WALK_FALLBACK;
        uint8_t b = s->p[s->i];
        int status;
        if (b == '"' || b == '{' || b == '[') {
            // Only strings and containers can hold a segment, so only they need a path node.
            int32_t node;
            status = push_node(s, parent, index, 0, 0, 0, &node);
            if (status == CAIRLOCK_WALK_DONE) {
                status = b == '"' ? CAIRLOCK_NAME(walk_string)(s, node, 0, NULL, NULL) : CAIRLOCK_NAME(walk_value)(s, node);
            }
        } else {
            status = CAIRLOCK_NAME(walk_value)(s, parent);
        }
        if (status != CAIRLOCK_WALK_DONE) return status;
        skip_space(s);
        if (s->i >= s->n) return CAIRLOCK_WALK_FALLBACK;
        if (s->p[s->i] == ',') {
            s->i++;
            skip_space(s);
            continue;
        }
        if (s->p[s->i] != ']') return CAIRLOCK_WALK_FALLBACK;
        s->i++;
        s->depth--;
        return CAIRLOCK_WALK_DONE;
    }
}

static CAIRLOCK_TARGET int CAIRLOCK_NAME(walk_value)(walk_state *s, int32_t node) {
    if (s->i >= s->n) return CAIRLOCK_WALK_FALLBACK;
    switch (s->p[s->i]) {
    case '{': return CAIRLOCK_NAME(walk_object)(s, node);
    case '[': return CAIRLOCK_NAME(walk_array)(s, node);
    case '"': return CAIRLOCK_NAME(walk_string)(s, node, 0, NULL, NULL);
    case 't': return walk_literal(s, "true", 4);
    case 'f': return walk_literal(s, "false", 5);
    case 'n': return walk_literal(s, "null", 4);
    case '-':
    case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7': case '8': case '9':
        return walk_number(s);
    default: return CAIRLOCK_WALK_FALLBACK;
    }
}


/// The whole document (see `CAirlockSIMD_json_walk`).
static CAIRLOCK_TARGET int CAIRLOCK_NAME(walk_document)(walk_state *s) {
    skip_space(s);
    int status = CAIRLOCK_NAME(walk_value)(s, -1);
    if (status == CAIRLOCK_WALK_DONE) {
        skip_space(s);
        if (s->i != s->n) status = CAIRLOCK_WALK_FALLBACK;
    }
    return status;
}
