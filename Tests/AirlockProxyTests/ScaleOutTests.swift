import AirlockAudit
import AirlockProxy
import AirlockRedaction
import AirlockStandIns
import AirlockSupport
import Foundation
import NIOPosix
import Testing

/// Two `airlock serve` replicas with the same configuration and keys behind HAProxy (Debian's `haproxy`, TCP mode:
/// each replica terminates the lab's TLS itself; health checks on `/readyz`), as README "Scale-out" documents. Load
/// goes through HAProxy with curl and the official `scaleapi` client; one replica is killed (SIGKILL) mid-load.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct ScaleOutTests {
    static let apiKey = "live_test_key"

    /// One `airlock serve` replica: its ports, audit directory and process.
    struct Replica {
        let id: String
        let port: Int
        let adminPort: Int
        let audit: String
        let process: Process
        let output: String

        static func start(id: String, directory: String, vendorPort: Int) throws -> Replica {
            let port = try closedPort()
            let adminPort = try closedPort()
            // The replicas' files differ only in what is the replica's own: its id, addresses and audit directory.
            try """
            replica_id: \(id)
            listen:
              address: 127.0.0.1:\(port)
              tls: {certificate: airlock.crt, key: airlock.key}
            admin: {address: 127.0.0.1:\(adminPort)}
            limits: {upstream_timeout_seconds: 10, shutdown_grace_seconds: 5}
            vendors:
              - name: scale
                path_prefix: /scale
                upstream: https://127.0.0.1:\(vendorPort)
                ca: ca.crt
                routes: ["POST /v1/task/*", "GET /v1/task/*"]
                policy: policy.yaml
            pseudonym_key: pseudonym.key
            audit: {directory: audit-\(id), signing_key: signing.key}
            """.write(toFile: "\(directory)/replica-\(id).yaml", atomically: true, encoding: .utf8)
            let output = "\(directory)/replica-\(id).out"
            FileManager.default.createFile(atPath: output, contents: nil)
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
            let process = Process()
            process.executableURL = URL(fileURLWithPath: ServeCommandTests.airlockBinary)
            process.arguments = [
                "serve", "--config", "\(directory)/replica-\(id).yaml", "--log-level", "warning", "--watch-interval",
                "0",
            ]
            process.standardOutput = handle
            process.standardError = handle
            try process.run()
            return Replica(
                id: id,
                port: port,
                adminPort: adminPort,
                audit: "\(directory)/audit-\(id)",
                process: process,
                output: output
            )
        }

        var isReady: Bool {
            ((try? Curl.runBlocking(["http://127.0.0.1:\(self.adminPort)/readyz"]))?.status ?? 0) == 200
        }
    }

    /// HAProxy in front of `replicas`, TCP mode, round robin, health-checked on each admin listener's `/readyz`;
    /// a connection a dead replica refuses is tried again on another one.
    static func haproxyConfiguration(port: Int, replicas: [Replica]) -> String {
        let servers = replicas.map {
            "    server \($0.id) 127.0.0.1:\($0.port) check port \($0.adminPort) inter 200ms fall 1 rise 2"
        }
        return """
            global
                maxconn 512
            defaults
                mode tcp
                timeout connect 2s
                timeout client 30s
                timeout server 30s
                retries 2
                option redispatch 1
            frontend lab
                bind 127.0.0.1:\(port)
                default_backend airlock
            backend airlock
                balance roundrobin
                option httpchk GET /readyz
                http-check expect status 200
            \(servers.joined(separator: "\n"))

            """
    }

    /// A Scale task through `base` (curl), its outcome.
    static func createTask(base: String, ca: String, number: Int) async throws -> CurlResult {
        try await Curl.run(
            [
                "--cacert", ca, "-u", "\(Self.apiKey):", "-H", "Content-Type: application/json",
                "-d",
                #"{"project": "Nightingale annotation", "instruction": "task \#(number) of the Nightingale eval"}"#,
                "\(base)/scale/v1/task/textcollection",
            ],
            timeout: 20
        )
    }

    /// What a request through the pair may end as: answered with the lab's own names, or failed visibly (a
    /// transport error from the replica that died under it, or an Airlock error status with its JSON body).
    enum Ending: Equatable {
        case restored
        case transportError(Int32)
        case errorStatus(Int)
        case unexpected(String)

        init(_ result: CurlResult) {
            if result.exitCode != 0 {
                self =
                    [7, 16, 35, 52, 55, 56].contains(result.exitCode)
                    ? .transportError(result.exitCode) : .unexpected("curl exit \(result.exitCode)")
            } else if result.status == 200 {
                self =
                    result.body.contains(#""project":"Nightingale annotation""#) && !result.body.contains("CODENAME_")
                    ? .restored : .unexpected(result.body)
            } else if [502, 503].contains(result.status) && result.body.contains(#""error":{"code":"#) {
                self = .errorStatus(result.status)
            } else {
                self = .unexpected("\(result.status) \(result.body)")
            }
        }
    }

    static let scaleScript = #"""
        import json, os, sys
        cfg = json.loads(os.environ["AIRLOCK_TEST_INPUT"])
        from scaleapi import ScaleClient
        from scaleapi.tasks import TaskType
        client = ScaleClient(cfg["api_key"], api_instance_url=cfg["base"] + "/scale/v1", verify=cfg["ca"])
        outcomes = []
        for number in range(cfg["count"]):
            try:
                task = client.create_task(
                    TaskType.TextCollection, project="Nightingale annotation",
                    instruction="client task %d of the Nightingale eval" % number,
                    attachments=[], fields=[])
                outcomes.append({"ok": task.as_dict().get("project") == "Nightingale annotation"})
            except Exception as error:
                outcomes.append({"ok": False, "error": type(error).__name__,
                                 "status": getattr(error, "status_code", None)})
        print("@@RESULT@@ " + json.dumps({"ok": True, "outcomes": outcomes}))
        """#

    @Test func replicaIDDefaultsToTheHostNameAndIsValidated() throws {
        let base = """
            listen: {address: 127.0.0.1:0, tls: {certificate: a.crt, key: a.key}}
            vendors: [{name: scale, path_prefix: /scale, upstream: "https://127.0.0.1:9", routes: ["GET /x"], policy: none}]

            """
        let defaulted = try ProxyConfiguration.parse(yaml: base, baseDirectory: "/tmp")
        #expect(defaulted.replicaID == ReplicaID.hostName && !defaulted.replicaID.isEmpty)
        let named = try ProxyConfiguration.parse(yaml: base + "replica_id: eu-west-2.a\n", baseDirectory: "/tmp")
        #expect(named.replicaID == "eu-west-2.a")
        #expect(throws: ConfigurationError.self) {
            try ProxyConfiguration.parse(yaml: base + "replica_id: \"a b\"\n", baseDirectory: "/tmp")
        }
    }

    // Over 80 lines: one scenario, start to finish (replicas, HAProxy, load, kill, then each check in turn).
    @Test func twoReplicasBehindHAProxyLoseOneAndNothingLeavesUnrecorded() async throws {
        let certificates = try ThrowawayCertificates.create()
        defer { certificates.remove() }
        let directory = certificates.directory
        let vendor = try await StandInVendor.start(
            group: MultiThreadedEventLoopGroupHolder.shared,
            serving: certificates
        )
        vendor.apis = [ScaleAPIStandIn()]
        // The same policy, pseudonym key and audit signing key for both, as from one secret store.
        try """
        version: 1
        name: scale-out
        terms:
          - {id: codenames, label: CODENAME, action: pseudonymize, values: ["Nightingale"]}
        """.write(toFile: directory + "/policy.yaml", atomically: true, encoding: .utf8)
        try ThrowawayCertificates.write(
            PseudonymKeys.generateKeyFileContents(),
            to: directory + "/pseudonym.key",
            mode: 0o600
        )
        for arguments in [
            ["genpkey", "-algorithm", "ed25519", "-out", directory + "/signing.key"],
            ["pkey", "-in", directory + "/signing.key", "-pubout", "-out", directory + "/signing.pub"],
        ] {
            let openssl = Process()
            openssl.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
            openssl.arguments = arguments
            #expect(try await Curl.execute(openssl, timeout: 30).exitCode == 0)
        }
        let a = try Replica.start(id: "a", directory: directory, vendorPort: vendor.port)
        let b = try Replica.start(id: "b", directory: directory, vendorPort: vendor.port)
        let port = try closedPort()
        try Self.haproxyConfiguration(port: port, replicas: [a, b])
            .write(toFile: directory + "/haproxy.cfg", atomically: true, encoding: .utf8)
        let haproxy = Process()
        haproxy.executableURL = URL(fileURLWithPath: "/usr/sbin/haproxy")
        haproxy.arguments = ["-f", directory + "/haproxy.cfg", "-db"]
        haproxy.standardOutput = FileHandle.nullDevice
        haproxy.standardError = FileHandle.nullDevice
        defer {
            for process in [a.process, b.process, haproxy] where process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
            }
            Task { await vendor.stop() }
        }
        #expect(await eventually(timeout: 30) { a.isReady && b.isReady })
        try haproxy.run()
        let ca = certificates.caCertificatePath
        let front = "https://127.0.0.1:\(port)"
        #expect(
            await eventually(timeout: 20) {
                ((try? Curl.runBlocking(["--cacert", ca, "\(front)/scale/v1/task/none"]))?.exitCode ?? 1) == 0
            }
        )

        // A task created through one replica reads back restored through the other: pseudonyms are keyed, not
        // stored.
        let created = try await Self.createTask(base: "https://127.0.0.1:\(a.port)", ca: ca, number: 0)
        #expect(Ending(created) == .restored, "\(created.stdout)")
        let taskID = try #require(
            (try? JSONSerialization.jsonObject(with: Data(created.body.utf8)) as? [String: Any])?["task_id"] as? String
        )
        let readBack = try await Curl.run([
            "--cacert", ca, "-u", "\(Self.apiKey):", "https://127.0.0.1:\(b.port)/scale/v1/task/\(taskID)",
        ])
        #expect(readBack.status == 200 && readBack.body.contains(#""project":"Nightingale annotation""#))
        #expect(!readBack.body.contains("CODENAME_"), "\(readBack.body)")

        // Load through HAProxy: four curl clients and the scaleapi client; replica a is killed while it runs.
        let workers = 4
        let perWorker = 40
        let load = Task.detached {
            try await withThrowingTaskGroup(of: [CurlResult].self) { group in
                for worker in 0..<workers {
                    group.addTask {
                        var results: [CurlResult] = []
                        for index in 0..<perWorker {
                            results.append(
                                try await Self.createTask(base: front, ca: ca, number: worker * 1000 + index)
                            )
                        }
                        return results
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
        }
        // The client's tasks: how many were made, how many did not come back restored, and its output.
        let client = Task.detached { () -> (made: Int, failed: Int, summary: String)? in
            guard PythonClients.missing == nil else { return nil }
            let run = try await PythonClients.run(
                Self.scaleScript,
                input: ["api_key": Self.apiKey, "base": front, "ca": ca, "count": 30],
                timeout: 50
            )
            let outcomes = run.result?["outcomes"] as? [[String: Any]] ?? []
            return (outcomes.count, outcomes.filter { $0["ok"] as? Bool != true }.count, run.summary)
        }
        let loaded = await eventually(timeout: 30) { vendor.requests.count >= 40 }
        kill(a.process.processIdentifier, SIGKILL)
        a.process.waitUntilExit()
        let results = try await load.value
        let python = try await client.value
        #expect(loaded, "the vendor saw \(vendor.requests.count) requests before the kill")

        // Each request ended restored or failed visibly; only those in flight on replica a could fail.
        let endings = results.map(Ending.init)
        let failed = endings.filter { $0 != .restored }
        #expect(!failed.contains { if case .unexpected = $0 { true } else { false } }, "\(failed)")
        #expect(failed.count <= workers, "\(failed)")
        #expect(endings.count == workers * perWorker)
        if let python {
            #expect(python.made == 30, "\(python.summary)")
            #expect(python.failed <= 1, "\(python.summary)")
        } else {
            Issue.record(Comment(rawValue: PythonClients.missing ?? "no Python clients"))
        }

        // b stops cleanly; a's log is opened again as a restarted replica would (recovering its torn tail).
        kill(b.process.processIdentifier, SIGTERM)
        #expect(await eventually(timeout: 20) { !b.process.isRunning })
        kill(haproxy.processIdentifier, SIGTERM)
        var reopen = AuditConfiguration(
            directory: URL(fileURLWithPath: a.audit),
            signingKeyPath: URL(fileURLWithPath: directory + "/signing.key")
        )
        reopen.replica = "a"
        try await AuditLog.open(reopen).close()

        // No request reached the vendor without its decision in one of the two logs, durable before it left.
        let received = vendor.requests.filter { $0.method == "POST" }
        #expect(!received.isEmpty && received.allSatisfy { !$0.bodyText.contains("Nightingale") })
        var recorded: Set<String> = []
        for replica in [a, b] {
            let entries = try AuditLogReader(directory: URL(fileURLWithPath: replica.audit)).entries()
            #expect(entries.allSatisfy { $0.replica == replica.id }, "\(replica.id)")
            let forwarded = entries.filter { $0.event == .decision && $0.decision == .forwarded }
            #expect(!forwarded.isEmpty, "replica \(replica.id) forwarded nothing")
            recorded.formUnion(forwarded.compactMap(\.forwardedSHA256))
            // Each replica's chain verifies, signatures included.
            let verify = try await CommandLineTests.airlock([
                "log", "verify", "--dir", replica.audit, "--public-key", directory + "/signing.pub",
            ])
            #expect(verify.exitCode == 0, "\(replica.id): \(verify.stdout)\(verify.stderr)")
        }
        let missing = received.filter { !recorded.contains(SHA256.hex($0.body)) }
        #expect(missing.isEmpty, "\(missing.count) of \(received.count) forwarded bodies are in neither log")
    }
}
