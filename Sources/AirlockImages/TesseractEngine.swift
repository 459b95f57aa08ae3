import CLeptonica
import CTesseract
import Foundation

/// One initialised Tesseract instance for one set of languages. Not thread-safe: `TesseractPool` lends it to one
/// inspection at a time.
final class TesseractEngine {
    private let handle: OpaquePointer

    /// Why an engine cannot be made.
    enum Failure: Error {
        case languageMissing(String)
    }

    /// Loads `languages` (`eng+deu` order) from Tesseract's data directory (`TESSDATA_PREFIX`, else the one it was
    /// built with). Slow (tens of milliseconds per language): engines are kept and reused.
    init(languages: [String]) throws(Failure) {
        // One thread per recognition: concurrency is the pool's to bound, not OpenMP's.
        setenv("OMP_THREAD_LIMIT", "1", 0)
        guard let handle = TessBaseAPICreate() else { throw .languageMissing(languages.joined(separator: "+")) }
        // The debug output Tesseract writes (resolution warnings, per-page notes) is not ours to print.
        _ = TessBaseAPISetVariable(handle, "debug_file", "/dev/null")
        let status = TessBaseAPIInit2(handle, nil, languages.joined(separator: "+"), OEM_LSTM_ONLY)
        guard status == 0 else {
            // Not yet `self.handle`: the object is not made, so `deinit` does not free it a second time.
            TessBaseAPIDelete(handle)
            throw .languageMissing(languages.joined(separator: "+"))
        }
        // Tesseract loads a missing secondary language (`eng+zzz`) as nothing, silently: every language asked for must
        // be among those it loaded.
        var loaded: Set<String> = []
        if let list = TessBaseAPIGetLoadedLanguagesAsVector(handle) {
            var k = 0
            while let name = list[k] {
                loaded.insert(String(cString: name))
                k += 1
            }
            TessDeleteTextArray(list)
        }
        guard Set(languages).isSubset(of: loaded) else {
            TessBaseAPIEnd(handle)
            TessBaseAPIDelete(handle)
            throw .languageMissing(languages.joined(separator: "+"))
        }
        self.handle = handle
        TessBaseAPISetPageSegMode(handle, PSM_SPARSE_TEXT)
    }

    deinit {
        TessBaseAPIEnd(handle)
        TessBaseAPIDelete(handle)
    }

    /// The words of `image`, by line, or `nil` when recognition ran past `deadline` (it is cancelled there).
    func recognize(_ image: LeptonicaImage, deadline: ContinuousClock.Instant) -> [OCRLine]? {
        TessBaseAPISetImage2(handle, image.pix)
        TessBaseAPISetSourceResolution(handle, 96)
        defer { TessBaseAPIClear(handle) }
        let monitor = TessMonitorCreate()
        defer { TessMonitorDelete(monitor) }
        let watch = Deadline(deadline)
        let context = Unmanaged.passRetained(watch)
        defer { context.release() }
        TessMonitorSetCancelThis(monitor, context.toOpaque())
        TessMonitorSetCancelFunc(monitor) { this, _ in
            guard let this else { return false }
            return Unmanaged<Deadline>.fromOpaque(this).takeUnretainedValue().passed()
        }
        let status = TessBaseAPIRecognize(handle, monitor)
        guard !watch.passed() else { return nil }
        guard status == 0 else { return [] }
        return words()
    }

    /// The recognised words, grouped by text line.
    private func words() -> [OCRLine] {
        guard let iterator = TessBaseAPIGetIterator(handle) else { return [] }
        defer { TessResultIteratorDelete(iterator) }
        let page = TessResultIteratorGetPageIterator(iterator)
        var lines: [OCRLine] = []
        repeat {
            guard let text = TessResultIteratorGetUTF8Text(iterator, RIL_WORD) else { continue }
            defer { TessDeleteText(text) }
            var left: Int32 = 0
            var top: Int32 = 0
            var right: Int32 = 0
            var bottom: Int32 = 0
            guard TessPageIteratorBoundingBox(page, RIL_WORD, &left, &top, &right, &bottom) != 0 else { continue }
            let word = OCRWord(
                text: Array(
                    UnsafeBufferPointer(
                        start: UnsafeRawPointer(text).assumingMemoryBound(to: UInt8.self),
                        count: strlen(text)
                    )
                ),
                box: PixelBox(x: Int(left), y: Int(top), width: Int(right - left), height: Int(bottom - top)),
                confidence: TessResultIteratorConfidence(iterator, RIL_WORD)
            )
            if lines.isEmpty || TessPageIteratorIsAtBeginningOf(page, RIL_TEXTLINE) != 0 {
                lines.append(OCRLine(words: []))
            }
            lines[lines.count - 1].words.append(word)
        } while TessResultIteratorNext(iterator, RIL_WORD) != 0
        return lines
    }

    /// The deadline a recognition checks between words.
    private final class Deadline {
        let instant: ContinuousClock.Instant
        init(_ instant: ContinuousClock.Instant) { self.instant = instant }
        func passed() -> Bool { ContinuousClock.now >= instant }
    }
}
