import AirlockSupport
import Foundation
import Yams

/// Reads a policy file (schema v1), its includes and term files, and validates all of it.
///
/// - `include:` paths are relative to the including file and merged in order: the included rules come first, then
///   the including file's own. A file included twice (through two different includes) is read once; an include
///   cycle is an error.
/// - A term rule's `files:` are relative to the policy file the rule is written in: one term per line, trimmed;
///   blank lines and lines starting with `#` are ignored.
/// - Every problem is collected, not just the first, each as `file:line:column: message`.
/// - The policy's `contentHash` is SHA-256 over, for each file in load order, a header `policy|terms <path relative
///   to the root policy's directory>\n<byte count>\n`, then its bytes with a UTF-8 BOM removed and CRLF turned into
///   LF, then `\n`. It does not depend on where the policy lives or how the root path was spelt.
public enum PolicyLoader {
    /// Loads and validates the policy at `path`.
    ///
    /// - Throws: `PolicyLoadError` with every problem found; the policy must not be used then.
    public static func load(path: String) throws(PolicyLoadError) -> Policy {
        var session = PolicyLoadSession(rootPath: path)
        return try session.run()
    }

    /// Keys allowed at the top level of a policy file.
    public static let topLevelKeys = [
        "version", "name", "description", "include", "terms", "patterns", "detectors", "fields", "allow", "content",
        "images",
        "pseudonyms",
    ]
    static let termKeys = [
        "id", "label", "action", "values", "files", "case_sensitive", "whole_word", "variants", "mode",
    ]
    static let patternKeys = ["id", "label", "regex", "action", "near", "within", "mode"]
    static let fieldKeys = ["id", "label", "path", "action", "encoding", "mode"]
    static let contentKeys = ["unknown"]
    static let imageKeys = ["ocr", "on_match", "min_confidence", "max_pixels", "timeout_seconds", "languages"]
    static let pseudonymKeys = ["length", "emails"]
    static let detectorCommonKeys = ["action", "id", "label", "mode"]
    static func detectorKeys(_ kind: DetectorRule.Kind) -> [String] {
        switch kind {
        case .email: detectorCommonKeys + ["domains"]
        case .secret: detectorCommonKeys
        case .url: detectorCommonKeys + ["hosts"]
        case .ip: detectorCommonKeys + ["ranges"]
        }
    }
    /// Largest `within` a pattern may ask for.
    static let maximumWithin = 10_000
}
