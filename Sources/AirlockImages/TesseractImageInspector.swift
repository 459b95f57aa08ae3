import AirlockPolicy
import AirlockRedaction
import CLeptonica
import Foundation

/// The `ImageInspector` the proxy and the CLI hand to the engine: Leptonica decodes and encodes, Tesseract reads.
///
/// For each image: its metadata is removed at the byte level and its declared size checked against
/// `images.max_pixels` before any pixel is decoded (a small file may declare a huge image); with `ocr`, it is decoded,
/// read (small images at twice their size, where Tesseract reads small text better), the words a rule matches are
/// painted over with opaque boxes and the image is encoded again in its own format. What leaves is read back at the
/// byte level: it must hold no metadata, or nothing leaves.
public final class TesseractImageInspector: ImageInspector {
    let pool: TesseractPool

    /// Images narrower than this are read at twice their size (Tesseract reads text with an x-height under ~10
    /// pixels poorly; a vendor's reader may well enlarge first). 0: never.
    let upscaleBelowWidth: Int

    /// `concurrency`: the most recognitions at once, process-wide (default: the number of cores).
    public init(concurrency: Int = ProcessInfo.processInfo.activeProcessorCount, upscaleBelowWidth: Int = 2000) {
        self.pool = TesseractPool(limit: concurrency)
        self.upscaleBelowWidth = upscaleBelowWidth
    }

    /// Checks that `rules` can be honoured here: the OCR language data is installed (and loaded, for the first image).
    /// Call when a policy is loaded, so a missing language stops the proxy from starting, or a reload from applying.
    public func prepare(_ rules: ImageRules) throws(ImageRefusal) {
        guard rules.ocr else { return }
        do throws(TesseractEngine.Failure) {
            try pool.prepare(languages: rules.languages)
        } catch {
            switch error {
            case .languageMissing(let languages):
                throw .uninspectable("the OCR language data for images.languages (\(languages)) is not installed")
            }
        }
    }

    /// The most recognitions at once.
    public var concurrency: Int { pool.limit }

    public func inspect(
        _ image: UnsafeBufferPointer<UInt8>,
        format: ImageFormat,
        rules: ImageRules,
        text: ImageTextMatcher
    ) throws(ImageRefusal) -> ImageInspection {
        let deadline = ContinuousClock.now + .milliseconds(Int64(rules.timeoutSeconds * 1000))
        let stripped = try Self.strip(image, format: format)
        guard stripped.pixels <= rules.maxPixels else {
            throw .uninspectable(
                "an \(format.mediaType) image declares \(stripped.width)x\(stripped.height) pixels, more than "
                    + "images.max_pixels (\(rules.maxPixels))"
            )
        }
        guard let decoded = LeptonicaImage.decode(image) else {
            throw .uninspectable("an \(format.mediaType) image cannot be decoded")
        }
        guard decoded.width == stripped.width, decoded.height == stripped.height else {
            throw .uninspectable("an \(format.mediaType) image decodes to another size than its header declares")
        }
        // Every image leaves encoded again from its decoded pixels, never as its own bytes: the byte-level strip
        // keeps the image data as written, and a file can carry bytes no decoder shows inside it (after a PNG's zlib
        // stream, before a JPEG's end marker), which would leave with it.
        guard rules.ocr else { return ImageInspection(bytes: try Self.reencoded(decoded, format: format)) }
        guard let canvas = decoded.opaqueRGB() else {
            throw .uninspectable("an \(format.mediaType) image cannot be converted for reading")
        }
        let lines = try recognize(canvas, rules: rules, deadline: deadline, format: format)
        let matched = try OCRMatching.matchedWords(lines, matcher: text, onMatch: rules.onMatch)
        var boxes: [(rule: String, count: Int)] = []
        for (l, line) in lines.enumerated() {
            for (w, word) in line.words.enumerated() {
                let rule: String
                if let matchedRule = matched[OCRMatching.WordRef(line: l, word: w)] {
                    rule = matchedRule
                } else if rules.minConfidence > 0, word.confidence < Float(rules.minConfidence), !word.text.isEmpty {
                    rule = ImageInspection.lowConfidenceRule
                } else {
                    continue
                }
                let margin = max(2, word.box.height / 6)
                canvas.paint(word.box.grown(by: margin, within: canvas.width, canvas.height))
                if let k = boxes.firstIndex(where: { $0.rule == rule }) {
                    boxes[k].count += 1
                } else {
                    boxes.append((rule, 1))
                }
            }
        }
        // What leaves is the canvas as read (an image with transparency blended over white, opaque: text drawn in
        // transparent pixels would otherwise leave for a vendor who drops the alpha channel), painted or not.
        return ImageInspection(bytes: try Self.reencoded(canvas, format: format), boxes: boxes)
    }

