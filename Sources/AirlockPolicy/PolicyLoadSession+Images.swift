import Yams

extension PolicyLoadSession {
    /// The file's own `images:` section, or nil when it has none (or a bad one, reported). Read after the file's
    /// includes, so the including file's section wins over theirs, and a later include's over an earlier one's.
    mutating func readImages(_ entries: Entries, scope: Scope) -> ImageRules? {
        guard let entry = entries["images"] else { return nil }
        guard case .mapping = entry.value else {
            report(
                scope.location(entry.value),
                "'images' must be a mapping (like 'images: {ocr: true, on_match: redact}'), found "
                    + Self.describe(entry.value)
            )
            return nil
        }
        let fields = mappingEntries(entry.value, scope: scope, allowed: PolicyLoader.imageKeys, context: "in 'images'")
        var rules = ImageRules()
        var valid = true
        if let value = fields["ocr"] {
            if let ocr = boolean(value.value, key: "ocr", scope: scope) { rules.ocr = ocr } else { valid = false }
        }
        if let value = fields["on_match"], let text = string(value.value, key: "on_match", scope: scope) {
            if let onMatch = ImageRules.OnMatch(rawValue: text) {
                rules.onMatch = onMatch
            } else {
                report(
                    scope.location(value.value),
                    "unknown value '\(text)' for 'images.on_match'; expected redact or block"
                )
                valid = false
            }
        }
        if let value = fields["min_confidence"] {
            if let confidence = integer(value.value, key: "min_confidence", scope: scope),
                (0...100).contains(confidence)
            {
                rules.minConfidence = confidence
            } else {
                report(scope.location(value.value), "'images.min_confidence' must be a whole number from 0 to 100")
                valid = false
            }
        }
        if let value = fields["max_pixels"] {
            if let pixels = integer(value.value, key: "max_pixels", scope: scope), pixels > 0 {
                rules.maxPixels = pixels
            } else {
                report(scope.location(value.value), "'images.max_pixels' must be a whole number above 0")
                valid = false
            }
        }
        if let value = fields["timeout_seconds"] {
            if case .scalar(let scalar) = value.value, scalar.style == .plain, let seconds = Double(scalar.string),
                seconds > 0, seconds <= 600
            {
                rules.timeoutSeconds = seconds
            } else {
                report(scope.location(value.value), "'images.timeout_seconds' must be a number above 0 and at most 600")
                valid = false
            }
        }
        if let value = fields["languages"], let items = nonEmptyList(value.value, key: "languages", scope: scope) {
            var languages: [String] = []
            for item in items {
                guard let code = nonEmptyString(item, key: "languages", scope: scope) else {
                    valid = false
                    continue
                }
                // Tesseract's codes: letters, digits and `_` (`eng`, `chi_sim`); no path can be named.
                guard
                    code.utf8.allSatisfy({
                        $0 == UInt8(ascii: "_")
                            || $0 < 0x80 && ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A || $0 >= 0x30 && $0 <= 0x39)
                    })
                else {
                    report(scope.location(item), "'images.languages' entries are Tesseract language codes like 'eng'")
                    valid = false
                    continue
                }
                if !languages.contains(code) { languages.append(code) }
            }
            rules.languages = languages
        }
        return valid ? rules : nil
    }
}
