import ArgumentParser
import Canopy

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate a model file as train would at start, and print its graph and its memory plan.",
        discussion: """
            Runs every rule train runs before its first step: the model file's rules, its data (read and checked \
            against the tasks), the graph and its weighting, class weights, init_from and freeze, and the memory the \
            run's buffers need against the device (the machine's memory unless --backend names another).
            """)

    @Argument(help: "The model file (YAML or JSON).")
    var model: String

    @Option(help: "Check the memory plan against this backend's device: cpu (the default), opencl or auto.")
    var backend: BackendChoice = .cpu

    @Option(parsing: .unconditional, help: "The OpenCL device to check against (as for train).")
    var device: String?

    @Flag(help: "Also set the run up on the backend and measure training steps: kernel calls, host transfers, allocations, time by kernel.")
    var plan = false

    @Flag(help: "Also print every parameter's name (as init_from, freeze and checkpoints use it), shape, count and role.")
    var parameters = false

    func run() throws {
        try reportingErrors {
            // Started by mpirun: --plan measures a data-parallel step; only rank 0 prints.
            let group = try DataParallelLaunch.join()
            DataParallelLaunch.silenceStandardOutput(of: group)
            let spec = try loadModel(model)
            let device = try backend.open(device: self.device).backend
            let plan = try RunPlan(spec, device: device, processes: group.size)
            print(plan.summary.render())
            print("data: \(spec.data.source), \(plan.data.train.rowCount) training and "
                + "\(plan.data.validation.rowCount) validation rows")
            print("memory: \(plan.memory.summary); \(MemoryPlan.format(plan.memory.totalBytes)) in all, "
                + "largest buffer \(MemoryPlan.format(plan.memory.largestBufferBytes)), fits the \(device.name) device")
            for line in plan.transfer?.lines ?? [] { print(line) }
            if parameters {
                for line in ParameterTable(plan).lines { print(line) }
            }
            if self.plan {
                for line in try StepProfile.measure(plan, on: device, group: group).lines { print(line) }
            }
            try DataParallelLaunch.finish(group)
        }
    }
}
