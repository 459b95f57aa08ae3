import AirlockProxy
import Foundation
import NIOCore
import NIOPosix
import Testing

/// SIGHUP to a real `airlock serve`: a valid policy change takes effect without dropping the request in flight; an
/// invalid one is refused and the last good policy keeps redacting.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct ReloadTests {
    static func policy(_ terms: [String]) -> String {
        """
        version: 1
        name: reload-test
        terms:
          - {id: codenames, label: CODENAME, action: pseudonymize, values: [\(terms.map { "\"\($0)\"" }.joined(separator: ", "))]}
        """
    }

    @Test func sighupSwapsPoliciesAndRefusesABrokenOne() async throws {
        let certificates = try ThrowawayCertificates.create()
        defer { certificates.remove() }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let vendor = try await StandInVendor.start(
            group: group,
            certificatePath: certificates.vendorCertificatePath,
            keyPath: certificates.vendorKeyPath
        )
        let port = try closedPort()
        let adminPort = try closedPort()
        let directory = certificates.directory
        let policyPath = directory + "/policy.yaml"
        try Self.policy(["Nightingale"]).write(toFile: policyPath, atomically: true, encoding: .utf8)
        try ThrowawayCertificates.write(
            Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString() + "\n",
            to: directory + "/pseudonym.key",
            mode: 0o600
        )
        try """
        listen:
          address: 127.0.0.1:\(port)
          tls: {certificate: airlock.crt, key: airlock.key}
        admin: {address: 127.0.0.1:\(adminPort)}
        vendors:
          - {name: scale, path_prefix: /scale, upstream: "https://127.0.0.1:\(vendor.port)", ca: ca.crt,
             routes: ["POST /v1/task/*"], policy: policy.yaml}
        pseudonym_key: pseudonym.key
        audit: {enabled: false}
        """.write(toFile: directory + "/airlock.yaml", atomically: true, encoding: .utf8)

        let airlock = Process()
        airlock.executableURL = URL(fileURLWithPath: ServeCommandTests.airlockBinary)
        airlock.arguments = ["serve", "--config", directory + "/airlock.yaml", "--log-level", "error"]
        airlock.standardOutput = FileHandle.nullDevice
        airlock.standardError = FileHandle.nullDevice
        try airlock.run()
        defer {
            if airlock.isRunning { kill(airlock.processIdentifier, SIGKILL) }
        }
        let ca = certificates.caCertificatePath
        func send(_ text: String) async throws -> CurlResult {
            try await Curl.run(
                [
                    "--cacert", ca, "-H", "Content-Type: application/json", "-d", #"{"notes": "\#(text)"}"#,
                    "https://127.0.0.1:\(port)/scale/v1/task/1",
                ],
                timeout: 10
            )
        }
        func readyz() async throws -> String {
            try await Curl.run(["http://127.0.0.1:\(adminPort)/readyz"], timeout: 5).body
        }
        #expect(
            await eventually(timeout: 30) {
                (try? Curl.runBlocking(["http://127.0.0.1:\(adminPort)/readyz"]))?.status == 200
            }
        )
        let before = try await readyz()

        _ = try await send("Tidewater and Nightingale")
        #expect(vendor.requests.last?.bodyText.contains("Tidewater") == true, "not yet a term")

        // A request in flight while the policy changes still completes.
        vendor.behavior = .delay(.milliseconds(800))
        let inFlight = Task { try await send("slow Nightingale") }
        try await Task.sleep(nanoseconds: 200_000_000)
        try Self.policy(["Nightingale", "Tidewater"]).write(toFile: policyPath, atomically: true, encoding: .utf8)
        kill(airlock.processIdentifier, SIGHUP)
        let swapped = await eventually(timeout: 15) {
            let now = (try? Curl.runBlocking(["http://127.0.0.1:\(adminPort)/readyz"]))?.body ?? before
            return now != before && now.contains("reload-test@sha256:")
        }
        #expect(swapped, "/readyz never reported the new policy")
        #expect(try await inFlight.value.status == 200)
        vendor.behavior = .echo

        _ = try await send("Tidewater again")
        let redacted = vendor.requests.last?.bodyText ?? ""
        #expect(!redacted.contains("Tidewater") && redacted.contains("CODENAME_"), "\(redacted)")

        // A broken policy is refused; the last good one keeps redacting.
        let good = try await readyz()
        try "version: 1\nname: reload-test\nterms: [{id: codenames}]\n".write(
            toFile: policyPath,
            atomically: true,
            encoding: .utf8
        )
        kill(airlock.processIdentifier, SIGHUP)
        try await Task.sleep(nanoseconds: 1_000_000_000)
        #expect(try await readyz() == good)
        let still = try await send("Tidewater once more")
        #expect(still.status == 200)
        #expect(vendor.requests.last?.bodyText.contains("Tidewater") == false)
        #expect(airlock.isRunning)

        kill(airlock.processIdentifier, SIGTERM)
        airlock.waitUntilExit()
        await vendor.stop()
        try? await group.shutdownGracefully()
    }
}
