import AirlockProxy
import ArgumentParser
import Foundation

/// `airlock assets revoke`: makes asset tokens unusable.
struct Assets: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "assets",
        abstract: "Manage the asset gateway's tokens.",
        subcommands: [Revoke.self]
    )
}

extension Assets {
    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke asset tokens: every token of a vendor issued so far, or one token.",
            discussion: """
                Appends to the revocation list (assets.revocations); the running gateway rereads it on the next
                fetch, so no restart is needed. A revoked token is answered 403 asset_token_revoked, and the fetch
                is recorded in the audit log. --token takes the token, the whole asset URL, or the fingerprint that
                `airlock log show` lists in the path /assets/<fingerprint>.

                Exit codes: 0 revoked; 1 the configuration or the list cannot be read or written.
                """
        )

        @Option(name: .long, help: "The configuration file (YAML).")
        var config: String
        @Option(name: .long, help: "Revoke every token issued to this vendor until now.")
        var vendor: String?
        @Option(name: .long, help: "Revoke this token (token text, asset URL or fingerprint).")
        var token: String?

        func validate() throws {
            guard (self.vendor == nil) != (self.token == nil) else {
                throw ValidationError("give exactly one of --vendor and --token")
            }
        }

        func run() async throws {
            do {
                let configuration = try ProxyConfiguration.load(path: self.config)
                if let vendor = self.vendor {
                    try AssetRevocation.revoke(vendor: vendor, in: configuration)
                    print("revoked every asset token of \(vendor) issued until now")
                } else if let token = self.token {
                    let fingerprint = try AssetRevocation.revoke(token: token, in: configuration)
                    print("revoked asset token \(fingerprint)")
                }
            } catch {
                FileHandle.standardError.write(Data("airlock assets: \(error)\n".utf8))
                throw ExitCode(1)
            }
        }
    }
}
