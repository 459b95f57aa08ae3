import AirlockProxy
import Foundation
import Synchronization
import Testing

/// The watcher behind reload-on-change, on real files.
@Suite(.timeLimit(.minutes(1)))
struct FileChangeWatcherTests {
    /// A settled edit is reported once; an edit made while the reload it triggered was still running (before the
    /// reload re-arms the watcher) is reported again, not lost.
    @Test func anEditDuringAReloadIsReportedAgain() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-watch-\(UUID()).yaml").path
        try "version: 1\n".write(toFile: path, atomically: false, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let reports = Atomic<Int>(0)
        let watcherBox = Mutex<FileChangeWatcher?>(nil)
        let watcher = FileChangeWatcher(interval: .milliseconds(20)) {
            let count = reports.add(1, ordering: .sequentiallyConsistent).newValue
            if count == 1 {
                // The "reload" reads the file, then someone saves again before it re-arms the watcher.
                try? "version: 1\nname: edited-during-reload\n".write(toFile: path, atomically: false, encoding: .utf8)
            }
            watcherBox.withLock { $0?.watch([path]) }
        }
        defer { watcher.stop() }
        watcherBox.withLock { $0 = watcher }
        watcher.watch([path])

        try "version: 1\nname: first\n".write(toFile: path, atomically: false, encoding: .utf8)
        #expect(await eventually(timeout: 5) { reports.load(ordering: .sequentiallyConsistent) >= 2 })
        // Nothing changes any more: no further reports.
        try await Task.sleep(nanoseconds: 200_000_000)
        #expect(reports.load(ordering: .sequentiallyConsistent) == 2)
    }
}
