import NIOCore
import Synchronization

/// The lab connections that are open, so shutdown can ask each to finish and wait until all have closed.
/// Touched once per connection (open and close), never per request.
final class ConnectionTracker: Sendable {
    private struct State {
        var channels: [ObjectIdentifier: any Channel] = [:]
        var drained: [EventLoopPromise<Void>] = []
    }

    private let state = Mutex(State())

    func add(_ channel: any Channel) {
        let id = ObjectIdentifier(channel)
        self.state.withLock { $0.channels[id] = channel }
        channel.closeFuture.whenComplete { _ in
            let waiters: [EventLoopPromise<Void>] = self.state.withLock { state in
                state.channels[id] = nil
                guard state.channels.isEmpty else { return [] }
                defer { state.drained.removeAll() }
                return state.drained
            }
            for waiter in waiters { waiter.succeed(()) }
        }
    }

    var openChannels: [any Channel] {
        self.state.withLock { Array($0.channels.values) }
    }

    /// Succeeds once no connection is open.
    func waitUntilDrained(on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        let promise = eventLoop.makePromise(of: Void.self)
        let done = self.state.withLock { state in
            if state.channels.isEmpty { return true }
            state.drained.append(promise)
            return false
        }
        if done { promise.succeed(()) }
        return promise.futureResult
    }
}
