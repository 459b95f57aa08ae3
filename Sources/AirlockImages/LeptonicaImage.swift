import CLeptonica
import Foundation

/// A decoded image (a Leptonica `PIX`), owned: destroyed with the object. Not thread-safe; one per inspection.
final class LeptonicaImage {
    private(set) var pix: UnsafeMutablePointer<PIX>

    private init(_ pix: UnsafeMutablePointer<PIX>) {
        self.pix = pix
    }

    deinit {
        var p: UnsafeMutablePointer<PIX>? = pix
        pixDestroy(&p)
    }

    /// Leptonica reports errors on stderr; what it would say is in the refusal instead. Set once per process.
    private static let quiet: Void = { _ = setMsgSeverity(Int32(L_SEVERITY_NONE)) }()

    /// Decodes `bytes`, or `nil` when Leptonica cannot.
    static func decode(_ bytes: UnsafeBufferPointer<UInt8>) -> LeptonicaImage? {
        _ = quiet
        guard let base = bytes.baseAddress, let pix = pixReadMem(base, bytes.count) else { return nil }
        // A decoder may keep a text chunk or comment with the pixels; it never goes back out.
        pixSetText(pix, nil)
        return LeptonicaImage(pix)
    }

    var width: Int { Int(pixGetWidth(pix)) }
    var height: Int { Int(pixGetHeight(pix)) }

    /// A 32-bit RGB copy with no alpha, which boxes can be painted on in any colour model.
    func opaqueRGB() -> LeptonicaImage? {
        guard let rgb = pixConvertTo32(pix) else { return nil }
        var owned: UnsafeMutablePointer<PIX>? = rgb
        defer { pixDestroy(&owned) }
        guard let opaque = pixRemoveAlpha(rgb) else { return nil }
        pixSetSpp(opaque, 3)
        pixSetText(opaque, nil)
        return LeptonicaImage(opaque)
    }

    /// A copy scaled by `factor` (for OCR of small text).
    func scaled(by factor: Float) -> LeptonicaImage? {
        guard let scaled = pixScale(pix, factor, factor) else { return nil }
        return LeptonicaImage(scaled)
    }

    /// Paints an opaque black box (clipped to the image).
    func paint(_ box: PixelBox) {
        guard let b = boxCreate(Int32(box.x), Int32(box.y), Int32(box.width), Int32(box.height)) else { return }
        var owned: UnsafeMutablePointer<BOX>? = b
        defer { boxDestroy(&owned) }
        pixSetInRectArbitrary(pix, b, 0x0000_00FF)
    }

    /// The image encoded as `format` (PNG lossless, JPEG at quality 92), or `nil` when Leptonica cannot write it.
    func encoded(as format: Int32) -> [UInt8]? {
        var data: UnsafeMutablePointer<UInt8>?
        var size = 0
        let status: Int32
        switch format {
        case Int32(IFF_JFIF_JPEG): status = pixWriteMemJpeg(&data, &size, pix, 92, 0)
        case Int32(IFF_PNG): status = pixWriteMemPng(&data, &size, pix, 0)
        default: status = pixWriteMem(&data, &size, pix, format)
        }
        guard status == 0, let data else { return nil }
        defer { lept_free(data) }
        return Array(UnsafeBufferPointer(start: data, count: size))
    }
}

/// A rectangle in an image's pixels.
struct PixelBox: Hashable {
    var x: Int
    var y: Int
    var width: Int
    var height: Int

    /// The box grown by `margin` on every side, clipped to `width` x `height`.
    func grown(by margin: Int, within width: Int, _ height: Int) -> PixelBox {
        let left = max(0, x - margin)
        let top = max(0, y - margin)
        let right = min(width, x + self.width + margin)
        let bottom = min(height, y + self.height + margin)
        return PixelBox(x: left, y: top, width: max(0, right - left), height: max(0, bottom - top))
    }
}
