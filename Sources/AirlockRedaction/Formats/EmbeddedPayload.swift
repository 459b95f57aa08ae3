internal import CAirlockSIMD

/// A file or document carried inside text as an encoded string: a `data:` URL (any media type, base64 or
/// percent-encoded), or a long run of base64 whose decoded bytes are a known file type (`EmbeddedFileType`) or UTF-8
/// text. Found in JSON strings (keys too), form values, multipart text fields and text bodies, so what it holds is
/// inspected by its type instead of leaving as an opaque string (see `RedactionSession.redactText`).
///
/// A text that starts with the base64 of a known type's magic number is that file whatever its length (a small
/// icon still carries metadata).
///
/// What is not a payload stays text: identifiers, hashes, JWT-like tokens and nonces are shorter than
/// `minRun` (`CAIRLOCK_EMBEDDED_MIN_RUN`) characters, and a long run whose bytes are neither a known type nor UTF-8
/// (random bytes: keys, nonces, ciphertext) carries nothing the policy could recognise, so it is left as it is.
struct EmbeddedPayload {
    enum Form: Equatable {
        /// `data:<media type>;base64,<digits>`
        case dataURLBase64
        /// `data:<media type>,<percent-encoded bytes>`
        case dataURLPercent
        /// A run of base64 on its own; `type` is what its bytes are (`nil`: UTF-8 text, in `text`).
        case base64(EmbeddedFileType?)
    }

    var form: Form
    /// The whole payload in the text: what a new encoding replaces.
    var span: Range<Int>
    /// The encoded bytes: after the comma of a data URL, the digits of a run.
    var body: Range<Int>
    /// A run of base64 that is text: its decoded bytes and how it was written (found while deciding it is text).
    var text: (bytes: [UInt8], layout: Base64Text)?

    static let minRun = Int(CAIRLOCK_EMBEDDED_MIN_RUN)

    /// Whether `bytes` may hold a payload (a `data:`, or a run of `minRun` base64 bytes): the cheap test before `find`.
    /// The C JSON walk hands back every document with a string that passes it.
    @inline(__always)
    static func mayHold(_ p: UnsafePointer<UInt8>, lo: Int, hi: Int) -> Bool {
        hi - lo >= 5 && CAirlockSIMD_may_embed(p + lo, hi - lo) != 0
    }

    /// The payloads in `p[lo..<hi]`, in order, disjoint. `whole`: the text is one value (a JSON string, a form
    /// value), so a `data:` URL at its start runs to its end.
    static func find(_ p: UnsafePointer<UInt8>, lo: Int, hi: Int, whole: Bool) -> [EmbeddedPayload] {
        var found: [EmbeddedPayload] = []
        var k = lo
        while k < hi {
            let at = CAirlockSIMD_find_data_scheme(p, k, hi)
            guard at < hi else { break }
            if let url = dataURL(p, at: at, lo: lo, hi: hi, whole: whole) {
                found.append(url)
                k = url.span.upperBound
            } else {
                k = at + 5
            }
        }
        let urls = found
        var from = lo
        while from < hi {
            var runEnd = 0
            let start = CAirlockSIMD_base64_run(p, from, hi, minRun, &runEnd)
            guard start < hi else { break }
            from = runEnd
            // The parts of the run outside the data URLs already found (whose bodies are runs too).
            var pieceStart = start
            for url in urls where url.span.overlaps(start..<runEnd) {
                if url.span.lowerBound > pieceStart {
                    found += runPayloads(p, pieceStart, url.span.lowerBound)
                }
                pieceStart = max(pieceStart, url.span.upperBound)
            }
            if runEnd > pieceStart { found += runPayloads(p, pieceStart, runEnd) }
        }
        // A value that starts with a small file (an icon, a thumbnail): shorter than a run, but its type is known.
        if CAirlockSIMD_starts_with_file_base64(p + lo, hi - lo) != 0 {
            var end = lo
            while end < hi, Base64Text.digit(p[end]) >= 0 || p[end] == 0x0A || p[end] == 0x0D { end += 1 }
            while end < hi, p[end] == UInt8(ascii: "=") { end += 1 }
            let file = UnsafeBufferPointer(start: p + lo, count: end - lo)
            if !found.contains(where: { $0.span.overlaps(lo..<end) }),
                let type = EmbeddedFileType(sniffing: Base64Text.decodePrefix(file))
            {
                found.append(EmbeddedPayload(form: .base64(type), span: lo..<end, body: lo..<end))
            }
        }
        if found.count > 1 { found.sort { $0.span.lowerBound < $1.span.lowerBound } }
        return found
    }

