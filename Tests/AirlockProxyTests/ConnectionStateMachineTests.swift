import NIOCore
import NIOHTTP1
import Testing

@testable import AirlockProxy

/// The lab connection's state machine, event by event, without a channel.
@Suite struct ConnectionStateMachineTests {
    typealias Machine = ConnectionStateMachine

    static func head(_ uri: String = "/scale/v1/task/x", close: Bool = false) -> HTTPRequestHead {
        HTTPRequestHead(
            version: .http1_1,
            method: .POST,
            uri: uri,
            headers: close ? ["Connection": "close"] : [:]
        )
    }

    static let body = ByteBuffer(string: "0123456789")

    @Test func aRequestIsAdmittedBufferedProcessedAndAnsweredWithKeepAlive() {
        var machine = Machine(maxBodyBytes: 100)
        #expect(machine.read(.head(Self.head())) == .admit(Self.head()))
        machine.admitted(keepAlive: true)
        #expect(machine.read(.body(Self.body)) == .appendBody(Self.body))
        #expect(machine.read(.end(nil)) == .process)
        #expect(machine.answerReady() == .write(keepAlive: true))
        // The next request is handled straight away.
        #expect(machine.read(.head(Self.head())) == .admit(Self.head()))
    }

    @Test func partsPipelinedBehindAPendingAnswerWaitForIt() {
        var machine = Machine(maxBodyBytes: 100)
        _ = machine.read(.head(Self.head()))
        machine.admitted(keepAlive: true)
        #expect(machine.read(.end(nil)) == .process)
        #expect(machine.read(.head(Self.head("/second"))) == .none)
        #expect(machine.read(.end(nil)) == .none)
        #expect(machine.nextQueued() == nil, "handed out before the first answer was written")
        #expect(machine.answerReady() == .write(keepAlive: true))
        guard case .head(let next)? = machine.nextQueued() else {
            Issue.record("the queued head was not handed out")
            return
        }
        #expect(next.uri == "/second")
        #expect(machine.handle(.head(next)) == .admit(next))
    }

    @Test func aBodyGrowingPastTheLimitIsRefusedAndTheRestSkipped() {
        var machine = Machine(maxBodyBytes: 15)
        _ = machine.read(.head(Self.head()))
        machine.admitted(keepAlive: true)
        #expect(machine.read(.body(Self.body)) == .appendBody(Self.body))
        #expect(machine.read(.body(Self.body)) == .refuseBodyTooLarge)
        #expect(machine.refusedEarly(keepAlive: false) == .init(keepAlive: false, startLingering: true))
        #expect(machine.read(.body(Self.body)) == .none)
        #expect(machine.read(.end(nil)) == .closeAfterWrites)
        #expect(machine.read(.head(Self.head())) == .none)
    }

    /// A refusal with keep-alive skips the body and serves the next request; too much to skip closes instead.
    @Test func anEarlyRefusalKeepsTheConnectionUnlessTheSkippedBodyIsTooLarge() {
        var machine = Machine(maxBodyBytes: 15)
        _ = machine.read(.head(Self.head()))
        #expect(machine.refusedEarly(keepAlive: true) == .init(keepAlive: true, startLingering: false))
        #expect(machine.read(.body(Self.body)) == .none)
        #expect(machine.read(.end(nil)) == .none)
        #expect(machine.read(.head(Self.head())) == .admit(Self.head()))
        #expect(machine.refusedEarly(keepAlive: true) == .init(keepAlive: true, startLingering: false))
        #expect(machine.read(.body(Self.body)) == .none)
        #expect(machine.read(.body(Self.body)) == .startLingering)
        #expect(machine.read(.end(nil)) == .closeAfterWrites)
    }

    @Test func malformedFramingIsAnsweredThenClosed() {
        var machine = Machine(maxBodyBytes: 100)
        #expect(machine.parseFailed() == .refuseMalformed)
        #expect(machine.answerReady() == .write(keepAlive: false))
        #expect(machine.isClosing)
    }

