import AirlockSupport
import Foundation
import Testing

@testable import AirlockAudit

/// Log files are zero-filled ahead of the records (so a group commit is an `fdatasync` of data only): a live or
/// crashed file ends in zeros, which readers, the verifier and recovery must tell apart from a torn line.
@Suite("Audit log: zero-filled files")
struct ZeroFillTests {
    private func bytes(_ url: URL) throws -> [UInt8] { Array(try Data(contentsOf: url)) }

    @Test func aCrashLeavesAZeroTailThatRecoveryCutsOff() async throws {
        let scratch = try Scratch()
        let configuration = scratch.configuration()
        var log = try await AuditLog.open(configuration)
        var acknowledged: [AuditReceipt] = []
        for number in 1...5 {
            acknowledged.append(try await log.recordDecision(sampleDecision(number), forwardedBody: nil))
        }
        try await log.simulateCrash()

        // The records, then zeros: the file was filled ahead of them.
        let crashed = try bytes(scratch.file(1))
        let extent = LogFiles.extent(of: crashed)
        #expect(crashed.count > extent.lineEnd)
        #expect(extent.dataEnd == extent.lineEnd)
        #expect(crashed[extent.lineEnd...].allSatisfy { $0 == 0 })
        // Readers see the five records and no torn line; the verifier only misses the shutdown checkpoint.
        #expect(try AuditLogReader(directory: scratch.audit).entries().count == 5)
        expectFailure(scratch.audit, publicKeys: [], kind: .truncated, seq: 6)
        let failure = #expect(throws: AuditVerificationFailure.self) {
            _ = try AuditVerifier.verify(directory: scratch.audit)
        }
        #expect(failure?.detail.contains("incomplete line") == false)

        log = try await AuditLog.open(configuration)
        #expect(log.statistics.recoveries == 1)
        _ = try await log.recordDecision(sampleDecision(6), forwardedBody: nil)
        try await log.close()

        // Nothing was set aside, the next records follow the last line directly, and the closed file has no zeros.
        let recovery = try AuditLogReader(directory: scratch.audit).entries().first { $0.event == .recovery }
        #expect(recovery?.tornBytes == nil)
        #expect(!FileManager.default.fileExists(atPath: scratch.audit.appendingPathComponent("torn").path))
        let closed = try bytes(scratch.file(1))
        #expect(!closed.contains(0))
        #expect(Array(closed[..<extent.lineEnd]) == Array(crashed[..<extent.lineEnd]))
        let text = String(decoding: closed, as: UTF8.self)
        for receipt in acknowledged { #expect(text.contains(#""hash":"\#(receipt.hash)""#)) }
        let summary = try AuditVerifier.verify(directory: scratch.audit)
        #expect(summary.decisions == 6 && summary.recoveries == 1)
    }

