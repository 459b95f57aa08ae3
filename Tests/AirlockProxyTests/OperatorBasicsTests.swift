import AirlockProxy
import AirlockRedaction
import AirlockStandIns
import Foundation
import NIOPosix
import Testing

/// What an operator meets first, through the built binary: `--version`, `check --config`, and the error messages of
/// a `serve` that cannot start.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct OperatorBasicsTests {
    static func airlock(_ arguments: [String], timeout: TimeInterval = 60) async throws -> CurlResult {
        try await CommandLineTests.airlock(arguments, timeout: timeout)
    }

    /// A configuration directory: throwaway certificates, a valid policy and pseudonym key, and `airlock.yaml` from
    /// `config` (vendor upstreams point at `vendorPort`).
    struct ConfigDirectory {
        let certificates: ThrowawayCertificates
        var directory: String { self.certificates.directory }
        var configPath: String { self.directory + "/airlock.yaml" }

        init(_ config: String) throws {
            self.certificates = try ThrowawayCertificates.create()
            try """
            version: 1
            name: operator-test
            terms:
              - {id: codenames, label: CODENAME, action: pseudonymize, values: ["Nightingale"]}
            """.write(toFile: self.directory + "/policy.yaml", atomically: true, encoding: .utf8)
            try ThrowawayCertificates.write(
                PseudonymKeys.generateKeyFileContents(),
                to: self.directory + "/pseudonym.key",
                mode: 0o600
            )
            try config.write(toFile: self.configPath, atomically: true, encoding: .utf8)
        }

        func write(_ text: String, to name: String) throws {
            try text.write(toFile: self.directory + "/" + name, atomically: true, encoding: .utf8)
        }

        func remove() { self.certificates.remove() }
    }

    static func config(
        vendorPort: Int = 9,
        port: Int = 0,
        adminPort: Int = 0,
        scaleCA: String = "ca.crt",
        labelboxPort: Int? = nil,
        labelboxCA: String = "ca.crt"
    ) -> String {
        """
        listen:
          address: 127.0.0.1:\(port)
          tls: {certificate: airlock.crt, key: airlock.key}
        admin: {address: 127.0.0.1:\(adminPort)}
        vendors:
          - name: scale
            path_prefix: /scale
            upstream: https://127.0.0.1:\(vendorPort)
            ca: \(scaleCA)
            routes: ["POST /v1/task/*"]
            policy: policy.yaml
          - name: labelbox
            path_prefix: /labelbox
            upstream: https://127.0.0.1:\(labelboxPort ?? vendorPort)
            ca: \(labelboxCA)
            routes: ["POST /v1/task/*"]
            policy: policy.yaml
        pseudonym_key: pseudonym.key
        audit: {directory: audit}
        """
    }

    // MARK: --version

    @Test func versionNamesTheCommitAndTheLibraries() async throws {
        let result = try await Self.airlock(["--version"])
        #expect(result.exitCode == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 4, "\(result.stdout)")
        #expect(lines.first?.hasPrefix("airlock ") == true, "\(result.stdout)")
        // The commit is the checkout's own, as git says it.
        let git = Process()
        git.executableURL = URL(fileURLWithPath: "/usr/bin/git")
        git.arguments = ["-C", CommandLineTests.root.path, "rev-parse", "HEAD"]
        let head = try await Curl.execute(git, timeout: 30).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(head.count == 40)
        let commit = lines.dropFirst().first ?? ""
        #expect(commit == "commit \(head)" || commit == "commit \(head)-dirty", "\(commit) vs \(head)")
        #expect(lines.dropFirst(2).first?.hasPrefix("openssl OpenSSL 3.") == true, "\(result.stdout)")
        #expect(lines.dropFirst(3).first?.hasPrefix("hyperscan 5.") == true, "\(result.stdout)")
    }

    // MARK: check --config

    @Test func checkConfigPassesAValidConfigurationWithItsPolicy() async throws {
        let directory = try ConfigDirectory(Self.config())
        defer { directory.remove() }
        let result = try await Self.airlock(["check", "--config", directory.configPath])
        #expect(result.exitCode == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("OK \(directory.configPath) (2 vendors, 1 policies") == true, "\(lines)")
        #expect(lines.contains { $0.hasPrefix("OK \(directory.directory)/policy.yaml (operator-test@") }, "\(lines)")
    }

    /// Every file the configuration needs is checked, each problem pointing at the line that names the file.
    @Test func checkConfigReportsEveryMissingOrBadFileAtItsLine() async throws {
        var config = Self.config(labelboxCA: "labelbox-ca.crt")
        config = config.replacingOccurrences(of: "certificate: airlock.crt", with: "certificate: missing.crt")
        // The labelbox vendor names a policy that does not exist; scale's policy is invalid.
        config = config.replacingOccurrences(
            of: "ca: labelbox-ca.crt\n    routes: [\"POST /v1/task/*\"]\n    policy: policy.yaml",
            with: "ca: labelbox-ca.crt\n    routes: [\"POST /v1/task/*\"]\n    policy: absent.yaml"
        )
        config = config.replacingOccurrences(
            of: "audit: {directory: audit}",
            with: "audit: {directory: audit, signing_key: signing.key}"
        )
        let directory = try ConfigDirectory(config)
        defer { directory.remove() }
        try directory.write(
            "version: 1\nname: broken\nterms: [{id: x, label: X, action: explode, values: [a]}]\n",
            to: "policy.yaml"
        )
        try directory.write("c2hvcnQ=\n", to: "pseudonym.key")  // base64 of 6 bytes
        // Owner-only, as every key file must be: the check then reads the key and reports its length.
        try FileManager.default.setAttributes(
            [.posixPermissions: 0o600],
            ofItemAtPath: directory.directory + "/pseudonym.key"
        )
        try directory.write("not a key\n", to: "signing.key")
        let result = try await Self.airlock(["check", "--config", directory.configPath])
        #expect(result.exitCode == 1)
        let lines = result.stderr.split(separator: "\n").map(String.init)
        let configLines = config.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        /// `airlock.yaml:LINE:COL:` of the first line holding `text`, its column where `text` starts.
        func location(_ text: String) -> String {
            let index = configLines.firstIndex { $0.contains(text) } ?? -1
            let column =
                configLines[index].range(of: text).map {
                    configLines[index].distance(from: configLines[index].startIndex, to: $0.lowerBound)
                } ?? -1
            return "\(directory.configPath):\(index + 1):\(column + 1):"
        }
        func expectLine(_ prefix: String, _ fragment: String) {
            #expect(
                lines.contains { $0.hasPrefix(prefix) && $0.contains(fragment) },
                "\(prefix) \(fragment)\n\(result.stderr)"
            )
        }
        expectLine(location("missing.crt"), "listen.tls.certificate not found")
        expectLine(location("labelbox-ca.crt"), "vendor \"labelbox\" ca not found")
        expectLine(location("absent.yaml"), "vendor \"labelbox\" policy not found")
        expectLine(location("policy.yaml"), "vendor \"scale\" policy is invalid")
        expectLine("\(directory.directory)/policy.yaml:3:", "explode")
        expectLine(location("pseudonym.key"), "is not 32 bytes of base64")
        expectLine(location("signing.key"), "audit.signing_key")
        #expect(!result.stdout.contains("OK \(directory.configPath)"), "\(result.stdout)")
    }

    /// A configuration given where a policy is expected is recognised and checked as one, instead of six misleading
    /// policy errors.
    @Test func checkRecognisesAConfigurationGivenAsAPolicy() async throws {
        let directory = try ConfigDirectory(Self.config())
        defer { directory.remove() }
        let result = try await Self.airlock(["check", directory.configPath])
        #expect(result.exitCode == 0, "\(result.stderr)")
        #expect(result.stderr.contains("is an Airlock configuration"), "\(result.stderr)")
        #expect(result.stdout.contains("OK \(directory.configPath) (2 vendors"), "\(result.stdout)")
        #expect(!result.stderr.contains("unknown key"), "\(result.stderr)")
    }

    // MARK: serve's refusals to start

    /// `serve --config` with `config`; its exit code and standard error.
    static func serve(_ directory: ConfigDirectory) async throws -> CurlResult {
        try await Self.airlock(["serve", "--config", directory.configPath, "--watch-interval", "0"], timeout: 30)
    }

    @Test func aPortInUseIsNamed() async throws {
        let group = MultiThreadedEventLoopGroupHolder.shared
        let holder = try await ServerBootstrap(group: group).bind(host: "127.0.0.1", port: 0).get()
        let port = holder.localAddress!.port!
        let directory = try ConfigDirectory(Self.config(port: port))
        defer { directory.remove() }
        let result = try await Self.serve(directory)
        try await holder.close()
        #expect(result.exitCode == 1)
        #expect(result.stderr.contains("cannot listen on 127.0.0.1:\(port) (listen.address)"), "\(result.stderr)")
        #expect(result.stderr.contains("port \(port) is already in use"), "\(result.stderr)")
    }

    @Test func aMissingVendorCANamesTheVendor() async throws {
        let directory = try ConfigDirectory(Self.config(labelboxCA: "labelbox-ca.crt"))
        defer { directory.remove() }
        let result = try await Self.serve(directory)
        #expect(result.exitCode == 1)
        #expect(result.stderr.contains("vendor \"labelbox\""), "\(result.stderr)")
        #expect(result.stderr.contains("labelbox-ca.crt"), "\(result.stderr)")
    }

    @Test func aMissingPolicyFileSaysNotFound() async throws {
        let directory = try ConfigDirectory(Self.config())
        defer { directory.remove() }
        try FileManager.default.removeItem(atPath: directory.directory + "/policy.yaml")
        let result = try await Self.serve(directory)
        #expect(result.exitCode == 1)
        #expect(result.stderr.contains("not found"), "\(result.stderr)")
        #expect(!result.stderr.contains("invalid"), "\(result.stderr)")
    }

    @Test func theMissingPseudonymKeyHintIsPrintedOnce() async throws {
        let directory = try ConfigDirectory(Self.config())
        defer { directory.remove() }
        try FileManager.default.removeItem(atPath: directory.directory + "/pseudonym.key")
        let result = try await Self.serve(directory)
        #expect(result.exitCode == 1)
        #expect(result.stderr.components(separatedBy: "airlock certs init").count == 2, "\(result.stderr)")
    }
}
