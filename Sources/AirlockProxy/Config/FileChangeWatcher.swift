import Dispatch
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Notices when any of a set of files changes, by polling their metadata, and reports each settled change once.
///
/// Polling (rather than inotify) follows every way a file gets replaced: edited in place, written to a temporary file
/// and renamed over (editors, `sed -i`), a symlink swapped (Kubernetes ConfigMaps), deleted and recreated. A change is
/// reported only once the files look the same on two consecutive polls, so a half-written file is not picked up.
/// The callback runs on a Dispatch queue, never on an event loop; it is not called again until the files change anew.
public final class FileChangeWatcher: Sendable {
    /// What `stat` says about one file; any difference counts as a change. A missing file is a state of its own.
    struct Stamp: Equatable {
        var device: UInt64 = 0
        var inode: UInt64 = 0
        var size: Int64 = -1
        var modified: Int64 = 0
        var changed: Int64 = 0

        init(path: String) {
            var info = stat()
            guard stat(path, &info) == 0 else { return }
            self.device = UInt64(info.st_dev)
            self.inode = UInt64(info.st_ino)
            self.size = Int64(info.st_size)
            self.modified = Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
            self.changed = Int64(info.st_ctim.tv_sec) * 1_000_000_000 + Int64(info.st_ctim.tv_nsec)
        }
    }

    private struct State {
        var paths: [String] = []
        /// The files as they were when last loaded.
        var baseline: [Stamp] = []
        /// A differing observation waiting for the next poll to confirm the files have settled.
        var pending: [Stamp]?
        /// The files as they were when the last change was reported: what the reload that follows reads at the
        /// earliest. Taken as the baseline after it, so an edit made while it compiled still counts as a change.
        var reported: [String: Stamp] = [:]
    }

    private let state = Mutex(State())
    /// Dispatch sources are thread-safe, but their protocol is not marked Sendable.
    private nonisolated(unsafe) let timer: any DispatchSourceTimer
    private let onChange: @Sendable () -> Void

    /// Starts polling every `interval`; `onChange` is called on a background queue after a settled change.
    public init(interval: Duration, onChange: @escaping @Sendable () -> Void) {
        self.onChange = onChange
        let queue = DispatchQueue(label: "airlock.file-watcher")
        let timer = DispatchSource.makeTimerSource(queue: queue)
        let (seconds, attoseconds) = interval.components
        let nanoseconds = max(1_000_000, Int(seconds) * 1_000_000_000 + Int(attoseconds / 1_000_000_000))
        timer.schedule(
            deadline: .now() + .nanoseconds(nanoseconds),
            repeating: .nanoseconds(nanoseconds),
            leeway: .nanoseconds(nanoseconds / 10)
        )
        self.timer = timer
        timer.setEventHandler { [weak self] in self?.poll() }
        timer.activate()
    }

    /// Watches exactly `paths` from now on, after they were loaded: a file is taken as loaded in the state it had
    /// when its change was reported (so an edit during the reload triggers another), any other in its present state.
    public func watch(_ paths: [String]) {
        let stamps = paths.map(Stamp.init(path:))
        self.state.withLock { state in
            state.baseline = zip(paths, stamps).map { path, stamp in state.reported[path] ?? stamp }
            state.paths = paths
            state.pending = nil
            state.reported = [:]
        }
    }

    /// Stops polling; no callback follows.
    public func stop() {
        self.timer.cancel()
    }

    deinit {
        self.stop()
    }

    private func poll() {
        let paths = self.state.withLock { $0.paths }
        let now = paths.map(Stamp.init(path:))
        let settled: Bool = self.state.withLock { state in
            guard state.paths == paths, now != state.baseline else {
                state.pending = nil
                return false
            }
            guard state.pending == now else {
                state.pending = now
                return false
            }
            state.baseline = now
            state.pending = nil
            state.reported = Dictionary(zip(paths, now)) { first, _ in first }
            return true
        }
        if settled { self.onChange() }
    }
}
