import AirlockPolicy
import AirlockSupport
import Foundation

/// Why processing of a body stopped early.
enum Stop: Error {
    case blocked(rule: String, reason: String)
    case uninspectable(String)
    /// An embedded payload the policy cannot inspect, in a body that is otherwise readable (`EmbeddedPayload`):
    /// refused as uninspectable, but never taken for a parse failure (a JSON-in-a-string attempt is not abandoned
    /// over it).
    case uninspectablePayload(String)
}

/// A resolved match: a byte span and the rule (and dictionary value, for terms) that produced it.
struct Match {
    var start: Int
    var end: Int
    var rule: Int32
    var value: Int32
}

/// Accumulates one rule's finding over a body.
struct FindingBuilder {
    var rule: String
    var action: String
    var count = 0
    var paths: [String] = []
    var fingerprints: [String] = []

    var finding: Finding {
        Finding(rule: rule, action: action, count: count, paths: paths, fingerprints: fingerprints)
    }
}

/// The state of redacting one body: a scratch space, the vendor's keys, the findings so far. Not thread-safe; one
/// per request.
final class RedactionSession {
    let rules: CompiledRules
    let keys: PseudonymKeys
    let vendor: VendorState
    let scratch: OpaquePointer?
    let sink = HitSink()
    let unknownContent: UnknownContent
    let limits: DecompressionLimits
    /// `termFingerprints[rule][value]`: the keyed fingerprint of each dictionary value of a term rule, as the policy
    /// spells it (empty for other rules). Computed once per `Redactor`.
    let termFingerprints: [[String]]
    private var findingIndex: [FindingKey: Int] = [:]
    private(set) var findingBuilders: [FindingBuilder] = []
    /// How many JSON-in-a-string documents deep the walker is.
    var nesting = 0
    /// The JSON depth at which the documents enclosing the current one hold it: counts against the depth limit.
    var enclosingDepth = 0
    /// The JSON walker validates and copies strings with the C kernel (off: the Swift reference, for equivalence
    /// tests).
    var stringKernel = true
    /// Keyed operations (HMAC, AES-SIV) cost microseconds; a body tends to repeat the same few values.
    private var fingerprintCache: [ByteKey: String] = [:]
    private var replacementCache: [ByteKey: [UInt8]] = [:]
    /// The path step of each key named so far (`keyStep`): naming a key redacts it.
    var reportedKeySteps: [ByteKey: [UInt8]] = [:]
    /// The `Redactor`'s steps of names no rule matches in, shared between requests (`nil`: none kept).
    var unmatchedNames: UnmatchedNames?
    /// The JSON object around the value being redacted (segment `memberSegment`), whose other members a pattern's
    /// hotwords see (`JSONMemberContext`); `nil` outside JSON and while naming a key.
    /// The last credential-assignment value judged (`password=…`) in the text being resolved: where it starts and
    /// where its run of value bytes ends. A later `key=` inside the same run (`password=password=…`) is part of that value, already judged:
    /// without this, each match scanned and weighed the rest of the run again (quadratic in the run's length).
    var lastAssignment: (base: UnsafePointer<UInt8>, start: Int, end: Int, accepted: Bool)?
    var memberContext: JSONMemberContext?
    var memberSegment = -1
    /// The segment being redacted is the value of a JSON member whose key names a credential
    /// (`JSONCredentialMembers`): the `secret` detector judges it as an assignment's value.
    var credentialValue = false
    /// Set by `FieldLocator`: a value a `fields` rule selects is handed here (rule index, the walked buffer, the
    /// value's range in it) instead of being replaced.
    var fieldVisitor: ((Int, UnsafePointer<UInt8>, Range<Int>) throws(Stop) -> Void)?
    /// The name of the form or multipart field whose value is being redacted (`RedactionSession+FieldNameContext`).
    var fieldName: [UInt8]?