    /// Malformed framing behind a request being answered: that answer still goes out, with `Connection: close`,
    /// and nothing queued or read after it is handled.
    @Test func malformedFramingBehindAPendingAnswerEndsInputAfterIt() {
        var machine = Machine(maxBodyBytes: 100)
        _ = machine.read(.head(Self.head()))
        machine.admitted(keepAlive: true)
        _ = machine.read(.end(nil))
        _ = machine.read(.head(Self.head("/queued")))
        #expect(machine.parseFailed() == .none)
        #expect(machine.read(.head(Self.head("/later"))) == .none)
        #expect(machine.answerReady() == .write(keepAlive: false))
        #expect(machine.nextQueued() == nil)
    }

    @Test func aClientOverfillingThePipelineQueueGetsThePendingAnswerAndNothingMore() {
        var machine = Machine(maxBodyBytes: 10)
        _ = machine.read(.head(Self.head()))
        machine.admitted(keepAlive: true)
        _ = machine.read(.end(nil))
        let big = ByteBuffer(repeating: 0x61, count: 1 << 20)
        _ = machine.read(.head(Self.head("/queued")))
        #expect(machine.read(.body(big)) == .none)
        #expect(machine.answerReady() == .write(keepAlive: false))
        #expect(machine.nextQueued() == nil)
    }

    @Test func shutdownClosesAnIdleConnectionAndABusyOneAfterItsAnswer() {
        var idle = Machine(maxBodyBytes: 100)
        #expect(idle.quiesce() == .close)

        var busy = Machine(maxBodyBytes: 100)
        _ = busy.read(.head(Self.head()))
        busy.admitted(keepAlive: true)
        _ = busy.read(.end(nil))
        #expect(busy.quiesce() == .none)
        #expect(busy.answerReady() == .write(keepAlive: false))
    }

    @Test func timeoutsAnswer408OnlyWhenNoOtherAnswerIsDue() {
        var waiting = Machine(maxBodyBytes: 100)
        #expect(waiting.requestTimedOut() == .refuseTimedOut)
        #expect(waiting.isClosing)

        var answering = Machine(maxBodyBytes: 100)
        _ = answering.read(.head(Self.head()))
        answering.admitted(keepAlive: true)
        _ = answering.read(.end(nil))
        #expect(answering.requestTimedOut() == .none)
        #expect(answering.answerReady() == .write(keepAlive: false))

        var skipping = Machine(maxBodyBytes: 100)
        _ = skipping.read(.head(Self.head()))
        _ = skipping.refusedEarly(keepAlive: true)
        #expect(skipping.requestTimedOut() == .closeAfterWrites)
    }

    @Test func aSilentClientIsClosedButAWaitForTheVendorIsNot() {
        var silent = Machine(maxBodyBytes: 100)
        #expect(silent.readIdle() == .close)

        var waiting = Machine(maxBodyBytes: 100)
        _ = waiting.read(.head(Self.head()))
        waiting.admitted(keepAlive: true)
        _ = waiting.read(.end(nil))
        #expect(waiting.readIdle() == .none)
    }

    @Test func anAnswerAfterTheLabWentAwayIsDropped() {
        var machine = Machine(maxBodyBytes: 100)
        _ = machine.read(.head(Self.head()))
        machine.admitted(keepAlive: true)
        _ = machine.read(.end(nil))
        machine.channelInactive()
        #expect(machine.answerReady() == .drop)
    }

    @Test func aRequestAskingToCloseIsAnsweredWithClose() {
        var machine = Machine(maxBodyBytes: 100)
        _ = machine.read(.head(Self.head(close: true)))
        machine.admitted(keepAlive: false)
        _ = machine.read(.end(nil))
        #expect(machine.answerReady() == .write(keepAlive: false))
        #expect(machine.read(.head(Self.head())) == .none)
    }
}
