import Foundation

/// Plain text (text/*): must be valid UTF-8; redacted in one scan.
enum TextRedactor {
    static func redact(
        _ body: UnsafeBufferPointer<UInt8>,
        session: RedactionSession,
        what: @autoclosure () -> String,
        path: @autoclosure () -> String?
    )
        throws(Stop) -> [UInt8]?
    {
        guard let p = body.baseAddress, body.count > 0 else { return nil }
        let summary = UTF8Text.summarize(body)
        guard summary.valid else { throw .uninspectable("\(what()) is not valid UTF-8") }
        return try session.redactText(
            p,
            lo: 0,
            hi: body.count,
            zeroWidth: summary.hasZeroWidth,
            whole: true,
            path: path
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
/// `content.unknown`. Nothing of the body leaves uninspected: the preamble and epilogue are redacted as text, part
/// headers as text with each parameter value a reader decodes (`filename*=UTF-8''…`, quoted-pairs) decoded first, and
/// a base64 or quoted-printable part is decoded, redacted by its type and encoded again. Parts are split, typed and
/// refused by ``MultipartPartWalk``, the walk the callback check (`Redactor.multipartParts`) reads parts through too.
enum MultipartRedactor {
    // Over 80 lines: one walk over the parts whose edits, paths and boundary check share the walk's cursor.
    static func redact(
        _ body: UnsafeBufferPointer<UInt8>,
        media: MediaType,
        session: RedactionSession
    )
        throws(Stop) -> [UInt8]?
    {
        var walk: MultipartPartWalk
        do {
            walk = try MultipartPartWalk(body, media: media)
        } catch {
            throw .uninspectable(error.reason)
        }
        // The walk succeeded, so the body is not empty.
        guard let p = body.baseAddress else { preconditionFailure("a multipart walk over an empty body") }
        let n = body.count
        var edits: [(Range<Int>, [UInt8])] = []
        func redactText(_ range: Range<Int>, what: String, path: @autoclosure () -> String?) throws(Stop) {
            if let redacted = try TextRedactor.redact(
                UnsafeBufferPointer(rebasing: body[range]),
                session: session,
                what: what,
                path: path()
            ) {
                edits.append((range, redacted))
            }
        }
        // The boundary leaves on every delimiter line (and in the Content-Type header): it cannot be rewritten in
        // place, so one the policy would change is refused (a block rule blocks).
        let boundary = Array((media.parameters["boundary"] ?? "").utf8)
        let changed = try boundary.withUnsafeBufferPointer { (bytes) throws(Stop) in
            try TextRedactor.redact(bytes, session: session, what: "the multipart boundary", path: nil)
        }
        if changed != nil {
            throw .uninspectable("the multipart boundary holds what the policy redacts; send another boundary")
        }
        try redactText(walk.preamble, what: "the multipart preamble", path: nil)
        while true {
            let next: MultipartPartWalk.Part?
            do {
                next = try walk.next()
            } catch {
                throw .uninspectable(error.reason)
            }
            guard let part = next else { break }
            let name = part.label
            // Part names are content: paths name a part as it left, built only for a finding.
            let path = { session.topLevelPath(Array(name.utf8)) }
            let what = "multipart part \(part.number) headers"
            // The header block as text, except the values a reader decodes: those are redacted decoded.
            let firstHeaderEdit = edits.count
            var cursor = part.headerBlock.lowerBound
            for value in part.headers.encodedValues {
                try redactText(cursor..<value.range.lowerBound, what: what, path: path())
                if let edit = try redactValue(value, body: body, session: session, what: what, path: path()) {
                    edits.append((value.range, edit))
                }
                cursor = value.range.upperBound
            }
            try redactText(cursor..<part.headerBlock.upperBound, what: what, path: path())
            try checkHeadersStillParse(part, edits: edits[firstHeaderEdit...], body: body)
            let encoding = part.headers.transferEncoding
            switch encoding {
            case .identity:
                let partBody = UnsafeBufferPointer(rebasing: body[part.content])
                if let redacted = try redactPart(partBody, part: part, name: name, session: session) {
                    edits.append((part.content, redacted))
                }
            case .base64, .quotedPrintable:
                let decoded: [UInt8]
                do {
                    decoded = try encoding.decode(UnsafeBufferPointer(rebasing: body[part.content]))
                } catch {
                    throw .uninspectable("multipart part \(part.number) \(error.reason)")
                }
                let redacted = try decoded.withUnsafeBufferPointer { (content) throws(Stop) in
                    try redactPart(content, part: part, name: name, session: session)
                }
                if let redacted { edits.append((part.content, encoding.encode(redacted))) }
            }
        }
        if let epilogue = walk.epilogue {
            try redactText(epilogue, what: "the multipart epilogue", path: nil)
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

    /// A part's header block as redacted must still read as the same kind of headers (a redaction in a header name
    /// or across a quote would leave them malformed, or read differently): otherwise the body is refused.
    private static func checkHeadersStillParse(
        _ part: MultipartPartWalk.Part,
        edits: ArraySlice<(Range<Int>, [UInt8])>,
        body: UnsafeBufferPointer<UInt8>
    ) throws(Stop) {
        guard !edits.isEmpty else { return }
        var block = [UInt8]()
        var cursor = part.headerBlock.lowerBound
        for (range, bytes) in edits {
            block += body[cursor..<range.lowerBound]
            block += bytes
            cursor = range.upperBound
        }
        block += body[cursor..<part.headerBlock.upperBound]
        let same = block.withUnsafeBufferPointer { redacted -> Bool in
            guard let p = redacted.baseAddress,
                let headers = try? MultipartHeaders(p, block: 0..<redacted.count, part: part.number)
            else { return false }
            return headers.transferEncoding == part.headers.transferEncoding
                && (headers.name == nil) == (part.headers.name == nil)
                && (headers.filename == nil) == (part.headers.filename == nil)
                && Self.sameDeclaredType(headers.contentType, part.contentType)
        }
        guard same else {
            throw .uninspectable("multipart part \(part.number) headers would not read the same once redacted")
        }
    }

    /// Whether a part's Content-Type, once redacted, still declares exactly the type it came with: the same
    /// `type/subtype` (a redaction inside it, even one that keeps the engine's reading, hands the vendor a type nobody
    /// inspected: `text/x-Nightingale` would leave as `text/x-[REDACTED:CODENAME]`), the same well-formedness (a
    /// value that is not a media type is judged by content, which must not change either) and the same charset.
    /// Parameters other than the charset (`name=`) may be redacted.
    private static func sameDeclaredType(_ redacted: String?, _ original: String?) -> Bool {
        guard let original else { return redacted == nil }
        guard let redacted else { return false }
        let before = MediaType(original)
        let after = MediaType(redacted)
        return before.essence == after.essence && before.isWellFormed == after.isWellFormed
            && before.parameters["charset"] == after.parameters["charset"] && before.format == after.format
    }

    /// A header parameter value a reader decodes, redacted as that reader reads it. A quoted string with backslashes
    /// is read two ways (RFC 9110 readers drop the escaping backslash; browsers and many form readers keep it, as in
    /// `"C:\fakepath\Nightingale.txt"`): the decoded reading is inspected first and, when it changes, written back
    /// quoted again (what any reader then reads is that approved text); otherwise the raw reading is inspected and
    /// redacted in place, and refused if the result is no longer a quoted string's content.
    private static func redactValue(
        _ value: MultipartHeaders.EncodedValue,
        body: UnsafeBufferPointer<UInt8>,
        session: RedactionSession,
        what: String,
        path: @autoclosure () -> String
    ) throws(Stop) -> [UInt8]? {
        let decoded = try value.decoded.withUnsafeBufferPointer { (decoded) throws(Stop) in
            try TextRedactor.redact(decoded, session: session, what: what, path: path())
        }
        switch value.encoding {
        case .extended:
            return decoded.map(value.encode)
        case .quotedPairs:
            if let decoded { return value.encode(decoded) }
            let raw = try TextRedactor.redact(
                UnsafeBufferPointer(rebasing: body[value.range]),
                session: session,
                what: what,
                path: path()
            )
            guard let raw else { return nil }
            var escaped = false
            for b in raw {
                if escaped {
                    escaped = false
                } else if b == UInt8(ascii: "\\") {
                    escaped = true
                } else if b == UInt8(ascii: "\"") {
                    throw .uninspectable("\(what): a redacted header parameter is no longer a quoted string")
                }
            }
            if escaped { throw .uninspectable("\(what): a redacted header parameter is no longer a quoted string") }
            return raw
        }
    }

    private static func redactPart(
        _ body: UnsafeBufferPointer<UInt8>,
        part: MultipartPartWalk.Part,
        name: String,
        session: RedactionSession
    ) throws(Stop) -> [UInt8]? {
        // Part names are content: reasons and paths name a part as it left.
        let what = { "multipart part \(session.quotedName(name))" }
        let path = { session.topLevelPath(Array(name.utf8)) }
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
                return try ByteOrderMark.redactAfter(body) { (document) throws(Stop) in
                    try JSONRedactor.redact(
                        document,
                        session: session,
                        prefix: [PathEntry(index: -1, keyStart: 0, keyCount: 0, owned: Array(name.utf8))]
                    )
                }
            } catch {
                if case .uninspectable(let reason) = error { throw .uninspectable("\(what()): \(reason)") }
                throw error
            }
        case .jsonLines:
            return try ByteOrderMark.redactAfter(body) { (lines) throws(Stop) in
                try JSONLinesRedactor.redact(lines, session: session)
            }
        case .text where session.rules.declaresBase64(field: Array(name.utf8)):
            return try session.redactDeclaredBase64(body, path: path)
        case .text:
            return try session.withFieldName(Array(name.utf8)) { () throws(Stop) in
                try TextRedactor.redact(body, session: session, what: what(), path: path())
            }
        case .form:
            return try FormRedactor.redact(body, session: session)
        case .multipart, .unknown:
            guard body.count > 0 else { return nil }
            // An image part (a Labelbox upload), by its bytes, when the policy reads images; a part declared an image
            // that is none is refused rather than left to `content.unknown`.
            if session.inspectsImages {
                if let format = ImageFormat(sniffing: body) {
                    return try session.redactImage(body, format: format, path: path)
                }
                if part.contentType.map(MediaType.init)?.isImage == true {
                    throw .uninspectable("\(what()) is declared an image but is not one Airlock can decode")
                }
            }
            switch session.unknownContent {
            case .pass: return nil
            case .block:
                session.record(rule: "content.unknown", action: .block, path: path(), value: nil)
                throw .blocked(
                    rule: "content.unknown",
                    reason: "\(what()) has type \(part.contentType ?? "unknown"), which Airlock cannot inspect"
                )
            }
        }
    }
}
