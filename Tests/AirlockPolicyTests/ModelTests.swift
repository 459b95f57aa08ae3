import Foundation
import Testing

@testable import AirlockPolicy

@Suite("Policy model pieces")
struct ModelTests {
    @Test("JSONPath parses the subset into segments")
    func jsonPathParsing() throws {
        #expect(
            try JSONPath(parsing: "$.metadata.internal_notes").segments == [.key("metadata"), .key("internal_notes")]
        )
        #expect(try JSONPath(parsing: "$.a[*].b").segments == [.key("a"), .wildcard, .key("b")])
        #expect(try JSONPath(parsing: "$..run_id").segments == [.descendant("run_id")])
        #expect(try JSONPath(parsing: "$.a[0]").segments == [.key("a"), .index(0)])
        #expect(try JSONPath(parsing: "$['odd key'].x").segments == [.key("odd key"), .key("x")])
        #expect(try JSONPath(parsing: "$..[\"row_data\"]").segments == [.descendant("row_data")])
        #expect(try JSONPath(parsing: "$.a.*").segments == [.key("a"), .wildcard])
        #expect(try JSONPath(parsing: "$.tasks[12].reviewer").description == "$.tasks[12].reviewer")
        #expect(throws: JSONPathError.self) { try JSONPath(parsing: "$.a[-1]") }
        #expect(throws: JSONPathError.self) { try JSONPath(parsing: "$.a[0:2]") }
        #expect(throws: JSONPathError.self) { try JSONPath(parsing: "$['unterminated]") }
        #expect(throws: JSONPathError.self) { try JSONPath(parsing: "$ .a") }
    }

    @Test("JSONPath matches value paths")
    func jsonPathMatching() throws {
        let notes = try JSONPath(parsing: "$.metadata.internal_notes")
        #expect(notes.matches([.key("metadata"), .key("internal_notes")]))
        #expect(!notes.matches([.key("metadata")]))
        #expect(!notes.matches([.key("metadata"), .key("internal_notes"), .key("x")]))
        #expect(!notes.matches([.key("other"), .key("internal_notes")]))

        let runID = try JSONPath(parsing: "$..run_id")
        #expect(runID.matches([.key("run_id")]))
        #expect(runID.matches([.key("a"), .index(3), .key("b"), .key("run_id")]))
        #expect(!runID.matches([.key("run_id"), .key("x")]))
        #expect(!runID.matches([.key("a"), .index(0)]))

        let reviewers = try JSONPath(parsing: "$.tasks[*].reviewer")
        #expect(reviewers.matches([.key("tasks"), .index(0), .key("reviewer")]))
        #expect(reviewers.matches([.key("tasks"), .index(7), .key("reviewer")]))
        #expect(!reviewers.matches([.key("tasks"), .key("reviewer")]))

        let first = try JSONPath(parsing: "$.a[0]")
        #expect(first.matches([.key("a"), .index(0)]))
        #expect(!first.matches([.key("a"), .index(1)]))

        let nested = try JSONPath(parsing: "$..meta.note")
        #expect(nested.matches([.key("x"), .key("meta"), .key("note")]))
        #expect(nested.matches([.key("meta"), .key("a"), .key("meta"), .key("note")]))
        #expect(!nested.matches([.key("meta"), .key("x"), .key("note")]))
    }

    @Test("CIDR ranges: IPv4 and IPv6 membership")
    func cidrRanges() throws {
        let ten = try CIDRRange(parsing: "10.0.0.0/8")
        #expect(ten.isIPv4 && ten.prefixLength == 8)
        #expect(ten.contains(address: "10.255.1.2"))
        #expect(!ten.contains(address: "11.0.0.1"))
        #expect(!ten.contains(address: "not an ip"))
        #expect(!ten.contains(address: "::ffff:10.0.0.1"))
        let private172 = try CIDRRange(parsing: "172.16.0.0/12")
        #expect(private172.contains(address: "172.31.255.255"))
        #expect(!private172.contains(address: "172.32.0.0"))
        let v6 = try CIDRRange(parsing: "fd00::/8")
        #expect(!v6.isIPv4)
        #expect(v6.contains(address: "fd12:3456::1"))
        #expect(!v6.contains(address: "fe80::1"))
        #expect(v6.description == "fd00::/8")
        let single = try CIDRRange(parsing: "192.168.1.7")
        #expect(single.prefixLength == 32)
        #expect(single.contains(address: "192.168.1.7") && !single.contains(address: "192.168.1.8"))
        let everything = try CIDRRange(parsing: "0.0.0.0/0")
        #expect(everything.contains(address: "8.8.8.8"))
        #expect(throws: CIDRRangeError.self) { try CIDRRange(parsing: "10.0.0.0/8/8") }
        #expect(throws: CIDRRangeError.self) { try CIDRRange(parsing: "10.0.0.0/") }
        #expect(throws: CIDRRangeError.self) { try CIDRRange(parsing: "10.0.0/8") }
    }

    @Test("Host globs")
    func hostPatterns() throws {
        let corp = try #require(HostPattern("*.corp.example.com"))
        #expect(corp.matches("wiki.corp.example.com"))
        #expect(corp.matches("A.B.Corp.Example.com"))
        #expect(!corp.matches("corp.example.com"))
        #expect(!corp.matches("corp.example.com.attacker.test"))
        #expect(!corp.matches("xcorp.example.com"))
        let internalHosts = try #require(HostPattern("*.internal"))
        #expect(internalHosts.matches("build.internal"))
        #expect(!internalHosts.matches("internal"))
        let exact = try #require(HostPattern("git.example.com"))
        #expect(exact.matches("git.example.com") && !exact.matches("gitx.example.com"))
        let middle = try #require(HostPattern("build-*.example.com"))
        #expect(middle.matches("build-42.example.com") && !middle.matches("deploy-42.example.com"))
        #expect(HostPattern("") == nil)
        #expect(HostPattern("https://x") == nil)
        #expect(HostPattern("host:8080") == nil)
    }

    @Test("Default labels and label validity")
    func labels() {
        #expect(RuleLabel.defaultLabel(forID: "roadmap-quarter") == "ROADMAP_QUARTER")
        #expect(RuleLabel.defaultLabel(forID: "codenames") == "CODENAMES")
        #expect(RuleLabel.defaultLabel(forID: "eval.v2 id") == "EVAL_V2_ID")
        #expect(RuleLabel.defaultLabel(forID: "über") == "_BER")
        #expect(RuleLabel.isValid("CODENAME_2"))
        #expect(!RuleLabel.isValid("CODE-NAME"))
        #expect(!RuleLabel.isValid(""))
        #expect(FieldRule.defaultLabel(for: JSONPath(segments: [.key("a"), .index(0)], description: "$.a[0]")) == "A")
        #expect(FieldRule.defaultLabel(for: JSONPath(segments: [.wildcard], description: "$.*")) == "FIELD")
        let runID = JSONPath(segments: [.descendant("run_id")], description: "$..run_id")
        #expect(FieldRule(path: runID, action: .hash).label == "RUN_ID")
        #expect(FieldRule(path: runID, action: .hash).id == "$..run_id")
        #expect(FieldRule(id: "run-hash", path: runID, action: .hash).label == "RUN_HASH")
        #expect(DetectorRule(kind: .url, action: .redact).label == "URL")
        #expect(DetectorRule(kind: .url, id: "wiki-url", action: .redact).label == "WIKI_URL")
        #expect(TermRule(id: "model-names", action: .redact, values: ["x"]).label == "MODEL_NAMES")
        #expect(PatternRule(id: "q", action: .redact, regex: "Q[1-4]").within == PatternRule.defaultWithin)
    }

    @Test("Action precedence resolves overlaps: block > drop > redact > hash > pseudonymize > mask, no ties")
    func actionPrecedence() {
        // Strictly decreasing: two actions of equal precedence would leave their overlaps to position and length.
        let ordered: [Action] = [.block, .drop, .redact, .hash, .pseudonymize, .mask]
        let precedences = ordered.map(\.precedence)
        #expect(zip(precedences, precedences.dropFirst()).allSatisfy { $0 > $1 }, "\(precedences)")
        #expect(Set(Action.allCases) == Set(ordered))
        #expect(!Action.contentActions.contains(.drop))
        #expect(Action.fieldActions.contains(.drop))
    }
}
