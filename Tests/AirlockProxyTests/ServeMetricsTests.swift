import Foundation
import Testing

/// `/metrics` of a real `airlock serve`: the process's resources and the build it runs, next to the proxy's own.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct ServeMetricsTests {
    @Test func metricsHoldProcessResourcesAndTheBuild() async throws {
        let version = try await CommandLineTests.airlock(["--version"]).stdout.split(separator: "\n").map(String.init)
        let text = try await ServedAirlock.with(policy: "version: 1\nname: m\n", audit: "{directory: audit}") {
            airlock in
            let adminPort = airlock.adminPort
            #expect(
                await eventually(timeout: 30) {
                    ((try? Curl.runBlocking(["http://127.0.0.1:\(adminPort)/readyz"]))?.status ?? 0) == 200
                }
            )
            #expect(try await airlock.send("{}").status == 200)
            return try await Curl.run(["http://127.0.0.1:\(adminPort)/metrics"]).body
        }
        func sample(_ name: String) -> Double? {
            text.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap {
                Double($0.split(separator: " ")[1])
            }
        }
        #expect((sample("process_resident_memory_bytes") ?? 0) > 1_000_000, "\(text)")
        #expect((sample("process_virtual_memory_bytes") ?? 0) > 1_000_000)
        #expect((sample("process_open_fds") ?? 0) > 3)
        #expect((sample("process_max_fds") ?? 0) >= (sample("process_open_fds") ?? .infinity))
        #expect((sample("process_cpu_seconds_total") ?? 0) > 0)
        #expect((sample("process_start_time_seconds") ?? 0) > 1_700_000_000)
        #expect(text.contains("# TYPE process_cpu_seconds_total counter"))
        // The build: `airlock --version`'s version and commit.
        let release = version.first?.split(separator: " ").last.map(String.init) ?? "?"
        let commit = version.dropFirst().first?.split(separator: " ").last.map(String.init) ?? "?"
        #expect(text.contains("airlock_build_info{version=\"\(release)\",commit=\"\(commit)\"} 1.0"), "\(text)")
        // Today's names and labels, now rendered by swift-prometheus.
        #expect(text.contains("airlock_requests_total{vendor=\"scale\",status=\"200\"} 1"), "\(text)")
        #expect(text.contains("airlock_decisions_total{vendor=\"scale\",decision=\"forwarded\"} 1"), "\(text)")
    }
}
