import AirlockProxy
import AirlockTLS
import Foundation
import Testing

struct ConfigurationTests {
    static let valid = """
        listen:
          address: 127.0.0.1:8443
          tls: {certificate: Certs/airlock.crt, key: Certs/airlock.key, client_ca: Certs/ca.crt}
        admin:
          address: 127.0.0.1:9901
        limits:
          max_body_bytes: 33554432
          upstream_timeout_seconds: 60
        vendors:
          - name: scale
            path_prefix: /scale
            upstream: https://api.scale.com
            ca: system
            pin_sha256: []
            routes: ["POST /v1/task/*", "GET /v1/task/*", "POST /v1/batches"]
            policy: Policies/lab.yaml
          - name: labelbox
            path_prefix: /labelbox/
            upstream: https://api.labelbox.com:8443/base/
            ca: certs/vendor-ca.pem
            pin_sha256: ["47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="]
            routes: ["* /graphql"]
            policy: none
        """

    @Test func parsesTheDocumentedContract() throws {
        let config = try ProxyConfiguration.parse(
            yaml: Self.valid,
            file: "/etc/airlock/airlock.yaml",
            baseDirectory: "/etc/airlock"
        )
        #expect(config.listen.address == HostAndPort(host: "127.0.0.1", port: 8443))
        #expect(config.listen.tls.certificatePath == "/etc/airlock/Certs/airlock.crt")
        #expect(config.listen.tls.clientCAPath == "/etc/airlock/Certs/ca.crt")
        #expect(config.admin?.address.port == 9901)
        #expect(config.limits.maxBodyBytes == 33_554_432)
        #expect(config.limits.upstreamTimeoutSeconds == 60)
        #expect(config.vendors.count == 2)
        let scale = config.vendors[0]
        #expect(scale.upstream == UpstreamURL(host: "api.scale.com", port: 443, basePath: ""))
        #expect(scale.upstream.hostHeader == "api.scale.com")
        #expect(scale.trustRoots == .system)
        #expect(scale.routes.map(\.description) == ["POST /v1/task/*", "GET /v1/task/*", "POST /v1/batches"])
        #expect(scale.policy == .file("/etc/airlock/Policies/lab.yaml"))
        let labelbox = config.vendors[1]
        #expect(labelbox.pathPrefix == "/labelbox")
        #expect(labelbox.upstream == UpstreamURL(host: "api.labelbox.com", port: 8443, basePath: "/base"))
        #expect(labelbox.upstream.hostHeader == "api.labelbox.com:8443")
        #expect(labelbox.trustRoots == .file("/etc/airlock/certs/vendor-ca.pem"))
        #expect(labelbox.pinnedSPKISHA256.count == 1)
        #expect(labelbox.policy == ProxyConfiguration.PolicyReference.none)
    }

