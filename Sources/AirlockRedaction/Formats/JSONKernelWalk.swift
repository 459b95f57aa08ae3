internal import CAirlockSIMD

/// The JSON walk of a whole document in C (`CAirlockSIMD_json_walk`), for the documents that need nothing else:
/// every string plain text (no invisible characters, no JSON document inside, no undecodable escape, nothing that may
/// be an embedded payload: no `data:`, no long run of base64) and no key a `fields` rule may select.
///
/// The C walk validates the document and writes the text of every string (escapes decoded) and number (as written),
/// one newline after each, into the scan text with one segment per string or number and a path tree. One Vectorscan
/// pass over the text finds the hits; each segment with hits is resolved and edited exactly as `JSONRedactor` does
/// (a number with a redacting hit becomes a JSON string). For anything else the walk answers
/// `.fallback` and `JSONRedactor` walks the document itself (malformed documents too, so errors read as always).
enum JSONKernelWalk {
    enum Result {
        /// The document needs the full walker; nothing was recorded.
        case fallback
        /// The redacted document, or `nil` when nothing changes.
        case done([UInt8]?)
    }

    /// Walks and redacts `buffer` with no path prefix. `text` holds at least `buffer.count + 17` bytes.
    static func redact(
        _ buffer: UnsafeBufferPointer<UInt8>,
        session: RedactionSession,
        text: UnsafeMutableBufferPointer<UInt8>
    ) throws(Stop) -> Result {
        let rules = session.rules
        guard let p = buffer.baseAddress, buffer.count < 1 << 31, !rules.fieldRulesEndingInElement else {
            return .fallback
        }
        precondition(text.count >= buffer.count + 17, "JSON text buffer sized below the walk's writes")
        let n = buffer.count
        // Typical labeling JSON has a string every few dozen bytes; a document denser than that is walked again with
        // room for the most it can hold (a string takes at least 3 bytes, a number with its delimiter and a path node
        // at least 2).
        var segmentCapacity = n / 48 + 16
        var nodeCapacity = n / 48 + 16
        while true {
            let segments = UnsafeMutablePointer<CAirlockSIMD_JSONSegment>.allocate(capacity: segmentCapacity)
            defer { segments.deallocate() }
            let nodes = UnsafeMutablePointer<CAirlockSIMD_JSONNode>.allocate(capacity: nodeCapacity)
            defer { nodes.deallocate() }
            var textCount = 0
            var segmentCount = 0
            var nodeCount = 0
            let status = rules.fieldLastKeyBytes.withUnsafeBufferPointer { names in
                rules.fieldLastKeyCounts.withUnsafeBufferPointer { counts in
                    var options = CAirlockSIMD_JSONWalkOptions(
                        field_key_lengths: rules.fieldLastKeyLengths,
                        field_key_bytes: names.baseAddress,
                        field_key_counts: counts.baseAddress,
                        field_key_count: counts.count,
                        nested_allowed: session.nesting < JSONRedactor.maxNesting ? 1 : 0,
                        max_depth: Int32(JSONRedactor.maxDepth - session.enclosingDepth),
                        min_number_length: UInt32(clamping: rules.shortestMatch)
                    )
                    return CAirlockSIMD_json_walk(
                        p,
                        n,
                        &options,
                        text.baseAddress!,
                        &textCount,
                        segments,
                        segmentCapacity,
                        &segmentCount,
                        nodes,
                        nodeCapacity,
                        &nodeCount
                    )
                }
            }
            switch status {
            case CAIRLOCK_WALK_DONE:
                let changed = try redactSegments(
                    p,
                    n,
                    session: session,
                    text: text.baseAddress!,
                    textCount: textCount,
                    segments: UnsafeBufferPointer(start: segments, count: segmentCount),
                    nodes: nodes
                )
                return .done(changed)
            case CAIRLOCK_WALK_FULL where segmentCapacity < n / 2 + 2 || nodeCapacity < n / 2 + 2:
                segmentCapacity = n / 2 + 2
                nodeCapacity = n / 2 + 2
            default:
                return .fallback
            }
        }
    }

