import AirlockPolicy
import AirlockSupport
import Foundation

extension RedactionSession {
    // MARK: Scanning

    /// Runs the single-pass database over `bytes` and returns the hits, offsets shifted by `base`.
    func scan(_ bytes: UnsafeBufferPointer<UInt8>, base: Int) throws(Stop) -> [Hit] {
        guard let fast = rules.fast else { return [] }
        sink.base = base
        // Most bodies have a few dozen hits: one allocation instead of doubling from one.
        if sink.hits.capacity == 0 { sink.hits.reserveCapacity(64) }
        fast.scanEnds(bytes, scratch: scratch, into: sink)
        if let failure = sink.failure {
            sink.failure = nil
            throw .uninspectable("the pattern scan failed (Vectorscan error \(failure))")
        }
        if sink.hits.count >= sink.maxHits {
            throw .uninspectable("more than \(sink.maxHits) rule matches in one body")
        }
        // Hand the buffer over instead of sharing it, so the next scan does not copy it on write.
        let hits = sink.hits
        sink.hits = []
        return hits
    }

    /// Turns the hits inside `p[lo..<hi]` into non-overlapping matches: starts resolved, word boundaries and
    /// suffixes applied, detector options and hotwords checked, allow-listed spans removed, overlaps resolved by
    /// action precedence then leftmost-longest. Sorted by start.
    func resolve(_ p: UnsafePointer<UInt8>, lo: Int, hi: Int, hits: ArraySlice<Hit>) throws(Stop) -> [Match] {
        // Judged values are remembered within one text only (scratch buffers are reused for the next one).
        lastAssignment = nil
        defer { lastAssignment = nil }
        var candidates: [Match] = []
        var allowed: [Range<Int>] = []
        var regexHits: [Hit] = []
        var gaps: [Int] = []
        resolveLiterals(p, lo: lo, hi: hi, hits: hits, into: &candidates, allowed: &allowed) { hit, info in
            if info.gapTrigger { gaps.append(hit.end) } else { regexHits.append(hit) }
        }
        if !gaps.isEmpty {
            try resolveGaps(p, lo: lo, hi: hi, ends: gaps, into: &candidates, allowed: &allowed)
        }
        if !regexHits.isEmpty {
            try resolveRegexes(p, lo: lo, hi: hi, hits: regexHits, into: &candidates)
        }
        if candidates.isEmpty { return [] }
        if !allowed.isEmpty {
            candidates.removeAll { match in
                allowed.contains { $0.lowerBound <= match.start && match.end <= $0.upperBound }
            }
        }
        return Self.resolveOverlaps(candidates, rules: rules.rules)
    }

    /// The term and allow-list hits among `hits`: starts found from the scalar count, word boundaries and suffixes
    /// applied. Every other hit (regular expressions, the gap trigger) goes to `other`.
    @inline(__always)
    private func resolveLiterals(
        _ p: UnsafePointer<UInt8>,
        lo: Int,
        hi: Int,
        hits: ArraySlice<Hit>,
        into candidates: inout [Match],
        allowed: inout [Range<Int>],
        other: (Hit, ExpressionInfo) -> Void
    ) {
        for hit in hits {
            let info = rules.expressions[Int(hit.id)]
            if info.value < 0 {
                other(hit, info)
                continue
            }
            guard let start = UTF8Text.start(p, end: hit.end, scalars: Int(info.scalars), floor: lo) else { continue }
            // Read in place: copying a `CompiledRule` retains every string and array in it.
            if rules.rules[Int(info.rule)].kind == .allow {
                allowed.append(start..<hit.end)
                continue
            }
            if info.wholeWord, UTF8Text.wordBefore(p, start, floor: lo, count: hi) { continue }
            var end = hit.end
            if info.variants {
                let extended = TermVariants.suffixEnd(p, end: end, limit: hi)
                if extended > end, !info.wholeWord || !UTF8Text.wordAt(p, extended, count: hi) { end = extended }
            }
            if info.wholeWord, end == hit.end, UTF8Text.wordAt(p, end, count: hi) { continue }
            candidates.append(Match(start: start, end: end, rule: info.rule, value: info.value))
        }
    }

