import AirlockPolicy
import AirlockSupport
internal import CAirlockSIMD
import Foundation

extension JSONRedactor {
    /// Redacts one string (key or value) in place, through an edit when anything changes.
    mutating func redactString(_ token: StringToken, isKey: Bool) throws(Stop) {
        guard token.end > token.start else { return }
        let zeroWidth =
            token.fromKernel ? token.zeroWidth : token.nonASCII && Self.containsZeroWidth(p, token.start, token.end)
        var maybeNested =
            !isKey
            && (p[token.start] == UInt8(ascii: "{") || p[token.start] == UInt8(ascii: "[") || p[token.start] <= 0x20)
            && session.nesting < Self.maxNesting && Self.looksLikeJSON(p, token.start, token.end)
        if !isKey, p[token.start] == UInt8(ascii: "\\"), session.nesting < Self.maxNesting,
            Self.escapeMayLeadJSON(p[token.start + 1])
        {
            // `"\n{\"a\":...}"`, `"\u007b..."`: only the decoded text shows a document (the C walk checks the same).
            if token.textCount >= 0 {
                let decoded = UnsafeBufferPointer(start: text + textCount, count: token.textCount)
                maybeNested = Self.decodedLooksLikeJSON(decoded)
            } else {
                maybeNested = try decodeString(token).withUnsafeBufferPointer { Self.decodedLooksLikeJSON($0) }
            }
        }
        if !maybeNested, token.textCount >= 0 || !token.escaped {
            // An embedded payload (a `data:` URL, a long run of base64) is decoded and inspected on its own.
            let start = token.textCount >= 0 ? UnsafePointer(text + textCount) : p + token.start
            let count = token.textCount >= 0 ? token.textCount : token.end - token.start
            if EmbeddedPayload.mayHold(start, lo: 0, hi: count) {
                try redactEmbedded(token, Array(UnsafeBufferPointer(start: start, count: count)), zeroWidth: zeroWidth)
                return
            }
        }
        if token.textCount >= 0 && !zeroWidth && !maybeNested {
            // The kernel already put the text where the scan reads it.
            queueInPlace(token.start..<token.end, escaped: token.escaped, count: token.textCount)
            return
        }
        if !token.escaped && !zeroWidth && !maybeNested {
            // The common case: the bytes are exactly what a reader sees. Scanned later, with everything else.
            queue(
                token.start..<token.end,
                escaped: false,
                UnsafeBufferPointer(start: p + token.start, count: token.end - token.start)
            )
            return
        }
        var decoded = decodeBuffer
        decodeBuffer = []
        defer { decodeBuffer = decoded }
        try decodeString(token, into: &decoded)
        if maybeNested, let nested = try redactNested(decoded) {
            if let nested { edits.append((token.start..<token.end, rewritten(token, nested))) }
            return
        }
        // A `\u` escape can spell an invisible character (`\u200b`) too.
        let hidden = zeroWidth || (token.unicodeEscape && Self.containsZeroWidth(decoded))
        if decoded.withUnsafeBufferPointer({ EmbeddedPayload.mayHold($0.baseAddress!, lo: 0, hi: $0.count) }) {
            try redactEmbedded(token, decoded, zeroWidth: hidden)
            return
        }
        if !hidden {
            decoded.withUnsafeBufferPointer { queue(token.start..<token.end, escaped: true, $0) }
            return
        }
        // Invisible characters: matching needs its own normalized copy, so this string is scanned on its own.
        let path = pathSteps()
        let arena = keyArena
        let base = p
        let session = self.session
        let result = try decoded.withUnsafeBufferPointer { (d) throws(Stop) -> [UInt8]? in
            try session.redactSegment(
                d.baseAddress!,
                lo: 0,
                hi: d.count,
                hits: nil,
                zeroWidth: true,
                path: { Self.pathString(path, buffer: base, arena: arena, session: session) }
            )
        }
        if let result { edits.append((token.start..<token.end, rewritten(token, result))) }
    }

    /// Redacts a string that may hold an embedded payload (its decoded content), scanned on its own.
    private mutating func redactEmbedded(_ token: StringToken, _ content: [UInt8], zeroWidth: Bool) throws(Stop) {
        let path = currentPathString()
        let depth = depth
        let result = try content.withUnsafeBufferPointer { (c) throws(Stop) -> [UInt8]? in
            try session.redactText(
                c.baseAddress!,
                lo: 0,
                hi: c.count,
                zeroWidth: zeroWidth,
                whole: true,
                depth: depth,
                path: path
            )
        }
        if let result { edits.append((token.start..<token.end, rewritten(token, result))) }
    }

    /// The string value at `i` of a field a policy declares base64: decoded and inspected by what it holds.
    mutating func declaredBase64String() throws(Stop) {
        let token = try stringToken()
        let decoded = try decodeString(token)
        let path = currentPathString()
        let depth = depth
        let result = try decoded.withUnsafeBufferPointer { (d) throws(Stop) -> [UInt8]? in
            try session.redactDeclaredBase64(d, depth: depth, path: path)
        }
        if let result { edits.append((token.start..<token.end, rewritten(token, result))) }
    }

    /// Names the current path when called (only when something is recorded), without holding on to the walker.
    private func currentPathString() -> () -> String? {
        let path = pathSteps()
        let arena = keyArena
        let base = p
        let session = session
        return { Self.pathString(path, buffer: base, arena: arena, session: session) }
    }

    /// Whether a `fields` rule with `encoding: base64` selects the current path.
    func declaresBase64() -> Bool {
        let path = pathSteps()
        return session.rules.base64Fields.contains { matches($0[...], from: 0, path: path) }
    }

