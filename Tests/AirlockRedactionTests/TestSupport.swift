import AirlockPolicy
import Foundation
import Testing

@testable import AirlockRedaction

/// A fixed key so token expectations are stable across runs.
let testKeys = PseudonymKeys(secret: Array(repeating: 7, count: 32))

func makePolicy(
    terms: [TermRule] = [],
    patterns: [PatternRule] = [],
    detectors: [DetectorRule] = [],
    fields: [FieldRule] = [],
    allow: [String] = [],
    unknown: UnknownContent = .block
) -> Policy {
    Policy(
        name: "test",
        terms: terms,
        patterns: patterns,
        detectors: detectors,
        fields: fields,
        allow: allow,
        content: ContentRules(unknown: unknown)
    )
}

func makeRedactor(_ policy: Policy) throws -> Redactor {
    try Redactor(policy: policy, keys: testKeys)
}

/// Redacts `text` and returns the forwarded body as a string; records an issue when it was not forwarded.
func forwarded(
    _ redactor: Redactor,
    _ text: String,
    type: String = "application/json",
    vendor: String = "scale",
    sourceLocation: Testing.SourceLocation = #_sourceLocation
) -> String? {
    let outcome = redactor.redact(body: Array(text.utf8), contentType: type, contentEncoding: nil, vendor: vendor)
    guard case .forward(let body, _) = outcome else {
        Issue.record("expected forward, got \(outcome)", sourceLocation: sourceLocation)
        return nil
    }
    return String(decoding: body, as: UTF8.self)
}

/// Whether `text` is valid JSON according to Foundation.
func isValidJSON(_ text: String) -> Bool {
    (try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])) != nil
}

let codenames = TermRule(
    id: "codenames",
    label: "CODENAME",
    action: .redact,
    values: ["Nightingale", "Project Falcon"]
)

extension RedactionOutcome {
    /// The id of the rule that blocked the request, or nil when the outcome is not a block.
    var blockedRule: String? {
        if case .block(let rule, _, _) = self { return rule }
        return nil
    }

    var isUninspectable: Bool {
        if case .uninspectable = self { return true }
        return false
    }
}
