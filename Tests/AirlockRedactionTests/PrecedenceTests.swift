import AirlockPolicy
import Foundation
import Testing

@testable import AirlockRedaction

/// Overlaps resolve block > redact > hash > pseudonymize > mask (Policies/README.md), whatever the positions and
/// lengths: here the lower-ranked rule's match starts first and is longer, so neither leftmost-first nor
/// longest-first would pick the higher-ranked one; only precedence does. The winner covers the whole overlap: no
/// part of what the weaker rule matched leaves in clear.
@Suite struct PrecedenceTests {
    static let ranked: [Action] = [.block, .redact, .hash, .pseudonymize, .mask]

    static func redactor(high: Action, low: Action) throws -> Redactor {
        try makeRedactor(
            makePolicy(terms: [
                TermRule(id: "low", label: "LOW", action: low, values: ["Project Falcon"]),
                TermRule(id: "high", label: "HIGH", action: high, values: ["Falcon"]),
            ])
        )
    }

    /// What `action` leaves in place of `term` for rule `label`: its placeholder's shape.
    static func matchesShape(_ replacement: Substring, _ action: Action, label: String) -> Bool {
        let rest = replacement.dropFirst(label.count + 1)
        switch action {
        case .redact: return replacement == "[REDACTED:\(label)]"
        case .hash: return replacement.hasPrefix(label + "_") && rest.count == 12 && rest.allSatisfy(\.isHexDigit)
        case .pseudonymize:
            return replacement.hasPrefix(label + "_") && !rest.isEmpty
                && rest.allSatisfy { $0.isUppercase || $0.isNumber }
        case .mask: return replacement.allSatisfy { $0 == "•" }
        case .block, .drop: return false
        }
    }

    static let input = #"{"t":"see Project Falcon now"}"#

    @Test func theHigherRankedShorterLaterMatchWins() throws {
        for (rank, high) in Self.ranked.enumerated() {
            for low in Self.ranked[(rank + 1)...] {
                let outcome = redacted(try Self.redactor(high: high, low: low), Self.input)
                if high == .block {
                    #expect(outcome.blockedRule == "high", "\(high) > \(low): \(outcome)")
                    continue
                }
                guard case .forward(let body, let findings) = outcome else {
                    Issue.record("\(high) > \(low): \(outcome)")
                    continue
                }
                let text = String(decoding: body, as: UTF8.self)
                // "Project Falcon" (the weaker rule's match) is replaced whole, by the stronger rule's replacement.
                let prefix = #"{"t":"see "#
                let suffix = #" now"}"#
                #expect(text.hasPrefix(prefix) && text.hasSuffix(suffix), "\(high) > \(low): \(text)")
                let replacement = text.dropFirst(prefix.count).dropLast(suffix.count)
                #expect(Self.matchesShape(replacement, high, label: "HIGH"), "\(high) > \(low): \(text)")
                #expect(findings.map(\.rule) == ["high"], "\(high) > \(low): \(findings)")
            }
        }
    }

    @Test func theHigherRankedLongerEarlierMatchWins() throws {
        for (rank, high) in Self.ranked.enumerated() {
            for low in Self.ranked[(rank + 1)...] {
                // Swapped: the higher-ranked rule now has the longer, earlier match.
                let outcome = redacted(try Self.redactor(high: low, low: high), Self.input)
                if high == .block {
                    #expect(outcome.blockedRule == "low", "\(high) > \(low): \(outcome)")
                    continue
                }
                guard case .forward(let body, let findings) = outcome else {
                    Issue.record("\(high) > \(low): \(outcome)")
                    continue
                }
                let text = String(decoding: body, as: UTF8.self)
                let replacement = text.dropFirst(#"{"t":"see "#.count).dropLast(#" now"}"#.count)
                #expect(Self.matchesShape(replacement, high, label: "LOW"), "\(high) > \(low): \(text)")
                #expect(findings.map(\.rule) == ["low"], "\(high) > \(low): \(findings)")
            }
        }
    }

    /// Found by the fuzz-form target with Policies/lab.yaml: a term's variant (`Skylark-10`, a codename with a
    /// version) overlapped by a stronger rule's match (an internal IP address) left the rest of the term in clear
    /// (`Skylark-[REDACTED:IP]`).
    @Test func aWeakerMatchOverlappedByAStrongerOneLeavesNothingInClear() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let policy = try PolicyLoader.load(path: root.appendingPathComponent("Policies/lab.yaml").path)
        let redactor = try makeRedactor(policy)
        for body in [#"{"m":"Skylark-10.1.2.3"}"#, #"{"m":"see Skylark-10.1.2.3 now"}"#, "m=Skylark-10.1.2.3"] {
            let type = body.hasPrefix("{") ? "application/json" : "application/x-www-form-urlencoded"
            guard
                case .forward(let out, _) = redactor.redact(
                    body: Array(body.utf8),
                    contentType: type,
                    contentEncoding: nil,
                    vendor: "v"
                )
            else {
                Issue.record("\(body) was not forwarded")
                continue
            }
            let text = String(decoding: out, as: UTF8.self)
            #expect(!text.lowercased().contains("skylark"), "\(body) -> \(text)")
            #expect(!text.contains("10.1.2.3"), "\(body) -> \(text)")
        }
    }
}
