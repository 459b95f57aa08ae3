import AirlockRedaction
import AirlockTLS

/// What `airlock --version` prints: Airlock's own version and commit, and the versions of the system libraries it
/// loaded (OpenSSL and Hyperscan are shared libraries: an upgrade of either changes what a running binary uses).
enum AirlockVersion {
    /// Airlock's release version.
    static let version = "0.1.0"

    /// The git commit built from, `-dirty` when tracked files differed, `unknown` outside a git checkout (written by
    /// Plugins/BuildCommitPlugin).
    static var commit: String { buildCommit }

    static var text: String {
        """
        airlock \(Self.version)
        commit \(Self.commit)
        openssl \(TLSLibrary.version)
        hyperscan \(MatchingLibrary.version)
        """
    }
}
