import Foundation
import Testing

@testable import AirlockAudit

#if canImport(Glibc)
    import Glibc
#endif

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
            atPath: scratch.audit.appendingPathComponent("torn").path)
        #expect(torn.count == 1)
        let kept = try Data(contentsOf: scratch.audit.appendingPathComponent("torn/\(torn[0])"))
        #expect(kept == Data(next.utf8))
        let recovery = try AuditLogReader(directory: scratch.audit).entries().first { $0.event == .recovery }
        #expect(recovery?.tornBytes == next.utf8.count)
        #expect(recovery?.tornSHA256 == Digest.sha256Hex(Array(next.utf8)))
        #expect(recovery?.kept == "torn/\(torn[0])")
        #expect(recovery?.afterSeq == 12)  // 10 decisions and 2 checkpoints before the crash
    }

    @Test func childProcessKilledMidWriteLeavesARecoverableLog() async throws {
        let scratch = try Scratch()
        let configuration = scratch.configuration()
        var log = try await AuditLog.open(configuration)
        for number in 1...5 { _ = try await log.recordDecision(sampleDecision(number), forwardedBody: nil) }
        try await log.simulateCrash()

        // A real process appends part of a line, then is killed with SIGKILL before it can finish.
        let writer = Process()
        writer.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        writer.arguments = [
            "-c",
            """
            import os, sys, time
            fd = os.open(sys.argv[1], os.O_WRONLY | os.O_APPEND)
            os.write(fd, b'{"event":"decision","seq":6,"time":"2026-11-26T23:00:00.000Z","id":"req-6","cl')
            print("written", flush=True)
            time.sleep(30)
            os.write(fd, b'ient":{}}\\n')
            """,
            scratch.file(1).path,
        ]
        let output = Pipe()
        writer.standardOutput = output
        try writer.run()
        let ready = output.fileHandleForReading.availableDataWithin(seconds: 10)
        #expect(String(decoding: ready, as: UTF8.self).contains("written"))
        kill(writer.processIdentifier, SIGKILL)
        writer.waitUntilExit()
        #expect(writer.terminationReason == .uncaughtSignal)

        log = try await AuditLog.open(configuration)
        _ = try await log.recordDecision(sampleDecision(6), forwardedBody: nil)
        try await log.close()
        let summary = try AuditVerifier.verify(directory: scratch.audit)
        #expect(summary.decisions == 6 && summary.recoveries == 1)
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

extension FileHandle {
    /// Reads what arrives within `seconds`, so a silent child fails the test instead of hanging it.
    func availableDataWithin(seconds: Double) -> Data {
        var descriptor = pollfd(fd: fileDescriptor, events: Int16(POLLIN), revents: 0)
        guard poll(&descriptor, 1, Int32(seconds * 1000)) > 0 else { return Data() }
        return availableData
    }
}
