/// Matches text read from an image with the same compiled policy, and the same request's session, as the body around
/// it: terms with their variants, patterns with their hotwords, detectors. Handed to an `ImageInspector` for one call;
/// not thread-safe.
public final class ImageTextMatcher {
    let session: RedactionSession

    init(session: RedactionSession) {
        self.session = session
    }

    /// One match in a text: its byte range, the id of its rule, and whether that rule's action is `block`.
    public struct TextMatch: Sendable, Hashable {
        public var range: Range<Int>
        public var rule: String
        public var blocks: Bool
    }

    /// The matches in `text` (UTF-8), sorted and disjoint. Records nothing: the inspector reports what it painted.
    public func matches(in text: [UInt8]) throws(ImageRefusal) -> [TextMatch] {
        guard !text.isEmpty else { return [] }
        do throws(Stop) {
            return try text.withUnsafeBufferPointer { (b) throws(Stop) -> [TextMatch] in
                let summary = UTF8Text.summarize(b)
                guard summary.valid else { throw .uninspectable("text read from an image is not valid UTF-8") }
                let matches = try session.segmentMatches(
                    b.baseAddress!,
                    lo: 0,
                    hi: b.count,
                    hits: nil,
                    zeroWidth: summary.hasZeroWidth
                )
                return matches.map { match in
                    let rule = session.rules.rules[Int(match.rule)]
                    return TextMatch(range: match.start..<match.end, rule: rule.id, blocks: rule.action == .block)
                }
            }
        } catch {
            switch error {
            case .blocked(let rule, let reason): throw .blocked(rule: rule, reason: reason)
            case .uninspectable(let reason), .uninspectablePayload(let reason): throw .uninspectable(reason)
            }
        }
    }
}
