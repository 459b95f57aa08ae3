import AirlockPolicy

/// What an embedded payload's decoded bytes are.
enum EmbeddedContent {
    /// UTF-8 text (JSON included): inspected through the engine.
    case text([UInt8])
    /// Bytes the policy cannot inspect: a known file type, or (`nil`) binary of no known type.
    case binary(EmbeddedFileType?)
    /// An image, inspected when the policy has an `images:` section (else as `binary`).
    case image(ImageFormat, [UInt8])
}

extension RedactionSession {
    /// Redacts text (a JSON string's decoded content, a form value, a multipart text field, a text body) that may
    /// hold embedded payloads (`EmbeddedPayload`): each payload is decoded and inspected by its type, the text
    /// around them is redacted as usual. `whole`: the text is one value (see `EmbeddedPayload.find`). `depth`: the
    /// JSON depth of the value, which a JSON document inside a payload counts against the depth limit.
    ///
    /// Returns the new bytes, or `nil` when nothing changes (a payload whose content changes nothing keeps its
    /// bytes exactly).
    func redactText(
        _ p: UnsafePointer<UInt8>,
        lo: Int,
        hi: Int,
        zeroWidth: Bool,
        whole: Bool = false,
        depth: Int = 0,
        path: () -> String?
    ) throws(Stop) -> [UInt8]? {
        let payloads =
            EmbeddedPayload.mayHold(p, lo: lo, hi: hi) ? EmbeddedPayload.find(p, lo: lo, hi: hi, whole: whole) : []
        guard !payloads.isEmpty else {
            return try redactSegment(p, lo: lo, hi: hi, hits: nil, zeroWidth: zeroWidth, path: path)
        }
        var out: [UInt8] = []
        var changed = false
        var cursor = lo
        func keep(_ range: Range<Int>, _ replacement: [UInt8]?) {
            if let replacement {
                changed = true
                out += replacement
            } else {
                out.append(contentsOf: UnsafeBufferPointer(start: p + range.lowerBound, count: range.count))
            }
        }
        for payload in payloads {
            let before = cursor..<payload.span.lowerBound
            keep(
                before,
                try redactSegment(
                    p,
                    lo: before.lowerBound,
                    hi: before.upperBound,
                    hits: nil,
                    zeroWidth: zeroWidth,
                    path: path
                )
            )
            keep(payload.span, try redactPayload(payload, p, depth: depth, path: path))
            cursor = payload.span.upperBound
        }
        keep(cursor..<hi, try redactSegment(p, lo: cursor, hi: hi, hits: nil, zeroWidth: zeroWidth, path: path))
        return changed ? out : nil
    }

    /// Redacts the value of a field a policy declares base64 (`fields` with `encoding: base64`): the whole value is a
    /// payload, a `data:` URL or base64 (line breaks and spaces ignored), whatever it decodes to. Text is inspected;
    /// anything else, of a known type or not, is content the policy cannot inspect; a value that does not decode is
    /// refused.
    func redactDeclaredBase64(
        _ value: UnsafeBufferPointer<UInt8>,
        depth: Int = 0,
        path: () -> String?
    ) throws(Stop) -> [UInt8]? {
        guard let p = value.baseAddress, value.count > 0 else { return nil }
        var lo = 0
        while lo < value.count, value[lo] == 0x20 || value[lo] == 0x09 || value[lo] == 0x0A || value[lo] == 0x0D {
            lo += 1
        }
        let hasScheme = value.count - lo >= 5 && EmbeddedPayload.lowercased(value[lo..<lo + 5]) == Array("data:".utf8)
        if hasScheme, let url = EmbeddedPayload.dataURL(p, at: lo, lo: lo, hi: value.count, whole: true) {
            guard let replaced = try redactPayload(url, p, depth: depth, path: path) else { return nil }
            return Array(value[0..<lo]) + replaced
        }
        guard let decoded = Base64Text.decode(value, spaces: true) else {
            throw .uninspectablePayload("a field declared base64 does not hold base64")
        }
        let content = Self.content(of: decoded.bytes)
        guard let redacted = try redactContent(content, depth: depth, path: path) else { return nil }
        return decoded.layout.encode(redacted)
    }

    /// The new encoding of one payload, or `nil` when it leaves as it is.
    private func redactPayload(
        _ payload: EmbeddedPayload,
        _ p: UnsafePointer<UInt8>,
        depth: Int,
        path: () -> String?
    ) throws(Stop) -> [UInt8]? {
        let body = UnsafeBufferPointer(start: p + payload.body.lowerBound, count: payload.body.count)
        // A data: URL's header (its media type and parameters: `data:text/plain;name=Kestrel,`) is text the vendor
        // receives like any other: inspected as such, so a name or codename written there is redacted or blocks.
        let header = payload.span.lowerBound..<payload.body.lowerBound
        let headerText = UnsafeBufferPointer(start: p + header.lowerBound, count: header.count)
        let redactedHeader = try redactSegment(
            p,
            lo: header.lowerBound,
            hi: header.upperBound,
            hits: nil,
            zeroWidth: UTF8Text.summarize(headerText).hasZeroWidth,
            path: path
        )
        guard let content = try redactPayloadContent(payload, body, depth: depth, path: path) else {
            return redactedHeader.map { $0 + Array(body) }
        }
        return (redactedHeader ?? Array(headerText)) + content
    }

