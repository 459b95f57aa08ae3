import AirlockSupport
import Foundation

/// Walks every file and checkpoint of a log: each line's hash over its canonical form, the `prev` links, the seq
/// order across rotated files, and each checkpoint's Ed25519 signature.
public enum AuditVerifier {
    /// Whether the bytes at `range` of the file at `path` are all written within a moment (a write in progress was
    /// overtaken by the read) rather than keeping a zero byte (an edit).
    static func gapFills(_ range: Range<Int>, of path: String) -> Bool {
        for _ in 0..<20 {
            usleep(25_000)
            guard let again = try? POSIXFile.readFile(path), again.count >= range.upperBound else { return false }
            if !again[range].contains(0) { return true }
        }
        return false
    }

    /// - Parameters:
    ///   - publicKeys: PEM Ed25519 public keys whose signatures are accepted. With none, a log with signed
    ///     checkpoints fails (`no public key`) and an unsigned log is checked as a hash chain only.
    ///   - checkBodies: also decompress every stored forwarded body and check it against its hash.
    public static func verify(
        directory: URL,
        publicKeys: [URL] = [],
        checkBodies: Bool = false
    ) throws(AuditVerificationFailure) -> AuditVerification {
        var keys: [String: VerifyingKey] = [:]
        for path in publicKeys {
            do {
                let key = try VerifyingKey(path: path)
                keys[key.keyID] = key
            } catch {
                throw AuditVerificationFailure(kind: .unreadable, seq: nil, file: path.path, detail: error.message)
            }
        }
        var walk = ChainWalk(keys: keys, checkBodies: checkBodies)
        let reader = AuditLogReader(directory: directory)
        do {
            try walk.run(reader)
        } catch let error as AuditVerificationFailure {
            throw error
        } catch let error as AuditError {
            throw AuditVerificationFailure(kind: .unreadable, seq: nil, file: nil, detail: error.message)
        } catch {
            throw AuditVerificationFailure(kind: .unreadable, seq: nil, file: nil, detail: "\(error)")
        }
        return walk.summary
    }
}
