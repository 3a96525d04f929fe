package main

import (
	"fmt"
	"os"

	"portcullis.dev/edge/sandbox"
	"portcullis.dev/plugins-marketplace/worker"
)

// runWorker runs a plugin worker process. Only the edge starts it, with
// the socket to the edge as descriptor 3, so the command is left out of
// the usage text.
func runWorker(args []string) int {
	return worker.Main(args, os.Stderr)
}

// setWorkerCommand makes the edge start its plugin workers as this
// executable's worker command. A MaxWorkers of zero or less leaves the
// command empty, so every plugin runs inside the edge process.
func setWorkerCommand(cfg *sandbox.Config) error {
	if cfg.MaxWorkers <= 0 {
		cfg.MaxWorkers = 0
		return nil
	}
	executable, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find the portcullis executable for plugin workers: %w", err)
	}
	cfg.Command = []string{executable, "worker"}
	return nil
}
