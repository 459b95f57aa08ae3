import AirlockSupport
import Foundation
import Yams

/// A file as the loader tracks it.
struct PolicySourceFile {
    /// As shown in diagnostics: the root path as given, includes joined onto their includer's directory.
    var display: String
    /// Relative to the root policy's directory; what the content hash covers.
    var relative: String
    /// Absolute, symlinks resolved: identity for cycle and repeat detection.
    var canonical: String

    var displayDirectory: String { PolicyPath.directory(of: display) }
    var relativeDirectory: String { PolicyPath.directory(of: relative) }

    func resolve(_ reference: String) -> PolicySourceFile {
        let display =
            reference.hasPrefix("/") ? PolicyPath.normalize(reference) : PolicyPath.join(displayDirectory, reference)
        let relative =
            reference.hasPrefix("/") ? PolicyPath.normalize(reference) : PolicyPath.join(relativeDirectory, reference)
        return PolicySourceFile(display: display, relative: relative, canonical: PolicyPath.canonical(display))
    }
}
