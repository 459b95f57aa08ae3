/// JPEG read marker by marker: only the segments that draw the image are kept (quantisation and Huffman tables, the
/// frame header, restart interval, the scans); every application segment (`APP0`-`APP15`: JFIF thumbnails, EXIF with
/// GPS and camera, XMP, IPTC, ICC, Adobe), every comment (`COM`) and anything after `EOI` is dropped. Markers of
/// unusual codings (arithmetic tables aside, hierarchical and JPEG extensions, `DNL`) are refused.
enum JPEGFile {
    /// The frame headers: baseline, extended, progressive and lossless, Huffman or arithmetic.
    static func isFrameHeader(_ marker: UInt8) -> Bool {
        (0xC0...0xCF).contains(marker) && marker != 0xC4 && marker != 0xC8 && marker != 0xCC
    }

    /// Over 80 lines: one walk over the markers, each kind handled where it is met.
    static func strip(_ bytes: UnsafeBufferPointer<UInt8>) throws(MalformedImage) -> StrippedImage {
        guard bytes.count >= 4, bytes[0] == 0xFF, bytes[1] == 0xD8 else {
            throw MalformedImage(reason: "not a JPEG file")
        }
        var out: [UInt8] = [0xFF, 0xD8]
        out.reserveCapacity(bytes.count)
        var width = 0
        var height = 0
        var removed = false
        var at = 2
        var frames = 0
        while true {
            guard at + 1 < bytes.count, bytes[at] == 0xFF else {
                throw MalformedImage(reason: "a JPEG file ends before its end marker")
            }
            var markerAt = at + 1
            while markerAt < bytes.count, bytes[markerAt] == 0xFF { markerAt += 1 }
            guard markerAt < bytes.count else { throw MalformedImage(reason: "a JPEG file ends before its end marker") }
            let marker = bytes[markerAt]
            at = markerAt + 1
            switch marker {
            case 0xD9:
                out += [0xFF, 0xD9]
                if at < bytes.count { removed = true }
                guard frames == 1, width > 0, height > 0 else {
                    throw MalformedImage(reason: "a JPEG file must have exactly one frame with its size")
                }
                return StrippedImage(bytes: out, width: width, height: height, removed: removed)
            case 0xD0...0xD7, 0x01:
                out += [0xFF, marker]
                continue
            case 0xD8, 0x00:
                throw MalformedImage(reason: "a JPEG file has a misplaced marker")
            default:
                break
            }
            guard at + 2 <= bytes.count else {
                throw MalformedImage(reason: "a JPEG segment runs past the end of the file")
            }
            let length = Int(bytes[at]) << 8 | Int(bytes[at + 1])
            guard length >= 2, at + length <= bytes.count else {
                throw MalformedImage(reason: "a JPEG segment runs past the end of the file")
            }
            let segment = UnsafeBufferPointer(rebasing: bytes[at..<(at + length)])
            at += length
            switch marker {
            case 0xE0...0xEF, 0xFE:
                removed = true
                continue
            case 0xDB, 0xC4, 0xCC, 0xDD:
                break
            case _ where isFrameHeader(marker):
                guard length >= 8 else { throw MalformedImage(reason: "a JPEG frame header is too short") }
                frames += 1
                height = Int(segment[3]) << 8 | Int(segment[4])
                width = Int(segment[5]) << 8 | Int(segment[6])
            case 0xDA:
                out += [0xFF, marker]
                out.append(contentsOf: segment)
                // The entropy-coded data: up to the next marker that is not a stuffed 0xFF00 or a restart.
                let start = at
                while at + 1 < bytes.count {
                    if bytes[at] == 0xFF, bytes[at + 1] != 0x00, !(0xD0...0xD7).contains(bytes[at + 1]),
                        bytes[at + 1] != 0xFF
                    {
                        break
                    }
                    at += 1
                }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<at]))
                continue
            default:
                throw MalformedImage(reason: "a JPEG file uses a coding Airlock does not read")
            }
            out += [0xFF, marker]
            out.append(contentsOf: segment)
        }
    }
}
