import AirlockPolicy
import Foundation
import Testing

@testable import AirlockRedaction

/// A JSON document inside a string whose first characters are escapes (`"\n{\"internal_notes\":...}"`,
/// `"\u007b..."`, `"\t[{...}]"`) is still redacted as JSON, so `fields` rules apply inside it, by the C walk and by
/// the Swift reference alike.
@Suite struct JSONNestedLeadTests {
    static let policy = makePolicy(
        terms: [codenames],
        fields: [FieldRule(path: try! JSONPath(parsing: "$..internal_notes"), action: .drop)]
    )

    static let documents: [String] = [
        #"{"row_data":"\n{\"internal_notes\":\"lab secret\",\"t\":\"x\"}"}"#,
        #"{"row_data":"\r\n  {\"internal_notes\":\"lab secret\"}"}"#,
        #"{"row_data":"\t[{\"internal_notes\":\"lab secret\"}]"}"#,
        #"{"row_data":"\n[\n{\"internal_notes\":\"lab secret\"}]"}"#,
        #"{"row_data":"\u007b\"internal_notes\":\"lab secret\"}"}"#,
        #"{"row_data":"\u005b{\"internal_notes\":\"lab secret\"}]"}"#,
        #"{"row_data":"\u0020{\"internal_notes\":\"lab secret\"}"}"#,
        #"["\n{\"a\":{\"internal_notes\":\"lab secret\"}}"]"#,
        #""\n{\"internal_notes\":\"lab secret\"}""#,
    ]

    @Test(arguments: [true, false]) func fieldRulesApplyInsideNestedDocumentsThatStartWithAnEscape(kernel: Bool) throws
    {
        let redactor = try makeRedactor(Self.policy, stringKernel: kernel)
        for document in Self.documents {
            let outcome = redacted(redactor, document)
            guard case .forward(let body, let findings) = outcome else {
                Issue.record("\(document): \(outcome)")
                continue
            }
            let out = String(decoding: body, as: UTF8.self)
            #expect(!out.contains("lab secret"), "\(document) -> \(out)")
            #expect(findings.contains { $0.action == "drop" }, "\(document)")
        }
    }

    /// Strings that start with an escape but hold no JSON document stay text, scanned as before.
    @Test(arguments: [true, false]) func stringsStartingWithAnEscapeThatAreNotJSONStayText(kernel: Bool) throws {
        let redactor = try makeRedactor(Self.policy, stringKernel: kernel)
        for (document, expected) in [
            (#"{"a":"\nNightingale {"}"#, #"{"a":"\n[REDACTED:CODENAME] {"}"#),
            (#"{"a":"\n{ Nightingale"}"#, #"{"a":"\n{ [REDACTED:CODENAME]"}"#),
            (#"{"a":"\u007bNightingale"}"#, #"{"a":"\u007b[REDACTED:CODENAME]"}"#),
            (#"{"a":"\t[1] Nightingale"}"#, #"{"a":"\t[1] [REDACTED:CODENAME]"}"#),
            (#"{"a":"\"Nightingale\""}"#, #"{"a":"\"[REDACTED:CODENAME]\""}"#),
        ] {
            #expect(forwarded(redactor, document) == expected, "\(document)")
        }
    }
}
