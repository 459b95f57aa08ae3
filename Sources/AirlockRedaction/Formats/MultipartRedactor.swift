import Foundation

/// Plain text (text/*): must be valid UTF-8; redacted in one scan.
enum TextRedactor {
    static func redact(
        _ body: UnsafeBufferPointer<UInt8>,
        session: RedactionSession,
        what: String,
        path: String?
    )
        throws(Stop) -> [UInt8]?
    {
        guard let p = body.baseAddress, body.count > 0 else { return nil }
        let summary = UTF8Text.summarize(body)
        guard summary.valid else { throw .uninspectable("\(what) is not valid UTF-8") }
        return try session.redactSegment(
            p,
            lo: 0,
            hi: body.count,
            hits: nil,
            zeroWidth: summary.hasZeroWidth,
            path: { path }
        )
    }
}

/// Newline-delimited JSON: every non-blank line is a JSON document.
enum JSONLinesRedactor {
    static func redact(_ body: UnsafeBufferPointer<UInt8>, session: RedactionSession) throws(Stop) -> [UInt8]? {
        guard let p = body.baseAddress else { return nil }
        var out = [UInt8]()
        var changed = false
        var start = 0
        var line = 0
        while start < body.count {
            var end = start
            while end < body.count, p[end] != 0x0A { end += 1 }
            var contentEnd = end
            if contentEnd > start, p[contentEnd - 1] == 0x0D { contentEnd -= 1 }
            let slice = UnsafeBufferPointer(start: p + start, count: contentEnd - start)
            let blank = slice.allSatisfy { $0 == 0x20 || $0 == 0x09 }
            var replaced: [UInt8]? = nil
            if !blank {
                do {
                    replaced = try JSONRedactor.redact(slice, session: session, prefix: [.element(line)])
                } catch {
                    if case .uninspectable(let reason) = error { throw .uninspectable("line \(line + 1): \(reason)") }
                    throw error
                }
            }
            if let replaced {
                changed = true
                out += replaced
            } else {
                out.append(contentsOf: slice)
            }
            out.append(
                contentsOf: UnsafeBufferPointer(start: p + contentEnd, count: min(end + 1, body.count) - contentEnd)
            )
            start = end + 1
            line += 1
        }
        return changed ? out : nil
    }
}

/// multipart/form-data (RFC 7578): each part is redacted by its own type. A GraphQL multipart upload's `operations`
/// and `map` parts are JSON; file parts of a text or JSON type are redacted too; other (binary) parts follow
/// `content.unknown`. Part headers (file names) are redacted as text.
enum MultipartRedactor {
    static func redact(
        _ body: UnsafeBufferPointer<UInt8>,
        boundary: String?,
        session: RedactionSession
    )
        throws(Stop) -> [UInt8]?
    {
        guard let boundary, !boundary.isEmpty, boundary.utf8.count <= 200 else {
            throw .uninspectable("multipart body without a usable boundary parameter")
        }
        guard let p = body.baseAddress, body.count > 0 else {
            throw .uninspectable("multipart body is empty (no closing boundary)")
        }
        let n = body.count
        let delimiter = Array(("--" + boundary).utf8)
        // The first delimiter: at the very start, or after a CRLF (preamble).
        var at: Int
        if starts(p, n, 0, delimiter) {
            at = 0
        } else if let found = find(p, n, from: 0, [0x0D, 0x0A] + delimiter) {
            at = found + 2
        } else {
            throw .uninspectable("multipart body: boundary not found")
        }
        var edits: [(Range<Int>, [UInt8])] = []
        var partIndex = 0
        while true {
            at += delimiter.count
            if at + 2 <= n, p[at] == UInt8(ascii: "-"), p[at + 1] == UInt8(ascii: "-") { break }  // close delimiter
            // Transport padding, then CRLF.
            while at < n, p[at] == 0x20 || p[at] == 0x09 { at += 1 }
            guard at + 2 <= n, p[at] == 0x0D, p[at + 1] == 0x0A else {
                throw .uninspectable("multipart body: malformed boundary line in part \(partIndex + 1)")
            }
            at += 2
            let headersStart = at
            let headersEnd: Int
            if starts(p, n, at, [0x0D, 0x0A]) {
                headersEnd = at
                at += 2
            } else {
                guard let end = find(p, n, from: at, [0x0D, 0x0A, 0x0D, 0x0A]) else {
                    throw .uninspectable("multipart body: part \(partIndex + 1) has unterminated headers")
                }
                headersEnd = end
                at = end + 4
            }
            guard let next = find(p, n, from: at - 2, [0x0D, 0x0A] + delimiter), next >= at - 2 else {
                throw .uninspectable("multipart body: part \(partIndex + 1) is not closed by the boundary")
            }
            let bodyStart = at
            let bodyEnd = max(next, at)
            let headers = try parseHeaders(
                UnsafeBufferPointer(start: p + headersStart, count: headersEnd - headersStart),
                part: partIndex + 1
            )
            let name = headers.name ?? "part\(partIndex + 1)"
            let path = "$." + name
            if let redacted = try TextRedactor.redact(
                UnsafeBufferPointer(start: p + headersStart, count: headersEnd - headersStart),
                session: session,
                what: "multipart part \(partIndex + 1) headers",
                path: path
            ) {
                edits.append((headersStart..<headersEnd, redacted))
            }
            let partBody = UnsafeBufferPointer(start: p + bodyStart, count: bodyEnd - bodyStart)
            if let redacted = try redactPart(partBody, headers: headers, name: name, session: session) {
                edits.append((bodyStart..<bodyEnd, redacted))
            }
            at = next + 2
            partIndex += 1
        }
        guard !edits.isEmpty else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(n)
        var cursor = 0
        for (range, bytes) in edits {
            out.append(contentsOf: UnsafeBufferPointer(start: p + cursor, count: range.lowerBound - cursor))
            out += bytes
            cursor = range.upperBound
        }
        out.append(contentsOf: UnsafeBufferPointer(start: p + cursor, count: n - cursor))
        return out
    }

