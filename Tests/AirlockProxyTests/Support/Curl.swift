import Foundation

/// Runs the real `curl` binary with a hard timeout, so a hung peer fails the test instead of hanging it.
struct CurlResult {
    var exitCode: Int32
    var stdout: String
    var stderr: String

    /// With `-w "\n%{http_code} %{num_connects}"` appended by `Curl.run`: the transfers' bodies, statuses and
    /// new connections, in order.
    var transfers: [(body: String, status: Int, connects: Int)] {
        var results: [(String, Int, Int)] = []
        var rest = self.stdout[...]
        while let marker = rest.range(of: Curl.marker) {
            let body = String(rest[..<marker.lowerBound])
            let afterMarker = rest[marker.upperBound...]
            let lineEnd = afterMarker.firstIndex(of: "\n") ?? afterMarker.endIndex
            let fields = afterMarker[..<lineEnd].split(separator: " ")
            let status = fields.count > 0 ? Int(fields[0]) ?? -1 : -1
            let connects = fields.count > 1 ? Int(fields[1]) ?? -1 : -1
            results.append((body, status, connects))
            rest = lineEnd < afterMarker.endIndex ? afterMarker[afterMarker.index(after: lineEnd)...] : ""
        }
        return results
    }

    var status: Int { self.transfers.last?.status ?? -1 }
    var body: String { self.transfers.last?.body ?? "" }
}

enum Curl {
    static let marker = "\n@@CURL@@ "

    /// Runs `curl -sS <arguments>` with a `-w` that reports status and connection count per transfer.
    ///
    /// Waits on a Dispatch thread, never on a Swift concurrency thread: the proxy under test runs its inspection
    /// and audit seams on that small pool, and tests blocking it would starve the very requests they wait for.
    static func run(_ arguments: [String], timeout: TimeInterval = 20) async throws -> CurlResult {
        try await Self.offPool { try Self.runBlocking(arguments, timeout: timeout) }
    }

    static func execute(_ process: Process, timeout: TimeInterval) async throws -> CurlResult {
        try await Self.offPool { try Self.executeBlocking(process, timeout: timeout) }
    }

    private static func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try body() }) }
        }
    }

    static func runBlocking(_ arguments: [String], timeout: TimeInterval = 20) throws -> CurlResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        process.arguments =
            ["-sS", "--max-time", String(Int(timeout)), "-w", marker + "%{http_code} %{num_connects}\n"]
            + arguments
        return try Self.executeBlocking(process, timeout: timeout + 5)
    }

    static func executeBlocking(_ process: Process, timeout: TimeInterval) throws -> CurlResult {
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Read both pipes concurrently so a large output cannot block the child.
        let outData = LockedData()
        let errData = LockedData()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            outData.set(out.fileHandleForReading.readDataToEndOfFile())
            group.leave()
        }
        group.enter()
        DispatchQueue.global().async {
            errData.set(err.fileHandleForReading.readDataToEndOfFile())
            group.leave()
        }
        if group.wait(timeout: .now() + timeout) == .timedOut {
            process.terminate()
            _ = group.wait(timeout: .now() + 5)
        }
        process.waitUntilExit()
        return CurlResult(
            exitCode: process.terminationStatus,
            stdout: String(decoding: outData.get(), as: UTF8.self),
            stderr: String(decoding: errData.get(), as: UTF8.self)
        )
    }
}

final class LockedData: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    func set(_ value: Data) { self.lock.withLock { self.data = value } }
    func get() -> Data { self.lock.withLock { self.data } }
}

/// The value of one sample (`name` with its labels as rendered, e.g. `airlock_x_total{result="applied"}`) on the admin
/// listener's `/metrics`; nil when it is absent or the listener does not answer.
func metricSample(_ sample: String, adminPort: Int) -> Int? {
    let metrics = (try? Curl.runBlocking(["http://127.0.0.1:\(adminPort)/metrics"]))?.body ?? ""
    let line = metrics.split(separator: "\n").first { $0.hasPrefix(sample + " ") }
    // Counters are integers; gauges come as floating point (`1.0`).
    return line.flatMap { Double($0.dropFirst(sample.count + 1)) }.flatMap { Int(exactly: $0) }
}
