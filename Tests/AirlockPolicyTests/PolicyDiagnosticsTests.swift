import Foundation
import Testing

@testable import AirlockPolicy

/// Every validation error: the message and the exact line:column it points at.
@Suite("Policy diagnostics")
struct PolicyDiagnosticsTests {
    @Test("Unknown keys at every level, with the closest known key suggested")
    func unknownKeys() throws {
        let fixture = try PolicyFixture([
            "policy.yaml": """
            version: 1
            name: test
            temrs: []
            terms:
              - id: t
                actoin: redact
                values: [Nightingale]
            patterns:
              - {id: p, regex: 'a+', action: redact, nearby: [x]}
            detectors:
              - email: {action: redact, domain: [lab.example.com]}
              - email: {id: e2, action: redact, hosts: ["*.x"]}
            fields:
              - {path: $.a, action: drop, paht: x}
            content: {unknwon: block}
            zzz: 1
            """
        ])
        #expect(
            fixture.diagnostics() == [
                "policy.yaml:3:1: unknown key 'temrs' at the top level; did you mean 'terms'?",
                "policy.yaml:5:5: term rule is missing required key 'action' (one of: redact, mask, hash, pseudonymize, block)",
                "policy.yaml:6:5: unknown key 'actoin' in a term rule; did you mean 'action'?",
                "policy.yaml:9:42: unknown key 'nearby' in a pattern rule; did you mean 'near'?",
                "policy.yaml:11:29: unknown key 'domain' for the email detector; did you mean 'domains'?",
                "policy.yaml:12:37: unknown key 'hosts' for the email detector; 'hosts' is an option of the url detector",
                "policy.yaml:14:31: unknown key 'paht' in a fields rule; did you mean 'path'?",
                "policy.yaml:15:11: unknown key 'unknwon' in 'content'; did you mean 'unknown'?",
                "policy.yaml:16:1: unknown key 'zzz' at the top level",
            ]
        )
    }

    @Test("Wrong types name the key and what was found")
    func wrongTypes() throws {
        let fixture = try PolicyFixture([
            "policy.yaml": """
            version: "1"
            name: [a]
            terms:
              - id: t
                action: redact
                values: Nightingale
                case_sensitive: maybe
              - just a string
            patterns:
              - id: p
                regex: 'a+'
                action: redact
                near: [launch]
                within: eighty
            fields: {path: $.a}
            content: block
            allow: [{a: b}]
            """
        ])
        #expect(
            fixture.diagnostics() == [
                "policy.yaml:1:10: 'version' must be a whole number, found a string",
                "policy.yaml:2:7: 'name' must be a string, found a list",
                "policy.yaml:6:13: 'values' must be a list, found a string",
                "policy.yaml:7:21: 'case_sensitive' must be true or false, found a string",
                "policy.yaml:8:5: a term rule must be a mapping with 'id', 'action' and 'values' or 'files', found a string",
                "policy.yaml:14:13: 'within' must be a whole number, found a string",
                "policy.yaml:15:9: 'fields' must be a list, found a mapping",
                "policy.yaml:16:10: 'content' must be a mapping (like 'content: {unknown: block}'), found a string",
                "policy.yaml:17:9: 'allow' must be a string, found a mapping",
            ]
        )
    }

    @Test("Missing required keys point at the rule")
    func missingRequiredKeys() throws {
        let fixture = try PolicyFixture([
            "policy.yaml": """
            terms:
              - action: redact
                values: [a1]
              - id: no-values
                action: redact
            patterns:
              - id: p
                action: redact
            fields:
              - action: drop
            detectors:
              - secret: {}
            """
        ])
        #expect(
            fixture.diagnostics() == [
                "policy.yaml:1:1: missing required key 'version' (add 'version: 1')",
                "policy.yaml:1:1: missing required key 'name'",
                "policy.yaml:2:5: term rule is missing required key 'id'",
                "policy.yaml:4:5: term rule 'no-values' needs 'values' or 'files'",
                "policy.yaml:7:5: pattern rule 'p' is missing required key 'regex'",
                "policy.yaml:10:5: fields rule is missing required key 'path'",
                "policy.yaml:12:5: secret detector is missing required key 'action' (one of: redact, mask, hash, pseudonymize, block)",
            ]
        )
    }

    @Test("Unknown actions (with a suggestion) and drop outside fields rules")
    func actions() throws {
        let fixture = try PolicyFixture([
            "policy.yaml": policyYAML(
                """
                terms:
                  - {id: t, action: pseudonymise, values: [a1]}
                  - {id: t2, action: drop, values: [a2]}
                patterns:
                  - {id: p, regex: 'a+', action: drop}
                detectors:
                  - url: {action: scrub}
                fields:
                  - {path: $.a, action: delete}
                  - {path: $.b, action: drop}
                """
            )
        ])
        #expect(
            fixture.diagnostics() == [
                "policy.yaml:4:21: unknown action 'pseudonymise'; did you mean 'pseudonymize'? (expected one of: redact, mask, hash, pseudonymize, block)",
                "policy.yaml:5:22: action 'drop' is not allowed for a term rule; 'drop' only applies to fields rules (use one of: redact, mask, hash, pseudonymize, block)",
                "policy.yaml:7:34: action 'drop' is not allowed for a pattern rule; 'drop' only applies to fields rules (use one of: redact, mask, hash, pseudonymize, block)",
                "policy.yaml:9:19: unknown action 'scrub' (expected one of: redact, mask, hash, pseudonymize, block)",
                "policy.yaml:11:25: unknown action 'delete' (expected one of: drop, hash, redact, mask, pseudonymize, block)",
            ]
        )
    }

    @Test("Bad regexes report the reason, including constructs Vectorscan refuses")
    func badRegexes() throws {
        let cases: [(regex: String, reason: String)] = [
            (#"(a|b"#, #"missing ')': 1 group(s) not closed"#),
            (#"a)"#, #"unmatched ')' at offset 1"#),
            (#"[a-"#, #"unterminated character class '[' at offset 0"#),
            (#"[z-a]"#, #"range 'z-a' at offset 1 is out of order"#),
            (#"*a"#, #"nothing to repeat before '*' at offset 0"#),
            (#"a{5,2}"#, #"repeat range {5,2} at offset 1 has its bounds in the wrong order"#),
            (#"(a)\1"#, #"backreference '\1' at offset 3: Vectorscan does not support backreferences"#),
            (#"foo(?=bar)"#, #"lookahead '(?=' at offset 3: Vectorscan does not support lookarounds"#),
            (#"(?<!x)foo"#, #"lookbehind '(?<!' at offset 0: Vectorscan does not support lookarounds"#),
            (#"(?>ab)c"#, #"atomic group '(?>' at offset 0 is not supported by Vectorscan"#),
            (#"a++"#, #"possessive quantifier at offset 2 is not supported by Vectorscan"#),
            (#"a*"#, #"it can match the empty string, which Vectorscan refuses (e.g. write 'a+' instead of 'a*')"#),
            (#"x\"#, #"trailing '\' at offset 1"#),
            (#"a{2}+"#, #"possessive quantifier at offset 4 is not supported by Vectorscan"#),
            (#"a**"#, #"nothing to repeat before '*' at offset 2"#),
            (#"a{2}{3}"#, #"nothing to repeat before '{' at offset 4"#),
            (#"a|"#, #"it can match the empty string, which Vectorscan refuses (e.g. write 'a+' instead of 'a*')"#),
            (#"(?(1)a|b)"#, #"conditional '(?(' at offset 0 is not supported by Vectorscan"#),
            (#"(?1)"#, #"recursion or subroutine call at offset 0 is not supported by Vectorscan"#),
            (#"(?-1)"#, #"recursion or subroutine call at offset 0 is not supported by Vectorscan"#),
            (#"(?<n>a)(?P=n)"#, #"backreference '(?P=' at offset 7: Vectorscan does not support backreferences"#),
            (#"a\g{1}"#, #"backreference '\g' at offset 1: Vectorscan does not support backreferences"#),
            (#"\k<n>"#, #"backreference '\k' at offset 0: Vectorscan does not support backreferences"#),
            (#"\X"#, #"'\X' at offset 0 is not supported by Vectorscan"#),
            (#"a\Rb"#, #"'\R' at offset 1 is not supported by Vectorscan"#),
            (#"a\Kb"#, #"'\K' at offset 1 is not supported by Vectorscan"#),
            (#"a\N"#, #"'\N' at offset 1 is not supported by Vectorscan"#),
            (#"\Ga"#, #"'\G' at offset 0 is not supported by Vectorscan"#),
            (#"(*CR)a"#, #"control verb '(*' at offset 0 is not supported by Vectorscan"#),
            (#"a(*UTF8)b"#, #"control verb '(*' at offset 1 is not supported by Vectorscan"#),
            (#"\p{L"#, #"unterminated '\p{' at offset 0"#),
        ]
        for (regex, reason) in cases {
            let fixture = try PolicyFixture([
                "policy.yaml": policyYAML("patterns:\n  - id: p\n    regex: '\(regex)'\n    action: redact\n")
            ])
            #expect(
                fixture.diagnostics() == ["policy.yaml:5:12: bad regex in pattern 'p': \(reason)"],
                "regex \(regex)"
            )
        }
    }

    @Test("Regexes Vectorscan accepts pass the check")
    func goodRegexes() {
        let good = [
            #"Q[1-4] ?20[0-9]{2}"#, #"(?i)project[ _-]?falcon"#, #"\bAKIA[0-9A-Z]{16}\b"#, #"[\w.+-]+@[\w-]+\.[\w.]+"#,
            #"-----BEGIN [A-Z ]*PRIVATE KEY-----"#, #"a{2,}"#, #"x{3}"#, #"a+?b"#, #"\Q(literal)\E"#, #"[]a]"#,
            #"[^]a]"#,
            // Cross-checked against Vectorscan 5.4's hs_compile: each of these compiles there.
            #"\p{L}+"#, #"\h+"#, #"(?#c)a"#, #"\x{41}"#, #"\o{101}"#, #"\e"#, #"\cA"#, #"(?s).+"#, #"\d{1,3}?"#,
            #"[[:^alpha:]]+"#, #"[\1]"#, #"(*UTF8)a"#, #"(*UCP)(*UTF8)a"#, #"a(?i)"#, #"\ba\b"#, #"a$"#, #"^a"#,
            #"(?<name>ab)"#, #"(?'n'ab)"#, #"(?P<n>ab)"#, #"\101"#, #"a\0b"#, #"\012"#, #"(?i:ab)"#, #"(?-i)ab"#,
            #"(?i-s:ab)"#,
            #"[[:alpha:]]+"#, #"(?:ab|cd)+"#, #"\d{1,3}\.\d{1,3}"#, #"a{,3}b"#, #"{x}"#, #"a}"#, #"[a\-z]"#,
            #"run-20[0-9]{6}-[0-9a-f]{8}"#,
        ]
        for regex in good {
            #expect(RegexSyntax.problem(in: regex) == nil, "\(regex)")
        }
    }

    @Test("Unknown detectors and malformed detector entries")
    func unknownDetectors() throws {
        let fixture = try PolicyFixture([
            "policy.yaml": policyYAML(
                """
                detectors:
                  - emial: {action: redact}
                  - phone: {action: redact}
                  - secret
                  - {secret: {action: block}, url: {action: redact}}
                  - ip: block
                """
            )
        ])
        #expect(
            fixture.diagnostics() == [
                "policy.yaml:4:5: unknown detector 'emial'; did you mean 'email'? (known detectors: email, secret, url, ip)",
                "policy.yaml:5:5: unknown detector 'phone' (known detectors: email, secret, url, ip)",
                "policy.yaml:6:5: a detector must be a mapping with one key, the detector's name, like '- email: {action: redact}'",
                "policy.yaml:7:5: a detector must be a mapping with one key, the detector's name, like '- email: {action: redact}'",
                "policy.yaml:8:9: the ip detector needs options as a mapping, like '- ip: {action: redact}', found a string",
            ]
        )
    }

    @Test("Bad CIDR ranges, host globs and e-mail domains")
    func badDetectorOptions() throws {
        let fixture = try PolicyFixture([
            "policy.yaml": policyYAML(
                """
                detectors:
                  - ip:
                      action: redact
                      ranges:
                        - 10.0.0.0/33
                        - 10.0.0.1/8
                        - 300.1.1.1/8
                        - fd00::/129
                        - 192.168.0.0/16
                  - url: {action: redact, hosts: ["https://wiki.corp.example.com/"]}
                  - email: {action: redact, domains: ["@lab.example.com"]}
                  - email: {id: e2, action: redact, domains: []}
                """
            )
        ])
        #expect(
            fixture.diagnostics() == [
                "policy.yaml:7:11: bad CIDR range '10.0.0.0/33': prefix length must be a number from 0 to 32",
                "policy.yaml:8:11: bad CIDR range '10.0.0.1/8': host bits are set; did you mean 10.0.0.0/8?",
                "policy.yaml:9:11: bad CIDR range '300.1.1.1/8': '300.1.1.1' is not an IPv4 or IPv6 address",
                "policy.yaml:10:11: bad CIDR range 'fd00::/129': prefix length must be a number from 0 to 128",
                "policy.yaml:12:35: invalid host pattern 'https://wiki.corp.example.com/': use letters, digits, '-', '.', '_' and '*' (no scheme, port or path)",
                "policy.yaml:13:39: invalid e-mail domain '@lab.example.com': write the bare domain, like 'lab.example.com' (subdomains are included)",
                "policy.yaml:14:46: 'domains' is empty: list at least one entry or remove the key",
            ]
        )
    }

    @Test("Bad JSONPaths report the reason and position")
    func badJSONPaths() throws {
        let fixture = try PolicyFixture([
            "policy.yaml": policyYAML(
                """
                fields:
                  - {path: "metadata.notes", action: drop}
                  - {path: "$.a[", action: drop}
                  - {path: "$.a[?(@.x)]", action: drop}
                  - {path: "$", action: drop}
                  - {path: "$.", action: drop}
                  - {path: "$..", action: drop}
                """
            )
        ])
        #expect(
            fixture.diagnostics() == [
                "policy.yaml:4:12: bad JSONPath 'metadata.notes': a path must start with '$' (at character 1)",
                "policy.yaml:5:12: bad JSONPath '$.a[': unterminated '[' (at character 5)",
                "policy.yaml:6:12: bad JSONPath '$.a[?(@.x)]': expected '*', a non-negative index or a quoted key inside '[]' (filters and slices are not supported) (at character 5)",
                "policy.yaml:7:12: bad JSONPath '$': a path must select something below '$' (at character 2)",
                "policy.yaml:8:12: bad JSONPath '$.': expected a key name after '.' (at character 3)",
                "policy.yaml:9:12: bad JSONPath '$..': expected a key name after '..' (at character 4)",
            ]
        )
    }

    @Test("Missing include and terms files point at the reference")
    func missingFiles() throws {
        let fixture = try PolicyFixture([
            "policy.yaml": policyYAML(
                """
                include: [secrets.yaml, nope.yaml]
                terms:
                  - id: t
                    action: redact
                    files: [codenames.txt, missing.txt]
                """
            ),
            "secrets.yaml": "detectors:\n  - secret: {action: block}\n",
            "codenames.txt": "Nightingale\n",
        ])
        let diagnostics = fixture.diagnostics()
        #expect(diagnostics.count == 2)
        #expect(
            diagnostics.first?.hasPrefix("policy.yaml:3:25: included file 'nope.yaml' not found (looked for ") == true
        )
        #expect(
            diagnostics.last?.hasPrefix("policy.yaml:7:28: terms file 'missing.txt' not found (looked for ") == true
        )
    }

    @Test("Unreadable sources: a terms file that is not UTF-8, a directory where a file should be")
    func unreadableSources() throws {
        let fixture = try PolicyFixture([
            "policy.yaml": policyYAML(
                """
                include: [rules]
                terms:
                  - {id: t, action: redact, files: [latin1.txt]}
                """
            ),
            "rules/placeholder.txt": "x",
        ])
        try Data([0x4E, 0x69, 0x67, 0x68, 0xE9, 0x0A]).write(to: fixture.directory.appendingPathComponent("latin1.txt"))
        #expect(
            fixture.diagnostics() == [
                "policy.yaml:3:11: included file 'rules' is a directory",
                "policy.yaml:5:37: terms file 'latin1.txt' is not valid UTF-8",
            ]
        )
        #expect(fixture.diagnostics("rules") == ["rules:1:1: policy file 'rules' is a directory"])
    }

    @Test("A missing root policy is reported, not crashed on")
    func missingRootPolicy() throws {
        let fixture = try PolicyFixture([:])
        #expect(fixture.diagnostics("absent.yaml") == ["absent.yaml:1:1: policy file not found"])
    }

    @Test("Include cycles are detected and reported with the chain")
    func includeCycle() throws {
        let fixture = try PolicyFixture([
            "policy.yaml": policyYAML("include: [a.yaml]\n"),
            "a.yaml": "terms:\n  - {id: a, action: redact, values: [a1]}\ninclude: [b.yaml]\n",
            "b.yaml": "include:\n  - a.yaml\n",
        ])
        let diagnostics = fixture.diagnostics()
        #expect(diagnostics == ["b.yaml:2:5: include cycle: a.yaml -> b.yaml -> a.yaml"])
    }

    @Test("A policy including itself is a cycle")
    func selfInclude() throws {
        let fixture = try PolicyFixture(["policy.yaml": policyYAML("include: [./policy.yaml]\n")])
        #expect(fixture.diagnostics() == ["policy.yaml:3:11: include cycle: policy.yaml -> policy.yaml"])
    }

    @Test("Duplicate rule ids, within a file and across includes, point at both places")
    func duplicateIDs() throws {
        let fixture = try PolicyFixture([
            "policy.yaml": policyYAML(
                """
                include: [secrets.yaml]
                terms:
                  - {id: codenames, action: redact, values: [a1]}
                  - {id: codenames, action: redact, values: [a2]}
                patterns:
                  - {id: run-id, regex: 'run-[0-9]+', action: hash}
                detectors:
                  - email: {action: redact}
                  - email: {action: hash, domains: [lab.example.com]}
                fields:
                  - {path: $..x, action: drop}
                  - {path: $..x, action: hash}
                """
            ),
            "secrets.yaml": "patterns:\n  - {id: run-id, regex: 'r[0-9]+', action: hash}\n",
        ])
        #expect(
            fixture.diagnostics() == [
                "policy.yaml:6:5: duplicate rule id 'codenames' (first defined at policy.yaml:5:5)",
                "policy.yaml:8:5: duplicate rule id 'run-id' (first defined at secrets.yaml:2:5)",
                "policy.yaml:11:5: duplicate rule id 'email' (first defined at policy.yaml:10:5)",
                "policy.yaml:14:5: duplicate rule id '$..x' (first defined at policy.yaml:13:5)",
            ]
        )
    }

    @Test("Empty term lists: empty values, empty files, empty terms")
    func emptyTermLists() throws {
        let fixture = try PolicyFixture([
            "policy.yaml": policyYAML(
                """
                terms:
                  - id: none
                    action: redact
                    values: []
                  - id: blank
                    action: redact
                    values: ["Nightingale", "  "]
                  - id: from-empty-file
                    action: redact
                    files: [empty.txt]
                """
            ),
            "empty.txt": "# nothing yet\n\n   \n",
        ])
        #expect(
            fixture.diagnostics() == [
                "policy.yaml:4:5: term rule 'none' has an empty term list",
                "policy.yaml:9:29: empty term in 'values'",
                "policy.yaml:12:13: terms file 'empty.txt' has no terms",
            ]
        )
    }

    @Test("Only version 1 is read")
    func unsupportedVersion() throws {
        let fixture = try PolicyFixture(["policy.yaml": "version: 2\nname: test\n"])
        #expect(
            fixture.diagnostics() == ["policy.yaml:1:10: unsupported policy version 2; this Airlock reads version 1"]
        )
    }

    @Test("'within' without 'near', empty 'near', out-of-range 'within'")
    func withinWithoutNear() throws {
        let fixture = try PolicyFixture([
            "policy.yaml": policyYAML(
                """
                patterns:
                  - id: p1
                    regex: 'Q[1-4]'
                    action: redact
                    within: 40
                  - id: p2
                    regex: 'Q[1-4]'
                    action: redact
                    near: []
                  - id: p3
                    regex: 'Q[1-4]'
                    action: redact
                    near: [GA]
                    within: 0
                """
            )
        ])
        #expect(
            fixture.diagnostics() == [
                "policy.yaml:7:5: 'within' has no effect without 'near': add hotwords in 'near' or remove 'within'",
                "policy.yaml:11:11: 'near' is empty: list hotwords or remove it",
                "policy.yaml:16:13: 'within' must be from 1 to 10000 characters, found 0",
            ]
        )
    }

    @Test("Bad labels, ids and content.unknown values")
    func labelsIDsContent() throws {
        let fixture = try PolicyFixture([
            "policy.yaml": policyYAML(
                """
                terms:
                  - {id: "code names", action: redact, values: [a1]}
                  - {id: t2, label: "CODE-NAME", action: redact, values: [a2]}
                content:
                  unknown: allow
                """
            )
        ])
        #expect(
            fixture.diagnostics() == [
                "policy.yaml:4:10: rule id must be non-empty and without spaces, found 'code names'",
                "policy.yaml:5:21: label 'CODE-NAME' may only contain ASCII letters, digits and '_' (it appears in placeholders and tokens)",
                "policy.yaml:7:12: unknown value 'allow' for 'content.unknown'; expected block or pass",
            ]
        )
    }

    @Test("YAML syntax errors and duplicate keys carry the parser's position")
    func yamlErrors() throws {
        let fixture = try PolicyFixture([
            "syntax.yaml": "version: 1\nname: test\nterms:\n  - id: t\n    values: [a, b\n",
            "dupes.yaml": "version: 1\nname: test\nname: again\n",
            "empty.yaml": "# nothing\n",
            "list.yaml": "- a\n- b\n",
        ])
        let syntax = fixture.diagnostics("syntax.yaml")
        #expect(syntax.count == 1)
        #expect(syntax.first?.hasPrefix("syntax.yaml:6:1: YAML syntax error: ") == true)
        let dupes = fixture.diagnostics("dupes.yaml")
        #expect(dupes == ["dupes.yaml:3:1: duplicate key 'name' in a mapping: each key may appear once"])
        #expect(fixture.diagnostics("empty.yaml") == ["empty.yaml:1:1: policy file is empty"])
        #expect(
            fixture.diagnostics("list.yaml") == [
                "list.yaml:1:1: a policy file must be a mapping of keys (version, name, terms, ...), found a list"
            ]
        )
    }

    @Test("Problems in several files are all reported, each in its own file")
    func problemsAcrossFiles() throws {
        let fixture = try PolicyFixture([
            "policy.yaml": policyYAML("include: [inc.yaml]\nterms:\n  - {id: t, action: wipe, values: [a1]}\n"),
            "inc.yaml": "version: 3\npatterns:\n  - {id: p, regex: '(?=x)y', action: redact}\n",
        ])
        #expect(
            fixture.diagnostics() == [
                "policy.yaml:5:21: unknown action 'wipe' (expected one of: redact, mask, hash, pseudonymize, block)",
                "inc.yaml:1:10: unsupported policy version 3; this Airlock reads version 1",
                "inc.yaml:3:20: bad regex in pattern 'p': lookahead '(?=' at offset 0: Vectorscan does not support lookarounds",
            ]
        )
    }

    @Test("PolicyLoadError prints one diagnostic per line")
    func errorDescription() {
        let error = PolicyLoadError(diagnostics: [
            PolicyDiagnostic(location: SourceLocation(file: "a.yaml", line: 3, column: 5), message: "one"),
            PolicyDiagnostic(location: SourceLocation(file: "b.yaml", line: 1, column: 1), message: "two"),
        ])
        #expect(error.description == "a.yaml:3:5: one\nb.yaml:1:1: two")
    }
}
