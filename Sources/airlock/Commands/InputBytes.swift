import Foundation

/// A body read whole from a file or standard input into one allocation the engine reads in place.
///
/// A regular file (or standard input redirected from one) is read into a buffer of its length with one `read(2)`, so
/// its bytes are copied once, from the page cache, and never again; a pipe grows the buffer by doubling (`realloc`
/// moves large blocks without copying them on Linux).
final class InputBytes {
    private let base: UnsafeMutableRawPointer?
    let count: Int

    /// Why a body could not be read: the system's own words.
    struct ReadError: Error, CustomStringConvertible {
        var description: String
    }

    /// Reads `path`, or standard input for `-`. `progress` is called now and then with the bytes read so far.
    init(path: String, progress: ((Int) -> Void)? = nil) throws(ReadError) {
        let descriptor = path == "-" ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw Self.failure() }
        defer { if descriptor != STDIN_FILENO { close(descriptor) } }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw Self.failure() }
        // One byte more than a regular file's length: the read that fills the rest returns 0 and ends the loop
        // without growing the buffer. A file that grew meanwhile is read to its end all the same.
        var capacity = status.st_mode & S_IFMT == S_IFREG ? Int(status.st_size) + 1 : 1 << 20
        var buffer: UnsafeMutableRawPointer? = nil
        var count = 0
        var reported = 0
        while true {
            if buffer == nil || count == capacity {
                if buffer != nil { capacity *= 2 }
                guard let grown = realloc(buffer, capacity) else {
                    free(buffer)
                    throw ReadError(description: "out of memory")
                }
                buffer = grown
            }
            let got = read(descriptor, buffer! + count, min(capacity - count, Int(Int32.max)))
            if got < 0 {
                if errno == EINTR { continue }
                let error = Self.failure()
                free(buffer)
                throw error
            }
            if got == 0 { break }
            count += got
            if let progress, count - reported >= 16 << 20 {
                reported = count
                progress(count)
            }
        }
        self.base = buffer
        self.count = count
    }

    deinit { free(base) }

    func withUnsafeBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try body(UnsafeRawBufferPointer(start: base, count: count))
    }

    private static func failure() -> ReadError {
        ReadError(description: String(cString: strerror(errno)))
    }
}
