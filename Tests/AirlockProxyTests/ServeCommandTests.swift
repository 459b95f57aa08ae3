import AirlockProxy
import AirlockTLS
import Foundation
import Testing

/// The `airlock serve` executable itself: the built-in demo, and a configured proxy stopped by SIGTERM.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct ServeCommandTests {
    static var airlockBinary: String {
        // Tests/AirlockProxyTests/ServeCommandTests.swift -> package root -> .build/debug/airlock
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/airlock").path
    }

    @Test func demoOnceSendsTheDemoTaskThroughAndExitsZero() throws {
        #expect(FileManager.default.isExecutableFile(atPath: Self.airlockBinary), "build the airlock product first")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.airlockBinary)
        process.arguments = ["serve", "--demo-once", "--log-level", "warning"]
        let result = try Curl.execute(process, timeout: 60)
        #expect(result.exitCode == 0, "\(result.stderr)")
        #expect(result.stdout.contains("What the vendor received:  POST /v1/task/textcollection"))
        #expect(result.stdout.contains("What the lab got back: HTTP 200"))
        #expect(result.stdout.contains("Nightingale"))
        #expect(!result.stdout.contains("X-Forwarded-For: 10.1.2.3"))
    }

    @Test func configuredServerAnswersAndExitsZeroOnSIGTERM() async throws {
        let certificates = try ThrowawayCertificates.create()
        defer { certificates.remove() }
        let vendor = try await StandInVendor.start(
            group: MultiThreadedEventLoopGroupHolder.shared,
            certificatePath: certificates.vendorCertificatePath,
            keyPath: certificates.vendorKeyPath
        )
        let port = try closedPort()
        let config = """
            listen:
              address: 127.0.0.1:\(port)
              tls: {certificate: airlock.crt, key: airlock.key}
            vendors:
              - name: scale
                path_prefix: /scale
                upstream: https://localhost:\(vendor.port)
                ca: ca.crt
                routes: ["POST /v1/task/*"]
            """
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
            let attempt = try Curl.run(
                [
                    "--cacert", certificates.caCertificatePath, "-d", "{}",
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
        #expect(vendor.requests.first?.header("host") == "localhost:\(vendor.port)")
        kill(process.processIdentifier, SIGTERM)
        let exited = await eventually(timeout: 15) { !process.isRunning }
        if !exited { process.terminate() }
        process.waitUntilExit()
        await vendor.stop()
        #expect(exited)
        #expect(process.terminationStatus == 0)
    }

    @Test func invalidConfigurationExits64WithFileLineColumn() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-bad-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("bad.yaml").path
        try "listen:\n  address: nowhere\n".write(toFile: path, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.airlockBinary)
        process.arguments = ["serve", "--config", path]
        let result = try Curl.execute(process, timeout: 30)
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
        let vendor = try await StandInVendor.start(
            group: group,
            certificatePath: certificates.vendorCertificatePath,
            keyPath: certificates.vendorKeyPath
        )
        let yaml = """
            listen:
              address: 127.0.0.1:0
              tls: {certificate: airlock.crt, key: airlock.key, client_ca: ca.crt}
            vendors:
              - {name: scale, path_prefix: /scale, upstream: "https://127.0.0.1:\(vendor.port)", ca: ca.crt,
                 routes: ["POST /v1/task/*"]}
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
        let without = try Curl.run(["--cacert", certificates.caCertificatePath, "-d", "{}", url])
        let with = try Curl.run([
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
