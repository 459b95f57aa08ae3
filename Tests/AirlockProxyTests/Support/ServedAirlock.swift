import AirlockProxy
import AirlockStandIns
import Foundation
import NIOPosix

/// A real `airlock serve` process in front of an in-process stand-in vendor, configured from the throwaway
/// certificates' directory: `policy.yaml` (the given text), a fresh `pseudonym.key`, and `airlock.yaml`.
final class ServedAirlock: @unchecked Sendable {
    // @unchecked: every property is a constant; the Process is only signalled and waited on.
    let certificates: ThrowawayCertificates
    let group: MultiThreadedEventLoopGroup
    let vendor: StandInVendor
    let process: Process
    let port: Int
    let adminPort: Int

    var directory: String { self.certificates.directory }
    var policyPath: String { self.directory + "/policy.yaml" }
    /// Everything the process wrote to standard output and standard error (its log lines).
    var outputPath: String { self.directory + "/airlock.out" }

    /// `audit` is the YAML value of the config's `audit:` key; `limits`, when given, of its `limits:` key.
    /// - Parameter files: more files for the policy to read (name -> content), written next to it before start.
    /// - Parameter logLevel: the `--log-level` of the process; its output goes to `outputPath`.
    /// - Parameter labelboxPolicy: a policy file name for a second vendor, `labelbox` under `/labelbox` (the same
    ///   stand-in behind it).
    init(
        policy: String,
        audit: String,
        limits: String? = nil,
        files: [String: String] = [:],
        arguments: [String] = [],
        logLevel: String = "error",
        labelboxPolicy: String? = nil
    ) async throws {
        self.certificates = try ThrowawayCertificates.create()
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        self.vendor = try await StandInVendor.start(group: self.group, serving: self.certificates)
        self.port = try closedPort()
        self.adminPort = try closedPort()
        let directory = self.certificates.directory
        try policy.write(toFile: directory + "/policy.yaml", atomically: true, encoding: .utf8)
        for (name, content) in files {
            try content.write(toFile: directory + "/" + name, atomically: true, encoding: .utf8)
        }
        try ThrowawayCertificates.write(
            Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString() + "\n",
            to: directory + "/pseudonym.key",
            mode: 0o600
        )
        let vendorPort = self.vendor.port
        let secondVendor =
            labelboxPolicy.map {
                "  - {name: labelbox, path_prefix: /labelbox, upstream: \"https://127.0.0.1:\(vendorPort)\", "
                    + "ca: ca.crt, routes: [\"POST /v1/task/*\"], policy: \($0)}"
            } ?? ""
        try """
        listen:
          address: 127.0.0.1:\(self.port)
          tls: {certificate: airlock.crt, key: airlock.key}
        admin: {address: 127.0.0.1:\(self.adminPort)}
        vendors:
          - {name: scale, path_prefix: /scale, upstream: "https://127.0.0.1:\(self.vendor.port)", ca: ca.crt,
             routes: ["POST /v1/task/*"], policy: policy.yaml}
        \(secondVendor)
        pseudonym_key: pseudonym.key
        audit: \(audit)
        \(limits.map { "limits: \($0)" } ?? "")
        """.write(toFile: directory + "/airlock.yaml", atomically: true, encoding: .utf8)

        self.process = Process()
        self.process.executableURL = URL(fileURLWithPath: ServeCommandTests.airlockBinary)
        self.process.arguments =
            ["serve", "--config", directory + "/airlock.yaml", "--log-level", logLevel] + arguments
        FileManager.default.createFile(atPath: directory + "/airlock.out", contents: nil)
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: directory + "/airlock.out"))
        self.process.standardOutput = output
        self.process.standardError = output
        try self.process.run()
    }

    /// Starts a `ServedAirlock` (arguments as for `init`), runs `body` with it, and stops it afterwards, also when
    /// `body` throws: no `airlock serve` process, vendor or certificate directory outlives the test.
    static func with<Result>(
        policy: String,
        audit: String,
        limits: String? = nil,
        files: [String: String] = [:],
        arguments: [String] = [],
        logLevel: String = "error",
        labelboxPolicy: String? = nil,
        _ body: (ServedAirlock) async throws -> Result
    ) async throws -> Result {
        let airlock = try await ServedAirlock(
            policy: policy,
            audit: audit,
            limits: limits,
            files: files,
            arguments: arguments,
            logLevel: logLevel,
            labelboxPolicy: labelboxPolicy
        )
        do {
            let result = try await body(airlock)
            await airlock.stop()
            return result
        } catch {
            await airlock.stop()
            throw error
        }
    }

    /// POSTs a JSON task through the proxy.
    func send(_ json: String, path: String = "/scale/v1/task/1", timeout: TimeInterval = 10) async throws -> CurlResult
    {
        try await Curl.run(
            [
                "--cacert", self.certificates.caCertificatePath, "-H", "Content-Type: application/json", "-d", json,
                "https://127.0.0.1:\(self.port)\(path)",
            ],
            timeout: timeout
        )
    }

    func signal(_ number: Int32) {
        kill(self.process.processIdentifier, number)
    }

    /// Stops the process (SIGKILL if still running), the vendor and the certificates.
    func stop() async {
        if self.process.isRunning {
            kill(self.process.processIdentifier, SIGKILL)
            self.process.waitUntilExit()
        }
        await self.vendor.stop()
        try? await self.group.shutdownGracefully()
        self.certificates.remove()
    }
}
