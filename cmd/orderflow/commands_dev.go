//go:build !nodev

package main

// devCommands are the subcommands that embed the Temporal server (dev runs
// it; bench runs the whole system in process). A build with -tags nodev
// (the production image) leaves them, and the server, out.
func devCommands() []command {
	return []command{
		{"dev", "run everything in one process: Temporal + UI, simulators, mail sink, worker, API", runDev},
		{"bench", "drive orders from quote to cash under load and report stage and request latencies", runBench},
	}
}
