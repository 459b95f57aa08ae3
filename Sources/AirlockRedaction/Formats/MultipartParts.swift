import Foundation

/// One part of a `multipart/form-data` body, split and typed as the engine (``MultipartRedactor``) splits and types
/// it, for a caller that must look into the parts before the policy runs (the proxy's callback-URL check).
public struct MultipartPart: Sendable {
    /// How the engine reads the part's content: by its declared type, as JSON for a GraphQL upload's `operations`
    /// and `map`, by a sniff of the content for a file without a usable type, else as a text field.
    public enum Format: Sendable, Hashable {
        case json
        case jsonLines
        case text
        case form
        /// Nested multipart, content the engine cannot read (which the policy's `content.unknown` governs), or a part
        /// with a Content-Transfer-Encoding (base64, quoted-printable), whose bytes are not its content.
        case opaque
    }

    /// Why a body does not split into parts: the reason the engine refuses it with as uninspectable.
    public struct Failure: Error, Sendable {
        public var reason: String
    }

    /// The `name` parameter of the part's Content-Disposition as the engine reads it (quoted-pairs decoded), else
    /// its decoded `name*`.
    public var name: String?
    /// The content's byte range in the body: after the blank line ending the part's headers, up to the CRLF before
    /// the next delimiter.
    public var range: Range<Int>
    public var format: Format
    /// The content decoded from the part's Content-Transfer-Encoding (base64, quoted-printable), as the engine
    /// inspects it; `nil` when the part has none, and its bytes in `range` are its content.
    public var decodedContent: [UInt8]?
}

/// The one split of a `multipart/form-data` body (RFC 2046 delimiters, RFC 7578 parts) into parts, shared by the
/// engine (``MultipartRedactor``) and ``Redactor/multipartParts(_:contentType:)``: where each part's headers and
/// content start and end, what its headers say, how its content is read, and the reason a body that does not split
/// is refused with.
///
/// Zero-copy: parts are ranges into the caller's buffer, which must outlive the walk. Call ``next()`` until it
/// returns `nil` (the close delimiter); a part's ``Part/format(of:)`` after the caller has dealt with its headers.
struct MultipartPartWalk {
    /// One part: ranges into the body and the header fields the engine reads.
    struct Part {
        /// The part's position in the body, from 1, as refusal reasons count parts.
        var number: Int
        /// The header block: after the delimiter line up to the blank line, without its CRLF CRLF; empty when the
        /// part has no headers.
        var headerBlock: Range<Int>
        /// After the blank line ending the headers, up to the CRLF before the next delimiter.
        var content: Range<Int>
        /// What the header block says (name, file name, type, transfer encoding, values a reader decodes).
        var headers: MultipartHeaders

        /// The `name` parameter of the Content-Disposition (quoted-pairs decoded), else its decoded `name*`.
        var name: String? { headers.name }
        /// The Content-Disposition's `filename` (or decoded `filename*`) parameter.
        var filename: String? { headers.filename }
        var contentType: String? { headers.contentType }

        /// The name the engine gives the part in paths and reasons: its `name`, else `part<number>`.
        var label: String { self.name ?? "part\(self.number)" }

        /// How the engine reads the part's `content`: by its declared type; as JSON for a GraphQL upload's
        /// `operations` and `map`; by a sniff of the content for a file without a usable type; else as a text field.
        /// Throws for a declared charset the engine cannot read. `content` is the part's content as decoded from its
        /// transfer encoding.
        func format(of content: UnsafeBufferPointer<UInt8>) throws(MultipartPart.Failure) -> MediaType.Format {
            if let media = self.contentType.map(MediaType.init), media.isWellFormed {
                if media.unsupportedCharset != nil {
                    // The charset is not quoted: it is text the lab sent, lower-cased here (a case-sensitive rule
                    // could not scrub it from the reason).
                    throw MultipartPart.Failure(
                        reason: "multipart part \(self.number) declares a charset Airlock cannot inspect"
                    )
                }
                return media.format
            } else if self.name == "operations" || self.name == "map" {
                return .json  // GraphQL multipart request spec.
            } else if self.filename != nil || self.contentType != nil {
                // A file without a type, or with one that is not a media type at all: judged by its content.
                return MultipartPartWalk.sniff(content)
            } else {
                return .text  // RFC 7578: the default type of a field is text/plain.
            }
        }
    }

