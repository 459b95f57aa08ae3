import AirlockPolicy
import Foundation
import Testing

@testable import AirlockRedaction

/// A host name or e-mail domain written with the ideographic full stop `。` (or its halfwidth form `｡`) between labels
/// is the same name to whoever reads it: UTS #46, which browsers (WHATWG URL), Python's idna and curl with libidn2
/// apply, maps both to `.`. Matching reads them as `.`, as it reads the fullwidth `．` by NFKC.
@Suite struct IdeographicFullStopTests {
    static let policy = makePolicy(
        terms: [TermRule(id: "codenames", label: "CODENAME", action: .redact, values: ["Nightingale"])],
        detectors: [
            DetectorRule(kind: .email, action: .redact, domains: ["lab.example.com"]),
            DetectorRule(kind: .url, action: .redact, hosts: [HostPattern("*.corp.example.com")!]),
        ]
    )

    @Test(arguments: ["\u{3002}", "\u{FF61}", "\u{FF0E}"])
    func hostsAndDomainsSpelledWithAnotherFullStopAreFound(stop: String) throws {
        for redactor in [try makeRedactor(Self.policy), try makeRedactor(Self.policy, stringKernel: false)] {
            let text = "see https://wiki.corp\(stop)example.com/x and ask jane@lab\(stop)example.com"
            let json = #"{"note": "\#(text)"}"#
            for (body, type) in [(text, "text/plain"), (json, "application/json")] {
                let left = try #require(forwarded(redactor, body, type: type), "\(type)")
                #expect(!left.contains("corp\(stop)example"), "\(type): \(left)")
                #expect(!left.contains("lab\(stop)example"), "\(type): \(left)")
            }
        }
        // The sentence period of CJK text after a term: still a word boundary.
        let sentence = forwarded(try makeRedactor(Self.policy), "Nightingale\u{3002}", type: "text/plain")
        #expect(sentence == "[REDACTED:CODENAME]\u{3002}")
    }
}
