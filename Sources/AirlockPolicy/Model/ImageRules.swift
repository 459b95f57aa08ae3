/// The `images:` section of a policy: images in bodies (raw `image/*` bodies, multipart image parts, `data:` URLs and
/// base64 payloads in text) are inspected instead of refused. Every image that leaves has all its metadata removed;
/// with `ocr: true` the text Tesseract reads in it is matched with the policy's rules and matched words are painted
/// over (`on_match: redact`) or the request is refused (`on_match: block`).
///
/// A policy without the section refuses images as before (`content.unknown`).
public struct ImageRules: Sendable, Hashable {
    /// What a match in an image's text does.
    public enum OnMatch: String, Sendable, Hashable, CaseIterable {
        /// Paint opaque boxes over the matched words; the image leaves.
        case redact
        /// Refuse the whole request (403, the matching rule named).
        case block
    }

    /// Read the text in images and match it (false: metadata is removed, pixels leave as they are).
    public var ocr: Bool
    public var onMatch: OnMatch
    /// Words Tesseract reads with a lower confidence (0-100) are painted over too, matched or not: text Airlock
    /// cannot read surely is not left for a better reader. 0: none.
    public var minConfidence: Int
    /// The most pixels (width x height) an image may declare; larger ones are refused before they are decoded.
    public var maxPixels: Int
    /// The longest OCR of one image may take; an image that takes longer is refused.
    public var timeoutSeconds: Double
    /// Tesseract language codes (`eng`, `deu`): each needs its `<code>.traineddata` installed.
    public var languages: [String]

    public static let defaultMaxPixels = 25_000_000
    public static let defaultTimeoutSeconds = 10.0

    public init(
        ocr: Bool = true,
        onMatch: OnMatch = .redact,
        minConfidence: Int = 0,
        maxPixels: Int = ImageRules.defaultMaxPixels,
        timeoutSeconds: Double = ImageRules.defaultTimeoutSeconds,
        languages: [String] = ["eng"]
    ) {
        self.ocr = ocr
        self.onMatch = onMatch
        self.minConfidence = minConfidence
        self.maxPixels = maxPixels
        self.timeoutSeconds = timeoutSeconds
        self.languages = languages
    }
}