    private let body: UnsafeBufferPointer<UInt8>
    private let p: UnsafePointer<UInt8>
    private let n: Int
    /// `--boundary`.
    private let delimiter: [UInt8]
    /// CRLF `--boundary`: what ends a part's content.
    private let closing: [UInt8]
    /// Where the next delimiter starts; `nil` once the close delimiter is read.
    private var at: Int?
    private var number = 0
    /// The bytes before the first delimiter (RFC 2046 preamble), its CRLF included; empty when the body starts with
    /// the delimiter. Readers ignore it, but it is sent: the engine inspects it as text.
    private(set) var preamble: Range<Int>
    /// The bytes after the close delimiter's `--` (RFC 2046 epilogue, the line end included): set once ``next()``
    /// has returned `nil`. Inspected as text, like the preamble.
    private(set) var epilogue: Range<Int>?

    /// Finds the first delimiter: at the very start of `body`, or after a CRLF (preamble). `media` is the body's
    /// Content-Type: a repeated parameter (two `boundary`) is refused, not resolved.
    init(_ body: UnsafeBufferPointer<UInt8>, media: MediaType) throws(MultipartPart.Failure) {
        if media.repeatedParameter != nil {
            throw MultipartPart.Failure(
                reason: "multipart Content-Type repeats a parameter, which is ambiguous"
            )
        }
        let boundary = media.parameters["boundary"]
        guard let boundary, !boundary.isEmpty, boundary.utf8.count <= 200 else {
            throw MultipartPart.Failure(reason: "multipart body without a usable boundary parameter")
        }
        guard let p = body.baseAddress, body.count > 0 else {
            throw MultipartPart.Failure(reason: "multipart body is empty (no closing boundary)")
        }
        self.body = body
        self.p = p
        self.n = body.count
        self.delimiter = Array(("--" + boundary).utf8)
        self.closing = [0x0D, 0x0A] + self.delimiter
        if Self.starts(p, self.n, 0, self.delimiter) {
            self.at = 0
            self.preamble = 0..<0
        } else if let found = Self.find(p, self.n, from: 0, self.closing) {
            self.at = found + 2
            self.preamble = 0..<(found + 2)
            try self.refuseDelimiter(in: 0..<(found + 2), "in the preamble")
        } else {
            throw MultipartPart.Failure(reason: "multipart body: boundary not found")
        }
    }

