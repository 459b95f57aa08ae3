import AirlockPolicy
import Foundation
import Testing

@testable import AirlockRedaction

/// The `Redactor` keeps the path steps of names no rule matches in, for every request (`UnmatchedNames`); a name
/// with a match is named per request, as that request's vendor received it.
@Suite struct UnmatchedNamesTests {
    static let policy = makePolicy(
        terms: [TermRule(id: "codenames", label: "CODENAME", action: .pseudonymize, values: ["Nightingale"])],
        detectors: [DetectorRule(kind: .email, action: .redact)]
    )

    @Test func aNameWithAMatchIsNamedAsEachVendorReceivedIt() throws {
        let redactor = try makeRedactor(Self.policy)
        let body = #"{"Nightingale": {"note": "mail jane@lab.example.com"}}"#
        var paths: [String: String] = [:]
        for vendor in ["scale", "labelbox", "scale"] {
            let left = try #require(forwarded(redactor, body, vendor: vendor))
            let object = try #require(try JSONSerialization.jsonObject(with: Data(left.utf8)) as? [String: Any])
            let token = try #require(object.keys.first)
            let email = try #require(redacted(redactor, body, vendor: vendor).findings.first { $0.rule == "email" })
            #expect(email.paths == ["$.\(token).note"], "\(vendor)")
            if let earlier = paths[vendor] { #expect(earlier == token) }
            paths[vendor] = token
        }
        #expect(paths["scale"] != paths["labelbox"], "two vendors get unlinkable tokens")
    }

    @Test func aNameWithoutAMatchIsKeptForEveryRequest() throws {
        let redactor = try makeRedactor(Self.policy)
        let body = #"{"tasks": [{"note": "mail jane@lab.example.com"}]}"#
        for vendor in ["scale", "labelbox"] {
            let email = try #require(redacted(redactor, body, vendor: vendor).findings.first { $0.rule == "email" })
            #expect(email.paths == ["$.tasks[0].note"])
        }
        let kept = redactor.unmatchedNames
        #expect(kept.step(for: ByteKey(Array("tasks".utf8))) == Array(".tasks".utf8))
        #expect(kept.step(for: ByteKey(Array("Nightingale".utf8))) == nil)
        _ = forwarded(redactor, #"{"Nightingale": {"note": "jane@lab.example.com"}}"#)
        #expect(kept.step(for: ByteKey(Array("Nightingale".utf8))) == nil, "a name with a match is not kept")
    }

    /// A key is content and can be as long as a body: the cache, which lives as long as the policy, holds only short
    /// names, so a lab's long keys (a document's text used as a key) cannot pile up in memory request after request.
    @Test func aLongNameIsNotKept() throws {
        let redactor = try makeRedactor(Self.policy)
        let long = String(repeating: "lorem ipsum ", count: 10_000)
        let email = try #require(
            redacted(redactor, #"{"\#(long)": {"note": "mail jane@lab.example.com"}}"#).findings.first {
                $0.rule == "email"
            }
        )
        #expect(email.paths.first?.hasPrefix("$['lorem ipsum ") == true)
        #expect(redactor.unmatchedNames.step(for: ByteKey(Array(long.utf8))) == nil)
    }
}
