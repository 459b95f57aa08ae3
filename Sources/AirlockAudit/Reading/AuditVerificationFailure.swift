import AirlockSupport
import Foundation

/// Why a log does not verify: the first bad record and what is wrong with it.
public struct AuditVerificationFailure: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case edited
        case deleted
        case reordered
        case truncated
        case badSignature = "bad signature"
        case forgedCheckpoint = "forged checkpoint"
        case droppedFile = "dropped rotated file"
        case alteredBody = "altered body"
        case noPublicKey = "no public key"
        case unreadable
    }

    public var kind: Kind
    /// The first bad seq, when there is one.
    public var seq: Int?
    public var file: String?
    public var detail: String

    public var description: String {
        let place = seq.map { "seq \($0): " } ?? ""
        let location = file.map { " [\($0)]" } ?? ""
        return "\(place)\(kind.rawValue): \(detail)\(location)"
    }
}
