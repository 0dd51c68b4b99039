//go:build !nodev

package main

// devCommands are the subcommands that embed the Temporal server (dev runs
// it; bench runs the whole system in process). A build with -tags nodev
// (the production image) leaves them, and the server, out.
func devCommands() []command {
	return []command{
		{name: "dev", summary: "run everything in one process: Temporal + UI, simulators, mail sink, worker, API",
			about: "Creates the database if missing, migrates and seeds it, and starts an embedded Temporal server\n" +
				"and UI, the simulators, the mail sink, the worker and the API on the dev ports (8080-8083,\n" +
				"8025, 8233, 7233). Prints every URL and a token per role, also written to <data-dir>/tokens.env.",
			run: runDev},
		{name: "bench", summary: "drive orders from quote to cash under load and report stage and request latencies",
			about: "Without -api it runs the whole system in this process against a throw-away database on\n" +
				"DATABASE_URL's server; with -api it drives a running orderflow. With -dashboard it times the\n" +
				"dashboard's queries over generated orders instead (docs/benchmarks.md).",
			run: runBench},
		{name: "simulate", summary: "play a scenario file (a month of trading) against the whole system and check its invariants",
			about: "Runs the whole system in this process against a throw-away database on DATABASE_URL's server,\n" +
				"with business time at the scenario's time scale, and plays the scenario: buyers, approvers,\n" +
				"finance, CS, the carrier, the payers and outages (docs/scenarios.md). Prints what came of every\n" +
				"order, the invariants and the automation report (docs/benchmarks.md).",
			run: runSimulate},
	}
}
