import AirlockRedaction

/// Redacts what a request carries outside its body: each path segment after the vendor prefix, and each query key
/// and value, decoded as a person reads them, then re-encoded.
///
/// Fails closed like the body: a percent-escape that does not decode, or text that is not UTF-8, makes the request
/// uninspectable; a block rule blocks it.
enum URLPartRedaction {
    enum Outcome {
        case forward(path: String, query: String?, findings: [Finding])
        case block(rule: String, reason: String, findings: [Finding])
        case uninspectable(reason: String)
    }

    static func redact(path: String, query: String?, redactor: Redactor, vendor: String) -> Outcome {
        // The common case: every segment, key and value plain and clean. Checked part by part exactly as below, but
        // without splitting into arrays and joining again.
        if Self.everyPartIsPlainAndClean(path, isQuery: false, redactor: redactor),
            query.map({ Self.everyPartIsPlainAndClean($0, isQuery: true, redactor: redactor) }) ?? true
        {
            return .forward(path: path, query: query, findings: [])
        }
        var findings: [Finding] = []
        var segments: [String] = []
        for (index, segment) in path.split(separator: "/", omittingEmptySubsequences: false).enumerated() {
            if Self.isPlainAndClean(segment, redactor: redactor) {
                segments.append(String(segment))
                continue
            }
            guard let decoded = PercentCoding.decode(segment, plusIsSpace: false) else {
                return .uninspectable(reason: "path segment \(index) has an invalid percent-escape")
            }
            switch PlacedTextRedaction.redact(decoded, at: "path[\(index)]", redactor: redactor, vendor: vendor) {
            case .unchanged(let reported):
                segments.append(String(segment))
                findings += reported
            case .changed(let text, let found):
                segments.append(PercentCoding.encode(text, keeping: Self.literalParameterDelimiters(segment)))
                findings += found
            case .block(let rule, let reason, let found):
                return .block(rule: rule, reason: reason, findings: found)
            case .uninspectable(let reason):
                return .uninspectable(reason: reason)
            }
        }
        var parts: [String] = []
        if let query {
            for (index, component) in query.split(separator: "&", omittingEmptySubsequences: false).enumerated() {
                let pair = component.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                var rebuilt: [String] = []
                for (position, piece) in pair.enumerated() {
                    let place = position == 0 ? "query[\(index)].key" : "query[\(index)].value"
                    if Self.isPlainAndClean(piece, redactor: redactor) {
                        rebuilt.append(String(piece))
                        continue
                    }
                    guard let decoded = PercentCoding.decode(piece, plusIsSpace: true) else {
                        return .uninspectable(reason: "\(place) has an invalid percent-escape")
                    }
                    switch PlacedTextRedaction.redact(decoded, at: place, redactor: redactor, vendor: vendor) {
                    case .unchanged(let reported):
                        rebuilt.append(String(piece))
                        findings += reported
                    case .changed(let text, let found):
                        rebuilt.append(PercentCoding.encode(text))
                        findings += found
                    case .block(let rule, let reason, let found):
                        return .block(rule: rule, reason: reason, findings: found)
                    case .uninspectable(let reason):
                        return .uninspectable(reason: reason)
                    }
                }
                parts.append(rebuilt.joined(separator: "="))
            }
        }
        return .forward(
            path: segments.joined(separator: "/"),
            query: query == nil ? nil : parts.joined(separator: "&"),
            findings: findings
        )
    }

    /// Whether every part `redact` would look at is plain and clean: the path's segments (split on `/`), or the
    /// query's keys and values (components split on `&`, each at its first `=`). The same parts, the same check.
    private static func everyPartIsPlainAndClean(_ text: String, isQuery: Bool, redactor: Redactor) -> Bool {
        var text = text
        return text.withUTF8 { bytes in
            func clean(_ range: Range<Int>) -> Bool {
                Self.isPlainAndClean(UnsafeBufferPointer(rebasing: bytes[range]), redactor: redactor)
            }
            let separator = isQuery ? UInt8(ascii: "&") : UInt8(ascii: "/")
            var start = 0
            for index in 0...bytes.count where index == bytes.count || bytes[index] == separator {
                let part = start..<index
                start = index + 1
                if isQuery, let equals = bytes[part].firstIndex(of: UInt8(ascii: "=")) {
                    guard clean(part.lowerBound..<equals), clean((equals + 1)..<part.upperBound) else { return false }
                } else if !clean(part) {
                    return false
                }
            }
            return true
        }
    }

    /// The `;`, `=` and `,` of path parameters (`/task/abc;rev=2`) that a redacted segment keeps as they were:
    /// those the segment spells literally and never as an escape, so each one in the decoded text was literal.
    /// Redaction's replacements (pseudonyms, `[REDACTED:…]`, masks, hashes) never contain them.
    private static func literalParameterDelimiters(_ segment: Substring) -> [UInt8] {
        let escapes: [(UInt8, String)] = [
            (UInt8(ascii: ";"), "%3b"), (UInt8(ascii: "="), "%3d"), (UInt8(ascii: ","), "%2c"),
        ]
        let lowered = segment.lowercased()
        return escapes.compactMap { byte, escape in
            segment.utf8.contains(byte) && !lowered.contains(escape) ? byte : nil
        }
    }

    private static func isPlainAndClean(_ part: Substring, redactor: Redactor) -> Bool {
        var part = part
        return part.withUTF8 { Self.isPlainAndClean($0, redactor: redactor) }
    }

    /// Most parts carry nothing: with no escape that could hide a term, one raw scan of the part decides, without
    /// decoding or building a redaction session.
    private static func isPlainAndClean(_ bytes: UnsafeBufferPointer<UInt8>, redactor: Redactor) -> Bool {
        !bytes.contains { $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: "+") || $0 >= 0x80 }
            && !redactor.mayMatch(UnsafeRawBufferPointer(bytes))
    }
}

/// RFC 3986 percent-encoding for path segments and query components.
enum PercentCoding {
    /// Decodes `%XX` escapes (and `+` as a space in queries); nil for a malformed escape or bytes that are not UTF-8.
    static func decode(_ text: Substring, plusIsSpace: Bool) -> String? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            switch byte {
            case UInt8(ascii: "%"):
                guard let high = iterator.next().flatMap(Self.hexValue),
                    let low = iterator.next().flatMap(Self.hexValue)
                else { return nil }
                bytes.append(high << 4 | low)
            case UInt8(ascii: "+") where plusIsSpace:
                bytes.append(UInt8(ascii: " "))
            default:
                bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    /// Encodes everything but RFC 3986 unreserved characters and the bytes in `literal`.
    static func encode(_ text: String, keeping literal: [UInt8] = []) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                out.append(byte)
            case _ where literal.contains(byte):
                out.append(byte)
            default:
                out += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