    /// Terms whose words are separated by a gap `GapTrigger` reported (ending at each of `ends`): each window around
    /// one is read as `NormalizedText(readingGapsIn:)`, scanned again, and its term and allow-list matches mapped
    /// back to whole original characters. Patterns and detectors come from the scan of the text as written.
    private func resolveGaps(
        _ p: UnsafePointer<UInt8>,
        lo: Int,
        hi: Int,
        ends: [Int],
        into candidates: inout [Match],
        allowed: inout [Range<Int>]
    ) throws(Stop) {
        var windows: [Range<Int>] = []
        for end in ends {
            let window = GapTrigger.window(p, end: end, reach: rules.gapReach, lo: lo, hi: hi)
            if let last = windows.last, window.lowerBound <= last.upperBound {
                windows[windows.count - 1] = last.lowerBound..<max(last.upperBound, window.upperBound)
            } else {
                windows.append(window)
            }
        }
        for window in windows where !window.isEmpty {
            let normalized = NormalizedText(
                readingGapsIn: UnsafeBufferPointer(start: p + window.lowerBound, count: window.count)
            )
            var found: [Match] = []
            var spans: [Range<Int>] = []
            try normalized.bytes.withUnsafeBufferPointer { (nb) throws(Stop) in
                let hits = try scan(nb, base: 0)
                resolveLiterals(nb.baseAddress!, lo: 0, hi: nb.count, hits: hits[...], into: &found, allowed: &spans) {
                    _,
                    _ in
                }
            }
            for match in found {
                let range = normalized.originalRange(match.start, match.end)
                candidates.append(
                    Match(
                        start: window.lowerBound + range.lowerBound,
                        end: window.lowerBound + range.upperBound,
                        rule: match.rule,
                        value: match.value
                    )
                )
            }
            for span in spans where !span.isEmpty {
                let range = normalized.originalRange(span.lowerBound, span.upperBound)
                allowed.append((window.lowerBound + range.lowerBound)..<(window.lowerBound + range.upperBound))
            }
        }
    }

    // Over 80 lines: hot path; the windows, their merge and the start-of-match scans share buffers built once.
    private func resolveRegexes(
        _ p: UnsafePointer<UInt8>,
        lo: Int,
        hi: Int,
        hits: [Hit],
        into candidates: inout [Match]
    ) throws(Stop) {
        // Each window, and whether a hit in it needs the start-of-match scan (false: only `email` hits).
        var windows: [(range: Range<Int>, scan: Bool)] = []
        windows.reserveCapacity(hits.count)
        var fromEnd: [Hit] = []
        for hit in hits {
            let info = rules.expressions[Int(hit.id)]
            if info.check.valueFromEnd {
                // The end is one past the value's first character: no start to look for.
                fromEnd.append(hit)
                continue
            }
            windows.append((max(lo, hit.end - info.window)..<hit.end, !info.startFromAt))
        }
        for hit in fromEnd where hit.end - 1 >= lo {
            let info = rules.expressions[Int(hit.id)]
            guard let span = accepted(Int(info.rule), info.check, p, start: hit.end - 1, end: hit.end, lo: lo, hi: hi)
            else { continue }
            candidates.append(Match(start: span.lowerBound, end: span.upperBound, rule: info.rule, value: -1))
        }
        guard let som = rules.startOfMatch, !windows.isEmpty else { return }
        windows.sort { $0.range.lowerBound < $1.range.lowerBound }
        var merged: [(range: Range<Int>, scan: Bool)] = []
        for window in windows {
            if let last = merged.last, window.range.lowerBound <= last.range.upperBound {
                merged[merged.count - 1] = (
                    last.range.lowerBound..<max(last.range.upperBound, window.range.upperBound),
                    last.scan || window.scan
                )
            } else {
                merged.append(window)
            }
        }
        // The (expression, end) of every hit, for the spans of start-of-match scans; only built when one runs.
        var wanted = Set<UInt64>()
        if merged.contains(where: { $0.scan }) {
            wanted.reserveCapacity(hits.count)
            for hit in hits { wanted.insert(UInt64(hit.id) << 40 | UInt64(hit.end)) }
        }
        // The longest match for each (expression, start).
        var longest = LongestEnds()
        for (window, scan) in merged {
            if !scan {
                // Only email hits: the start the scan would report, found by walking back from the `@`.
                for hit in hits where window.lowerBound < hit.end && hit.end <= window.upperBound {
                    guard let start = EmailStart.leftmost(p, end: hit.end, floor: window.lowerBound) else { continue }
                    let key = UInt64(hit.id) << 40 | UInt64(start)
                    longest.keep(key, hit.end)
                }
                continue
            }
            sink.spans.removeAll(keepingCapacity: true)
            sink.base = window.lowerBound
            som.scanSpans(
                UnsafeBufferPointer(start: p + window.lowerBound, count: window.count),
                scratch: scratch,
                into: sink
            )
            if let failure = sink.failure {
                sink.failure = nil
                throw .uninspectable("the pattern scan failed (Vectorscan error \(failure))")
            }
            if sink.spans.count >= sink.maxHits { throw .uninspectable("too many rule matches in one body") }
            for span in sink.spans where wanted.contains(UInt64(span.id) << 40 | UInt64(span.end)) {
                let key = UInt64(span.id) << 40 | UInt64(span.start)
                longest.keep(key, span.end)
            }
        }
        for (key, end) in longest.entries {
            let id = Int(key >> 40)
            let start = Int(key & ((1 << 40) - 1))
            let info = rules.expressions[id]
            let kind = rules.rules[Int(info.rule)].kind
            var end = end
            if kind == .detector(.url) || kind == .bareHost {
                // Sentence punctuation after a link is not part of it: "see https://x.internal/a, then".
                while end > start, Self.isTrailingPunctuation(p[end - 1]) { end -= 1 }
            }
            // A match neither keeps nor replaces part of a `%XX` escape (its decoded text is matched as well).
            guard let escaped = PercentEscapes.outsideEscapes(p, start: start, end: end, lo: lo, hi: hi),
                let span = accepted(
                    Int(info.rule),
                    info.check,
                    p,
                    start: escaped.lowerBound,
                    end: escaped.upperBound,
                    lo: lo,
                    hi: hi
                )
            else { continue }
            candidates.append(Match(start: span.lowerBound, end: span.upperBound, rule: info.rule, value: -1))
        }
    }

