struct JSONPathParser {
    let characters: [Character]
    var position = 0

    init(text: String) {
        characters = Array(text)
    }

    mutating func parse() throws(JSONPathError) -> [JSONPath.Segment] {
        guard characters.first == "$" else {
            throw JSONPathError(offset: 0, reason: "a path must start with '$'")
        }
        position = 1
        var segments: [JSONPath.Segment] = []
        while position < characters.count {
            let character = characters[position]
            switch character {
            case ".":
                if peek(1) == "." {
                    position += 2
                    if peek(0) == "[" {
                        position += 1
                        guard peek(0) == "'" || peek(0) == "\"" else {
                            throw JSONPathError(offset: position, reason: "expected a quoted key after '..['")
                        }
                        segments.append(.descendant(try quotedKey()))
                        try expect("]")
                    } else {
                        segments.append(.descendant(try name(after: "..")))
                    }
                } else {
                    position += 1
                    if peek(0) == "*" {
                        position += 1
                        segments.append(.wildcard)
                    } else {
                        segments.append(.key(try name(after: ".")))
                    }
                }
            case "[":
                position += 1
                segments.append(try bracket())
            default:
                throw JSONPathError(offset: position, reason: "expected '.' or '[' but found '\(character)'")
            }
        }
        if segments.isEmpty {
            throw JSONPathError(offset: 1, reason: "a path must select something below '$'")
        }
        return segments
    }

    private func peek(_ ahead: Int) -> Character? {
        position + ahead < characters.count ? characters[position + ahead] : nil
    }

    private static func isNameCharacter(_ character: Character) -> Bool {
        !(character == "." || character == "[" || character == "]" || character == "*" || character == "'"
            || character == "\"" || character == "$" || character.isWhitespace)
    }

    private mutating func name(after prefix: String) throws(JSONPathError) -> String {
        let start = position
        while let character = peek(0), Self.isNameCharacter(character) {
            position += 1
        }
        guard position > start else {
            throw JSONPathError(offset: start, reason: "expected a key name after '\(prefix)'")
        }
        return String(characters[start..<position])
    }

    private mutating func bracket() throws(JSONPathError) -> JSONPath.Segment {
        let start = position
        guard let first = peek(0) else {
            throw JSONPathError(offset: start, reason: "unterminated '['")
        }
        let segment: JSONPath.Segment
        if first == "*" {
            position += 1
            segment = .wildcard
        } else if first == "'" || first == "\"" {
            segment = .key(try quotedKey())
        } else if first.isASCII, first.isNumber {
            while let character = peek(0), character.isASCII, character.isNumber {
                position += 1
            }
            guard let index = Int(String(characters[start..<position])) else {
                throw JSONPathError(offset: start, reason: "array index is too large")
            }
            segment = .index(index)
        } else {
            throw JSONPathError(
                offset: start,
                reason:
                    "expected '*', a non-negative index or a quoted key inside '[]' (filters and slices are not supported)"
            )
        }
        try expect("]")
        return segment
    }

    private mutating func quotedKey() throws(JSONPathError) -> String {
        let quote = characters[position]
        let start = position
        position += 1
        var key = ""
        while let character = peek(0) {
            position += 1
            if character == quote { return key }
            if character == "\\", let escaped = peek(0) {
                position += 1
                key.append(escaped)
            } else {
                key.append(character)
            }
        }
        throw JSONPathError(offset: start, reason: "unterminated quoted key")
    }

    private mutating func expect(_ character: Character) throws(JSONPathError) {
        guard peek(0) == character else {
            throw JSONPathError(offset: position, reason: "expected '\(character)'")
        }
        position += 1
    }
}
