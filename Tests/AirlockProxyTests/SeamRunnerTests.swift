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

    /// The proxy's whole egress chain (asset and callback wrappers around the policy) answers what the policy
    /// answers: a wrapper that fell back to the protocol's `false` sent image-bearing requests to the event loop.
    @Test func theEgressChainPassesOnWhetherThePolicyReadsImages() throws {
        struct ReadsImages: EgressInspector {
            let answer: Bool
            func inspect(_ request: EgressRequest) throws -> EgressDecision { .forward(request) }
            func transformResponse(_ response: EgressResponse, for request: EgressRequest) throws -> EgressResponse {
                response
            }
            func readsImages(_ request: EgressRequest) -> Bool { self.answer }
        }
        let configuration = try ProxyConfiguration.parse(
            yaml: """
                listen: {address: 127.0.0.1:8443, tls: {certificate: a.crt, key: a.key}}
                vendors:
                  - {name: scale, path_prefix: /scale, upstream: "https://127.0.0.1:1", routes: ["POST /v1/*"],
                     policy: none}
                """,
            file: "a.yaml",
            baseDirectory: "/tmp"
        )
        let request = ReloadableInspectorTests.request(#"{"a": 1}"#)
        for answer in [false, true] {
            let chain = AssetRewritingInspector.chain(
                around: ReadsImages(answer: answer),
                configuration: configuration,
                minter: nil
            )
            #expect(chain.readsImages(request) == answer)
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
