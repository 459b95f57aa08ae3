import AirlockSupport
import Foundation

extension AuditLogReader {
    /// The largest compressed body ``storedBody(at:sha256:)`` reads: a record naming a longer one (a log edited to
    /// make a reader allocate without bound) is refused as corrupt.
    public static let largestStoredBody = 256 << 20

    /// The stored forwarded body a decision record names by `body` (`pack-NNNNNN.gz:OFFSET:LENGTH`) and
    /// `forwarded_sha256`, read directly at that location (``body(for:)`` looks the record up first) and checked
    /// against its hash. A location that does not name a pack file of `bodies/` is refused: it cannot lead outside.
    public func storedBody(at location: String, sha256: String) throws(AuditError) -> [UInt8] {
        let length = location.split(separator: ":").last.flatMap { Int($0) } ?? 0
        guard length <= Self.largestStoredBody else {
            throw AuditError(.corrupt, "body reference '\(location)' names \(length) bytes, over the reader's limit")
        }
        return try BodyStore.read(root: root, reference: location, sha256: sha256)
    }
}
