import AirlockPolicy
import AirlockSupport
internal import CAirlockSIMD
import Foundation

/// One step of the path handed to a walker as its prefix (a multipart field name, the path of the string that holds
/// a nested document): keys own their bytes.
struct PathEntry {
    var index: Int
    var keyStart: Int
    var keyCount: Int
    var owned: [UInt8]?

    static func element(_ index: Int) -> PathEntry { PathEntry(index: index, keyStart: 0, keyCount: 0, owned: nil) }
    var isKey: Bool { index < 0 }
}

/// One step of the path inside a walk. A plain value (no references), so pushing and popping it costs no reference
/// counting: a key's bytes are in the walked buffer, or, for escaped keys and the prefix, in the walker's key arena.
struct PathStep {
    var index: Int
    var keyStart: Int
    var keyCount: Int
    var inArena: Bool

    static func element(_ index: Int) -> PathStep { PathStep(index: index, keyStart: 0, keyCount: 0, inArena: false) }
    var isKey: Bool { index < 0 }
}

/// Structure-aware JSON redaction over one buffer.
///
/// One walk validates the document (RFC 8259, UTF-8) and collects the text of every string (keys included) as a
/// person reads it, escapes decoded, into one buffer; one Vectorscan pass over that buffer finds every hit; each
/// string with hits is then resolved and edited. Numbers are scanned too, as their literal text: a number with a
/// redacting hit becomes a JSON string of the redacted text (the value never leaves as a number). Strings with
/// invisible characters are normalized and scanned on their own. A string that holds a JSON document is redacted as
/// JSON and re-encoded; one that may hold an embedded payload (a `data:` URL, long base64: `EmbeddedPayload`), or the
/// value of a field declared base64, is decoded and inspected on its own. `fields` rules apply by path. Every change
/// is an edit of a byte range; bytes outside edited strings and numbers are copied verbatim. Nothing is produced unless the whole document parsed.
///
/// `redact` first offers a document to `JSONKernelWalk`, which walks plain documents whole in C with the same
/// results; this walker takes everything else (malformed documents, nested JSON, invisible characters, `fields`
/// matches, path prefixes), validating strings with the C kernel too unless `stringKernel` is off.
struct JSONRedactor {
    static let maxDepth = 512
    static let maxNesting = 4

    let session: RedactionSession
    let p: UnsafePointer<UInt8>
    let n: Int
    var i = 0
    var edits: [(Range<Int>, [UInt8])] = []
    /// Every string to scan, as a reader sees it (escapes decoded), one after another with a newline between:
    /// the single Vectorscan pass runs over this, so escaped strings are not scanned twice. Owned by `redact`, which
    /// sizes it to the document: a string's text plus its newline never exceeds its quoted, escaped source.
    let text: UnsafeMutablePointer<UInt8>
    let textCapacity: Int
    var textCount = 0
    var segments: [Segment] = []
    /// The path as a tree, so a segment can name its path after the walk without copying the path stack.
    var nodes: [PathNode] = []
    var currentNode: Int32 = -1
    /// Decoded escaped keys and the prefix's keys, which `PathStep`s with `inArena` point into.
    var keyArena: [UInt8] = []
    var depth = 0
    /// Reused for decoding escaped strings.
    var decodeBuffer: [UInt8] = []
    let checkFields: Bool
    /// Strings are validated and copied into `text` by the C kernel (`CAirlockSIMD_json_string`) in one pass; off,
    /// the Swift reference (`referenceStringToken`, then a copy) does it. Same tokens, same text, same errors.
    let kernel: Bool

    /// A string (or number) whose redaction waits for the single scan of `text`.
    struct Segment {
        var textStart: Int
        var textEnd: Int
        /// The content inside the quotes, or the whole number token.
        var raw: Range<Int>
        var escaped: Bool
        var node: Int32
        /// A number token: an edit replaces it with a JSON string, quotes included.
        var number = false
    }

    struct PathNode {
        var parent: Int32
        var entry: PathStep
    }

    init(
        session: RedactionSession,
        buffer: UnsafeBufferPointer<UInt8>,
        prefix: [PathEntry],
        text: UnsafeMutableBufferPointer<UInt8>
    ) {
        self.session = session
        self.p = buffer.baseAddress ?? UnsafePointer(bitPattern: 1)!
        self.n = buffer.count
        self.text = text.baseAddress!
        self.textCapacity = text.count
        self.checkFields = !session.rules.fieldRules.isEmpty || !session.rules.base64Fields.isEmpty
        self.kernel = session.stringKernel
        for entry in prefix {
            var step = PathStep.element(entry.index)
            if entry.isKey {
                let bytes = entry.owned ?? []
                step = PathStep(index: -1, keyStart: keyArena.count, keyCount: bytes.count, inArena: true)
                keyArena.append(contentsOf: bytes)
            }
            pushNode(step)
        }
    }

