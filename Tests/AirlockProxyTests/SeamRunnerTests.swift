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

    /// Inspection that may read images runs off the event loops even for a small body (which would run on its loop),
    /// on the image threads; the result comes back on the loop.
    @Test func workThatMayReadImagesRunsOffTheLoopWhateverTheBodySize() async throws {
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        for readsImages in [false, true] {
            let ran = try await loop.submit {
                let promise = loop.makePromise(of: (Bool, Bool).self)
                SeamRunner.run(
                    (),
                    bodyBytes: 10,
                    readsImages: readsImages,
                    on: loop,
                    { (_: Void) in MultiThreadedEventLoopGroup.currentEventLoop != nil }
                ) {
                    result in
                    promise.succeed(((try? result.get()) ?? true, loop.inEventLoop))
                }
                return promise.futureResult
            }.get().get()
            #expect(ran.0 == !readsImages, "readsImages: \(readsImages)")
            #expect(ran.1)
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