    /// `image` encoded in `format` by Leptonica, stripped and checked like any image that leaves.
    static func reencoded(_ image: LeptonicaImage, format: ImageFormat) throws(ImageRefusal) -> [UInt8] {
        guard let encoded = image.encoded(as: Self.leptonicaFormat(format)) else {
            throw .uninspectable("an \(format.mediaType) image cannot be encoded again")
        }
        let clean = try Self.strip(encoded.withUnsafeBufferPointer { $0 }, format: format)
        return try Self.verified(clean.bytes, format: format)
    }

    /// The words of `canvas`, read at twice its size when it is small (boxes mapped back), within `deadline`.
    private func recognize(
        _ canvas: LeptonicaImage,
        rules: ImageRules,
        deadline: ContinuousClock.Instant,
        format: ImageFormat
    ) throws(ImageRefusal) -> [OCRLine] {
        let scale = canvas.width < upscaleBelowWidth ? 2 : 1
        let input = scale == 1 ? canvas : canvas.scaled(by: Float(scale))
        guard let input else { throw .uninspectable("an \(format.mediaType) image cannot be scaled for reading") }
        let lines: [OCRLine]??
        do throws(TesseractEngine.Failure) {
            lines = try pool.withEngine(languages: rules.languages, deadline: deadline) { engine in
                engine.recognize(input, deadline: deadline)
            }
        } catch {
            switch error {
            case .languageMissing(let languages):
                throw .uninspectable("the OCR language data for images.languages (\(languages)) is not installed")
            }
        }
        guard let recognized = lines ?? nil else {
            throw .uninspectable(
                "reading the text of an \(format.mediaType) image took longer than images.timeout_seconds "
                    + "(\(rules.timeoutSeconds))"
            )
        }
        guard scale > 1 else { return recognized }
        return recognized.map { line in
            OCRLine(
                words: line.words.map { word in
                    var scaled = word
                    let right = (word.box.x + word.box.width + scale - 1) / scale
                    let bottom = (word.box.y + word.box.height + scale - 1) / scale
                    scaled.box.x = word.box.x / scale
                    scaled.box.y = word.box.y / scale
                    scaled.box.width = right - scaled.box.x
                    scaled.box.height = bottom - scaled.box.y
                    return scaled
                }
            )
        }
    }

    /// The image without its metadata, read at the byte level.
    static func strip(_ image: UnsafeBufferPointer<UInt8>, format: ImageFormat) throws(ImageRefusal) -> StrippedImage {
        do throws(MalformedImage) {
            switch format {
            case .png: return try PNGFile.strip(image)
            case .jpeg: return try JPEGFile.strip(image)
            case .gif, .webp, .tiff:
                throw MalformedImage(reason: "\(format.mediaType) images are not inspected; send PNG or JPEG")
            }
        } catch {
            throw .uninspectable("an \(format.mediaType) image cannot be read: \(error.reason)")
        }
    }

    /// `bytes` when reading them again finds nothing to remove; otherwise nothing leaves.
    static func verified(_ bytes: [UInt8], format: ImageFormat) throws(ImageRefusal) -> [UInt8] {
        let again = try bytes.withUnsafeBufferPointer { (b) throws(ImageRefusal) in try strip(b, format: format) }
        guard !again.removed else {
            throw .uninspectable("an \(format.mediaType) image still holds metadata after it was removed")
        }
        return bytes
    }

    static func leptonicaFormat(_ format: ImageFormat) -> Int32 {
        switch format {
        case .png: Int32(IFF_PNG)
        case .jpeg: Int32(IFF_JFIF_JPEG)
        case .gif: Int32(IFF_GIF)
        case .webp: Int32(IFF_WEBP)
        case .tiff: Int32(IFF_TIFF_ZIP)
        }
    }
}
