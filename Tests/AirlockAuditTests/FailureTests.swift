import Foundation
import Testing

@testable import AirlockAudit

#if canImport(Glibc)
import Glibc
#endif

/// When the log cannot be written the append throws (the proxy answers 503 and forwards nothing), and what was
/// acknowledged before stays intact.
@Suite("Audit log: fail closed when the disk refuses")
struct FailureTests {
    @Test(.enabled(if: Tmpfs.canMount, "skipped: mounting a tmpfs was refused (needs root / CAP_SYS_ADMIN)"))
    func diskFullThrowsAndKeepsTheLogConsistent() async throws {
        let tmpfs = try Tmpfs(sizeKB: 64)
        defer { tmpfs.unmount() }
        // No timed checkpoint: on a loaded machine the test can outlast the default 60 s interval, and a checkpoint
        // line would be counted with the decisions below.
        let configuration = AuditConfiguration(
            directory: tmpfs.path.appendingPathComponent("audit"),
            storeBodies: false,
            checkpointInterval: 86_400
        )
        let log = try await AuditLog.open(configuration)
        var acknowledged: [AuditReceipt] = []
        var failure: AuditError?
        for number in 1...2000 {
            var record = sampleDecision(number)
            record.path = "/v1/" + String(repeating: "p", count: 900)
            do {
                acknowledged.append(try await log.recordDecision(record, forwardedBody: nil))
            } catch {
                failure = error
                break
            }
        }
        let error = try #require(failure, "64 KiB should fill up before 2000 records of 1 KiB")
        #expect(error.code == .writeFailed)
        #expect(error.message.contains("No space left on device"))
        #expect(!acknowledged.isEmpty)
        // Still refusing the same record while the disk is full; no partial line was left behind.
        var again = sampleDecision(9999)
        again.path = "/v1/" + String(repeating: "p", count: 900)
        await #expect(throws: AuditError.self) { _ = try await log.recordDecision(again, forwardedBody: nil) }
        let file = configuration.directory.appendingPathComponent(LogFiles.name(index: 1))
        // Past the last line there are only zeros (the file's zero-filled tail), no partial line.
        let bytes = Array(try Data(contentsOf: file))
        let extent = LogFiles.extent(of: bytes)
        #expect(extent.lineEnd > 0 && extent.dataEnd == extent.lineEnd)
        #expect(try readLines(file).count == acknowledged.count)

        // Once there is room again the same log takes records again, without a restart.
        #expect(tmpfs.remount("size=1m"))
        _ = try await log.recordDecision(sampleDecision(10_000), forwardedBody: nil)
        try await log.close()
        let summary = try AuditVerifier.verify(directory: configuration.directory)
        #expect(summary.decisions == acknowledged.count + 1)
    }

