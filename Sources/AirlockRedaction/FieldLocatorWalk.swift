/// One ``FieldLocator/locate(_:format:)`` call: walks the body by its format and collects the located fields.
final class FieldLocatorWalk {
    let rules: FieldLocatorRules
    /// The body as sent: a located value inside it gets a range; one in a decoded copy (JSON in a string) does not.
    let body: UnsafeBufferPointer<UInt8>
    private(set) var fields: [FieldLocator.Field] = []
    private var selectedDepth = 0

    init(rules: FieldLocatorRules, body: UnsafeBufferPointer<UInt8>) {
        self.rules = rules
        self.body = body
    }

    func body(
        _ bytes: UnsafeBufferPointer<UInt8>,
        format: FieldLocator.Format,
        quickCheck: FieldLocatorQuickCheck
    ) throws(Stop) {
        switch format {
        case .json:
            try self.json(Self.afterByteOrderMark(bytes), rules: self.rules.document, elementKey: nil)
        case .jsonLines:
            let lines = Self.afterByteOrderMark(bytes)
            let session = self.session(self.rules.lines, elementKey: nil)
            _ = try JSONLinesRedactor.redact(lines, session: session)
        case .form:
            try self.form(bytes, names: self.rules.keyNames.union(self.rules.topLevelNames))
        case .multipart(let contentType):
            try self.multipart(bytes, contentType: contentType, quickCheck: quickCheck)
        }
    }

    private static func afterByteOrderMark(_ bytes: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(rebasing: bytes[ByteOrderMark.length(bytes)...])
    }

    // MARK: JSON

    /// Walks one JSON document with `rules`; `elementKey`: the rules select array elements, found under that key.
    private func json(
        _ document: UnsafeBufferPointer<UInt8>,
        rules: CompiledRules,
        elementKey: String?
    ) throws(Stop) {
        _ = try JSONRedactor.redact(document, session: self.session(rules, elementKey: elementKey))
    }

    private func session(_ rules: CompiledRules, elementKey: String?) -> RedactionSession {
        let session = self.rules.session(rules)
        let names = self.rules.names
        session.fieldVisitor = { [unowned self] (rule, p, range) throws(Stop) in
            try self.selected(p, range, key: elementKey ?? names[rule])
        }
        return session
    }

    /// A value a rule selected: a string is a field; an array's elements and an object's named members are looked
    /// at in turn; anything else names nothing.
    private func selected(_ p: UnsafePointer<UInt8>, _ range: Range<Int>, key: String) throws(Stop) {
        guard range.count > 0 else { return }
        let value = UnsafeBufferPointer(start: p + range.lowerBound, count: range.count)
        switch value[0] {
        case UInt8(ascii: "\""):
            var decoded: [UInt8] = []
            do {
                try JSONStringEscapes.decode(p, from: range.lowerBound + 1, to: range.upperBound - 1, into: &decoded)
            } catch {
                throw .uninspectable("malformed JSON at byte \(error.offset): unpaired surrogate escape")
            }
            self.append(value, key: key, value: decoded, syntax: .jsonString)
        case UInt8(ascii: "["), UInt8(ascii: "{"):
            guard self.selectedDepth < FieldLocator.maxSelectedDepth else {
                throw .uninspectable("fields nested more than \(FieldLocator.maxSelectedDepth) deep under one another")
            }
            self.selectedDepth += 1
            defer { self.selectedDepth -= 1 }
            if value[0] == UInt8(ascii: "[") {
                try self.json(value, rules: self.rules.elements, elementKey: key)
            } else {
                try self.json(value, rules: self.rules.inner, elementKey: nil)
            }
        default:
            return
        }
    }

    /// Records a field whose bytes are `written`: with a range when they are the body's own.
    private func append(
        _ written: UnsafeBufferPointer<UInt8>,
        key: String,
        value: [UInt8],
        syntax: FieldLocator.Syntax
    ) {
        var range: Range<Int>? = nil
        if let start = written.baseAddress, let base = self.body.baseAddress, start >= base,
            start + written.count <= base + self.body.count
        {
            let offset = start - base
            range = offset..<(offset + written.count)
        }
        self.fields.append(
            FieldLocator.Field(range: range, key: key, value: String(decoding: value, as: UTF8.self), syntax: syntax)
        )
    }

    // MARK: Forms

    /// `name=value` pairs whose decoded name is one of `names`, decoded as the engine decodes them.
    private func form(_ bytes: UnsafeBufferPointer<UInt8>, names: Set<String>) throws(Stop) {
        guard let p = bytes.baseAddress else { return }
        var start = 0
        while start <= bytes.count {
            var end = start
            while end < bytes.count, p[end] != UInt8(ascii: "&") { end += 1 }
            var equals = start
            while equals < end, p[equals] != UInt8(ascii: "=") { equals += 1 }
            let name = try FormRedactor.decode(p, start, equals)
            if let key = String(validating: name, as: UTF8.self).flatMap({ Self.formField($0, in: names) }) {
                let valueStart = min(equals + 1, end)
                let value = try FormRedactor.decode(p, valueStart, end)
                guard String(validating: value, as: UTF8.self) != nil else {
                    throw .uninspectable("form body is not valid UTF-8")
                }
                let written = UnsafeBufferPointer(start: p + valueStart, count: end - valueStart)
                self.append(written, key: key, value: value, syntax: .formValue)
            }
            start = end + 1
        }
    }

