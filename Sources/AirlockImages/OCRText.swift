/// A word Tesseract read, where it is, and how sure it is (0-100).
struct OCRWord {
    var text: [UInt8]
    var box: PixelBox
    var confidence: Float
}

/// A line of words as Tesseract grouped them, in reading order.
struct OCRLine {
    var words: [OCRWord]
}
