import AirlockPolicy

/// Reads images for the engine: decodes one, reads its text, has `text` match it with the policy's rules, paints over
/// what matched and encodes the result again with all metadata removed. Implemented outside the engine
/// (`AirlockImages`, which links Leptonica and Tesseract) and handed to `Redactor` by the proxy and the CLI, so the
/// engine and what depends on it alone (the fuzz targets) never link them.
///
/// Called synchronously, on the thread redacting the body; may block while it waits for an OCR worker. Fails closed:
/// anything it cannot do is an `ImageRefusal`, and the request is refused.
public protocol ImageInspector: Sendable {
    func inspect(
        _ image: UnsafeBufferPointer<UInt8>,
        format: ImageFormat,
        rules: ImageRules,
        text: ImageTextMatcher
    ) throws(ImageRefusal) -> ImageInspection
}

/// What may leave of one image.
public struct ImageInspection: Sendable {
    /// The image as it leaves: metadata removed, matched words painted over. Equal to the input when it had neither.
    public var bytes: [UInt8]
    /// Boxes painted, by the id of the rule that matched the words under them, in first-seen order. Never the text.
    public var boxes: [(rule: String, count: Int)]

    public init(bytes: [UInt8], boxes: [(rule: String, count: Int)] = []) {
        self.bytes = bytes
        self.boxes = boxes
    }

    /// The finding rule of words painted over because they were read with less than `images.min_confidence`.
    public static let lowConfidenceRule = "images.min_confidence"
}

/// Why an image may not leave. Reasons name the cause (decoding, size, time, language), never the image's text.
public enum ImageRefusal: Error, Sendable {
    /// The image cannot be inspected (does not decode, too large, OCR too slow, a language not installed): 422.
    case uninspectable(String)
    /// Its text matches a rule whose action is `block`, or `images.on_match` is `block`: 403.
    case blocked(rule: String, reason: String)
}

extension ImageRefusal: CustomStringConvertible {
    public var description: String {
        switch self {
        case .uninspectable(let reason): reason
        case .blocked(let rule, let reason): "blocked by rule \(rule): \(reason)"
        }
    }
}
