import AirlockProxy
import AirlockRedaction
import AirlockStandIns
import Foundation
import Logging
import NIOPosix
import Testing

/// `AirlockService` in this process (no `airlock` binary): a reload asked for through its API, by SIGHUP, or by an
/// edited policy file swaps the policy in for the next request; an invalid policy is refused and the last good one
/// keeps redacting; shutting down answers later reloads with a refusal.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct AirlockServiceTests {
    /// A service on 127.0.0.1 (ephemeral ports) in front of a stand-in vendor, configured from files in a throwaway
    /// directory, running until `body` returns.
    struct Running {
        var service: AirlockService
        var vendor: StandInVendor
        var certificates: ThrowawayCertificates
        var policyPath: String { self.certificates.directory + "/policy.yaml" }

        /// Sends `{"notes": text}` through the service; returns the body the vendor received.
        func leaves(_ text: String) async throws -> String {
            let port = try #require(self.service.server.listenAddress?.port)
            let result = try await Curl.run([
                "--cacert", self.certificates.caCertificatePath, "-H", "Content-Type: application/json",
                "-d", #"{"notes": "\#(text)"}"#, "https://127.0.0.1:\(port)/scale/v1/task/1",
            ])
            #expect(result.status == 200, "\(result.body)")
            return self.vendor.requests.last?.bodyText ?? ""
        }

        func writePolicy(_ text: String) throws {
            try text.write(toFile: self.policyPath, atomically: true, encoding: .utf8)
        }

        /// `airlock_policy_reloads_total{result=…}` from the service's admin listener.
        func reloads(_ result: String) -> Int {
            let port = self.service.server.adminAddress?.port ?? 0
            return metricSample(#"airlock_policy_reloads_total{result="\#(result)"}"#, adminPort: port) ?? 0
        }
    }

    static func with(
        watchInterval: Duration? = nil,
        signals: [Int32] = [],
        logger: Logger = Logger(label: "test"),
        _ body: (Running) async throws -> Void
    ) async throws {
        let certificates = try ThrowawayCertificates.create()
        defer { certificates.remove() }
        let vendor = try await StandInVendor.start(
            group: MultiThreadedEventLoopGroupHolder.shared,
            serving: certificates
        )
        do {
            let options = AirlockService.Options(
                group: MultiThreadedEventLoopGroupHolder.shared,
                keys: PseudonymKeys(secret: Array(repeating: 7, count: PseudonymKeys.secretLength)),
                watchInterval: watchInterval,
                signals: signals
            )
            let service = try await AirlockService(
                configuration: Self.configuration(in: certificates.directory, vendorPort: vendor.port),
                options: options,
                logger: logger
            )
            try await service.start()
            let running = Task { await service.run() }
            let outcome: Result<Void, any Error>
            do {
                try await body(Running(service: service, vendor: vendor, certificates: certificates))
                outcome = .success(())
            } catch {
                outcome = .failure(error)
            }
            service.requestShutdown()
            await running.value
            try outcome.get()
        } catch {
            await vendor.stop()
            throw error
        }
        await vendor.stop()
    }

    /// Writes `policy.yaml` (Nightingale a term) and `airlock.yaml` into `directory` and loads the latter.
    static func configuration(in directory: String, vendorPort: Int) throws -> ProxyConfiguration {
        try ReloadTests.policy(["Nightingale"])
            .write(toFile: directory + "/policy.yaml", atomically: true, encoding: .utf8)
        try """
        listen:
          address: 127.0.0.1:0
          tls: {certificate: airlock.crt, key: airlock.key}
        admin: {address: 127.0.0.1:0}
        vendors:
          - {name: scale, path_prefix: /scale, upstream: "https://127.0.0.1:\(vendorPort)", ca: ca.crt,
             routes: ["POST /v1/task/*"], policy: policy.yaml}
        audit: {enabled: false}
        """.write(toFile: directory + "/airlock.yaml", atomically: true, encoding: .utf8)
        return try ProxyConfiguration.load(path: directory + "/airlock.yaml")
    }

    @Test func reloadThroughTheServiceAppliesANewPolicyAndRefusesABrokenOne() async throws {
        try await Self.with { airlock in
            #expect(try await airlock.leaves("Tidewater and Nightingale").contains("Tidewater"), "not yet a term")

            try airlock.writePolicy(ReloadTests.policy(["Nightingale", "Tidewater"]))
            #expect(await airlock.service.reload())
            var received = try await airlock.leaves("Tidewater again")
            #expect(!received.contains("Tidewater") && received.contains("CODENAME_"), "\(received)")

            try airlock.writePolicy("version: 1\nname: reload-test\nterms: [{id: codenames}]\n")
            #expect(await airlock.service.reload() == false)
            received = try await airlock.leaves("Tidewater once more")
            #expect(!received.contains("Tidewater") && received.contains("CODENAME_"), "\(received)")
            #expect(airlock.reloads("applied") == 1 && airlock.reloads("refused") == 1)
        }
    }

    /// A reload refused for a policy error logs where the error is, never the policy's own values: a pattern
    /// spelling a codename, a domain and a term quoted in a diagnostic would otherwise sit in the service log.
    @Test func aRefusedReloadLogsWhereNotWhatThePolicySays() async throws {
        let log = CapturedLog()
        try await Self.with(logger: log.logger) { airlock in
            try airlock.writePolicy(
                """
                version: 1
                name: reload-test
                detectors:
                  - email: {action: pseudonymize, domains: ["tidewater.lab!"]}
                fields:
                  - {path: "$.tidewater_notes[", action: redact}
                """
            )
            #expect(await airlock.service.reload() == false)
        }
        let text = log.text
        #expect(text.contains("reload refused") && text.contains("policy.yaml:"), "\(text)")
        #expect(!text.lowercased().contains("tidewater"), "\(text)")
    }

    /// A real SIGHUP to this process reaches the service through its Dispatch signal source (only SIGHUP is handled
    /// here: the test runner keeps SIGINT and SIGTERM).
    @Test func sighupReloadsThePolicy() async throws {
        try await Self.with(signals: [SIGHUP]) { airlock in
            #expect(try await airlock.leaves("Tidewater").contains("Tidewater"), "not yet a term")
            try airlock.writePolicy(ReloadTests.policy(["Nightingale", "Tidewater"]))
            kill(getpid(), SIGHUP)
            #expect(await eventually(timeout: 15) { airlock.reloads("applied") == 1 }, "SIGHUP did not reload")
            let received = try await airlock.leaves("Tidewater")
            #expect(!received.contains("Tidewater") && received.contains("CODENAME_"), "\(received)")
        }
    }

    @Test func anEditedPolicyFileReloadsWithoutBeingAsked() async throws {
        try await Self.with(watchInterval: .milliseconds(100)) { airlock in
            #expect(try await airlock.leaves("Tidewater").contains("Tidewater"), "not yet a term")
            try airlock.writePolicy(ReloadTests.policy(["Nightingale", "Tidewater"]))
            #expect(await eventually(timeout: 15) { airlock.reloads("applied") == 1 }, "the edit was not picked up")
            #expect(try await airlock.leaves("Tidewater").contains("Tidewater") == false)
        }
    }

    /// After `requestShutdown()`, `run()` returns, the lab listener is closed, and a reload is answered false rather
    /// than left waiting.
    @Test func aStoppedServiceClosesItsListenerAndRefusesReloads() async throws {
        var stopped: AirlockService?
        var port = 0
        try await Self.with { airlock in
            stopped = airlock.service
            port = try #require(airlock.service.server.listenAddress?.port)
        }
        let service = try #require(stopped)
        #expect(await service.reload() == false)
        let refused = try await Curl.run(["-k", "-d", "{}", "https://127.0.0.1:\(port)/scale/v1/task/1"], timeout: 5)
        #expect(refused.exitCode != 0, "the listener still answers: \(refused.body)")
    }
}
