import Foundation

/// Runs real peer tools (`openssl`, `curl`) for the tests.
enum Shell {
    struct Failure: Error, CustomStringConvertible {
        var command: String
        var status: Int32
        var output: String
        var description: String { "`\(command)` exited \(status): \(output)" }
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

    /// Runs a command to completion and returns its exit status and combined output.
    static func capture(
        _ arguments: [String],
        input: Data? = nil,
        in directory: URL? = nil
    ) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        let inputPipe = Pipe()
        process.standardInput = inputPipe
        try process.run()
        if let input {
            inputPipe.fileHandleForWriting.write(input)
        }
        try inputPipe.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
