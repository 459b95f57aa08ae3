import AirlockSupport
import Foundation

/// What a successful verification found.
public struct AuditVerification: Sendable, CustomStringConvertible {
    public var files = 0
    /// All chained lines: decisions, outcomes, checkpoints, recoveries.
    public var records = 0
    public var decisions = 0
    public var outcomes = 0
    public var checkpoints = 0
    public var signedCheckpoints = 0
    public var recoveries = 0
    public var keyIDs: Set<String> = []
    public var firstTime: String?
    public var lastTime: String?
    public var lastSeq = 0
    /// Records after the last checkpoint of a log that a writer still holds open; the next checkpoint signs them.
    public var unsignedTail = 0
    /// The last seq the last checkpoint covers (its `count`): every record up to it is pinned by that checkpoint
    /// (and, when signed, by its signature).
    public var checkpointedThrough = 0
    public var openByWriter = false
    /// With `checkBodies`: distinct stored bodies that hash to their names, and forwarded bodies with no stored copy
    /// (expected when `audit.store_bodies` is off).
    public var bodiesChecked = 0
    public var bodiesMissing = 0

    public var description: String {
        var text =
            "OK: \(records) records (\(decisions) decisions, \(outcomes) outcomes) "
            + "in \(files) file\(files == 1 ? "" : "s"), seq 1-\(lastSeq), "
            + "\(checkpoints) checkpoint\(checkpoints == 1 ? "" : "s")"
        if signedCheckpoints > 0 {
            text += " (\(signedCheckpoints) signed by key_id \(keyIDs.sorted().joined(separator: ", ")))"
        } else if checkpoints > 0 {
            text += " (unsigned: hash chain only)"
        }
        if recoveries > 0 { text += ", \(recoveries) recovery event\(recoveries == 1 ? "" : "s")" }
        if let firstTime, let lastTime { text += ", \(firstTime) .. \(lastTime)" }
        if bodiesChecked > 0 || bodiesMissing > 0 {
            text += ", \(bodiesChecked) stored bodies intact"
            if bodiesMissing > 0 { text += ", \(bodiesMissing) forwarded bodies not stored" }
        }
        if openByWriter {
            text +=
                "; open by a writer, \(unsignedTail) record\(unsignedTail == 1 ? "" : "s") after the last checkpoint"
                + " (it covers seq 1-\(checkpointedThrough))"
        }
        return text
    }
}
