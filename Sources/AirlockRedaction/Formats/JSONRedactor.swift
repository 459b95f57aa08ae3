import AirlockPolicy
import AirlockSupport
internal import CAirlockSIMD
import Foundation

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
    mutating func pushNode(_ entry: PathStep) {
        nodes.append(PathNode(parent: currentNode, entry: entry))
        currentNode = Int32(nodes.count - 1)
    }

    @inline(__always)
    mutating func popNode() {
        currentNode = nodes[Int(currentNode)].parent
    }

    /// The steps from the root to a node of the path tree (the current one by default). The tree is the only record
    /// of the path, so the walk pushes one value per key or element; the few that need the steps build them here.
    func pathSteps(node: Int32? = nil) -> [PathStep] {
        Self.pathSteps(nodes, from: node ?? currentNode)
    }

    static func pathSteps(_ nodes: [PathNode], from node: Int32) -> [PathStep] {
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
    func pathString(node: Int32, hideLastKey: Bool = false) -> String {
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
                                replacing: UnsafeBufferPointer(
                                    start: base + segment.raw.lowerBound,
                                    count: segment.raw.count
                                )
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
    // Over 80 lines: hot path, inlined; the binary search over segments and the visit share one cursor.
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

    func syntax(_ what: String) -> Stop {
        .uninspectable("malformed JSON at byte \(i): \(what)")
    }

    @inline(__always)
    mutating func skipWhitespace() {
        while i < n {
            let b = p[i]
            if b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 { i += 1 } else { return }
        }
    }

    // MARK: Paths

    func pathString() -> String { pathString(node: currentNode) }

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
