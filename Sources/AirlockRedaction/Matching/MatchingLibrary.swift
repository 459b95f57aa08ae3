internal import CVectorscan

/// The pattern-matching library (Hyperscan, libhs) this process runs with.
public enum MatchingLibrary {
    /// `5.4.0 2023-03-10`, as the loaded library names itself.
    public static var version: String {
        String(cString: hs_version())
    }
}
