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
        /// Nested multipart or content the engine cannot read, which the policy's `content.unknown` governs.
        case opaque
    }

    /// Why a body does not split into parts: the reason the engine refuses it with as uninspectable.
    public struct Failure: Error, Sendable {
        public var reason: String
    }

    /// The `name` parameter of the part's Content-Disposition, as the engine reads it (not decoded).
    public var name: String?
    /// The content's byte range in the body: after the blank line ending the part's headers, up to the CRLF before
    /// the next delimiter.
    public var range: Range<Int>
    public var format: Format
}

extension Redactor {
    /// The parts of `body` when `contentType` is `multipart/form-data`; `nil` for any other type.
    ///
    /// Throws what makes the engine refuse the body as uninspectable (no usable boundary, a malformed delimiter line
    /// or part header, a part not closed by the boundary, a declared charset it cannot read), with the engine's
    /// reason. The walk follows ``MultipartRedactor`` step by step so the two never disagree on where a part is.
    public static func multipartParts(
        _ body: UnsafeRawBufferPointer,
        contentType: String?
    ) throws(MultipartPart.Failure) -> [MultipartPart]? {
        guard let contentType else { return nil }
        let media = MediaType(contentType)
        guard media.format == .multipart else { return nil }
        return try MultipartPartWalk.parts(body.bindMemory(to: UInt8.self), boundary: media.parameters["boundary"])
    }
}

/// The delimiter walk of ``MultipartRedactor/redact(_:boundary:session:)`` without the redaction.
enum MultipartPartWalk {
    static func parts(
        _ body: UnsafeBufferPointer<UInt8>,
        boundary: String?
    ) throws(MultipartPart.Failure) -> [MultipartPart] {
        guard let boundary, !boundary.isEmpty, boundary.utf8.count <= 200 else {
            throw MultipartPart.Failure(reason: "multipart body without a usable boundary parameter")
        }
        guard let p = body.baseAddress, body.count > 0 else {
            throw MultipartPart.Failure(reason: "multipart body is empty (no closing boundary)")
        }
        let n = body.count
        let delimiter = Array(("--" + boundary).utf8)
        var at: Int
        if starts(p, n, 0, delimiter) {
            at = 0
        } else if let found = find(p, n, from: 0, [0x0D, 0x0A] + delimiter) {
            at = found + 2
        } else {
            throw MultipartPart.Failure(reason: "multipart body: boundary not found")
        }
        var parts: [MultipartPart] = []
        var partIndex = 0
        while true {
            at += delimiter.count
            if at + 2 <= n, p[at] == UInt8(ascii: "-"), p[at + 1] == UInt8(ascii: "-") { break }  // close delimiter
            while at < n, p[at] == 0x20 || p[at] == 0x09 { at += 1 }
            guard at + 2 <= n, p[at] == 0x0D, p[at + 1] == 0x0A else {
                throw MultipartPart.Failure(reason: "multipart body: malformed boundary line in part \(partIndex + 1)")
            }
            at += 2
            let headersStart = at
            let headersEnd: Int
            if starts(p, n, at, [0x0D, 0x0A]) {
                headersEnd = at
                at += 2
            } else {
                guard let end = find(p, n, from: at, [0x0D, 0x0A, 0x0D, 0x0A]) else {
                    throw MultipartPart.Failure(
                        reason: "multipart body: part \(partIndex + 1) has unterminated headers"
                    )
                }
                headersEnd = end
                at = end + 4
            }
            guard let next = find(p, n, from: at - 2, [0x0D, 0x0A] + delimiter), next >= at - 2 else {
                throw MultipartPart.Failure(
                    reason: "multipart body: part \(partIndex + 1) is not closed by the boundary"
                )
            }
            let bodyStart = at
            let bodyEnd = max(next, at)
            let headers = try partHeaders(
                UnsafeBufferPointer(start: p + headersStart, count: headersEnd - headersStart),
                part: partIndex + 1
            )
            let content = UnsafeBufferPointer(start: p + bodyStart, count: bodyEnd - bodyStart)
            parts.append(
                MultipartPart(
                    name: headers.name,
                    range: bodyStart..<bodyEnd,
                    format: try format(of: content, headers: headers, name: headers.name ?? "part\(partIndex + 1)")
                )
            )
            at = next + 2
            partIndex += 1
        }
        return parts
    }

    /// The engine's choice in `MultipartRedactor.redactPart`.
    private static func format(
        of content: UnsafeBufferPointer<UInt8>,
        headers: MultipartRedactor.PartHeaders,
        name: String
    ) throws(MultipartPart.Failure) -> MultipartPart.Format {
        let format: MediaType.Format
        if let media = headers.contentType.map(MediaType.init), media.isWellFormed {
            if let charset = media.unsupportedCharset {
                throw MultipartPart.Failure(
                    reason: "multipart part \(name) has charset \(charset), which Airlock cannot inspect"
                )
            }
            format = media.format
        } else if headers.name == "operations" || headers.name == "map" {
            format = .json
        } else if headers.filename != nil || headers.contentType != nil {
            format = MultipartRedactor.sniff(content)
        } else {
            format = .text
        }
        switch format {
        case .json: return .json
        case .jsonLines: return .jsonLines
        case .text: return .text
        case .form: return .form
        case .multipart, .unknown: return .opaque
        }
    }

    /// `MultipartRedactor.parseHeaders`: the same checks, the same reasons.
    private static func partHeaders(
        _ block: UnsafeBufferPointer<UInt8>,
        part: Int
    ) throws(MultipartPart.Failure) -> MultipartRedactor.PartHeaders {
        guard UTF8Text.summarize(block).valid else {
            throw MultipartPart.Failure(reason: "multipart body: part \(part) headers are not valid UTF-8")
        }
        var headers = MultipartRedactor.PartHeaders()
        let text = String(decoding: block, as: UTF8.self)
        for line in text.split(separator: "\r\n", omittingEmptySubsequences: true) {
            guard let colon = line.firstIndex(of: ":") else {
                throw MultipartPart.Failure(reason: "multipart body: part \(part) has a malformed header line")
            }
            let field = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            switch field {
            case "content-type":
                headers.contentType = value
            case "content-disposition":
                let media = MediaType(value)
                headers.name = media.parameters["name"]
                headers.filename = media.parameters["filename"] ?? media.parameters["filename*"]
            default:
                break
            }
        }
        return headers
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