    /// Detector options, hotwords and secret checks, applied to a resolved regex match: the span to redact (an
    /// address without its port, an assignment's value), or nil when the match does not count.
    // Over 80 lines: one exhaustive switch over rule and detector kinds, each case a few lines.
    private func accepted(
        _ index: Int,
        _ check: SecretCheck,
        _ p: UnsafePointer<UInt8>,
        start: Int,
        end: Int,
        lo: Int,
        hi: Int
    )
        -> Range<Int>?
    {
        let text = { String(decoding: UnsafeBufferPointer(start: p + start, count: end - start), as: UTF8.self) }
        switch rules.rules[index].kind {
        case .pattern:
            guard !rules.rules[index].near.isEmpty else { return start..<end }
            let within = rules.rules[index].within
            let from = max(lo, start - within)
            let to = min(hi, end + within)
            if Hotwords.contains(rules.rules[index].near, in: UnsafeBufferPointer(start: p + from, count: to - from)) {
                return start..<end
            }
            if fieldNameHolds(rules.rules[index].near) { return start..<end }
            return memberContext?.contains(rules.rules[index].near, segment: memberSegment) == true ? start..<end : nil
        case .detector(let kind):
            guard let detector = rules.rules[index].detector else { return start..<end }
            switch kind {
            case .email:
                // The match is ASCII (the expression's classes are), so its last `@` byte is its last `@` character.
                var at = end - 1
                while at >= start, p[at] != UInt8(ascii: "@") { at -= 1 }
                guard at >= start else { return nil }
                if detector.domains.isEmpty { return start..<end }
                return detector.coversEmailDomain(
                    String(decoding: UnsafeBufferPointer(start: p + at + 1, count: end - at - 1), as: UTF8.self)
                ) ? start..<end : nil
            case .url:
                guard let host = URLHost.extract(text(), hasScheme: true) else { return nil }
                return detector.coversHost(host) ? start..<end : nil
            case .ip:
                return AddressSpan.resolve(p, start: start, end: end, lo: lo, hi: hi, detector: detector)
            case .secret:
                switch check {
                case .none:
                    return start..<end
                case .assignment:
                    let value = end - 1
                    let valueEnd: Int
                    if let last = lastAssignment, last.base == p, last.start <= value, value < last.end {
                        // Inside a value already redacted whole: covered. Inside one judged not generated
                        // (`password=changeme=token=Xk9…`): its end is known; the rest is judged on its own.
                        if last.accepted { return nil }
                        valueEnd = last.end
                    } else {
                        valueEnd = SecretValue.valueEnd(p, from: value, hi: hi, SecretValue.isValueByte)
                    }
                    // Weighed on at most its first `judgedBytes`, so a long run of `key=` costs linear time.
                    let accepted = SecretValue.looksGenerated(
                        p,
                        start: value,
                        end: min(valueEnd, value + SecretValue.judgedBytes)
                    )
                    lastAssignment = (p, value, valueEnd, accepted)
                    return accepted ? value..<valueEnd : nil
                case .base64Value(let length):
                    let value = end - 1
                    let valueEnd = SecretValue.valueEnd(p, from: value, hi: hi, SecretValue.isBase64Byte)
                    return valueEnd - value >= length ? value..<valueEnd : nil
                case .generated(let prefix):
                    return SecretValue.looksGenerated(p, start: start + prefix, end: end) ? start..<end : nil
                }
            }
        case .bareHost:
            if start > lo, TermVariants.isAlnum(p[start - 1]) || p[start - 1] == UInt8(ascii: "."),
                !PercentEscapes.escapeEndsAt(p, start, lo: lo, hi: hi)
            {
                return nil
            }
            guard let detector = rules.rules[index].detector, let host = URLHost.extract(text(), hasScheme: false)
            else {
                return nil
            }
            return detector.coversHost(host) ? start..<end : nil
        case .term, .allow:
            return start..<end
        }
    }

