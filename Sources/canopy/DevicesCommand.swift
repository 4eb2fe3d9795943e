import ArgumentParser
import Canopy

struct DevicesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "devices",
        abstract: "List the OpenCL platforms and devices with their main limits.")

    func run() throws {
        try reportingErrors {
            let devices = try OpenCLBackend.availableDevices()
            for device in devices { print(device) }
            let chosen = try BackendChoice.auto.open()
            print("\n--backend auto would use for evaluate and predict: \(chosen.reason)")
            print("(for train, auto measures each model on the cpu backend and on this device, and remembers the faster)")
        }
    }
}
