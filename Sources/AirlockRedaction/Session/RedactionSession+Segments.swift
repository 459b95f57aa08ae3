import AirlockPolicy
import AirlockSupport
import Foundation

extension RedactionSession {
    // MARK: Segments

    /// Redacts the text `buffer[lo..<hi]`. `hits` are the single-pass hits inside it (already computed over a larger
    /// buffer), or `nil` to scan the segment now. `zeroWidth` says the segment contains characters matching does not
    /// read as written (`UTF8Text.foldedLength`: invisible ones, compatibility forms): the segment is then scanned as
    /// `NormalizedText(foldingForMatching:)` and each match mapped back to whole original characters, so every byte
    /// outside a match leaves as it came.
    ///
    /// Returns the new bytes for the segment, or `nil` when nothing changes. Throws `.blocked` when a block rule
    /// matches.
    func redactSegment(
        _ p: UnsafePointer<UInt8>,
        lo: Int,
        hi: Int,
        hits: ArraySlice<Hit>?,
        zeroWidth: Bool,
        path: () -> String?
    ) throws(Stop) -> [UInt8]? {
        guard rules.fast != nil, hi > lo else { return nil }
        if PercentEscapes.containsEscape(p, lo, hi) {
            return try redactPercentEncoded(p, lo: lo, hi: hi, hits: hits, zeroWidth: zeroWidth, path: path)
        }
        let matches = try segmentMatches(p, lo: lo, hi: hi, hits: hits, zeroWidth: zeroWidth)
        if matches.isEmpty { return nil }
        return try write(matches, p, lo: lo, hi: hi, path: path) { match in
            MatchedText(
                value: UnsafeBufferPointer(start: p + match.start, count: match.end - match.start),
                zeroWidth: zeroWidth,
                percentEncoded: false
            )
        }
    }

    /// The resolved matches of the text `p[lo..<hi]` (see `redactSegment`), in its offsets.
    func segmentMatches(
        _ p: UnsafePointer<UInt8>,
        lo: Int,
        hi: Int,
        hits: ArraySlice<Hit>?,
        zeroWidth: Bool
    ) throws(Stop) -> [Match] {
        if credentialValue, let credential = credentialMatch(p, lo: lo, hi: hi) {
            credentialValue = false
            defer { credentialValue = true }
            let others = try segmentMatches(p, lo: lo, hi: hi, hits: hits, zeroWidth: zeroWidth)
            return Self.resolveOverlaps(others + [credential], rules: rules.rules)
        }
        var matches: [Match]
        if zeroWidth {
            let normalized = NormalizedText(foldingForMatching: UnsafeBufferPointer(start: p + lo, count: hi - lo))
            matches = try normalized.bytes.withUnsafeBufferPointer { (nb) throws(Stop) -> [Match] in
                let hits = try scan(nb, base: 0)
                if hits.isEmpty { return [] }
                return try resolve(nb.baseAddress!, lo: 0, hi: nb.count, hits: hits[...])
            }
            for i in matches.indices {
                let range = normalized.originalRange(matches[i].start, matches[i].end)
                matches[i].start = lo + range.lowerBound
                matches[i].end = lo + range.upperBound
            }
        } else {
            let segmentHits: ArraySlice<Hit>
            if let hits {
                segmentHits = hits
            } else {
                segmentHits = try scan(UnsafeBufferPointer(start: p + lo, count: hi - lo), base: lo)[...]
            }
            if segmentHits.isEmpty { return [] }
            matches = try resolve(p, lo: lo, hi: hi, hits: segmentHits)
        }
        return matches
    }

    /// What a match replaces: the text it matched as a reader sees it (`zeroWidth`: holding invisible characters),
    /// and whether it came from percent-escapes, so its replacement is percent-encoded too.
    struct MatchedText {
        var value: UnsafeBufferPointer<UInt8>
        var zeroWidth: Bool
        var percentEncoded: Bool
    }

    /// Records `matches` (sorted, disjoint, in `p[lo..<hi]`) and returns the segment with each replaced. Throws
    /// `.blocked` when one is a block rule's.
    func write(
        _ matches: [Match],
        _ p: UnsafePointer<UInt8>,
        lo: Int,
        hi: Int,
        path: () -> String?,
        matched: (Match) -> MatchedText
    ) throws(Stop) -> [UInt8] {
        // Names freed by the replacements around them are matches too (`RedactionSession+GluedMatches`).
        let matches = try closingGluedMatches(matches, p, lo: lo, hi: hi)
        // Built once, and only when a finding takes it.
        var built: String?? = nil
        func place() -> String? {
            if let built { return built }
            let made = path()
            built = .some(made)
            return made
        }
        for match in matches where rules.rules[Int(match.rule)].action == .block {
            let rule = rules.rules[Int(match.rule)]
            let place = place()
            record(rule: rule.id, action: .block, path: place, value: matched(match).value)
            throw .blocked(
                rule: rule.id,
                reason: "rule \(rule.id) (\(rule.label)) matched\(place.map { " at " + $0 } ?? "")"
            )
        }
        var out = [UInt8]()
        out.reserveCapacity(hi - lo + matches.count * 16)
        var cursor = lo
        for match in matches {
            out.append(contentsOf: UnsafeBufferPointer(start: p + cursor, count: match.start - cursor))
            let text = matched(match)
            let exactTerm =
                match.value >= 0 && !text.zeroWidth
                && Self.spells(rules.rules[Int(match.rule)].values[Int(match.value)], text.value)
            record(
                rule: rules.rules[Int(match.rule)].id,
                action: rules.rules[Int(match.rule)].action,
                path: place(),
                value: text.value,
                term: exactTerm ? (Int(match.rule), Int(match.value)) : nil
            )
            let replaced = replacement(
                rule: Int(match.rule),
                value: match.value,
                matched: text.value,
                zeroWidth: text.zeroWidth
            )
            out.append(contentsOf: text.percentEncoded ? PercentEscapes.encode(replaced, spaceAsPlus: false) : replaced)
            cursor = match.end
        }
        out.append(contentsOf: UnsafeBufferPointer(start: p + cursor, count: hi - cursor))
        return out
    }