    init(
        rules: CompiledRules,
        keys: PseudonymKeys,
        vendor: VendorState,
        scratch: OpaquePointer?,
        unknownContent: UnknownContent,
        limits: DecompressionLimits,
        termFingerprints: [[String]]
    ) {
        self.termFingerprints = termFingerprints
        self.rules = rules
        self.keys = keys
        self.vendor = vendor
        self.scratch = scratch
        self.unknownContent = unknownContent
        self.limits = limits
    }

    /// Embedded payloads left uninspected under `content.unknown: pass` (see `recordUninspected`).
    private var uninspected = FindingBuilder(rule: "content.unknown", action: "pass")

    var findings: [Finding] { findingBuilders.map(\.finding) + (uninspected.count > 0 ? [uninspected.finding] : []) }

    /// Records an embedded payload that leaves uninspected because `content.unknown` is `pass`: a `content.unknown`
    /// finding with action `pass` (not a policy action), so the audit log and metrics count what left unread.
    func recordUninspected(path: String?) {
        uninspected.count += 1
        if let path, uninspected.paths.count < Finding.maxPaths, !uninspected.paths.contains(path) {
            uninspected.paths.append(path)
        }
    }

    // MARK: Findings

    /// Records one match (or field) of a rule. `term`: the match is dictionary value `value` of term rule `rule`
    /// written exactly as the policy spells it, whose fingerprint the `Redactor` keeps for every request. `path` is
    /// only built while the finding still takes paths (naming a path redacts its keys).
    func record(
        rule: String,
        action: Action,
        path: @autoclosure () -> String?,
        value: UnsafeBufferPointer<UInt8>?,
        term: (rule: Int, value: Int)? = nil
    ) {
        // A struct key: concatenating rule and action allocated a string on every match.
        let key = FindingKey(rule: rule, action: action)
        let index: Int
        if let existing = findingBuilders.count <= 8 ? smallFindingIndex(key) : findingIndex[key] {
            index = existing
        } else {
            index = findingBuilders.count
            findingBuilders.append(FindingBuilder(rule: rule, action: action.rawValue))
            // Up to 8 builders are found by comparison; the index is only built, and then kept, beyond that.
            if findingBuilders.count > 8 {
                if findingIndex.isEmpty {
                    for (k, builder) in findingBuilders.enumerated() {
                        guard let builtAction = Action(rawValue: builder.action) else {
                            preconditionFailure("a finding's action is always an Action's raw value")
                        }
                        findingIndex[FindingKey(rule: builder.rule, action: builtAction)] = k
                    }
                } else {
                    findingIndex[key] = index
                }
            }
        }
        findingBuilders[index].count += 1
        if findingBuilders[index].paths.count < Finding.maxPaths, let path = path(),
            !findingBuilders[index].paths.contains(path)
        {
            findingBuilders[index].paths.append(path)
        }
        if let value, findingBuilders[index].fingerprints.count < Finding.maxFingerprints {
            let fingerprint: String
            if let term {
                fingerprint = termFingerprints[term.rule][term.value]
                if !findingBuilders[index].fingerprints.contains(fingerprint) {
                    findingBuilders[index].fingerprints.append(fingerprint)
                }
                return
            }
            let bytes = Array(value)
            if let cached = fingerprintCache[ByteKey(bytes)] {
                fingerprint = cached
            } else {
                fingerprint = keys.fingerprint(bytes)
                fingerprintCache[ByteKey(bytes)] = fingerprint
            }
            if !findingBuilders[index].fingerprints.contains(fingerprint) {
                findingBuilders[index].fingerprints.append(fingerprint)
            }
        }
    }

    /// The builder of `key` among few builders: comparing a handful of short strings beats hashing one.
    @inline(__always)
    private func smallFindingIndex(_ key: FindingKey) -> Int? {
        for k in findingBuilders.indices
        where findingBuilders[k].rule == key.rule && findingBuilders[k].action == key.action.rawValue {
            return k
        }
        return nil
    }

