/// An image file with its metadata removed, read at the byte level without decoding: what its header declares and
/// the bytes that may leave.
struct StrippedImage {
    var bytes: [UInt8]
    var width: Int
    var height: Int
    /// Whether anything was removed (metadata, trailing bytes after the end of the image).
    var removed: Bool
    /// Whether pixels may be transparent (an alpha channel, a `tRNS` chunk): colours under transparent pixels are
    /// invisible to a viewer, and to the reader, which sees the image blended over white, but not to a vendor who
    /// drops the alpha channel.
    var transparent = false

    /// The pixels the header declares, without overflow (`Int.max` when they overflow).
    var pixels: Int {
        let (product, overflow) = width.multipliedReportingOverflow(by: height)
        return overflow ? Int.max : product
    }
}

/// Why a file cannot be read at the byte level.
struct MalformedImage: Error {
    var reason: String
}
