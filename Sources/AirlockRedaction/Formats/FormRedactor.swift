/// application/x-www-form-urlencoded: each name and value is percent-decoded, redacted as text, and re-encoded when
/// it changed. `fields` rules apply to a form field as the path `$.name`.
enum FormRedactor {
    static func redact(_ body: UnsafeBufferPointer<UInt8>, session: RedactionSession) throws(Stop) -> [UInt8]? {
        guard let p = body.baseAddress, body.count > 0 else { return nil }
        var pieces: [[UInt8]] = []
        var changed = false
        var start = 0
        var number = 1
        while true {
            var end = start
            while end < body.count, p[end] != UInt8(ascii: "&") { end += 1 }
            let original = Array(UnsafeBufferPointer(start: p + start, count: end - start))
            if let piece = try redactPair(p, start, end, number: number, session: session) {
                changed = true
                if let piece { pieces.append(piece) }
            } else {
                pieces.append(original)
            }
            if end >= body.count { break }
            start = end + 1
            number += 1
        }
        guard changed else { return nil }
        return Array(pieces.joined(separator: [UInt8(ascii: "&")]))
    }

    /// `nil`: unchanged; `.some(nil)`: dropped; otherwise the new `name=value`. `number`: the field's position, from
    /// 1, as refusal reasons count fields.
    ///
    /// The field's path names it as it left (`RedactionSession.topLevelPath`): a name is content (a field with no
    /// `=`, which `curl -d '{...}'` sends, is all name).
    private static func redactPair(
        _ p: UnsafePointer<UInt8>,
        _ start: Int,
        _ end: Int,
        number: Int,
        session: RedactionSession
    )
        throws(Stop) -> [UInt8]??
    {
        guard end > start else { return nil }
        var eq = start
        while eq < end, p[eq] != UInt8(ascii: "=") { eq += 1 }
        let name = try decode(p, start, eq)
        let value: [UInt8]? = eq < end ? try decode(p, eq + 1, end) : nil
        let fieldPath: () -> String? = { session.topLevelPath(name) }
        var newValue: [UInt8]? = nil
        let newName = try redactText(name, session: session, what: "form field \(number) name", path: fieldPath)
        if let rule = fieldRule(for: name, session: session) {
            let field = session.rules.fieldRules[rule]
            let hidden = (field.action == .drop || field.action == .block) && field.hidesKey
            let place = session.topLevelPath(name, hidden: hidden)
            session.record(rule: field.id, action: field.action, path: place, value: nil)
            switch field.action {
            case .block: throw .blocked(rule: field.id, reason: "field rule \(field.id) matched at \(place)")
            case .drop: return .some(nil)
            default:
                let canonical = value ?? []
                newValue = RedactionSession.replacement(
                    action: field.action,
                    ruleID: field.id,
                    label: field.label,
                    canonical: canonical,
                    scalars: UTF8Text.scalarCount(canonical),
                    keys: session.vendor.keys
                )
            }
        } else if let value, session.rules.declaresBase64(field: name) {
            newValue = try value.withUnsafeBufferPointer { (v) throws(Stop) -> [UInt8]? in
                try session.redactDeclaredBase64(v, path: fieldPath)
            }
        } else if let value {
            newValue = try session.withFieldName(name) { () throws(Stop) in
                try redactText(value, session: session, what: "form field \(number) value", path: fieldPath)
            }
        }
        guard newName != nil || newValue != nil else { return nil }
        var out = newName.map(encode) ?? Array(UnsafeBufferPointer(start: p + start, count: eq - start))
        if eq < end {
            out.append(UInt8(ascii: "="))
            out += newValue.map(encode) ?? Array(UnsafeBufferPointer(start: p + eq + 1, count: end - eq - 1))
        }
        return .some(out)
    }

    private static func fieldRule(for name: [UInt8], session: RedactionSession) -> Int? {
        session.rules.fieldRules.firstIndex { CompiledFieldRule.selects($0.segments, field: name) }
    }

    private static func redactText(
        _ text: [UInt8],
        session: RedactionSession,
        what: String,
        path: () -> String?
    ) throws(Stop) -> [UInt8]? {
        try text.withUnsafeBufferPointer { (t) throws(Stop) -> [UInt8]? in
            let summary = UTF8Text.summarize(t)
            guard summary.valid else { throw .uninspectable("\(what) is not valid UTF-8") }
            return try session.redactText(
                t.baseAddress!,
                lo: 0,
                hi: t.count,
                zeroWidth: summary.hasZeroWidth,
                whole: true,
                path: path
            )
        }
    }

    /// Percent-decodes `p[start..<end]` (`+` is a space). Malformed escapes are uninspectable.
    static func decode(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int) throws(Stop) -> [UInt8] {
        switch PercentEscapes.decodeStrict(p, start, end, plusIsSpace: true) {
        case .success(let bytes): return bytes
        case .failure(let error) where error.truncated:
            throw .uninspectable("form body: truncated percent escape at byte \(error.offset)")
        case .failure(let error):
            throw .uninspectable("form body: invalid percent escape at byte \(error.offset)")
        }
    }

    /// Percent-encodes everything but unreserved characters; spaces become `+`.
    static func encode(_ bytes: [UInt8]) -> [UInt8] { PercentEscapes.encode(bytes, spaceAsPlus: true) }
}