    @Test(
        arguments: [
            ("listen:\n  address: nope\n  tls: {certificate: a, key: b}\nvendors: []", "must be host:port", 2, 12),
            ("listen:\n  address: 127.0.0.1:1\n  tls: {certificate: a}\nvendors: []", "missing \"key\"", 3, 8),
            (
                "listen:\n  address: 127.0.0.1:1\n  tls: {certificate: a, key: b}\nvendorz: []",
                "unknown key \"vendorz\"", 4, 1
            ),
            (
                "listen:\n  address: 127.0.0.1:1\n  tls: {certificate: a, key: b}\nvendors: []", "at least one vendor",
                4, 10
            ),
            (
                "listen:\n  address: 127.0.0.1:1\n  tls: {certificate: a, key: b}\nvendors:\n  - {name: s, path_prefix: /s, upstream: http://x, routes: [\"GET /\"]}",
                "must start with https://", 5, 42
            ),
            (
                "listen:\n  address: 127.0.0.1:1\n  tls: {certificate: a, key: b}\nvendors:\n  - {name: s, path_prefix: /s, upstream: https://x, routes: [\"get /x\"]}",
                "must be upper case", 5, 62
            ),
            (
                "listen:\n  address: 127.0.0.1:1\n  tls: {certificate: a, key: b}\nlimits: {max_body_bytes: -1}\nvendors: []",
                "max_body_bytes must be a positive integer", 4, 26
            ),
            ("listen: [\n", "YAML syntax error", 2, 1),
            // The shared YAML reader points at the repeated key, as it does for policies.
            ("listen: {}\nvendors: []\nlisten: {}\n", "duplicate key 'listen' in a mapping", 3, 1),
        ] as [(String, String, Int?, Int?)]
    )
    func invalidConfigurationsSayWhereAndWhy(yaml: String, message: String, line: Int?, column: Int?) {
        do {
            _ = try ProxyConfiguration.parse(yaml: yaml, file: "bad.yaml", baseDirectory: "/tmp")
            Issue.record("accepted an invalid configuration")
        } catch {
            #expect(error.message.contains(message), "\(error)")
            if let line { #expect(error.line == line, "\(error)") }
            if let column { #expect(error.column == column, "\(error)") }
            #expect(error.description.hasPrefix("bad.yaml:"))
        }
    }

    @Test func auditDefaultsAreOnAndSignedWhenCertsInitMadeAKey() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-config-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.createDirectory(
            at: directory.appendingPathComponent("Certs"),
            withIntermediateDirectories: true
        )
        let unsigned = try ProxyConfiguration.parse(yaml: Self.valid, baseDirectory: directory.path)
        #expect(unsigned.audit?.enabled == true)
        #expect(unsigned.audit?.log.directory.path == directory.appendingPathComponent("airlock-data/audit").path)
        #expect(unsigned.audit?.log.signingKeyPath == nil)
        #expect(unsigned.pseudonymKeyPath == directory.appendingPathComponent("Certs/pseudonym.key").path)

        try "key".write(
            to: directory.appendingPathComponent("Certs/audit-signing.key"),
            atomically: true,
            encoding: .utf8
        )
        let signed = try ProxyConfiguration.parse(yaml: Self.valid, baseDirectory: directory.path)
        let key = directory.appendingPathComponent("Certs/audit-signing.key").path
        #expect(signed.audit?.log.signingKeyPath?.path == key)

        let off = try ProxyConfiguration.parse(
            yaml: Self.valid + "\naudit: {enabled: false}\n",
            baseDirectory: directory.path
        )
        #expect(off.audit?.enabled == false)
    }

    @Test func theGroupCommitWindowIsConfigurableAndBounded() throws {
        #expect(
            try ProxyConfiguration.parse(yaml: Self.valid, baseDirectory: "/tmp").audit?.log.commitDelay
                == .milliseconds(1)
        )
        let short = try ProxyConfiguration.parse(
            yaml: Self.valid + "\naudit: {commit_delay_ms: 0.25}\n",
            baseDirectory: "/tmp"
        )
        #expect(short.audit?.log.commitDelay == .microseconds(250))
        let off = try ProxyConfiguration.parse(
            yaml: Self.valid + "\naudit: {commit_delay_ms: 0}\n",
            baseDirectory: "/tmp"
        )
        #expect(off.audit?.log.commitDelay == .zero)
        for bad in ["-1", "101", "soon"] {
            #expect(throws: ConfigurationError.self) {
                try ProxyConfiguration.parse(
                    yaml: Self.valid + "\naudit: {commit_delay_ms: \(bad)}\n",
                    baseDirectory: "/tmp"
                )
            }
        }
    }

    /// `limits:` deadlines and caps, `audit:` space guard: defaults, values, and errors that point at the value.
    @Test func deadlinesCapsAndTheAuditSpaceGuardAreConfigurable() throws {
        let defaults = try ProxyConfiguration.parse(yaml: Self.valid, baseDirectory: "/tmp")
        #expect(defaults.limits.requestHeadTimeoutSeconds == 10 && defaults.limits.tlsHandshakeTimeoutSeconds == 10)
        #expect(defaults.limits.requestBodyGraceSeconds == 10 && defaults.limits.requestBodyMinBytesPerSecond == 16384)
        #expect(defaults.limits.maxConnections == 4096 && defaults.limits.maxConnectionsPerPeer == 512)
        #expect(defaults.audit?.minFreeBytes == 256 * 1024 * 1024 && defaults.audit?.maxDirectoryBytes == nil)
        let set = try ProxyConfiguration.parse(
            yaml: Self.valid.replacingOccurrences(
                of: "  upstream_timeout_seconds: 60\n",
                with: """
                      upstream_timeout_seconds: 60
                      tls_handshake_timeout_seconds: 3
                      request_head_timeout_seconds: 2.5
                      request_body_grace_seconds: 4
                      request_body_min_bytes_per_second: 0
                      max_connections: 100
                      max_connections_per_peer: 7

                    """
            ) + "\naudit: {min_free_bytes: 0, max_directory_bytes: 1073741824}\n",
            baseDirectory: "/tmp"
        )
        #expect(set.limits.tlsHandshakeTimeoutSeconds == 3 && set.limits.requestHeadTimeoutSeconds == 2.5)
        #expect(set.limits.requestBodyGraceSeconds == 4 && set.limits.requestBodyMinBytesPerSecond == 0)
        #expect(set.limits.maxConnections == 100 && set.limits.maxConnectionsPerPeer == 7)
        #expect(set.audit?.minFreeBytes == 0 && set.audit?.maxDirectoryBytes == 1_073_741_824)

        // Appended to a valid configuration: its lines come first.
        let after = Self.valid.split(separator: "\n", omittingEmptySubsequences: false).count
        let cases: [(String, String, Int, Int)] = [
            ("limitz: 1", "unknown key \"limitz\"", after + 1, 1),
            ("audit:\n  max_directory_bytes: 0", "max_directory_bytes must be a positive integer", after + 2, 24),
            ("audit:\n  min_free_bytes: lots", "min_free_bytes must be an integer of at least 0", after + 2, 19),
        ]
        let limits: [(String, String, Int, Int)] = [
            ("  request_head_timeout_seconds: 0", "request_head_timeout_seconds must be a number of seconds", 9, 33),
            ("  request_body_min_bytes_per_second: -5", "must be an integer of at least 0 (bytes/s; 0 = off)", 9, 38),
            ("  max_connections_per_peer: many", "max_connections_per_peer must be a positive integer", 9, 29),
        ]
        for (section, message, line, column) in cases + limits {
            let yaml =
                section.hasPrefix("  ")
                ? Self.valid.replacingOccurrences(
                    of: "  upstream_timeout_seconds: 60\n",
                    with: "  upstream_timeout_seconds: 60\n" + section + "\n"
                ) : Self.valid + "\n" + section + "\n"
            do {
                _ = try ProxyConfiguration.parse(yaml: yaml, file: "bad.yaml", baseDirectory: "/tmp")
                Issue.record("accepted \(section)")
            } catch {
                #expect(error.message.contains(message), "\(error)")
                #expect(error.line == line && error.column == column, "\(error)")
                #expect(error.description.hasPrefix("bad.yaml:\(line):\(column):"), "\(error)")
            }
        }
    }

    @Test func overlappingPrefixesAndDuplicateNamesAreRejected() {
        let yaml = """
            listen: {address: 127.0.0.1:1, tls: {certificate: a, key: b}}
            vendors:
              - {name: a, path_prefix: /scale, upstream: https://x, routes: ["GET /"]}
              - {name: b, path_prefix: /scale/v2, upstream: https://y, routes: ["GET /"]}
            """
        #expect(throws: ConfigurationError.self) {
            try ProxyConfiguration.parse(yaml: yaml, baseDirectory: "/tmp")
        }
        let badPin = """
            listen: {address: 127.0.0.1:1, tls: {certificate: a, key: b}}
            vendors:
              - {name: a, path_prefix: /a, upstream: https://x, routes: ["GET /"], pin_sha256: ["not-a-pin"]}
            """
        #expect(throws: ConfigurationError.self) {
            try ProxyConfiguration.parse(yaml: badPin, baseDirectory: "/tmp")
        }
    }

    @Test func loadsFromFileAndResolvesPathsNextToIt() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-config-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("airlock.yaml")
        try Self.valid.write(to: file, atomically: true, encoding: .utf8)
        let config = try ProxyConfiguration.load(path: file.path)
        #expect(
            config.listen.tls.keyPath == directory.appendingPathComponent("Certs/airlock.key").standardizedFileURL.path
        )
        #expect(throws: ConfigurationError.self) {
            try ProxyConfiguration.load(path: directory.appendingPathComponent("missing.yaml").path)
        }
    }
}

