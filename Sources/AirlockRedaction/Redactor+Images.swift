extension Redactor {
    /// Whether redacting this body may read an image (so a caller runs it where OCR may take its time, off the
    /// threads that serve text): the policy has `images:`, and the body is compressed, multipart, not of a type the
    /// engine reads as text (a raw image), or holds a `data:` URL or a long base64 run. False when the policy has no
    /// `images:` section: images are then refused without being read.
    ///
    /// Escapes hide payloads from a scan of the raw bytes: a run of base64 with its `/` written `\/` (PHP's default)
    /// or a digit written `\u0041` in JSON, `%2F`, `%2B`, `%3A` or `%3D` in a form, so a body with one of those counts
    /// as one that may hold an image.
    public func mayReadImages(_ body: UnsafeRawBufferPointer, contentType: String?, contentEncoding: String?) -> Bool {
        guard images != nil, !body.isEmpty else { return false }
        if let contentEncoding, ContentCoding(header: contentEncoding) != .identity { return true }
        let text = body.bindMemory(to: UInt8.self)
        let format = contentType.map(MediaType.init)?.format ?? .unknown
        switch format {
        case .multipart, .unknown:
            return true
        case .json, .jsonLines, .text, .form:
            if EmbeddedPayload.mayHold(text.baseAddress!, lo: 0, hi: text.count) { return true }
            return Self.escapesASCII(text, format: format)
        }
    }

    /// Whether `text` holds an escape of an ASCII character a payload is written with: `\/` or `\u002x`-`\u007x` in
    /// JSON and NDJSON, `%2F`, `%2B`, `%3A`, `%3D` in forms.
    private static func escapesASCII(_ text: UnsafeBufferPointer<UInt8>, format: MediaType.Format) -> Bool {
        guard text.count >= 3 else { return false }
        for k in 0..<(text.count - 2) {
            switch (format, text[k]) {
            case (.json, UInt8(ascii: "\\")), (.jsonLines, UInt8(ascii: "\\")):
                if text[k + 1] == UInt8(ascii: "/") { return true }
                if text[k + 1] == UInt8(ascii: "u"), k + 4 < text.count, text[k + 2] == UInt8(ascii: "0"),
                    text[k + 3] == UInt8(ascii: "0"), (UInt8(ascii: "2")...UInt8(ascii: "7")).contains(text[k + 4])
                {
                    return true
                }
            case (.form, UInt8(ascii: "%")):
                let high = text[k + 1]
                let low = text[k + 2] | 0x20
                if high == UInt8(ascii: "2"), low == UInt8(ascii: "f") || low == UInt8(ascii: "b") { return true }
                if high == UInt8(ascii: "3"), low == UInt8(ascii: "a") || low == UInt8(ascii: "d") { return true }
            default:
                continue
            }
        }
        return false
    }
}
