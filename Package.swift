// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "Canopy",
    products: [
        .library(name: "Canopy", targets: ["Canopy"]),
        .library(name: "CanopyCore", targets: ["CanopyCore"]),
        .executable(name: "canopy", targets: ["canopy"]),
    ],
    traits: [
        // `swift build --traits MPI`: CanopyMPI's process group over Open MPI, and `mpirun -np N canopy train`.
        // Off by default: without it nothing links libmpi or needs mpi.h.
        .trait(name: "MPI", description: "Data-parallel training on Open MPI (links libmpi)."),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
        // ONNX export and TensorBoard event files: generated code from Protos/ is committed (Scripts/generate-protos).
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.28.0"),
        // `swift package generate-documentation`: the API reference with DocC (README, "API reference").
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.4.0"),
    ],
    targets: [
        // Tensors' shapes, the graph, autodiff, the executor and the public Backend protocol.
        .target(name: "CanopyCore"),

        // CPU backend: Swift and C kernels; matrix products through CGemm (AVX-512 SGEMM in C, Sources/CGemm) where
        // the CPU has AVX-512, else CBLAS (OpenBLAS).
        .systemLibrary(name: "CCBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        // The CPU backend's element-wise, optimizer and summing kernels in C, compiled for AVX-512, AVX2 and the
        // baseline and chosen at run time (Swift's SIMD types compile for the baseline only).
        .target(name: "CCPUKernels"),
        .target(name: "CGemm", dependencies: ["CCPUKernels"]),
        .target(name: "CanopyCPU", dependencies: ["CanopyCore", "CCBLAS", "CCPUKernels", "CGemm"]),

        // OpenCL backend: host layer over the system OpenCL ICD loader, kernels from Kernels/*.cl.
        .systemLibrary(name: "COpenCL", pkgConfig: "OpenCL",
                       providers: [.apt(["ocl-icd-opencl-dev", "opencl-headers"])]),
        .executableTarget(name: "EmbedKernels", path: "Plugins/EmbedKernelsTool"),
        .plugin(name: "EmbedKernelsPlugin", capability: .buildTool(),
                dependencies: ["EmbedKernels"], path: "Plugins/EmbedKernelsPlugin"),
        .target(name: "CanopyOpenCL", dependencies: ["CanopyCore", "COpenCL"],
                plugins: ["EmbedKernelsPlugin"]),

        // Model files (YAML/JSON) to specs and graphs.
        .target(name: "CanopyModel", dependencies: ["CanopyCore", .product(name: "Yams", package: "Yams")]),

        // PNG and JPEG decoding: stb_image, vendored as a C target (Sources/CStbImage).
        .target(name: "CStbImage"),

        // Data, metrics, optimizers, checkpoints and the trainer.
        .target(name: "CanopyTrain", dependencies: ["CanopyCore", "CanopyModel", "CStbImage", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
                resources: [.copy("Resources/digits.csv"), .copy("Resources/DIGITS-ATTRIBUTION.md")]),

        // ONNX export of a trained model's inference graph (generated ONNX schema code in Sources/CanopyONNX/Generated).
        .target(name: "CanopyONNX", dependencies: ["CanopyCore", "CanopyModel", "CanopyTrain",
                                                   .product(name: "SwiftProtobuf", package: "swift-protobuf")]),

        // Umbrella: re-exports everything and chooses a backend.
        .target(name: "Canopy", dependencies: ["CanopyCore", "CanopyCPU", "CanopyOpenCL", "CanopyModel", "CanopyTrain",
                                               "CanopyONNX"]),

        // Open MPI's C API (pkg-config ompi-c) and a shim for the constants Swift cannot import (Sources/CMPI).
        .systemLibrary(name: "CMPI", path: "Sources/CMPI", pkgConfig: "ompi-c",
                       providers: [.apt(["libopenmpi-dev"])]),
        // The process group over Open MPI; compiled empty without the MPI trait (its sources are in `#if MPI`).
        .target(name: "CanopyMPI", dependencies: [
            "CanopyTrain", .target(name: "CMPI", condition: .when(traits: ["MPI"])),
        ]),

        .executableTarget(name: "canopy", dependencies: [
            "Canopy", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .target(name: "CanopyMPI", condition: .when(traits: ["MPI"])),
        ]),

        // Shared test helpers (finite differences, backend conformance); not a product.
        .target(name: "CanopyTestSupport", dependencies: ["CanopyCore"], path: "Tests/CanopyTestSupport"),

        .testTarget(name: "CanopyCoreTests", dependencies: ["CanopyCore", "CanopyCPU", "CanopyTestSupport"]),
        .testTarget(name: "CanopyCPUTests", dependencies: ["CanopyCPU", "CCPUKernels", "CanopyTestSupport"]),
        .testTarget(name: "CanopyOpenCLTests", dependencies: ["CanopyOpenCL", "CanopyCPU", "CanopyTestSupport"]),
        .testTarget(name: "CanopyModelTests", dependencies: ["CanopyModel"]),
        .testTarget(name: "CanopyTrainTests", dependencies: ["CanopyTrain", "CanopyCPU", "CanopyTestSupport"]),
        .testTarget(name: "CanopyTests", dependencies: ["Canopy", "canopy", "CanopyTestSupport"]),

        // Exercises every collective of MPIProcessGroup under mpirun (CanopyMPITests runs it); with the MPI trait
        // only, else it says so and exits 1.
        .executableTarget(name: "canopy-mpi-probe", dependencies: [
            .target(name: "CanopyMPI", condition: .when(traits: ["MPI"])),
        ], path: "Tests/CanopyMPIProbe"),
        // Runs the MPI build's binaries (CANOPY_MPI_BUILD, made by Scripts/test) under mpirun: shared memory and
        // TCP between two network namespaces; and checks that the default build links no MPI.
        .testTarget(name: "CanopyMPITests", dependencies: ["canopy", "CanopyTrain", "CanopyTestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
