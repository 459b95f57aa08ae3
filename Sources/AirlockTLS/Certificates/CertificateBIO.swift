internal import COpenSSL
import Foundation

/// Memory-BIO helpers shared by the key and certificate types.
enum CertificateBIO {
    /// Runs `body` with a read-only memory BIO over `text`'s UTF-8 bytes.
    static func reading<T>(
        _ text: String,
        _ body: (OpaquePointer) throws(CertificateError) -> T
    ) throws(CertificateError) -> T {
        let bytes = Array(text.utf8)
        let result: Result<T, CertificateError> = bytes.withUnsafeBytes { raw in
            guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)) else {
                return .failure(.openSSL(.internalError, "could not allocate a memory BIO"))
            }
            defer { BIO_free(bio) }
            do throws(CertificateError) {
                return .success(try body(bio))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// Runs `body` with an empty writable memory BIO and returns what it wrote as text.
    static func writing(
        _ what: String,
        _ body: (OpaquePointer) -> Bool
    ) throws(CertificateError) -> String {
        guard let bio = BIO_new(BIO_s_mem()) else {
            throw .openSSL(.internalError, "could not allocate a memory BIO")
        }
        defer { BIO_free(bio) }
        guard body(bio) else {
            throw .openSSL(.internalError, "could not encode \(what) as PEM")
        }
        let pending = Int(BIO_ctrl_pending(bio))
        var buffer = [UInt8](repeating: 0, count: pending)
        let read = buffer.withUnsafeMutableBytes { BIO_read(bio, $0.baseAddress, Int32(pending)) }
        guard read == pending else {
            throw .openSSL(.internalError, "could not read back the PEM encoding of \(what)")
        }
        return String(decoding: buffer, as: UTF8.self)
    }

    /// Reads a whole text file, turning failures into a one-line `CertificateError`.
    static func readFile(_ path: String, what: String) throws(CertificateError) -> String {
        do {
            return try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw CertificateError(code: .io, message: "cannot read \(what) at \(path): \(Self.reason(error))")
        }
    }

    static func reason(_ error: any Error) -> String {
        if let error = error as? CocoaError, let underlying = error.underlying as? POSIXError {
            return String(cString: strerror(underlying.code.rawValue))
        }
        if let error = error as? CocoaError, error.code == .fileReadNoSuchFile {
            return "no such file"
        }
        return error.localizedDescription
    }
}
