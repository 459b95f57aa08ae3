import ArgumentParser

/// The `airlock` command line: each subcommand lives in its own file under `Commands/`.
@main
struct Airlock: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "airlock",
        abstract: "A redacting TLS proxy between an AI lab and its data-labeling vendors.",
        version: AirlockVersion.text,
        subcommands: [
            Serve.self, Check.self, Test.self, Redact.self, Log.self, Review.self, Certs.self, Assets.self, Keys.self,
        ]
    )
}
