/// Text holding percent-escapes (`Kestrel%20Ridge`, `owner=jane.doe%40lab.example.com`, `https%3A%2F%2Fwiki…`) is
/// matched twice: as written and percent-decoded (`PercentEscapes.decodeForMatching`). A match in the decoded text
/// replaces the whole source span it came from, escapes included, and its replacement is percent-encoded when that
/// span held an escape, so a reader decoding the string reads the replacement; every byte outside a match stays as
/// it came.
extension RedactionSession {
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
        let decoded = PercentEscapes.decodeForMatching(p, lo, hi)
        return try decoded.bytes.withUnsafeBufferPointer { (d) throws(Stop) -> [UInt8]? in
            let decodedZeroWidth = UTF8Text.summarize(d).hasZeroWidth
            // The decoded matches in the source's offsets, with their decoded span.
            var placed: [(source: Match, decoded: Range<Int>)] = []
            if let base = d.baseAddress, d.count > 0 {
                for match in try segmentMatches(base, lo: 0, hi: d.count, hits: nil, zeroWidth: decodedZeroWidth) {
                    var source = match
                    source.start = decoded.origins[match.start]
                    source.end = decoded.origins[match.end]
                    placed.append((source, match.start..<match.end))
                }
            }
            if placed.isEmpty && asWritten.isEmpty { return nil }
            let matches = Self.resolveOverlaps(placed.map(\.source) + asWritten, rules: rules.rules)
            return try write(matches, p, lo: lo, hi: hi, path: path) { match in
                if let found = placed.first(where: {
                    $0.source.start == match.start && $0.source.end == match.end && $0.source.rule == match.rule
                        && $0.source.value == match.value
                }) {
                    return MatchedText(
                        value: UnsafeBufferPointer(rebasing: d[found.decoded]),
                        zeroWidth: decodedZeroWidth,
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
    }
}
