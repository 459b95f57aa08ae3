import Foundation

extension Redactor {
    /// Replaces the pseudonyms this policy produced for `vendor` in a response body with the original values.
    ///
    /// Dictionary tokens (`CODENAME_7QK2M`) map back through the policy's term list; tokens of patterns, detectors
    /// and fields carry their value sealed with AES-SIV under the vendor's key, so any replica restores them without
    /// state. Tokens minted for another vendor, or altered, do not verify and are left as they are. Restored values
    /// are escaped for the body's format (JSON string escapes, form percent-encoding).
    ///
    /// - Throws: `.uninspectable` when the body's Content-Encoding cannot be decoded.
    public func restore(
        body: [UInt8],
        contentType: String?,
        contentEncoding: String?,
        vendor: String
    )
        throws(RedactionError) -> [UInt8]
    {
        guard !restoreLabels.isEmpty, !body.isEmpty else { return body }
        guard let coding = ContentCoding(header: contentEncoding) else {
            throw RedactionError(.uninspectable, "Content-Encoding \(contentEncoding ?? "") cannot be decoded")
        }
        let plain: [UInt8]
        if coding == .identity {
            plain = body
        } else {
            do {
                plain = try body.withUnsafeBufferPointer { (buffer) throws(Compression.Failure) -> [UInt8] in
                    try Compression.decompress(buffer, coding: coding, limits: responseLimits)
                }
            } catch {
                throw RedactionError(.uninspectable, error.reason)
            }
        }
        let escaping: RestoreEscaping
        switch contentType.map(MediaType.init)?.format {
        case .json?, .jsonLines?: escaping = .json
        case .form?: escaping = .form
        default: escaping = .none
        }
        let state = vendors.state(for: vendor)
        let addressesRestored = emailLabels.isEmpty ? nil : restoreAddresses(plain, vendor: state, escaping: escaping)
        guard
            let restored = restoreTokens(addressesRestored ?? plain, vendor: state, escaping: escaping)
                ?? addressesRestored
        else {
            return body
        }
        return Compression.compress(restored, coding: coding)
    }

    enum RestoreEscaping {
        case none
        case json
        case form
    }

    /// `nil` when no token was found.
    func restoreTokens(_ body: [UInt8], vendor: VendorState, escaping: RestoreEscaping) -> [UInt8]? {
        var out = [UInt8]()
        var cursor = 0
        var changed = false
        body.withUnsafeBufferPointer { buffer in
            let p = buffer.baseAddress!
            let n = buffer.count
            var k = 0
            while k < n {
                guard let hit = memchr(p + k, Int32(UInt8(ascii: "_")), n - k) else { break }
                let underscore = UnsafePointer<UInt8>(hit.assumingMemoryBound(to: UInt8.self)) - p
                k = underscore + 1
                var payloadEnd = underscore + 1
                while payloadEnd < n, Base32.isAlphabet(p[payloadEnd]) { payloadEnd += 1 }
                let payloadLength = payloadEnd - underscore - 1
                guard payloadLength >= 5, payloadEnd == n || !Self.isTokenByte(p[payloadEnd]) else { continue }
                for (label, kind) in restoreLabels {
                    let labelStart = underscore - label.count
                    guard labelStart >= cursor, labelStart >= 0,
                        labelStart == 0 || !Self.isTokenByte(p[labelStart - 1]),
                        (0..<label.count).allSatisfy({ p[labelStart + $0] == label[$0] })
                    else { continue }
                    let payload = UnsafeBufferPointer(start: p + underscore + 1, count: payloadLength)
                    var value: [UInt8]?
                    if kind != .sealed, payloadLength <= 8 {
                        let token = String(
                            decoding: UnsafeBufferPointer(start: p + labelStart, count: payloadEnd - labelStart),
                            as: UTF8.self
                        )
                        value = vendor.termValues[token].map { Array($0.utf8) }
                    }
                    if value == nil, kind != .term, payloadLength >= 26, let sealed = Base32.decode(payload) {
                        value = Self.open(sealed, label: label, vendor: vendor)
                    }
                    guard let value else { continue }
                    out.append(contentsOf: UnsafeBufferPointer(start: p + cursor, count: labelStart - cursor))
                    Self.append(value, escaping: escaping, to: &out)
                    cursor = payloadEnd
                    k = payloadEnd
                    changed = true
                    break
                }
                // A capped term token (`_7QK2M`, `pseudonyms.length: capped`): on its own (no letter, digit or `_`
                // either side) and one the vendor's keys minted; any other `_` and base32 run is ordinary text.
                if cappedTerms, k == underscore + 1, underscore >= cursor, payloadLength <= 8,
                    underscore == 0 || !Self.isTokenByte(p[underscore - 1])
                {
                    let token = String(
                        decoding: UnsafeBufferPointer(start: p + underscore, count: payloadEnd - underscore),
                        as: UTF8.self
                    )
                    if let value = vendor.termValues[token] {
                        out.append(contentsOf: UnsafeBufferPointer(start: p + cursor, count: underscore - cursor))
                        Self.append(Array(value.utf8), escaping: escaping, to: &out)
                        cursor = payloadEnd
                        k = payloadEnd
                        changed = true
                    }
                }
            }
            if changed { out.append(contentsOf: UnsafeBufferPointer(start: p + cursor, count: n - cursor)) }
        }
        return changed ? out : nil
    }