    /// Queues the `count` bytes of text the kernel wrote at `textCount` for the single scan.
    @inline(__always)
    private mutating func queueInPlace(_ raw: Range<Int>, escaped: Bool, count: Int) {
        let start = textCount
        let end = start + count
        precondition(end + 16 < textCapacity, "JSON text buffer sized below its contents")
        segments.append(Segment(textStart: start, textEnd: end, raw: raw, escaped: escaped, node: currentNode))
        text[end] = 0x0A
        textCount = end + 1
    }

    /// Queues a string's text for the single scan.
    @inline(__always)
    mutating func queue(_ raw: Range<Int>, escaped: Bool, _ content: UnsafeBufferPointer<UInt8>) {
        let start = textCount
        let end = start + content.count
        precondition(end + 16 < textCapacity, "JSON text buffer sized below its contents")
        if let source = content.baseAddress {
            if !escaped, content.count <= 16, source + 16 <= p + n {
                // Most keys and many values are short: one unaligned 16-byte copy instead of a call to memmove.
                // Only for bytes of the walked buffer (`!escaped`), where 16 bytes are known readable. Whatever
                // lands past `end` is overwritten by what follows or never read.
                UnsafeMutableRawPointer(text + start).storeBytes(
                    of: UnsafeRawPointer(source).loadUnaligned(as: (UInt64, UInt64).self),
                    as: (UInt64, UInt64).self
                )
            } else {
                (text + start).update(from: source, count: content.count)
            }
        }
        segments.append(Segment(textStart: start, textEnd: end, raw: raw, escaped: escaped, node: currentNode))
        // A newline between strings: a word boundary, and outside the classes of the built-in detectors.
        text[end] = 0x0A
        textCount = end + 1
    }

    /// Tries the decoded content of a string as a JSON document of its own (Labelbox `row_data`).
    ///
    /// Returns `nil` when it is not a JSON document (the caller then redacts it as text), `.some(nil)` when it is and
    /// nothing changed, and the redacted document otherwise.
    private mutating func redactNested(_ decoded: [UInt8]) throws(Stop) -> [UInt8]?? {
        let prefix = pathSteps().map { step -> PathEntry in
            guard step.isKey else { return .element(step.index) }
            return PathEntry(index: -1, keyStart: 0, keyCount: step.keyCount, owned: keyBytes(step))
        }
        // The levels of the documents around this one count against the same depth limit, so JSON in strings in
        // JSON cannot multiply the recursion (four documents 511 deep each overflowed a debug build's stack).
        session.nesting += 1
        session.enclosingDepth += depth
        defer {
            session.nesting -= 1
            session.enclosingDepth -= depth
        }
        let snapshot = session.snapshotFindings()
        do {
            let result = try decoded.withUnsafeBufferPointer { (d) throws(Stop) -> [UInt8]? in
                try JSONRedactor.redact(d, session: session, prefix: prefix)
            }
            return .some(result)
        } catch {
            switch error {
            case .blocked, .uninspectablePayload: throw error
            case .uninspectable:
                // Not a JSON document after all; forget what the attempt recorded, the text scan records its own.
                session.restoreFindings(snapshot)
                return nil
            }
        }
    }

    @inline(__always)
    static func looksLikeJSON(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> Bool {
        var k = start
        while k < end, p[k] == 0x20 || p[k] == 0x0A || p[k] == 0x0D || p[k] == 0x09 { k += 1 }
        guard k < end else { return false }
        if p[k] == UInt8(ascii: "{") { return true }
        // Escaped strings: `{\"a\"...` is the common shape; `[` followed by a value start.
        if p[k] == UInt8(ascii: "[") {
            var m = k + 1
            while m < end, p[m] == 0x20 || p[m] == 0x0A || p[m] == 0x0D || p[m] == 0x09 { m += 1 }
            return m < end && (p[m] == UInt8(ascii: "{") || p[m] == UInt8(ascii: "[") || p[m] == UInt8(ascii: "\\"))
        }
        return false
    }

    /// Whether an escape (the byte after its backslash) may decode to the whitespace, `{` or `[` that starts a JSON
    /// document: the others (`\"`, `\\`, `\/`, `\b`, `\f`) never do.
    @inline(__always)
    static func escapeMayLeadJSON(_ b: UInt8) -> Bool {
        b == UInt8(ascii: "n") || b == UInt8(ascii: "r") || b == UInt8(ascii: "t") || b == UInt8(ascii: "u")
    }

    /// `looksLikeJSON` over the decoded text of a string that starts with an escape: after whitespace, `{`, or `[`
    /// followed by `{`, `[` or `"`. The C walk's `decoded_looks_like_json` is the same test.
    static func decodedLooksLikeJSON(_ d: UnsafeBufferPointer<UInt8>) -> Bool {
        @inline(__always) func space(_ b: UInt8) -> Bool { b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 }
        var k = 0
        while k < d.count, space(d[k]) { k += 1 }
        guard k < d.count else { return false }
        if d[k] == UInt8(ascii: "{") { return true }
        guard d[k] == UInt8(ascii: "[") else { return false }
        var m = k + 1
        while m < d.count, space(d[m]) { m += 1 }
        return m < d.count && (d[m] == UInt8(ascii: "{") || d[m] == UInt8(ascii: "[") || d[m] == UInt8(ascii: "\""))
    }

    static func containsZeroWidth(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBufferPointer { containsZeroWidth($0.baseAddress!, 0, $0.count) }
    }

    static func containsZeroWidth(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> Bool {
        var k = start
        while k < end {
            if p[k] >= 0xC2, UTF8Text.foldedLength(p, k, end) > 0 { return true }
            k += 1
        }
        return false
    }
}
