import AirlockSupport
import Foundation
import Testing

@testable import AirlockAudit

@Suite("Audit log: crash recovery")
struct RecoveryTests {
    @Test func tornLastLineIsKeptAsideAndRecorded() async throws {
        let scratch = try Scratch()
        let keys = try scratch.keyPair()
        let configuration = scratch.configuration(key: keys.key, checkpointEvery: 4)
        var log = try await AuditLog.open(configuration)
        var acknowledged: [AuditReceipt] = []
        for number in 1...10 {
            acknowledged.append(try await log.recordDecision(sampleDecision(number), forwardedBody: nil))
        }
        try await log.simulateCrash()

        // The crash cut the next record short: half a line, no newline.
        let next = #"{"event":"decision","seq":13,"time":"2026-11-26T23:00:00.000Z","id":"req-11","client":{"ip":"#
        try writeTorn(Array(next.utf8), into: scratch.file(1))
        expectFailure(scratch.audit, publicKeys: [keys.pub], kind: .truncated, seq: 13)

        log = try await AuditLog.open(configuration)
        #expect(log.statistics.recoveries == 1)
        _ = try await log.recordDecision(sampleDecision(11), forwardedBody: nil)
        try await log.close()

        let summary = try AuditVerifier.verify(directory: scratch.audit, publicKeys: [keys.pub])
        #expect(summary.recoveries == 1 && summary.decisions == 11)
        // Every acknowledged record survived, in place.
        let text = try String(contentsOf: scratch.file(1), encoding: .utf8)
        for receipt in acknowledged { #expect(text.contains(#""hash":"\#(receipt.hash)""#)) }
        // The torn bytes are kept, byte for byte, and the recovery event names them.
        let torn = try FileManager.default.contentsOfDirectory(
            atPath: scratch.audit.appendingPathComponent("torn").path
        )
        #expect(torn.count == 1)
        let kept = try Data(contentsOf: scratch.audit.appendingPathComponent("torn/\(torn[0])"))
        #expect(kept == Data(next.utf8))
        let recovery = try AuditLogReader(directory: scratch.audit).entries().first { $0.event == .recovery }
        #expect(recovery?.tornBytes == next.utf8.count)
        #expect(recovery?.tornSHA256 == SHA256.hex(Array(next.utf8)))
        #expect(recovery?.kept == "torn/\(torn[0])")
        #expect(recovery?.afterSeq == 12)  // 10 decisions and 2 checkpoints before the crash
    }

    /// The process dies inside the write of a record: half of the line is on the file. Recovery on the disk as the
    /// crash left it sets exactly those bytes aside, keeps every acknowledged record, and the chain verifies.
    @Test func crashInsideTheWriteOfARecordLeavesARecoverableLog() async throws {
        let scratch = try Scratch()
        let keys = try scratch.keyPair()
        let layer = CrashingFileLayer()
        let log = try await AuditLog.open(layer.configuration(scratch.configuration(key: keys.key)))
        var acknowledged: [AuditReceipt] = []
        for number in 1...5 {
            acknowledged.append(try await log.recordDecision(sampleDecision(number), forwardedBody: nil))
        }
        layer.arm()
        let inFlight = Task { try await log.recordDecision(sampleDecision(6), forwardedBody: nil) }
        try #require(layer.waitForTheCrash(), "no write of record 6 reached the file layer")

        // The disk at the instant of the crash.
        let image = scratch.root.appendingPathComponent("crashed")
        try FileManager.default.copyItem(at: scratch.audit, to: image)
        layer.release()
        #expect(await (try? inFlight.value) == nil, "the cut write was acknowledged")
        try? await log.simulateCrash()
        let half = layer.half
        #expect(!half.isEmpty && half.first == UInt8(ascii: "{") && !half.contains(UInt8(ascii: "\n")))
        expectFailure(image, publicKeys: [keys.pub], kind: .truncated, seq: 6)

        var onImage = scratch.configuration(key: keys.key)
        onImage.directory = image
        let recovered = try await AuditLog.open(onImage)
        #expect(recovered.statistics.recoveries == 1)
        _ = try await recovered.recordDecision(sampleDecision(6), forwardedBody: nil)
        try await recovered.close()
        let summary = try AuditVerifier.verify(directory: image, publicKeys: [keys.pub])
        #expect(summary.decisions == 6 && summary.recoveries == 1)
        let text = try String(contentsOf: image.appendingPathComponent(LogFiles.name(index: 1)), encoding: .utf8)
        for receipt in acknowledged { #expect(text.contains(#""hash":"\#(receipt.hash)""#)) }
        // Exactly the half line was set aside, and the recovery record names it.
        let recovery = try AuditLogReader(directory: image).entries().first { $0.event == .recovery }
        #expect(recovery?.tornBytes == half.count)
        #expect(recovery?.tornSHA256 == SHA256.hex(half))
        let kept = try #require(recovery?.kept)
        #expect(try Data(contentsOf: image.appendingPathComponent(kept)) == Data(half))
    }

    @Test func uncleanShutdownWithoutTornLineIsRecorded() async throws {
        let scratch = try Scratch()
        var log = try await AuditLog.open(scratch.configuration())
        _ = try await log.recordDecision(sampleDecision(1), forwardedBody: nil)
        try await log.simulateCrash()
        expectFailure(scratch.audit, publicKeys: [], kind: .truncated, seq: 2)
        log = try await AuditLog.open(scratch.configuration())
        try await log.close()
        let entries = try AuditLogReader(directory: scratch.audit).entries()
        #expect(entries.map(\.event) == [.decision, .recovery, .checkpoint, .checkpoint])
        #expect(entries[1].reason == "unclean shutdown" && entries[1].tornBytes == nil)
        #expect(entries[2].reason == "recovery" && entries[3].reason == "shutdown")
        _ = try AuditVerifier.verify(directory: scratch.audit)
    }

    /// A crash leaves the records after the last checkpoint unsigned. The writer that recovers signs them (and its
    /// recovery event) as it starts, not whenever traffic next brings a checkpoint: with no traffic after the
    /// restart they would stay unsigned, and open to rewriting without a key, indefinitely.
    @Test func recoveredRecordsAreSignedWhenTheWriterStarts() async throws {
        let scratch = try Scratch()
        let keys = try scratch.keyPair()
        let configuration = scratch.configuration(key: keys.key, checkpointEvery: 1000, checkpointInterval: 3600)
        var log = try await AuditLog.open(configuration)
        for number in 1...5 { _ = try await log.recordDecision(sampleDecision(number), forwardedBody: nil) }
        try await log.simulateCrash()

        log = try await AuditLog.open(configuration)
        // While the recovered writer holds the log (and before any new record), verify sees the whole chain,
        // the five records of the crashed session and the recovery event, under a signed checkpoint.
        let live = try AuditVerifier.verify(directory: scratch.audit, publicKeys: [keys.pub])
        let entries = try AuditLogReader(directory: scratch.audit).entries()
        try await log.close()
        let recovery = try #require(entries.last { $0.event == .recovery })
        #expect(recovery.seq == 6 && recovery.afterSeq == 5)
        let checkpoint = try #require(entries.last)
        #expect(checkpoint.event == .checkpoint && checkpoint.reason == "recovery", "\(entries.map(\.event))")
        #expect(checkpoint.count == recovery.seq && checkpoint.signature != nil && checkpoint.keyID == keys.keyID)
        #expect(live.openByWriter && live.unsignedTail == 0, "\(live)")
        #expect(live.checkpointedThrough == recovery.seq && live.signedCheckpoints == 1, "\(live)")
        #expect(live.description.contains("0 records after the last checkpoint (it covers seq 1-6)"), "\(live)")
        let closed = try AuditVerifier.verify(directory: scratch.audit, publicKeys: [keys.pub])
        #expect(closed.signedCheckpoints == 2 && closed.recoveries == 1)
    }

    @Test func crashBetweenRotationAndTheNextFileContinuesInANewFile() async throws {
        let scratch = try Scratch()
        let configuration = scratch.configuration(rotateBytes: 4096)
        var log = try await AuditLog.open(configuration)
        for number in 1...40 { _ = try await log.recordDecision(sampleDecision(number), forwardedBody: nil) }
        try await log.simulateCrash()
        // Remove the newest (empty or short) file as if the crash came right after the rotation checkpoint.
        var files = try scratch.logFiles()
        if try readLines(files.last!).isEmpty == false {
            // Cut the newest file's records so it ends right after its predecessor's rotation checkpoint.
            try FileManager.default.removeItem(at: files.last!)
            files.removeLast()
            // The remaining newest file ends with a rotation checkpoint.
            #expect(try readLines(files.last!).last?.contains(#""reason":"rotate""#) == true)
        } else {
            try FileManager.default.removeItem(at: files.last!)
            files.removeLast()
        }
        log = try await AuditLog.open(configuration)
        try await log.close()
        #expect(try scratch.logFiles().count == files.count + 1)
        let summary = try AuditVerifier.verify(directory: scratch.audit)
        #expect(summary.recoveries == 1)
    }
}
