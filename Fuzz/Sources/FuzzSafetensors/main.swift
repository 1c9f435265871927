import FuzzSupport

// The harness is `fuzz` (exported as LLVMFuzzerTestOneInput) in Harness.swift.
runLibFuzzer { data, size in fuzz(data, size) }