    struct FindingsSnapshot {
        fileprivate var builders: [FindingBuilder]
        fileprivate var index: [FindingKey: Int]
        fileprivate var uninspected: FindingBuilder
    }

    fileprivate struct FindingKey: Hashable {
        var rule: String
        var action: Action
    }

    func snapshotFindings() -> FindingsSnapshot {
        FindingsSnapshot(builders: findingBuilders, index: findingIndex, uninspected: uninspected)
    }

    /// Forgets everything recorded since `snapshot` (a speculative parse that was abandoned).
    func restoreFindings(_ snapshot: FindingsSnapshot) {
        findingBuilders = snapshot.builders
        findingIndex = snapshot.index
        uninspected = snapshot.uninspected
    }

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
            let normalized = NormalizedText(readingGapsIn: UnsafeBufferPointer(start: p + window.lowerBound, count: window.count))
            var found: [Match] = []
            var spans: [Range<Int>] = []
            try normalized.bytes.withUnsafeBufferPointer { (nb) throws(Stop) in
                let hits = try scan(nb, base: 0)
                resolveLiterals(nb.baseAddress!, lo: 0, hi: nb.count, hits: hits[...], into: &found, allowed: &spans) {
                    _, _ in
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
                    Int(info.rule), info.check, p, start: escaped.lowerBound, end: escaped.upperBound, lo: lo, hi: hi)
            else { continue }
            candidates.append(Match(start: span.lowerBound, end: span.upperBound, rule: info.rule, value: -1))
        }
    }

    /// Detector options, hotwords and secret checks, applied to a resolved regex match: the span to redact (an
    /// address without its port, an assignment's value), or nil when the match does not count.
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
                        p, start: value, end: min(valueEnd, value + SecretValue.judgedBytes))
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

    // MARK: Segments

    /// Redacts the text `buffer[lo..<hi]`. `hits` are the single-pass hits inside it (already computed over a larger
    /// buffer), or `nil` to scan the segment now. `zeroWidth` says the segment contains characters matching does not
    /// read as written (`UTF8Text.foldedLength`: invisible ones, compatibility forms): the segment is then scanned as
    /// `NormalizedText(foldingForMatching:)` and each match mapped back to whole original characters, so every byte
    /// outside a match leaves as it came.
    ///
    /// Returns the new bytes for the segment, or `nil` when nothing changes. Throws `.blocked` when a block rule
    /// matches.
    func redactSegment(
        _ p: UnsafePointer<UInt8>,
        lo: Int,
        hi: Int,
        hits: ArraySlice<Hit>?,
        zeroWidth: Bool,
        path: () -> String?
    ) throws(Stop) -> [UInt8]? {
        guard rules.fast != nil, hi > lo else { return nil }
        if PercentEscapes.containsEscape(p, lo, hi) {
            return try redactPercentEncoded(p, lo: lo, hi: hi, hits: hits, zeroWidth: zeroWidth, path: path)
        }
        let matches = try segmentMatches(p, lo: lo, hi: hi, hits: hits, zeroWidth: zeroWidth)
        if matches.isEmpty { return nil }
        return try write(matches, p, lo: lo, hi: hi, path: path) { match in
            MatchedText(
                value: UnsafeBufferPointer(start: p + match.start, count: match.end - match.start),
                zeroWidth: zeroWidth,
                percentEncoded: false
            )
        }
    }

    /// The resolved matches of the text `p[lo..<hi]` (see `redactSegment`), in its offsets.
    func segmentMatches(
        _ p: UnsafePointer<UInt8>,
        lo: Int,
        hi: Int,
        hits: ArraySlice<Hit>?,
        zeroWidth: Bool
    ) throws(Stop) -> [Match] {
        if credentialValue, let credential = credentialMatch(p, lo: lo, hi: hi) {
            credentialValue = false
            defer { credentialValue = true }
            let others = try segmentMatches(p, lo: lo, hi: hi, hits: hits, zeroWidth: zeroWidth)
            return Self.resolveOverlaps(others + [credential], rules: rules.rules)
        }
        var matches: [Match]
        if zeroWidth {
            let normalized = NormalizedText(foldingForMatching: UnsafeBufferPointer(start: p + lo, count: hi - lo))
            matches = try normalized.bytes.withUnsafeBufferPointer { (nb) throws(Stop) -> [Match] in
                let hits = try scan(nb, base: 0)
                if hits.isEmpty { return [] }
                return try resolve(nb.baseAddress!, lo: 0, hi: nb.count, hits: hits[...])
            }
            for i in matches.indices {
                let range = normalized.originalRange(matches[i].start, matches[i].end)
                matches[i].start = lo + range.lowerBound
                matches[i].end = lo + range.upperBound
            }
        } else {
            let segmentHits: ArraySlice<Hit>
            if let hits {
                segmentHits = hits
            } else {
                segmentHits = try scan(UnsafeBufferPointer(start: p + lo, count: hi - lo), base: lo)[...]
            }
            if segmentHits.isEmpty { return [] }
            matches = try resolve(p, lo: lo, hi: hi, hits: segmentHits)
        }
        return matches
    }

    /// What a match replaces: the text it matched as a reader sees it (`zeroWidth`: holding invisible characters),
    /// and whether it came from percent-escapes, so its replacement is percent-encoded too.
    struct MatchedText {
        var value: UnsafeBufferPointer<UInt8>
        var zeroWidth: Bool
        var percentEncoded: Bool
    }

    /// Records `matches` (sorted, disjoint, in `p[lo..<hi]`) and returns the segment with each replaced. Throws
    /// `.blocked` when one is a block rule's.
    func write(
        _ matches: [Match],
        _ p: UnsafePointer<UInt8>,
        lo: Int,
        hi: Int,
        path: () -> String?,
        matched: (Match) -> MatchedText
    ) throws(Stop) -> [UInt8] {
        // Names freed by the replacements around them are matches too (`RedactionSession+GluedMatches`).
        let matches = try closingGluedMatches(matches, p, lo: lo, hi: hi)
        // Built once, and only when a finding takes it.
        var built: String?? = nil
        func place() -> String? {
            if let built { return built }
            let made = path()
            built = .some(made)
            return made
        }
        for match in matches where rules.rules[Int(match.rule)].action == .block {
            let rule = rules.rules[Int(match.rule)]
            let place = place()
            record(rule: rule.id, action: .block, path: place, value: matched(match).value)
            throw .blocked(
                rule: rule.id,
                reason: "rule \(rule.id) (\(rule.label)) matched\(place.map { " at " + $0 } ?? "")"
            )
        }
        var out = [UInt8]()
        out.reserveCapacity(hi - lo + matches.count * 16)
        var cursor = lo
        for match in matches {
            out.append(contentsOf: UnsafeBufferPointer(start: p + cursor, count: match.start - cursor))
            let text = matched(match)
            let exactTerm =
                match.value >= 0 && !text.zeroWidth
                && Self.spells(rules.rules[Int(match.rule)].values[Int(match.value)], text.value)
            record(
                rule: rules.rules[Int(match.rule)].id,
                action: rules.rules[Int(match.rule)].action,
                path: place(),
                value: text.value,
                term: exactTerm ? (Int(match.rule), Int(match.value)) : nil
            )
            let replaced = replacement(
                rule: Int(match.rule),
                value: match.value,
                matched: text.value,
                zeroWidth: text.zeroWidth
            )
            out.append(contentsOf: text.percentEncoded ? PercentEscapes.encode(replaced, spaceAsPlus: false) : replaced)
            cursor = match.end
        }
        out.append(contentsOf: UnsafeBufferPointer(start: p + cursor, count: hi - cursor))
        return out
    }

    /// Whether `bytes` are exactly the UTF-8 of `value` (compared in place, without copying either).
    @inline(__always)
    static func spells(_ value: String, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard value.utf8.count == bytes.count else { return false }
        if let equal = value.utf8.withContiguousStorageIfAvailable({ stored in
            bytes.isEmpty || memcmp(stored.baseAddress!, bytes.baseAddress!, bytes.count) == 0
        }) {
            return equal
        }
        return value.utf8.elementsEqual(bytes)
    }

    /// The bytes that replace a match.
    func replacement(rule index: Int, value: Int32, matched: UnsafeBufferPointer<UInt8>, zeroWidth: Bool) -> [UInt8] {
        let action = rules.rules[index].action
        switch action {
        case .redact, .block, .drop:
            // The same marker whatever matched: nothing of the match is needed.
            return rules.redactedMarkers[index]
        case .mask, .hash, .pseudonymize:
            break
        }
        // The common case, read in place: a dictionary term written exactly as the policy spells it.
        if action == .pseudonymize, value >= 0, !zeroWidth, Self.spells(rules.rules[index].values[Int(value)], matched)
        {
            return vendor.termTokenBytes[index][Int(value)]
        }
        let rule = rules.rules[index]
        // What the lab wrote, as a reader sees it (invisible characters dropped).
        let spelling = zeroWidth ? NormalizedText(removingZeroWidthFrom: matched).bytes : Array(matched)
        let canonical: [UInt8]
        if value >= 0 {
            let dictionary = Array(rule.values[Int(value)].utf8)
            // A dictionary term written exactly as the policy spells it gets the dictionary token (`CODENAME_7QK2M`);
            // any other spelling (`nightingale`, `Nightingale-v3`, `PROJECT_FALCON`) gets a sealed token of that
            // spelling, so restoring gives back exactly what the lab wrote (identifiers like `nightingale-eval-0001`
            // survive the round trip) and one spelling always gets one token. Hashes of all spellings agree (the
            // dictionary value); a mask is as long as what was written.
            if rule.action == .pseudonymize && spelling == dictionary {
                return vendor.termTokenBytes[index][Int(value)]
            }
            canonical = rule.action == .hash ? dictionary : spelling
        } else {
            canonical = spelling
        }
        var key = canonical
        key.append(contentsOf: withUnsafeBytes(of: Int32(index).littleEndian, Array.init))
        if let cached = replacementCache[ByteKey(key)] { return cached }
        let made = Self.replacement(
            action: rule.action,
            ruleID: rule.id,
            label: rule.label,
            canonical: canonical,
            scalars: UTF8Text.scalarCount(canonical),
            keys: vendor.keys
        )
        replacementCache[ByteKey(key)] = made
        return made
    }

    /// The replacement for `canonical` under an action, for anything that is not a dictionary term's pseudonym.
    static func replacement(
        action: Action,
        ruleID: String,
        label: String,
        canonical: [UInt8],
        scalars: Int,
        keys: VendorKeys
    ) -> [UInt8] {
        switch action {
        case .redact, .block, .drop:
            return Array("[REDACTED:\(label)]".utf8)
        case .mask:
            return Array(repeating: "•", count: scalars).joined().utf8.map { $0 }
        case .hash:
            let mac = keys.tokenMAC.authenticationCode(Array("hash|\(ruleID)|".utf8) + canonical)
            return Array((label + "_" + Hex.encode(mac.prefix(6))).utf8)
        case .pseudonymize:
            // OpenSSL's AES-SIV refuses an empty plaintext (a `fields` rule on `""`), and there is nothing to hide.
            guard !canonical.isEmpty else { return [] }
            let sealed = OpenSSLCrypto.sivSeal(
                key: keys.sivKey,
                associatedData: Array(label.utf8),
                plaintext: canonical
            )
            return Array((label + "_").utf8) + Base32.encode(sealed)
        }
    }
}

