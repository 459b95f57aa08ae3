import Foundation
import NIOCore

/// Threads of the proxy's own for the async seams (inspection and audit), as a Swift `TaskExecutor`.
///
/// The seams run as tasks that prefer this executor, so they never wait for the process-wide cooperative pool: code
/// elsewhere in the process that blocks that pool (a library, a test harness) cannot stall requests, and redaction of
/// large bodies is bounded to these threads rather than competing with everything else. One shared instance; its
/// threads live as long as the process.
final class SeamExecutor: TaskExecutor, @unchecked Sendable {
    // @unchecked: `jobs` and `waiting` are only touched with `condition` locked.
    static let shared = SeamExecutor(threadCount: max(2, System.coreCount), name: "airlock-seam")
    /// The threads that inspect bodies which may hold images (``ImageLane``): as many as OCR may run at once, so a
    /// request waiting for OCR waits here, never on an event loop or a thread that inspects text.
    static let images = SeamExecutor(threadCount: ImageLane.inspector.concurrency, name: "airlock-image")

    private let condition = NSCondition()
    private var jobs = CircularBuffer<UnownedJob>(initialCapacity: 64)

    private init(threadCount: Int, name: String) {
        for index in 0..<threadCount {
            let thread = Thread { [unowned self] in self.work() }
            thread.name = "\(name)-\(index)"
            thread.start()
        }
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        self.condition.lock()
        self.jobs.append(job)
        self.condition.signal()
        self.condition.unlock()
    }

    private func work() {
        while true {
            self.condition.lock()
            while self.jobs.isEmpty {
                self.condition.wait()
            }
            let job = self.jobs.removeFirst()
            self.condition.unlock()
            job.runSynchronously(on: self.asUnownedTaskExecutor())
        }
    }
}
