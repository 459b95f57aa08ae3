import NIOCore

/// Runs a synchronous seam (inspection, response restore, audit hashing) where it costs least: on the connection's
/// event loop for a small body (a few microseconds of CPU, less than two thread handoffs), on ``SeamExecutor``'s
/// threads for a large one, so one big body cannot stall the other connections of its loop.
public enum SeamRunner {
    /// Bodies up to this size are handled on the event loop; larger ones off it.
    public static let eventLoopBodyLimit = 256 * 1024

    /// Whether work on a body of `bodyBytes` runs on the event loop.
    static func runsOnEventLoop(bodyBytes: Int) -> Bool {
        bodyBytes <= Self.eventLoopBodyLimit
    }

    /// Runs `work` on `input` and hands its result to `then` on `eventLoop`: right away (before returning) for a
    /// small body, after a hop through the seam threads for a large one. Call on `eventLoop`. `work` takes what it
    /// needs as `input` rather than capturing it, so the on-loop path (once per request) allocates no closure.
    /// `readsImages`: the work may run OCR (``ImageLane``): always off the loop, on the image threads.
    static func run<Input: Sendable, Value: Sendable>(
        _ input: Input,
        bodyBytes: Int,
        readsImages: Bool = false,
        on eventLoop: any EventLoop,
        _ work: @escaping @Sendable (Input) throws -> Value,
        then: @escaping (Result<Value, any Error>) -> Void
    ) {
        if readsImages {
            Self.offLoop(on: eventLoop, executor: SeamExecutor.images, { try work(input) }).assumeIsolated()
                .whenComplete(then)
            return
        }
        if Self.runsOnEventLoop(bodyBytes: bodyBytes) {
            then(Result { try work(input) })
            return
        }
        Self.offLoop(on: eventLoop, { try work(input) }).assumeIsolated().whenComplete(then)
    }

    /// The same as a future, for callers that chain futures (the callback service).
    static func run<Value: Sendable>(
        bodyBytes: Int,
        on eventLoop: any EventLoop,
        _ work: @escaping @Sendable () throws -> Value
    ) -> EventLoopFuture<Value> {
        if Self.runsOnEventLoop(bodyBytes: bodyBytes) {
            return eventLoop.makeCompletedFuture(Result { try work() })
        }
        return Self.offLoop(on: eventLoop, work)
    }

    private static func offLoop<Value: Sendable>(
        on eventLoop: any EventLoop,
        executor: SeamExecutor = SeamExecutor.shared,
        _ work: @escaping @Sendable () throws -> Value
    ) -> EventLoopFuture<Value> {
        let promise = eventLoop.makePromise(of: Value.self)
        Task(executorPreference: executor) {
            promise.completeWith(Result { try work() })
        }
        return promise.futureResult
    }
}
