import AirlockStandIns
import Foundation
import Testing

/// The built-in demo finds its policy from the executable's path, not the working directory, and carries a copy for
/// an executable moved out of its checkout.
struct DemoPolicyTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    @Test func theEmbeddedCopyIsThePoliciesDirectorysDemoPolicy() throws {
        for (name, text) in DemoPolicy.embedded {
            let onDisk = try String(contentsOf: Self.root.appendingPathComponent("Policies/\(name)"), encoding: .utf8)
            #expect(text == onDisk, "Policies/\(name) changed: copy it into DemoPolicy.embedded")
        }
    }

    @Test func anExecutableInTheCheckoutFindsItsPoliciesDirectory() {
        let executable = Self.root.appendingPathComponent(".build/debug/airlock").path
        #expect(
            DemoPolicy.locate(fromExecutable: executable) == Self.root.appendingPathComponent("Policies/demo.yaml").path
        )
    }

    @Test func anExecutableOutsideACheckoutRunsTheEmbeddedCopy() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-demo-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let source = try DemoPolicy.resolve(
            executable: directory.appendingPathComponent("bin/airlock").path,
            writingEmbeddedInto: directory.path
        )
        #expect(source == .embedded(path: directory.path + "/demo.yaml"))
        for (name, text) in DemoPolicy.embedded {
            #expect(try String(contentsOfFile: directory.path + "/" + name, encoding: .utf8) == text)
        }
    }
}
