import AirlockSupport

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
        _ name: StaticString,
        _ values: Values,
        _ build: (inout JSONLine, Values.Element) -> Void
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
        let hash = bytes.withUnsafeBytes { SHA256Digest(hashing: UnsafeRawBufferPointer(rebasing: $0[lineStart...])) }
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

    /// `value` as a JSON string, quotes included; controls escaped by name where JSON has one (`\b`, `\f`).
    static func appendString(_ value: String, to out: inout [UInt8]) {
        JSONString.appendQuoted(value, to: &out, controls: .allNamed)
    }
}