    @Test(.enabled(if: Tmpfs.canMount, "skipped: mounting a tmpfs was refused (needs root / CAP_SYS_ADMIN)"))
    func bodyStoreFullThrows() async throws {
        let tmpfs = try Tmpfs(sizeKB: 64)
        defer { tmpfs.unmount() }
        let log = try await AuditLog.open(AuditConfiguration(directory: tmpfs.path.appendingPathComponent("audit")))
        // Random bytes do not compress: 200 KiB cannot be stored in 64 KiB.
        let body = (0..<200_000).map { _ in UInt8.random(in: 0...255) }
        let error = await #expect(throws: AuditError.self) {
            _ = try await log.recordDecision(sampleDecision(1), forwardedBody: body)
        }
        #expect(error?.code == .writeFailed)
        // No record points at a body that was not stored.
        #expect(try AuditLogReader(directory: log.configuration.directory).entries().isEmpty)
        // The failed member was cut back: nothing partial stays in the pack.
        let pack = tmpfs.path.appendingPathComponent("audit/bodies/pack-000001.gz")
        #expect(try Data(contentsOf: pack).isEmpty)
        try await log.close()
    }

    @Test func unwritableLogFileThrowsAndStopsTheLog() async throws {
        let scratch = try Scratch()
        let log = try await AuditLog.open(scratch.configuration())
        _ = try await log.recordDecision(sampleDecision(1), forwardedBody: Array("ok".utf8))
        // The descriptor now refers to a read-only /dev/null: every write fails, as on a failing disk.
        let readOnly = open("/dev/null", O_RDONLY)
        defer { close(readOnly) }
        let descriptor = try #require(log.descriptorForTesting)
        #expect(dup2(readOnly, descriptor) == descriptor)
        let error = await #expect(throws: AuditError.self) {
            _ = try await log.recordDecision(sampleDecision(2), forwardedBody: Array("refused".utf8))
        }
        #expect(error?.code == .writeFailed)
        // The cut-back could not be done on that descriptor either, so the log stops: later appends fail fast.
        let later = await #expect(throws: AuditError.self) {
            _ = try await log.recordDecision(sampleDecision(3), forwardedBody: nil)
        }
        #expect(later?.code == .closed)
        await #expect(throws: AuditError.self) { try await log.close() }
        // What was acknowledged before is intact.
        #expect(try readLines(scratch.file(1)).count == 1)
    }

    @Test func bodyPackWhoseFailedWriteCannotBeUndoneIsLeftForANewPack() async throws {
        let scratch = try Scratch()
        let log = try await AuditLog.open(scratch.configuration())
        _ = try await log.recordDecision(sampleDecision(1), forwardedBody: Array("first body".utf8))
        // A partial member the writer could not cut back: bytes past the end of the pack it knows of.
        let handle = try FileHandle(forWritingTo: scratch.audit.appendingPathComponent("bodies/pack-000001.gz"))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("partial member".utf8))
        try handle.close()
        // The pack descriptor now refers to a read-only /dev/null: the write fails, and so does the cut.
        let readOnly = open("/dev/null", O_RDONLY)
        defer { close(readOnly) }
        let descriptor = try #require(log.packDescriptorForTesting)
        #expect(dup2(readOnly, descriptor) == descriptor)
        let error = await #expect(throws: AuditError.self) {
            _ = try await log.recordDecision(sampleDecision(2), forwardedBody: Array("refused body".utf8))
        }
        #expect(error?.code == .writeFailed)
        // The next body goes into a new pack, where its record says it is.
        _ = try await log.recordDecision(sampleDecision(3), forwardedBody: Array("third body".utf8))
        try await log.close()
        let third = try AuditLogReader(directory: scratch.audit).entries().first { $0.id == "req-3" }
        #expect(third?.body?.hasPrefix("pack-000002.gz:0:") == true)
        #expect(try AuditLogReader(directory: scratch.audit).body(for: "req-3") == Array("third body".utf8))
        let summary = try AuditVerifier.verify(directory: scratch.audit, checkBodies: true)
        #expect(summary.decisions == 2 && summary.bodiesChecked == 2)
    }

    @Test(.enabled(if: Tmpfs.canMount, "skipped: mounting a tmpfs was refused (needs root / CAP_SYS_ADMIN)"))
    func readOnlyFileSystemIsRefusedAtOpen() async throws {
        let tmpfs = try Tmpfs(sizeKB: 64, options: "ro")
        defer { tmpfs.unmount() }
        let error = await #expect(throws: AuditError.self) {
            _ = try await AuditLog.open(AuditConfiguration(directory: tmpfs.path.appendingPathComponent("audit")))
        }
        #expect(error?.code == .unwritable)
        #expect(error?.message.contains("Read-only file system") == true)
    }

    @Test func unwritableBodyStoreFailsEveryRecordWithABody() async throws {
        let scratch = try Scratch()
        let log = try await AuditLog.open(scratch.configuration())
        // `bodies` is a file, so no pack can be created in it.
        try Data("x".utf8).write(to: scratch.audit.appendingPathComponent("bodies"))
        let outcomes = await withTaskGroup(of: (Bool, Result<AuditReceipt, AuditError>).self) { group in
            for number in 1...40 {
                group.addTask {
                    let body: [UInt8]? = number % 2 == 0 ? Array("body \(number)".utf8) : nil
                    do {
                        return (
                            body != nil,
                            .success(try await log.recordDecision(sampleDecision(number), forwardedBody: body))
                        )
                    } catch let error as AuditError {
                        return (body != nil, .failure(error))
                    } catch {
                        preconditionFailure("recordDecision throws only AuditError")
                    }
                }
            }
            var all: [(Bool, Result<AuditReceipt, AuditError>)] = []
            for await outcome in group { all.append(outcome) }
            return all
        }
        for (hasBody, outcome) in outcomes {
            switch outcome {
            case .success: #expect(!hasBody, "a record with a body was acknowledged without its body stored")
            case .failure(let error): #expect(hasBody && error.code == .unwritable)
            }
        }
        try await log.close()
        let decisions = try AuditLogReader(directory: scratch.audit).decisions()
        #expect(decisions.count == 20)
        #expect(decisions.allSatisfy { $0.forwardedSHA256 == nil && $0.body == nil })
    }

    @Test func directoryThatIsAFileIsRefusedAtOpen() async throws {
        let scratch = try Scratch()
        try Data("x".utf8).write(to: scratch.audit)
        let error = await #expect(throws: AuditError.self) { _ = try await AuditLog.open(scratch.configuration()) }
        #expect(error?.code == .unwritable)
        #expect(error?.description.contains(scratch.audit.path) == true)
    }

    @Test func corruptLastRecordIsRefusedAtOpen() async throws {
        let scratch = try Scratch()
        let log = try await AuditLog.open(scratch.configuration())
        _ = try await log.recordDecision(sampleDecision(1), forwardedBody: nil)
        try await log.close()
        var lines = try readLines(scratch.file(1))
        lines[lines.count - 1] = lines[lines.count - 1].replacingOccurrences(of: "shutdown", with: "shutdowX")
        try writeLines(lines, to: scratch.file(1))
        let error = await #expect(throws: AuditError.self) { _ = try await AuditLog.open(scratch.configuration()) }
        #expect(error?.code == .corrupt)
    }
}