    /// The next part, or `nil` after the close delimiter. Throws for a malformed delimiter line or header block, a
    /// part not closed by the boundary, header bytes that are not UTF-8 or a header line without a colon.
    mutating func next() throws(MultipartPart.Failure) -> Part? {
        guard var at = self.at else { return nil }
        let p = self.p
        let n = self.n
        let number = self.number + 1
        at += self.delimiter.count
        if at + 2 <= n, p[at] == UInt8(ascii: "-"), p[at + 1] == UInt8(ascii: "-") {  // close delimiter
            self.at = nil
            self.epilogue = (at + 2)..<n
            try self.refuseDelimiter(in: (at + 2)..<n, "after the closing boundary")
            return nil
        }
        // Transport padding, then CRLF.
        while at < n, p[at] == 0x20 || p[at] == 0x09 { at += 1 }
        guard at + 2 <= n, p[at] == 0x0D, p[at + 1] == 0x0A else {
            throw MultipartPart.Failure(reason: "multipart body: malformed boundary line in part \(number)")
        }
        at += 2
        let headersStart = at
        let headersEnd: Int
        if Self.starts(p, n, at, [0x0D, 0x0A]) {
            headersEnd = at
            at += 2
        } else {
            guard let end = Self.find(p, n, from: at, [0x0D, 0x0A, 0x0D, 0x0A]) else {
                throw MultipartPart.Failure(reason: "multipart body: part \(number) has unterminated headers")
            }
            headersEnd = end
            at = end + 4
        }
        guard let next = Self.find(p, n, from: at - 2, self.closing), next >= at - 2 else {
            throw MultipartPart.Failure(reason: "multipart body: part \(number) is not closed by the boundary")
        }
        try self.refuseDelimiter(in: headersStart..<(next + 2), "inside part \(number)")
        let block = UnsafeBufferPointer(start: p + headersStart, count: headersEnd - headersStart)
        guard UTF8Text.summarize(block).valid else {
            throw MultipartPart.Failure(reason: "multipart body: part \(number) headers are not valid UTF-8")
        }
        let part = Part(
            number: number,
            headerBlock: headersStart..<headersEnd,
            content: at..<max(next, at),
            headers: try MultipartHeaders(p, block: headersStart..<headersEnd, part: number)
        )
        if part.name == "_charset_" {
            // RFC 7578 4.6: a `_charset_` field sets the charset a reader decodes the other text fields with.
            let charset = String(decoding: UnsafeBufferPointer(rebasing: self.body[part.content]), as: UTF8.self)
                .trimmingCharacters(in: .whitespaces).lowercased()
            guard ["utf-8", "utf8", "us-ascii", "ascii"].contains(charset) else {
                throw MultipartPart.Failure(
                    reason: "multipart body: a _charset_ field names a charset other than UTF-8, which Airlock cannot "
                        + "inspect the other fields in"
                )
            }
        }
        self.at = next + 2
        self.number = number
        return part
    }

    /// RFC 2046: the delimiter never occurs inside a part, the preamble or the epilogue. A reader that splits on it
    /// wherever it stands (after a bare LF, mid-line) would find parts the engine reads as other bytes: refused.
    /// `range` holds where an occurrence may start.
    private func refuseDelimiter(in range: Range<Int>, _ where: String) throws(MultipartPart.Failure) {
        let end = min(self.n, range.upperBound + self.delimiter.count - 1)
        if Self.find(self.p, end, from: range.lowerBound, self.delimiter) != nil {
            throw MultipartPart.Failure(reason: "multipart body: the boundary appears \(`where`)")
        }
    }

    /// What a part without a usable type holds: JSON when it parses as JSON (so its escapes are decoded before
    /// matching, which a text scan would not do), text when it is UTF-8, else unknown content.
    static func sniff(_ whole: UnsafeBufferPointer<UInt8>) -> MediaType.Format {
        guard UTF8Text.summarize(whole).valid else { return .unknown }
        let body = UnsafeBufferPointer(rebasing: whole[ByteOrderMark.length(whole)...])
        let first = body.first { $0 != 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D }
        guard first == UInt8(ascii: "{") || first == UInt8(ascii: "[") else { return .text }
        let parses = (try? JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed])) != nil
        return parses ? .json : .text
    }

    @inline(__always)
    private static func starts(_ p: UnsafePointer<UInt8>, _ n: Int, _ at: Int, _ needle: [UInt8]) -> Bool {
        guard at + needle.count <= n else { return false }
        for k in 0..<needle.count where p[at + k] != needle[k] { return false }
        return true
    }

    private static func find(_ p: UnsafePointer<UInt8>, _ n: Int, from: Int, _ needle: [UInt8]) -> Int? {
        guard needle.count > 0, n >= needle.count else { return nil }
        var k = max(from, 0)
        let first = needle[0]
        while k + needle.count <= n {
            guard let hit = memchr(p + k, Int32(first), n - needle.count + 1 - k) else { return nil }
            let index = UnsafePointer<UInt8>(hit.assumingMemoryBound(to: UInt8.self)) - p
            if starts(p, n, index, needle) { return index }
            k = index + 1
        }
        return nil
    }
}