    // MARK: data: URLs

    /// The `data:` URL at `at`, or `nil` when the text there is not one: `data:` ends a longer word (`metadata:`), or
    /// the media type is not `type/subtype;parameters` up to a comma.
    static func dataURL(_ p: UnsafePointer<UInt8>, at: Int, lo: Int, hi: Int, whole: Bool) -> EmbeddedPayload? {
        if at > lo,
            TermVariants.isAlnum(p[at - 1]) || p[at - 1] == UInt8(ascii: "-") || p[at - 1] == UInt8(ascii: ".")
                || p[at - 1] == UInt8(ascii: "+")
        {
            return nil
        }
        var comma = at + 5
        while comma < hi, comma - at < 5 + maxHeader {
            if isHeaderByte(p[comma]) {
                comma += 1
            } else if p[comma] == 0x20 || p[comma] == 0x09, spaceInHeader(p, at: comma, from: at + 5, hi: hi) {
                comma += 1
            } else {
                break
            }
        }
        guard comma < hi, p[comma] == UInt8(ascii: ",") else { return nil }
        let header = UnsafeBufferPointer(start: p + at + 5, count: comma - at - 5)
        // `;base64` as browsers read it (WHATWG fetch): spaces and tabs around the `;` and before the comma allowed.
        let compact = lowercased(header.filter { $0 != 0x20 && $0 != 0x09 })
        let base64 = compact.count >= 7 && Array(compact.suffix(7)) == Array(";base64".utf8)
        let bodyStart = comma + 1
        var end = bodyStart
        if whole && at == lo {
            end = hi
        } else if base64 {
            // Inside longer text: digits and line breaks, then the padding.
            while end < hi, Base64Text.digit(p[end]) >= 0 || p[end] == 0x0A || p[end] == 0x0D { end += 1 }
            while end < hi, p[end] == UInt8(ascii: "=") { end += 1 }
            while end > bodyStart, p[end - 1] == 0x0A || p[end - 1] == 0x0D { end -= 1 }
        } else {
            while end < hi, !isURLTerminator(p[end]) { end += 1 }
        }
        return EmbeddedPayload(
            form: base64 ? .dataURLBase64 : .dataURLPercent,
            span: at..<end,
            body: bodyStart..<end
        )
    }

    /// The longest media type and parameters looked at before the comma.
    static let maxHeader = 256

    /// `type/subtype;name=value` characters (RFC 2045 tokens, `/`, `;`, `=`, `%` for escaped values, `"` for quoted
    /// ones: `charset="utf-8"`).
    @inline(__always)
    /// Whether the space or tab at `at` belongs to a data URL's header as browsers read it: next to a `;`, or
    /// before the comma (`text/plain; base64,`, `text/plain ;base64 ,`). Prose after `data:` is not a header.
    static func spaceInHeader(_ p: UnsafePointer<UInt8>, at: Int, from: Int, hi: Int) -> Bool {
        var before = at - 1
        while before >= from, p[before] == 0x20 || p[before] == 0x09 { before -= 1 }
        if before >= from, p[before] == UInt8(ascii: ";") { return true }
        var after = at + 1
        while after < hi, p[after] == 0x20 || p[after] == 0x09 { after += 1 }
        return before >= from && after < hi && (p[after] == UInt8(ascii: ";") || p[after] == UInt8(ascii: ","))
    }

