import Foundation

/// Secret key files must be readable by their owner only: a key the group or others can read is refused, whatever
/// it is for (pseudonym keyring, audit signing key, TLS private keys).
public enum KeyFilePermissions {
    /// Why the file at `path` may not hold a key (its mode lets the group or others read or write it), or nil.
    /// A file that cannot be examined returns nil: reading it then fails with its own error.
    public static func problem(path: String, what: String) -> String? {
        var status = stat()
        guard stat(path, &status) == 0 else { return nil }
        let mode = Int(status.st_mode) & 0o777
        guard mode & 0o077 != 0 else { return nil }
        return "\(what) \(path) is accessible to other users (mode \(String(mode, radix: 8))): a key file must be "
            + "readable by its owner only; run `chmod 600 \(path)`"
    }
}
