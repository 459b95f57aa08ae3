/// A file type recognised by its magic number at the start of an embedded payload's decoded bytes: binary content the
/// engine cannot inspect (images wait for OCR; archives and PDFs are not opened).
enum EmbeddedFileType: CaseIterable {
    case png
    case jpeg
    case gif
    case webp
    case tiff
    case pdf
    case zip
    case gzip

    /// How refusals name the type: the media type, never anything of the payload.
    var mediaType: String {
        switch self {
        case .png: "image/png"
        case .jpeg: "image/jpeg"
        case .gif: "image/gif"
        case .webp: "image/webp"
        case .tiff: "image/tiff"
        case .pdf: "application/pdf"
        case .zip: "application/zip"
        case .gzip: "application/gzip"
        }
    }

    /// The most bytes `init(sniffing:)` reads.
    static let sniffLength = 12

    /// The type whose magic number `bytes` start with, or `nil`.
    init?(sniffing bytes: some Collection<UInt8>) {
        let head = Array(bytes.prefix(Self.sniffLength))
        func starts(_ magic: [UInt8], at offset: Int = 0) -> Bool {
            head.count >= offset + magic.count && Array(head[offset..<offset + magic.count]) == magic
        }
        if starts([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) {
            self = .png
        } else if starts([0xFF, 0xD8, 0xFF]), head.count > 3, head[3] >= 0xC0 {
            // SOI, then a marker (APPn, DQT, SOF, DHT, COM): four bytes, so random bytes are rarely taken for one.
            self = .jpeg
        } else if starts(Array("GIF87a".utf8)) || starts(Array("GIF89a".utf8)) {
            self = .gif
        } else if starts(Array("RIFF".utf8)), starts(Array("WEBP".utf8), at: 8) {
            self = .webp
        } else if starts([0x49, 0x49, 0x2A, 0x00]) || starts([0x4D, 0x4D, 0x00, 0x2A]) {
            self = .tiff
        } else if starts(Array("%PDF-".utf8)) {
            self = .pdf
        } else if starts([0x50, 0x4B, 0x03, 0x04]) || starts([0x50, 0x4B, 0x05, 0x06]) {
            self = .zip
        } else if starts([0x1F, 0x8B, 0x08]), head.count > 3, head[3] & 0xE0 == 0 {
            // Deflate, reserved flag bits clear: two bytes alone would take one random payload in 65536 for gzip.
            self = .gzip
        } else {
            return nil
        }
    }
}