    static func isHeaderByte(_ b: UInt8) -> Bool {
        if TermVariants.isAlnum(b) { return true }
        switch b {
        case UInt8(ascii: "/"), UInt8(ascii: ";"), UInt8(ascii: "="), UInt8(ascii: "-"), UInt8(ascii: "+"),
            UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"),
            UInt8(ascii: "&"), UInt8(ascii: "^"), UInt8(ascii: "*"), UInt8(ascii: "~"), UInt8(ascii: "%"),
            UInt8(ascii: "'"), UInt8(ascii: "\""):
            return true
        default:
            return false
        }
    }

    /// Where a percent-encoded data URL inside longer text ends: whitespace, quotes, angle brackets, `)`.
    @inline(__always)
    static func isURLTerminator(_ b: UInt8) -> Bool {
        b <= 0x20 || b == UInt8(ascii: "\"") || b == UInt8(ascii: "'") || b == UInt8(ascii: "<")
            || b == UInt8(ascii: ">") || b == UInt8(ascii: ")") || b == 0x7F
    }

    static func lowercased(_ bytes: some Sequence<UInt8>) -> [UInt8] {
        bytes.map { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") ? $0 | 0x20 : $0 }
    }

    // MARK: Runs of base64

    /// Where in its run a payload may start besides the run's start: after one of these within the first
    /// `prefixReach` bytes (`…/img/iVBORw0KGgo…`, `photo_/9j/4AAQ…`).
    static let prefixReach = 128
    /// The fewest digits a payload found after a prefix must have (96 decoded bytes: random bytes are never that
    /// much valid UTF-8).
    static let minPrefixedRun = 128

    /// The payloads of one run: split after each group of `=` (padding ends a payload: `img=iVBOR…` is a name, an
    /// `=`, then a payload), each piece tried from its start and after a separator near its start.
    static func runPayloads(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> [EmbeddedPayload] {
        var payloads: [EmbeddedPayload] = []
        var pieceStart = start
        var k = start
        while k <= end {
            let atEnd = k == end
            if !atEnd, p[k] != UInt8(ascii: "=") {
                k += 1
                continue
            }
            while k < end, p[k] == UInt8(ascii: "=") { k += 1 }
            if let payload = piecePayload(p, pieceStart, k) { payloads.append(payload) }
            pieceStart = k
            if atEnd { break }
        }
        return payloads
    }

    /// The payload in `p[start..<end]` (a run without `=` but at its end), if any.
    private static func piecePayload(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> EmbeddedPayload? {
        var lo = start
        var hi = end
        while lo < hi, p[lo] == 0x0A || p[lo] == 0x0D { lo += 1 }
        while hi > lo, p[hi - 1] == 0x0A || p[hi - 1] == 0x0D { hi -= 1 }
        guard hi - lo >= minPrefixedRun else { return nil }
        var candidate = lo
        while candidate < hi {
            if let payload = classify(p, candidate, hi) { return payload }
            // The next start: after a separator, near the start of the piece.
            var next = candidate + 1
            while next < min(hi, lo + prefixReach), !isPrefixSeparator(p[next - 1]) { next += 1 }
            guard next < min(hi, lo + prefixReach), hi - next >= minPrefixedRun else { break }
            candidate = next
        }
        return shiftedText(p, lo, hi)
    }

    /// Text whose base64 follows a prefix of other base64 characters (`"x" + base64(text)`, `key` + base64, a
    /// name glued on): decoded from the run's start, the digits are out of step and read as random bytes. Every
    /// start within the first `prefixReach` characters is tried, in the four alignments: the decoded bytes from
    /// each start are looked at first (text reads as UTF-8 at once, random bytes almost never do for 48 bytes; a
    /// known file type by its magic number),
    /// and only a start that passes is decoded whole by `classify` (which also allows up to 3 characters glued
    /// after the text). Random runs (keys, hashes) pass nowhere and stay as they are.
    private static func shiftedText(_ p: UnsafePointer<UInt8>, _ lo: Int, _ hi: Int) -> EmbeddedPayload? {
        // Where each of the first digits is (line breaks skipped), and their values.
        var offsets: [Int] = []
        var values: [UInt8] = []
        let wanted = prefixReach + 64 + 3
        offsets.reserveCapacity(wanted)
        var k = lo
        while k < hi, offsets.count < wanted {
            let value = Base64Text.digit(p[k])
            if value >= 0 {
                offsets.append(k)
                values.append(UInt8(value))
            } else if p[k] != 0x0A && p[k] != 0x0D {
                break
            }
            k += 1
        }
        for alignment in 0..<4 {
            // The bytes decoded from digit `alignment` on, three per quantum.
            var bytes: [UInt8] = []
            var d = alignment
            while d + 4 <= values.count {
                let v =
                    UInt32(values[d]) << 18 | UInt32(values[d + 1]) << 12 | UInt32(values[d + 2]) << 6
                    | UInt32(values[d + 3])
                bytes += [
                    UInt8(truncatingIfNeeded: v >> 16), UInt8(truncatingIfNeeded: v >> 8), UInt8(truncatingIfNeeded: v),
                ]
                d += 4
            }
            // Alignment 0 from its first quantum: the run's start itself was tried already.
            var quantum = alignment == 0 ? 1 : 0
            while alignment + 4 * quantum < min(prefixReach, values.count), 3 * quantum + 48 <= bytes.count {
                let start = offsets[alignment + 4 * quantum]
                let head = bytes[(3 * quantum)..<(3 * quantum + 48)]
                if hi - start >= minPrefixedRun,
                    looksLikeText(head) || EmbeddedFileType(sniffing: Array(head)) != nil,
                    let payload = classify(p, start, hi)
                {
                    return payload
                }
                quantum += 1
            }
        }
        return nil
    }

    /// Whether decoded bytes could start text: valid UTF-8 (a sequence cut off at the end allowed), no control
    /// characters but tab and line breaks.
    private static func looksLikeText(_ bytes: ArraySlice<UInt8>) -> Bool {
        guard !bytes.contains(where: { $0 < 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D || $0 == 0x7F }) else {
            return false
        }
        return isUTF8Prefix(Array(bytes))
    }

    @inline(__always)
    private static func isPrefixSeparator(_ b: UInt8) -> Bool {
        b == UInt8(ascii: "/") || b == UInt8(ascii: "+") || b == UInt8(ascii: "-") || b == UInt8(ascii: "_")
            || b == 0x0A
    }

    /// What `p[start..<end]` is as base64: a known file type by its first bytes, or text when all of it decodes to
    /// UTF-8; `nil` otherwise.
    private static func classify(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> EmbeddedPayload? {
        let digits = UnsafeBufferPointer(start: p + start, count: end - start)
        let head = Base64Text.decodePrefix(digits)
        if let type = EmbeddedFileType(sniffing: head) {
            return EmbeddedPayload(form: .base64(type), span: start..<end, body: start..<end)
        }
        // Most runs are not text: the first bytes say so before all of it is decoded.
        guard isUTF8Prefix(head) else { return nil }
        // Up to 3 characters glued after the text (`base64(text) + "x"`) put its last quantum out of step.
        for trailing in 0..<4 where end - trailing > start {
            if trailing > 0, Base64Text.digit(p[end - trailing]) < 0 { break }
            let digits = UnsafeBufferPointer(start: p + start, count: end - trailing - start)
            guard let decoded = Base64Text.decode(digits) else { continue }
            let valid = decoded.bytes.withUnsafeBufferPointer { UTF8Text.summarize($0).valid }
            guard valid, decoded.bytes.count * 4 >= minPrefixedRun * 3 else { continue }
            var payload = EmbeddedPayload(
                form: .base64(nil),
                span: start..<(end - trailing),
                body: start..<(end - trailing)
            )
            payload.text = decoded
            return payload
        }
        return nil
    }

    /// Whether `bytes` are valid UTF-8 but for a sequence cut off at the end.
    private static func isUTF8Prefix(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBufferPointer { b in
            var k = 0
            while k < b.count {
                let length = UTF8Text.sequenceLength(b.baseAddress!, k, b.count)
                if length == 0 { return b.count - k < 4 && b[k] >= 0xC2 && b[k] <= 0xF4 }
                k += length
            }
            return true
        }
    }
}