/// The longest end seen for each key. A segment has a handful of regex matches: a list searched in place costs less
/// than a dictionary's allocation and hashing; the order of `entries` does not matter (overlaps are resolved by a
/// total order).
struct LongestEnds {
    private(set) var entries: [(key: UInt64, end: Int)] = []
    private var index: [UInt64: Int] = [:]

    mutating func keep(_ key: UInt64, _ end: Int) {
        if entries.count < 16 {
            for k in entries.indices where entries[k].key == key {
                if entries[k].end < end { entries[k].end = end }
                return
            }
            entries.append((key, end))
            if entries.count == 16 {
                for (k, entry) in entries.enumerated() { index[entry.key] = k }
            }
            return
        }
        if let k = index[key] {
            if entries[k].end < end { entries[k].end = end }
            return
        }
        index[key] = entries.count
        entries.append((key, end))
    }
}

/// Bytes as a dictionary key, hashed in one call instead of one `Hasher.combine` per byte.
struct ByteKey: Hashable {
    var bytes: [UInt8]

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    func hash(into hasher: inout Hasher) {
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
    }
}

/// Case-insensitive whole-word search for hotwords.
enum Hotwords {
    static func contains(_ words: [[UInt8]], in text: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let p = text.baseAddress else { return false }
        let n = text.count
        for word in words where !word.isEmpty && word.count <= n {
            var i = 0
            while i + word.count <= n {
                var k = 0
                while k < word.count, Self.lower(p[i + k]) == word[k] { k += 1 }
                if k == word.count, i == 0 || !TermVariants.isAlnum(p[i - 1]),
                    i + k == n || !TermVariants.isAlnum(p[i + k])
                {
                    return true
                }
                i += 1
            }
        }
        return false
    }

