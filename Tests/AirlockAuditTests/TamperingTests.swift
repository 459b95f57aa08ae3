import Foundation
import Testing

@testable import AirlockAudit

/// Each kind of tampering is detected, with the kind and the first bad seq the reviewer is told.
@Suite("Audit log: tampering is detected")
struct TamperingTests {
    /// A signed log of 30 decisions with a checkpoint every 5 records; rotated into several files when `rotate`.
    static func makeLog(rotate: Bool) async throws -> (Scratch, pub: URL, key: URL) {
        let scratch = try Scratch()
        let keys = try scratch.keyPair()
        let log = try await AuditLog.open(
            scratch.configuration(key: keys.key, rotateBytes: rotate ? 4096 : 64 << 20, checkpointEvery: 5)
        )
        for number in 1...30 { _ = try await log.recordDecision(sampleDecision(number), forwardedBody: nil) }
        try await log.close()
        // The untouched log verifies; each test then breaks it one way.
        _ = try AuditVerifier.verify(directory: scratch.audit, publicKeys: [keys.pub])
        if rotate { #expect(try scratch.logFiles().count >= 4) }
        return (scratch, keys.pub, keys.key)
    }

    @Test func editedFieldIsDetected() async throws {
        let (scratch, pub, _) = try await Self.makeLog(rotate: false)
        var lines = try readLines(scratch.file(1))
        #expect(lines[2].contains(#""vendor":"scale""#))
        lines[2] = lines[2].replacingOccurrences(of: #""vendor":"scale""#, with: #""vendor":"other""#)
        try writeLines(lines, to: scratch.file(1))
        expectFailure(scratch.audit, publicKeys: [pub], kind: .edited, seq: 3)
    }

    @Test func editedRecordWithRecomputedChainFailsTheSignature() async throws {
        let (scratch, pub, _) = try await Self.makeLog(rotate: false)
        var lines = try readLines(scratch.file(1))
        lines[1] = lines[1].replacingOccurrences(of: #""decision":"forwarded""#, with: #""decision":"blocked""#)
        resealChain(&lines, from: 1)
        try writeLines(lines, to: scratch.file(1))
        // seq 1-5 are decisions, seq 6 the first checkpoint: its signature no longer covers the chain.
        expectFailure(scratch.audit, publicKeys: [pub], kind: .badSignature, seq: 6)
    }

    @Test func rewrittenHashIsDetectedAtTheNextRecord() async throws {
        let (scratch, pub, _) = try await Self.makeLog(rotate: false)
        var lines = try readLines(scratch.file(1))
        lines[1] = lines[1].replacingOccurrences(of: #""method":"POST""#, with: #""method":"GET""#)
        // Seq 2 gets a valid hash of its own, but seq 3 still points at the old one.
        var prefix = Array(lines[0...1])
        resealChain(&prefix, from: 1)
        lines[1] = prefix[1]
        try writeLines(lines, to: scratch.file(1))
        expectFailure(scratch.audit, publicKeys: [pub], kind: .edited, seq: 2)
    }

    @Test func duplicatedMemberIsDetectedEvenWithARecomputedChain() async throws {
        let (scratch, pub, _) = try await Self.makeLog(rotate: false)
        var lines = try readLines(scratch.file(1))
        // A JSON reader may take either "vendor"; the verifier accepts only the canonical layout.
        lines[2] = lines[2].replacingOccurrences(of: #""method":"POST""#, with: #""method":"POST","vendor":"other""#)
        resealChain(&lines, from: 2)
        try writeLines(lines, to: scratch.file(1))
        expectFailure(scratch.audit, publicKeys: [pub], kind: .edited, seq: 3)
    }

    @Test func deletedRecordIsDetected() async throws {
        let (scratch, pub, _) = try await Self.makeLog(rotate: false)
        var lines = try readLines(scratch.file(1))
        lines.remove(at: 2)
        try writeLines(lines, to: scratch.file(1))
        expectFailure(scratch.audit, publicKeys: [pub], kind: .deleted, seq: 3)
    }

    @Test func swappedRecordsAreDetected() async throws {
        let (scratch, pub, _) = try await Self.makeLog(rotate: false)
        var lines = try readLines(scratch.file(1))
        lines.swapAt(2, 3)
        try writeLines(lines, to: scratch.file(1))
        expectFailure(scratch.audit, publicKeys: [pub], kind: .reordered, seq: 4)
    }

    @Test func truncatedMidLineIsDetected() async throws {
        let (scratch, pub, _) = try await Self.makeLog(rotate: false)
        let handle = try FileHandle(forUpdating: scratch.file(1))
        let size = try handle.seekToEnd()
        try handle.truncate(atOffset: size - 40)
        try handle.close()
        let total = try readLines(scratch.file(1)).count  // the last of them is the torn one
        expectFailure(scratch.audit, publicKeys: [pub], kind: .truncated, seq: total)
    }

    @Test func truncatedAtALineBoundaryIsDetected() async throws {
        let (scratch, pub, _) = try await Self.makeLog(rotate: false)
        var lines = try readLines(scratch.file(1))
        lines.removeLast(3)
        try writeLines(lines, to: scratch.file(1))
        expectFailure(scratch.audit, publicKeys: [pub], kind: .truncated, seq: lines.count + 1)
    }

    @Test func truncatedRotatedFileIsDetected() async throws {
        let (scratch, pub, _) = try await Self.makeLog(rotate: true)
        var lines = try readLines(scratch.file(1))
        lines.removeLast(2)
        try writeLines(lines, to: scratch.file(1))
        expectFailure(scratch.audit, publicKeys: [pub], kind: .truncated, seq: lines.count + 1)
    }

    @Test func droppedRotatedFileIsDetected() async throws {
        let (scratch, pub, _) = try await Self.makeLog(rotate: true)
        let firstSeqOfFile2 = try readLines(scratch.file(1)).count + 1
        try FileManager.default.removeItem(at: scratch.file(2))
        expectFailure(scratch.audit, publicKeys: [pub], kind: .droppedFile, seq: firstSeqOfFile2)
    }

    @Test func droppedAndRenamedRotatedFileIsDetected() async throws {
        let (scratch, pub, _) = try await Self.makeLog(rotate: true)
        let firstSeqOfFile2 = try readLines(scratch.file(1)).count + 1
        let files = try scratch.logFiles()
        try FileManager.default.removeItem(at: scratch.file(2))
        for index in 3...files.count {
            try FileManager.default.moveItem(at: scratch.file(index), to: scratch.file(index - 1))
        }
        expectFailure(scratch.audit, publicKeys: [pub], kind: .droppedFile, seq: firstSeqOfFile2)
    }

    @Test func droppedOldestAndNewestFilesAreDetected() async throws {
        let (scratch, pub, _) = try await Self.makeLog(rotate: true)
        let files = try scratch.logFiles()
        let newest = try Data(contentsOf: files.last!)
        try FileManager.default.removeItem(at: files.last!)
        expectFailure(scratch.audit, publicKeys: [pub], kind: .droppedFile, seq: nil)
        try newest.write(to: files.last!)
        _ = try AuditVerifier.verify(directory: scratch.audit, publicKeys: [pub])
        try FileManager.default.removeItem(at: scratch.file(1))
        expectFailure(scratch.audit, publicKeys: [pub], kind: .droppedFile, seq: 1)
    }

    @Test func checkpointForgedWithAnotherKeyIsDetected() async throws {
        let (scratch, pub, _) = try await Self.makeLog(rotate: false)
        let attacker = try scratch.keyPair("attacker")
        var lines = try readLines(scratch.file(1))
        // Seq 6 is the first checkpoint; re-sign it with the attacker's key and repair the chain after it.
        let entry = try JSONDecoder().decode(AuditEntry.self, from: Data(lines[5].utf8))
        #expect(entry.event == .checkpoint)
        let message = RecordEncoding.checkpointMessage(
            seq: entry.seq,
            time: entry.time,
            reason: entry.reason!,
            head: entry.head!,
            count: entry.count!
        )
        let forged = Data(try SigningKey(path: attacker.key).sign(message)).base64EncodedString()
        lines[5] = lines[5]
            .replacingOccurrences(of: entry.signature!, with: forged)
            .replacingOccurrences(of: entry.keyID!, with: attacker.keyID)
        resealChain(&lines, from: 5)
        try writeLines(lines, to: scratch.file(1))
        expectFailure(scratch.audit, publicKeys: [pub], kind: .forgedCheckpoint, seq: 6)
        // Even a verifier that also trusted the attacker's key fails at the next genuine checkpoint, whose signature
        // covers the original chain.
        expectFailure(scratch.audit, publicKeys: [pub, attacker.pub], kind: .badSignature, seq: 12)
    }

    @Test func alteredSignatureIsDetected() async throws {
        let (scratch, pub, _) = try await Self.makeLog(rotate: false)
        var lines = try readLines(scratch.file(1))
        let entry = try JSONDecoder().decode(AuditEntry.self, from: Data(lines[11].utf8))
        #expect(entry.event == .checkpoint && entry.seq == 12)
        var raw = Array(Data(base64Encoded: entry.signature!)!)
        raw[10] ^= 0x01
        lines[11] = lines[11].replacingOccurrences(of: entry.signature!, with: Data(raw).base64EncodedString())
        resealChain(&lines, from: 11)
        try writeLines(lines, to: scratch.file(1))
        expectFailure(scratch.audit, publicKeys: [pub], kind: .badSignature, seq: 12)
    }
}
