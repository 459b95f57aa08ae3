import AirlockProxy
import Foundation
import Testing

/// The `forward:` section and the vendors' `hosts:`: parsed into one spelling, and every mistake named with its
/// file, line and column.
struct ForwardConfigurationTests {
    static let token = String(repeating: "ab", count: 32)

    static func yaml(
        forward: String? = nil,
        scaleHosts: String = "[API.Scale.com., api-2.scale.com]",
        clients: Bool = true,
        upstream: String = "https://api.scale.com"
    ) -> String {
        """
        listen:
          address: 127.0.0.1:8443
          tls: {certificate: Certs/airlock.crt, key: Certs/airlock.key}
        \(forward ?? "forward:\n  address: 127.0.0.1:3128")
        \(clients ? "clients:\n  - {name: pipeline, token_sha256: \(Self.token), vendors: [scale]}" : "")
        vendors:
          - name: scale
            path_prefix: /scale
            hosts: \(scaleHosts)
            upstream: \(upstream)
            routes: ["POST /v1/task/*"]
            policy: none
          - name: labelbox
            path_prefix: /labelbox
            upstream: https://api.labelbox.com
            routes: ["POST /graphql"]
            policy: none
        """
    }

    static func parse(_ yaml: String) throws(ConfigurationError) -> ProxyConfiguration {
        try ProxyConfiguration.parse(yaml: yaml, file: "airlock.yaml", baseDirectory: "/etc/airlock")
    }

    @Test func parsesTheForwardListenerAndHostsInOneSpelling() throws {
        let config = try Self.parse(
            Self.yaml(
                forward: """
                    forward:
                      address: 127.0.0.1:3128
                      tls: {certificate: Certs/airlock.crt, key: Certs/airlock.key}
                      leaf_validity_seconds: 3600
                    """
            )
        )
        let forward = try #require(config.forward)
        #expect(forward.address == HostAndPort(host: "127.0.0.1", port: 3128))
        #expect(forward.tls?.certificatePath == "/etc/airlock/Certs/airlock.crt")
        #expect(forward.caCertificatePath == "/etc/airlock/Certs/interception-ca.crt")
        #expect(forward.caKeyPath == "/etc/airlock/Certs/interception-ca.key")
        #expect(forward.leafValiditySeconds == 3600)
        #expect(config.vendors[0].hosts == ["api.scale.com", "api-2.scale.com"])
        #expect(config.vendors[1].hosts.isEmpty)
        #expect(try Self.parse(Self.yaml()).forward?.tls == nil)
    }

    @Test(
        arguments: [
            // (yaml, line, column, message fragment)
            (yaml(scaleHosts: "[\"127.0.0.1\"]"), 11, 13, "is not a DNS host name"),
            (yaml(scaleHosts: "[\"api.scale.com:443\"]"), 11, 13, "is not a DNS host name"),
            (yaml(scaleHosts: "[\"*.scale.com\"]"), 11, 13, "is not a DNS host name"),
            (yaml(scaleHosts: "[]"), 11, 12, "non-empty list"),
            (yaml(scaleHosts: "[api.scale.com, API.scale.com]"), 11, 28, "listed twice"),
            (yaml(upstream: "https://api.scale.com/v1"), 12, 15, "must have no path"),
            (yaml(clients: false), 5, 3, "needs clients: with token_sha256"),
            (yaml(forward: "forward:\n  address: 127.0.0.1:8443"), 5, 12, "must differ"),
            (yaml(forward: "forward:\n  address: 127.0.0.1:3128\n  bogus: 1"), 6, 3, "unknown key \"bogus\""),
            (yaml(forward: ""), 10, 12, "hosts needs a forward: listener"),
        ] as [(String, Int, Int, String)]
    )
    func mistakesAreNamedWithTheirPosition(yaml: String, line: Int, column: Int, message: String) {
        #expect {
            _ = try Self.parse(yaml)
        } throws: { error in
            guard let error = error as? ConfigurationError else { return false }
            #expect(error.line == line && error.column == column && error.message.contains(message), "\(error)")
            return true
        }
    }
}

/// `airlock certs init --forward-host`: the interception CA next to the development set, its key 0600, its name
/// constraints the hosts given, never overwritten without `--force`.
@Suite(.serialized)
struct ForwardCertsCommandTests {
    @Test func certsInitMakesTheNameConstrainedInterceptionCA() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-fwd-certs-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let made = try await CommandLineTests.airlock([
            "certs", "init", "--dir", directory.path, "--forward-host", "api.scale.com", "--forward-host",
            "API.labelbox.com",
        ])
        #expect(made.exitCode == 0, "\(made.stdout)\(made.stderr)")
        let ca = directory.appendingPathComponent("interception-ca.crt").path
        let key = directory.appendingPathComponent("interception-ca.key").path
        #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("airlock.crt").path))
        let mode = try FileManager.default.attributesOfItem(atPath: key)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let text = try await Curl.execute(Self.process(["openssl", "x509", "-in", ca, "-noout", "-text"]), timeout: 10)
        #expect(text.stdout.contains("Permitted:") && text.stdout.contains("DNS:api.labelbox.com"), "\(text.stdout)")
        #expect(text.stdout.contains("DNS:api.scale.com") && text.stdout.contains("Excluded:"))

        let again = try await CommandLineTests.airlock([
            "certs", "init", "--dir", directory.path, "--interception-only", "--forward-host", "api.scale.com",
        ])
        #expect(again.exitCode == 1 && again.stderr.contains("refusing to overwrite"), "\(again.stderr)")
        let forced = try await CommandLineTests.airlock([
            "certs", "init", "--dir", directory.path, "--interception-only", "--force", "--forward-host",
            "api.scale.com",
        ])
        #expect(forced.exitCode == 0, "\(forced.stderr)")
        let after = try await Curl.execute(
            Self.process(["openssl", "x509", "-in", ca, "-noout", "-text"]),
            timeout: 10
        )
        #expect(!after.stdout.contains("labelbox"), "\(after.stdout)")
    }

    static func process(_ arguments: [String]) -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        return process
    }
}