    struct PartHeaders {
        var name: String?
        var filename: String?
        var contentType: String?
    }

    private static func redactPart(
        _ body: UnsafeBufferPointer<UInt8>,
        headers: PartHeaders,
        name: String,
        session: RedactionSession
    ) throws(Stop) -> [UInt8]? {
        let what = "multipart part \(name)"
        let format: MediaType.Format
        if let media = headers.contentType.map(MediaType.init), media.isWellFormed {
            if let charset = media.unsupportedCharset {
                throw .uninspectable("\(what) has charset \(charset), which Airlock cannot inspect")
            }
            format = media.format
        } else if headers.name == "operations" || headers.name == "map" {
            format = .json  // GraphQL multipart request spec.
        } else if headers.filename != nil || headers.contentType != nil {
            // A file without a type, or with one that is not a media type at all: judged by its content.
            format = Self.sniff(body)
        } else {
            format = .text  // RFC 7578: the default type of a field is text/plain.
        }
        switch format {
        case .json:
            guard body.count > 0 else { return nil }
            do {
                return try JSONRedactor.redact(
                    body,
                    session: session,
                    prefix: [PathEntry(index: -1, keyStart: 0, keyCount: 0, owned: Array(name.utf8))]
                )
            } catch {
                if case .uninspectable(let reason) = error { throw .uninspectable("\(what): \(reason)") }
                throw error
            }
        case .jsonLines:
            return try JSONLinesRedactor.redact(body, session: session)
        case .text:
            return try TextRedactor.redact(body, session: session, what: what, path: "$." + name)
        case .form:
            return try FormRedactor.redact(body, session: session)
        case .multipart, .unknown:
            guard body.count > 0 else { return nil }
            switch session.unknownContent {
            case .pass: return nil
            case .block:
                session.record(rule: "content.unknown", action: .block, path: "$." + name, value: nil)
                throw .blocked(
                    rule: "content.unknown",
                    reason: "\(what) has type \(headers.contentType ?? "unknown"), which Airlock cannot inspect"
                )
            }
        }
    }

    /// What a part without a usable type holds: JSON when it parses as JSON (so its escapes are decoded before
    /// matching, which a text scan would not do), text when it is UTF-8, else unknown content.
    static func sniff(_ body: UnsafeBufferPointer<UInt8>) -> MediaType.Format {
        guard UTF8Text.summarize(body).valid else { return .unknown }
        let first = body.first { $0 != 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D }
        guard first == UInt8(ascii: "{") || first == UInt8(ascii: "[") else { return .text }
        let parses = (try? JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed])) != nil
        return parses ? .json : .text
    }

    private static func parseHeaders(_ block: UnsafeBufferPointer<UInt8>, part: Int) throws(Stop) -> PartHeaders {
        guard UTF8Text.summarize(block).valid else {
            throw .uninspectable("multipart body: part \(part) headers are not valid UTF-8")
        }
        var headers = PartHeaders()
        let text = String(decoding: block, as: UTF8.self)
        for line in text.split(separator: "\r\n", omittingEmptySubsequences: true) {
            guard let colon = line.firstIndex(of: ":") else {
                throw .uninspectable("multipart body: part \(part) has a malformed header line")
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
