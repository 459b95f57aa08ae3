import Foundation
import Testing

@testable import AirlockPolicy

@Suite("Loading valid policies")
struct PolicyLoaderTests {
    @Test("Defaults: term flags, labels, content.unknown, pattern within, detector ids")
    func defaults() throws {
        let fixture = try PolicyFixture([
            "policy.yaml": policyYAML(
                """
                terms:
                  - id: code-names
                    action: pseudonymize
                    values: [Nightingale]
                patterns:
                  - id: roadmap-quarter
                    regex: 'Q[1-4] 20[0-9]{2}'
                    action: redact
                    near: [launch]
                detectors:
                  - email: {action: redact}
                fields:
                  - path: $..run_id
                    action: hash
                """
            )
        ])
        let policy = try #require(fixture.policy())
        #expect(policy.version == 1)
        #expect(policy.name == "test")
        let term = try #require(policy.terms.first)
        #expect(term.id == "code-names")
        #expect(term.label == "CODE_NAMES")
        #expect(term.caseSensitive == false)
        #expect(term.wholeWord == true)
        #expect(term.variants == true)
        #expect(term.location.line == 4)
        #expect(term.location.column == 5)
        let pattern = try #require(policy.patterns.first)
        #expect(pattern.label == "ROADMAP_QUARTER")
        #expect(pattern.within == 80)
        #expect(pattern.near == ["launch"])
        let detector = try #require(policy.detectors.first)
        #expect(detector.id == "email")
        #expect(detector.label == "EMAIL")
        #expect(detector.kind == .email)
        #expect(detector.domains.isEmpty)
        #expect(detector.coversEmailDomain("anything.example"))
        let field = try #require(policy.fields.first)
        #expect(field.id == "$..run_id")
        #expect(field.label == "RUN_ID")
        #expect(field.path.segments == [.descendant("run_id")])
        #expect(policy.content.unknown == .block)
        #expect(policy.allow.isEmpty)
    }

    @Test("Explicit settings are kept")
    func explicitSettings() throws {
        let fixture = try PolicyFixture([
            "policy.yaml": policyYAML(
                """
                terms:
                  - id: customers
                    label: CUSTOMER
                    action: redact
                    values: ["Bramblewood"]
                    case_sensitive: true
                    whole_word: false
                    variants: false
                patterns:
                  - id: q
                    label: ROADMAP
                    regex: 'Q[1-4]'
                    action: mask
                    near: [ship, GA]
                    within: 120
                detectors:
                  - url: {id: internal-url, label: URL_INTERNAL, action: redact, hosts: ["*.corp.example.com"]}
                  - ip: {action: block, ranges: [10.0.0.0/8, "fd00::/8"]}
                  - email: {action: pseudonymize, domains: [Lab.Example.com]}
                  - secret: {action: block}
                fields:
                  - {id: notes, label: NOTES, path: "$.metadata.internal_notes", action: drop}
                  - {id: annotator-email, path: "$.tasks[*].reviewer", action: pseudonymize}
                  - {path: "$.tasks[*].reviewer_id", action: hash}
                allow: ["Project Gutenberg", "Project Gutenberg"]
                content: {unknown: pass}
                """
            )
        ])
        let policy = try #require(fixture.policy())
        let term = try #require(policy.terms.first)
        #expect(term.label == "CUSTOMER")
        #expect(term.caseSensitive && !term.wholeWord && !term.variants)
        let pattern = try #require(policy.patterns.first)
        #expect(pattern.within == 120)
        #expect(pattern.near == ["ship", "GA"])
        #expect(pattern.action == .mask)
        #expect(policy.detectors.map(\.id) == ["internal-url", "ip", "email", "secret"])
        #expect(policy.detectors[0].label == "URL_INTERNAL")
        #expect(policy.detectors[0].coversHost("wiki.corp.example.com"))
        #expect(!policy.detectors[0].coversHost("corp.example.com.evil.test"))
        #expect(policy.detectors[1].coversAddress("10.1.2.3"))
        #expect(policy.detectors[1].coversAddress("fd12::1"))
        #expect(!policy.detectors[1].coversAddress("11.0.0.1"))
        #expect(policy.detectors[2].domains == ["lab.example.com"])
        #expect(policy.detectors[2].coversEmailDomain("mail.LAB.example.com"))
        #expect(!policy.detectors[2].coversEmailDomain("notlab.example.com"))
        #expect(policy.fields.first?.action == .drop)
        #expect(policy.fields.first?.label == "NOTES")
        #expect(policy.fields.map(\.label) == ["NOTES", "ANNOTATOR_EMAIL", "REVIEWER_ID"])
        #expect(policy.fields.map(\.id) == ["notes", "annotator-email", "$.tasks[*].reviewer_id"])
        #expect(policy.allow == ["Project Gutenberg"])
        #expect(policy.content.unknown == .pass)
        #expect(policy.unknownContent == .pass)
    }