    @inline(__always)
    private static func lower(_ b: UInt8) -> UInt8 {
        b >= 0x41 && b <= 0x5A ? b | 0x20 : b
    }
}

/// The host of a URL or bare host match.
enum URLHost {
    static func extract(_ text: String, hasScheme: Bool) -> String? {
        var rest = Substring(text)
        if hasScheme {
            guard let range = rest.range(of: "://") else { return nil }
            rest = rest[range.upperBound...]
        }
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        var host = authority
        if let at = host.lastIndex(of: "@") { host = host[host.index(after: at)...] }
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return nil }
            return String(host[host.index(after: host.startIndex)..<close]).lowercased()
        }
        if let colon = host.firstIndex(of: ":") { host = host[..<colon] }
        while host.hasSuffix(".") { host = host.dropLast() }
        return host.isEmpty ? nil : host.lowercased()
    }
}

/// The start of an `email` detector match, without a start-of-match scan (which runs at about 250 MB/s over the
/// kilobyte window an unbounded expression needs, for every email in a body).
///
/// `Detectors.email` is `L+@R` where `R` holds no `@`, so every match ending at `end` has its `@` at the last `@`
/// before `end`, and the leftmost such match starts at the beginning of the run of local-part characters before
/// it. Given that `end` is a reported match end, that is exactly the start the start-of-match scan of the window
/// `floor..<end` reports (`DetectorFastFormTests` compares the two on generated text).
enum EmailStart {
    /// The leftmost start of the match ending at `end` that begins at or after `floor`, or `nil` when none does.
    /// Precondition: a match of `Detectors.email` ends at `end`.
    static func leftmost(_ p: UnsafePointer<UInt8>, end: Int, floor: Int) -> Int? {
        var at = end - 1
        while at >= floor, p[at] != UInt8(ascii: "@") { at -= 1 }
        guard at > floor else { return nil }
        var start = at
        while start > floor, isLocalPart(p[start - 1]) { start -= 1 }
        return start < at ? start : nil
    }

    /// `[A-Za-z0-9._%+\-]`
    @inline(__always)
    static func isLocalPart(_ b: UInt8) -> Bool {
        TermVariants.isAlnum(b) || b == UInt8(ascii: ".") || b == UInt8(ascii: "_") || b == UInt8(ascii: "%")
            || b == UInt8(ascii: "+") || b == UInt8(ascii: "-")
    }
}
