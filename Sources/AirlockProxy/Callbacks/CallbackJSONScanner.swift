import AirlockRedaction

/// A validating JSON scanner that finds the string values of callback keys (`callback_url`, `callback`, …).
///
/// Keys are compared after JSON escapes are decoded, so `"callback\u005furl"` is found too. Values are reported with
/// their exact byte range (quotes included) so a rewrite can replace them and leave every other byte as it was.
/// Anything that is not valid JSON (RFC 8259, nesting up to `maxDepth`) fails: the caller refuses the body.
struct CallbackJSONScanner {
    struct Field {
        /// Byte range of the string token, quotes included.
        var range: Range<Int>
        /// The decoded key.
        var key: String
        /// The decoded value.
        var value: String
        /// 1 for a key of the top-level object.
        var depth: Int
        /// How the value is written, so a rewrite writes the new one the same way.
        var syntax: Syntax = .jsonString
    }

    enum Syntax {
        /// A JSON string token, quotes included.
        case jsonString
        /// A percent-encoded form value.
        case formValue
        /// The whole content of a multipart text field, as is.
        case text
    }

    struct Failure: Error {
        var reason: String
        var offset: Int
        /// What the offset is into when it is not the body itself (a part of a multipart body).
        var subject: String? = nil

        /// For a refusal: the reason, where, and in what. A negative offset: the reason is the whole message (a
        /// multipart body that does not split, in the engine's words).
        var message: String {
            guard self.offset >= 0 else { return self.reason }
            let text = "invalid JSON (\(self.reason) at byte \(self.offset))"
            return self.subject.map { "\($0): \(text)" } ?? text
        }
    }

    static let maxDepth = 512

    /// Keys reported at any depth, and keys reported only in the top-level object.
    let anyDepthKeys: Set<String>
    let topLevelKeys: Set<String>

    /// Every reported field, in document order. With `key`, the document is that key's value (a multipart part
    /// named `callback_url` holding JSON): a string document, or strings of an array document, are reported too.
    func scan(_ bytes: UnsafeRawBufferPointer, key: String? = nil) throws(Failure) -> [Field] {
        var cursor = Cursor(bytes: bytes.bindMemory(to: UInt8.self))
        var fields: [Field] = []
        // A UTF-8 byte order mark before the document, which the redaction engine accepts and keeps there too.
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { cursor.offset = 3 }
        cursor.skipSpace()
        try self.value(&cursor, depth: 0, key: key.map { ($0, 1) }, into: &fields)
        cursor.skipSpace()
        guard cursor.atEnd else { throw cursor.failure("unexpected data after the JSON value") }
        return fields
    }

    private struct Cursor {
        let bytes: UnsafeBufferPointer<UInt8>
        var offset = 0

        var atEnd: Bool { self.offset >= self.bytes.count }
        var current: UInt8? { self.atEnd ? nil : self.bytes[self.offset] }

        mutating func skipSpace() {
            while let byte = self.current,
                byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r")
                    || byte == UInt8(ascii: "\t")
            {
                self.offset += 1
            }
        }

        func failure(_ reason: String) -> Failure {
            Failure(reason: reason, offset: self.offset)
        }
    }

    private func value(
        _ cursor: inout Cursor,
        depth: Int,
        key: (name: String, depth: Int)?,
        into fields: inout [Field]
    ) throws(Failure) {
        guard let byte = cursor.current else { throw cursor.failure("the JSON ends where a value was expected") }
        switch byte {
        case UInt8(ascii: "{"):
            guard try Self.open(&cursor, depth: depth, closer: UInt8(ascii: "}")) else { return }
            repeat {
                guard cursor.current == UInt8(ascii: "\"") else { throw cursor.failure("expected an object key") }
                let keyRange = try Self.string(&cursor)
                let name = try self.interestingKey(cursor.bytes, keyRange, depth: depth + 1)
                cursor.skipSpace()
                guard cursor.current == UInt8(ascii: ":") else { throw cursor.failure("expected ':' after a key") }
                cursor.offset += 1
                cursor.skipSpace()
                try self.value(&cursor, depth: depth + 1, key: name.map { ($0, depth + 1) }, into: &fields)
            } while try Self.separator(&cursor, closer: UInt8(ascii: "}"), "expected ',' or '}'")
        case UInt8(ascii: "["):
            guard try Self.open(&cursor, depth: depth, closer: UInt8(ascii: "]")) else { return }
            repeat {
                // Strings in an array under a callback key are callback values too (a list of URLs); objects in it
                // start their own keys.
                try self.value(&cursor, depth: depth + 1, key: key, into: &fields)
            } while try Self.separator(&cursor, closer: UInt8(ascii: "]"), "expected ',' or ']'")
        case UInt8(ascii: "\""):
            let range = try Self.string(&cursor)
            if let key {
                fields.append(
                    Field(range: range, key: key.name, value: try Self.decode(cursor.bytes, range), depth: key.depth)
                )
            }
        case UInt8(ascii: "t"):
            try Self.literal(&cursor, "true")
        case UInt8(ascii: "f"):
            try Self.literal(&cursor, "false")
        case UInt8(ascii: "n"):
            try Self.literal(&cursor, "null")
        default:
            try Self.number(&cursor)
        }
    }

