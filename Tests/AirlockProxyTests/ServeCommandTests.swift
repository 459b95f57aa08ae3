import AirlockProxy
import AirlockStandIns
import AirlockTLS
import Foundation
import Testing

@testable import AirlockAudit

/// The `airlock serve` executable itself: the built-in demo, and a configured proxy stopped by SIGTERM.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct ServeCommandTests {
    static var airlockBinary: String {
        // Tests/AirlockProxyTests/ServeCommandTests.swift -> package root -> .build/debug/airlock
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/airlock").path
    }

    /// The demo's output split at blank lines, keyed by each section's first line up to its colon.
    static func sections(_ output: String) -> [String: String] {
        var sections: [String: String] = [:]
        for section in output.components(separatedBy: "\n\n") {
            let heading = section.prefix { $0 != ":" && $0 != "\n" }
            sections[String(heading)] = section
        }
        return sections
    }

    /// Run from a directory that is not the repository's (the demo used to need `Policies/demo.yaml` under the
    /// working directory).
    @Test func demoShowsTheVendorNoSecretAndTheLabItsOwnNames() async throws {
        #expect(FileManager.default.isExecutableFile(atPath: Self.airlockBinary), "build the airlock product first")
        let elsewhere = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-cwd-\(UUID())")
        try FileManager.default.createDirectory(at: elsewhere, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: elsewhere) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.airlockBinary)
        process.arguments = ["serve", "--demo-once", "--log-level", "warning"]
        process.currentDirectoryURL = elsewhere
        let result = try await Curl.execute(process, timeout: 60)
        #expect(result.exitCode == 0, "\(result.stderr)")
        // The audit log the demo points to outlives it, holding the demo task's decision (rule ids, no values).
        let auditLine = result.stdout.split(separator: "\n").first { $0.hasPrefix("  audit log ") } ?? ""
        let auditDirectory = auditLine.split(separator: " ").dropFirst(2).first.map(String.init) ?? ""
        defer { if auditDirectory.hasPrefix("/") { try? FileManager.default.removeItem(atPath: auditDirectory) } }
        let show = Process()
        show.executableURL = URL(fileURLWithPath: Self.airlockBinary)
        show.arguments = ["log", "show", "--json", "--dir", auditDirectory]
        let shown = try await Curl.execute(show, timeout: 30)
        #expect(shown.exitCode == 0 && shown.stdout.contains("\"codenames\""), "\(auditLine)\n\(shown.stderr)")
        #expect(!shown.stdout.contains("Nightingale"), "\(shown.stdout)")
        let sections = Self.sections(result.stdout)
        let sent = try #require(sections["What the lab sent"], "\(result.stdout)")
        let received = try #require(sections["What the vendor received"], "\(result.stdout)")
        let gotBack = try #require(sections["What the lab got back"], "\(result.stdout)")
        // Every secret of the demo task is in what the lab sent ...
        let secrets = [
            "Nightingale", "Falcon", "Tidewater", "jane.doe@lab.example.com", "Q3 2026", "eval.corp.example.com",
        ]
        for secret in secrets { #expect(sent.contains(secret), "\(secret) not in what the lab sent") }
        // ... none is in what the vendor received, which holds the stand-ins instead ...
        for secret in secrets { #expect(!received.contains(secret), "\(secret) reached the vendor:\n\(received)") }
        #expect(received.contains("CODENAME_") && received.contains("EMAIL_"), "\(received)")
        #expect(!received.contains("X-Forwarded-For") && !received.contains("lab-gateway"), "\(received)")
        // ... and the lab got its own names back, with no stand-in left over.
        #expect(gotBack.contains("HTTP 200"), "\(gotBack)")
        for name in ["Nightingale", "Falcon", "jane.doe@lab.example.com"] {
            #expect(gotBack.contains(name), "\(name) not restored:\n\(gotBack)")
        }
        #expect(!gotBack.contains("CODENAME_") && !gotBack.contains("EMAIL_"), "\(gotBack)")
    }

    @Test func configuredServerAnswersAndExitsZeroOnSIGTERM() async throws {
        let certificates = try ThrowawayCertificates.create()
        defer { certificates.remove() }
        let vendor = try await StandInVendor.start(
            group: MultiThreadedEventLoopGroupHolder.shared,
            serving: certificates
        )
        let port = try closedPort()
        let adminPort = try closedPort()
        let config = """
            listen:
              address: 127.0.0.1:\(port)
              tls: {certificate: airlock.crt, key: airlock.key}
            admin: {address: 127.0.0.1:\(adminPort)}
            vendors:
              - name: scale
                path_prefix: /scale
                upstream: https://localhost:\(vendor.port)
                ca: ca.crt
                routes: ["POST /v1/task/*"]
                policy: policy.yaml
            pseudonym_key: pseudonym.key
            audit:
              directory: audit
            """
        // A real policy and key: what the binary forwards is redacted, and the audit log records it.
        try """
        version: 1
        name: serve-test
        terms:
          - {id: codenames, label: CODENAME, action: pseudonymize, values: ["Nightingale"]}
        """.write(toFile: certificates.directory + "/policy.yaml", atomically: true, encoding: .utf8)
        try ThrowawayCertificates.write(
            Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString() + "\n",
            to: certificates.directory + "/pseudonym.key",
            mode: 0o600
        )
        let configPath = certificates.directory + "/airlock.yaml"
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.airlockBinary)
        process.arguments = ["serve", "--config", configPath, "--log-level", "warning"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        var answered: CurlResult?
        for _ in 0..<100 {
            let attempt = try await Curl.run(
                [
                    "--cacert", certificates.caCertificatePath, "-H", "Content-Type: application/json",
                    "-d", #"{"project": "Nightingale"}"#,
                    "https://127.0.0.1:\(port)/scale/v1/task/1",
                ],
                timeout: 5
            )
            if attempt.exitCode == 0 {
                answered = attempt
                break
            }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        #expect(answered?.status == 200)
        // /readyz names the policy version this process enforces.
        let ready = try await Curl.run(["http://127.0.0.1:\(adminPort)/readyz"])
        #expect(ready.body.hasPrefix("ready\npolicy scale serve-test@sha256:"), "\(ready.body)")
        #expect(vendor.requests.first?.header("host") == "localhost:\(vendor.port)")
        let received = vendor.requests.first?.bodyText ?? ""
        #expect(received.contains("CODENAME_") && !received.contains("Nightingale"), "\(received)")
        // The vendor echoes the token back; the lab sees its own name again.
        #expect(answered?.body.contains("Nightingale") == true)
        kill(process.processIdentifier, SIGTERM)
        let exited = await eventually(timeout: 15) { !process.isRunning }
        if !exited { process.terminate() }
        process.waitUntilExit()
        await vendor.stop()
        #expect(exited)
        #expect(process.terminationStatus == 0)
        // The log holds the decision (rule ids only) and verifies; the codename appears nowhere in it.
        let verify = Process()
        verify.executableURL = URL(fileURLWithPath: Self.airlockBinary)
        verify.arguments = ["log", "verify", "--dir", certificates.directory + "/audit"]
        #expect(try await Curl.execute(verify, timeout: 30).exitCode == 0)
        let show = Process()
        show.executableURL = URL(fileURLWithPath: Self.airlockBinary)
        show.arguments = ["log", "show", "--json", "--dir", certificates.directory + "/audit"]
        let shown = try await Curl.execute(show, timeout: 30)
        #expect(
            shown.stdout.contains("\"codenames\"") && shown.stdout.contains("serve-test@sha256:"),
            "\(shown.stdout)"
        )
        // Every file, body packs decompressed: the stored body is there (with its token), the codename is not.
        let (raw, unpacked) = try Self.everythingStored(under: certificates.directory + "/audit")
        #expect(unpacked.contains("CODENAME_"), "the body packs hold no stored body")
        #expect(!raw.contains("Nightingale") && !unpacked.contains("Nightingale"))
    }

    /// Every byte of every file under `directory` as text, and the body packs' (gzip) members decompressed.
    static func everythingStored(under directory: String) throws -> (raw: String, unpacked: String) {
        var raw: [UInt8] = []
        var unpacked: [UInt8] = []
        for case let path as String in FileManager.default.enumerator(atPath: directory)?.allObjects ?? [] {
            var isDirectory: ObjCBool = false
            let full = directory + "/" + path
            guard FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory), !isDirectory.boolValue
            else { continue }
            let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: full)))
            raw += bytes
            if path.hasSuffix(".gz") { unpacked += try BodyStore.gunzip(bytes, source: path, allMembers: true) }
        }
        return (String(decoding: raw, as: UTF8.self), String(decoding: unpacked, as: UTF8.self))
    }

    @Test func invalidConfigurationExits64WithFileLineColumn() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-bad-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("bad.yaml").path
        try "listen:\n  address: nowhere\n".write(toFile: path, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.airlockBinary)
        process.arguments = ["serve", "--config", path]
        let result = try await Curl.execute(process, timeout: 30)
        #expect(result.exitCode == 64)
        #expect(result.stderr.contains("bad.yaml:2:12:"), "\(result.stderr)")
    }
}

