import Testing

@testable import AirlockAudit

/// A record's bytes are what the chain hashes: strings must be escaped exactly as the log has always written them
/// (`\b`, `\f`, `\n`, `\r`, `\t` by name, other controls as `\u00XX`, everything else as is), or logs written before
/// and after a change would disagree on a record's canonical form. The expected line and hash were computed outside
/// Swift (Python's hashlib) from that rule.
@Suite struct LineEncodingTests {
    @Test func everyControlCharacterQuoteAndSeparatorIsWrittenAsTheLogAlwaysHas() {
        var line = JSONLine()
        line.string("s", String(decoding: Array(0..<0x20) + Array(#""\/"#.utf8), as: UTF8.self) + "\u{2028}é")
        let sealed = ChainLine.seal(line, prev: ChainLine.genesisDigest)
        let escaped =
            #"\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\b\t\n\u000b\f\r\u000e\u000f\u0010\u0011\u0012"#
            + #"\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001a\u001b\u001c\u001d\u001e\u001f\"\\/"# + "\u{2028}é"
        let hash = "e7a4fc542d6d6791171d90a4756f5ebb3081bc116664990d6168642803c4ca7d"
        let expected = #"{"s":""# + escaped + #"","prev":""# + ChainLine.genesis + #"","hash":""# + hash + "\"}\n"
        #expect(String(decoding: sealed.line, as: UTF8.self) == expected)
        #expect(sealed.hash.hex == hash)
    }
}