    /// Enters the object or array at the cursor: false (closer consumed) when it is empty, true when a member or
    /// element follows.
    private static func open(_ cursor: inout Cursor, depth: Int, closer: UInt8) throws(Failure) -> Bool {
        guard depth < Self.maxDepth else { throw cursor.failure("JSON nested deeper than \(Self.maxDepth)") }
        cursor.offset += 1
        cursor.skipSpace()
        guard cursor.current == closer else { return true }
        cursor.offset += 1
        return false
    }

    /// After a member or element: true (`,` consumed) when another follows, false (`closer` consumed) at the end.
    private static func separator(_ cursor: inout Cursor, closer: UInt8, _ expected: String) throws(Failure) -> Bool {
        cursor.skipSpace()
        if cursor.current == UInt8(ascii: ",") {
            cursor.offset += 1
            cursor.skipSpace()
            return true
        }
        guard cursor.current == closer else { throw cursor.failure(expected) }
        cursor.offset += 1
        return false
    }

    /// The decoded key when it is one we look for at this depth.
    private func interestingKey(
        _ bytes: UnsafeBufferPointer<UInt8>,
        _ range: Range<Int>,
        depth: Int
    ) throws(Failure) -> String? {
        let raw = UnsafeBufferPointer(rebasing: bytes[(range.lowerBound + 1)..<(range.upperBound - 1)])
        // Only escapes can make a key longer than what it decodes to; skip long plain keys without decoding.
        let hasEscape = raw.contains(UInt8(ascii: "\\"))
        if !hasEscape && raw.count > 16 { return nil }
        let name = hasEscape ? try Self.decode(bytes, range) : String(decoding: raw, as: UTF8.self)
        if self.anyDepthKeys.contains(name) || (depth == 1 && self.topLevelKeys.contains(name)) {
            return name
        }
        return nil
    }

    private static func literal(_ cursor: inout Cursor, _ word: StaticString) throws(Failure) {
        let count = word.utf8CodeUnitCount
        guard cursor.offset + count <= cursor.bytes.count else { throw cursor.failure("truncated literal") }
        for index in 0..<count where cursor.bytes[cursor.offset + index] != word.utf8Start[index] {
            throw cursor.failure("invalid literal")
        }
        cursor.offset += count
    }

    private static func number(_ cursor: inout Cursor) throws(Failure) {
        let start = cursor.offset
        if cursor.current == UInt8(ascii: "-") { cursor.offset += 1 }
        func digits(_ cursor: inout Cursor) -> Int {
            var count = 0
            while let byte = cursor.current, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
                cursor.offset += 1
                count += 1
            }
            return count
        }
        let intStart = cursor.offset
        let intDigits = digits(&cursor)
        guard intDigits > 0 else { throw Failure(reason: "invalid value", offset: start) }
        if intDigits > 1 && cursor.bytes[intStart] == UInt8(ascii: "0") {
            throw Failure(reason: "a number with a leading zero", offset: start)
        }
        if cursor.current == UInt8(ascii: ".") {
            cursor.offset += 1
            guard digits(&cursor) > 0 else { throw cursor.failure("a number without digits after '.'") }
        }
        if cursor.current == UInt8(ascii: "e") || cursor.current == UInt8(ascii: "E") {
            cursor.offset += 1
            if cursor.current == UInt8(ascii: "+") || cursor.current == UInt8(ascii: "-") { cursor.offset += 1 }
            guard digits(&cursor) > 0 else { throw cursor.failure("a number without exponent digits") }
        }
    }

    /// Validates the string token at the cursor and returns its range, quotes included.
    private static func string(_ cursor: inout Cursor) throws(Failure) -> Range<Int> {
        let start = cursor.offset
        cursor.offset += 1
        let bytes = cursor.bytes
        while cursor.offset < bytes.count {
            let byte = bytes[cursor.offset]
            if byte == UInt8(ascii: "\"") {
                cursor.offset += 1
                return start..<cursor.offset
            }
            if byte < 0x20 { throw cursor.failure("a control character inside a string") }
            if byte == UInt8(ascii: "\\") {
                guard cursor.offset + 1 < bytes.count else { break }
                switch bytes[cursor.offset + 1] {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                    UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    cursor.offset += 2
                case UInt8(ascii: "u"):
                    guard cursor.offset + 6 <= bytes.count,
                        (2..<6).allSatisfy({ JSONStringEscapes.hexValue(bytes[cursor.offset + $0]) >= 0 })
                    else { throw cursor.failure("an invalid \\u escape") }
                    cursor.offset += 6
                default:
                    throw cursor.failure("an invalid escape")
                }
                continue
            }
            cursor.offset += 1
        }
        throw Failure(reason: "an unterminated string", offset: start)
    }

    /// Decodes a validated string token (quotes included), as the redaction engine does; a lone surrogate makes
    /// the body malformed, as it does for the engine.
    static func decode(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) throws(Failure) -> String {
        var out: [UInt8] = []
        do {
            try JSONStringEscapes.decode(
                bytes.baseAddress!,
                from: range.lowerBound + 1,
                to: range.upperBound - 1,
                into: &out
            )
        } catch {
            throw Failure(reason: "an unpaired surrogate escape", offset: error.offset)
        }
        return String(decoding: out, as: UTF8.self)
    }
}
