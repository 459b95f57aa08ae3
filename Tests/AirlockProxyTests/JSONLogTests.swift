import AirlockStandIns
import Foundation
import Logging
import NIOPosix
import Testing

@testable import AirlockProxy

/// `airlock serve --log-format json`: one JSON object per line, an access line per request that never carries a
/// value from it, and vendor connect / TLS failures named by vendor.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct JSONLogTests {
    /// Each line of `text` as a JSON object; nil for a line that is not one.
    static func records(_ text: String) -> [[String: Any]?] {
        text.split(separator: "\n").map { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
        }
    }

    static func fields(_ record: [String: Any]) -> [String: Any] { record["fields"] as? [String: Any] ?? [:] }

    @Test func aRecordNeverSpansLines() throws {
        let event = LogEvent(
            level: .warning,
            message: "two\nlines \"quoted\" \\ and \u{1}",
            metadata: nil,
            source: "test",
            file: #fileID,
            function: #function,
            line: #line
        )
        let line = JSONLogHandler.line(
            event: event,
            label: "airlock",
            fields: ["a": "x\ny", "nested": ["k": ["1", "2\r\n"]], "count": .stringConvertible(42)]
        )
        let text = String(decoding: line, as: UTF8.self)
        #expect(text.hasSuffix("}\n") && text.dropLast().firstIndex(of: "\n") == nil, "\(text)")
        let record = try #require(Self.records(text).first ?? nil, "\(text)")
        #expect(record["message"] as? String == "two\nlines \"quoted\" \\ and \u{1}")
        #expect(record["level"] as? String == "warning")
        #expect(record["label"] as? String == "airlock")
        #expect((record["time"] as? String)?.hasSuffix("Z") == true)
        let fields = Self.fields(record)
        #expect(fields["a"] as? String == "x\ny")
        #expect((fields["nested"] as? [String: Any])?["k"] as? [String] == ["1", "2\r\n"])
        #expect(fields["count"] as? Int == 42)
    }

    @Test func accessLinesNameTheRouteNeverThePathOrBody() async throws {
        let policy = """
            version: 1
            name: json-log-test
            terms:
              - {id: codenames, label: CODENAME, action: pseudonymize, values: ["Nightingale"]}
            """
        let output = try await ServedAirlock.with(
            policy: policy,
            audit: "{directory: audit}",
            arguments: ["--log-format", "json"],
            logLevel: "info"
        ) { airlock in
            let adminPort = airlock.adminPort
            #expect(
                await eventually(timeout: 30) {
                    ((try? Curl.runBlocking(["http://127.0.0.1:\(adminPort)/readyz"]))?.status ?? 0) == 200
                }
            )
            let body = #"{"project": "Nightingale"}"#
            let forwarded = try await airlock.send(body, path: "/scale/v1/task/Nightingale-1?project=Nightingale")
            #expect(forwarded.status == 200)
            let refused = try await airlock.send(body, path: "/scale/v2/Nightingale/secret")
            #expect(refused.status == 403)
            airlock.signal(SIGTERM)
            #expect(await eventually(timeout: 15) { !airlock.process.isRunning })
            return try String(contentsOfFile: airlock.outputPath, encoding: .utf8)
        }
        #expect(!output.contains("Nightingale"), "\(output)")
        let records = Self.records(output)
        #expect(!records.isEmpty && records.allSatisfy { $0 != nil }, "\(output)")
        let access = records.compactMap { $0 }.filter { $0["message"] as? String == "access" }.map(Self.fields)
        #expect(access.count == 2, "\(output)")
        let ok = try #require(access.first { $0["airlock.status"] as? Int == 200 }, "\(output)")
        #expect(ok["airlock.vendor"] as? String == "scale")
        #expect(ok["airlock.route"] as? String == "POST /v1/task/*")
        #expect(ok["airlock.decision"] as? String == "forwarded")
        #expect(ok["airlock.bytes_in"] as? Int == 26)
        #expect((ok["airlock.bytes_out"] as? Int ?? 0) > 0)
        #expect(ok["airlock.duration_ms"] is Double || ok["airlock.duration_ms"] is Int)
        #expect((ok["airlock.request"] as? String)?.contains("-") == true)
        #expect(ok["airlock.client"] as? String == "127.0.0.1")
        let no = try #require(access.first { $0["airlock.status"] as? Int == 403 }, "\(output)")
        #expect(no["airlock.route"] as? String == "-")
        #expect(no["airlock.decision"] as? String == "route_not_allowed")
    }

    /// A vendor whose certificate does not verify and one nobody listens for: each failure is a warning naming the
    /// vendor and why.
    @Test func vendorConnectAndTLSFailuresNameTheVendor() async throws {
        let group = MultiThreadedEventLoopGroupHolder.shared
        let other = try ThrowawayCertificates.create(commonName: "Some other CA")
        defer { other.remove() }
        let port = try closedPort()
        let adminPort = try closedPort()
        let directory = try OperatorBasicsTests.ConfigDirectory("")
        defer { directory.remove() }
        let vendor = try await StandInVendor.start(group: group, serving: directory.certificates)
        defer { Task { await vendor.stop() } }
        // scale: the real stand-in, trusted through a CA that did not sign it; labelbox: a closed port.
        let config = OperatorBasicsTests.config(
            vendorPort: vendor.port,
            port: port,
            adminPort: adminPort,
            scaleCA: other.caCertificatePath,
            labelboxPort: try closedPort()
        )
        try directory.write(config, to: "airlock.yaml")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ServeCommandTests.airlockBinary)
        process.arguments = ["serve", "--config", directory.configPath, "--log-format", "json", "--log-level", "info"]
        let outputPath = directory.directory + "/airlock.out"
        FileManager.default.createFile(atPath: outputPath, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
        process.standardError = handle
        process.standardOutput = handle
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        #expect(
            await eventually(timeout: 30) {
                ((try? Curl.runBlocking(["http://127.0.0.1:\(adminPort)/readyz"]))?.status ?? 0) == 200
            }
        )
        for vendorName in ["scale", "labelbox"] {
            let result = try await Curl.run([
                "--cacert", directory.certificates.caCertificatePath, "-H", "Content-Type: application/json",
                "-d", "{}", "https://127.0.0.1:\(port)/\(vendorName)/v1/task/1",
            ])
            #expect(result.status == 502, "\(vendorName): \(result.body)")
        }
        kill(process.processIdentifier, SIGTERM)
        #expect(await eventually(timeout: 15) { !process.isRunning })
        let output = try String(contentsOfFile: outputPath, encoding: .utf8)
        let warnings = Self.records(output).compactMap { $0 }.filter { $0["level"] as? String == "warning" }
            .map(Self.fields)
        let tls = warnings.first { $0["airlock.vendor"] as? String == "scale" }
        #expect((tls?["airlock.error"] as? String)?.hasPrefix("tls_") == true, "\(output)")
        #expect((tls?["airlock.detail"] as? String)?.contains("verif") == true, "\(output)")
        let connect = warnings.first { $0["airlock.vendor"] as? String == "labelbox" }
        #expect(connect?["airlock.error"] as? String == "connect_failed", "\(output)")
        #expect(connect?["airlock.detail"] != nil, "\(output)")
    }
}
