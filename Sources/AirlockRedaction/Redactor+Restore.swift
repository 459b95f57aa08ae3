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
        guard let restored = restoreTokens(plain, vendor: vendors.state(for: vendor), escaping: escaping) else {
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
                        value = OpenSSLCrypto.sivOpen(key: vendor.keys.sivKey, associatedData: label, sealed: sealed)
                    }
                    guard let value else { continue }
                    out.append(contentsOf: UnsafeBufferPointer(start: p + cursor, count: labelStart - cursor))
                    switch escaping {
                    case .none: out += value
                    case .json: out += JSONRedactor.encodeString(value)
                    case .form: out += FormRedactor.encode(value)
                    }
                    cursor = payloadEnd
                    k = payloadEnd
                    changed = true
                    break
                }
            }
            if changed { out.append(contentsOf: UnsafeBufferPointer(start: p + cursor, count: n - cursor)) }
        }
        return changed ? out : nil
    }

    @inline(__always)
    static func isTokenByte(_ b: UInt8) -> Bool {
        TermVariants.isAlnum(b) || b == UInt8(ascii: "_")
    }
}
