import AirlockProxy
import AirlockTLS
import ArgumentParser
import Foundation

/// `airlock certs`: development certificates, SPKI pins and client tokens.
struct Certs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "certs",
        abstract: "Create development certificates and keys; compute SPKI pins; make client tokens.",
        discussion: """
            Exit codes: 0 success; 1 refused or failed (one-line reason on stderr); 64 bad usage.
            See Certs/README.md for using a real certificate or CA instead.
            """,
        subcommands: [CertsInit.self, CertsPin.self, CertsToken.self]
    )
}

/// `airlock certs init [--dir Certs] [--force]`
struct CertsInit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create a development CA, server and client certificates, and the audit and pseudonym keys.",
        discussion: """
            Writes into DIR: ca.crt, ca.key, airlock.crt, airlock.key (localhost, 127.0.0.1, ::1), client.crt,
            client.key (CN lab-client), audit-signing.key, audit-signing.pub (Ed25519), pseudonym.key (32 random
            bytes, base64). Keys are mode 0600 and git-ignored. Existing files are never replaced without --force.
            With --forward-host (repeatable) or --config, also interception-ca.crt and interception-ca.key: the
            forward proxy's CA, whose X.509 name constraints permit only those vendor hosts (and names under them).
            --interception-only writes just those two.
            Exit codes: 0 written; 1 refused (a file exists) or failed; 64 bad usage.
            """
    )

    @Option(name: .long, help: ArgumentHelp("Directory to write into (created if missing).", valueName: "dir"))
    var dir: String = "Certs"

    @Flag(name: .long, help: "Replace existing files (all of them: the set must belong together).")
    var force: Bool = false

    @Option(
        name: .customLong("forward-host"),
        help: ArgumentHelp("A vendor host the interception CA may vouch for (repeatable).", valueName: "host")
    )
    var forwardHosts: [String] = []

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Take the interception CA's hosts from this configuration's vendors[].hosts.",
            valueName: "file"
        )
    )
    var config: String?

    @Flag(name: .long, help: "Write only the interception CA (needs --forward-host or --config).")
    var interceptionOnly: Bool = false

    func validate() throws {
        if self.dir.isEmpty {
            throw ValidationError("--dir must not be empty; give a directory such as Certs")
        }
        if self.interceptionOnly && self.forwardHosts.isEmpty && self.config == nil {
            throw ValidationError("--interception-only needs --forward-host or --config")
        }
    }

    func run() throws {
        var hosts = self.forwardHosts
        if let config = self.config {
            hosts += try ProxyConfiguration.load(path: config).vendors.flatMap(\.hosts)
            if hosts.isEmpty { throw ValidationError("no vendor in \(config) lists hosts:") }
        }
        let directory = URL(fileURLWithPath: self.dir)
        if !hosts.isEmpty && !self.force {
            // Refused before the development set is written, so a refusal leaves nothing half made.
            for name in InterceptionAuthority.fileNames {
                let path = directory.appendingPathComponent(name).path
                if FileManager.default.fileExists(atPath: path) {
                    throw CertificateError(
                        code: .alreadyExists,
                        message: "refusing to overwrite \(path): it already exists (use --force to replace it)"
                    )
                }
            }
        }
        var files: [DevelopmentCertificates.File] = []
        if !self.interceptionOnly {
            files += try DevelopmentCertificates.create(in: directory, force: self.force)
        }
        if !hosts.isEmpty {
            files += try InterceptionAuthority.create(in: directory, hosts: hosts, force: self.force)
        }
        print("Wrote \(files.count) files to \(self.dir):")
        // Paths as the user gave them; the summary never contains key material, only public fingerprints.
        let paths = files.map { (self.dir as NSString).appendingPathComponent($0.name) }
        let width = paths.map(\.count).max() ?? 0
        for (file, path) in zip(files, paths) {
            let mode = file.kind == .secret ? "0600" : "0644"
            print("  \(path.padding(toLength: width, withPad: " ", startingAt: 0))  \(mode)  \(file.summary)")
            for fact in file.fingerprints {
                print("  \(String(repeating: " ", count: width))        \(fact)")
            }
        }
        print("Keep the *.key files private; they are git-ignored. Pin the server with `airlock certs pin FILE`.")
    }
}

/// `airlock certs pin FILE [--chain]`
struct CertsPin: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pin",
        abstract: "Print the SPKI SHA-256 pin (base64) of a PEM certificate, for a vendor's pin_sha256.",
        discussion: """
            Same value as: openssl x509 -in FILE -pubkey -noout | openssl pkey -pubin -outform DER \\
                             | openssl dgst -sha256 -binary | base64
            Exit codes: 0 printed; 1 the file is missing or holds no PEM certificate; 64 bad usage.
            """
    )

    @Argument(help: ArgumentHelp("PEM certificate file (the first certificate is pinned).", valueName: "file"))
    var file: String

    @Flag(name: .long, help: "Print a pin for every certificate in the file, each followed by its subject.")
    var chain: Bool = false

    func run() throws {
        let certificates = try Certificate.chain(pemFile: self.file)
        if self.chain {
            for certificate in certificates {
                print("\(certificate.spkiSHA256Base64)  \(certificate.subject)")
            }
        } else {
            print(certificates[0].spkiSHA256Base64)
        }
    }
}