    /// The payload's content redacted and encoded again as it was, or `nil` when nothing in it changes.
    private func redactPayloadContent(
        _ payload: EmbeddedPayload,
        _ body: UnsafeBufferPointer<UInt8>,
        depth: Int,
        path: () -> String?
    ) throws(Stop) -> [UInt8]? {
        switch payload.form {
        case .base64(let type?):
            guard type.imageFormat != nil, inspectsImages else {
                try refuseOrPass(type, path: path)
                return nil
            }
            return try redactEncodedImage(body, depth: depth, path: path)
        case .base64(nil):
            guard let text = payload.text else { preconditionFailure("a text run of base64 carries its decoded text") }
            if let split = try gluedQuantum(text.bytes) {
                // The quanta before `split` may be a prefix glued on (`hello` + base64 reads `zYh` + the text): the two
                // parts are inspected as texts of their own, then encoded again as one.
                let head = Array(text.bytes[..<split])
                let rest = Array(text.bytes[split...])
                let newHead = try redactContent(.text(head), depth: depth, path: path)
                let newRest = try redactContent(.text(rest), depth: depth, path: path)
                guard newHead != nil || newRest != nil else { return nil }
                return text.layout.encode((newHead ?? head) + (newRest ?? rest))
            }
            guard let redacted = try redactContent(.text(text.bytes), depth: depth, path: path) else { return nil }
            return text.layout.encode(redacted)
        case .dataURLBase64:
            // A data URL is a file by intent: it is inspected whatever it holds, and refused when it does not decode.
            if let type = EmbeddedFileType(sniffing: Base64Text.decodePrefix(body)) {
                guard type.imageFormat != nil, inspectsImages else {
                    try refuseOrPass(type, path: path)
                    return nil
                }
                return try redactEncodedImage(body, depth: depth, path: path)
            }
            guard body.contains(where: { Base64Text.digit($0) >= 0 }) else { return nil }
            guard let decoded = Base64Text.decode(body, spaces: true) else {
                throw .uninspectablePayload("an embedded data: URL does not hold valid base64")
            }
            guard let redacted = try redactContent(Self.content(of: decoded.bytes), depth: depth, path: path) else {
                return nil
            }
            return decoded.layout.encode(redacted)
        case .dataURLPercent:
            let decoded = Self.percentDecoded(body)
            guard !decoded.isEmpty,
                let redacted = try redactContent(Self.content(of: decoded), depth: depth, path: path)
            else {
                return nil
            }
            return Self.percentEncoded(redacted)
        }
    }

    /// Where, in the first `EmbeddedPayload.prefixReach` characters' worth of decoded base64 text, a match would
    /// start at a quantum boundary if the bytes before it were a prefix glued on: a prefix of whole quanta in the same
    /// run decodes to bytes that may read as letters (`ello` reads `zYh`), gluing the text's first word to them
    /// (`zYhNightingale`, not a whole word). The byte offset (a multiple of 3) of the first such boundary, or `nil`.
    private func gluedQuantum(_ text: [UInt8]) throws(Stop) -> Int? {
        func isWordByte(_ b: UInt8) -> Bool { TermVariants.isAlnum(b) || b >= 0x80 }
        let quanta = min(EmbeddedPayload.prefixReach / 4, (text.count - 1) / 3)
        guard quanta >= 1 else { return nil }
        return try text.withUnsafeBufferPointer { (t) throws(Stop) -> Int? in
            let p = t.baseAddress!
            for k in 1...quanta {
                let at = 3 * k
                guard isWordByte(t[at - 1]), isWordByte(t[at]), t[at] & 0xC0 != 0x80 else { continue }
                let matches = try segmentMatches(p, lo: at, hi: min(t.count, at + 256), hits: nil, zeroWidth: false)
                if matches.contains(where: { $0.start == at }) { return at }
            }
            return nil
        }
    }

