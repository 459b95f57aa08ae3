import Foundation

/// Runs real peer tools (`openssl`, `curl`) for the tests, each bounded by a timeout so a hung peer fails the test.
enum Shell {
    struct Failure: Error, CustomStringConvertible {
        var command: String
        var status: Int32
        var output: String
        var description: String { "`\(command)` exited \(status): \(output)" }
    }

    struct Output {
        var status: Int32
        var standardOutput: Data
        var standardError: String
        var text: String { String(decoding: self.standardOutput, as: UTF8.self) }
    }

    /// Runs a command to completion and returns its standard output; throws on a non-zero exit.
    @discardableResult
    static func run(_ arguments: [String], input: Data? = nil, in directory: URL? = nil) throws -> String {
        let result = try self.capture(arguments, input: input, in: directory)
        guard result.status == 0 else {
            throw Failure(command: arguments.joined(separator: " "), status: result.status, output: result.output)
        }
        return result.output
    }

    /// Runs a command to completion and returns its exit status and output (standard output, then standard error).
    static func capture(
        _ arguments: [String],
        input: Data? = nil,
        in directory: URL? = nil
    ) throws -> (status: Int32, output: String) {
        let result = try self.execute(arguments, input: input, in: directory)
        return (result.status, result.text + result.standardError)
    }

    /// Runs a command to completion with `input` on its standard input; it is terminated after `timeout` seconds.
    static func execute(
        _ arguments: [String],
        input: Data? = nil,
        in directory: URL? = nil,
        timeout: TimeInterval = 20
    ) throws -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        let stdout = Pipe()
        let stderr = Pipe()
        let stdin = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = stdin
        try process.run()
        let timer = DispatchSource.makeTimerSource()
        timer.schedule(deadline: DispatchTime.now() + timeout)
        timer.setEventHandler { if process.isRunning { process.terminate() } }
        timer.resume()
        defer { timer.cancel() }
        // A child may exit before reading its input (a refused handshake: that is its answer, not an error here);
        // the trapping `write(_:)` would crash the whole test process on the broken pipe.
        if let input { try? stdin.fileHandleForWriting.write(contentsOf: input) }
        try stdin.fileHandleForWriting.close()
        // Read both pipes before waiting so a chatty child cannot block on a full pipe.
        let errorData = LockedData()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            errorData.set(stderr.fileHandleForReading.readDataToEndOfFile())
            group.leave()
        }
        let outputData = stdout.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return Output(
            status: process.terminationStatus,
            standardOutput: outputData,
            standardError: String(decoding: errorData.get(), as: UTF8.self)
        )
    }

    private final class LockedData: @unchecked Sendable {
        private let lock = NSLock()
        private var data = Data()
        func set(_ value: Data) { self.lock.withLock { self.data = value } }
        func get() -> Data { self.lock.withLock { self.data } }
    }
}
