/// A name glued to text another rule replaces (`881234Nightingale812345`: a run id on each side) is judged on its
/// original neighbours, which are word characters, so it is not a whole word and does not match; once the neighbours
/// are replaced (`[REDACTED:RUN_ID]Nightingale[REDACTED:RUN_ID]`, or a hash or pseudonym glued to it), a reader sees
/// it stand alone in what leaves. So the segment is judged again with every replacement read as a boundary: the text
/// kept between replacements is scanned with a space where each replacement goes, and any match that lies wholly in
/// kept text is added (repeatedly, as one can free the next). Replacements themselves are never matched again (a
/// pseudonym that looks like an address stays one token).
extension RedactionSession {
    /// Rounds of judging again before a segment is refused instead: each round needs a name freed by the previous
    /// one, which ordinary text never chains this deep.
    static let maxGluedRounds = 4

    /// `matches` (sorted, disjoint, in `p[lo..<hi]`) with every match that the replacements would free added.
    func closingGluedMatches(
        _ matches: [Match],
        _ p: UnsafePointer<UInt8>,
        lo: Int,
        hi: Int
    ) throws(Stop) -> [Match] {
        var matches = matches
        for _ in 0..<Self.maxGluedRounds {
            // Only a replacement next to a word character can change how that word is judged.
            guard
                matches.contains(where: {
                    UTF8Text.wordBefore(p, $0.start, floor: lo, count: hi) || UTF8Text.wordAt(p, $0.end, count: hi)
                })
            else {
                return matches
            }
            // The segment as it would leave, each replacement read as a boundary (a space), and where each kept run
            // of the source sits in it.
            var out: [UInt8] = []
            out.reserveCapacity(hi - lo + matches.count)
            var kept: [(output: Int, source: Range<Int>)] = []
            var cursor = lo
            for match in matches {
                if match.start > cursor {
                    kept.append((out.count, cursor..<match.start))
                    out.append(contentsOf: UnsafeBufferPointer(start: p + cursor, count: match.start - cursor))
                }
                out.append(0x20)
                cursor = match.end
            }
            if hi > cursor {
                kept.append((out.count, cursor..<hi))
                out.append(contentsOf: UnsafeBufferPointer(start: p + cursor, count: hi - cursor))
            }
            // The member's credential value (`JSONCredentialMembers`) was judged on the segment itself.
            let credential = credentialValue
            credentialValue = false
            defer { credentialValue = credential }
            let freed = try out.withUnsafeBufferPointer { (o) throws(Stop) -> [Match] in
                guard let base = o.baseAddress, o.count > 0 else { return [] }
                let again = try segmentMatches(
                    base,
                    lo: 0,
                    hi: o.count,
                    hits: nil,
                    zeroWidth: UTF8Text.summarize(o).hasZeroWidth
                )
                return again.compactMap { match in
                    // Wholly inside one kept run: the same bytes in the source.
                    guard
                        let run = kept.last(where: { $0.output <= match.start }),
                        match.end <= run.output + run.source.count
                    else { return nil }
                    var moved = match
                    moved.start = run.source.lowerBound + match.start - run.output
                    moved.end = run.source.lowerBound + match.end - run.output
                    return moved
                }
            }
            if freed.isEmpty { return matches }
            matches = (matches + freed).sorted { $0.start < $1.start }
        }
        throw .uninspectable("names glued to replaced text \(Self.maxGluedRounds) deep or more")
    }
}