    /// Opens a sealed token with each of the vendor's keys, current first.
    static func open(_ sealed: [UInt8], label: [UInt8], vendor: VendorState) -> [UInt8]? {
        for keys in vendor.restoreKeys {
            if let value = OpenSSLCrypto.sivOpen(key: keys.sivKey, associatedData: label, sealed: sealed) {
                return value
            }
        }
        return nil
    }

    static func append(_ value: [UInt8], escaping: RestoreEscaping, to out: inout [UInt8]) {
        switch escaping {
        case .none: out += value
        case .json: out += JSONRedactor.encodeString(value)
        case .form: out += FormRedactor.encode(value)
        }
    }

    /// Address pseudonyms (`email-…@….pseudonym.invalid`, ``EmailPseudonym``) replaced by their values; `nil` when
    /// none was found.
    func restoreAddresses(_ body: [UInt8], vendor: VendorState, escaping: RestoreEscaping) -> [UInt8]? {
        let domain = EmailPseudonym.domain
        var out = [UInt8]()
        var cursor = 0
        body.withUnsafeBufferPointer { buffer in
            let p = buffer.baseAddress!
            let n = buffer.count
            var k = 0
            while k + domain.count <= n {
                defer { k += 1 }
                guard Self.lower(p[k]) == domain[0],
                    (0..<domain.count).allSatisfy({ Self.lower(p[k + $0]) == domain[$0] }),
                    k + domain.count == n || !Self.isTokenByte(p[k + domain.count]),
                    let found = EmailPseudonym.parse(p, domainStart: k, floor: cursor),
                    let label = emailLabels[found.label],
                    let value = Self.open(found.sealed, label: label, vendor: vendor)
                else { continue }
                out.append(contentsOf: UnsafeBufferPointer(start: p + cursor, count: found.start - cursor))
                Self.append(value, escaping: escaping, to: &out)
                cursor = k + domain.count
                k = cursor - 1
            }
            if cursor > 0 { out.append(contentsOf: UnsafeBufferPointer(start: p + cursor, count: n - cursor)) }
        }
        return cursor > 0 ? out : nil
    }

    @inline(__always)
    static func lower(_ b: UInt8) -> UInt8 {
        b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z") ? b | 0x20 : b
    }

    @inline(__always)
    static func isTokenByte(_ b: UInt8) -> Bool {
        TermVariants.isAlnum(b) || b == UInt8(ascii: "_")
    }
}
