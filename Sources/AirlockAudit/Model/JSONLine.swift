/// Builds one record as compact JSON with members in the order they are added.
///
/// This is the canonical form the chain hashes: no whitespace, strings escaped minimally (`"`, `\`, and control
/// characters as `\n`, `\t`, … or `\u00XX`; everything else as raw UTF-8), integers in decimal, milliseconds with
/// exactly three decimals, absent values as `null`. The writer controls every byte, so a verifier hashes the bytes it
/// reads instead of re-encoding parsed values.
struct JSONLine {
    private(set) var bytes: [UInt8]
    private var needsComma = false

    init(capacity: Int = 512) {
        bytes = []
        bytes.reserveCapacity(capacity)
        bytes.append(UInt8(ascii: "{"))
    }

    /// A run of members without braces (`"a":1,"b":2`), to be spliced into a line with ``members(_:)``.
    init(fragmentCapacity: Int) {
        bytes = []
        bytes.reserveCapacity(fragmentCapacity)
    }

    /// Starts a line at the end of `buffer`, taking over its storage (no copy): the writer builds a whole group of
    /// lines in one buffer. ``release(into:)`` hands the storage back.
    init(continuing buffer: inout [UInt8]) {
        bytes = []
        swap(&bytes, &buffer)
        bytes.append(UInt8(ascii: "{"))
    }

    /// Gives the storage back to `buffer` (which must be empty), this line and all before it included.
    mutating func release(into buffer: inout [UInt8]) {
        precondition(buffer.isEmpty, "a line's storage goes back into an empty buffer")
        swap(&bytes, &buffer)
    }

    /// The members of a fragment (``init(fragmentCapacity:)``).
    var fragment: [UInt8] { bytes }

    /// How many bytes the line or fragment holds so far.
    var count: Int { bytes.count }

    /// Appends the members of a fragment made with ``init(fragmentCapacity:)``, as if added one by one here.
    mutating func members(_ fragment: some Collection<UInt8>) {
        guard !fragment.isEmpty else { return }
        if needsComma { bytes.append(UInt8(ascii: ",")) }
        needsComma = true
        bytes.append(contentsOf: fragment)
    }

    /// Member names are literals the writer controls (plain ASCII, nothing to escape): copied as they are.
    private mutating func key(_ name: StaticString) {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
        needsComma = true
        bytes.append(UInt8(ascii: "\""))
        bytes.append(contentsOf: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
    }

    mutating func string(_ name: StaticString, _ value: String?) {
        key(name)
        if let value { JSONLine.appendString(value, to: &bytes) } else { bytes.append(contentsOf: JSONLine.null) }
    }

    mutating func int(_ name: StaticString, _ value: Int?) {
        key(name)
        if let value { bytes.append(contentsOf: String(value).utf8) } else { bytes.append(contentsOf: JSONLine.null) }
    }

    mutating func milliseconds(_ name: StaticString, _ value: Double?) {
        key(name)
        guard let value, value.isFinite, abs(value) < 1e15 else {
            bytes.append(contentsOf: JSONLine.null)
            return
        }
        let thousandths = Int((value * 1000).rounded())
        if thousandths < 0 { bytes.append(UInt8(ascii: "-")) }
        let magnitude = thousandths.magnitude
        bytes.append(contentsOf: String(magnitude / 1000).utf8)
        bytes.append(UInt8(ascii: "."))
        let fraction = String(magnitude % 1000)
        for _ in fraction.utf8.count..<3 { bytes.append(UInt8(ascii: "0")) }
        bytes.append(contentsOf: fraction.utf8)
    }

    mutating func strings(_ name: StaticString, _ values: [String]) {
        key(name)
        bytes.append(UInt8(ascii: "["))
        for (index, value) in values.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            JSONLine.appendString(value, to: &bytes)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    /// A nested object built in place: `build` adds its members to this line.
    mutating func object(_ name: StaticString, _ build: (inout JSONLine) -> Void) {
        key(name)
        bytes.append(UInt8(ascii: "{"))
        needsComma = false
        build(&self)
        bytes.append(UInt8(ascii: "}"))
        needsComma = true
    }

    /// An array of objects built in place, one per element of `values`.
    mutating func objects<Values: Sequence>(
        _ name: StaticString, _ values: Values, _ build: (inout JSONLine, Values.Element) -> Void
    ) {
        key(name)
        bytes.append(UInt8(ascii: "["))
        var first = true
        for value in values {
            if !first { bytes.append(UInt8(ascii: ",")) }
            first = false
            bytes.append(UInt8(ascii: "{"))
            needsComma = false
            build(&self, value)
            bytes.append(UInt8(ascii: "}"))
        }
        bytes.append(UInt8(ascii: "]"))
        needsComma = true
    }

    /// Appends `prev` (always the last member of the canonical form), hashes the canonical form in place — the
    /// bytes from `lineStart` (this line's `{`) closed by `}` — and ends the line with the `hash` member and a
    /// newline. Returns the hash.
    mutating func seal(prev: SHA256Digest, lineStart: Int) -> SHA256Digest {
        key("prev")
        bytes.append(UInt8(ascii: "\""))
        prev.appendHex(to: &bytes)
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: "}"))
        let hash = bytes.withUnsafeBytes { Digest.sha256Value(UnsafeRawBufferPointer(rebasing: $0[lineStart...])) }
        bytes.removeLast()
        bytes.append(contentsOf: ChainLine.hashPrefix)
        hash.appendHex(to: &bytes)
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: "}"))
        bytes.append(UInt8(ascii: "\n"))
        return hash
    }

    /// The object with its closing brace.
    func finished() -> [UInt8] {
        var out = bytes
        out.append(UInt8(ascii: "}"))
        return out
    }

    private static let null: [UInt8] = Array("null".utf8)
    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    static func appendString(_ value: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        // Almost every value needs no escape: copy it whole from the string's own storage.
        var value = value
        let copied = value.withUTF8 { utf8 -> Bool in
            guard !utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) else {
                return false
            }
            out.append(contentsOf: utf8)
            return true
        }
        if copied {
            out.append(UInt8(ascii: "\""))
            return
        }
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x0A: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0x08: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
            case 0x0C: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
            case 0x00..<0x20:
                out.append(contentsOf: Array("\\u00".utf8))
                out.append(hexDigits[Int(byte >> 4)])
                out.append(hexDigits[Int(byte & 0x0F)])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}

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
        guard hashBytes.allSatisfy({ Digest.isLowerHex($0) }) else { return nil }
        var canonical = Array(line[line.startIndex..<suffixStart])
        canonical.append(UInt8(ascii: "}"))
        return (canonical, String(decoding: hashBytes, as: UTF8.self))
    }
}
