/// PNG read chunk by chunk: only the chunks that draw the image are kept (`kept`); text chunks (`tEXt`, `iTXt`,
/// `zTXt`), EXIF (`eXIf`), ICC profiles (`iCCP`, whose descriptions are text), times, animation frames a decoder
/// would not show (`acTL`, `fcTL`, `fdAT`), private chunks and anything after `IEND` are dropped.
enum PNGFile {
    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    /// Critical chunks, transparency and the colour-space chunks without text.
    static let kept: Set<[UInt8]> = Set(
        ["IHDR", "PLTE", "IDAT", "IEND", "tRNS", "gAMA", "cHRM", "sRGB", "sBIT", "bKGD", "pHYs"].map { Array($0.utf8) }
    )

    /// The chunks of `bytes` that are kept, in order, with the header's dimensions. Throws when the file is not a
    /// well-formed sequence of chunks from `IHDR` to `IEND`.
    static func strip(_ bytes: UnsafeBufferPointer<UInt8>) throws(MalformedImage) -> StrippedImage {
        guard bytes.count >= signature.count, bytes.prefix(signature.count).elementsEqual(signature) else {
            throw MalformedImage(reason: "not a PNG file")
        }
        var out = signature
        out.reserveCapacity(bytes.count)
        var width = 0
        var height = 0
        var removed = false
        var transparent = false
        var at = signature.count
        var first = true
        while true {
            guard at + 12 <= bytes.count else {
                throw MalformedImage(reason: "a PNG chunk runs past the end of the file")
            }
            let length = Int(bigEndian32(bytes, at))
            guard length <= 0x7FFF_FFFF, at + 12 + length <= bytes.count else {
                throw MalformedImage(reason: "a PNG chunk runs past the end of the file")
            }
            let type = Array(bytes[(at + 4)..<(at + 8)])
            let isHeader = type == Array("IHDR".utf8)
            guard isHeader == first else { throw MalformedImage(reason: "a PNG file must start with one IHDR chunk") }
            if isHeader {
                guard length == 13 else { throw MalformedImage(reason: "a PNG IHDR chunk has the wrong length") }
                width = Int(bigEndian32(bytes, at + 8))
                height = Int(bigEndian32(bytes, at + 12))
                // Colour types 4 and 6 carry an alpha channel.
                transparent = bytes[at + 17] & 4 != 0
            }
            first = false
            let end = at + 12 + length
            if type == Array("tRNS".utf8) { transparent = true }
            if kept.contains(type) {
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[at..<end]))
            } else {
                removed = true
            }
            at = end
            if type == Array("IEND".utf8) { break }
        }
        if at < bytes.count { removed = true }
        guard width > 0, height > 0 else { throw MalformedImage(reason: "a PNG file declares no pixels") }
        return StrippedImage(bytes: out, width: width, height: height, removed: removed, transparent: transparent)
    }

    static func bigEndian32(_ bytes: UnsafeBufferPointer<UInt8>, _ at: Int) -> UInt32 {
        UInt32(bytes[at]) << 24 | UInt32(bytes[at + 1]) << 16 | UInt32(bytes[at + 2]) << 8 | UInt32(bytes[at + 3])
    }
}