    /// Whether `bytes` are exactly the UTF-8 of `value` (compared in place, without copying either).
    @inline(__always)
    static func spells(_ value: String, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard value.utf8.count == bytes.count else { return false }
        if let equal = value.utf8.withContiguousStorageIfAvailable({ stored in
            bytes.isEmpty || memcmp(stored.baseAddress!, bytes.baseAddress!, bytes.count) == 0
        }) {
            return equal
        }
        return value.utf8.elementsEqual(bytes)
    }

    /// The bytes that replace a match.
    func replacement(rule index: Int, value: Int32, matched: UnsafeBufferPointer<UInt8>, zeroWidth: Bool) -> [UInt8] {
        let action = rules.rules[index].action
        switch action {
        case .redact, .block, .drop:
            // The same marker whatever matched: nothing of the match is needed.
            return rules.redactedMarkers[index]
        case .mask, .hash, .pseudonymize:
            break
        }
        // The common case, read in place: a dictionary term written exactly as the policy spells it.
        if action == .pseudonymize, value >= 0, !zeroWidth, Self.spells(rules.rules[index].values[Int(value)], matched)
        {
            return vendor.termTokenBytes[index][Int(value)]
        }
        let rule = rules.rules[index]
        // What the lab wrote, as a reader sees it (invisible characters dropped).
        let spelling = zeroWidth ? NormalizedText(removingZeroWidthFrom: matched).bytes : Array(matched)
        let canonical: [UInt8]
        if value >= 0 {
            let dictionary = Array(rule.values[Int(value)].utf8)
            // A dictionary term written exactly as the policy spells it gets the dictionary token (`CODENAME_7QK2M`);
            // any other spelling (`nightingale`, `Nightingale-v3`, `PROJECT_FALCON`) gets a sealed token of that
            // spelling, so restoring gives back exactly what the lab wrote (identifiers like `nightingale-eval-0001`
            // survive the round trip) and one spelling always gets one token. Hashes of all spellings agree (the
            // dictionary value); a mask is as long as what was written.
            if rule.action == .pseudonymize && spelling == dictionary {
                return vendor.termTokenBytes[index][Int(value)]
            }
            canonical = rule.action == .hash ? dictionary : spelling
        } else {
            canonical = spelling
        }
        var key = canonical
        key.append(contentsOf: withUnsafeBytes(of: Int32(index).littleEndian, Array.init))
        if let cached = replacementCache[ByteKey(key)] { return cached }
        let made = Self.replacement(
            action: rule.action,
            ruleID: rule.id,
            label: rule.label,
            canonical: canonical,
            scalars: UTF8Text.scalarCount(canonical),
            keys: vendor.keys,
            asAddress: rules.pseudonyms.emails == .address && rule.detector?.kind == .email
        )
        replacementCache[ByteKey(key)] = made
        return made
    }

    /// The replacement for `canonical` under an action, for anything that is not a dictionary term's pseudonym.
    /// `asAddress`: a pseudonym is an address (``EmailPseudonym``) where it fits one.
    static func replacement(
        action: Action,
        ruleID: String,
        label: String,
        canonical: [UInt8],
        scalars: Int,
        keys: VendorKeys,
        asAddress: Bool = false
    ) -> [UInt8] {
        switch action {
        case .redact, .block, .drop:
            return Array("[REDACTED:\(label)]".utf8)
        case .mask:
            return Array(repeating: "•", count: scalars).joined().utf8.map { $0 }
        case .hash:
            let mac = keys.tokenMAC.authenticationCode(Array("hash|\(ruleID)|".utf8) + canonical)
            return Array((label + "_" + Hex.encode(mac.prefix(6))).utf8)
        case .pseudonymize:
            // OpenSSL's AES-SIV refuses an empty plaintext (a `fields` rule on `""`), and there is nothing to hide.
            guard !canonical.isEmpty else { return [] }
            let sealed = OpenSSLCrypto.sivSeal(
                key: keys.sivKey,
                associatedData: Array(label.utf8),
                plaintext: canonical
            )
            // `pseudonyms.emails: address`: an address in place of an address, when it fits one.
            if asAddress, let address = EmailPseudonym.address(label: label, sealed: sealed) { return address }
            return Array((label + "_").utf8) + Base32.encode(sealed)
        }
    }
}
