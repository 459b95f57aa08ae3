import AirlockAudit
import Foundation
import Synchronization

/// The chain verification of each directory, run in the background when the console starts (a large log takes a
/// while) and shown on the overview: pending, verified (with the last checkpoint and the keys that signed), or
/// failed (with the first failure).
public final class ChainStatus: Sendable {
    public enum State: Sendable {
        case pending
        case verified(AuditVerification)
        case failed(String)
    }

    public let directories: [URL]
    private let states: Mutex<[State]>

    public init(directories: [URL]) {
        self.directories = directories
        self.states = Mutex(Array(repeating: .pending, count: directories.count))
    }

    public var current: [State] { states.withLock { $0 } }

    /// Verifies every directory in turn with `publicKeys` (signed checkpoints need the key that signed them).
    public func verify(publicKeys: [URL]) {
        for (index, directory) in directories.enumerated() {
            let state: State
            do {
                state = .verified(try AuditVerifier.verify(directory: directory, publicKeys: publicKeys))
            } catch {
                state = .failed(error.description)
            }
            states.withLock { $0[index] = state }
        }
    }
}
