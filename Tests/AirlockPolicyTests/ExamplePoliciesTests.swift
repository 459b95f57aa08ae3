import Foundation
import Testing

@testable import AirlockPolicy

/// The repository root, found from this file's path (Tests/AirlockPolicyTests/<file>).
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

func examplePolicy(_ name: String) -> String {
    repositoryRoot.appendingPathComponent("Policies").appendingPathComponent(name).path
}

@Suite("Example policies in Policies/")
struct ExamplePoliciesTests {
    private func load(_ name: String) throws -> Policy {
        do throws(PolicyLoadError) {
            return try PolicyLoader.load(path: examplePolicy(name))
        } catch {
            Issue.record("\(name) has diagnostics:\n\(error)")
            throw error
        }
    }

    @Test("every body a policy's comments say to try it on exists")
    func commentedCommandsNameFilesThatExist() throws {
        let directory = repositoryRoot.appendingPathComponent("Policies")
        var commands = 0
        for name in try FileManager.default.contentsOfDirectory(atPath: directory.path) where name.hasSuffix(".yaml") {
            let text = try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
            for line in text.split(separator: "\n") where line.hasPrefix("#") && line.contains("airlock redact ") {
                commands += 1
                let body = try #require(line.split(separator: " ").last.map(String.init))
                let path = repositoryRoot.appendingPathComponent(body).path
                #expect(
                    FileManager.default.fileExists(atPath: path),
                    "\(name): \(line) names \(body), which does not exist"
                )
            }
        }
        #expect(commands >= 2)
    }

    @Test("lab.yaml loads without diagnostics and exercises every feature")
    func labPolicy() throws {
        let policy = try load("lab.yaml")
        #expect(policy.name == "lab-default")
        // Included secrets.yaml comes first.
        #expect(policy.detectors.first?.kind == .secret)
        #expect(policy.detectors.first?.action == .block)
        #expect(policy.patterns.map(\.id).starts(with: ["internal-run-id", "cluster-job-id"]))
        let codenames = try #require(policy.terms.first { $0.id == "codenames" })
        #expect(codenames.action == .pseudonymize && codenames.label == "CODENAME")
        #expect(codenames.values.contains("Nightingale") && codenames.values.contains("Project Falcon"))
        #expect(codenames.values.contains("Larkspur"), "terms from codenames.txt")
        #expect(!codenames.values.contains { $0.hasPrefix("#") })
        #expect(policy.terms.contains { $0.id == "model-names" })
        #expect(policy.terms.contains { $0.caseSensitive && !$0.variants })
        let roadmap = try #require(policy.patterns.first { $0.id == "roadmap-quarter" })
        #expect(!roadmap.near.isEmpty && roadmap.within == 80)
        #expect(Set(policy.detectors.map(\.kind)) == Set(DetectorRule.Kind.allCases))
        let email = try #require(policy.detectors.first { $0.kind == .email })
        #expect(email.domains.contains("lab.example.com"))
        let url = try #require(policy.detectors.first { $0.kind == .url })
        #expect(url.coversHost("wiki.corp.example.com"))
        let ip = try #require(policy.detectors.first { $0.kind == .ip })
        #expect(ip.coversAddress("10.2.3.4") && !ip.coversAddress("8.8.8.8"))
        #expect(policy.fields.contains { $0.path.description == "$.metadata.internal_notes" && $0.action == .drop })
        #expect(policy.fields.contains { $0.path.description == "$..run_id" && $0.action == .hash })
        #expect(policy.allow.contains("Project Gutenberg"))
        #expect(policy.content.unknown == .block)
        #expect(
            policy.sourceFiles.map { URL(fileURLWithPath: $0).lastPathComponent } == [
                "lab.yaml", "secrets.yaml", "codenames.txt",
            ]
        )
        #expect(policy.contentHash.count == 64)
    }

    @Test("demo.yaml loads without diagnostics with the README's names")
    func demoPolicy() throws {
        let policy = try load("demo.yaml")
        let terms = policy.terms.flatMap(\.values)
        for name in ["Nightingale", "Project Falcon", "Tidewater"] {
            #expect(terms.contains(name))
        }
        #expect(policy.patterns.contains { $0.id == "roadmap-quarter" && !$0.near.isEmpty })
        #expect(policy.detectors.contains { $0.kind == .email && $0.coversEmailDomain("lab.example.com") })
        #expect(policy.detectors.contains { $0.kind == .url && $0.coversHost("build.corp.example.com") })
        #expect(policy.detectors.contains { $0.kind == .secret && $0.action == .block })
    }

    @Test("secrets.yaml stands on its own")
    func secretsPolicy() throws {
        let policy = try load("secrets.yaml")
        #expect(policy.name == "lab-secrets")
        #expect(policy.detectors.map(\.kind) == [.secret])
    }
}

