import AirlockImages
import AirlockPolicy
import AirlockRedaction
import Foundation
import Testing

/// How a careless pipeline or a hostile vendor would get data past image inspection, each tried: metadata (EXIF GPS,
/// JPEG comments, PNG text chunks), bytes after the image (polyglots), a screenshot in a data URL declared as text,
/// a decompression bomb, bytes that do not decode, a term drawn in two pieces, the formats Airlock does not read.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct ImageAttackTests {
    static let controls: [Screenshots.Line] = [
        .init(text: "Please label every button on the checkout page"),
        .init(text: "Weather forecast: sunny afternoon"),
    ]

    static func redact(
        _ body: [UInt8],
        type: String,
        images: ImageRules? = ImageRules(),
        inspector: (any ImageInspector)? = Screenshots.inspector
    ) throws -> RedactionOutcome {
        let redactor = try Screenshots.redactor(try Screenshots.demoPolicy(images), inspector: inspector)
        return redactor.redact(body: body, contentType: type, contentEncoding: nil, vendor: "scale")
    }

    static func contains(_ haystack: [UInt8], _ needle: String) -> Bool {
        let n = Array(needle.utf8)
        guard haystack.count >= n.count else { return false }
        return (0...(haystack.count - n.count)).contains { haystack[$0..<($0 + n.count)].elementsEqual(n) }
    }

    /// The JPEG markers of `bytes` up to the first scan.
    static func jpegMarkers(_ bytes: [UInt8]) -> [UInt8] {
        var markers: [UInt8] = []
        var at = 2
        while at + 4 <= bytes.count, bytes[at] == 0xFF {
            let marker = bytes[at + 1]
            markers.append(marker)
            if marker == 0xDA { break }
            at += 2 + (Int(bytes[at + 2]) << 8 | Int(bytes[at + 3]))
        }
        return markers
    }

    /// The chunk types of a PNG.
    static func pngChunks(_ bytes: [UInt8]) -> [String] {
        var chunks: [String] = []
        var at = 8
        while at + 12 <= bytes.count {
            let length = Int(bytes[at]) << 24 | Int(bytes[at + 1]) << 16 | Int(bytes[at + 2]) << 8 | Int(bytes[at + 3])
            chunks.append(String(decoding: bytes[(at + 4)..<(at + 8)], as: UTF8.self))
            at += 12 + length
        }
        return chunks
    }

    @Test(arguments: [true, false])
    func exifGPSCameraAndCommentsInAJPEGNeverLeave(ocr: Bool) throws {
        let jpeg = try Screenshots.render(
            Self.controls,
            format: "JPEG",
            extra: ["exif_gps": true, "jpeg_comment": "Nightingale field test"]
        )
        // Planted: an EXIF block with a GPS IFD and a comment naming the codename.
        #expect(Self.jpegMarkers(jpeg).contains(0xE1) && Self.contains(jpeg, "Exif") && Self.contains(jpeg, "LabCam"))
        #expect(Self.contains(jpeg, "Nightingale"))
        let outcome = try Self.redact(jpeg, type: "image/jpeg", images: ImageRules(ocr: ocr))
        let sent = try #require(outcome.forwardedBody, "\(outcome)")
        let markers = Self.jpegMarkers(sent)
        #expect(!markers.contains { (0xE0...0xEF).contains($0) || $0 == 0xFE }, "\(markers)")
        for planted in ["Exif", "LabCam", "Nightingale", "capture tool"] { #expect(!Self.contains(sent, planted)) }
        #expect(Array(sent.suffix(2)) == [0xFF, 0xD9])
        // The picture is the same: the vendor still reads it.
        #expect(Screenshots.reads(try Screenshots.ocr(sent), "checkout"))
    }

    @Test func aCodenameInAPNGTextChunkAndBytesAfterTheImageNeverLeave() throws {
        var png = try Screenshots.render(
            Self.controls,
            extra: ["png_text": ["Comment": "Nightingale launch review", "Author": "jane.doe@lab.example.com"]]
        )
        // A polyglot: a ZIP (with a codename in it) glued after IEND still opens as an archive.
        png += try Screenshots.pythonBytes(
            """
            b = io.BytesIO()
            import zipfile
            with zipfile.ZipFile(b, 'w') as z:
                z.writestr('notes.txt', 'Tidewater eval numbers')
            out(b.getvalue())
            """
        )
        #expect(Self.pngChunks(png).contains("tEXt") && Self.contains(png, "Tidewater"))
        for ocr in [true, false] {
            let outcome = try Self.redact(png, type: "image/png", images: ImageRules(ocr: ocr))
            let sent = try #require(outcome.forwardedBody, "\(outcome)")
            #expect(
                Self.pngChunks(sent) == ["IHDR", "IDAT", "IEND"]
                    || !Self.pngChunks(sent).contains { $0.hasSuffix("Xt") }
            )
            #expect(Self.pngChunks(sent).last == "IEND")
            for planted in ["Nightingale", "jane.doe", "Tidewater", "PK"] { #expect(!Self.contains(sent, planted)) }
            #expect(Screenshots.reads(try Screenshots.ocr(sent), "checkout"))
        }
    }

    /// Review reproducer (failing on purpose): bytes after the end of the image's zlib stream, in one more `IDAT`
    /// chunk, are ignored by every decoder (libpng calls them "extra compressed data") yet kept by the byte-level
    /// strip, which keeps every `IDAT` as it is: a polyglot or a pipeline's note hidden there leaves. Passes once the
    /// strip (or the verification of what leaves) ends the image data where its zlib stream ends, or refuses the file.
    @Test func bytesAfterTheZlibStreamInAnExtraIDATChunkNeverLeave() throws {
        var png = try Screenshots.render(Self.controls)
        let hidden = Array("Tidewater eval numbers".utf8)
        var chunk = Array("IDAT".utf8) + hidden
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in chunk {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        crc ^= 0xFFFF_FFFF
        chunk =
            withUnsafeBytes(of: UInt32(hidden.count).bigEndian, Array.init) + chunk
            + withUnsafeBytes(of: crc.bigEndian, Array.init)
        png.insert(contentsOf: chunk, at: png.count - 12)  // before IEND
        #expect(Self.pngChunks(png).suffix(3) == ["IDAT", "IDAT", "IEND"] && Self.contains(png, "Tidewater"))
        for ocr in [true, false] {
            let outcome = try Self.redact(png, type: "image/png", images: ImageRules(ocr: ocr))
            if let sent = outcome.forwardedBody {
                let leaked = Self.contains(sent, "Tidewater")
                #expect(!leaked, "ocr: \(ocr)")
            }
        }
    }

    /// Review reproducer (failing on purpose): bytes between a JPEG's last scan and its `EOI` are read as entropy-coded
    /// data and kept, though a decoder stops at the last block (libjpeg: "extraneous bytes before marker 0xd9"): a
    /// note hidden there leaves. Passes once the strip (or the re-encoding of what leaves) drops them, or refuses.
    @Test func bytesBetweenTheLastScanAndTheEndMarkerNeverLeave() throws {
        var jpeg = try Screenshots.render(Self.controls, format: "JPEG")
        jpeg.insert(contentsOf: Array("Tidewater eval numbers".utf8), at: jpeg.count - 2)  // before EOI
        #expect(Self.contains(jpeg, "Tidewater"))
        for ocr in [true, false] {
            let outcome = try Self.redact(jpeg, type: "image/jpeg", images: ImageRules(ocr: ocr))
            if let sent = outcome.forwardedBody {
                let leaked = Self.contains(sent, "Tidewater")
                #expect(!leaked, "ocr: \(ocr)")
            }
        }
    }

    @Test func aScreenshotInADataURLDeclaredAsTextIsReadAndPaintedAsAnImage() throws {
        let png = try Screenshots.render([.init(text: "Nightingale launch checklist")] + Self.controls)
        let body = #"{"attachment": "data:text/plain;base64,"# + Data(png).base64EncodedString() + #""}"#
        let outcome = try Self.redact(Array(body.utf8), type: "application/json")
        let sent = try #require(outcome.forwardedBody, "\(outcome)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(sent)) as? [String: String])
        let url = try #require(object["attachment"])
        #expect(url.hasPrefix("data:text/plain;base64,"))
        let image = Array(try #require(Data(base64Encoded: String(url.dropFirst(23)))))
        let read = try Screenshots.ocr(image)
        #expect(!Screenshots.reads(read, "Nightingale") && Screenshots.reads(read, "checklist"), "\(read)")
        #expect(outcome.findings.contains { $0.rule == "codenames" && $0.action == "redact" })
    }

    @Test func aTermDrawnInTwoPiecesIsPaintedAsOne() throws {
        let png = try Screenshots.render(
            [.init(text: "Night"), .init(text: "ingale"), .init(text: "review notes for the")] + Self.controls,
            positions: [[28, 24], [104, 24], [28, 80], [28, 136], [28, 192]]
        )
        let before = try Screenshots.ocr(png)
        #expect(Screenshots.reads(before, "Night") && Screenshots.reads(before, "ingale"), "\(before)")
        let sent = try #require(try Self.redact(png, type: "image/png").forwardedBody)
        let after = try Screenshots.ocr(sent)
        #expect(!Screenshots.reads(after, "Night") && !Screenshots.reads(after, "ingale"), "\(after)")
        #expect(Screenshots.reads(after, "review") && Screenshots.reads(after, "checkout"), "\(after)")
    }

    @Test func textHiddenUnderTransparentPixelsDoesNotLeaveForAVendorWhoDropsTheAlphaChannel() throws {
        // Visible: the controls. Drawn in fully transparent pixels: a codename, invisible to any viewer.
        let png = try Screenshots.pythonBytes(
            """
            from PIL import Image, ImageDraw, ImageFont
            face = ImageFont.truetype('/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf', 24)
            im = Image.new('RGBA', (900, 200), (255, 255, 255, 255))
            d = ImageDraw.Draw(im)
            d.text((20, 20), 'Please label every button on the checkout page', font=face, fill=(0, 0, 0, 255))
            d.rectangle((0, 100, 900, 200), fill=(255, 255, 255, 0))
            d.text((20, 120), 'Nightingale launch plan', font=face, fill=(0, 0, 0, 0))
            b = io.BytesIO(); im.save(b, 'PNG'); out(b.getvalue())
            """
        )
        func withoutAlpha(_ image: [UInt8]) throws -> [UInt8] {
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-alpha-\(UUID()).png")
            try Data(image).write(to: file)
            defer { try? FileManager.default.removeItem(at: file) }
            return try Screenshots.pythonBytes(
                """
                from PIL import Image
                im = Image.open('\(file.path)').convert('RGBA')
                b = io.BytesIO(); Image.merge('RGB', im.split()[:3]).save(b, 'PNG'); out(b.getvalue())
                """
            )
        }
        #expect(Screenshots.reads(try Screenshots.ocr(try withoutAlpha(png)), "Nightingale"))
        let sent = try #require(try Self.redact(png, type: "image/png").forwardedBody)
        let read = try Screenshots.ocr(try withoutAlpha(sent))
        #expect(!Screenshots.reads(read, "Nightingale") && Screenshots.reads(read, "checkout"), "\(read)")
    }

    /// Words read with less than `min_confidence` are painted over, matched or not (100: every word).
    @Test func wordsReadWithLessThanMinConfidenceArePaintedOver() throws {
        let png = try Screenshots.render(Self.controls)
        let outcome = try Self.redact(png, type: "image/png", images: ImageRules(minConfidence: 100))
        let sent = try #require(outcome.forwardedBody, "\(outcome)")
        let read = try Screenshots.ocr(sent)
        #expect(!Screenshots.reads(read, "checkout") && !Screenshots.reads(read, "forecast"), "\(read)")
        #expect(outcome.findings.contains { $0.rule == ImageInspection.lowConfidenceRule && $0.count >= 8 })
        let untouched = try #require(try Self.redact(png, type: "image/png").forwardedBody)
        #expect(Screenshots.reads(try Screenshots.ocr(untouched), "checkout"))
    }

    @Test func onMatchBlockRefusesTheRequestNamingTheRule() throws {
        let png = try Screenshots.render([.init(text: "Tidewater eval numbers")] + Self.controls)
        let outcome = try Self.redact(png, type: "image/png", images: ImageRules(onMatch: .block))
        guard case .block(let rule, let reason, _) = outcome else {
            Issue.record("expected block, got \(outcome)")
            return
        }
        #expect(rule == "codenames" && reason.contains("images.on_match is block") && !reason.contains("Tidewater"))
        let clean = try Screenshots.render(Self.controls)
        #expect(try Self.redact(clean, type: "image/png", images: ImageRules(onMatch: .block)).forwardedBody != nil)
    }

    @Test func aDecompressionBombIsRefusedByItsHeaderBeforeDecoding() throws {
        // 100,000 x 100,000 pixels declared in a 60-byte file.
        let bomb = try Screenshots.pythonBytes(
            """
            ihdr = struct.pack('>IIBBBBB', 100000, 100000, 8, 0, 0, 0, 0)
            out(b'\\x89PNG\\r\\n\\x1a\\n' + chunk(b'IHDR', ihdr) + chunk(b'IDAT', zlib.compress(b'\\x00' * 64)) + chunk(b'IEND', b''))
            """
        )
        for ocr in [true, false] {
            let outcome = try Self.redact(bomb, type: "image/png", images: ImageRules(ocr: ocr))
            guard case .uninspectable(let reason, _) = outcome else {
                Issue.record("expected uninspectable, got \(outcome)")
                continue
            }
            #expect(reason.contains("100000x100000") && reason.contains("images.max_pixels"), "\(reason)")
        }
        let small = try Screenshots.render(Self.controls)
        let outcome = try Self.redact(small, type: "image/png", images: ImageRules(maxPixels: 1000))
        guard case .uninspectable(let reason, _) = outcome else {
            Issue.record("expected uninspectable, got \(outcome)")
            return
        }
        #expect(reason.contains("images.max_pixels (1000)"), "\(reason)")
    }

    @Test func anImageThatDoesNotDecodeIsRefused() throws {
        let broken = try Screenshots.pythonBytes(
            """
            ihdr = struct.pack('>IIBBBBB', 64, 64, 8, 2, 0, 0, 0)
            out(b'\\x89PNG\\r\\n\\x1a\\n' + chunk(b'IHDR', ihdr) + chunk(b'IDAT', b'not zlib at all') + chunk(b'IEND', b''))
            """
        )
        let outcome = try Self.redact(broken, type: "image/png")
        guard case .uninspectable(let reason, _) = outcome else {
            Issue.record("expected uninspectable, got \(outcome)")
            return
        }
        #expect(reason.contains("cannot be decoded"), "\(reason)")
        // Declared an image, not one by its bytes; a truncated JPEG.
        let notImage = try Self.redact(Array("GIF? no".utf8), type: "image/png")
        guard case .uninspectable = notImage else {
            Issue.record("expected uninspectable, got \(notImage)")
            return
        }
        let jpeg = try Screenshots.render(Self.controls, format: "JPEG")
        guard case .uninspectable = try Self.redact(Array(jpeg.prefix(jpeg.count / 2)), type: "image/jpeg") else {
            Issue.record("a truncated JPEG was not refused")
            return
        }
    }

    @Test func gifWebPAndTIFFAreRefusedNamingTheFormat() throws {
        for format in ["GIF", "WEBP", "TIFF"] {
            let bytes = try Screenshots.pythonBytes(
                """
                from PIL import Image
                b = io.BytesIO()
                Image.new('RGB', (32, 32), (255, 255, 255)).save(b, '\(format)')
                out(b.getvalue())
                """
            )
            let outcome = try Self.redact(bytes, type: "image/\(format.lowercased())")
            guard case .uninspectable(let reason, _) = outcome else {
                Issue.record("expected uninspectable for \(format), got \(outcome)")
                continue
            }
            #expect(reason.contains("send PNG or JPEG"), "\(reason)")
        }
    }

    @Test func aMissingLanguageOrAnOCRDeadlineRefusesTheImage() throws {
        let png = try Screenshots.render(Self.controls)
        let missing = try Self.redact(png, type: "image/png", images: ImageRules(languages: ["eng", "zzz"]))
        guard case .uninspectable(let reason, _) = missing else {
            Issue.record("expected uninspectable, got \(missing)")
            return
        }
        #expect(reason.contains("images.languages (eng+zzz) is not installed"), "\(reason)")
        let slow = try Self.redact(png, type: "image/png", images: ImageRules(timeoutSeconds: 0.000_1))
        guard case .uninspectable(let late, _) = slow else {
            Issue.record("expected uninspectable, got \(slow)")
            return
        }
        #expect(late.contains("images.timeout_seconds"), "\(late)")
    }

    @Test func withoutAnImagesSectionOrWithoutAnInspectorImagesAreRefusedAsBefore() throws {
        let png = try Screenshots.render(Self.controls)
        guard case .block(let rule, _, _) = try Self.redact(png, type: "image/png", images: nil) else {
            Issue.record("a raw image left without images:")
            return
        }
        #expect(rule == "content.unknown")
        let url = #"{"a": "data:image/png;base64,"# + Data(png).base64EncodedString() + #""}"#
        guard case .uninspectable = try Self.redact(Array(url.utf8), type: "application/json", images: nil) else {
            Issue.record("an embedded image left without images:")
            return
        }
        guard case .uninspectable(let reason, _) = try Self.redact(png, type: "image/png", inspector: nil) else {
            Issue.record("an image left without an inspector")
            return
        }
        #expect(reason.contains("no image inspector"))
    }
}
