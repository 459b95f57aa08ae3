import NIOCore
import NIOPosix
import Testing

@testable import AirlockProxy

/// The one runner of the synchronous seams: small bodies on the event loop, large ones on the seam threads.
@Suite struct SeamRunnerTests {
    @Test func smallBodiesRunOnTheLoopAndLargeOnesOffIt() async throws {
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        for (bytes, expectedOnLoop) in [
            (0, true), (SeamRunner.eventLoopBodyLimit, true), (SeamRunner.eventLoopBodyLimit + 1, false),
        ] {
            let ranOnLoop = try await loop.flatSubmit {
                SeamRunner.run(bodyBytes: bytes, on: loop) { loop.inEventLoop }
            }.get()
            #expect(ranOnLoop == expectedOnLoop, "\(bytes) bytes")
        }
    }

    @Test func aThrowingSeamFailsAndTheResultComesBackOnTheLoop() async throws {
        struct Failure: Error {}
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let result = try await loop.submit {
            let promise = loop.makePromise(of: Bool.self)
            SeamRunner.run(
                (),
                bodyBytes: SeamRunner.eventLoopBodyLimit + 1,
                on: loop,
                { (_: Void) throws -> Int in throw Failure() }
            ) {
                result in
                promise.succeed(loop.inEventLoop && (try? result.get()) == nil)
            }
            return promise.futureResult
        }.get().get()
        #expect(result)
    }
}