@Suite("airlock check")
struct CheckCommandTests {
    @Test("PolicyCheck: OK lines for valid policies, diagnostics for invalid ones")
    func checkCore() throws {
        let fixture = try PolicyFixture([
            "bad.yaml": policyYAML("terms:\n  - {id: t, action: wipe, values: [a1]}\n")
        ])
        let reports = PolicyCheck.run(paths: [examplePolicy("demo.yaml"), fixture.path("bad.yaml")])
        #expect(reports.map(\.isValid) == [true, false])
        let okLine = try #require(reports[0].lines.first)
        let demo = try PolicyLoader.load(path: examplePolicy("demo.yaml"))
        #expect(
            okLine
                == "OK \(examplePolicy("demo.yaml")) (demo@sha256:\(demo.contentHash.prefix(12))…, \(demo.termCount) terms, "
                + "\(demo.patterns.count) patterns, \(demo.detectors.count) detectors, \(demo.fields.count) fields)"
        )
        #expect(
            reports[1].lines == [
                "\(fixture.path("bad.yaml")):4:21: unknown action 'wipe' (expected one of: redact, mask, hash, pseudonymize, block)"
            ]
        )
    }

    static let binary = repositoryRoot.appendingPathComponent(".build/debug/airlock")

    private func run(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = Self.binary
        process.arguments = arguments
        let output = Pipe()
        let error = Pipe()
        process.standardOutput = output
        process.standardError = error
        try process.run()
        // Bounded: a hung binary fails the test instead of hanging CI.
        let deadline = Date().addingTimeInterval(30)
        let stdout = output.fileHandleForReading.readDataToEndOfFile()
        let stderr = error.fileHandleForReading.readDataToEndOfFile()
        while process.isRunning, Date() < deadline {
            usleep(10_000)
        }
        if process.isRunning {
            process.terminate()
            Issue.record("airlock check did not finish within 30 s")
        }
        process.waitUntilExit()
        return (
            process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self)
        )
    }

    /// JSON in a string in JSON ... four documents 500 deep each: the enclosing documents' levels count against the
    /// one depth limit, so the walker's recursion stays bounded. Run by the real binary on a 3 MiB stack (a debug
    /// build needs ~1-2 MiB for one document at the limit; without the shared limit it overflowed even 4 MiB).
    @Test(
        "Documents nested in strings cannot exhaust the stack",
        .enabled(if: FileManager.default.isExecutableFile(atPath: binary.path), "needs .build/debug/airlock")
    )
    func nestedDocumentsKeepTheRecursionBounded() throws {
        var inner = #""Nightingale""#
        for _ in 0..<4 {
            let document = String(repeating: "[", count: 500) + inner + String(repeating: "]", count: 500)
            inner = try #require(String(data: try JSONEncoder().encode(document), encoding: .utf8))
        }
        let fixture = try PolicyFixture([
            "deep.yaml": policyYAML(
                "terms:\n  - {id: codenames, label: CODENAME, action: redact, values: [Nightingale]}\n"
            ),
            "key": Data((0..<32).map { UInt8($0) }).base64EncodedString() + "\n",
            "body.json": #"{"row_data": "# + inner + "}",
        ])
        // A key file others can read is refused.
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: fixture.path("key"))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = [
            "-c",
            // `timeout`: a hung binary fails the test (status 124) instead of hanging CI.
            #"ulimit -s 3072 && exec timeout 60 "$0" redact --policy "$1" --key-file "$2""#
                + #" --content-type application/json "$3""#,
            Self.binary.path, fixture.path("deep.yaml"), fixture.path("key"), fixture.path("body.json"),
        ]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let forwarded = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(
            process.terminationReason == .exit && process.terminationStatus == 0,
            "status \(process.terminationStatus)"
        )
        #expect(forwarded.contains("[REDACTED:CODENAME]") && !forwarded.contains("Nightingale"))
    }

    @Test(
        "The built binary exits 0 for valid policies and 1 with every diagnostic otherwise",
        .enabled(if: FileManager.default.isExecutableFile(atPath: binary.path), "needs .build/debug/airlock")
    )
    func checkBinary() throws {
        let valid = try run(["check", examplePolicy("lab.yaml"), examplePolicy("demo.yaml")])
        #expect(valid.status == 0)
        let lines = valid.stdout.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines.first?.hasPrefix("OK \(examplePolicy("lab.yaml")) (lab-default@sha256:") == true)
        #expect(valid.stderr.isEmpty)

        let fixture = try PolicyFixture([
            "bad.yaml": policyYAML("terms:\n  - {id: t, action: wipe, values: []}\nzzz: 1\n")
        ])
        let invalid = try run(["check", examplePolicy("demo.yaml"), fixture.path("bad.yaml")])
        #expect(invalid.status == 1)
        #expect(invalid.stdout.hasPrefix("OK "))
        #expect(
            invalid.stderr.split(separator: "\n").map(String.init) == [
                "\(fixture.path("bad.yaml")):4:5: term rule 't' has an empty term list",
                "\(fixture.path("bad.yaml")):4:21: unknown action 'wipe' (expected one of: redact, mask, hash, pseudonymize, block)",
                "\(fixture.path("bad.yaml")):5:1: unknown key 'zzz' at the top level",
            ]
        )

        // Valid to the loader but refused by Vectorscan: check compiles like serve does, and points at the rule.
        try fixture.write(
            "repeat.yaml",
            policyYAML("patterns:\n  - id: p\n    regex: 'x{40000}'\n    action: redact\n")
        )
        let uncompilable = try run(["check", fixture.path("repeat.yaml")])
        #expect(uncompilable.status == 1)
        #expect(uncompilable.stdout.isEmpty)
        #expect(
            uncompilable.stderr.hasPrefix("\(fixture.path("repeat.yaml")):4:5: rule p does not compile for matching: ")
        )

        let missing = try run(["check", fixture.path("absent.yaml")])
        #expect(missing.status == 1)
        #expect(missing.stderr == "\(fixture.path("absent.yaml")):1:1: policy file not found\n")
    }
}