    @inline(__always)
    private mutating func pushNode(_ entry: PathStep) {
        nodes.append(PathNode(parent: currentNode, entry: entry))
        currentNode = Int32(nodes.count - 1)
    }

    @inline(__always)
    private mutating func popNode() {
        currentNode = nodes[Int(currentNode)].parent
    }

    /// The steps from the root to a node of the path tree (the current one by default). The tree is the only record
    /// of the path, so the walk pushes one value per key or element; the few that need the steps build them here.
    private func pathSteps(node: Int32? = nil) -> [PathStep] {
        Self.pathSteps(nodes, from: node ?? currentNode)
    }

    private static func pathSteps(_ nodes: [PathNode], from node: Int32) -> [PathStep] {
        var steps: [PathStep] = []
        var k = node
        while k >= 0 {
            steps.append(nodes[Int(k)].entry)
            k = nodes[Int(k)].parent
        }
        steps.reverse()
        return steps
    }

    /// The JSONPath of a node of the path tree.
    private func pathString(node: Int32, hideLastKey: Bool = false) -> String {
        Self.pathString(pathSteps(node: node), buffer: p, arena: keyArena, session: session, hideLastKey: hideLastKey)
    }

    /// Redacts a whole document. Returns the new bytes, or `nil` when nothing changes.
    static func redact(
        _ buffer: UnsafeBufferPointer<UInt8>,
        session: RedactionSession,
        prefix: [PathEntry] = []
    ) throws(Stop) -> [UInt8]? {
        guard buffer.count > 0 else { throw .uninspectable("JSON: empty body") }
        // `+ 16`: `queue` copies short strings as one 16-byte block, which may run past their end. The kernel writes
        // a string's text at `textCount`, never more than the rest of the buffer (see `stringToken`).
        let text = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: buffer.count + 1 + 16)
        defer { text.deallocate() }
        if prefix.isEmpty, session.stringKernel {
            switch try JSONKernelWalk.redact(buffer, session: session, text: text) {
            case .done(let changed): return changed
            case .fallback: break
            }
        }
        var walker = JSONRedactor(session: session, buffer: buffer, prefix: prefix, text: text)
        try walker.run()
        guard !walker.edits.isEmpty else { return nil }
        return walker.applyEdits()
    }

    mutating func run() throws(Stop) {
        guard n > 0 else { throw .uninspectable("JSON: empty body") }
        // Typical labeling JSON has a string every few dozen bytes: grow once or twice, not a dozen times.
        segments.reserveCapacity(n / 64)
        nodes.reserveCapacity(n / 128)
        skipWhitespace()
        try value(scanning: true)
        skipWhitespace()
        if i != n { throw syntax("unexpected data after the document") }
        try redactSegments()
        if edits.count > 1 { edits.sort { $0.0.lowerBound < $1.0.lowerBound } }
    }

    /// One Vectorscan pass over `text`, then each segment with hits is resolved and edited.
    private mutating func redactSegments() throws(Stop) {
        // Captures what naming the path needs, not a copy of the whole walker (a dozen references).
        let segments = self.segments
        let nodes = self.nodes
        let arena = keyArena
        let base = p
        try Self.forEachSegmentWithHits(
            session: session,
            text: text,
            textCount: textCount,
            segmentCount: segments.count,
            textStart: { segments[$0].textStart },
            textEnd: { segments[$0].textEnd },
            context: { [text, textCount, n] in
                JSONMemberContext(
                    document: base,
                    documentCount: n,
                    text: text,
                    segmentCount: segments.count,
                    textStart: { segments[$0].textStart },
                    textEnd: { segments[$0].textEnd },
                    rawEnd: { segments[$0].raw.upperBound },
                    isNumber: { segments[$0].number },
                    node: { segments[$0].node },
                    parent: { nodes[Int($0)].parent },
                    isElement: { !nodes[Int($0)].entry.isKey }
                )
            }
        ) { (k, found) throws(Stop) in
            let segment = segments[k]
            let result = try session.redactSegment(
                text,
                lo: segment.textStart,
                hi: segment.textEnd,
                hits: found,
                zeroWidth: false,
                path: {
                    Self.pathString(
                        Self.pathSteps(nodes, from: segment.node),
                        buffer: base,
                        arena: arena,
                        session: session
                    )
                }
            )
            guard let result else { return }
            if segment.number {
                edits.append((segment.raw, Self.quotedString(result)))
            } else {
                edits.append(
                    (
                        segment.raw,
                        segment.escaped
                            ? JSONStringRewrite.encode(
                                result,
                                replacing: UnsafeBufferPointer(start: base + segment.raw.lowerBound, count: segment.raw.count)
                            )
                            : result
                    )
                )
            }
        }
    }

    /// `bytes` (valid UTF-8) as a whole JSON string, quotes included: what a number with a redacting hit becomes.
    static func quotedString(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "\"")]
        out.reserveCapacity(bytes.count + 18)
        appendEncoded(bytes, to: &out)
        out.append(UInt8(ascii: "\""))
        return out
    }

    /// Scans `text[0..<textCount]` once and calls `body`, in document order, with each segment that holds hits (by
    /// index) and those hits. The segments (`textStart(k)..<textEnd(k)` in `text`) are sorted and disjoint; a hit
    /// belongs to the segment its end falls in, and one that ends on a separator between segments to none. Shared by
    /// this walker and `JSONKernelWalk`, so both resolve the same hits to the same strings.
    @inline(__always)
    static func forEachSegmentWithHits(
        session: RedactionSession,
        text: UnsafeMutablePointer<UInt8>,
        textCount: Int,
        segmentCount: Int,
        textStart: (Int) -> Int,
        textEnd: (Int) -> Int,
        context: () -> JSONMemberContext?,
        _ body: (Int, ArraySlice<Hit>) throws(Stop) -> Void
    ) throws(Stop) {
        guard segmentCount > 0 else { return }
        var hits = try session.scan(UnsafeBufferPointer(start: text, count: textCount), base: 0)
        // A string holding a percent-escape is matched decoded too (`redactSegment`), hits or not.
        let encoded = percentEncodedSegments(
            text,
            textCount: textCount,
            segmentCount: segmentCount,
            textStart: textStart,
            textEnd: textEnd
        )
        // Values of members whose key names a credential are judged by the `secret` detector, hits or not.
        let credentials =
            session.credentialRule == nil
            ? []
            : JSONCredentialMembers.values(
                text: text,
                segmentCount: segmentCount,
                textStart: textStart,
                textEnd: textEnd,
                context: context
            )
        guard !hits.isEmpty || !encoded.isEmpty || !credentials.isEmpty else { return }
        if hits.count > 1, !isSorted(hits) { hits.sort { $0.end < $1.end } }
        // Visited with or without hits: in document order, each once.
        let extra = credentials.isEmpty ? encoded : Array(Set(encoded + credentials)).sorted()
        // Hotwords see the members around a value: only built when a pattern has hotwords.
        let savedContext = (session.memberContext, session.memberSegment)
        session.memberContext = session.rules.hasHotwords ? context() : nil
        defer { (session.memberContext, session.memberSegment) = savedContext }
        func visit(_ k: Int, _ found: ArraySlice<Hit>) throws(Stop) {
            session.memberSegment = k
            let credential = !credentials.isEmpty && credentials.binarySearchContains(k)
            session.credentialValue = credential
            defer { session.credentialValue = false }
            try body(k, found)
        }
        var nextEncoded = 0
        // Hits are sparse: find each one's segment by binary search instead of visiting every segment.
        var cursor = 0
        var nextSegment = 0
        while cursor < hits.count {
            let end = hits[cursor].end
            var low = nextSegment
            var high = segmentCount
            while low < high {
                let mid = (low + high) / 2
                if textEnd(mid) < end { low = mid + 1 } else { high = mid }
            }
            guard low < segmentCount else { break }
            nextSegment = low + 1
            if end <= textStart(low) {
                // Ends on a separator between strings.
                cursor += 1
                nextSegment = low
                continue
            }
            let first = cursor
            let segmentEnd = textEnd(low)
            while cursor < hits.count, hits[cursor].end <= segmentEnd { cursor += 1 }
            // In document order: the encoded strings without hits before this one.
            while nextEncoded < extra.count, extra[nextEncoded] <= low {
                if extra[nextEncoded] < low { try visit(extra[nextEncoded], hits[first..<first]) }
                nextEncoded += 1
            }
            try visit(low, hits[first..<cursor])
        }
        while nextEncoded < extra.count {
            try visit(extra[nextEncoded], hits[hits.endIndex..<hits.endIndex])
            nextEncoded += 1
        }
    }

    /// The segments (ascending) whose text holds a `%XX` escape: one `memchr` pass over the text.
    private static func percentEncodedSegments(
        _ text: UnsafeMutablePointer<UInt8>,
        textCount: Int,
        segmentCount: Int,
        textStart: (Int) -> Int,
        textEnd: (Int) -> Int
    ) -> [Int] {
        var found: [Int] = []
        var from = 0
        var nextSegment = 0
        while let at = PercentEscapes.firstEscape(text, from: from, to: textCount) {
            var low = nextSegment
            var high = segmentCount
            while low < high {
                let mid = (low + high) / 2
                if textEnd(mid) <= at { low = mid + 1 } else { high = mid }
            }
            guard low < segmentCount else { break }
            if textStart(low) <= at {
                found.append(low)
                from = textEnd(low)
                nextSegment = low + 1
            } else {
                from = at + 1
                nextSegment = low
            }
        }
        return found
    }

    private static func isSorted(_ hits: [Hit]) -> Bool {
        for k in 1..<hits.count where hits[k - 1].end > hits[k].end { return false }
        return true
    }

    func applyEdits() -> [UInt8] { Self.applyEdits(edits, p, n) }

    /// `p[0..<n]` with each range of `edits` (sorted, disjoint) replaced by its bytes.
    static func applyEdits(_ edits: [(Range<Int>, [UInt8])], _ p: UnsafePointer<UInt8>, _ n: Int) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(n + edits.reduce(0) { $0 + $1.1.count })
        var at = 0
        for (range, bytes) in edits {
            out.append(contentsOf: UnsafeBufferPointer(start: p + at, count: range.lowerBound - at))
            out.append(contentsOf: bytes)
            at = range.upperBound
        }
        out.append(contentsOf: UnsafeBufferPointer(start: p + at, count: n - at))
        return out
    }

    private func syntax(_ what: String) -> Stop {
        .uninspectable("malformed JSON at byte \(i): \(what)")
    }

    @inline(__always)
    private mutating func skipWhitespace() {
        while i < n {
            let b = p[i]
            if b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 { i += 1 } else { return }
        }
    }

    // MARK: Values

    private mutating func value(scanning: Bool) throws(Stop) {
        guard i < n else { throw syntax("unexpected end") }
        switch p[i] {
        case UInt8(ascii: "{"): try object(scanning: scanning)
        case UInt8(ascii: "["): try array(scanning: scanning)
        case UInt8(ascii: "\""):
            let string = try stringToken()
            if scanning { try redactString(string, isKey: false) }
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            let start = i
            try number()
            // Scanned as written: a run ID or account number sent unquoted must meet the rules all the same. One
            // shorter than any match could be is not queued (the C walk skips the same ones).
            if scanning, i - start >= session.rules.shortestMatch {
                queue(start..<i, escaped: false, UnsafeBufferPointer(start: p + start, count: i - start))
                segments[segments.count - 1].number = true
            }
        default: throw syntax("unexpected character")
        }
    }

    private mutating func object(scanning: Bool) throws(Stop) {
        depth += 1
        if depth + session.enclosingDepth > Self.maxDepth { throw syntax("nested deeper than \(Self.maxDepth)") }
        i += 1
        skipWhitespace()
        if i < n, p[i] == UInt8(ascii: "}") {
            i += 1
            depth -= 1
            return
        }
        var drops = Drops(previousEnd: i)
        while true {
            guard i < n, p[i] == UInt8(ascii: "\"") else { throw syntax("expected a key") }
            let keyStart = i
            var key = try stringToken()
            skipWhitespace()
            guard i < n, p[i] == UInt8(ascii: ":") else { throw syntax("expected ':'") }
            i += 1
            skipWhitespace()
            var entry = PathStep(index: -1, keyStart: key.start, keyCount: key.end - key.start, inArena: false)
            if key.escaped {
                let decoded = try decodeString(key)
                entry = PathStep(index: -1, keyStart: keyArena.count, keyCount: decoded.count, inArena: true)
                keyArena.append(contentsOf: decoded)
            }
            pushNode(entry)
            let valueStart = i
            let mayBeField = checkFields && mayBeFieldKey(entry)
            let rule = mayBeField ? fieldRule() : nil
            if let rule, scanning {
                // The value's strings overwrite the key's text in `text`: the key is copied again.
                key.textCount = -1
                try value(scanning: false)
                let valueEnd = i
                if session.rules.fieldRules[rule].action == .drop {
                    drop(&drops, rule: rule, member: keyStart..<valueEnd)
                } else {
                    keep(&drops, memberStart: keyStart)
                    try redactString(key, isKey: true)
                    try applyField(rule, valueStart..<valueEnd)
                }
            } else {
                keep(&drops, memberStart: keyStart)
                if scanning { try redactString(key, isKey: true) }
                if scanning, mayBeField, i < n, p[i] == UInt8(ascii: "\""), declaresBase64() {
                    try declaredBase64String()
                } else {
                    try value(scanning: scanning)
                }
            }
            drops.previousEnd = i
            popNode()
            skipWhitespace()
            guard i < n else { throw syntax("unterminated object") }
            if p[i] == UInt8(ascii: ",") {
                i += 1
                skipWhitespace()
                continue
            }
            guard p[i] == UInt8(ascii: "}") else { throw syntax("expected ',' or '}'") }
            closeGap(&drops, before: i)
            i += 1
            depth -= 1
            return
        }
    }

    private mutating func array(scanning: Bool) throws(Stop) {
        depth += 1
        if depth + session.enclosingDepth > Self.maxDepth { throw syntax("nested deeper than \(Self.maxDepth)") }
        i += 1
        skipWhitespace()
        if i < n, p[i] == UInt8(ascii: "]") {
            i += 1
            depth -= 1
            return
        }
        var index = 0
        var drops = Drops(previousEnd: i)
        while true {
            pushNode(.element(index))
            let valueStart = i
            if scanning, checkFields, session.rules.fieldRulesEndingInElement, let rule = fieldRule() {
                try value(scanning: false)
                if session.rules.fieldRules[rule].action == .drop {
                    drop(&drops, rule: rule, member: valueStart..<i)
                } else {
                    keep(&drops, memberStart: valueStart)
                    try applyField(rule, valueStart..<i)
                }
            } else {
                keep(&drops, memberStart: valueStart)
                if scanning, checkFields, session.rules.fieldRulesEndingInElement, i < n, p[i] == UInt8(ascii: "\""),
                    declaresBase64()
                {
                    try declaredBase64String()
                } else {
                    try value(scanning: scanning)
                }
            }
            drops.previousEnd = i
            popNode()
            index += 1
            skipWhitespace()
            guard i < n else { throw syntax("unterminated array") }
            if p[i] == UInt8(ascii: ",") {
                i += 1
                skipWhitespace()
                continue
            }
            guard p[i] == UInt8(ascii: "]") else { throw syntax("expected ',' or ']'") }
            closeGap(&drops, before: i)
            i += 1
            depth -= 1
            return
        }
    }

    /// The members of one object or array removed by `drop` field rules, so the separators they leave go too.
    private struct Drops {
        var keptAny = false
        /// Where the separators left by dropped members start, pending removal up to the next kept member (-1: none).
        var gapStart = -1
        /// The end of the previous member's value.
        var previousEnd: Int
    }

    /// Before a kept member (key or element) starting at `memberStart`.
    @inline(__always)
    private mutating func keep(_ drops: inout Drops, memberStart: Int) {
        closeGap(&drops, before: memberStart)
        drops.keptAny = true
    }

    /// Removes the separators left by dropped members up to `end` (the next kept member, or the closing bracket when
    /// every member so far was dropped).
    @inline(__always)
    private mutating func closeGap(_ drops: inout Drops, before end: Int) {
        if drops.gapStart >= 0 {
            edits.append((drops.gapStart..<end, []))
            drops.gapStart = -1
        }
    }

    /// Removes `member` (`"key": value` or an element) under the drop field rule `rule`.
    private mutating func drop(_ drops: inout Drops, rule: Int, member: Range<Int>) {
        session.record(
            rule: session.rules.fieldRules[rule].id,
            action: .drop,
            path: pathString(node: currentNode, hideLastKey: session.rules.fieldRules[rule].hidesKey),
            value: nil
        )
        closeGap(&drops, before: member.lowerBound)
        if drops.keptAny {
            // Removes ", member" back to the end of the previous member.
            edits.append((drops.previousEnd..<member.upperBound, []))
        } else {
            edits.append((member, []))
            drops.gapStart = member.upperBound
        }
    }

    private mutating func literal(_ word: StaticString) throws(Stop) {
        let count = word.utf8CodeUnitCount
        guard i + count <= n else { throw syntax("unexpected end") }
        let base = word.utf8Start
        for k in 0..<count where p[i + k] != base[k] { throw syntax("invalid literal") }
        i += count
    }

    private mutating func number() throws(Stop) {
        @inline(__always) func digit(_ k: Int) -> Bool { k < n && p[k] >= 0x30 && p[k] <= 0x39 }
        if p[i] == UInt8(ascii: "-") { i += 1 }
        guard digit(i) else { throw syntax("invalid number") }
        if p[i] == UInt8(ascii: "0") {
            i += 1
        } else {
            while digit(i) { i += 1 }
        }
        if i < n, p[i] == UInt8(ascii: ".") {
            i += 1
            guard digit(i) else { throw syntax("invalid number") }
            while digit(i) { i += 1 }
        }
        if i < n, p[i] | 0x20 == UInt8(ascii: "e") {
            i += 1
            if i < n, p[i] == UInt8(ascii: "+") || p[i] == UInt8(ascii: "-") { i += 1 }
            guard digit(i) else { throw syntax("invalid number") }
            while digit(i) { i += 1 }
        }
    }

    // MARK: Strings

    struct StringToken {
        /// Content range (inside the quotes).
        var start: Int
        var end: Int
        var escaped: Bool
        var nonASCII: Bool
        /// A `\\u` escape occurs (it may spell a non-ASCII or invisible character).
        var unicodeEscape = false
        /// The kernel found the token: `zeroWidth` is known, and when `textCount >= 0`, the content as a reader sees
        /// it (escapes decoded) is already in `text` at the walker's `textCount`, `textCount` bytes long.
        var fromKernel = false
        /// The content holds, as raw UTF-8, a character a reader cannot see (valid when `fromKernel`).
        var zeroWidth = false
        var textCount = -1
    }

    /// Validates the string at `i` (which is `"`) and moves past it. With the kernel, its decoded text lands in
    /// `text` at `textCount` (without moving `textCount`; `redactString` keeps it there or not).
    @inline(__always)
    private mutating func stringToken() throws(Stop) -> StringToken {
        guard kernel else { return try referenceStringToken() }
        // The kernel writes at most `n - (i + 1)` bytes. Every queued string's text (and its newline) is no longer
        // than its quoted source, so `textCount <= i` and this always holds.
        precondition(textCapacity - textCount >= n - i, "JSON text buffer sized below the kernel's writes")
        let found = CAirlockSIMD_json_string(p, i + 1, n, text + textCount)
        // Not a valid string: the reference validator finds the same problem and throws the error it always did.
        guard found.ok != 0 else { return try referenceStringToken() }
        let flags = found.flags
        var token = StringToken(
            start: i + 1,
            end: Int(found.end),
            escaped: flags & CAIRLOCK_JSON_ESCAPED != 0,
            nonASCII: flags & CAIRLOCK_JSON_NON_ASCII != 0,
            unicodeEscape: flags & CAIRLOCK_JSON_UNICODE_ESCAPE != 0
        )
        token.fromKernel = true
        token.zeroWidth = flags & CAIRLOCK_JSON_ZERO_WIDTH != 0
        // `\\u` escapes are decoded by `decodeString` (surrogate pairs, the unpaired-surrogate error).
        if !token.unicodeEscape { token.textCount = Int(found.written) }
        i = token.end + 1
        return token
    }

    /// The Swift reference of `stringToken` (and the source of its error messages).
    private mutating func referenceStringToken() throws(Stop) -> StringToken {
        i += 1
        var token = StringToken(start: i, end: i, escaped: false, nonASCII: false)
        while true {
            i = Self.firstSpecial(p, from: i, count: n)
            guard i < n else { throw syntax("unterminated string") }
            let b = p[i]
            if b == UInt8(ascii: "\"") { break }
            if b == UInt8(ascii: "\\") {
                token.escaped = true
                guard i + 1 < n else { throw syntax("unterminated escape") }
                switch p[i + 1] {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                    UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    i += 2
                case UInt8(ascii: "u"):
                    guard i + 6 <= n, (2..<6).allSatisfy({ JSONStringEscapes.hexValue(p[i + $0]) >= 0 }) else {
                        throw syntax("invalid \\u escape")
                    }
                    token.unicodeEscape = true
                    i += 6
                default:
                    throw syntax("invalid escape")
                }
                continue
            }
            if b < 0x20 { throw syntax("control character in string") }
            if b >= 0x80 {
                token.nonASCII = true
                let length = UTF8Text.sequenceLength(p, i, n)
                guard length > 0 else { throw syntax("invalid UTF-8") }
                i += length
                continue
            }
            i += 1
        }
        token.end = i
        i += 1
        return token
    }

    /// The offset of the first byte at or after `from` that a string scan must look at (see `specialBytes`), or of
    /// one of the last 7 bytes of the buffer, which the caller looks at one by one.
    ///
    /// Sixteen bytes a step while nothing needs a look, then straight to the first byte that does (the lowest
    /// flagged byte of each word is exact: borrows only flag bytes above a real one). A function of its arguments
    /// only, so the offset stays in a register instead of being stored to the walker at every step.
    @inline(__always)
    static func firstSpecial(_ p: UnsafePointer<UInt8>, from: Int, count n: Int) -> Int {
        var k = from
        while k &+ 16 <= n {
            let a = specialBytes(UnsafeRawPointer(p + k).loadUnaligned(as: UInt64.self))
            let b = specialBytes(UnsafeRawPointer(p + k).loadUnaligned(fromByteOffset: 8, as: UInt64.self))
            if a | b != 0 {
                return k &+ (a != 0 ? a.trailingZeroBitCount &>> 3 : 8 &+ (b.trailingZeroBitCount &>> 3))
            }
            k &+= 16
        }
        while k &+ 8 <= n {
            let a = specialBytes(UnsafeRawPointer(p + k).loadUnaligned(as: UInt64.self))
            if a != 0 { return k &+ (a.trailingZeroBitCount &>> 3) }
            k &+= 8
        }
        return k
    }

    /// The high bit of each byte of `w` that a string scan must stop at (a quote, a backslash, a control character,
    /// a non-ASCII byte) is set; the lowest set bit marks the first such byte exactly.
    @inline(__always)
    static func specialBytes(_ w: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let quote = w ^ (ones &* 0x22)
        let slash = w ^ (ones &* 0x5C)
        let special = ((quote &- ones) & ~quote) | ((slash &- ones) & ~slash) | ((w &- ones &* 0x20) & ~w) | w
        return special & 0x8080_8080_8080_8080
    }

    /// The decoded content of a string token (escapes resolved; already validated).
    private func decodeString(_ token: StringToken) throws(Stop) -> [UInt8] {
        var out = [UInt8]()
        try decodeString(token, into: &out)
        return out
    }

    /// Decodes a string token into `out` (replacing its contents, keeping its capacity).
    private func decodeString(_ token: StringToken, into out: inout [UInt8]) throws(Stop) {
        do {
            try JSONStringEscapes.decode(p, from: token.start, to: token.end, into: &out)
        } catch {
            throw .uninspectable("malformed JSON at byte \(error.offset): unpaired surrogate escape")
        }
    }

    /// Appends `bytes` (valid UTF-8) to `out` as JSON string content: quotes, backslashes and control characters
    /// escaped (`\n`, `\r`, `\t`, others as `\u00XX`), runs that need no escape copied in bulk.
    @inline(__always)
    static func appendEncoded(_ bytes: [UInt8], to out: inout [UInt8]) {
        JSONString.appendEscaped(bytes, to: &out, controls: .lineBreaksAndTabOnly)
    }

    /// `bytes` (valid UTF-8) as JSON string content (see `appendEncoded`).
    static func encodeString(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        // Room for a few escapes without growing.
        out.reserveCapacity(bytes.count + 16)
        appendEncoded(bytes, to: &out)
        return out
    }

    /// The new content of the string `token` for the decoded text `result`, escapes of what did not change kept.
    private func rewritten(_ token: StringToken, _ result: [UInt8]) -> [UInt8] {
        guard token.escaped else { return Self.encodeString(result) }
        return JSONStringRewrite.encode(result, replacing: UnsafeBufferPointer(start: p + token.start, count: token.end - token.start))
    }

    /// Redacts one string (key or value) in place, through an edit when anything changes.
    private mutating func redactString(_ token: StringToken, isKey: Bool) throws(Stop) {
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
    private mutating func declaredBase64String() throws(Stop) {
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
    private func declaresBase64() -> Bool {
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
    private mutating func queue(_ raw: Range<Int>, escaped: Bool, _ content: UnsafeBufferPointer<UInt8>) {
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

    // MARK: Fields

    /// The bytes of a key step (a copy; for paths handed on and for rare slow paths only).
    private func keyBytes(_ step: PathStep) -> [UInt8] {
        if step.inArena { return Array(keyArena[step.keyStart..<step.keyStart + step.keyCount]) }
        return Array(UnsafeBufferPointer(start: p + step.keyStart, count: step.keyCount))
    }

    /// Whether a member with this key could be selected by a `fields` rule: its key is the last key of some rule's
    /// path. Most members are rejected here, without the full path check.
    @inline(__always)
    private func mayBeFieldKey(_ key: PathStep) -> Bool {
        let rules = session.rules
        guard rules.fieldLastKeyLengths & (1 << UInt64(min(key.keyCount, 63))) != 0 else { return false }
        if rules.fieldRulesEndingInElement || key.inArena { return true }
        for name in rules.fieldLastKeys where name.count == key.keyCount {
            let equal = name.withUnsafeBufferPointer { memcmp($0.baseAddress!, p + key.keyStart, name.count) == 0 }
            if equal { return true }
        }
        return false
    }

    /// The first `fields` rule selecting the current path, if any.
    private func fieldRule() -> Int? {
        let path = pathSteps()
        for (index, rule) in session.rules.fieldRules.enumerated()
        where matches(rule.segments[...], from: 0, path: path) {
            return index
        }
        return nil
    }

    private func matches(_ segments: ArraySlice<CompiledFieldRule.Segment>, from k: Int, path: [PathStep]) -> Bool {
        guard let segment = segments.first else { return k == path.count }
        guard k < path.count else { return false }
        let rest = segments.dropFirst()
        switch segment {
        case .key(let name):
            return keyEquals(path[k], name) && matches(rest, from: k + 1, path: path)
        case .index(let index):
            return path[k].index == index && matches(rest, from: k + 1, path: path)
        case .wildcard:
            return matches(rest, from: k + 1, path: path)
        case .descendant(let name):
            // Fast reject: the rule's remaining segments are usually empty, so the last key must be `name`.
            if rest.isEmpty { return keyEquals(path[path.count - 1], name) }
            var m = k
            while m < path.count {
                if keyEquals(path[m], name), matches(rest, from: m + 1, path: path) { return true }
                m += 1
            }
            return false
        }
    }

    @inline(__always)
    private func keyEquals(_ entry: PathStep, _ name: [UInt8]) -> Bool {
        guard entry.isKey else { return false }
        guard entry.keyCount == name.count else { return false }
        if entry.inArena { return keyArena[entry.keyStart..<entry.keyStart + entry.keyCount].elementsEqual(name) }
        for k in 0..<name.count where p[entry.keyStart + k] != name[k] { return false }
        return true
    }

    /// Applies a non-drop `fields` rule to the whole value at `range`.
    private mutating func applyField(_ index: Int, _ range: Range<Int>) throws(Stop) {
        if let visit = session.fieldVisitor { return try visit(index, p, range) }
        let rule = session.rules.fieldRules[index]
        let place = pathString(node: currentNode, hideLastKey: rule.action == .block && rule.hidesKey)
        var canonical = Array(UnsafeBufferPointer(start: p + range.lowerBound, count: range.count))
        if canonical.first == UInt8(ascii: "\"") {
            let token = StringToken(
                start: range.lowerBound + 1,
                end: range.upperBound - 1,
                escaped: canonical.contains(UInt8(ascii: "\\")),
                nonASCII: false
            )
            canonical = try decodeString(token)
        }
        session.record(rule: rule.id, action: rule.action, path: place, value: nil)
        if rule.action == .block {
            throw .blocked(rule: rule.id, reason: "field rule \(rule.id) matched at \(place)")
        }
        let replacement = RedactionSession.replacement(
            action: rule.action,
            ruleID: rule.id,
            label: rule.label,
            canonical: canonical,
            scalars: UTF8Text.scalarCount(canonical),
            keys: session.vendor.keys
        )
        edits.append((range, [UInt8(ascii: "\"")] + Self.encodeString(replacement) + [UInt8(ascii: "\"")]))
    }

    // MARK: Paths

    private func pathString() -> String { pathString(node: currentNode) }

    /// The JSONPath of `entries`: `$.messages[2].content`, `$['odd key']`, each key as it left
    /// (`RedactionSession.keyStep`); with `hideLastKey`, the last key as its fingerprint (a member that did not
    /// leave). Keys are in `p`, or in `arena`. Built as bytes, converted once, capped.
    static func pathString(
        _ entries: [PathStep],
        buffer p: UnsafePointer<UInt8>,
        arena: [UInt8],
        session: RedactionSession,
        hideLastKey: Bool = false
    ) -> String {
        var out: [UInt8] = [UInt8(ascii: "$")]
        out.reserveCapacity(64)
        arena.withUnsafeBufferPointer { arena in
            for (k, entry) in entries.enumerated() {
                if !entry.isKey {
                    appendElement(entry.index, to: &out)
                    continue
                }
                let key =
                    entry.inArena
                    ? UnsafeBufferPointer(rebasing: arena[entry.keyStart..<entry.keyStart + entry.keyCount])
                    : UnsafeBufferPointer(start: p + entry.keyStart, count: entry.keyCount)
                out += session.keyStep(key, hidden: hideLastKey && k == entries.count - 1)
            }
        }
        ReportedText.capPath(&out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends `[index]` to a JSONPath.
    static func appendElement(_ index: Int, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "["))
        appendDecimal(index, to: &out)
        out.append(UInt8(ascii: "]"))
    }

    private static func appendDecimal(_ value: Int, to out: inout [UInt8]) {
        guard value >= 10 else {
            out.append(UInt8(ascii: "0") + UInt8(value))
            return
        }
        appendDecimal(value / 10, to: &out)
        out.append(UInt8(ascii: "0") + UInt8(value % 10))
    }
}

extension Array where Element == Int {
    /// Whether the sorted array holds `value`.
    func binarySearchContains(_ value: Int) -> Bool {
        var low = 0
        var high = count
        while low < high {
            let mid = (low + high) / 2
            if self[mid] < value { low = mid + 1 } else { high = mid }
        }
        return low < count && self[low] == value
    }
}
