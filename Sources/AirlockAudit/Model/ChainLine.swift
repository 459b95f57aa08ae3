import AirlockSupport

/// The chain's hash member, always last on a line: `,"hash":"<64 hex>"}`.
enum ChainLine {
    static let hashPrefix: [UInt8] = Array(#","hash":""#.utf8)
    /// `,"hash":"` + 64 hex digits + `"}`
    static let suffixLength = hashPrefix.count + 64 + 2
    static let genesis = String(repeating: "0", count: 64)
    /// The `prev` of the first record: all zeros (``genesis``).
    static let genesisDigest = SHA256Digest.zero

    /// Appends `prev`, hashes the canonical form (the record without its `hash` member) and returns the full line,
    /// newline included, with the hash.
    static func seal(_ record: JSONLine, prev: SHA256Digest) -> (line: [UInt8], hash: SHA256Digest) {
        var record = record
        let hash = record.seal(prev: prev, lineStart: 0)
        return (record.bytes, hash)
    }

    /// Splits a line (without its newline) into its canonical form and claimed hash; nil if it has no hash suffix.
    static func unseal(_ line: ArraySlice<UInt8>) -> (canonical: [UInt8], hash: String)? {
        guard line.count > suffixLength + 1, line.first == UInt8(ascii: "{") else { return nil }
        let suffixStart = line.endIndex - suffixLength
        guard line[suffixStart..<(suffixStart + hashPrefix.count)].elementsEqual(hashPrefix),
            line[line.endIndex - 2] == UInt8(ascii: "\""), line[line.endIndex - 1] == UInt8(ascii: "}")
        else { return nil }
        let hashBytes = line[(suffixStart + hashPrefix.count)..<(line.endIndex - 2)]
        guard hashBytes.allSatisfy({ Hex.isLowercaseDigit($0) }) else { return nil }
        var canonical = Array(line[line.startIndex..<suffixStart])
        canonical.append(UInt8(ascii: "}"))
        return (canonical, String(decoding: hashBytes, as: UTF8.self))
    }
}