    @Test("Term files load relative to the policy: trimmed, comments and blanks skipped, merged after values")
    func termFiles() throws {
        let fixture = try PolicyFixture([
            "sub/policy.yaml": policyYAML(
                """
                terms:
                  - id: codenames
                    action: pseudonymize
                    values: ["Nightingale", "Larkspur"]
                    files: [lists/codenames.txt, more.txt]
                """
            ),
            "sub/lists/codenames.txt":
                "# codenames\n\n  Larkspur  \nBluebird\n\t# indented comment\r\nProject Heron\r\n",
            "sub/more.txt": "Driftwood",
        ])
        let policy = try #require(fixture.policy("sub/policy.yaml"))
        #expect(policy.terms.first?.values == ["Nightingale", "Larkspur", "Bluebird", "Project Heron", "Driftwood"])
        #expect(policy.termCount == 5)
        #expect(
            policy.sourceFiles.map { $0.replacingOccurrences(of: fixture.directory.path + "/", with: "") } == [
                "sub/policy.yaml", "sub/lists/codenames.txt", "sub/more.txt",
            ]
        )
    }

    @Test("Includes merge in order before the including file's rules; allow is a union; content.unknown overrides")
    func includesMerge() throws {
        let fixture = try PolicyFixture([
            "policy.yaml": policyYAML(
                """
                include: [a.yaml, shared/b.yaml]
                terms:
                  - {id: root-terms, action: redact, values: [Tidewater]}
                allow: [Root Allowed]
                """
            ),
            "a.yaml": """
            version: 1
            name: a
            terms:
              - {id: a-terms, action: redact, values: [Alpha]}
            allow: [A Allowed]
            content: {unknown: pass}
            """,
            "shared/b.yaml": """
            include: [../c.yaml]
            detectors:
              - secret: {action: block}
            patterns:
              - {id: b-pattern, regex: 'run-[0-9]+', action: hash}
            """,
            "c.yaml": """
            terms:
              - {id: c-terms, action: mask, files: [c-terms.txt]}
            content: {unknown: block}
            """,
            "c-terms.txt": "Gamma\n",
        ])
        let policy = try #require(fixture.policy())
        #expect(policy.name == "test")
        #expect(policy.terms.map(\.id) == ["a-terms", "c-terms", "root-terms"])
        #expect(policy.terms[1].values == ["Gamma"])
        #expect(policy.patterns.map(\.id) == ["b-pattern"])
        #expect(policy.detectors.map(\.kind) == [.secret])
        #expect(policy.allow == ["A Allowed", "Root Allowed"])
        // a.yaml says pass, then c.yaml (through b.yaml) says block: the later include wins.
        #expect(policy.content.unknown == .block)
        let relative = policy.sourceFiles.map { $0.replacingOccurrences(of: fixture.directory.path + "/", with: "") }
        #expect(relative == ["policy.yaml", "a.yaml", "shared/b.yaml", "c.yaml", "c-terms.txt"])
        // Rules from includes point back at their own file.
        #expect(policy.terms[1].location.file.hasSuffix("/c.yaml"))
        #expect(policy.terms[1].location.line == 2)
    }

    @Test("The including file's content.unknown wins over its includes")
    func includingFileOverridesContent() throws {
        let fixture = try PolicyFixture([
            "policy.yaml": policyYAML("include: [a.yaml]\ncontent: {unknown: block}\n"),
            "a.yaml": "content: {unknown: pass}\nterms:\n  - {id: t, action: redact, values: [x1]}\n",
        ])
        #expect(fixture.policy()?.content.unknown == .block)
    }

    @Test("A file included twice through different includes is read once (no duplicate ids)")
    func diamondInclude() throws {
        let fixture = try PolicyFixture([
            "policy.yaml": policyYAML("include: [a.yaml, b.yaml]\n"),
            "a.yaml": "include: [secrets.yaml]\n",
            "b.yaml": "include: [secrets.yaml]\n",
            "secrets.yaml": "detectors:\n  - secret: {action: block}\n",
        ])
        let policy = try #require(fixture.policy())
        #expect(policy.detectors.map(\.id) == ["secret"])
    }

    @Test("Content hash: stable across locations, changes with any source file including term files")
    func contentHash() throws {
        let files = [
            "policy.yaml": policyYAML("include: [inc.yaml]\nterms:\n  - {id: t, action: redact, files: [t.txt]}\n"),
            "inc.yaml": "detectors:\n  - secret: {action: block}\n",
            "t.txt": "Nightingale\n",
        ]
        let first = try PolicyFixture(files)
        let second = try PolicyFixture(files)
        let hashA = try #require(first.policy()).contentHash
        let hashB = try #require(second.policy()).contentHash
        #expect(hashA.count == 64)
        #expect(hashA.allSatisfy { $0.isHexDigit && !$0.isUppercase })
        #expect(hashA == hashB)

        try second.write("t.txt", "Nightingale\nTidewater\n")
        let afterTerms = try #require(second.policy()).contentHash
        #expect(afterTerms != hashA)

        try first.write("inc.yaml", "detectors:\n  - secret: {action: redact}\n")
        let afterInclude = try #require(first.policy()).contentHash
        #expect(afterInclude != hashA)

        // CRLF line endings hash like LF.
        let crlf = try PolicyFixture(files.mapValues { $0.replacingOccurrences(of: "\n", with: "\r\n") })
        #expect(try #require(crlf.policy()).contentHash == hashA)

        let policy = try #require(crlf.policy())
        #expect(policy.identity == "test@sha256:\(hashA)")
    }

    @Test("Include and term file paths resolve against the including file's directory, lexically")
    func pathResolution() {
        let root = PolicySourceFile(
            display: "./Policies/lab.yaml",
            relative: "lab.yaml",
            canonical: "/x/Policies/lab.yaml"
        )
        let included = root.resolve("shared/../secrets.yaml")
        #expect(included.display == "Policies/secrets.yaml")
        #expect(included.relative == "secrets.yaml")
        let nested = included.resolve("../common/base.yaml")
        #expect(nested.display == "common/base.yaml")
        #expect(nested.relative == "../common/base.yaml")
        let bare = PolicySourceFile(display: "lab.yaml", relative: "lab.yaml", canonical: "/x/lab.yaml")
        #expect(bare.resolve("./codenames.txt").display == "codenames.txt")
        #expect(bare.resolve("/etc/airlock/terms.txt").display == "/etc/airlock/terms.txt")
    }
}