    private static func isTrailingPunctuation(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "."), UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: ":"), UInt8(ascii: "!"),
            UInt8(ascii: "?"), UInt8(ascii: ")"), UInt8(ascii: "]"), UInt8(ascii: "}"):
            true
        default:
            false
        }
    }

    /// Keeps the winning matches: highest action precedence first, then leftmost, then longest, then rule order.
    static func resolveOverlaps(_ candidates: [Match], rules: [CompiledRule]) -> [Match] {
        if candidates.count == 1 { return candidates }
        let ordered = candidates.sorted { a, b in
            let pa = rules[Int(a.rule)].action.precedence
            let pb = rules[Int(b.rule)].action.precedence
            if pa != pb { return pa > pb }
            if a.start != b.start { return a.start < b.start }
            if a.end - a.start != b.end - b.start { return a.end - a.start > b.end - b.start }
            return a.rule < b.rule
        }
        // `accepted` stays sorted by start and non-overlapping. A match that overlaps accepted (stronger or equal)
        // ones is not dropped but absorbed: the stronger match grows to cover it, so no part of what a weaker rule
        // matched leaves in clear (`Skylark-10.1.2.3`, a term variant overlapped by an IP address, leaves whole as
        // `[REDACTED:IP]`, not as `Skylark-[REDACTED:IP]`). A grown match is replaced by what its whole span reads
        // (`value` -1), so a pseudonym restores to exactly what was written.
        var accepted: [Match] = []
        for match in ordered {
            var low = 0
            var high = accepted.count
            while low < high {
                let mid = (low + high) / 2
                if accepted[mid].start < match.start { low = mid + 1 } else { high = mid }
            }
            // The accepted matches overlapping `match`: from the one before `low` (if it reaches into it) on.
            var first = low
            if first > 0, accepted[first - 1].end > match.start { first -= 1 }
            var last = low
            while last < accepted.count, accepted[last].start < match.end { last += 1 }
            guard first < last else {
                accepted.insert(match, at: low)
                continue
            }
            // The strongest of the overlapped ones decides (they were accepted in precedence order: the earliest
            // accepted of them is at least as strong as the rest; ties keep the leftmost).
            var merged = accepted[first]
            for other in accepted[first..<last]
            where rules[Int(other.rule)].action.precedence > rules[Int(merged.rule)].action.precedence {
                merged.rule = other.rule
            }
            let start = min(accepted[first].start, match.start)
            let end = max(accepted[last - 1].end, match.end)
            if start != merged.start || end != merged.end || last - first > 1 {
                merged.start = start
                merged.end = end
                merged.value = -1
            }
            accepted.replaceSubrange(first..<last, with: [merged])
        }
        return accepted
    }
}
