import AirlockProxy
import Foundation
import Testing

/// The audit space guard on a real directory: the directory cap trips it and clears once there is room again, and a
/// directory that cannot be measured trips it too (fail closed).
struct AuditSpaceGuardTests {
    @Test func theDirectoryCapTripsAndClearsAndAnUnmeasurableDirectoryTrips() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-space-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let space = AuditSpaceGuard(
            directory: directory,
            thresholds: AuditSpaceGuard.Thresholds(minFreeBytes: 0, maxDirectoryBytes: 512 * 1024)
        )
        space.check()
        #expect(space.problem == nil)

        // 1 MiB of real (non-sparse) data: over the cap.
        let file = directory.appendingPathComponent("audit-000001.jsonl")
        try Data(repeating: 0x7b, count: 1 << 20).write(to: file)
        space.check()
        let problem = try #require(space.problem)
        #expect(problem.contains("at or over audit.max_directory_bytes (524288)"), "\(problem)")
        #expect((space.usage?.directoryBytes ?? 0) >= 1 << 20)

        try FileManager.default.removeItem(at: file)
        space.check()
        #expect(space.problem == nil)

        try FileManager.default.removeItem(at: directory)
        space.check()
        #expect(space.problem?.contains("cannot be measured") == true, "\(space.problem ?? "nil")")
    }
}
