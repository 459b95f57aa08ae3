import AirlockProxy
import AirlockRedaction
import Foundation
import Logging
import NIOCore
import NIOPosix

/// The built-in demo behind `airlock serve` without `--config`: throwaway certificates, a stand-in vendor on
/// 127.0.0.1, an ``AirlockService`` with the demo policy in front of it, and one labeling task sent through it; then it
/// serves on until SIGTERM / SIGINT (or stops at once with `once`). Runs from any working directory (see
/// ``DemoPolicy``). The certificates go when it stops; the audit log stays, for `airlock log show` to read.
public enum AirlockDemo {
    /// A labeling task as a lab would send it, carrying things that must not reach a vendor as they are: a codename,
    /// a roadmap marker, an internal URL and a staff email. All fictional.
    public static let demoTask = """
        {"project": "Nightingale", "instruction": "Rank the answers of Project Falcon before the Q3 2026 launch.", \
        "reference": "https://eval.corp.example.com/falcon/runs/4411", "contact": "jane.doe@lab.example.com", \
        "attachments": [{"type": "text", "content": "Tidewater eval batch 7: compare tone and accuracy."}]}
        """

    /// What the demo runs with, for the transcript.
    struct Setup {
        var certificates: ThrowawayCertificates
        var policy: DemoPolicy.Source
        var auditDirectory: String
        var vendor: StandInVendor
    }

    public static func run(once: Bool, logger: Logger) async throws {
        let certificates = try ThrowawayCertificates.create(commonName: "Airlock demo CA (throwaway)")
        defer { certificates.remove() }
        let policy = try DemoPolicy.resolve(writingEmbeddedInto: certificates.directory)
        let auditDirectory = try Self.makeAuditDirectory()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        let vendor: StandInVendor
        do {
            vendor = try await StandInVendor.start(
                group: group,
                certificatePath: certificates.vendorCertificatePath,
                keyPath: certificates.vendorKeyPath
            )
        } catch {
            try? FileManager.default.removeItem(atPath: auditDirectory)
            try? await group.shutdownGracefully()
            throw error
        }
        let setup = Setup(certificates: certificates, policy: policy, auditDirectory: auditDirectory, vendor: vendor)
        let outcome: Result<Void, any Error>
        do {
            try await Self.serve(setup, group: group, once: once, logger: logger)
            outcome = .success(())
        } catch {
            outcome = .failure(error)
        }
        await vendor.stop()
        try? await group.shutdownGracefully()
        // A demo that failed before its audit log opened leaves no empty directory behind.
        if (try? FileManager.default.contentsOfDirectory(atPath: auditDirectory))?.isEmpty == true {
            try? FileManager.default.removeItem(atPath: auditDirectory)
        }
        try outcome.get()
    }

    private static func serve(
        _ setup: Setup,
        group: MultiThreadedEventLoopGroup,
        once: Bool,
        logger: Logger
    ) async throws {
        // The usual ports may be taken (a second demo, a real Airlock): fall back to ephemeral ones.
        let usual = Self.portIsFree(8443) && Self.portIsFree(9901)
        let configuration = try Self.configuration(setup, port: usual ? 8443 : 0, adminPort: usual ? 9901 : 0)
        // A fresh pseudonym key per demo run: tokens are only meaningful to this run.
        var secret = SystemRandomNumberGenerator()
        let keys = PseudonymKeys(secret: (0..<PseudonymKeys.secretLength).map { _ in secret.next() as UInt8 })
        let service = try await AirlockService(
            configuration: configuration,
            options: AirlockService.Options(group: group, keys: keys),
            logger: logger
        )
        try await service.start()
        let outcome: Result<Void, any Error>
        do {
            try await DemoTranscript(setup: setup, server: service.server).sendTheDemoTask(group: group, once: once)
            outcome = .success(())
        } catch {
            outcome = .failure(error)
        }
        if once || (try? outcome.get()) == nil { service.requestShutdown() }
        await service.run()
        try outcome.get()
    }

    /// A directory of its own for the demo's audit log, kept after the demo stops.
    private static func makeAuditDirectory() throws -> String {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("airlock-demo-audit-\(UInt64.random(in: 0...UInt64.max))", isDirectory: true)
        try FileManager.default.createDirectory(
            at: directory,
            withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700]
        )
        return directory.path
    }

    static func configuration(_ setup: Setup, port: Int, adminPort: Int) throws -> ProxyConfiguration {
        let certificates = setup.certificates
        let yaml = """
            listen:
              address: 127.0.0.1:\(port)
              tls: {certificate: \(certificates.airlockCertificatePath), key: \(certificates.airlockKeyPath)}
            admin:
              address: 127.0.0.1:\(adminPort)
            limits:
              max_body_bytes: 33554432
              upstream_timeout_seconds: 30
              shutdown_grace_seconds: 5
            vendors:
              - name: scale
                path_prefix: /scale
                upstream: https://127.0.0.1:\(setup.vendor.port)
                ca: \(certificates.caCertificatePath)
                routes: ["POST /v1/task/*", "GET /v1/task/*", "POST /v1/batches"]
                policy: \(setup.policy.path)
            audit:
              directory: \(setup.auditDirectory)
            """
        return try ProxyConfiguration.parse(yaml: yaml, file: "<built-in demo>", baseDirectory: certificates.directory)
    }

    static func portIsFree(_ port: Int) -> Bool {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        return result == 0
    }
}
