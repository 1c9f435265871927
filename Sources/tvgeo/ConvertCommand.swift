import ArgumentParser
import Diagnostics
import Study

struct Convert: ToolCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Write a PyTorch .bin checkpoint (torch.save zip format) as safetensors, without running its pickle.",
        discussion: """
        Only the pickle opcodes and globals of a plain state dict are accepted; anything else (a file that \
        tries to run code) is refused and nothing it asks for runs. Exit codes as for analyze.
        """
    )

    @Argument(help: "The .bin file (for example adapter_model.bin).")
    var input: String

    @Argument(help: "The .safetensors file to write.")
    var output: String

    @Flag(help: "Replace OUTPUT if it exists.")
    var force = false

    func execute() throws(ToolError) {
        let count = try CheckpointConversion.convert(input, to: output, overwrite: force)
        printOutput("wrote \(output) (\(count) tensors)")
    }
}
