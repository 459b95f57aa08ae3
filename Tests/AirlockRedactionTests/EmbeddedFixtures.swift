import Foundation

/// Files for the embedded-payload tests, built here byte by byte: a real PNG (valid chunks, CRCs, a zlib stream), a
/// JPEG with EXIF, and the headers of gzip, PDF and ZIP files. Each carries a codename in its metadata or text, so a
/// payload that leaves undecoded would leak it.
enum EmbeddedFixtures {
    /// A 2x2 RGB PNG with a `tEXt` chunk `Comment: Nightingale launch Q3 2026` (what OCR and metadata readers see).
    static func png(comment: String = "Nightingale launch Q3 2026") -> [UInt8] {
        var out: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        func chunk(_ type: String, _ data: [UInt8]) {
            out += bigEndian(UInt32(data.count))
            let typed = Array(type.utf8) + data
            out += typed
            out += bigEndian(crc32(typed))
        }
        chunk("IHDR", bigEndian(2) + bigEndian(2) + [8, 2, 0, 0, 0])
        chunk("tEXt", Array("Comment".utf8) + [0] + Array(comment.utf8))
        // Two scanlines of filter byte 0 and two RGB pixels, in one stored deflate block.
        let raw: [UInt8] = [0, 255, 0, 0, 0, 255, 0, 0, 0, 0, 255, 255, 255, 255]
        var zlib: [UInt8] = [0x78, 0x01, 0x01]
        zlib += [
            UInt8(raw.count & 0xFF), UInt8(raw.count >> 8), UInt8(~raw.count & 0xFF), UInt8((~raw.count >> 8) & 0xFF),
        ]
        zlib += raw
        zlib += bigEndian(adler32(raw))
        chunk("IDAT", zlib)
        chunk("IEND", [])
        return out
    }

    /// A JPEG's start: SOI, an APP1 EXIF segment with an ImageDescription naming a codename, SOI's JFIF-less body.
    static func jpeg() -> [UInt8] {
        let description = Array("Nightingale prototype, GPS 37.4N 122.1W".utf8) + [0]
        // TIFF header (little-endian), one IFD entry: ImageDescription (0x010E), ASCII, count, offset 26.
        var tiff: [UInt8] = [0x49, 0x49, 0x2A, 0x00, 0x08, 0x00, 0x00, 0x00, 0x01, 0x00, 0x0E, 0x01, 0x02, 0x00]
        tiff += littleEndian(UInt32(description.count)) + littleEndian(26) + [0, 0, 0, 0] + description
        let exif = Array("Exif".utf8) + [0, 0] + tiff
        var out: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE1]
        out += [UInt8((exif.count + 2) >> 8), UInt8((exif.count + 2) & 0xFF)] + exif
        out += [0xFF, 0xDB, 0x00, 0x43, 0x00] + Array(repeating: 1, count: 64) + [0xFF, 0xD9]
        return out
    }

    /// The start of a gzip member (deflate, no flags) over the bytes of a codename.
    static let gzip: [UInt8] = [0x1F, 0x8B, 0x08, 0x00, 0, 0, 0, 0, 0, 0x03] + Array("Nightingale".utf8) + padding
    static let pdf: [UInt8] = Array("%PDF-1.7\n1 0 obj << /Title (Nightingale roadmap) >> endobj\n".utf8) + padding
    static let zip: [UInt8] = [0x50, 0x4B, 0x03, 0x04, 0x14, 0, 0, 0] + Array("nightingale/plan.txt".utf8) + padding
    /// Enough bytes behind a header that its base64 is a long run.
    static let padding: [UInt8] = (0..<300).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }

    /// Bytes of no known type from a seeded generator (xorshift): what a nonce or key looks like.
    static func randomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
        var state = seed
        return (0..<count).map { _ in
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return UInt8(truncatingIfNeeded: state >> 24)
        }
    }

    static func base64(_ bytes: [UInt8]) -> String { Data(bytes).base64EncodedString() }

    static func urlSafeBase64(_ bytes: [UInt8]) -> String {
        base64(bytes).replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func decodeBase64(_ text: String) -> [UInt8]? {
        var standard = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
            .replacingOccurrences(of: "\r", with: "").replacingOccurrences(of: "\n", with: "")
        while standard.count % 4 != 0 { standard += "=" }
        return Data(base64Encoded: standard).map(Array.init)
    }

    private static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
    }

    private static func littleEndian(_ value: UInt32) -> [UInt8] { bigEndian(value).reversed() }

    private static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }

    private static func adler32(_ bytes: [UInt8]) -> UInt32 {
        var a: UInt32 = 1
        var b: UInt32 = 0
        for byte in bytes {
            a = (a + UInt32(byte)) % 65521
            b = (b + a) % 65521
        }
        return b << 16 | a
    }
}
