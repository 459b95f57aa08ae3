import AirlockRedaction

/// Runs a hunt policy over one stored body: exactly the bytes a vendor received, without the headers that went with
/// them. The format is read from the bytes (gzip or zlib framing, then JSON, NDJSON, a form, multipart or text),
/// trying the structured readings first and falling back to text, so a body is always read in the richest form that
/// parses.
enum StoredBodyHunt {
    struct Result: Sendable {
        var findings: [Finding]
        /// Why the body could not be read in any form (then `findings` is empty).
        var uninspected: String?
        /// Embedded payloads inside the body the engine could not read (`content.unknown` findings).
        var unreadablePayloads: Int
        /// The body's size as read (decompressed from its pack).
        var size = 0
    }

    static func hunt(_ body: UnsafeBufferPointer<UInt8>, redactor: Redactor) -> Result {
        let encoding = Self.encoding(of: body)
        var lastReason = "empty"
        for contentType in Self.contentTypes(of: body, encoded: encoding != nil) {
            let outcome = redactor.redactWithoutCopy(
                body: UnsafeRawBufferPointer(body),
                contentType: contentType,
                contentEncoding: encoding,
                vendor: "hunt"
            )
            switch outcome {
            case .unchanged(let findings), .forward(_, let findings), .block(_, _, let findings):
                let unreadable = findings.filter { $0.rule == "content.unknown" }.reduce(0) { $0 + $1.count }
                return Result(
                    findings: findings.filter { $0.rule != "content.unknown" },
                    uninspected: nil,
                    unreadablePayloads: unreadable
                )
            case .uninspectable(let reason, _):
                lastReason = reason
            }
        }
        return Result(findings: [], uninspected: lastReason, unreadablePayloads: 0)
    }

    /// `gzip` or `deflate` when the bytes start as those streams do, else nil (as sent).
    static func encoding(of body: UnsafeBufferPointer<UInt8>) -> String? {
        guard body.count >= 2 else { return nil }
        if body[0] == 0x1F && body[1] == 0x8B { return "gzip" }
        // A zlib header: CM 8, and the header checksum (RFC 1950).
        if body[0] & 0x0F == 8, (UInt16(body[0]) << 8 | UInt16(body[1])) % 31 == 0 { return "deflate" }
        return nil
    }

    /// The readings to try, richest first.
    static func contentTypes(of body: UnsafeBufferPointer<UInt8>, encoded: Bool) -> [String] {
        let text = "text/plain; charset=utf-8"
        if encoded { return ["application/json", "application/x-ndjson", text] }
        guard let first = body.firstIndex(where: { !($0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09) }) else {
            return [text]
        }
        if body[first] == UInt8(ascii: "{") || body[first] == UInt8(ascii: "[") {
            return ["application/json", "application/x-ndjson", text]
        }
        if let boundary = Self.multipartBoundary(body) {
            return ["multipart/form-data; boundary=\"\(boundary)\"", text]
        }
        if body.contains(UInt8(ascii: "=")), !body.contains(where: { $0 == 0x20 || $0 == 0x0A || $0 == 0x0D }) {
            return ["application/x-www-form-urlencoded", text]
        }
        return [text]
    }

    /// The boundary of a multipart body: its first line is `--BOUNDARY`.
    static func multipartBoundary(_ body: UnsafeBufferPointer<UInt8>) -> String? {
        guard body.count > 4, body[0] == UInt8(ascii: "-"), body[1] == UInt8(ascii: "-") else { return nil }
        let limit = min(body.count, 2 + 70 + 2)
        guard let end = body[2..<limit].firstIndex(where: { $0 == 0x0D || $0 == 0x0A }), end > 2 else { return nil }
        let boundary = body[2..<end]
        guard boundary.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") }) else { return nil }
        return String(decoding: boundary, as: UTF8.self)
    }
}
