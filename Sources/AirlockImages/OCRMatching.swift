import AirlockPolicy
import AirlockRedaction

/// Which recognised words to paint over: every word a match of the policy's rules touches, in the page's text (words
/// joined by spaces, lines by line breaks: multi-word terms, hotwords on nearby lines) and in runs of two or three
/// neighbouring words glued together (a term drawn in pieces: `Night` `ingale`, or split at a line end with a hyphen).
enum OCRMatching {
    /// A word by line and position.
    struct WordRef: Hashable {
        var line: Int
        var word: Int
    }

    /// The rule that matched each matched word (the first one met). Throws `.blocked` when a match's rule blocks or
    /// `onMatch` is `.block`.
    static func matchedWords(
        _ lines: [OCRLine],
        matcher: ImageTextMatcher,
        onMatch: ImageRules.OnMatch
    ) throws(ImageRefusal) -> [WordRef: String] {
        var matched: [WordRef: String] = [:]
        func mark(_ text: [UInt8], _ spans: [(WordRef, Range<Int>)]) throws(ImageRefusal) {
            for match in try matcher.matches(in: text) {
                if match.blocks {
                    throw .blocked(
                        rule: match.rule,
                        reason: "text in an image matches rule \(match.rule), whose action is block"
                    )
                }
                if onMatch == .block {
                    throw .blocked(
                        rule: match.rule,
                        reason: "text in an image matches rule \(match.rule) and images.on_match is block"
                    )
                }
                for (ref, span) in spans where span.overlaps(match.range) && matched[ref] == nil {
                    matched[ref] = match.rule
                }
            }
        }
        // The page.
        var page: [UInt8] = []
        var spans: [(WordRef, Range<Int>)] = []
        for (l, line) in lines.enumerated() {
            if l > 0 { page.append(0x0A) }
            for (w, word) in line.words.enumerated() {
                if w > 0 { page.append(0x20) }
                spans.append((WordRef(line: l, word: w), page.count..<(page.count + word.text.count)))
                page += word.text
            }
        }
        try mark(page, spans)
        // Neighbours glued: two or three words of a line, and a line's last word with the next line's first.
        var runs: [[WordRef]] = []
        for (l, line) in lines.enumerated() {
            for width in 2...3 where line.words.count >= width {
                for start in 0...(line.words.count - width) {
                    runs.append((start..<(start + width)).map { WordRef(line: l, word: $0) })
                }
            }
            if l + 1 < lines.count, !line.words.isEmpty, !lines[l + 1].words.isEmpty {
                runs.append([WordRef(line: l, word: line.words.count - 1), WordRef(line: l + 1, word: 0)])
            }
        }
        for run in runs {
            var text: [UInt8] = []
            var runSpans: [(WordRef, Range<Int>)] = []
            for (k, ref) in run.enumerated() {
                var bytes = lines[ref.line].words[ref.word].text
                // A hyphen that broke the word at the end of a line.
                if k == 0, run.count == 2, run[1].line != ref.line, bytes.last == UInt8(ascii: "-") {
                    bytes.removeLast()
                }
                runSpans.append((ref, text.count..<(text.count + bytes.count)))
                text += bytes
            }
            try mark(text, runSpans)
        }
        return matched
    }
}
