/// The context a pattern's hotwords (`near:`) see for a JSON value beyond its own text: the key of the value and the
/// keys and values of the other members of the same object (`{"launch_quarter": "Q2 2027"}` is the value `Q2 2027`
/// near the words `launch quarter`). In a key or a value, `_` and `-` read as spaces. A value inside an array belongs
/// to the member holding the array. Only direct members count (not what nested objects hold), at most `maxSegments`
/// strings on each side of the value. Keys themselves see only their own text, so a key is redacted the same wherever
/// it is named (`RedactionSession.keyStep`).
///
/// Built by both JSON walkers over their segments and path trees, and consulted only when a hotword pattern has a
/// candidate match whose own text lacks its hotwords.
struct JSONMemberContext {
    static let maxSegments = 256

    /// The walked document: a key's closing quote is followed by `:`.
    let document: UnsafePointer<UInt8>
    let documentCount: Int
    let text: UnsafePointer<UInt8>
    let segmentCount: Int
    let textStart: (Int) -> Int
    let textEnd: (Int) -> Int
    /// The end of a segment's source: a string's closing quote, or a number's end.
    let rawEnd: (Int) -> Int
    let isNumber: (Int) -> Bool
    let node: (Int) -> Int32
    let parent: (Int32) -> Int32
    let isElement: (Int32) -> Bool
    /// What each string was judged to hold, per hotword list: every candidate of a document reads the same strings
    /// around it, so each string is read once per list instead of once per candidate near it.
    let verdicts = Verdicts()

    final class Verdicts {
        /// For each hotword list seen: per segment, 0 not judged yet, 1 no hotword, 2 a hotword.
        var byWords: [[[UInt8]]: [UInt8]] = [:]
    }

    /// Whether a hotword occurs in the context of segment `k` (a value; keys have none).
    func contains(_ words: [[UInt8]], segment k: Int) -> Bool {
        guard k >= 0, k < segmentCount, !isKey(k) else { return false }
        guard let member = member(of: node(k)) else { return false }
        let object = parent(member)
        var buffer: [UInt8] = []
        // Taken out while in use, so writing to it never copies it.
        var judged = verdicts.byWords.removeValue(forKey: words) ?? [UInt8](repeating: 0, count: segmentCount)
        defer { verdicts.byWords[words] = judged }
        for step in [-1, 1] {
            var j = k + step
            var seen = 0
            while j >= 0, j < segmentCount, seen < Self.maxSegments, inside(node(j), object: object) {
                if let owner = self.member(of: node(j)), parent(owner) == object {
                    if judged[j] == 0 { judged[j] = matches(words, j, &buffer) ? 2 : 1 }
                    if judged[j] == 2 { return true }
                }
                j += step
                seen += 1
            }
        }
        return false
    }

    /// The key node holding `node`: itself, or the member holding the array(s) it is in. `nil`: a top-level array.
    private func member(of node: Int32) -> Int32? {
        var m = node
        while m >= 0, isElement(m) { m = parent(m) }
        return m >= 0 ? m : nil
    }

    /// Whether `node` lies in the object whose members have the parent `object`.
    private func inside(_ node: Int32, object: Int32) -> Bool {
        if object < 0 { return true }
        var m = node
        while m >= 0 {
            if m == object { return true }
            m = parent(m)
        }
        return false
    }

    /// A string followed by `:` is a key.
    func isKey(_ k: Int) -> Bool {
        if isNumber(k) { return false }
        var at = rawEnd(k) + 1
        while at < documentCount,
            document[at] == 0x20 || document[at] == 0x0A || document[at] == 0x0D
                || document[at] == 0x09
        {
            at += 1
        }
        return at < documentCount && document[at] == UInt8(ascii: ":")
    }

    private func matches(_ words: [[UInt8]], _ j: Int, _ buffer: inout [UInt8]) -> Bool {
        let start = textStart(j)
        let end = textEnd(j)
        buffer.removeAll(keepingCapacity: true)
        for b in UnsafeBufferPointer(start: text + start, count: end - start) {
            buffer.append(b == UInt8(ascii: "_") || b == UInt8(ascii: "-") ? 0x20 : b)
        }
        return buffer.withUnsafeBufferPointer { Hotwords.contains(words, in: $0) }
    }
}
