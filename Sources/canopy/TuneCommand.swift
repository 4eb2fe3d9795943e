import ArgumentParser
import Canopy
import Foundation

struct TuneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tune",
        abstract: "Measure the OpenCL kernel tunables on a device and keep the fastest in its tuning file.",
        discussion: """
        Times candidate register blocks, work-group shapes, local-memory matmul tiles, reduction and element-wise \
        group sizes at training shapes; a candidate whose results differ from the defaults' is dropped. The choices \
        go to tunables-<device hash>.json in the kernel cache directory (CANOPY_CACHE_DIR, else \
        $XDG_CACHE_HOME/canopy/kernels, else ~/.cache/canopy/kernels), which later runs on that device use.
        """)

    @Option(parsing: .unconditional,
            help: "OpenCL device: index, platform:device, gpu/cpu, or a name substring (default: CANOPY_DEVICE).")
    var device: String?

    @Option(help: "Time budget in seconds, shared between the groups of tunables.")
    var seconds: Double = 60

    func validate() throws {
        guard seconds > 0, seconds.isFinite else { throw ValidationError("--seconds must be above 0, got \(seconds)") }
    }

    func run() throws {
        try reportingErrors {
            let selector = device.map(OpenCLDeviceSelector.init(parsing:)) ?? .environment
            print(try tune(selector, seconds: seconds))
        }
    }
}

/// Tunes `selector`'s device, printing each candidate as it is measured, and returns the report.
func tune(_ selector: OpenCLDeviceSelector, seconds: Double) throws -> OpenCLTuningReport {
    try OpenCLBackend.tune(device: selector, seconds: seconds) { line in
        print("  " + line)
        fflush(nil)
    }
}
