import Foundation

/// The pseudonym keyring file: one key a line, `<id> <base64 of 32 bytes>`, the first the current one (new
/// pseudonyms use it; restoration accepts every key listed). Blank lines and lines starting with `#` are ignored.
/// A file of one bare base64 line (what `airlock certs init` wrote before keyrings) is a ring of one key, id
/// `default`.
///
/// Rotating adds a fresh key in front; retiring removes a key, after which the pseudonyms it minted no longer
/// restore. Both are explicit steps (`airlock keys rotate`, `airlock keys retire`), never done by the server.
public struct PseudonymKeyFile: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public var id: String
        public var secret: [UInt8]

        public init(id: String, secret: [UInt8]) {
            self.id = id
            self.secret = secret
        }
    }

    /// The id a bare one-line key file's key gets.
    public static let legacyID = "default"

    /// Current first.
    public var entries: [Entry]

    public init(entries: [Entry]) {
        self.entries = entries
    }

    /// Parses a key file's text; `path` only names it in errors.
    public static func parse(_ text: String, path: String) throws(RedactionError) -> PseudonymKeyFile {
        let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
        let meaningful = lines.filter { !$0.isEmpty && !$0.hasPrefix("#") }
        func malformed(_ why: String) -> RedactionError {
            RedactionError(
                .key,
                "pseudonym key \(path) \(why); it holds one key a line as \"<id> <base64 of \(PseudonymKeys.secretLength) "
                    + "bytes>\" (or a single base64 line); create one with `airlock certs init`"
            )
        }
        if meaningful.count == 1, !meaningful[0].contains(" ") {
            guard let secret = Self.secret(meaningful[0]) else {
                throw malformed("is not \(PseudonymKeys.secretLength) bytes of base64 on one line")
            }
            return PseudonymKeyFile(entries: [Entry(id: Self.legacyID, secret: secret)])
        }
        guard !meaningful.isEmpty else { throw malformed("holds no key") }
        var entries: [Entry] = []
        for line in meaningful {
            let parts = line.split(separator: " ", omittingEmptySubsequences: true)
            guard parts.count == 2, Self.isID(parts[0]), let secret = Self.secret(String(parts[1])) else {
                throw malformed("has a line that is not \"<id> <base64>\" (ids: letters, digits, . _ -)")
            }
            guard !entries.contains(where: { $0.id == parts[0] }) else {
                throw malformed("lists the key id \"\(parts[0])\" twice")
            }
            entries.append(Entry(id: String(parts[0]), secret: secret))
        }
        return PseudonymKeyFile(entries: entries)
    }

    /// The file's text: a comment, then one `<id> <base64>` line per key, current first.
    public func render() -> String {
        "# Airlock pseudonym keyring: the first key is current; the others still restore their pseudonyms.\n"
            + self.entries.map { "\($0.id) \(Data($0.secret).base64EncodedString())\n" }.joined()
    }

    /// Puts a fresh random key with `id` in front: it mints every new pseudonym from now on.
    public mutating func rotate(newID id: String) throws(RedactionError) {
        guard Self.isID(id[...]) else {
            throw RedactionError(.key, "key id \"\(id)\" must be 1-64 letters, digits, . _ or -")
        }
        guard !self.entries.contains(where: { $0.id == id }) else {
            throw RedactionError(.key, "the keyring already has a key \"\(id)\"")
        }
        self.entries.insert(Entry(id: id, secret: OpenSSLCrypto.randomBytes(PseudonymKeys.secretLength)), at: 0)
    }

    /// Removes the key `id`: the pseudonyms it minted no longer restore. The current key cannot be retired.
    public mutating func retire(id: String) throws(RedactionError) {
        guard let index = self.entries.firstIndex(where: { $0.id == id }) else {
            throw RedactionError(.key, "the keyring has no key \"\(id)\" (its keys: \(self.entries.map(\.id)))")
        }
        guard index != 0 else {
            throw RedactionError(.key, "\"\(id)\" is the current key; rotate to a new key before retiring it")
        }
        self.entries.remove(at: index)
    }

    private static func secret(_ text: String) -> [UInt8]? {
        guard let decoded = Data(base64Encoded: text), decoded.count == PseudonymKeys.secretLength else { return nil }
        return [UInt8](decoded)
    }

    private static func isID(_ text: Substring) -> Bool {
        !text.isEmpty && text.utf8.count <= 64
            && text.utf8.allSatisfy { byte in
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                    UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
                    true
                default: false
                }
            }
    }
}