    /// While the writer holds the log, verify tolerates a line being written at the end of the live file; a zero
    /// byte dropped into it is not that, even though it makes everything after it look like a zero-filled tail.
    @Test func aZeroDroppedIntoTheLiveFileDoesNotHideTheRecordsAfterIt() async throws {
        let scratch = try Scratch()
        let log = try await AuditLog.open(scratch.configuration())
        for number in 1...6 { _ = try await log.recordDecision(sampleDecision(number), forwardedBody: nil) }
        #expect(try AuditVerifier.verify(directory: scratch.audit).openByWriter)

        let file = scratch.file(1)
        var contents = try bytes(file)
        let lines = contents.indices.filter { contents[$0] == UInt8(ascii: "\n") }
        contents[lines[2] + 1] = 0  // the first byte of the fourth record
        try Data(contents).write(to: file)
        let failure = #expect(throws: AuditVerificationFailure.self) {
            _ = try AuditVerifier.verify(directory: scratch.audit)
        }
        #expect(failure?.kind == .truncated)
        try await log.close()
    }

    @Test func aWriteThatReachedTheDiskOutOfOrderIsSetAsideWhole() async throws {
        let scratch = try Scratch()
        let configuration = scratch.configuration()
        var log = try await AuditLog.open(configuration)
        for number in 1...3 { _ = try await log.recordDecision(sampleDecision(number), forwardedBody: nil) }
        try await log.simulateCrash()

        // The crash hit a write of two pages: the second reached the disk, the first only partly.
        let crashed = try bytes(scratch.file(1))
        let lineEnd = LogFiles.extent(of: crashed).lineEnd
        #expect(crashed.count >= lineEnd + 4096 + 64)
        let head = Array(#"{"event":"decision","seq":4,"ti"#.utf8)
        let later = Array(#"ll":null,"status":null,"duration_ms":null,"prev":"x","hash":"y"}"#.utf8) + [0x0A]
        try writeTorn(head, into: scratch.file(1))
        let handle = try FileHandle(forWritingTo: scratch.file(1))
        try handle.seek(toOffset: UInt64(lineEnd + 4096))
        try handle.write(contentsOf: Data(later))
        try handle.close()
        expectFailure(scratch.audit, publicKeys: [], kind: .truncated, seq: 4)

        log = try await AuditLog.open(configuration)
        _ = try await log.recordDecision(sampleDecision(4), forwardedBody: nil)
        try await log.close()

        // Everything from the end of the last line to the last non-zero byte is kept aside, byte for byte.
        let torn = try FileManager.default.contentsOfDirectory(
            atPath: scratch.audit.appendingPathComponent("torn").path
        )
        #expect(torn.count == 1)
        let kept = try bytes(scratch.audit.appendingPathComponent("torn/\(torn[0])"))
        let expected = head + [UInt8](repeating: 0, count: 4096 - head.count) + later
        #expect(kept == expected)
        let recovery = try AuditLogReader(directory: scratch.audit).entries().first { $0.event == .recovery }
        #expect(recovery?.tornBytes == expected.count)
        #expect(recovery?.tornSHA256 == SHA256.hex(expected))
        #expect(!(try bytes(scratch.file(1))).contains(0))
        let summary = try AuditVerifier.verify(directory: scratch.audit)
        #expect(summary.decisions == 4 && summary.recoveries == 1)
    }

    @Test func finishedFilesEndAtTheirLastLine() async throws {
        let scratch = try Scratch()
        let log = try await AuditLog.open(scratch.configuration(rotateBytes: 4096))
        for number in 1...40 { _ = try await log.recordDecision(sampleDecision(number), forwardedBody: nil) }
        // The current file is zero-filled ahead while it is written.
        let files = try scratch.logFiles()
        #expect(files.count > 2)
        var live = try bytes(files.last!)
        if live.isEmpty {  // the last record rotated: one more starts the new file
            _ = try await log.recordDecision(sampleDecision(41), forwardedBody: nil)
            live = try bytes(files.last!)
        }
        #expect(live.last == 0)
        // Rotated files were cut back to their records at rotation.
        for file in files.dropLast() {
            let contents = try bytes(file)
            #expect(!contents.contains(0) && contents.last == UInt8(ascii: "\n"))
        }
        try await log.close()
        let newest = try bytes(files.last!)
        #expect(!newest.contains(0) && newest.last == UInt8(ascii: "\n"))
        let summary = try AuditVerifier.verify(directory: scratch.audit)
        #expect(summary.decisions >= 40 && summary.files == files.count)
    }

    @Test func aRotatedFileLeftWithItsZeroTailStillVerifies() async throws {
        let scratch = try Scratch()
        let log = try await AuditLog.open(scratch.configuration(rotateBytes: 4096))
        for number in 1...20 { _ = try await log.recordDecision(sampleDecision(number), forwardedBody: nil) }
        try await log.close()
        // As if the writer had crashed between the rotation checkpoint and cutting the zeros off.
        let handle = try FileHandle(forWritingTo: scratch.file(1))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(count: 8192))
        try handle.close()
        let summary = try AuditVerifier.verify(directory: scratch.audit)
        #expect(summary.decisions == 20)
        #expect(try AuditLogReader(directory: scratch.audit).entries().filter { $0.event == .decision }.count == 20)
        // The writer finds the chain head across it, too.
        let reopened = try await AuditLog.open(scratch.configuration(rotateBytes: 4096))
        _ = try await reopened.recordDecision(sampleDecision(21), forwardedBody: nil)
        try await reopened.close()
        #expect(try AuditVerifier.verify(directory: scratch.audit).decisions == 21)
    }

    @Test func bodyPacksAreZeroFilledAndEachSessionStartsItsOwn() async throws {
        let scratch = try Scratch()
        let configuration = scratch.configuration()
        var log = try await AuditLog.open(configuration)
        for number in 1...3 {
            _ = try await log.recordDecision(sampleDecision(number), forwardedBody: Array("body \(number)".utf8))
        }
        try await log.simulateCrash()
        let first = scratch.audit.appendingPathComponent("bodies/pack-000001.gz")
        let crashed = try bytes(first)
        #expect(crashed.last == 0)  // the zero-filled tail the crash left
        // Reading the whole pack stops at its zeros.
        let members = try BodyStore.gunzip(crashed, source: "pack", allMembers: true)
        #expect(members == Array("body 1body 2body 3".utf8))

        log = try await AuditLog.open(configuration)
        _ = try await log.recordDecision(sampleDecision(4), forwardedBody: Array("body 4".utf8))
        try await log.close()
        // The new session stored its body in a pack of its own, and the closed pack ends at its last member.
        let fourth = try AuditLogReader(directory: scratch.audit).entries().first { $0.id == "req-4" }
        #expect(fourth?.body?.hasPrefix("pack-000002.gz:0:") == true)
        let second = try bytes(scratch.audit.appendingPathComponent("bodies/pack-000002.gz"))
        #expect(try BodyStore.gunzip(second, source: "pack") == Array("body 4".utf8))
        #expect(second.count == Int(fourth?.body?.split(separator: ":").last ?? "") ?? -1)
        let reader = AuditLogReader(directory: scratch.audit)
        for number in 1...4 { #expect(try reader.body(for: "req-\(number)") == Array("body \(number)".utf8)) }
        let summary = try AuditVerifier.verify(directory: scratch.audit, checkBodies: true)
        #expect(summary.decisions == 4 && summary.bodiesChecked == 4)
    }
}