    /// An image's base64 (`body`, in a data URL or a run) decoded, inspected and encoded again as it was written.
    /// Digits that do not decode are refused: a file by its magic number that cannot be read is not forwarded.
    private func redactEncodedImage(
        _ body: UnsafeBufferPointer<UInt8>,
        depth: Int,
        path: () -> String?
    ) throws(Stop) -> [UInt8]? {
        guard let decoded = Base64Text.decode(body, spaces: true) else {
            throw .uninspectablePayload("an embedded image does not hold valid base64")
        }
        guard let redacted = try redactContent(Self.content(of: decoded.bytes), depth: depth, path: path) else {
            return nil
        }
        return decoded.layout.encode(redacted)
    }

    /// What decoded bytes are: text when valid UTF-8, else binary (of a known type or not).
    static func content(of bytes: [UInt8]) -> EmbeddedContent {
        if let type = EmbeddedFileType(sniffing: bytes) {
            if let format = type.imageFormat { return .image(format, bytes) }
            return .binary(type)
        }
        let valid = bytes.withUnsafeBufferPointer { UTF8Text.summarize($0).valid }
        return valid ? .text(bytes) : .binary(nil)
    }

    /// Inspects decoded content: text through the engine (a JSON document as JSON), binary per `content.unknown`.
    /// Returns the redacted text, or `nil` when nothing changes.
    private func redactContent(_ content: EmbeddedContent, depth: Int, path: () -> String?) throws(Stop) -> [UInt8]? {
        switch content {
        case .binary(let type):
            try refuseOrPass(type, path: path)
            return nil
        case .image(let format, let bytes):
            guard inspectsImages else {
                try refuseOrPass(EmbeddedFileType(sniffing: bytes), path: path)
                return nil
            }
            return try bytes.withUnsafeBufferPointer { (b) throws(Stop) -> [UInt8]? in
                try redactImage(b, format: format, path: path)
            }
        case .text(let bytes):
            guard !bytes.isEmpty else { return nil }
            // Payloads in payloads, and JSON in them, share the nesting limit of JSON in strings.
            guard nesting < JSONRedactor.maxNesting else {
                throw .uninspectablePayload("embedded payloads nested more than \(JSONRedactor.maxNesting) deep")
            }
            nesting += 1
            enclosingDepth += depth
            defer {
                nesting -= 1
                enclosingDepth -= depth
            }
            return try bytes.withUnsafeBufferPointer { (b) throws(Stop) -> [UInt8]? in
                let start = b.baseAddress!
                if JSONRedactor.looksLikeJSON(start, 0, b.count) {
                    let snapshot = snapshotFindings()
                    do throws(Stop) {
                        return try JSONRedactor.redact(b, session: self)
                    } catch {
                        guard case .uninspectable = error else { throw error }
                        // Not a JSON document after all: text, as below.
                        restoreFindings(snapshot)
                    }
                }
                let summary = UTF8Text.summarize(b)
                return try redactText(
                    start,
                    lo: 0,
                    hi: b.count,
                    zeroWidth: summary.hasZeroWidth,
                    whole: true,
                    path: path
                )
            }
        }
    }

    /// Refuses a payload the policy cannot inspect (`content.unknown: block`, 422), or lets it leave as it is and
    /// records it (`pass`: a `content.unknown` finding with action `pass`). The reason names the type only.
    private func refuseOrPass(_ type: EmbeddedFileType?, path: () -> String?) throws(Stop) {
        switch unknownContent {
        case .pass:
            recordUninspected(path: path())
        case .block:
            record(rule: "content.unknown", action: .block, path: path(), value: nil)
            throw .uninspectablePayload(
                "an embedded \(type?.mediaType ?? "binary") payload cannot be inspected and content.unknown is block"
            )
        }
    }

    /// Percent-decodes a data URL's body (an invalid escape stays as written, as browsers read it).
    static func percentDecoded(_ body: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(body.count)
        var k = 0
        while k < body.count {
            if body[k] == UInt8(ascii: "%"), k + 2 < body.count {
                let high = JSONStringEscapes.hexValue(body[k + 1])
                let low = JSONStringEscapes.hexValue(body[k + 2])
                if high >= 0, low >= 0 {
                    out.append(UInt8(high << 4 | low))
                    k += 3
                    continue
                }
            }
            out.append(body[k])
            k += 1
        }
        return out
    }

    /// Percent-encodes a data URL's new body: everything but unreserved characters and the sub-delimiters that
    /// read the same either way.
    static func percentEncoded(_ bytes: [UInt8]) -> [UInt8] {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        for b in bytes {
            switch b {
            case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: "!"),
                UInt8(ascii: "$"), UInt8(ascii: "*"), UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: "="),
                UInt8(ascii: ":"), UInt8(ascii: "@"), UInt8(ascii: "/"), UInt8(ascii: "?"):
                out.append(b)
            default:
                if TermVariants.isAlnum(b) {
                    out.append(b)
                } else {
                    out += [UInt8(ascii: "%"), hex[Int(b >> 4)], hex[Int(b & 0xF)]]
                }
            }
        }
        return out
    }
}
