import Dispatch

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Delivers process signals to a service as events, through Dispatch signal sources (not a C handler): each signal
/// handled is ignored by the process's default disposition from the moment the sources exist, so a SIGHUP can never
/// terminate a serving process, and is reported to `deliver` on a background queue instead.
final class ServiceSignals: Sendable {
    /// Dispatch sources are thread-safe, but their protocol is not marked Sendable.
    private nonisolated(unsafe) let sources: [any DispatchSourceSignal]

    init(_ numbers: [Int32], deliver: @escaping @Sendable (Int32) -> Void) {
        var sources: [any DispatchSourceSignal] = []
        for number in numbers {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { deliver(number) }
            source.resume()
            sources.append(source)
        }
        self.sources = sources
    }

    /// Stops reporting; the signals stay ignored.
    func cancel() {
        for source in self.sources { source.cancel() }
    }

    deinit {
        self.cancel()
    }
}
