/// An image file format Airlock can inspect, recognised by its magic number (never by a declared type).
public enum ImageFormat: String, Sendable, Hashable, CaseIterable {
    case png
    case jpeg
    case gif
    case webp
    case tiff

    /// How refusals and logs name the format.
    public var mediaType: String {
        switch self {
        case .png: "image/png"
        case .jpeg: "image/jpeg"
        case .gif: "image/gif"
        case .webp: "image/webp"
        case .tiff: "image/tiff"
        }
    }

    /// The format whose magic number `bytes` start with, or `nil`.
    public init?(sniffing bytes: some Collection<UInt8>) {
        guard let type = EmbeddedFileType(sniffing: bytes), let format = type.imageFormat else { return nil }
        self = format
    }
}

extension EmbeddedFileType {
    /// The image format of this file type, or `nil` when it is not an image.
    var imageFormat: ImageFormat? {
        switch self {
        case .png: .png
        case .jpeg: .jpeg
        case .gif: .gif
        case .webp: .webp
        case .tiff: .tiff
        case .pdf, .zip, .gzip: nil
        }
    }
}
