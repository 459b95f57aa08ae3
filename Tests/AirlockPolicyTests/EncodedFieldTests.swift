import Foundation
import Testing

@testable import AirlockPolicy

/// `fields` rules with `encoding: base64`: loaded into `encodedFields`, and every misuse pointed at by line:column.
@Suite("Encoded fields")
struct EncodedFieldTests {
    @Test("A fields rule with encoding: base64 declares the field base64, with no action")
    func loads() throws {
        let fixture = try PolicyFixture([
            "policy.yaml": """
            version: 1
            name: test
            fields:
              - {path: $..run_id, action: hash}
              - path: $..screenshot
                encoding: base64
              - {id: row-image, path: "$.rows[*].image", encoding: base64}
            """
        ])
        let policy = try #require(fixture.policy())
        #expect(policy.fields.map(\.id) == ["$..run_id"])
        #expect(policy.encodedFields.map(\.id) == ["$..screenshot", "row-image"])
        #expect(policy.encodedFields.map(\.encoding) == [.base64, .base64])
        #expect(policy.encodedFields.first?.path.segments == [.descendant("screenshot")])
        #expect(policy.encodedFields.first?.location.line == 5)
        #expect(PolicyCheck.summary(path: "p", policy: policy).hasSuffix(", 3 fields)"))
    }

    @Test("An action or label beside encoding, an unknown encoding, a duplicate id: each at its line:column")
    func diagnostics() throws {
        let fixture = try PolicyFixture([
            "policy.yaml": """
            version: 1
            name: test
            fields:
              - {path: $..a, encoding: base64, action: redact}
              - {path: $..b, encoding: base46}
              - {path: $..c, label: C, encoding: base64}
              - {path: $..a, encoding: base64}
              - {path: $..d, encoding: [base64]}
            """
        ])
        #expect(
            fixture.diagnostics() == [
                "policy.yaml:4:36: a fields rule with 'encoding' takes no 'action': the decoded value is inspected by its type",
                "policy.yaml:5:28: unknown encoding 'base46'; did you mean 'base64'? (expected one of: base64)",
                "policy.yaml:6:18: a fields rule with 'encoding' takes no 'label': the decoded value is inspected by its type",
                "policy.yaml:7:5: duplicate rule id '$..a' (first defined at policy.yaml:4:5)",
                "policy.yaml:8:28: 'encoding' must be a string, found a list",
            ]
        )
    }
}