struct RoutePatternTests {
    @Test(
        arguments: [
            ("POST /v1/task/*", "POST", "/v1/task/42", true),
            ("POST /v1/task/*", "POST", "/v1/task/", true),
            ("POST /v1/task/*", "GET", "/v1/task/42", false),
            ("POST /v1/task/*", "POST", "/v1/task/42/cancel", false),
            ("POST /v1/task/*", "POST", "/v1/tasks", false),
            ("POST /v1/task/**", "POST", "/v1/task/42/cancel", true),
            ("POST /v1/batches", "POST", "/v1/batches", true),
            ("POST /v1/batches", "POST", "/v1/batches/1", false),
            ("* /graphql", "DELETE", "/graphql", true),
            ("GET /v1/*/items/*", "GET", "/v1/p/items/9", true),
            ("GET /v1/*/items/*", "GET", "/v1/p/q/items/9", false),
            ("GET /a*b*c", "GET", "/axxbyyc", true),
            ("GET /a*b*c", "GET", "/axxbyy", false),
        ] as [(String, String, String, Bool)]
    )
    func globMatching(pattern: String, method: String, path: String, expected: Bool) throws {
        let route = try RoutePattern.parse(pattern).get()
        #expect(route.matches(method: method, path: path[...]) == expected)
    }

