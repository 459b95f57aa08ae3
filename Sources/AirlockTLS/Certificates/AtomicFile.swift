internal import COpenSSL
import Foundation

/// Writes a file so that readers see either nothing or all of it, with its mode set before any byte is written.
enum AtomicFile {
    static func write(_ bytes: [UInt8], to path: String, mode: mode_t, overwrite: Bool) throws(CertificateError) {
        let directory = (path as NSString).deletingLastPathComponent
        let name = (path as NSString).lastPathComponent
        let temporary = (directory.isEmpty ? "." : directory) + "/.\(name).\(UUID().uuidString).tmp"
        // O_EXCL: never follow or reuse something already there. The secret mode applies from creation, so the key
        // is never readable by others, not even briefly; fchmod then sets the exact mode whatever the umask.
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard descriptor >= 0 else {
            throw Self.failure("cannot create a temporary file next to \(path)")
        }
        var linked = false
        defer {
            if !linked { unlink(temporary) }
        }
        do {
            defer { close(descriptor) }
            guard fchmod(descriptor, mode) == 0 else {
                throw Self.failure("cannot set the mode of \(path)")
            }
            var offset = 0
            while offset < bytes.count {
                let count = bytes[offset...].withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress, $0.count) }
                if count < 0 {
                    if errno == EINTR { continue }
                    throw Self.failure("cannot write \(path)")
                }
                offset += count
            }
            guard fsync(descriptor) == 0 else {
                throw Self.failure("cannot flush \(path) to disk")
            }
        }
        if overwrite {
            guard rename(temporary, path) == 0 else {
                throw Self.failure("cannot move the new \(name) into place at \(path)")
            }
            linked = true
        } else {
            // link() fails if the target exists: no window in which an existing file could be replaced.
            guard link(temporary, path) == 0 else {
                if errno == EEXIST { throw DevelopmentCertificates.refusal(path) }
                throw Self.failure("cannot move the new \(name) into place at \(path)")
            }
            unlink(temporary)
            linked = true
        }
    }

    static func syncDirectory(_ path: String) {
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        _ = fsync(descriptor)
        close(descriptor)
    }

    private static func failure(_ message: String) -> CertificateError {
        CertificateError(code: .io, message: "\(message): \(String(cString: strerror(errno)))")
    }
}
