import AirlockAudit
import AirlockProxy
import AirlockReview
import AirlockTLS
import ArgumentParser
import Foundation
import Logging

/// `airlock review --dir AUDIT [--dir ...] --listen ADDR --token-file F [--cert C --key K]`: the read-only review
/// console.
struct Review: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "review",
        abstract: "Serve the read-only web review console over one or more audit directories.",
        discussion: """
            Reads every decision of the directories (several replicas' logs merge by time), builds its index, then
            serves the overview, the decision list with filters and CSV / JSON export, each record with its stored
            body (placeholders and pseudonyms highlighted) and a per-vendor exposure page. Each directory's chain is
            verified in the background and shown on the overview.
            Reviewers authenticate with a token: `Authorization: Bearer TOKEN`, or the sign-in form, which sets an
            HttpOnly, SameSite=Strict session cookie. --token-file holds SHA-256 digests only, one per line, as
            `airlock certs token` prints them (token_sha256). With --cert and --key the console serves HTTPS (and
            the cookie is Secure); without them it serves HTTP, meant for loopback or behind a TLS front end.
            Exit codes: 0 stopped by SIGTERM / SIGINT; 1 a directory or file cannot be read, or the address cannot be
            bound; 64 bad usage.
            """
    )

    @Option(name: .long, help: "An audit directory (audit.directory in the config); repeat for several replicas.")
    var dir: [String] = []

    @Option(name: .long, help: "Address to listen on, HOST:PORT (e.g. 127.0.0.1:8443).")
    var listen: String = "127.0.0.1:8443"

    @Option(name: .long, help: "File of reviewer token digests (SHA-256 hex, one per line).")
    var tokenFile: String

    @Option(name: .long, help: "Server certificate chain (PEM) for HTTPS.")
    var cert: String?

    @Option(name: .long, help: "Private key (PEM) of --cert.")
    var key: String?

    @Option(name: .customLong("public-key"), help: "Ed25519 public key (PEM) that signed the checkpoints; repeatable.")
    var publicKeys: [String] = []

    func validate() throws {
        if dir.isEmpty { throw ValidationError("give at least one --dir.") }
        if HostAndPort(parsing: listen) == nil {
            throw ValidationError("--listen must be HOST:PORT (got '\(listen)').")
        }
        if (cert == nil) != (key == nil) { throw ValidationError("--cert and --key go together.") }
    }

    func run() async throws {
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        let logger = Logger(label: "airlock.review")
        let address = HostAndPort(parsing: listen)!
        let console: ReviewConsole
        let tls: TLSServerContext?
        do {
            let tokens = try ReviewTokens(file: tokenFile)
            tls = try cert.map { cert in
                try TLSServerContext(
                    configuration: TLSServerConfiguration(certificateChainPath: cert, privateKeyPath: key ?? "")
                )
            }
            console = try ReviewConsole(
                directories: dir.map { URL(fileURLWithPath: $0) },
                tokens: tokens,
                isHTTPS: tls != nil
            )
        } catch {
            FileHandle.standardError.write(Data("airlock review: \(error)\n".utf8))
            throw ExitCode(1)
        }
        var keys = publicKeys.map { URL(fileURLWithPath: $0) }
        if keys.isEmpty, FileManager.default.fileExists(atPath: "Certs/audit-signing.pub") {
            keys = [URL(fileURLWithPath: "Certs/audit-signing.pub")]
        }
        let publicKeyURLs = keys
        Thread.detachNewThread { console.chains.verify(publicKeys: publicKeyURLs) }
        let scheme = tls == nil ? "http" : "https"
        let records = console.index.records.count
        let seconds = String(format: "%.2f", console.readSeconds + console.index.buildSeconds)
        try await ReviewServer.run(
            console: console,
            host: address.host,
            port: address.port,
            tls: tls,
            logger: logger
        ) { port in
            let line =
                "airlock review: \(records) decisions indexed in \(seconds) s; serving \(scheme)://\(address.host):\(port)/"
            FileHandle.standardOutput.write(Data((line + "\n").utf8))
        }
    }
}
