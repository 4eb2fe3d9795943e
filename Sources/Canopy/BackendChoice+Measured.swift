import CanopyCore
import CanopyCPU
import CanopyOpenCL
import CanopyTrain
import Foundation

extension BackendChoice {
    /// Opens the backend to train `plan`'s model on. `cpu` and `opencl` open as ``open(device:environment:)``
    /// does, and so does `auto` when a device was asked for (it insists on OpenCL) or when there is no OpenCL
    /// device (the cpu backend).
    ///
    /// Otherwise `auto` measures: a few training steps of this very model on the cpu backend and on the OpenCL
    /// device, after a warm-up that builds the kernels, and opens the faster, saying both times. Which is faster
    /// depends on the model as much as on the machine (a small model on a GPU loses to launch overheads; an
    /// OpenCL driver on the CPU, such as PoCL, competes with the cpu backend for the same cores). The choice is
    /// remembered per model graph, batch size, device, cpu backend and Canopy build in `auto-backend.json` in the
    /// kernel cache folder (`CANOPY_CACHE_DIR`; `off` remembers nothing), so a model is measured once per machine
    /// and again after Canopy is rebuilt or upgraded.
    public func open(forTraining plan: RunPlan, device: String? = nil,
                     environment: [String: String] = ProcessInfo.processInfo.environment) throws -> SelectedBackend {
        guard self == .auto, Self.askedDevice(device, environment: environment) == nil, let openCL = try? OpenCLBackend(device: .best) else {
            return try open(device: device, environment: environment)
        }
        let cpu = CPUBackend()
        let memory = MeasuredChoices(directory: OpenCLBackendOptions.environment(environment).cacheDirectory)
        let key = MeasuredChoices.key(plan: plan, device: openCL.deviceDescription, cpu: cpu.deviceDescription)
        if let known = memory.choice(for: key) {
            let backend: Backend = known.backend == cpu.name ? cpu : openCL
            return SelectedBackend(backend: backend, reason: "auto: \(known.backend), "
                + Self.comparison(cpu: known.cpuSeconds, openCL: known.openCLSeconds, on: openCL)
                + " (measured on this model before; remembered in \(memory.file?.path ?? "memory"))")
        }
        let cpuSeconds = try Self.secondsPerStep(plan, on: cpu)
        let openCLSeconds: Double
        do {
            openCLSeconds = try Self.secondsPerStep(plan, on: openCL)
        } catch {
            return SelectedBackend(backend: cpu, reason: "auto: cpu backend (\(cpu.deviceDescription)); the OpenCL "
                + "device \(openCL.deviceDescription) could not run this model: \(error)")
        }
        let choice = MeasuredChoices.Choice(backend: openCLSeconds < cpuSeconds ? openCL.name : cpu.name,
                                            cpuSeconds: cpuSeconds, openCLSeconds: openCLSeconds)
        memory.remember(choice, for: key)
        return SelectedBackend(backend: choice.backend == cpu.name ? cpu : openCL, reason: "auto: \(choice.backend), "
            + Self.comparison(cpu: cpuSeconds, openCL: openCLSeconds, on: openCL) + " (measured on this model)")
    }

    private static func comparison(cpu: Double, openCL: Double, on device: OpenCLBackend) -> String {
        String(format: "%.2f ms a training step on the cpu backend against %.2f ms on OpenCL ", cpu * 1e3, openCL * 1e3)
            + "(\(device.deviceDescription))"
    }

    /// Seconds per training step of `plan` on `backend`: two steps to warm up (kernels built, buffers made), then
    /// steps until 0.3 s or 20 steps have passed, whichever comes first. The trainer is thrown away after.
    static func secondsPerStep(_ plan: RunPlan, on backend: Backend) throws -> Double {
        let trainer = try Trainer(plan: plan.oneProcessShare, backend: backend)
        try trainer.runSteps(2)
        try backend.synchronize()
        let start = DispatchTime.now().uptimeNanoseconds
        var steps = 0, elapsed = 0.0
        repeat {
            try trainer.runSteps(2, firstBatch: (2 + steps) % trainer.stepsPerEpoch)
            try backend.synchronize()
            steps += 2
            elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        } while elapsed < 0.3 && steps < 20
        return elapsed / Double(steps)
    }
}

/// `auto`'s measured choices, one per (model graph, batch size, device, cores), kept in a small JSON file. It is a
/// cache: a missing, damaged or unwritable file only means measuring again.
struct MeasuredChoices {
    struct Choice: Codable, Equatable {
        var backend: String
        var cpuSeconds: Double
        var openCLSeconds: Double
    }

    /// Where the choices are kept; nil keeps nothing.
    let file: URL?

    init(directory: URL?) {
        file = directory?.appendingPathComponent("auto-backend.json")
    }

    /// Names what decides the choice: every node of the training graph (op, inputs, shapes), the batch size, the
    /// OpenCL device and driver, and the cpu backend as it describes itself (threads, vector instructions, matrix
    /// product engine), so that a faster cpu backend is measured again.
    static func key(plan: RunPlan, device: String, cpu: String) -> String {
        var hash = FNV1a64()
        hash.add(field: "canopy-auto-backend-2")
        for node in plan.model.graph.nodes { hash.add(field: "\(node.op) \(node.inputs) \(node.outputShapes)") }
        hash.add(field: "batch \(plan.model.batchSize)")
        hash.add(field: device)
        hash.add(field: cpu)
        hash.add(field: buildIdentity)
        return String(hash.value, radix: 16)
    }

    /// The running executable (SwiftPM links Canopy into it) with its size and modification time, so that a
    /// rebuilt or upgraded Canopy measures again rather than trust a choice that other code made.
    static let buildIdentity: String = {
        guard let path = Bundle.main.executableURL?.resolvingSymlinksInPath().path else { return "build unknown" }
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else { return path }
        let size = (attributes[.size] as? NSNumber)?.int64Value ?? -1
        let modified = (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
        return "\(path) \(size) \(modified)"
    }()

    func choice(for key: String) -> Choice? { all()[key] }

    func remember(_ choice: Choice, for key: String) {
        guard let file else { return }
        var choices = all()
        choices[key] = choice
        guard let data = try? JSONEncoder().encode(choices) else { return }
        try? FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try? data.write(to: file, options: .atomic)
    }

    private func all() -> [String: Choice] {
        guard let file, let data = try? Data(contentsOf: file),
              let choices = try? JSONDecoder().decode([String: Choice].self, from: data) else { return [:] }
        return choices
    }
}