/// Client certificates (mTLS) on the lab leg, through real curl.
@Suite(.timeLimit(.minutes(2)))
struct MutualTLSTests {
    @Test func clientCertificateRequiredWhenClientCAIsConfigured() async throws {
        let certificates = try ThrowawayCertificates.create()
        defer { certificates.remove() }
        let clientKey = try PrivateKey(generating: .ecdsaP256)
        let clientCertificate = try certificates.authority.issue(
            commonName: "lab-client",
            usage: .client,
            key: clientKey
        )
        let certPath = certificates.directory + "/client.crt"
        let keyPath = certificates.directory + "/client.key"
        try ThrowawayCertificates.write(clientCertificate.pemRepresentation, to: certPath, mode: 0o644)
        try ThrowawayCertificates.write(clientKey.pemRepresentation, to: keyPath, mode: 0o600)
        let group = MultiThreadedEventLoopGroupHolder.shared
        let vendor = try await StandInVendor.start(group: group, serving: certificates)
        let yaml = """
            listen:
              address: 127.0.0.1:0
              tls: {certificate: airlock.crt, key: airlock.key, client_ca: ca.crt}
            vendors:
              - {name: scale, path_prefix: /scale, upstream: "https://127.0.0.1:\(vendor.port)", ca: ca.crt,
                 routes: ["POST /v1/task/*"], policy: none}
            """
        let configuration = try ProxyConfiguration.parse(yaml: yaml, baseDirectory: certificates.directory)
        let recorder = CollectingRecorder()
        let server = try AirlockProxyServer(
            configuration: configuration,
            group: group,
            recorder: recorder,
            logger: .init(label: "test")
        )
        try await server.start()
        let url = "https://127.0.0.1:\(server.listenAddress!.port!)/scale/v1/task/1"
        let without = try await Curl.run(["--cacert", certificates.caCertificatePath, "-d", "{}", url])
        let with = try await Curl.run([
            "--cacert", certificates.caCertificatePath, "--cert", certPath, "--key", keyPath,
            "-d", "{}", url,
        ])
        await server.shutdown(gracePeriod: .seconds(1))
        await vendor.stop()
        #expect(without.exitCode != 0)
        #expect(with.status == 200)
        #expect(vendor.requests.count == 1)
        // The verified client identity reaches the audit seam.
        #expect(recorder.decisions.first?.client.certificateCommonName == "lab-client")
        #expect(recorder.decisions.first?.client.address == "127.0.0.1")
    }
}
