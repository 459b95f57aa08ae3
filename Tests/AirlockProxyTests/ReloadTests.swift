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
        let airlock = try await ServedAirlock(policy: Self.policy(["Nightingale"]), audit: "{enabled: false}")
        let vendor = airlock.vendor
        let adminPort = airlock.adminPort
        let policyPath = airlock.policyPath
        func send(_ text: String) async throws -> CurlResult {
            try await airlock.send(#"{"notes": "\#(text)"}"#)
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
        airlock.signal(SIGHUP)
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
        airlock.signal(SIGHUP)
        try await Task.sleep(nanoseconds: 1_000_000_000)
        #expect(try await readyz() == good)
        let still = try await send("Tidewater once more")
        #expect(still.status == 200)
        #expect(vendor.requests.last?.bodyText.contains("Tidewater") == false)
        #expect(airlock.process.isRunning)

        airlock.signal(SIGTERM)
        airlock.process.waitUntilExit()
        #expect(airlock.process.terminationStatus == 0)
        await airlock.stop()
    }
}
