import AirlockPolicy
import Foundation
import Testing

@testable import AirlockRedaction

@Suite struct PolicyTestSuiteTests {
    @Test func runsCasesAndReportsFailuresWithReasons() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "airlock-suite-\(UUID().uuidString)"
        )
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try """
        version: 1
        name: t
        terms:
          - id: codenames
            label: CODENAME
            action: redact
            values: ["Nightingale"]
        detectors:
          - secret: {action: block}
        """.write(to: directory.appendingPathComponent("policy.yaml"), atomically: true, encoding: .utf8)
        try """
        policy: policy.yaml
        cases:
          - name: passes
            input: '{"a": "Nightingale"}'
            output: '{"a": "[REDACTED:CODENAME]"}'
          - name: blocked as expected
            input: '{"a": "AKIAIOSFODNN7EXAMPLE"}'
            blocked: true
            rule: secret
          - name: wrong expectation
            input: '{"a": "Nightingale"}'
            contains: ["Nightingale"]
          - name: forwarded but expected blocked
            input: '{"a": "fine"}'
            blocked: true
          - name: unknown key
            input: '{}'
            expect: nothing
        """.write(to: directory.appendingPathComponent("cases.yaml"), atomically: true, encoding: .utf8)

        let files = PolicyTestSuite.testFiles(in: directory.path)
        #expect(files.count == 2, "the policy file is YAML too; it fails as a test file without cases")
        let results = PolicyTestSuite().run(file: directory.appendingPathComponent("cases.yaml").path)
        #expect(
            results.map(\.name) == [
                "passes", "blocked as expected", "wrong expectation", "forwarded but expected blocked", "unknown key",
            ]
        )
        #expect(results.map { $0.failure == nil } == [true, true, false, false, false])
        #expect(results[2].failure?.contains("does not contain") == true)
        #expect(results[4].failure?.contains("unknown key `expect`") == true)
    }

    @Test func anInvalidPolicyFailsEveryCaseWithItsDiagnostics() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "airlock-suite-\(UUID().uuidString)"
        )
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try "version: 1\nname: t\nbogus: 1\n".write(
            to: directory.appendingPathComponent("bad.yaml"),
            atomically: true,
            encoding: .utf8
        )
        try "policy: bad.yaml\ncases:\n  - name: x\n    input: '{}'\n".write(
            to: directory.appendingPathComponent("t.yaml"),
            atomically: true,
            encoding: .utf8
        )
        let results = PolicyTestSuite().run(file: directory.appendingPathComponent("t.yaml").path)
        #expect(results.count == 1)
        #expect(results[0].failure?.contains("invalid") == true)
    }
}

@Suite struct ConcurrencyTests {
    @Test func oneRedactorServesManyTasksAtOnce() async throws {
        let redactor = try makeRedactor(
            makePolicy(
                terms: [TermRule(id: "codenames", label: "CODENAME", action: .pseudonymize, values: ["Nightingale"])],
                detectors: [DetectorRule(kind: .email, action: .pseudonymize)]
            )
        )
        let input = Array(#"{"t":"Nightingale mails ana@lab.example.com"}"#.utf8)
        let expected = redactor.redact(
            body: input,
            contentType: "application/json",
            contentEncoding: nil,
            vendor: "scale"
        ).forwardedBody
        #expect(expected != nil)
        let outputs = await withTaskGroup(of: [UInt8]?.self) { group in
            for _ in 0..<64 {
                group.addTask {
                    redactor.redact(body: input, contentType: "application/json", contentEncoding: nil, vendor: "scale")
                        .forwardedBody
                }
            }
            var all: [[UInt8]?] = []
            for await output in group { all.append(output) }
            return all
        }
        #expect(outputs.count == 64)
        #expect(outputs.allSatisfy { $0 == expected })
    }
}

@Suite struct EdgeCaseTests {
    @Test func urlsStopBeforeSentencePunctuation() throws {
        let redactor = try makeRedactor(
            makePolicy(detectors: [DetectorRule(kind: .url, action: .redact, hosts: [HostPattern("*.internal")!])])
        )
        #expect(
            forwarded(redactor, #"{"t":"see (https://wiki.internal/a/b), then https://x.internal."}"#)
                == #"{"t":"see ([REDACTED:URL]), then [REDACTED:URL]."}"#
        )
    }

    @Test func multipartJSONFilePartIsRedactedAsJSON() throws {
        let redactor = try makeRedactor(makePolicy(terms: [codenames]))
        let body = OtherFormatTests.multipart([
            (
                "Content-Disposition: form-data; name=\"file\"; filename=\"a.json\"\r\nContent-Type: application/json",
                #"{"x":"Nightingale"}"#
            )
        ])
        let out = try #require(
            redactor.redact(
                body: body,
                contentType: "multipart/form-data; boundary=\"XyZ\"",
                contentEncoding: nil,
                vendor: "v"
            )
            .forwardedBody
        )
        #expect(String(decoding: out, as: UTF8.self).contains(#"{"x":"[REDACTED:CODENAME]"}"#))
    }

    @Test func malformedJSONInsideAMultipartJSONPartIsUninspectable() throws {
        let redactor = try makeRedactor(makePolicy(terms: [codenames]))
        let body = OtherFormatTests.multipart([("Content-Disposition: form-data; name=\"operations\"", #"{"x":"#)])
        let outcome = redactor.redact(
            body: body,
            contentType: "multipart/form-data; boundary=XyZ",
            contentEncoding: nil,
            vendor: "v"
        )
        #expect(outcome.isUninspectable, "expected uninspectable, got \(outcome)")
    }

    @Test func policyWithoutContentRulesStillValidatesJSON() throws {
        let redactor = try makeRedactor(makePolicy())
        #expect(forwarded(redactor, #"{"a":[1,2]}"#) == #"{"a":[1,2]}"#)
        let outcome = redactor.redact(
            body: Array("{".utf8),
            contentType: "application/json",
            contentEncoding: nil,
            vendor: "v"
        )
        #expect(outcome.isUninspectable, "expected uninspectable, got \(outcome)")
    }
}