    /// The located name a form field or multipart part is: its whole name, or the innermost bracketed name of the
    /// nesting that PHP, Rails, qs and Express read (`task[callback_url]`, `a[b][callback_url]`, `task[callback_url][]`),
    /// which such a vendor files under that name.
    static func formField(_ name: String, in names: Set<String>) -> String? {
        if names.contains(name) { return name }
        var inner = Substring(name)
        if inner.hasSuffix("[]") { inner = inner.dropLast(2) }
        guard inner.hasSuffix("]"), let open = inner.lastIndex(of: "[") else { return nil }
        let candidate = String(inner[inner.index(after: open)..<inner.index(before: inner.endIndex)])
        return names.contains(candidate) ? candidate : nil
    }

    // MARK: Multipart

    /// Every part as the engine splits and types it: a part named like a field is one (its whole content); JSON,
    /// NDJSON and form parts are walked as such bodies are; a text part that parses as JSON is walked too (the
    /// engine reads it as text, a vendor may read it as JSON). A transfer-encoded part that may hold a field cannot be
    /// rewritten in place and fails.
    private func multipart(
        _ bytes: UnsafeBufferPointer<UInt8>,
        contentType: String,
        quickCheck: FieldLocatorQuickCheck
    ) throws(Stop) {
        let parts: [MultipartPart]
        do {
            parts = try Redactor.multipartParts(UnsafeRawBufferPointer(bytes), contentType: contentType) ?? []
        } catch {
            throw .uninspectable(error.reason)
        }
        let names = self.rules.keyNames.union(self.rules.topLevelNames)
        for (index, part) in parts.enumerated() {
            let content = UnsafeBufferPointer(rebasing: bytes[part.range])
            let key = part.name.flatMap { Self.formField($0, in: names) }
            // Named by position: a part's name is content.
            let subject = "multipart part \(index + 1)"
            if let decoded = part.decodedContent {
                let mayName =
                    key != nil
                    || decoded.withUnsafeBytes {
                        quickCheck.mayHold($0, format: .json) || quickCheck.mayHold($0, format: .form)
                    }
                guard !mayName else {
                    throw .uninspectable(
                        "\(subject) has a Content-Transfer-Encoding and may name a field to rewrite; send it unencoded"
                    )
                }
                continue
            }
            if let key, part.format == .text || part.format == .opaque {
                // A part named like a field is read as one by the vendor, whatever type it declares.
                guard let value = String(validating: content, as: UTF8.self) else { continue }
                self.append(content, key: key, value: Array(value.utf8), syntax: .text)
                continue
            }
            do throws(Stop) {
                switch part.format {
                case .json:
                    guard content.count > 0 else { continue }  // the engine forwards an empty JSON part as is
                    if let key {
                        // The document is that field's value: parsed first, then looked at as a selected value.
                        try self.json(Self.afterByteOrderMark(content), rules: self.rules.none, elementKey: nil)
                        try self.selected(content.baseAddress!, Self.trimmed(content), key: key)
                    } else if quickCheck.mayHold(UnsafeRawBufferPointer(content), format: .json) {
                        try self.json(Self.afterByteOrderMark(content), rules: self.rules.document, elementKey: nil)
                    }
                case .jsonLines:
                    if key != nil || quickCheck.mayHold(UnsafeRawBufferPointer(content), format: .jsonLines) {
                        _ = try JSONLinesRedactor.redact(
                            content,
                            session: self.session(self.rules.lines, elementKey: nil)
                        )
                    }
                case .form:
                    if quickCheck.mayHold(UnsafeRawBufferPointer(content), format: .form) {
                        try self.form(content, names: names)
                    }
                case .text:
                    guard FieldLocator.startsLikeJSONContainer(UnsafeRawBufferPointer(content)),
                        quickCheck.mayHold(UnsafeRawBufferPointer(content), format: .json)
                    else { continue }
                    // Not JSON after all: the engine reads it as text, and so may the vendor.
                    let count = self.fields.count
                    do {
                        try self.json(content, rules: self.rules.document, elementKey: nil)
                    } catch {
                        self.fields.removeSubrange(count...)
                    }
                case .opaque:
                    // Binary and nested multipart: the policy's `content.unknown` to judge.
                    continue
                }
            } catch {
                if case .uninspectable(let reason) = error { throw .uninspectable("\(subject): \(reason)") }
                throw error
            }
        }
    }

    /// The range of `content` without the JSON whitespace around it.
    private static func trimmed(_ content: UnsafeBufferPointer<UInt8>) -> Range<Int> {
        func space(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D }
        var lower = ByteOrderMark.length(content)
        var upper = content.count
        while lower < upper, space(content[lower]) { lower += 1 }
        while upper > lower, space(content[upper - 1]) { upper -= 1 }
        return lower..<upper
    }

}
