/// Byte containers read in place (arrays, slices, raw buffers): what ``SHA256`` and ``SHA256Digest`` hash without a
/// copy.
public protocol ContiguousBytesView {
    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R
}

extension Array: ContiguousBytesView where Element == UInt8 {}
extension ArraySlice: ContiguousBytesView where Element == UInt8 {}
extension UnsafeRawBufferPointer: ContiguousBytesView {
    @inlinable
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R { try body(self) }
}
