import Foundation

extension Redactor {
    /// The parts of `body` when `contentType` is `multipart/form-data`; `nil` for any other type.
    ///
    /// Throws what makes the engine refuse the body as uninspectable (no usable boundary, a malformed delimiter line
    /// or part header, a part not closed by the boundary, a declared charset it cannot read), with the engine's
    /// reason. The parts come from ``MultipartPartWalk``, the walk ``MultipartRedactor`` redacts along, so the two
    /// cannot disagree on where a part is, what its headers say or why a body does not split.
    public static func multipartParts(
        _ body: UnsafeRawBufferPointer,
        contentType: String?
    ) throws(MultipartPart.Failure) -> [MultipartPart]? {
        guard let contentType else { return nil }
        let media = MediaType(contentType)
        guard media.format == .multipart else { return nil }
        let bytes = body.bindMemory(to: UInt8.self)
        var walk = try MultipartPartWalk(bytes, media: media)
        var parts: [MultipartPart] = []
        while let part = try walk.next() {
            let content = UnsafeBufferPointer(rebasing: bytes[part.content])
            var decoded: [UInt8]? = nil
            if part.headers.transferEncoding != .identity {
                do {
                    decoded = try part.headers.transferEncoding.decode(content)
                } catch {
                    throw MultipartPart.Failure(reason: "multipart part \(part.number) \(error.reason)")
                }
            }
            let format: MultipartPart.Format
            // A transfer-encoded part's bytes are not its content: opaque to a caller that reads the bytes.
            switch decoded != nil ? .unknown : try part.format(of: content) {
            case .json: format = .json
            case .jsonLines: format = .jsonLines
            case .text: format = .text
            case .form: format = .form
            case .multipart, .unknown: format = .opaque
            }
            parts.append(MultipartPart(name: part.name, range: part.content, format: format, decodedContent: decoded))
        }
        return parts
    }
}
