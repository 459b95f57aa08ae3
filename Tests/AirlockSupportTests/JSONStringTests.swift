import AirlockSupport
import Foundation
import Testing

@Suite struct JSONStringTests {
    static func escaped(_ bytes: [UInt8], _ controls: JSONString.ControlEscapes) -> String {
        var out: [UInt8] = []
        JSONString.appendEscaped(bytes, to: &out, controls: controls)
        return String(decoding: out, as: UTF8.self)
    }

    @Test func escapesQuotesBackslashesAndEveryControlCharacter() throws {
        let input: [UInt8] = Array(0..<0x20) + Array(#"a"b\c/"#.utf8) + [0x7F]
        let bodies = Self.escaped(input, .lineBreaksAndTabOnly)
        #expect(bodies.hasPrefix(#"\u0000\u0001"#))
        #expect(bodies.contains(#"\u0007\u0008\t\n\u000b\u000c\r\u000e"#))
        #expect(bodies.hasSuffix(#"\u001fa\"b\\c/"# + "\u{7F}"))
        let audit = Self.escaped(input, .allNamed)
        #expect(audit.contains(#"\u0007\b\t\n\u000b\f\r\u000e"#))
        for text in [bodies, audit] {
            let json = Data(("\"" + text + "\"").utf8)
            let decoded = try JSONSerialization.jsonObject(with: json, options: .fragmentsAllowed)
            #expect((decoded as? String).map { Array($0.utf8) } == input)
        }
    }

    @Test func copiesLineSeparatorsAndOtherTextAsIs() {
        // U+2028 and U+2029 are valid inside JSON strings; making them visible is the reporting layer's job
        // (ReportedText), and the audit chain hashes these exact bytes.
        let text = "caf\u{E9} \u{2028}\u{2029} \u{1F600}"
        #expect(JSONString.quoted(text) == "\"" + text + "\"")
        var out: [UInt8] = Array("k:".utf8)
        JSONString.appendQuoted(#"a"b"#, to: &out, controls: .allNamed)
        #expect(out == Array(#"k:"a\"b""#.utf8))
        #expect(JSONString.quoted("") == #""""#)
    }
}
