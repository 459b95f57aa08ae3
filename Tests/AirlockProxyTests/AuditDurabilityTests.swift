import AirlockAudit
import AirlockProxy
import Foundation
import NIOPosix
import Testing

/// The audit log's guarantees seen from outside the proxy: a crash loses no record of what reached the vendor, and a
/// full disk stops traffic instead of letting it leave unrecorded.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct AuditDurabilityTests {
    static let policy = """
        version: 1
        name: durability-test
        terms:
          - {id: codenames, label: CODENAME, action: pseudonymize, values: ["Nightingale"]}
        """

    /// SHA-256 (hex) of each body, by the real sha256sum tool.
    static func sha256(_ bodies: [[UInt8]]) throws -> [String] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-sha-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var paths: [String] = []
        for (index, body) in bodies.enumerated() {
            let path = directory.appendingPathComponent("\(index)").path
            try Data(body).write(to: URL(fileURLWithPath: path))
            paths.append(path)
        }
        guard !paths.isEmpty else { return [] }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        process.arguments = paths
        let result = try Curl.executeBlocking(process, timeout: 30)
        return result.stdout.split(separator: "\n").map { String($0.prefix(64)) }
    }

    @Test func killedMidLoadTheLogRecoversAndHoldsEveryRequestTheVendorReceived() async throws {
        try await ServedAirlock.with(policy: Self.policy, audit: "{directory: audit}") { airlock in
            let vendor = airlock.vendor

            // Four clients keep sending distinct tasks; the proxy is killed while they do.
            let load = Task.detached {
                try await withThrowingTaskGroup(of: Void.self) { tasks in
                    for client in 0..<4 {
                        tasks.addTask {
                            for index in 0..<400 {
                                _ = try? await airlock.send(
                                    #"{"project": "Nightingale", "client": \#(client), "n": \#(index)}"#,
                                    path: "/scale/v1/task/\(client)-\(index)",
                                    timeout: 5
                                )
                                if Task.isCancelled { return }
                            }
                        }
                    }
                    try await tasks.waitForAll()
                }
            }
            let loaded = await eventually(timeout: 60) { vendor.requests.count >= 40 }
            airlock.signal(SIGKILL)
            airlock.process.waitUntilExit()
            load.cancel()
            _ = try? await load.value
            #expect(loaded, "the vendor saw \(vendor.requests.count) requests before the kill")
            let received = vendor.requests.map(\.body)

            // Opening the log again recovers a torn last line; then the chain verifies.
            let auditURL = URL(fileURLWithPath: airlock.directory + "/audit")
            let reopened = try await AuditLog.open(AuditConfiguration(directory: auditURL))
            try await reopened.close()
            let verify = Process()
            verify.executableURL = URL(fileURLWithPath: ServeCommandTests.airlockBinary)
            verify.arguments = ["log", "verify", "--dir", auditURL.path]
            let verified = try await Curl.execute(verify, timeout: 60)
            #expect(verified.exitCode == 0, "\(verified.stdout)\(verified.stderr)")

            // Every body the vendor received was recorded (durably, before it left) as forwarded.
            let recorded = Set(
                try AuditLogReader(directory: auditURL).entries()
                    .filter { $0.event == .decision && $0.decision == .forwarded }
                    .compactMap(\.forwardedSHA256)
            )
            let missing = try Self.sha256(received).filter { !recorded.contains($0) }
            #expect(missing.isEmpty, "\(missing.count) of \(received.count) forwarded bodies are not in the log")
            #expect(!received.isEmpty)
        }
    }

    @Test func aFullDiskTurnsRequestsInto503sAndNothingLeaves() async throws {
        let mountPoint = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-full-\(UUID())")
        try FileManager.default.createDirectory(at: mountPoint, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: mountPoint) }
        let mount = Process()
        mount.executableURL = URL(fileURLWithPath: "/bin/mount")
        mount.arguments = ["-t", "tmpfs", "-o", "size=64k", "tmpfs", mountPoint.path]
        let mounted = try Curl.executeBlocking(mount, timeout: 30)
        try #require(mounted.exitCode == 0, "this test needs to mount a tmpfs (root): \(mounted.stderr)")
        defer {
            let unmount = Process()
            unmount.executableURL = URL(fileURLWithPath: "/bin/umount")
            unmount.arguments = ["-l", mountPoint.path]
            _ = try? Curl.executeBlocking(unmount, timeout: 30)
        }

        let log = try await AuditLog.open(AuditConfiguration(directory: mountPoint.appendingPathComponent("audit")))
        var options = ProxyHarness.Options()
        options.inspector = try PolicyEnforcementTests.inspector()
        options.recorder = AuditRecorder(log: log)
        let harness = try await ProxyHarness(options)
        // Bodies that do not compress: the stored copies fill 64 KiB within a few requests.
        var statuses: [Int] = []
        for index in 0..<40 {
            let noise = (0..<6000).map { _ in String(UInt32.random(in: 0...UInt32.max), radix: 36) }.joined()
            let result = try await harness.curl([
                "-H", "Content-Type: application/json", "-d", #"{"n": \#(index), "noise": "\#(noise)"}"#,
                harness.url("/scale/v1/task/\(index)"),
            ])
            statuses.append(result.status)
            if result.status == 503 {
                #expect(errorCode(result.body) == "audit_unavailable")
            }
        }
        await harness.close()
        try? await log.close()
        #expect(statuses.contains(503), "\(statuses)")
        #expect(Set(statuses).isSubset(of: [200, 503]), "\(statuses)")
        // The vendor received exactly the requests that were answered 200: none of the refused ones.
        #expect(harness.vendor.requests.count == statuses.filter { $0 == 200 }.count)
    }

    /// The log's own counters on the admin listener's /metrics follow what it made durable.
    @Test func theLogsCountersAreOnTheMetricsEndpoint() async throws {
        try await ServedAirlock.with(policy: Self.policy, audit: "{directory: audit}") { airlock in
            let adminPort = airlock.adminPort
            func counter(_ name: String) -> Int { metricSample(name, adminPort: adminPort) ?? -1 }
            #expect(await eventually(timeout: 30) { counter("airlock_audit_commits_total") >= 0 })
            let before = counter("airlock_audit_records_total")
            for index in 0..<3 {
                let result = try await airlock.send(#"{"project": "Nightingale", "n": \#(index)}"#)
                #expect(result.status == 200)
            }
            // Three decisions were durable before they left; their outcomes follow within the sync delay.
            #expect(await eventually(timeout: 10) { counter("airlock_audit_records_total") >= before + 6 })
            #expect(counter("airlock_audit_commits_total") >= 3)
            #expect(counter("airlock_audit_bodies_stored_total") == 3)
        }
    }
}
