/// Text holding percent-escapes (`Kestrel%20Ridge`, `owner=jane.doe%40lab.example.com`, `https%3A%2F%2Fwiki…`) is
/// matched as written and percent-decoded (`PercentEscapes.decodeForMatching`), again while the decoded text still
/// holds escapes, up to `maxPercentLevels` times (`%252F` is a doubly encoded `/`). A match in decoded text replaces
/// the whole source span it came from, escapes included, and its replacement is percent-encoded when that span held
/// an escape, so a reader decoding the string reads the replacement; every byte outside a match stays as it came.
extension RedactionSession {
    static let maxPercentLevels = 3

    /// `redactSegment` for a segment that holds a `%XX` escape.
    func redactPercentEncoded(
        _ p: UnsafePointer<UInt8>,
        lo: Int,
        hi: Int,
        hits: ArraySlice<Hit>?,
        zeroWidth: Bool,
        path: () -> String?
    ) throws(Stop) -> [UInt8]? {
        let asWritten = try segmentMatches(p, lo: lo, hi: hi, hits: hits, zeroWidth: zeroWidth)
        /// One decoded level: its text, whether it holds invisible characters.
        var levels: [(text: UnsafeMutableBufferPointer<UInt8>, zeroWidth: Bool)] = []
        defer { for level in levels { level.text.deallocate() } }
        /// A match found in decoded text: in the source's offsets, and its level and span there.
        var placed: [(source: Match, level: Int, decoded: Range<Int>)] = []
        var text = UnsafeBufferPointer(start: p + lo, count: hi - lo)
        // The source offset of each byte of `text` (and of its end); `nil` while `text` is the source itself.
        var origins: [Int]? = nil
        while levels.count < Self.maxPercentLevels, let base = text.baseAddress,
            PercentEscapes.containsEscape(base, 0, text.count)
        {
            let decoded = PercentEscapes.decodeForMatching(base, 0, text.count)
            let sourceOrigins =
                origins.map { outer in decoded.origins.map { outer[$0] } } ?? decoded.origins.map { lo + $0 }
            let copy = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(decoded.bytes.count, 1))
            _ = copy.initialize(from: decoded.bytes)
            let level = UnsafeBufferPointer(start: copy.baseAddress, count: decoded.bytes.count)
            let levelZeroWidth = UTF8Text.summarize(level).hasZeroWidth
            levels.append((copy, levelZeroWidth))
            if level.count > 0 {
                for match in try segmentMatches(
                    level.baseAddress!,
                    lo: 0,
                    hi: level.count,
                    hits: nil,
                    zeroWidth: levelZeroWidth
                ) {
                    var source = match
                    source.start = sourceOrigins[match.start]
                    source.end = sourceOrigins[match.end]
                    placed.append((source, levels.count - 1, match.start..<match.end))
                }
            }
            text = level
            origins = sourceOrigins
        }
        if placed.isEmpty && asWritten.isEmpty { return nil }
        let matches = Self.resolveOverlaps(placed.map(\.source) + asWritten, rules: rules.rules)
        // The decoded match behind each source span (the first level found it; a body can hold many matches).
        var placedAt: [SpanKey: Int] = [:]
        for (k, entry) in placed.enumerated() {
            let key = SpanKey(entry.source)
            if placedAt[key] == nil { placedAt[key] = k }
        }
        return try write(matches, p, lo: lo, hi: hi, path: path) { match in
            if let k = placedAt[SpanKey(match)] {
                let found = placed[k]
                let level = levels[found.level]
                return MatchedText(
                    value: UnsafeBufferPointer(
                        start: level.text.baseAddress! + found.decoded.lowerBound,
                        count: found.decoded.count
                    ),
                    zeroWidth: level.zeroWidth,
                    percentEncoded: found.decoded.count != match.end - match.start
                )
            }
            return MatchedText(
                value: UnsafeBufferPointer(start: p + match.start, count: match.end - match.start),
                zeroWidth: zeroWidth,
                percentEncoded: false
            )
        }
    }

    private struct SpanKey: Hashable {
        var start: Int
        var end: Int
        var rule: Int32
        var value: Int32

        init(_ match: Match) {
            start = match.start
            end = match.end
            rule = match.rule
            value = match.value
        }
    }
}
