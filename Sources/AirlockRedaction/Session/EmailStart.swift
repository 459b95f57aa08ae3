/// The start of an `email` detector match, without a start-of-match scan (which runs at about 250 MB/s over the
/// kilobyte window an unbounded expression needs, for every email in a body).
///
/// `Detectors.email` is `L+@R` where `R` holds no `@`, so every match ending at `end` has its `@` at the last `@`
/// before `end`, and the leftmost such match starts at the beginning of the run of local-part characters before
/// it. Given that `end` is a reported match end, that is exactly the start the start-of-match scan of the window
/// `floor..<end` reports (`DetectorFastFormTests` compares the two on generated text).
enum EmailStart {
    /// The leftmost start of the match ending at `end` that begins at or after `floor`, or `nil` when none does.
    /// Precondition: a match of `Detectors.email` ends at `end`.
    static func leftmost(_ p: UnsafePointer<UInt8>, end: Int, floor: Int) -> Int? {
        var at = end - 1
        while at >= floor, p[at] != UInt8(ascii: "@") { at -= 1 }
        guard at > floor else { return nil }
        var start = at
        while start > floor, isLocalPart(p[start - 1]) { start -= 1 }
        return start < at ? start : nil
    }

    /// `[A-Za-z0-9._%+\-]`
    @inline(__always)
    static func isLocalPart(_ b: UInt8) -> Bool {
        TermVariants.isAlnum(b) || b == UInt8(ascii: ".") || b == UInt8(ascii: "_") || b == UInt8(ascii: "%")
            || b == UInt8(ascii: "+") || b == UInt8(ascii: "-")
    }
}
