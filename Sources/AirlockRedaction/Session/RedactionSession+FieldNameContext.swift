/// The name of the form field or multipart text field whose value is being redacted is context for a pattern's
/// hotwords, as a JSON value's key is (`JSONMemberContext`): `launch_quarter=Q2%202027` reads as `Q2 2027` near
/// `launch quarter`. `_` and `-` in the name read as spaces. Set by `FormRedactor` and `MultipartRedactor` around a
/// value's redaction only.
extension RedactionSession {
    /// Whether a hotword occurs in the name of the field being redacted.
    func fieldNameHolds(_ words: [[UInt8]]) -> Bool {
        guard let name = fieldName, !name.isEmpty else { return false }
        let spaced = name.map { $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") ? 0x20 : $0 }
        return spaced.withUnsafeBufferPointer { Hotwords.contains(words, in: $0) }
    }

    /// Runs `body` with `name` as the field name context.
    func withFieldName<R>(_ name: [UInt8], _ body: () throws(Stop) -> R) throws(Stop) -> R {
        let saved = fieldName
        fieldName = name
        defer { fieldName = saved }
        return try body()
    }
}
