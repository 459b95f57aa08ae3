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
        return try session.redactText(
            p,
            lo: 0,
            hi: body.count,
            zeroWidth: summary.hasZeroWidth,
            whole: true,
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
/// `content.unknown`. Part headers (file names) are redacted as text. Parts are split, typed and refused by
/// ``MultipartPartWalk``, the walk the callback check (`Redactor.multipartParts`) reads parts through too.
enum MultipartRedactor {
    static func redact(
        _ body: UnsafeBufferPointer<UInt8>,
        boundary: String?,
        session: RedactionSession
    )
        throws(Stop) -> [UInt8]?
    {
        var walk: MultipartPartWalk
        do {
            walk = try MultipartPartWalk(body, boundary: boundary)
        } catch {
            throw .uninspectable(error.reason)
        }
        // The walk succeeded, so the body is not empty.
        guard let p = body.baseAddress else { preconditionFailure("a multipart walk over an empty body") }
        let n = body.count
        var edits: [(Range<Int>, [UInt8])] = []
        while true {
            let next: MultipartPartWalk.Part?
            do {
                next = try walk.next()
            } catch {
                throw .uninspectable(error.reason)
            }
            guard let part = next else { break }
            let name = part.label
            let path = "$." + name
            if let redacted = try TextRedactor.redact(
                UnsafeBufferPointer(rebasing: body[part.headerBlock]),
                session: session,
                what: "multipart part \(part.number) headers",
                path: path
            ) {
                edits.append((part.headerBlock, redacted))
            }
            let partBody = UnsafeBufferPointer(rebasing: body[part.content])
            if let redacted = try redactPart(partBody, part: part, name: name, session: session) {
                edits.append((part.content, redacted))
            }
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

    private static func redactPart(
        _ body: UnsafeBufferPointer<UInt8>,
        part: MultipartPartWalk.Part,
        name: String,
        session: RedactionSession
    ) throws(Stop) -> [UInt8]? {
        let what = "multipart part \(name)"
        let format: MediaType.Format
        do {
            format = try part.format(of: body)
        } catch {
            throw .uninspectable(error.reason)
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
        case .text where session.rules.declaresBase64(field: Array(name.utf8)):
            return try session.redactDeclaredBase64(body, path: { "$." + name })
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
                    reason: "\(what) has type \(part.contentType ?? "unknown"), which Airlock cannot inspect"
                )
            }
        }
    }
}