    @Test func hostilePathsStayLinear() throws {
        let route = try RoutePattern.parse("GET /**a**a**a**a**b").get()
        let path = "/" + String(repeating: "a", count: 8000)
        let started = Date()
        #expect(!route.matches(method: "GET", path: path[...]))
        #expect(Date().timeIntervalSince(started) < 1)
    }
}

struct PrometheusRegistryTests {
    @Test func rendersCountersGaugesAndHistograms() {
        let registry = PrometheusRegistry()
        registry.setHelp("Requests.", for: "demo_requests_total")
        let counter = registry.makeCounter(label: "demo_requests_total", dimensions: [("vendor", "a\"b")])
        counter.increment(by: 3)
        registry.makeCounter(label: "demo_requests_total", dimensions: [("vendor", "a\"b")]).increment(by: 1)
        let gauge = registry.makeMeter(label: "demo_open", dimensions: [])
        gauge.increment(by: 2)
        gauge.decrement(by: 1)
        let timer = registry.makeTimer(label: "demo_latency_seconds", dimensions: [("vendor", "v")])
        timer.recordNanoseconds(2_000_000)  // 2 ms
        timer.recordNanoseconds(200_000_000)  // 200 ms
        let text = registry.render()
        #expect(text.contains("# HELP demo_requests_total Requests.\n# TYPE demo_requests_total counter\n"))
        #expect(text.contains("demo_requests_total{vendor=\"a\\\"b\"} 4\n"))
        // swift-prometheus writes gauges as floating point numbers.
        #expect(text.contains("# TYPE demo_open gauge\ndemo_open 1.0\n"))
        #expect(text.contains("# TYPE demo_latency_seconds histogram\n"))
        #expect(text.contains("demo_latency_seconds_bucket{vendor=\"v\",le=\"0.001\"} 0\n"))
        #expect(text.contains("demo_latency_seconds_bucket{vendor=\"v\",le=\"0.0025\"} 1\n"))
        #expect(text.contains("demo_latency_seconds_bucket{vendor=\"v\",le=\"0.25\"} 2\n"))
        #expect(text.contains("demo_latency_seconds_bucket{vendor=\"v\",le=\"+Inf\"} 2\n"))
        #expect(text.contains("demo_latency_seconds_sum{vendor=\"v\"} 0.202"))
        #expect(text.contains("demo_latency_seconds_count{vendor=\"v\"} 2\n"))
    }
}
