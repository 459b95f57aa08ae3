/// "Did you mean" for misspelt keys and names.
enum KeySuggestion {
    /// The candidate closest to `word` by edit distance (ignoring case, `-` vs `_`), if it is close enough to be a
    /// plausible typo.
    static func closest(to word: String, in candidates: some Sequence<String>) -> String? {
        let normalized = Self.normalize(word)
        var best: (candidate: String, distance: Int)? = nil
        for candidate in candidates {
            let distance = editDistance(normalized, Self.normalize(candidate))
            if distance < (best?.distance ?? Int.max) {
                best = (candidate, distance)
            }
        }
        guard let best else { return nil }
        let allowed = max(1, min(3, best.candidate.count / 3))
        if best.distance <= allowed { return best.candidate }
        // A key with extra letters at the end, or cut short: `nearby` -> `near`, `domain` -> `domains`.
        let word = String(normalized)
        return candidates.first { candidate in
            let candidate = String(Self.normalize(candidate))
            let shorter = min(candidate.count, word.count)
            return shorter >= 3 && (word.hasPrefix(candidate) || candidate.hasPrefix(word))
        }
    }

    /// `; did you mean 'x'?` or the empty string.
    static func hint(for word: String, in candidates: some Sequence<String>) -> String {
        closest(to: word, in: candidates).map { "; did you mean '\($0)'?" } ?? ""
    }

    private static func normalize(_ word: String) -> [Character] {
        Array(word.lowercased().replacingOccurrences(of: "-", with: "_"))
    }

    /// Optimal string alignment distance: insertions, deletions, substitutions and adjacent transpositions
    /// (`temrs` -> `terms` is one edit).
    private static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var d = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { d[i][0] = i }
        for j in 0...b.count { d[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
                }
            }
        }
        return d[a.count][b.count]
    }
}

extension String {
    fileprivate func replacingOccurrences(of target: String, with replacement: String) -> String {
        split(separator: Character(target), omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