    /// One Vectorscan pass over the text, then each segment with hits resolved and edited
    /// (`JSONRedactor.forEachSegmentWithHits`, over the C walk's segments).
    private static func redactSegments(
        _ p: UnsafePointer<UInt8>,
        _ n: Int,
        session: RedactionSession,
        text: UnsafeMutablePointer<UInt8>,
        textCount: Int,
        segments: UnsafeBufferPointer<CAirlockSIMD_JSONSegment>,
        nodes: UnsafePointer<CAirlockSIMD_JSONNode>
    ) throws(Stop) -> [UInt8]? {
        // The output is built as the segments are edited, in document order: the bytes up to each changed string,
        // then its new content. Nothing is allocated while nothing changes.
        var out: [UInt8] = []
        var changed = false
        var copied = 0
        try JSONRedactor.forEachSegmentWithHits(
            session: session,
            text: text,
            textCount: textCount,
            segmentCount: segments.count,
            textStart: { Int(segments[$0].text_start) },
            textEnd: { Int(segments[$0].text_end) },
            context: {
                JSONMemberContext(
                    document: p,
                    documentCount: n,
                    text: text,
                    segmentCount: segments.count,
                    textStart: { Int(segments[$0].text_start) },
                    textEnd: { Int(segments[$0].text_end) },
                    rawEnd: { Int(segments[$0].raw_end) },
                    isNumber: { segments[$0].flags & CAIRLOCK_JSON_NUMBER != 0 },
                    node: { segments[$0].node },
                    parent: { nodes[Int($0)].parent },
                    isElement: { nodes[Int($0)].index >= 0 }
                )
            }
        ) { (k, found) throws(Stop) in
            let segment = segments[k]
            let result = try session.redactSegment(
                text,
                lo: Int(segment.text_start),
                hi: Int(segment.text_end),
                hits: found,
                zeroWidth: false,
                path: { pathString(node: segment.node, nodes: nodes, buffer: p, session: session) }
            )
            guard let result else { return }
            if !changed {
                changed = true
                out.reserveCapacity(n + n / 8 + 64)
            }
            out.append(contentsOf: UnsafeBufferPointer(start: p + copied, count: Int(segment.raw_start) - copied))
            if segment.flags & CAIRLOCK_JSON_NUMBER != 0 {
                // A number with a redacting hit leaves as a string of the redacted text (`JSONRedactor` does the same).
                out.append(UInt8(ascii: "\""))
                JSONRedactor.appendEncoded(result, to: &out)
                out.append(UInt8(ascii: "\""))
            } else if segment.flags & CAIRLOCK_JSON_ESCAPED != 0 {
                out += JSONStringRewrite.encode(
                    result,
                    replacing: UnsafeBufferPointer(
                        start: p + Int(segment.raw_start),
                        count: Int(segment.raw_end) - Int(segment.raw_start)
                    )
                )
            } else {
                out.append(contentsOf: result)
            }
            copied = Int(segment.raw_end)
        }
        guard changed else { return nil }
        out.append(contentsOf: UnsafeBufferPointer(start: p + copied, count: n - copied))
        return out
    }

    /// The JSONPath of a node of the C walk's path tree (escaped keys decoded, each key as it left), as
    /// `JSONRedactor.pathString` writes it.
    static func pathString(
        node: Int32,
        nodes: UnsafePointer<CAirlockSIMD_JSONNode>,
        buffer p: UnsafePointer<UInt8>,
        session: RedactionSession
    )
        -> String
    {
        var depth = 0
        var k = node
        while k >= 0 {
            depth += 1
            k = nodes[Int(k)].parent
        }
        var out: [UInt8] = [UInt8(ascii: "$")]
        out.reserveCapacity(64)
        // The steps from the root down, without building an array of them.
        withUnsafeTemporaryAllocation(of: Int32.self, capacity: depth) { chain in
            var k = node
            for d in stride(from: depth - 1, through: 0, by: -1) {
                chain[d] = k
                k = nodes[Int(k)].parent
            }
            var decoded: [UInt8] = []
            for id in chain {
                let entry = nodes[Int(id)]
                if entry.index >= 0 {
                    JSONRedactor.appendElement(Int(entry.index), to: &out)
                    continue
                }
                let start = Int(entry.key_start)
                guard entry.key_flags & CAIRLOCK_JSON_ESCAPED != 0 else {
                    out += session.keyStep(UnsafeBufferPointer(start: p + start, count: Int(entry.key_count)))
                    continue
                }
                do {
                    try JSONStringEscapes.decode(p, from: start, to: start + Int(entry.key_count), into: &decoded)
                } catch {
                    preconditionFailure("the C walk hands over no key with an unpaired surrogate escape")
                }
                out += decoded.withUnsafeBufferPointer { session.keyStep($0) }
            }
        }
        ReportedText.capPath(&out)
        return String(decoding: out, as: UTF8.self)
    }
}
