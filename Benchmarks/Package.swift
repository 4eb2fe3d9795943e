// swift-tools-version:6.0
import PackageDescription

// Canopy's benchmark suite: a package of its own, so that timing never runs with the unit tests.
//   cd Benchmarks && swift run -c release canopy-benchmarks kernels
//   cd Benchmarks && swift run -c release canopy-benchmarks training
let package = Package(
    name: "CanopyBenchmarks",
    dependencies: [
        .package(name: "Canopy", path: ".."),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .executableTarget(name: "CanopyBenchmarks", dependencies: [
            .product(name: "Canopy", package: "Canopy"),
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], path: "Sources/CanopyBenchmarks"),
    ],
    swiftLanguageModes: [.v5]
)
