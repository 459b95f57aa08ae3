extension Redactor {
    /// Whether redacting this body may read an image (so a caller runs it where OCR may take its time, off the
    /// threads that serve text): the policy has `images:`, and the body is compressed, multipart, not of a type the
    /// engine reads as text (a raw image), or holds a `data:` URL or a long base64 run. False when the policy has no
    /// `images:` section: images are then refused without being read.
    ///
    /// A payload only JSON escapes reveal (`\/9j\/…`) answers false here and is still inspected, where the caller
    /// runs text.
    public func mayReadImages(_ body: UnsafeRawBufferPointer, contentType: String?, contentEncoding: String?) -> Bool {
        guard images != nil, !body.isEmpty else { return false }
        if let contentEncoding, ContentCoding(header: contentEncoding) != .identity { return true }
        switch contentType.map(MediaType.init)?.format ?? .unknown {
        case .multipart, .unknown:
            return true
        case .json, .jsonLines, .text, .form:
            let text = body.bindMemory(to: UInt8.self)
            return EmbeddedPayload.mayHold(text.baseAddress!, lo: 0, hi: text.count)
        }
    }
}
