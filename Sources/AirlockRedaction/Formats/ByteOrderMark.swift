/// A UTF-8 byte order mark (EF BB BF) before a JSON or NDJSON body (or a JSON part of a multipart body): valid input
/// (RFC 8259 8.1 lets a parser ignore it; Windows tools write it), so the document after it is inspected, and the
/// mark leaves byte-identical in front of the redacted document. It is cut before either JSON walker (the C kernel
/// walk or the Swift one) sees the document, so both read the same bytes. Anywhere else it is an invisible
/// character inside the text (see `UTF8Text`), or a JSON syntax error between tokens.
enum ByteOrderMark {
    static let bytes: [UInt8] = [0xEF, 0xBB, 0xBF]

    /// 3 when `body` starts with the mark, else 0.
    static func length(_ body: UnsafeBufferPointer<UInt8>) -> Int {
        body.count >= 3 && body[0] == 0xEF && body[1] == 0xBB && body[2] == 0xBF ? 3 : 0
    }

    /// `redact` of `body` after its mark, the mark put back in front of a changed result. `nil`: unchanged.
    static func redactAfter(
        _ body: UnsafeBufferPointer<UInt8>,
        _ redact: (UnsafeBufferPointer<UInt8>) throws(Stop) -> [UInt8]?
    ) throws(Stop) -> [UInt8]? {
        let mark = length(body)
        guard mark > 0 else { return try redact(body) }
        guard let changed = try redact(UnsafeBufferPointer(rebasing: body[mark...])) else { return nil }
        return bytes + changed
    }
}
